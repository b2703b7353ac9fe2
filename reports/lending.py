"""The lending figures (DESIGN.md §10–§11): what other libraries asked of us and what we supplied, as
Tables (reports.tables) for /desk/reports/lending/, and the lending side of the annual survey.

    lending_tables(scope)        every Table of the lending page, for a fiscal year (optionally a month)
    survey_counts(fiscal_year)   {"copy_received": {"domestic": n, "overseas": n}, "copy_supplied": …,
                                  "loan_received": …, "loan_supplied": …} for reports.survey

Cost follows the period, not the history: each figure is one grouped query on a range of an indexed
time column of the period (received_at: lending_newest; shipped_at: lending_shipped; Renewal.decided_at:
lending_renewal_decided; the copyright lists on their partial indexes), never a count of the whole table.
"Now" figures (on loan now, overdue now) read the open loans only (partial index lending_due). The
lending table is small next to the borrowing one (a large university lends some thousands a year), so no
rollup is kept: the figures are always current.

The branch filter does not apply: a request from another library is not for a branch (the page says so).
"""

import datetime
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Func, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import ExtractMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.text import fiscal_year_label
from fees.selectors import Period
from ill.models import LendingInstitution
from lending.lifecycle import OUT_ON_LOAN_STATES
from lending.models import Invoice, LendingCharge, LendingEvent, LendingRequest, Renewal
from reports import percentiles
from reports.tables import COUNT, DAYS, PERCENT, TEXT, YEN, Chart, Column, Scope, Table

LR = LendingRequest
S = LR.Status
LOAN, COPY = LR.Kind.LOAN, LR.Kind.COPY
KINDS = (LOAN, COPY)
K = LendingInstitution.Kind
NEWEST = 50  # rows of each list on the page; the export has every one
# The lists (who, when, why): the page shows them with a link to each request.
LIST_TABLES = ("lending-copyright-refused", "lending-copyright-overrides")
# Supplied: we shipped it (what follows shipping: on loan to them, returned, completed).
SUPPLIED_STATES = frozenset({S.SHIPPED, S.ON_LOAN, S.RETURNED, S.COMPLETED})
COPYRIGHT = LR.UnfilledReason.COPYRIGHT


# Shared ---------------------------------------------------------------------------------------


class WholeHours(Func):
    """Whole hours from `earlier` to `later`, rounded down, in SQL: WholeHours(later, earlier)
    (reports.rollup.hours_between, computed by the database so that only a histogram comes back)."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return f"FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600)::integer", (*later_params, *earlier_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return (
            f"((CAST(strftime('%%s', {later}) AS INTEGER) - CAST(strftime('%%s', {earlier}) AS INTEGER)) / 3600)",
            (*later_params, *earlier_params),
        )


def _period(scope: Scope) -> Period:
    return Period(scope.fiscal_year, scope.month)


def _months(scope: Scope) -> list[datetime.date]:
    return _period(scope).months()


def month_label(month: datetime.date) -> str:
    return date_format(month, "M")


def _month_dates(scope: Scope) -> dict[int, datetime.date]:
    """{calendar month: its first day} in the scope's fiscal year (a month number is unique in one)."""
    return {month.month: month for month in _months(scope)}


def _where(scope: Scope) -> str:
    text = fiscal_year_label(scope.fiscal_year)
    if scope.month is not None:
        text += ", " + month_label(_months(scope)[0])
    return text


def _in(field: str, scope_or_year) -> Q:
    """`field` within the period: [1 April 00:00, next 1 April 00:00) in the site's time zone."""
    period = scope_or_year if isinstance(scope_or_year, Period) else _period(scope_or_year)
    start, end = period.bounds
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def is_overseas(kind: str, country: str | None) -> bool:
    """A borrowing library abroad: of the overseas kind or outside Japan (as for lenders)."""
    return kind == K.OVERSEAS or (country or "JP").upper() != "JP"


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _days(hours: float | None) -> float | None:
    return None if hours is None else round(hours / 24, 1)


def _kind_columns(first: str) -> list[Column]:
    return [
        Column("label", first, TEXT),
        Column("loan", _("Loans"), COUNT),
        Column("copy", _("Copies"), COUNT),
        Column("total", _("Total"), COUNT),
    ]


