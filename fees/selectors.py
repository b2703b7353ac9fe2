"""Reads about money for the desk and the accounting office."""

import datetime

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from fees.models import Charge


def fiscal_year_bounds(fiscal_year: int):
    """Aware datetimes of 1 April of the year and 1 April of the next, in the site's time zone."""
    start = timezone.make_aware(datetime.datetime(fiscal_year, 4, 1))
    end = timezone.make_aware(datetime.datetime(fiscal_year + 1, 4, 1))
    return start, end


def charges_summary(fiscal_year: int):
    """Charges of a fiscal year by month, payment class, state and budget code (DESIGN.md §10)."""
    start, end = fiscal_year_bounds(fiscal_year)
    return (
        Charge.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "payment_class", "state", "budget_code__code", "budget_code__name")
        .annotate(count=Count("pk"), total=Sum("total"))
        .order_by("month", "payment_class", "state", "budget_code__code")
    )


def charges_detail(fiscal_year: int):
    start, end = fiscal_year_bounds(fiscal_year)
    return (
        Charge.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("request__patron", "request__lender", "budget_code")
        .order_by("created_at", "pk")
    )


def cash_to_pay(patron) -> int:
    """What the patron has to bring in cash: charges due, less what is paid later in stamps."""
    return (
        Charge.objects.filter(
            request__patron=patron, state=Charge.State.DUE, payment_class=Charge.PaymentClass.PRIVATE
        ).aggregate(total=Sum(F("total") - F("return_postage")))["total"]
        or 0
    )
