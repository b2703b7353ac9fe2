"""Reads about money for the desk and the accounting office.

The charges report reads one period (a fiscal year or one month of it) through the index on
`created_at`: its totals are one aggregate query over the fiscal year, its table one page of one
month's rows, and its CSV files stream rows of values, never model objects.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, Sum, Value, When
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from fees.models import Charge

# Months of a fiscal year in order: April to March.
FISCAL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)

# One line of the detail CSV, in its columns' order (the view adds the labels). `day` is the date
# the charge was recorded, in the site's time zone, computed by the database (cheaper to read than
# a time with its zone, then converted and formatted in Python).
DETAIL_FIELDS = (
    "day",
    "request__number",
    "request__patron__patron_number",
    "request__lender__name",
    "request__lender__code",
    "payment_class",
    "budget_code__code",
    "copy_fee",
    "postage",
    "other_fees",
    "tax",
    "total",
    "state",
)


def fiscal_year_bounds(fiscal_year: int):
    """Aware datetimes of 1 April of the year and 1 April of the next, in the site's time zone."""
    start = timezone.make_aware(datetime.datetime(fiscal_year, 4, 1))
    end = timezone.make_aware(datetime.datetime(fiscal_year + 1, 4, 1))
    return start, end


@dataclass(frozen=True)
class Period:
    """What the charges report covers: a fiscal year (April–March), or one month of it."""

    fiscal_year: int
    month: int | None = None  # calendar month 1–12, inside the fiscal year

    @property
    def month_start(self) -> datetime.date | None:
        if self.month is None:
            return None
        year = self.fiscal_year if self.month >= 4 else self.fiscal_year + 1
        return datetime.date(year, self.month, 1)

    @property
    def bounds(self):
        if self.month is None:
            return fiscal_year_bounds(self.fiscal_year)
        first = self.month_start
        following = datetime.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return (
            timezone.make_aware(datetime.datetime(first.year, first.month, 1)),
            timezone.make_aware(datetime.datetime(following.year, following.month, 1)),
        )

    @property
    def slug(self) -> str:
        """For file names: FY2026, or FY2026-2026-05."""
        month = self.month_start
        return f"FY{self.fiscal_year}" + (f"-{month:%Y-%m}" if month else "")

    def months(self) -> list[datetime.date]:
        """First days of the months covered, in order."""
        if self.month is not None:
            return [self.month_start]
        return [Period(self.fiscal_year, m).month_start for m in FISCAL_MONTHS]


def _charges_in(period: Period):
    start, end = period.bounds
    return Charge.objects.filter(created_at__gte=start, created_at__lt=end)


def charge_totals(period: Period) -> list[dict]:
    """Count and total by month, payment class and state, for the report's cards and its table by
    month: one aggregate query, an index-only scan of the period's range of `charge_period`. The
    month is the first of the period's month ends the time is before (a CASE of comparisons), which
    costs less than truncating every row's time to its month in the site's time zone."""
    months = period.months()
    month_index = Case(
        *[
            When(created_at__lt=Period(period.fiscal_year, m.month).bounds[1], then=Value(i))
            for i, m in enumerate(months)
        ],
        output_field=IntegerField(),
    )
    groups = (
        _charges_in(period)
        .annotate(month_index=month_index)
        .values("month_index", "payment_class", "state")
        .annotate(count=Count("*"), total=Sum("total"))
        .order_by()  # sorted here: ordered, PostgreSQL would sort every row instead of hashing groups
    )
    rows = [
        {
            "month": months[group["month_index"]],
            "payment_class": group["payment_class"],
            "state": group["state"],
            "count": group["count"],
            "total": group["total"] or 0,
        }
        for group in groups
    ]
    return sorted(rows, key=lambda row: (row["month"], row["payment_class"], row["state"]))


def charges_summary(period: Period):
    """Charges of the period by month, payment class, state and budget code (DESIGN.md §10)."""
    return (
        _charges_in(period)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "payment_class", "state", "budget_code__code", "budget_code__name")
        .annotate(count=Count("pk"), total=Sum("total"))
        .order_by("month", "payment_class", "state", "budget_code__code", "budget_code__name")
    )


def charges_summary_page(period: Period, page: int, size: int):
    """One page of `charges_summary` and whether another follows, without counting the rows: the
    database groups the period (bounded by the index range) and returns `size` + 1 groups."""
    offset = (page - 1) * size
    rows = list(charges_summary(period)[offset : offset + size + 1])
    return rows[:size], len(rows) > size


def charges_detail(period: Period):
    """One tuple per charge of the period (DETAIL_FIELDS), oldest first, for a streamed CSV: values,
    not model objects, read in chunks through a server-side cursor on PostgreSQL."""
    return (
        _charges_in(period)
        .order_by("created_at", "pk")
        .annotate(day=TruncDate("created_at"))
        .values_list(*DETAIL_FIELDS)
    )


def cash_to_pay(patron) -> int:
    """What the patron has to bring in cash: charges due, less what is paid later in stamps."""
    return (
        Charge.objects.filter(
            request__patron=patron, state=Charge.State.DUE, payment_class=Charge.PaymentClass.PRIVATE
        ).aggregate(total=Sum(F("total") - F("return_postage")))["total"]
        or 0
    )
