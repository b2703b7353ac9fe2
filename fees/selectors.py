"""Reads about money: which budget codes a patron may charge."""

from django.db.models import Q

from fees.models import BudgetCode, current_fiscal_year


def budget_codes_for(patron, fiscal_year: int | None = None):
    """Codes this patron may charge: registered for this fiscal year, active, usable for ILL, and
    the patron is a member of the code or of the laboratory it belongs to (DESIGN.md §3.6)."""
    fiscal_year = fiscal_year or current_fiscal_year()
    membership = Q(members=patron)
    if patron.laboratory_id:
        membership |= Q(laboratory_id=patron.laboratory_id)
    return (
        BudgetCode.objects.filter(membership, fiscal_year=fiscal_year, active=True, usable_for_ill=True)
        .distinct()
        .order_by("code")
    )


def fiscal_year_bounds(fiscal_year: int):
    """Aware datetimes of 1 April of the year and 1 April of the next, in the site's time zone."""
    import datetime

    from django.utils import timezone

    start = timezone.make_aware(datetime.datetime(fiscal_year, 4, 1))
    end = timezone.make_aware(datetime.datetime(fiscal_year + 1, 4, 1))
    return start, end


def charges_summary(fiscal_year: int):
    """Charges of a fiscal year by month, payment class and budget code (DESIGN.md §10)."""
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncMonth

    from fees.models import Charge

    start, end = fiscal_year_bounds(fiscal_year)
    return (
        Charge.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "payment_class", "budget_code__code", "budget_code__name")
        .annotate(count=Count("pk"), total=Sum("total"))
        .order_by("month", "payment_class", "budget_code__code")
    )


def charges_detail(fiscal_year: int):
    from fees.models import Charge

    start, end = fiscal_year_bounds(fiscal_year)
    return (
        Charge.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("request__patron", "request__lender", "budget_code")
        .order_by("created_at", "pk")
    )


def cash_to_pay(patron) -> int:
    """What the patron has to bring in cash: charges due, less what is paid later in stamps."""
    from django.db.models import F, Sum

    from fees.models import Charge

    return (
        Charge.objects.filter(
            request__patron=patron, state=Charge.State.DUE, payment_class=Charge.PaymentClass.PRIVATE
        ).aggregate(total=Sum(F("total") - F("return_postage")))["total"]
        or 0
    )


def budget_positions(codes) -> dict:
    """The position of several budget codes in one query: {code pk: BudgetPosition}."""
    from django.db.models import Sum

    from fees.models import BudgetLedgerEntry
    from fees.services import BudgetPosition

    codes = list(codes)
    totals = {}
    rows = (
        BudgetLedgerEntry.objects.filter(budget_code__in=codes)
        .values("budget_code", "entry_type")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        totals.setdefault(row["budget_code"], {})[row["entry_type"]] = row["total"] or 0
    positions = {}
    for code in codes:
        t = totals.get(code.pk, {})
        positions[code.pk] = BudgetPosition(
            limit=code.limit, committed=t.get("commitment", 0) + t.get("release", 0), charged=t.get("charge", 0)
        )
    return positions
