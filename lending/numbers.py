"""Numbers handed out by the lending side, per fiscal year (April–March) and race-free.

Like `ill.services.intake.next_request_number`, the counter row is incremented with one UPDATE
(`last = last + 1`), which locks it until the caller's transaction ends: two transactions taking a
number at once are serialised on that row, and a rolled-back one gives its number back.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fees.models import fiscal_year_of
from lending.models import NumberCounter

LENDING, INVOICE = "lending", "invoice"


def _next(series: str, year: int) -> int:
    """The next number of `series` in fiscal `year`; must run inside a transaction."""
    counters = NumberCounter.objects.filter(series=series, year=year)
    if not counters.update(last=F("last") + 1):
        try:
            with transaction.atomic():  # the first number of the year: two may try to create the row
                NumberCounter.objects.create(series=series, year=year, last=0)
        except IntegrityError:
            pass  # the other one created it; the UPDATE below waits for its transaction
        counters.update(last=F("last") + 1)
    return counters.values_list("last", flat=True).get()


def next_lending_number(today: datetime.date | None = None) -> str:
    """ "L26-000123": L, the fiscal year's last two digits, six digits counted per fiscal year."""
    year = fiscal_year_of(today or timezone.localdate())
    return f"L{year % 100:02d}-{_next(LENDING, year):06d}"


def next_invoice_number(today: datetime.date | None = None) -> str:
    """ "INV-2026-0001": the fiscal year and four digits (more when a year has more invoices)."""
    year = fiscal_year_of(today or timezone.localdate())
    return f"INV-{year}-{_next(INVOICE, year):04d}"
