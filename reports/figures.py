"""The figures of DESIGN.md §10, as Tables (reports.tables), read from the monthly rollup
(reports.rollup), which each function first brings up to date when only a few months changed.

Each function takes a Scope and returns a list of Tables, months in fiscal order (April first),
labelled with the short month name of the active language. Every Table's `extra` carries
`computed_at` (when the rollup was last refreshed) and `stale` (True when the page could not
refresh it itself: the figures are those of `computed_at`).
"""

import datetime
import threading
from collections import defaultdict
from contextlib import contextmanager

from django.db.models import Sum
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.text import fiscal_year_label, localized
from fees.models import BudgetCode, Charge, SupportBudget, SupportUse
from ill import estimates
from ill.models import REQUEST_STATUSES, LenderCandidate, LendingInstitution, Request
from patrons.models import Branch
from reports import percentiles, rollup
from reports.models import CandidateMonth, ChargeMonth, DurationMonth, RequestMonth
from reports.tables import COUNT, DAYS, PERCENT, TEXT, YEN, Chart, Column, Scope, Table

MONTH_KEYS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)
TOP = 25  # lenders or budget codes listed on the page; the export has every one
LOAN, COPY = Request.Kind.LOAN, Request.Kind.COPY
K = LendingInstitution.Kind
Basis = RequestMonth.Basis
Measure = DurationMonth.Measure
CS = LenderCandidate.State
PC = Charge.PaymentClass


# Shared ---------------------------------------------------------------------------------------


def _months(scope: Scope) -> list[datetime.date]:
    return rollup.fiscal_months(scope.fiscal_year, scope.month)


def month_label(month: datetime.date) -> str:
    return date_format(month, "M")


# The index shows all five figures: inside `one_refresh()` they share one refresh of the rollup
# (it was tried five times a view); outside it each figure refreshes for itself.
_shared = threading.local()


@contextmanager
def one_refresh():
    _shared.found = None
    _shared.active = True
    try:
        yield
    finally:
        _shared.active = False
        _shared.found = None


def _freshness() -> dict:
    if getattr(_shared, "active", False) and _shared.found is not None:
        return dict(_shared.found)
    outcome = rollup.refresh_for_page()
    found = {"computed_at": rollup.computed_at(), "stale": not outcome["done"]}
    if getattr(_shared, "active", False):
        _shared.found = found
    return dict(found)


def _where(scope: Scope) -> str:
    """For summaries: "FY2026" or "FY2026, May", and the branch."""
    text = fiscal_year_label(scope.fiscal_year)
    if scope.month is not None:
        text += ", " + month_label(_months(scope)[0])
    if scope.branch_id is not None:
        branch = Branch.objects.filter(pk=scope.branch_id).only("name", "name_en").first()
        if branch is not None:
            text += ", " + localized(branch)
    return text


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _days(hours: float | None) -> float | None:
    return None if hours is None else round(hours / 24, 1)


def _status_label(value: str) -> str:
    return str(Request.Status(value).label) if value in Request.Status.values else value


def _lender_kind_label(value: str) -> str:
    if not value:
        return _("Not ordered yet")
    return str(K(value).label) if value in K.values else value


def _kind_label(value: str) -> str:
    return str(Request.Kind(value).label) if value in Request.Kind.values else value


def _delivery_label(value: str) -> str:
    return str(Request.Delivery(value).label) if value in Request.Delivery.values else value


def _requests(scope: Scope, basis: str, *dims: str) -> dict:
    rows = (
        RequestMonth.objects.filter(rollup.months_q(_months(scope), scope.branch_id), basis=basis)
        .values(*dims)
        .annotate(n=Sum("count"))
        .order_by()
    )
    return {tuple(row[d] for d in dims): row["n"] for row in rows}


def _kind_columns(first: str) -> list[Column]:
    return [
        Column("label", first, TEXT),
        Column("loan", _("Loans"), COUNT),
        Column("copy", _("Copies"), COUNT),
        Column("total", _("Total"), COUNT),
    ]


def _kind_rows(labels_keys, counts) -> list[list]:
    """[label, loans, copies, total] for each (label, key) where counts[(key, kind)] is a count."""
    rows = []
    for label, key in labels_keys:
        loans, copies = counts.get((key, LOAN), 0), counts.get((key, COPY), 0)
        rows.append([label, loans, copies, loans + copies])
    return rows


