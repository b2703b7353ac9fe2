"""Staff pages about money: the charges report for the accounting office, with CSV exports."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext

from core.text import int_param
from fees.models import Charge, current_fiscal_year
from fees.selectors import charges_detail, charges_summary
from patrons.permissions import desk_required

CLASS_LABELS = dict(Charge.PaymentClass.choices)
PRIVATE_PAID = _lazy("Private expense, paid")
PRIVATE_UNPAID = _lazy("Private expense, not paid yet")


def total_group(payment_class: str, state: str) -> str:
    """Where a charge counts in the totals: private charges apart by paid and not paid, so that the
    cash received is not mixed with what patrons still owe; budget and support charges by class."""
    if payment_class == Charge.PaymentClass.PRIVATE:
        return str(PRIVATE_PAID if state == Charge.State.PAID else PRIVATE_UNPAID)
    return str(CLASS_LABELS.get(payment_class, payment_class))


def _fiscal_year(request) -> int:
    year = int_param(request.GET.get("year"), current_fiscal_year())
    return min(max(year, 2000), 2100)


@desk_required
def charges_report(request):
    year = _fiscal_year(request)
    rows = list(charges_summary(year))
    fmt = request.GET.get("format")
    if fmt == "csv":
        return _summary_csv(year, rows)
    if fmt == "detail":
        return _detail_csv(year)
    by_class = {}
    for row in rows:
        group = total_group(row["payment_class"], row["state"])
        by_class[group] = by_class.get(group, 0) + (row["total"] or 0)
    return render(
        request,
        "fees/charges_report.html",
        {
            "year": year,
            "rows": rows,
            "class_labels": CLASS_LABELS,
            "state_labels": dict(Charge.State.choices),
            "by_class": sorted(by_class.items()),
            "grand_total": sum(by_class.values()),
            "years": range(current_fiscal_year(), current_fiscal_year() - 6, -1),
        },
    )


def _csv_response(filename: str):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # BOM: Excel then reads the Japanese correctly
    return response


def _summary_csv(year: int, rows):
    response = _csv_response(f"ill-charges-FY{year}.csv")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Month"),
            _("Payment class"),
            _("Budget code"),
            _("Budget name"),
            _("State"),
            pgettext("column", "Requests"),
            _("Total (yen)"),
        ]
    )
    for row in rows:
        month = timezone.localtime(row["month"]).strftime("%Y-%m") if row["month"] else ""
        writer.writerow(
            [
                month,
                CLASS_LABELS.get(row["payment_class"], row["payment_class"]),
                row["budget_code__code"] or "",
                row["budget_code__name"] or "",
                dict(Charge.State.choices).get(row["state"], row["state"]),
                row["count"],
                row["total"],
            ]
        )
    return response


def _detail_csv(year: int):
    """One line per charge, with the fields of the NACSIS-ILL fee-offset record (CHRGE, POSTG, SUM, ACCT)."""
    response = _csv_response(f"ill-charges-FY{year}-detail.csv")
    writer = csv.writer(response)
    writer.writerow(
        [
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
    )
    for charge in charges_detail(year).iterator(chunk_size=500):
        request = charge.request
        writer.writerow(
            [
                timezone.localtime(charge.created_at).strftime("%Y-%m-%d"),
                request.number,
                request.patron.patron_number,
                request.lender.name if request.lender else "",
                request.lender.code if request.lender else "",
                CLASS_LABELS.get(charge.payment_class, charge.payment_class),
                charge.budget_code.code if charge.budget_code else "",
                charge.copy_fee,
                charge.postage,
                charge.other_fees,
                charge.tax,
                charge.total,
                charge.get_state_display(),
            ]
        )
    return response
