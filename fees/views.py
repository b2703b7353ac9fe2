"""Staff pages about money: the charges report for the accounting office, with CSV exports.

The report shows a fiscal year's totals (one aggregate query) and one month's rows at a time,
paginated without a count; the CSV files stream (StreamingHttpResponse over rows of values, read in
chunks), so a year of 100,000 charges is neither a 2 MB page nor 400,000 model objects in memory.
"""

import csv
import io

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from core.text import int_param
from fees.models import Charge, current_fiscal_year, fiscal_year_of
from fees.selectors import FISCAL_MONTHS, Period, charge_totals, charges_detail, charges_summary, charges_summary_page
from patrons.permissions import desk_required

CLASS_LABELS = dict(Charge.PaymentClass.choices)
PRIVATE_PAID = gettext_lazy("Private expense, paid")
PRIVATE_UNPAID = gettext_lazy("Private expense, not paid yet")
# The report's totals, in this order: the cash received apart from what patrons still owe, then
# budget and support charges by class.
GROUPS = (
    ("private_paid", PRIVATE_PAID),
    ("private_unpaid", PRIVATE_UNPAID),
    (Charge.PaymentClass.PUBLIC.value, Charge.PaymentClass.PUBLIC.label),
    (Charge.PaymentClass.GRANT.value, Charge.PaymentClass.GRANT.label),
    (Charge.PaymentClass.SUPPORT.value, Charge.PaymentClass.SUPPORT.label),
)
PAGE_SIZE = 100
MAX_PAGE = 10_000
CSV_CHUNK_ROWS = 1_000  # rows written per piece of the streamed CSV
DB_CHUNK_ROWS = 2_000  # rows fetched per round trip of the server-side cursor


def group_of(payment_class: str, state: str) -> str:
    """Where a charge counts in the totals: private charges apart by paid and not paid, so that the
    cash received is not mixed with what patrons still owe; budget and support charges by class."""
    if payment_class == Charge.PaymentClass.PRIVATE:
        return "private_paid" if state == Charge.State.PAID else "private_unpaid"
    return payment_class


def total_group(payment_class: str, state: str) -> str:
    """The label of `group_of`."""
    return str(dict(GROUPS).get(group_of(payment_class, state), CLASS_LABELS.get(payment_class, payment_class)))


def _year_and_month(request) -> tuple[int, int | None]:
    year = min(max(int_param(request.GET.get("year"), current_fiscal_year()), 2000), 2100)
    month = int_param(request.GET.get("month"))
    return year, month if month in FISCAL_MONTHS else None


def _default_month(fiscal_year: int) -> int:
    """The month whose rows the report shows first: this month, or the last (first) month of a
    past (future) fiscal year."""
    today = timezone.localdate()
    if fiscal_year_of(today) == fiscal_year:
        return today.month
    return 3 if fiscal_year < fiscal_year_of(today) else 4


@desk_required
def charges_report(request):
    """The fiscal year's totals by class and by month, and one month's rows by class and budget
    code, a page at a time. The CSV files cover the fiscal year, or one month with `month`."""
    year, month = _year_and_month(request)
    fmt = request.GET.get("format")
    if fmt == "csv":
        return _summary_csv(Period(year, month))
    if fmt == "detail":
        return _detail_csv(Period(year, month))
    period = Period(year)
    shown = Period(year, month or _default_month(year))
    by_group = {}
    by_month = {month: {"groups": {}, "total": 0, "count": 0} for month in period.months()}
    for row in charge_totals(period):
        group, total = group_of(row["payment_class"], row["state"]), row["total"]
        by_group[group] = by_group.get(group, 0) + total
        cell = by_month[row["month"]]
        cell["groups"][group] = cell["groups"].get(group, 0) + total
        cell["total"] += total
        cell["count"] += row["count"]
    page = min(max(int_param(request.GET.get("page"), 1), 1), MAX_PAGE)
    rows, has_next = charges_summary_page(shown, page, PAGE_SIZE)
    this_year = current_fiscal_year()
    return render(
        request,
        "fees/charges_report.html",
        {
            "year": year,
            "period": period,
            "shown": shown,
            "rows": rows,
            "class_labels": CLASS_LABELS,
            "state_labels": dict(Charge.State.choices),
            "groups": GROUPS,
            "by_class": [(label, by_group[key]) for key, label in GROUPS if key in by_group],
            "grand_total": sum(by_group.values()),
            "by_month": [
                (month, [values["groups"].get(key) for key, _label in GROUPS], values)
                for month, values in by_month.items()
            ],
            "years": range(this_year, this_year - 6, -1),
            "months": period.months(),
            "page": page,
            "has_next": has_next and page < MAX_PAGE,
            "first_row": (page - 1) * PAGE_SIZE + 1,
            "last_row": (page - 1) * PAGE_SIZE + len(rows),
        },
    )


