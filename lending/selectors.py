"""Read-only questions about lending requests: overdue and recalled loans, open money.

Overdue and recalled are derived, never stored as a status: a loan is overdue when it is out with them
(shipped or on loan) and its due date is before today; recalled when `recalled_at` is set while it is out.
"""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from lending import lifecycle
from lending.models import Invoice, LendingCharge, LendingRequest

OUT = sorted(lifecycle.OUT_ON_LOAN_STATES)
UNSETTLED = (LendingCharge.State.OPEN, LendingCharge.State.INVOICED, LendingCharge.State.OFFSET_RECORDED)


def _out_on_loan_q() -> Q:
    return Q(kind=LendingRequest.Kind.LOAN, status__in=OUT)


def is_overdue(req, today: datetime.date | None = None) -> bool:
    """A loan of ours still out with them whose due date is before `today` (default: local today)."""
    today = today or timezone.localdate()
    return (
        req.kind == LendingRequest.Kind.LOAN
        and req.status in lifecycle.OUT_ON_LOAN_STATES
        and req.due_date is not None
        and req.due_date < today
    )


def overdue_q(today: datetime.date | None = None) -> Q:
    """The filter for `is_overdue` on LendingRequest."""
    return _out_on_loan_q() & Q(due_date__lt=today or timezone.localdate())


def is_recalled(req) -> bool:
    """A loan out with them that we have recalled."""
    return req.kind == LendingRequest.Kind.LOAN and req.status in lifecycle.OUT_ON_LOAN_STATES and bool(req.recalled_at)


def recalled_q() -> Q:
    """The filter for `is_recalled` on LendingRequest."""
    return _out_on_loan_q() & Q(recalled_at__isnull=False)


def overdue_loans(today: datetime.date | None = None) -> QuerySet:
    """Loans out with them past their due date, the most overdue first."""
    return LendingRequest.objects.filter(overdue_q(today)).select_related("borrower").order_by("due_date", "pk")


def recalled_loans() -> QuerySet:
    """Loans we recalled that are not back yet, the earliest due first."""
    return LendingRequest.objects.filter(recalled_q()).select_related("borrower").order_by("due_date", "pk")


def open_charges(borrower=None) -> QuerySet:
    """LendingCharges not yet settled (open, invoiced or offset recorded), optionally of one borrower."""
    charges = LendingCharge.objects.filter(state__in=UNSETTLED).select_related("request", "borrower")
    if borrower is not None:
        charges = charges.filter(borrower=borrower)
    return charges.order_by("created_at", "pk")


def invoiceable_charges(borrower) -> QuerySet:
    """Open charges of `borrower` that are settled by invoice (what `money.issue_invoice` accepts)."""
    return (
        LendingCharge.objects.filter(
            borrower=borrower, state=LendingCharge.State.OPEN, settlement=LendingCharge.Settlement.INVOICE
        )
        .select_related("request")
        .order_by("created_at", "pk")
    )


def offsettable_charges(borrower=None) -> QuerySet:
    """Open charges settled by fee-offset (what `money.record_offset` accepts)."""
    charges = LendingCharge.objects.filter(
        state=LendingCharge.State.OPEN, settlement=LendingCharge.Settlement.OFFSET
    ).select_related("request", "borrower")
    if borrower is not None:
        charges = charges.filter(borrower=borrower)
    return charges.order_by("created_at", "pk")


def open_invoices(borrower=None) -> QuerySet:
    """Invoices issued, not cancelled, not paid; optionally of one borrower."""
    invoices = Invoice.objects.filter(cancelled=False, paid_on__isnull=True).select_related("borrower")
    if borrower is not None:
        invoices = invoices.filter(borrower=borrower)
    return invoices.order_by("due_on", "pk")


def overdue_invoices(today: datetime.date | None = None) -> QuerySet:
    """Open invoices past their due date."""
    return open_invoices().filter(due_on__lt=today or timezone.localdate())