def _footer(rows, label=None, columns=(1, 2, 3)) -> list:
    columns = list(columns)
    width = len(rows[0]) if rows else max(columns) + 1
    footer = [label or _("Total")] + [None] * (width - 1)
    for i in columns:
        footer[i] = sum(row[i] or 0 for row in rows)
    return footer


# 1. Requests ----------------------------------------------------------------------------------


def requests_tables(scope: Scope) -> list[Table]:
    """Requests by kind per month, by status, by lender kind, domestic / overseas."""
    extra = _freshness()
    where = _where(scope)
    months = _months(scope)
    by_month = _requests(scope, Basis.SUBMITTED, "month", "kind")
    month_rows = _kind_rows([(month_label(m), m) for m in months], by_month)
    kind_table = Table(
        slug="by-kind",
        title=_("Requests by kind"),
        columns=_kind_columns(_("Month")),
        rows=month_rows,
        chart=Chart(
            "stacked",
            [r[0] for r in month_rows],
            [(_("Loans"), [r[1] for r in month_rows]), (_("Copies"), [r[2] for r in month_rows])],
        ),
        note=_("Requests by the month they were submitted (pick-up branch for the branch filter)."),
        footer=_footer(month_rows),
        summary=_("Loan and copy requests submitted per month, %(where)s.") % {"where": where},
        extra=extra,
    )

    by_status = _requests(scope, Basis.SUBMITTED, "status", "kind")
    status_rows = _kind_rows([(_status_label(s), s) for s in REQUEST_STATUSES], by_status)
    status_table = Table(
        slug="by-status",
        title=_("Requests by status"),
        columns=_kind_columns(_("Status")),
        rows=status_rows,
        chart=Chart("hbar", [r[0] for r in status_rows], [(_("Requests"), [r[3] for r in status_rows])]),
        note=_("Where the requests submitted in the period stand now."),
        footer=_footer(status_rows),
        summary=_("Requests submitted in %(where)s by their current status.") % {"where": where},
        extra=extra,
    )

    by_lender = _requests(scope, Basis.SUBMITTED, "lender_kind", "kind")
    lender_keys = [(str(label), value) for value, label in K.choices] + [(_("Not ordered yet"), "")]
    lender_rows = _kind_rows(lender_keys, by_lender)
    lender_table = Table(
        slug="by-lender-kind",
        title=_("Requests by lender kind"),
        columns=_kind_columns(_("Lender kind")),
        rows=lender_rows,
        chart=Chart(
            "stacked",
            [r[0] for r in lender_rows],
            [(_("Loans"), [r[1] for r in lender_rows]), (_("Copies"), [r[2] for r in lender_rows])],
        ),
        note=_(
            "Requests submitted in the period by the kind of the lender that has them now or supplied them; "
            "requests never sent to a lender (not yet, rejected or cancelled) on their own line."
        ),
        footer=_footer(lender_rows),
        summary=_("Requests submitted in %(where)s by the kind of their lender.") % {"where": where},
        extra=extra,
    )

    by_place = _requests(scope, Basis.SUBMITTED, "overseas", "kind")
    place_rows = _kind_rows([(_("Domestic"), False), (_("Overseas"), True), (_("Never ordered"), None)], by_place)
    place_table = Table(
        slug="domestic-overseas",
        title=_("Domestic and overseas"),
        columns=_kind_columns(_("Lender")),
        rows=place_rows,
        chart=Chart(
            "stacked",
            [r[0] for r in place_rows],
            [(_("Loans"), [r[1] for r in place_rows]), (_("Copies"), [r[2] for r in place_rows])],
        ),
        note=_(
            "Overseas: the lender is of the overseas kind or outside Japan (its country is not JP). "
            "Requests submitted in the period, by the lender that has them now or supplied them."
        ),
        footer=_footer(place_rows),
        summary=_("Requests submitted in %(where)s from lenders in Japan and abroad.") % {"where": where},
        extra=extra,
    )
    return [kind_table, status_table, lender_table, place_table]


