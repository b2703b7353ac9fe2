"""The copyright log (DESIGN.md §10, §3.5) as Tables (reports.tables): refusals by rule, per month,
staff rejections for copyright, and every staff override of the copyright and duplicate rules.

Sources, all read on indexes however many requests there are:
- refusals: ill.models.RuleRefusal (ill.refusals writes one per patron, rule, citation and day),
  index refusal_day_rule / refusal_branch_day;
- staff rejections: requests rejected with the reason "copyright", by the day they were rejected
  (closed_at), partial index request_copyright_rejected;
- overrides: requests submitted with a copyright (or duplicate) override reason, by submission,
  partial indexes request_copyright_override / request_duplicate_override. Who: the actor of the
  request's submit event.

The lists show the newest NEWEST rows; the export has every row of the period (`Table.all_rows`).
"""

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.text import fiscal_year_label
from fees.selectors import Period
from ill import refusals
from ill.models import Request, RequestEvent, RuleRefusal
from reports.tables import COUNT, TEXT, Chart, Column, Scope, Table

NEWEST = 50  # rows of each list on the page; the export has all
EXPORT_CHUNK = 2000


def _period(scope: Scope) -> Period:
    return Period(scope.fiscal_year, scope.month)


def _months(scope: Scope) -> list[datetime.date]:
    return _period(scope).months()


def month_label(month: datetime.date) -> str:
    return date_format(month, "M")


def _refusals(scope: Scope):
    start, end = _period(scope).bounds
    rows = RuleRefusal.objects.filter(day__gte=timezone.localdate(start), day__lt=timezone.localdate(end))
    if scope.branch_id is not None:
        rows = rows.filter(branch_id=scope.branch_id)
    return rows


def _requests(scope: Scope, time_field: str, condition: Q):
    start, end = _period(scope).bounds
    rows = Request.objects.filter(condition, **{f"{time_field}__gte": start, f"{time_field}__lt": end})
    if scope.branch_id is not None:
        rows = rows.filter(pickup_branch_id=scope.branch_id)
    return rows


COPYRIGHT_REJECTED = Q(status=Request.Status.REJECTED, reject_reason=Request.RejectReason.COPYRIGHT)
COPYRIGHT_OVERRIDDEN = ~Q(copyright_override_reason="")
DUPLICATE_OVERRIDDEN = ~Q(duplicate_override_reason="")


def _by_rule(scope: Scope) -> dict:
    """{rule: [by patrons, entered by staff]}."""
    counts = {}
    for row in _refusals(scope).values("rule", "staff_entry").annotate(n=Count("id")).order_by():
        counts.setdefault(row["rule"], [0, 0])[1 if row["staff_entry"] else 0] += row["n"]
    return counts


def _rule_table(slug, title, note, codes, counts, where) -> Table:
    rows = []
    for code in codes:
        by_patron, by_staff = counts.get(code, (0, 0))
        rows.append([refusals.rule_label(code), by_patron, by_staff, by_patron + by_staff])
    footer = [_("Total"), *(sum(row[i] for row in rows) for i in (1, 2, 3))]
    return Table(
        slug=slug,
        title=title,
        columns=[
            Column("rule", _("Rule"), TEXT),
            Column("patron", _("Shown to patrons"), COUNT),
            Column("staff", _("Staff entering a request"), COUNT),
            Column("total", _("Refusals"), COUNT),
        ],
        rows=rows,
        footer=footer,
        note=note,
        chart=Chart("hbar", [row[0] for row in rows], [(_("Refusals"), [row[3] for row in rows])]),
        summary=_("%(title)s, %(where)s: %(total)s refusals.") % {"title": title, "where": where, "total": footer[3]},
        extra={"headline": {"label": title, "value": footer[3], "kind": COUNT}},
    )


def _monthly(queryset, field: str) -> dict:
    return {
        (row["m"].date() if isinstance(row["m"], datetime.datetime) else row["m"]): row["n"]
        for row in queryset.annotate(m=TruncMonth(field)).values("m").annotate(n=Count("id")).order_by()
    }


def _month_table(scope: Scope, where: str) -> Table:
    refused = _monthly(_refusals(scope).filter(rule__in=refusals.COPYRIGHT_RULES), "day")
    rejected = _monthly(_requests(scope, "closed_at", COPYRIGHT_REJECTED), "closed_at")
    overridden = _monthly(_requests(scope, "submitted_at", COPYRIGHT_OVERRIDDEN), "submitted_at")
    months = _months(scope)
    rows = [[month_label(m), refused.get(m, 0), rejected.get(m, 0), overridden.get(m, 0)] for m in months]
    title = _("Copyright per month")
    return Table(
        slug="copyright-by-month",
        title=title,
        columns=[
            Column("month", _("Month"), TEXT),
            Column("refused", _("Refused on submission"), COUNT),
            Column("rejected", _("Rejected by staff (copyright)"), COUNT),
            Column("overridden", _("Overridden by staff"), COUNT),
        ],
        rows=rows,
        footer=[_("Total"), *(sum(row[i] for row in rows) for i in (1, 2, 3))],
        note=_(
            "Refused on submission: the copyright rules' refusals (the same patron, rule and citation once a day). "
            "Rejected by staff: requests rejected on review with the reason “Not allowed by copyright law”, by the "
            "day they were rejected. Overridden: requests staff submitted past the copyright rule, by submission."
        ),
        chart=Chart(
            "bar",
            [row[0] for row in rows],
            [
                (_("Refused on submission"), [row[1] for row in rows]),
                (_("Rejected by staff (copyright)"), [row[2] for row in rows]),
                (_("Overridden by staff"), [row[3] for row in rows]),
            ],
        ),
        summary=_("Copyright refusals, staff rejections and overrides per month, %(where)s.") % {"where": where},
    )