def _kind_rows(labels_keys, counts) -> list[list]:
    rows = []
    for label, key in labels_keys:
        loans, copies = counts.get((key, LOAN), 0), counts.get((key, COPY), 0)
        rows.append([label, loans, copies, loans + copies])
    return rows


def _footer(rows, columns=(1, 2, 3)) -> list:
    width = len(rows[0]) if rows else max(columns) + 1
    footer = [_("Total")] + [None] * (width - 1)
    for i in columns:
        footer[i] = sum(row[i] or 0 for row in rows)
    return footer


def _stacked(rows) -> Chart:
    return Chart(
        "stacked", [r[0] for r in rows], [(_("Loans"), [r[1] for r in rows]), (_("Copies"), [r[2] for r in rows])]
    )


# The grouped reads ----------------------------------------------------------------------------


# What the period's received requests are counted by: (counter, condition), each a COUNT … FILTER of one
# grouped query (by month received and kind), so that PostgreSQL does the counting and two dozen rows
# come back however many requests there are.
OUTCOME_STATES = {
    "supplied": SUPPLIED_STATES,
    "unfilled": {S.UNFILLED},
    "cancelled": {S.CANCELLED},
    "open": set(S.values) - SUPPLIED_STATES - {S.UNFILLED, S.CANCELLED},
}
OVERSEAS_Q = Q(borrower__kind=K.OVERSEAS) | (~Q(borrower__country="") & ~Q(borrower__country__iexact="JP"))
COUNTERS = (
    *((("source", value), Q(source=value)) for value in LR.Source.values),
    *((("outcome", name), Q(status__in=sorted(states))) for name, states in OUTCOME_STATES.items()),
    *((("reason", value), Q(status=S.UNFILLED, unfilled_reason=value)) for value in (*LR.UnfilledReason.values, "")),
    *((("borrower", value), Q(borrower__kind=value)) for value in K.values),
    (("overseas", True), OVERSEAS_Q),
)


def _received(scope: Scope) -> dict:
    """{(first day of the month received, kind): {"n": received, (counter, value): n, …}} for the
    period: one query on the received_at range (months read as numbers in the site's time zone)."""
    dates = _month_dates(scope)
    aggregates = {"n": Count("id"), **{f"c{i}": Count("id", filter=q) for i, (_key, q) in enumerate(COUNTERS)}}
    rows = (
        LR.objects.filter(_in("received_at", scope))
        .annotate(month=ExtractMonth("received_at"))
        .values("month", "kind")
        .annotate(**aggregates)
        .order_by()
    )
    received = {}
    for row in rows:
        counts = {key: row[f"c{i}"] for i, (key, _q) in enumerate(COUNTERS)}
        counts["n"] = row["n"]
        counts[("overseas", False)] = row["n"] - counts[("overseas", True)]
        received[(dates[row["month"]], row["kind"])] = counts
    return received


def _count(received: dict, key, *, month=None, kind=None) -> int:
    return sum(c[key] for (m, k), c in received.items() if month in (None, m) and kind in (None, k))


def _by_kind(received: dict, counter: str, values) -> dict:
    """{(value, kind): n} of one counter, for _kind_rows."""
    return {(value, kind): _count(received, (counter, value), kind=kind) for value in values for kind in KINDS}