# 2. Fill rate ---------------------------------------------------------------------------------

OPEN_AT_LENDER = {Request.Status.ORDERED, Request.Status.UNFILLED}


def fill_rate_tables(scope: Scope) -> list[Table]:
    """Fill rate overall and per lender, the lenders' unfilled reasons."""
    extra = _freshness()
    where = _where(scope)
    months = _months(scope)
    ordered = _requests(scope, Basis.ORDERED, "month", "supplied", "status")
    rows = []
    for month in months:
        total = sum(n for (m, _s, _st), n in ordered.items() if m == month)
        supplied = sum(n for (m, s, _st), n in ordered.items() if m == month and s)
        waiting = sum(n for (m, s, st), n in ordered.items() if m == month and not s and st in OPEN_AT_LENDER)
        rows.append([month_label(month), total, supplied, total - supplied - waiting, waiting, _rate(supplied, total)])
    footer = _footer(rows, columns=(1, 2, 3, 4))
    footer[5] = _rate(footer[2], footer[1])
    overall = Table(
        slug="fill-rate",
        title=_("Fill rate"),
        columns=[
            Column("month", _("Month"), TEXT),
            Column("ordered", _("Ordered"), COUNT),
            Column("supplied", _("Supplied"), COUNT),
            Column("not_supplied", _("Not supplied"), COUNT),
            Column("open", _("Still with a lender"), COUNT),
            Column("rate", _("Fill rate"), PERCENT),
        ],
        rows=rows,
        chart=Chart("line", [r[0] for r in rows], [(_("Fill rate"), [r[5] for r in rows])], unit=PERCENT),
        note=_(
            "Fill rate = supplied ÷ ordered. Each request is counted once, in the month of its first order to a "
            "lender, however many lenders it passed through; supplied = it has arrived (from any of them). "
            "Requests still ordered or unfilled-and-waiting count as ordered, not supplied."
        ),
        footer=footer,
        summary=_("Fill rate per month of first order, %(where)s: %(rate)s %% overall.")
        % {"where": where, "rate": footer[5] if footer[5] is not None else "–"},
        extra=extra,
    )
    return [overall, _lender_table(scope, where, extra), _reasons_table(scope, where, extra)]


def _candidate_counts(scope: Scope, *dims: str) -> dict:
    rows = (
        CandidateMonth.objects.filter(rollup.months_q(_months(scope), scope.branch_id))
        .values(*dims)
        .annotate(n=Sum("count"))
        .order_by()
    )
    return {tuple(row[d] for d in dims): row["n"] for row in rows}


def _lender_row(name, kind_label, asked, filled, unfilled):
    return [name, kind_label, asked, filled, unfilled, asked - filled - unfilled, _rate(filled, asked)]


def _lender_rows(scope: Scope) -> list[list]:
    """Every lender asked in the period, most asked first."""
    counts = _candidate_counts(scope, "lender_id", "state")
    per_lender = defaultdict(lambda: [0, 0, 0])
    for (lender_id, state), n in counts.items():
        per_lender[lender_id][0] += n
        if state == CS.FILLED:
            per_lender[lender_id][1] += n
        elif state == CS.UNFILLED:
            per_lender[lender_id][2] += n
    lenders = {
        lender.pk: lender
        for lender in LendingInstitution.objects.filter(pk__in=list(per_lender)).only("name", "name_en", "kind")
    }
    rows = []
    for lender_id, (asked, filled, unfilled) in per_lender.items():
        lender = lenders.get(lender_id)
        name = localized(lender) if lender else f"#{lender_id}"
        rows.append(_lender_row(name, _lender_kind_label(lender.kind) if lender else "", asked, filled, unfilled))
    rows.sort(key=lambda r: (-r[2], r[0]))
    return rows


