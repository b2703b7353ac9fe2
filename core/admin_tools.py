"""The admin at a million rows: changelists that read one page of an index, never the whole table.

`BigTableAdmin` is the base of every admin over a large table (requests, their history, money,
patrons, e-mails): no full COUNT (a bounded count instead), no facet counts, and a search that
PostgreSQL answers from indexes. `InputFilter` is a list filter typed in instead of chosen from a
list of every lender or patron.
"""

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.text import smart_split, unescape_string_literal

from core.text import format_yen

# A contains-search shorter than this makes no trigram, so it would read every row of the table.
TRIGRAM_MIN_CHARS = 3
# At most this many rows of a related table (patrons, requests, budget codes) stand for a term.
RELATED_MATCHES = 1_000
# At most this many words of a search term are used.
MAX_TERMS = 5


class BoundedCountPaginator(Paginator):
    """Counts at most `cap` rows (`SELECT COUNT(*) FROM (… LIMIT cap + 1)`), so a page costs the same
    with a thousand rows or a million; beyond the cap the page says "more than" and shows the first
    `cap` rows' pages (a filter or a search narrows the rest)."""

    cap = 10_000

    @cached_property
    def count(self):
        # Without the ordering: any cap + 1 rows will do, so PostgreSQL may take them from whichever
        # index serves the filters instead of walking the list's order until it has found them.
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    capped = False


def _lookup_of(field_name: str) -> tuple[str, str]:
    """A `search_fields` entry as Django reads it: `^f` starts with, `=f` equals (ignoring case),
    `f__exact` (or another lookup) as written, plain `f` contains."""
    if field_name.startswith("^"):
        return field_name[1:], "istartswith"
    if field_name.startswith("="):
        return field_name[1:], "iexact"
    path, _sep, last = field_name.rpartition("__")
    if path and last in {"exact", "iexact", "startswith", "istartswith", "icontains"}:
        return path, last
    return field_name, "icontains"


class IndexedSearchMixin:
    """The admin search, written so that PostgreSQL answers it from indexes.

    Django ORs every search field in one WHERE, across joined tables, which no index can serve: a
    search of the request list read all requests and all patrons. Here each term is matched field
    by field on the admin's own table (exact, or contains through the trigram indexes on
    UPPER(column)), and a field of a related table (`patron__full_name`) is first looked up in that
    table, at most RELATED_MATCHES rows, and matched through the foreign key (`patron_id IN (…)`),
    so the OR stays on one table and becomes a BitmapOr of index scans. Contains-lookups named in
    `trigram_search_fields` are skipped for terms shorter than TRIGRAM_MIN_CHARS (they would read
    every row) or, when the field has a prefix index too (`prefix_search_fields`), looked for at
    the start of the field; the admin says so in `search_help_text`.
    """

    trigram_search_fields: tuple[str, ...] = ()
    # Of those, the fields that also have a prefix index (core.migration_ops.prefix_index): a short
    # term is looked for at their start instead (佐藤… , 経済…).
    prefix_search_fields: tuple[str, ...] = ()
    # Fields holding numbers that all start alike ("ILL-2026-000123"): a term that starts so is the
    # start of a number, looked up by prefix in the column's B-tree `_like` index; as trigrams,
    # "ILL-2024-0012" would intersect posting lists that hold every request.
    number_search_fields: dict[str, str] = {}

    def search_fields_for(self, request, term: str):
        """The fields a term is looked for in (e.g. an e-mail address only when it has an @)."""
        return self.get_search_fields(request)

    def search_term_matches(self, term: str) -> list[Q]:
        """More ways a term may match (e.g. a normalised identifier), ORed with the fields'."""
        return []

    def _term_matches(self, model, field_names, term: str) -> list[Q]:
        """How `term` may match: a Q per field of this table, and one per related table, whose
        fields are looked up together in one query of at most RELATED_MATCHES ids."""
        local, related = [], {}
        for field_name in field_names:
            path, lookup = _lookup_of(field_name)
            value = term
            if path in self.number_search_fields and term.upper().startswith(self.number_search_fields[path]):
                lookup, value = "startswith", term.upper()
            elif lookup in ("icontains", "istartswith") and len(term) < TRIGRAM_MIN_CHARS:
                if path in self.prefix_search_fields:
                    lookup = "istartswith"
                elif path in self.trigram_search_fields:
                    continue
            relation, _sep, rest = path.partition("__")
            if rest:
                related.setdefault(relation, Q())
                related[relation] |= Q(**{f"{rest}__{lookup}": value})
            else:
                local.append(Q(**{f"{path}__{lookup}": value}))
        for relation, q in related.items():
            field = model._meta.get_field(relation)
            rows = field.related_model._default_manager.filter(q).order_by()
            if field.many_to_one or field.one_to_one and field.concrete:
                # A foreign key of this table: the related rows' ids, then this table's column.
                ids = list(rows.values_list(field.target_field.attname, flat=True)[:RELATED_MATCHES])
                column = field.attname
            else:
                # A reverse relation (the identifiers of a holding): the ids of this table there.
                ids = list(rows.values_list(field.field.attname, flat=True)[:RELATED_MATCHES])
                column = "pk"
            if ids:
                local.append(Q(**{f"{column}__in": ids}))
        return local + self.search_term_matches(term)

    def get_search_results(self, request, queryset, search_term):
        search_term = search_term.replace("\x00", "").strip()[:200]
        if not search_term:
            return queryset, False
        terms = []
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            if bit:
                terms.append(bit)
        for term in terms[:MAX_TERMS]:
            matches = self._term_matches(queryset.model, self.search_fields_for(request, term), term)
            if not matches:
                return queryset.none(), False
            combined = Q()
            for q in matches:
                combined |= q
            queryset = queryset.filter(combined)
        return queryset, False


class IndexedOrderingChangeList(ChangeList):
    """Sorts only by the columns of `sortable_by` (those with an index), even when a hand-written
    `?o=` asks for another: Django hides the other columns' sort links but obeys the parameter."""

    def get_ordering_field(self, field_name):
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)


class BigTableAdmin(IndexedSearchMixin, admin.ModelAdmin):
    """An admin over a table with up to millions of rows: a bounded count, no second full count,
    no facet counts, and the indexed search. Subclasses keep `ordering` and `sortable_by` to
    columns with an index, and list filters to choices known without reading the table."""

    paginator = BoundedCountPaginator
    list_per_page = 50  # rendering is most of a list's time: 100 rows took twice as long as 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_changelist(self, request, **kwargs):
        return IndexedOrderingChangeList


class InputFilter(admin.SimpleListFilter):
    """A list filter typed in (a lender's code, a patron's number) instead of a list of every row."""

    template = "admin/input_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # has_output() needs one; the template shows an input instead

    def value(self):
        value = super().value()
        return value.replace("\x00", "").strip()[:100] if value else value

    def choices(self, changelist):
        yield {
            "value": self.value() or "",
            "hidden": [(k, v) for k, v in changelist.params.items() if k != self.parameter_name],
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }


def yen_column(field: str, description):
    """A changelist column showing whole yen as the desk writes them (¥1,400 / 1,400円), where the
    admin would print a bare 1400."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        return format_yen(getattr(obj, field))

    column.__name__ = f"{field}_in_yen"
    return column