def _shipped_hours(scope: Scope) -> list[tuple]:
    """Requests shipped in the period: [(first day of the month shipped, kind, whole hours received →
    shipped, count)], one query on the shipped_at range."""
    dates = _month_dates(scope)
    rows = (
        LR.objects.filter(_in("shipped_at", scope))
        .annotate(month=ExtractMonth("shipped_at"), hours=WholeHours(F("shipped_at"), F("received_at")))
        .values_list("month", "kind", "hours")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [(dates[month], kind, hours, n) for month, kind, hours, n in rows]


# 1. Requests received -------------------------------------------------------------------------


def _received_tables(scope: Scope, received: dict, where: str) -> list[Table]:
    by_month = {key: counts["n"] for key, counts in received.items()}
    month_rows = _kind_rows([(month_label(m), m) for m in _months(scope)], by_month)
    received_note = _(
        "Requests other libraries sent us, by the month we received them (entered at the desk or arrived by "
        "ISO 18626), whatever became of them."
    )
    by_kind = Table(
        slug="lending-received",
        title=_("Requests received by kind"),
        columns=_kind_columns(_("Month")),
        rows=month_rows,
        chart=_stacked(month_rows),
        note=received_note,
        footer=_footer(month_rows),
        summary=_("Loan and copy requests received from other libraries per month, %(where)s.") % {"where": where},
    )
    by_kind.extra["headline"] = {"label": _("Lending requests received"), "value": by_kind.footer[3], "kind": COUNT}

    by_borrower = _by_kind(received, "borrower", K.values)
    borrower_rows = _kind_rows([(str(label), value) for value, label in K.choices], by_borrower)
    borrower_table = Table(
        slug="lending-borrower-kind",
        title=_("Requests received by borrowing library kind"),
        columns=_kind_columns(_("Borrowing library")),
        rows=borrower_rows,
        chart=_stacked(borrower_rows),
        note=received_note,
        footer=_footer(borrower_rows),
        summary=_("Requests received in %(where)s by the kind of library that asked.") % {"where": where},
    )

    place = _by_kind(received, "overseas", (False, True))
    place_rows = _kind_rows([(_("Domestic"), False), (_("Overseas"), True)], place)
    place_table = Table(
        slug="lending-domestic-overseas",
        title=_("Requests received: domestic and overseas"),
        columns=_kind_columns(_("Borrowing library")),
        rows=place_rows,
        chart=_stacked(place_rows),
        note=_("Overseas: the borrowing library is of the overseas kind or outside Japan (its country is not JP).")
        + " "
        + received_note,
        footer=_footer(place_rows),
        summary=_("Requests received in %(where)s from libraries in Japan and abroad.") % {"where": where},
    )

    by_source = _by_kind(received, "source", LR.Source.values)
    source_rows = _kind_rows([(str(label), value) for value, label in LR.Source.choices], by_source)
    source_table = Table(
        slug="lending-source",
        title=_("Requests received by how they came"),
        columns=_kind_columns(_("Received by")),
        rows=source_rows,
        chart=Chart("hbar", [r[0] for r in source_rows], [(_("Requests"), [r[3] for r in source_rows])]),
        note=received_note,
        footer=_footer(source_rows),
        summary=_("Requests received in %(where)s by NACSIS-ILL, e-mail, FAX or ISO 18626.") % {"where": where},
    )
    return [by_kind, borrower_table, place_table, source_table]


# 2. Fill rate as a lender ---------------------------------------------------------------------


def fill_rate_row(label, supplied: int, unfilled: int, cancelled: int, open_: int) -> list:
    received = supplied + unfilled + cancelled + open_
    return [label, received, supplied, unfilled, cancelled, open_, _rate(supplied, supplied + unfilled)]


def _fill_rate_tables(scope: Scope, received: dict, where: str) -> list[Table]:
    def row(label, month=None, kind=None):
        counts = {o: _count(received, ("outcome", o), month=month, kind=kind) for o in OUTCOME_STATES}
        return fill_rate_row(label, counts["supplied"], counts["unfilled"], counts["cancelled"], counts["open"])

    columns = [
        Column("label", _("Month"), TEXT),
        Column("received", _("Received"), COUNT),
        Column("supplied", _("Supplied"), COUNT),
        Column("unfilled", _("Unfilled"), COUNT),
        Column("cancelled", _("Cancelled by them"), COUNT),
        Column("open", _("Not decided yet"), COUNT),
        Column("rate", _("Fill rate"), PERCENT),
    ]
    note = _(
        "Fill rate = supplied ÷ decided (supplied + unfilled), by the month the request was received. Supplied: "
        "we shipped it. Requests the borrowing library cancelled and those not decided yet are shown apart and "
        "are not in the rate."
    )
    month_rows = [row(month_label(m), month=m) for m in _months(scope)]
    total = row(_("Total"))
    monthly = Table(
        slug="lending-fill-rate",
        title=_("Fill rate as a lender"),
        columns=columns,
        rows=month_rows,
        chart=Chart("line", [r[0] for r in month_rows], [(_("Fill rate"), [r[6] for r in month_rows])], unit=PERCENT),
        note=note,
        footer=total,
        summary=_("Our fill rate as a lender per month received, %(where)s: %(rate)s %% overall.")
        % {"where": where, "rate": total[6] if total[6] is not None else "–"},
    )
    monthly.extra["headline"] = {"label": _("Fill rate as a lender"), "value": total[6], "kind": PERCENT}
    kind_rows = [row(str(LR.Kind(kind).label), kind=kind) for kind in KINDS]
    per_kind = Table(
        slug="lending-fill-rate-kind",
        title=_("Fill rate as a lender by kind"),
        columns=[Column("label", _("Kind"), TEXT), *columns[1:]],
        rows=kind_rows,
        note=note,
        footer=total,
    )

    reasons = _by_kind(received, "reason", (*LR.UnfilledReason.values, ""))
    reason_keys = [(str(label), value) for value, label in LR.UnfilledReason.choices]
    if any(n for (reason, _kind), n in reasons.items() if reason == ""):
        reason_keys.append((_("Not recorded"), ""))
    reason_rows = _kind_rows(reason_keys, reasons)
    reason_table = Table(
        slug="lending-unfilled-reasons",
        title=_("Why we could not supply"),
        columns=_kind_columns(_("Reason")),
        rows=reason_rows,
        chart=Chart("hbar", [r[0] for r in reason_rows], [(_("Unfilled"), [r[3] for r in reason_rows])]),
        note=_(
            "Requests received in the period that we answered unfilled, by the reason code sent back to the "
            "borrowing library. Cancellations by them are not refusals and are counted in the fill-rate table."
        ),
        footer=_footer(reason_rows),
        summary=_("Requests we could not supply in %(where)s, by reason.") % {"where": where},
    )
    return [monthly, per_kind, reason_table]


# 3. Turnaround --------------------------------------------------------------------------------


def _stats(histogram) -> tuple[int, float | None, float | None]:
    n = sum(histogram.values()) if histogram else 0
    return (
        n,
        _days(percentiles.from_histogram(histogram or {}, 0.5)),
        _days(percentiles.from_histogram(histogram or {}, 0.9)),
    )


def _turnaround_tables(scope: Scope, shipped, where: str) -> list[Table]:
    histograms = defaultdict(dict)  # (month | None, kind | None) -> {hours: n}
    for month, kind, hours, n in shipped:
        hours = max(0, hours or 0)
        for key in ((month, kind), (month, None), (None, kind), (None, None)):
            histograms[key][hours] = histograms[key].get(hours, 0) + n
    columns = [
        Column("shipped", _("Shipped"), COUNT),
        Column("median", _("Received → shipped, median (days)"), DAYS),
        Column("p90", _("Received → shipped, 90th percentile (days)"), DAYS),
    ]
    note = _(
        "Requests we shipped in the period, by the month shipped: the time from receiving the request to "
        "shipping the copy or the book, in whole hours (rounded down) shown in days; median and 90th "
        "percentile by linear interpolation (as PostgreSQL percentile_cont and Excel PERCENTILE.INC)."
    )
    kind_rows = [[str(LR.Kind(kind).label), *_stats(histograms.get((None, kind)))] for kind in KINDS]
    total = [_("All"), *_stats(histograms.get((None, None)))]
    per_kind = Table(
        slug="lending-turnaround",
        title=_("Turnaround as a lender"),
        columns=[Column("kind", _("Kind"), TEXT), *columns],
        rows=kind_rows,
        chart=Chart(
            "hbar",
            [r[0] for r in kind_rows],
            [(_("Median"), [r[2] for r in kind_rows]), (_("90th percentile"), [r[3] for r in kind_rows])],
            unit=DAYS,
        ),
        note=note,
        footer=total,
        summary=_("Days from receiving a request to shipping it, median and 90th percentile, by kind, %(where)s.")
        % {"where": where},
    )
    per_kind.extra["headline"] = {"label": _("Median days, received → shipped"), "value": total[2], "kind": DAYS}
    month_rows = []
    for month in _months(scope):
        row = [month_label(month)]
        for kind in KINDS:
            n, median, p90 = _stats(histograms.get((month, kind)))
            row += [n, median, p90]
        month_rows.append(row)
    month_columns = [Column("month", _("Month"), TEXT)]
    for kind in KINDS:
        label = str(LR.Kind(kind).label)
        month_columns += [
            Column(f"{kind}_shipped", _("%(kind)s shipped") % {"kind": label}, COUNT),
            Column(f"{kind}_median", _("%(kind)s, median (days)") % {"kind": label}, DAYS),
            Column(f"{kind}_p90", _("%(kind)s, 90th percentile (days)") % {"kind": label}, DAYS),
        ]
    month_footer = [_("Whole period")]
    for kind in KINDS:
        month_footer += list(_stats(histograms.get((None, kind))))
    per_month = Table(
        slug="lending-turnaround-months",
        title=_("Turnaround as a lender per month"),
        columns=month_columns,
        rows=month_rows,
        chart=Chart(
            "line",
            [r[0] for r in month_rows],
            [
                (_("Loans, median"), [r[2] for r in month_rows]),
                (_("Copies, median"), [r[5] for r in month_rows]),
            ],
            unit=DAYS,
        ),
        note=note,
        footer=month_footer,
        summary=_("Median days from receiving a request to shipping it per month, loans and copies, %(where)s.")
        % {"where": where},
    )
    return [per_kind, per_month]


# 4. Our loans ---------------------------------------------------------------------------------


def _loans_table(scope: Scope, shipped, where: str) -> Table:
    today = timezone.localdate()
    out = LR.objects.filter(kind=LOAN, status__in=list(OUT_ON_LOAN_STATES)).aggregate(
        out=Count("id"),
        overdue=Count("id", filter=Q(due_date__lt=today)),
        recalled=Count("id", filter=Q(recalled_at__isnull=False)),
    )
    lent = sum(n for _month, kind, _hours, n in shipped if kind == LOAN)
    renewals = dict(
        Renewal.objects.filter(
            _in("decided_at", scope), decision__in=[Renewal.Decision.GRANTED, Renewal.Decision.REFUSED]
        )
        .values_list("decision")
        .annotate(n=Count("id"))
        .order_by()
    )
    pending = Renewal.objects.filter(decision=Renewal.Decision.PENDING).count()
    rows = [
        [_("Books lent (shipped) in the period"), lent],
        [_("Renewals granted in the period"), renewals.get(Renewal.Decision.GRANTED, 0)],
        [_("Renewals refused in the period"), renewals.get(Renewal.Decision.REFUSED, 0)],
        [_("On loan to other libraries now"), out["out"]],
        [_("Overdue now"), out["overdue"]],
        [_("Recalled now"), out["recalled"]],
        [_("Renewal requests waiting for our answer now"), pending],
    ]
    table = Table(
        slug="lending-loans",
        title=_("Our books on loan to other libraries"),
        columns=[Column("figure", _("Figure"), TEXT), Column("count", _("Count"), COUNT)],
        rows=rows,
        note=_(
            "“In the period”: books shipped, renewals decided in the period. “Now”: today, whatever the period "
            "shown — a book is on loan from shipping until we record its return, overdue when its due date has "
            "passed while it is with them, recalled when we asked for it back early."
        ),
        summary=_("Our loans to other libraries, %(where)s and now.") % {"where": where},
    )
    table.extra["headline"] = {"label": _("Our books on loan now"), "value": out["out"], "kind": COUNT}
    return table


# 5. Money as a lender -------------------------------------------------------------------------

CS = LendingCharge.State
SETTLED, WAIVED = (CS.PAID,), (CS.WAIVED,)
UNSETTLED = (CS.OPEN, CS.INVOICED, CS.OFFSET_RECORDED)


def _charges_table(scope: Scope, where: str) -> Table:
    groups = (
        LendingCharge.objects.filter(_in("created_at", scope))
        .values("settlement", "state")
        .annotate(n=Count("id"), yen=Sum("total"))
        .order_by()
    )
    per = defaultdict(lambda: [0, 0, 0, 0, 0])  # settlement -> [charges, charged, paid, waived, unsettled]
    for g in groups:
        row, yen = per[g["settlement"]], g["yen"] or 0
        row[0] += g["n"]
        row[1] += yen
        row[2 if g["state"] in SETTLED else 3 if g["state"] in WAIVED else 4] += yen
    rows = [[str(label), *per[value]] for value, label in LendingCharge.Settlement.choices]
    footer = _footer(rows, columns=(1, 2, 3, 4, 5))
    table = Table(
        slug="lending-charges",
        title=_("What we charged other libraries"),
        columns=[
            Column("settlement", _("Settlement"), TEXT),
            Column("charges", _("Charges"), COUNT),
            Column("charged", pgettext("what we charged other libraries", "Charged"), YEN),
            Column("paid", _("Paid"), YEN),
            Column("waived", _("Waived"), YEN),
            Column("unsettled", _("Not settled yet"), YEN),
        ],
        rows=rows,
        chart=Chart(
            "hbar",
            [r[0] for r in rows],
            [(pgettext("what we charged other libraries", "Charged"), [r[2] for r in rows])],
            unit=YEN,
        ),
        note=_(
            "The charge made when we shipped each request in the period (whole yen, consumption tax included), "
            "by how it is settled: through the national fee-offset (料金相殺) for participants, by our invoice for "
            "the others, no charge when it came to nothing. Paid, waived and not settled yet: where those charges "
            "stand now."
        ),
        footer=footer,
        summary=_("Charges for requests we shipped in %(where)s by settlement, in yen.") % {"where": where},
    )
    table.extra["headline"] = {"label": _("Charged as a lender"), "value": footer[2], "kind": YEN}
    return table


def _invoices_table(scope: Scope, where: str) -> Table:
    start, end = (timezone.localdate(moment) for moment in _period(scope).bounds)
    today = timezone.localdate()
    issued = Invoice.objects.filter(issued_on__gte=start, issued_on__lt=end, cancelled=False).aggregate(
        n=Count("id"), yen=Sum("total")
    )
    paid = Invoice.objects.filter(paid_on__gte=start, paid_on__lt=end).aggregate(n=Count("id"), yen=Sum("paid_amount"))
    unpaid = Invoice.objects.filter(paid_on__isnull=True, cancelled=False).aggregate(
        n=Count("id"),
        yen=Sum("total"),
        overdue=Count("id", filter=Q(due_on__lt=today)),
        overdue_yen=Sum("total", filter=Q(due_on__lt=today)),
    )
    rows = [
        [_("Invoices issued in the period"), issued["n"], issued["yen"] or 0],
        [_("Invoices paid in the period"), paid["n"], paid["yen"] or 0],
        [_("Unpaid now"), unpaid["n"], unpaid["yen"] or 0],
        [_("Overdue now (past the payment due date)"), unpaid["overdue"], unpaid["overdue_yen"] or 0],
    ]
    return Table(
        slug="lending-invoices",
        title=_("Our invoices"),
        columns=[
            Column("figure", _("Figure"), TEXT),
            Column("invoices", _("Invoices"), COUNT),
            Column("yen", _("Amount"), YEN),
        ],
        rows=rows,
        note=_(
            "Invoices to borrowing libraries outside the fee-offset: issued (not cancelled) and paid in the "
            "period, by the invoice's dates; unpaid and overdue today, whatever the period shown."
        ),
        summary=_("Our invoices, %(where)s and now.") % {"where": where},
    )


# 6. Copyright on the supplying side -----------------------------------------------------------


def _actor_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _users(ids) -> dict:
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return {}
    return {user.pk: _actor_name(user) for user in get_user_model().objects.filter(pk__in=wanted)}


def _event(action: str, field: str):
    return Subquery(
        LendingEvent.objects.filter(request=OuterRef("pk"), action=action)
        .order_by("-created_at", "-id")
        .values(field)[:1]
    )


def _copyright_rows(queryset, actor_field, when_field, why_field, limit=None):
    queryset = queryset.order_by("-received_at", "-id").values_list(
        "number", "title", "article_title", "borrower__name", actor_field, when_field, why_field
    )
    raw = list(queryset[:limit] if limit is not None else queryset)
    names = _users(r[4] for r in raw)
    return [
        [
            number,
            article_title or title,
            borrower,
            names.get(actor, ""),
            timezone.localtime(when) if when else None,
            why,
        ]
        for number, title, article_title, borrower, actor, when, why in raw
    ]


def _copyright_list(slug, title, note, queryset, actor_field, when_label, when_field, why_label, why_field):
    total = queryset.count()
    rows = _copyright_rows(queryset, actor_field, when_field, why_field, limit=NEWEST)
    if total > len(rows):
        note += " " + _("The newest %(shown)s of %(total)s are listed; the export has every one.") % {
            "shown": f"{len(rows):,}",
            "total": f"{total:,}",
        }
    return Table(
        slug=slug,
        title=title,
        columns=[
            Column("number", _("Lending request"), TEXT),
            Column("title", _("Title"), TEXT),
            Column("borrower", _("Borrowing library"), TEXT),
            Column("who", _("Who"), TEXT),
            Column("when", when_label, TEXT),
            Column("why", why_label, TEXT),
        ],
        rows=rows,
        note=note,
        all_rows=lambda: _copyright_rows(queryset, actor_field, when_field, why_field),
        extra={"total": total, "linked": [(row, request_url(row[0])) for row in rows]},
    )


def request_url(number: str) -> str:
    """The lending request's page on the lending desk."""
    return reverse("lending:request", args=[number])


def _copyright_tables(scope: Scope) -> list[Table]:
    copies = LR.objects.filter(_in("received_at", scope), kind=COPY)
    refused = copies.filter(status=S.UNFILLED, unfilled_reason=COPYRIGHT).annotate(
        actor_=_event("mark_unfilled", "actor"), when_=_event("mark_unfilled", "created_at")
    )
    overridden = copies.exclude(copyright_override_reason="").annotate(when_=_event("start_copying", "created_at"))
    return [
        _copyright_list(
            "lending-copyright-refused",
            _("Copies we refused for copyright"),
            _(
                "Copy requests received in the period that we answered unfilled because copyright does not allow "
                "the copy (Copyright Act art. 31: the supplying library makes the copy), with the reason sent back "
                "to the borrowing library."
            ),
            refused,
            "actor_",
            _("Refused"),
            "when_",
            _("Reason sent to them"),
            "unfilled_note",
        ),
        _copyright_list(
            "lending-copyright-overrides",
            _("Copyright rule overridden on copies we made"),
            _(
                "Copy requests received in the period that staff copied although a copyright rule refused them, "
                "with who overrode it, when and the reason they recorded."
            ),
            overridden,
            "copyright_override_by",
            _("Copying started"),
            "when_",
            _("Reason"),
            "copyright_override_reason",
        ),
    ]


# The page and the survey ----------------------------------------------------------------------


def lending_tables(scope: Scope) -> list[Table]:
    """Every Table of the lending page for the scope (its branch is not used)."""
    where = _where(scope)
    received, shipped = _received(scope), _shipped_hours(scope)
    return [
        *_received_tables(scope, received, where),
        *_fill_rate_tables(scope, received, where),
        *_turnaround_tables(scope, shipped, where),
        _loans_table(scope, shipped, where),
        _charges_table(scope, where),
        _invoices_table(scope, where),
        *_copyright_tables(scope),
    ]


def index_tables(scope: Scope) -> list[Table]:
    """What the reports' index shows of lending (one query): requests received per month, whose
    headline is the number received, and the fill rate's table, whose headline is the rate."""
    where = _where(scope)
    received = _received(scope)
    return [_received_tables(scope, received, where)[0], _fill_rate_tables(scope, received, where)[0]]


def survey_counts(fiscal_year: int) -> dict:
    """The annual survey's lending counts for a fiscal year (1 April – 31 March, site time zone):

    - *received*: requests received in the year, each once, whatever became of them;
    - *supplied*: requests shipped in the year (a copy sent, a book lent), each once;
    domestic / overseas by the borrowing library (overseas kind, or a country other than JP).

    {"copy_received": {"domestic": n, "overseas": n}, "copy_supplied": {…}, "loan_received": {…},
    "loan_supplied": {…}}
    """
    result = {
        f"{kind}_{what}": {"domestic": 0, "overseas": 0} for kind in (COPY, LOAN) for what in ("received", "supplied")
    }
    period = Period(fiscal_year)
    for what, field in (("received", "received_at"), ("supplied", "shipped_at")):
        groups = (
            LR.objects.filter(_in(field, period))
            .values("kind", "borrower__kind", "borrower__country")
            .annotate(n=Count("id"))
            .order_by()
        )
        for g in groups:
            place = "overseas" if is_overseas(g["borrower__kind"], g["borrower__country"]) else "domestic"
            result[f"{g['kind']}_{what}"][place] += g["n"]
    return result