def _lender_table(scope: Scope, where: str, extra: dict) -> Table:
    every = _lender_rows(scope)
    rows = every[:TOP]
    others = every[TOP:]
    if others:
        rows.append(
            _lender_row(
                _("All other lenders (%(count)s)") % {"count": len(others)},
                "",
                sum(r[2] for r in others),
                sum(r[3] for r in others),
                sum(r[4] for r in others),
            )
        )
    footer = _lender_row(_("Total"), "", sum(r[2] for r in every), sum(r[3] for r in every), sum(r[4] for r in every))
    top = every[:TOP]
    return Table(
        slug="fill-rate-lenders",
        title=_("Fill rate per lender"),
        columns=[
            Column("lender", _("Lender"), TEXT),
            Column("kind", _("Lender kind"), TEXT),
            Column("asked", _("Times asked"), COUNT),
            Column("filled", _("Filled"), COUNT),
            Column("unfilled", _("Unfilled"), COUNT),
            Column("open", _("Not answered yet"), COUNT),
            Column("rate", _("Fill rate"), PERCENT),
        ],
        rows=rows,
        chart=Chart("hbar", [r[0] for r in top], [(_("Fill rate"), [r[6] for r in top])], unit=PERCENT)
        if top
        else None,
        note=_(
            "Each time a lender was asked (a candidate lender ordered), by the month it was asked: filled = it "
            "supplied the item, unfilled = it could not. Fill rate = filled ÷ times asked. The %(top)s lenders "
            "asked most are listed; the export lists every lender."
        )
        % {"top": TOP},
        footer=footer,
        summary=_("Fill rate of the %(top)s lenders asked most, %(where)s.") % {"top": TOP, "where": where},
        extra=extra,
        all_rows=lambda: _lender_rows(scope),
    )


def _reasons_table(scope: Scope, where: str, extra: dict) -> Table:
    states = _candidate_counts(scope, "lender_id", "state", "unfilled_reason")
    kinds = dict(LendingInstitution.objects.filter(pk__in={k[0] for k in states}).values_list("pk", "kind"))
    per = defaultdict(int)
    for (lender_id, state, reason), n in states.items():
        if state == CS.UNFILLED:
            per[(reason, kinds.get(lender_id, K.OTHER))] += n
    reasons = [(value, str(label)) for value, label in LenderCandidate.UnfilledReason.choices]
    reasons.append(("", _("Not recorded")))
    kind_values = [value for value, _label in K.choices]
    rows = []
    for value, label in reasons:
        by_kind = [per.get((value, kind), 0) for kind in kind_values]
        rows.append([label, sum(by_kind), *by_kind])
    footer = _footer(rows, columns=range(1, 2 + len(kind_values)))
    return Table(
        slug="unfilled-reasons",
        title=_("Why lenders could not supply"),
        columns=[Column("reason", _("Reason"), TEXT), Column("total", _("Total"), COUNT)]
        + [Column(value, str(label), COUNT) for value, label in K.choices],
        rows=rows,
        chart=Chart("hbar", [r[0] for r in rows], [(_("Unfilled"), [r[1] for r in rows])]),
        note=_(
            "Each unfilled answer of a lender asked in the period, by the reason staff recorded "
            "(“not recorded” when none was), and by the kind of lender."
        ),
        footer=footer,
        summary=_("Unfilled answers of lenders by reason, %(where)s.") % {"where": where},
        extra=extra,
    )


# 3. Turnaround --------------------------------------------------------------------------------


DURATION_FIELDS = ("month", "kind", "lender_kind", "overseas", "delivery", "measure", "hours")


def _duration_rows(scope: Scope) -> list[tuple]:
    """The scope's histogram rows, read once for the three tables (about 1,100 rows a year at 1M)."""
    return list(
        DurationMonth.objects.filter(rollup.months_q(_months(scope), scope.branch_id))
        .values_list(*DURATION_FIELDS)
        .order_by()
    )


def _histograms(rows, *dims: str) -> dict:
    """{(dims…, measure): merged histogram} over the rows, added in place (keys stay as stored)."""
    positions = [DURATION_FIELDS.index(d) for d in dims]
    merged = defaultdict(dict)
    for row in rows:
        target = merged[(*(row[i] for i in positions), row[5])]
        for hours, count in row[6].items():
            target[hours] = target.get(hours, 0) + count
    return merged


def _stats(histogram) -> tuple[int, float | None, float | None]:
    n = sum(histogram.values()) if histogram else 0
    return (
        n,
        _days(percentiles.from_histogram(histogram or {}, 0.5)),
        _days(percentiles.from_histogram(histogram or {}, 0.9)),
    )