def _actor_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _submit_actor():
    return Subquery(
        RequestEvent.objects.filter(request=OuterRef("pk"), action="submit").order_by("created_at").values("actor")[:1]
    )


def _reject_actor():
    return Subquery(
        RequestEvent.objects.filter(request=OuterRef("pk"), action="reject").order_by("-created_at").values("actor")[:1]
    )


def _list_rows(queryset, time_field: str, reason_field: str, actor_expression, *, limit=None):
    """[[number, title, who, when, why], …] newest first, with the request's desk URL alongside."""
    queryset = (
        queryset.annotate(actor_id_=actor_expression)
        .order_by(f"-{time_field}", "-id")
        .values_list("number", "title", "article_title", "actor_id_", time_field, reason_field)
    )
    if limit is not None:
        queryset = queryset[:limit]
    return queryset


def _users(ids) -> dict:
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return {}
    return {user.pk: _actor_name(user) for user in get_user_model().objects.filter(pk__in=wanted)}


def _materialise(raw) -> tuple[list[list], list[str]]:
    raw = list(raw)
    names = _users(row[3] for row in raw)
    rows, urls = [], []
    for number, title, article_title, actor_id, when, why in raw:
        rows.append([number, article_title or title, names.get(actor_id, ""), timezone.localtime(when), why])
        urls.append(reverse("desk:request", args=[number]))
    return rows, urls


def _streamed(queryset, time_field, reason_field, actor_expression):
    """Every row of the period, a chunk at a time (the export)."""

    def rows():
        chunk = []
        for raw in _list_rows(queryset, time_field, reason_field, actor_expression).iterator(chunk_size=EXPORT_CHUNK):
            chunk.append(raw)
            if len(chunk) >= EXPORT_CHUNK:
                yield from _materialise(chunk)[0]
                chunk = []
        if chunk:
            yield from _materialise(chunk)[0]

    return rows


def _list_table(slug, title, note, why_label, when_label, queryset, time_field, reason_field, actor, limit) -> Table:
    total = queryset.count()
    rows, urls = _materialise(_list_rows(queryset, time_field, reason_field, actor, limit=limit))
    shown_note = note
    if total > len(rows):
        shown_note = f"{note} " + _("The newest %(shown)s of %(total)s are listed; the export has every one.") % {
            "shown": f"{len(rows):,}",
            "total": f"{total:,}",
        }
    return Table(
        slug=slug,
        title=title,
        columns=[
            Column("number", _("Request"), TEXT),
            Column("title", _("Title"), TEXT),
            Column("who", _("Who"), TEXT),
            Column("when", when_label, TEXT),
            Column("why", why_label, TEXT),
        ],
        rows=rows,
        note=shown_note,
        all_rows=_streamed(queryset, time_field, reason_field, actor),
        extra={"linked": list(zip(rows, urls, strict=True)), "total": total},
    )


def copyright_tables(scope: Scope, *, newest: int = NEWEST) -> list[Table]:
    """The copyright log's Tables for a scope."""
    where = fiscal_year_label(scope.fiscal_year)
    if scope.month is not None:
        where += ", " + month_label(_months(scope)[0])
    counts = _by_rule(scope)
    known = {*refusals.COPYRIGHT_RULES, *refusals.OTHER_RULES}
    same_once = _("The same patron, rule and citation count once a day; no patron is recorded.")
    return [
        _rule_table(
            "copyright-refusals",
            _("Copyright refusals by rule"),
            _("Requests for copies refused on submission by a copyright rule (Copyright Act art. 31).")
            + " "
            + same_once,
            refusals.COPYRIGHT_RULES,
            counts,
            where,
        ),
        _month_table(scope, where),
        _list_table(
            "copyright-rejections",
            _("Rejected by staff for copyright"),
            _("Requests staff rejected on review with the reason “Not allowed by copyright law”."),
            _("Note to the patron"),
            _("Rejected"),
            _requests(scope, "closed_at", COPYRIGHT_REJECTED),
            "closed_at",
            "status_note",
            _reject_actor(),
            newest,
        ),
        _list_table(
            "copyright-overrides",
            _("Copyright rule overridden by staff"),
            _("Requests staff submitted although the copyright rule refused them, with the reason they recorded."),
            _("Reason"),
            _("Submitted"),
            _requests(scope, "submitted_at", COPYRIGHT_OVERRIDDEN),
            "submitted_at",
            "copyright_override_reason",
            _submit_actor(),
            newest,
        ),
        _list_table(
            "duplicate-overrides",
            _("Duplicate rule overridden by staff"),
            _("Requests staff submitted although the same item had been requested before, with their reason."),
            _("Reason"),
            _("Submitted"),
            _requests(scope, "submitted_at", DUPLICATE_OVERRIDDEN),
            "submitted_at",
            "duplicate_override_reason",
            _submit_actor(),
            newest,
        ),
        _rule_table(
            "other-refusals",
            _("Other rules' refusals"),
            _("The other submission rules that refused a request, counted the same way.") + " " + same_once,
            [*refusals.OTHER_RULES, *sorted(set(counts) - known)],
            counts,
            where,
        ),
    ]