class _Lines:
    """A file for csv.writer that keeps what it is given, to be taken as one piece of the stream."""

    def __init__(self):
        self.buffer = io.StringIO()

    def write(self, text):
        self.buffer.write(text)

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """A text cell that Excel or LibreOffice would run as a formula (=, +, -, @, tab, CR first: "CSV
    injection") gets a leading apostrophe, which they show as text. Numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _csv_stream(filename: str, header: list[str], rows):
    """A CSV download written while it is read: UTF-8 with a BOM (Excel then reads the Japanese
    correctly), CSV_CHUNK_ROWS lines per piece. `rows` is an iterator of lists of cells; the labels
    in it are resolved before the stream starts, in the request's language."""

    def pieces():
        lines = _Lines()
        writer = csv.writer(lines)
        writer.writerow(header)
        yield "\ufeff" + lines.take()
        for n, row in enumerate(rows, start=1):
            writer.writerow([spreadsheet_safe(cell) for cell in row])
            if n % CSV_CHUNK_ROWS == 0:
                yield lines.take()
        yield lines.take()

    response = StreamingHttpResponse(pieces(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _summary_csv(period: Period):
    class_labels = {key: str(label) for key, label in CLASS_LABELS.items()}
    state_labels = {key: str(label) for key, label in Charge.State.choices}
    header = [
        _("Month"),
        _("Payment class"),
        _("Budget code"),
        _("Budget name"),
        _("State"),
        pgettext("column", "Requests"),
        _("Total (yen)"),
    ]
    rows = (
        [
            timezone.localtime(row["month"]).strftime("%Y-%m") if row["month"] else "",
            class_labels.get(row["payment_class"], row["payment_class"]),
            row["budget_code__code"] or "",
            row["budget_code__name"] or "",
            state_labels.get(row["state"], row["state"]),
            row["count"],
            row["total"],
        ]
        for row in charges_summary(period).iterator(chunk_size=DB_CHUNK_ROWS)
    )
    return _csv_stream(f"ill-charges-{period.slug}.csv", header, rows)


def _detail_csv(period: Period):
    """One line per charge, with the fields of the NACSIS-ILL fee-offset record (CHRGE, POSTG, SUM, ACCT)."""
    class_labels = {key: str(label) for key, label in CLASS_LABELS.items()}
    state_labels = {key: str(label) for key, label in Charge.State.choices}
    header = [
        _("Date"),
        _("Request number"),
        _("Patron number"),
        _("Lender"),
        _("Lender code"),
        _("Payment class"),
        _("Budget code"),
        _("Copy fee (A)"),
        _("Postage (B)"),
        _("Other fees (C)"),
        _("Tax"),
        _("Total (yen)"),
        _("State"),
    ]
    rows = (
        [
            day.isoformat(),
            number,
            patron_number,
            lender_name or "",
            lender_code or "",
            class_labels.get(payment_class, payment_class),
            budget_code or "",
            copy_fee,
            postage,
            other_fees,
            tax,
            total,
            state_labels.get(state, state),
        ]
        for (
            day,
            number,
            patron_number,
            lender_name,
            lender_code,
            payment_class,
            budget_code,
            copy_fee,
            postage,
            other_fees,
            tax,
            total,
            state,
        ) in charges_detail(period).iterator(chunk_size=DB_CHUNK_ROWS)
    )
    return _csv_stream(f"ill-charges-{period.slug}-detail.csv", header, rows)