def estimate_range(kind: str, lender_kind: str | None, overseas: bool | None, delivery: str | None):
    """(low, high) days and the text patrons are shown (ill.estimates), or None where no single
    estimate applies (a copy from a Japanese lender by lender kind: it depends on the delivery)."""
    if kind == LOAN:
        if lender_kind is None:
            return None
        return estimates.LOAN_DAYS.get(lender_kind, estimates.LOAN_DAYS[K.OTHER]), estimates.LOAN_TIMES.get(
            lender_kind, estimates.LOAN_TIMES[K.OTHER]
        )
    if overseas:
        return estimates.OVERSEAS_COPY_DAYS, estimates.OVERSEAS_COPY_TIME
    if delivery is None:
        return None
    mail = Request.Delivery.MAIL
    return estimates.COPY_DAYS.get(delivery, estimates.COPY_DAYS[mail]), estimates.COPY_TIMES.get(
        delivery, estimates.COPY_TIMES[mail]
    )


def estimate_flag(p90: float | None, days: tuple | None) -> str:
    """Whether the 90th percentile (submitted → arrived) lies outside the estimate's range."""
    if p90 is None or days is None:
        return ""
    low, high = days
    if high is not None and p90 > high:
        return _("Slower than the estimate")
    if low and p90 < low:
        return _("Faster than the estimate")
    return ""


TURNAROUND_COLUMNS = [
    ("arrived", COUNT),
    ("sub_median", DAYS),
    ("sub_p90", DAYS),
    ("ord_median", DAYS),
    ("ord_p90", DAYS),
]


def _turnaround_columns(*first: Column) -> list[Column]:
    labels = {
        "arrived": _("Arrived"),
        "sub_median": _("Submitted → arrived, median"),
        "sub_p90": _("Submitted → arrived, 90th percentile"),
        "ord_median": _("Ordered → arrived, median"),
        "ord_p90": _("Ordered → arrived, 90th percentile"),
    }
    return [
        *first,
        *[Column(key, labels[key], kind) for key, kind in TURNAROUND_COLUMNS],
        Column("estimate", _("Estimate shown to patrons"), TEXT),
        Column("flag", _("90th percentile against the estimate"), TEXT),
    ]


def _turnaround_row(first: list, histograms, key, estimate) -> list:
    n, sub_median, sub_p90 = _stats(histograms.get((*key, Measure.SUBMITTED)))
    _n, ord_median, ord_p90 = _stats(histograms.get((*key, Measure.ORDERED)))
    days, text = estimate if estimate else (None, "")
    return [*first, n, sub_median, sub_p90, ord_median, ord_p90, str(text), estimate_flag(sub_p90, days)]


def _turnaround_note() -> str:
    return " ".join(
        [
            _(
                "Requests that arrived in the period, by arrival month. Submitted → arrived is the patron's wait, "
                "including every lender that could not supply; ordered → arrived is from the order to the lender "
                "that supplied it (a request's order time is that of its last order)."
            ),
            _(
                "The flag compares the 90th percentile of submitted → arrived with the estimate patrons are shown "
                "(DESIGN §7), so that the estimates can be corrected from the library's own times."
            ),
            _(
                "Durations are counted in whole hours (rounded down) and shown in days, so medians and "
                "percentiles are exact to one hour (linear interpolation, as PostgreSQL percentile_cont and "
                "Excel PERCENTILE.INC)."
            ),
        ]
    )


