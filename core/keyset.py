"""Keyset pagination: "next" and "previous" pages that cost the same on page 1 and page 10,000.

OFFSET pagination reads and throws away every row before the page, and Django's Paginator counts
the whole result first. Here a page is the `size` rows after (or before) a cursor, the sort key of
the last (first) row shown, so the database walks its index from there. The total is counted only
up to a bound (`bounded_count`): "1,000+" is as useful to the counter as 282,113, and it is cheap.

The ordering is one field (ascending or descending; NULL sorts as the largest value) plus the primary key as tie-break,
in the same direction. A cursor is an opaque URL-safe string; a forged or stale one gives page 1.
"""

import base64
import datetime
import json
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Q, QuerySet

COUNT_BOUND = 1000


@dataclass
class KeysetPage:
    rows: list
    size: int
    next_cursor: str = ""
    previous_cursor: str = ""
    first: bool = True
    extra: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    @property
    def object_list(self):
        return self.rows

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def bounded_count(queryset: QuerySet, bound: int = COUNT_BOUND) -> tuple[int, bool]:
    """How many rows, counting no further than `bound`: (count, whether there are more)."""
    n = queryset.order_by()[: bound + 1].count()
    return min(n, bound), n > bound


def _lookup_field(model, path: str):
    """The model field at the end of a lookup path such as `patron__patron_number`, and whether
    the value can be NULL (the field or any relation on the way is nullable)."""
    parts = path.split("__")
    nullable = False
    for part in parts[:-1]:
        relation = model._meta.get_field(part)
        nullable = nullable or relation.null
        model = relation.related_model
    last = model._meta.get_field(parts[-1])
    return last, nullable or last.null


def _dump(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def encode(values: list, backwards: bool) -> str:
    raw = json.dumps({"v": [_dump(v) for v in values], "b": backwards}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, fields: list) -> tuple[list, bool] | None:
    """The key values and direction of a cursor, or None when it is not one of ours."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values, backwards = raw["v"], bool(raw["b"])
        if not isinstance(values, list) or len(values) != len(fields):
            return None
        return [None if v is None else f.to_python(v) for f, v in zip(fields, values, strict=True)], backwards
    except (ValueError, TypeError, KeyError, ValidationError, AttributeError):
        return None


def _ordering(name: str, walk_descending: bool, nullable: bool) -> list:
    """The walk's ORDER BY. NULL keys sort as the largest (PostgreSQL's own default, so a plain
    btree index serves both directions); the primary key breaks ties in the same direction."""
    if not nullable:
        return [f"-{name}" if walk_descending else name, "-pk" if walk_descending else "pk"]
    key = F(name).desc(nulls_first=True) if walk_descending else F(name).asc(nulls_last=True)
    return [key, "-pk" if walk_descending else "pk"]


def _after(key: str, value, pk_value, walk_descending: bool, nullable: bool) -> Q:
    """The rows after (value, pk_value) in the walk's ordering."""
    beyond, within = ("lt", "lte") if walk_descending else ("gt", "gte")
    pk_beyond = Q(**{f"pk__{beyond}": pk_value})
    if value is None:  # the cursor sits among the NULLs, the largest keys
        nulls_after = Q(**{f"{key}__isnull": True}) & pk_beyond
        return nulls_after | Q(**{f"{key}__isnull": False}) if walk_descending else nulls_after
    # The redundant bound `key <= value` (or >=) lets the database start its index scan there.
    after = Q(**{f"{key}__{within}": value}) & (Q(**{f"{key}__{beyond}": value}) | pk_beyond)
    if nullable and not walk_descending:
        after |= Q(**{f"{key}__isnull": True})
    return after


def paginate(queryset: QuerySet, key: str, size: int, cursor: str = "") -> KeysetPage:
    """A page of `queryset` ordered by `key` ("-submitted_at", "due_date", …) then pk.

    `cursor` comes from a previous page's `next_cursor` or `previous_cursor`; going backwards is
    walking the opposite ordering from the cursor and turning the rows round."""
    descending = key.startswith("-")
    name = key.lstrip("-")
    try:
        key_field, nullable = _lookup_field(queryset.model, name)
    except FieldDoesNotExist as exc:
        raise ValueError(f"cannot paginate on {key!r}") from exc
    decoded = decode(cursor, [key_field, queryset.model._meta.pk]) if cursor else None
    backwards = bool(decoded and decoded[1])
    walk_descending = descending != backwards
    qs = queryset.order_by(*_ordering(name, walk_descending, nullable))
    if decoded:
        value, pk_value = decoded[0]
        qs = qs.filter(_after(name, value, pk_value, walk_descending, nullable))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    page = KeysetPage(rows=rows, size=size, first=not decoded or (backwards and not more))
    if rows:
        if backwards or more:
            page.next_cursor = encode([_value(rows[-1], name), rows[-1].pk], backwards=False)
        if (backwards and more) or (decoded and not backwards):
            page.previous_cursor = encode([_value(rows[0], name), rows[0].pk], backwards=True)
    return page


def _value(row, path: str):
    for part in path.split("__"):
        row = getattr(row, part) if row is not None else None
    return row