def turnaround_tables(scope: Scope) -> list[Table]:
    """Median and 90th percentile days submitted → arrived and ordered → arrived, per lender kind
    and per delivery method, against the estimates shown to patrons."""
    extra = _freshness()
    where = _where(scope)

    durations = _duration_rows(scope)
    by_kind = _histograms(durations, "kind", "lender_kind")
    kind_rows = []
    for kind in (LOAN, COPY):
        for lender_kind, label in K.choices:
            if (kind, lender_kind, Measure.SUBMITTED) not in by_kind:
                continue
            estimate = estimate_range(kind, lender_kind, lender_kind == K.OVERSEAS, None)
            kind_rows.append(_turnaround_row([_kind_label(kind), str(label)], by_kind, (kind, lender_kind), estimate))
    kind_table = Table(
        slug="turnaround-lender-kind",
        title=_("Turnaround by lender kind"),
        columns=_turnaround_columns(Column("kind", _("Kind"), TEXT), Column("lender_kind", _("Lender kind"), TEXT)),
        rows=kind_rows,
        chart=Chart(
            "hbar",
            [f"{r[0]} · {r[1]}" for r in kind_rows],
            [(_("Median"), [r[3] for r in kind_rows]), (_("90th percentile"), [r[4] for r in kind_rows])],
            unit=DAYS,
        )
        if kind_rows
        else None,
        note=_turnaround_note()
        + " "
        + _("A copy from a lender in Japan has its estimate by delivery method (next table)."),
        summary=_("Days from submission to arrival, median and 90th percentile, by lender kind, %(where)s.")
        % {"where": where},
        extra=extra,
    )

    by_delivery = _histograms(durations, "kind", "overseas", "delivery")
    delivery_rows = []
    for kind in (LOAN, COPY):
        for overseas in (False, True):
            for delivery, label in Request.Delivery.choices:
                if (kind, overseas, delivery, Measure.SUBMITTED) not in by_delivery:
                    continue
                estimate = estimate_range(kind, None, overseas, delivery) if kind == COPY else None
                place = _("Overseas") if overseas else _("Domestic")
                delivery_rows.append(
                    _turnaround_row(
                        [_kind_label(kind), place, str(label)], by_delivery, (kind, overseas, delivery), estimate
                    )
                )
    delivery_table = Table(
        slug="turnaround-delivery",
        title=_("Turnaround by delivery method"),
        columns=_turnaround_columns(
            Column("kind", _("Kind"), TEXT),
            Column("place", _("Lender"), TEXT),
            Column("delivery", _("Delivery"), TEXT),
        ),
        rows=delivery_rows,
        chart=Chart(
            "hbar",
            [" · ".join(r[:3]) for r in delivery_rows],
            [(_("Median"), [r[4] for r in delivery_rows]), (_("90th percentile"), [r[5] for r in delivery_rows])],
            unit=DAYS,
        )
        if delivery_rows
        else None,
        note=_turnaround_note()
        + " "
        + _(
            "Delivery is how the item came: the delivery recorded with the shipment at arrival, else the "
            "shipping method of the order, else what the patron asked for. Loans have their estimate by lender "
            "kind (previous table)."
        ),
        summary=_("Days from submission to arrival, median and 90th percentile, by delivery method, %(where)s.")
        % {"where": where},
        extra=extra,
    )

    by_month = _histograms(durations, "month")
    month_rows = []
    for month in _months(scope):
        n, sub_median, sub_p90 = _stats(by_month.get((month, Measure.SUBMITTED)))
        _n, ord_median, ord_p90 = _stats(by_month.get((month, Measure.ORDERED)))
        month_rows.append([month_label(month), n, sub_median, sub_p90, ord_median, ord_p90])
    total = {m: percentiles.merge(h for (_mo, mm), h in by_month.items() if mm == m) for m in Measure.values}
    n, sub_median, sub_p90 = _stats(total[Measure.SUBMITTED])
    _n, ord_median, ord_p90 = _stats(total[Measure.ORDERED])
    month_table = Table(
        slug="turnaround-months",
        title=_("Turnaround per month"),
        columns=[Column("month", _("Month"), TEXT)] + _turnaround_columns()[:5],
        rows=month_rows,
        chart=Chart(
            "line",
            [r[0] for r in month_rows],
            [(_("Median"), [r[2] for r in month_rows]), (_("90th percentile"), [r[3] for r in month_rows])],
            unit=DAYS,
        ),
        note=_turnaround_note(),
        footer=[_("Whole period"), n, sub_median, sub_p90, ord_median, ord_p90],
        summary=_("Days from submission to arrival per month of arrival, median and 90th percentile, %(where)s.")
        % {"where": where},
        extra=extra,
    )
    return [kind_table, delivery_table, month_table]


# 4. Charges -----------------------------------------------------------------------------------

PAYMENT_CLASSES = [PC.PUBLIC, PC.GRANT, PC.PRIVATE, PC.SUPPORT]


def _charges(scope: Scope, *dims: str) -> dict:
    rows = (
        ChargeMonth.objects.filter(rollup.months_q(_months(scope), scope.branch_id))
        .values(*dims)
        .annotate(n=Sum("count"), yen=Sum("total"))
        .order_by()
    )
    return {tuple(row[d] for d in dims): (row["n"], row["yen"] or 0) for row in rows}


def _code_row(code, name, count, total):
    return [code, name, count, total]


def _code_rows(scope: Scope) -> list[list]:
    """Every budget code charged in the period, largest total first."""
    counts = _charges(scope, "budget_code_id")
    ids = [k[0] for k in counts if k[0] is not None]
    codes = {c.pk: c for c in BudgetCode.objects.filter(pk__in=ids).only("code", "name")}
    rows = []
    for (code_id,), (n, yen) in counts.items():
        if code_id is None:
            continue
        code = codes.get(code_id)
        rows.append(_code_row(code.code if code else f"#{code_id}", code.name if code else "", n, yen))
    rows.sort(key=lambda r: (-r[3], r[0]))
    return rows


def charges_tables(scope: Scope) -> list[Table]:
    """Charges by expense type and by budget code."""
    extra = _freshness()
    where = _where(scope)
    months = _months(scope)
    by_month = _charges(scope, "month", "payment_class")
    rows = []
    for month in months:
        amounts = [by_month.get((month, pc), (0, 0))[1] for pc in PAYMENT_CLASSES]
        count = sum(by_month.get((month, pc), (0, 0))[0] for pc in PAYMENT_CLASSES)
        rows.append([month_label(month), count, *amounts, sum(amounts)])
    footer = _footer(rows, columns=range(1, 3 + len(PAYMENT_CLASSES)))
    month_table = Table(
        slug="charges-month",
        title=_("Charges by payment class"),
        columns=[Column("month", _("Month"), TEXT), Column("count", _("Charges"), COUNT)]
        + [Column(pc.value, str(pc.label), YEN) for pc in PAYMENT_CLASSES]
        + [Column("total", _("Total"), YEN)],
        rows=rows,
        chart=Chart(
            "stacked",
            [r[0] for r in rows],
            [(str(pc.label), [r[2 + i] for r in rows]) for i, pc in enumerate(PAYMENT_CLASSES)],
            unit=YEN,
        ),
        note=_(
            "Charges (yen, as recorded at arrival, adjustments included) by the month they were recorded and by "
            "who pays: public expense, research grant, the patron, the student support budget."
        ),
        footer=footer,
        summary=_("Charges in yen per month by payment class, %(where)s.") % {"where": where},
        extra=extra,
    )

    every = _code_rows(scope)
    code_rows = every[:TOP]
    others = every[TOP:]
    if others:
        code_rows.append(
            _code_row(
                _("All other codes (%(count)s)") % {"count": len(others)},
                "",
                sum(r[2] for r in others),
                sum(r[3] for r in others),
            )
        )
    no_code = _charges(scope, "budget_code_id").get((None,))
    if no_code:
        code_rows.append(_code_row(_("No budget code"), _("Private expense and support budget"), *no_code))
    top = every[:TOP]
    code_table = Table(
        slug="charges-budget-codes",
        title=_("Charges by budget code"),
        columns=[
            Column("code", _("Budget code"), TEXT),
            Column("name", _("Name"), TEXT),
            Column("count", _("Charges"), COUNT),
            Column("total", _("Total"), YEN),
        ],
        rows=code_rows,
        chart=Chart("hbar", [r[0] for r in top], [(_("Total"), [r[3] for r in top])], unit=YEN) if top else None,
        note=_(
            "Charges of the period by the budget code they were charged to. The %(top)s codes with the largest "
            "totals are listed; the export lists every code."
        )
        % {"top": TOP},
        footer=_footer(code_rows, columns=(2, 3)),
        summary=_("Charges in yen by budget code, %(where)s.") % {"where": where},
        extra=extra,
        all_rows=lambda: _code_rows(scope),
    )
    return [month_table, code_table]


# 5. Support budget ----------------------------------------------------------------------------


def support_tables(scope: Scope) -> list[Table]:
    """The support budget's use against its total."""
    extra = _freshness()
    budget = (
        SupportBudget.objects.filter(fiscal_year=scope.fiscal_year).only("total", "per_student_cap", "is_open").first()
    )
    where = fiscal_year_label(scope.fiscal_year)
    library_wide = _("The support budget is the whole library's: the branch and month filters do not apply here.")
    if budget is None:
        return [
            Table(
                slug="support",
                title=_("Student support budget"),
                columns=[Column("item", _("Item"), TEXT), Column("value", _("Value"), TEXT)],
                rows=[],
                note=_("There is no student support budget for %(year)s.")
                % {"year": fiscal_year_label(scope.fiscal_year)},
                summary=_("No support budget for %(where)s.") % {"where": where},
                extra=extra,
            )
        ]
    uses = SupportUse.objects.filter(budget=budget)
    standing = uses.exclude(state=SupportUse.State.RELEASED)
    spent = uses.filter(state=SupportUse.State.CHARGED).aggregate(t=Sum("amount"))["t"] or 0
    reserved = uses.filter(state=SupportUse.State.RESERVED).aggregate(t=Sum("amount"))["t"] or 0
    requests = standing.count()
    students = standing.values("patron_id").distinct().count()
    cap = budget.per_student_cap
    summary_rows = [
        [_("Total"), budget.total],
        [_("Spent"), spent],
        [_("Reserved (ordered, not arrived)"), reserved],
        [_("Remaining"), budget.total - spent - reserved],
    ]
    count_rows = [
        [_("Requests supported"), requests],
        [_("Students supported"), students],
        [_("Supported requests per student (cap)"), cap],
    ]
    position = Table(
        slug="support",
        title=_("Student support budget"),
        columns=[Column("item", _("Item"), TEXT), Column("yen", _("Yen"), YEN)],
        rows=summary_rows,
        chart=Chart(
            "hbar",
            [r[0] for r in summary_rows[1:]],
            [(_("Yen"), [r[1] for r in summary_rows[1:]])],
            unit=YEN,
        ),
        note=_(
            "Spent: charges paid by the budget; reserved: estimates held by supported orders that have not "
            "arrived; remaining = total − spent − reserved. Now, for %(year)s."
        )
        % {"year": fiscal_year_label(scope.fiscal_year)}
        + " "
        + library_wide,
        summary=_("Support budget of %(where)s: spent, reserved and remaining against its total.") % {"where": where},
        extra={**extra, "open": budget.is_open},
    )
    counts = Table(
        slug="support-counts",
        title=_("Requests and students supported"),
        columns=[Column("item", _("Item"), TEXT), Column("count", _("Count"), COUNT)],
        rows=count_rows,
        note=_(
            "Requests whose support stands (linked, reserved or charged; not released), the students they are "
            "for, and the cap per student (empty: no cap)."
        ),
        summary=_("Requests and students supported in %(where)s.") % {"where": where},
        extra=extra,
    )
    months = rollup.fiscal_months(scope.fiscal_year)
    by_month = dict(
        ChargeMonth.objects.filter(month__in=months, payment_class=PC.SUPPORT)
        .values("month")
        .annotate(t=Sum("total"))
        .values_list("month", "t")
        .order_by()
    )
    month_rows, cumulative = [], 0
    for month in months:
        cumulative += by_month.get(month) or 0
        month_rows.append([month_label(month), by_month.get(month) or 0, cumulative])
    use = Table(
        slug="support-months",
        title=_("Support budget use per month"),
        columns=[
            Column("month", _("Month"), TEXT),
            Column("spent", _("Charged that month"), YEN),
            Column("cumulative", _("Charged so far"), YEN),
        ],
        rows=month_rows,
        chart=Chart(
            "line",
            [r[0] for r in month_rows],
            [(_("Charged so far"), [r[2] for r in month_rows]), (_("Total"), [budget.total] * len(month_rows))],
            unit=YEN,
        ),
        note=_("Charges to the student support budget by the month they were recorded, and their running total.")
        + " "
        + library_wide,
        footer=[_("Total"), cumulative, cumulative],
        summary=_("Support budget charged per month of %(where)s against its total.") % {"where": where},
        extra=extra,
    )
    return [position, counts, use]
