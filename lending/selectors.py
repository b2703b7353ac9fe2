"""Read-only questions about lending requests: overdue and recalled loans, open money.

Overdue and recalled are derived, never stored as a status: a loan is overdue when it is out with them
(shipped or on loan) and its due date is before today; recalled when `recalled_at` is set.
"""

import datetime

from django.db.models import Q, QuerySet


def is_overdue(req, today: datetime.date | None = None) -> bool:
    """A loan of ours still out with them whose due date is before `today` (default: local today)."""
    raise NotImplementedError


def overdue_q(today: datetime.date | None = None) -> Q:
    """The filter for `is_overdue` on LendingRequest."""
    raise NotImplementedError


def is_recalled(req) -> bool:
    """A loan out with them that we have recalled."""
    raise NotImplementedError


def recalled_q() -> Q:
    """The filter for `is_recalled` on LendingRequest."""
    raise NotImplementedError


def overdue_loans(today: datetime.date | None = None) -> QuerySet:
    """Loans out with them past their due date, the most overdue first."""
    raise NotImplementedError


def recalled_loans() -> QuerySet:
    """Loans we recalled that are not back yet, the earliest due first."""
    raise NotImplementedError


def open_charges(borrower=None) -> QuerySet:
    """LendingCharges not yet settled (open, invoiced or offset recorded), optionally of one borrower."""
    raise NotImplementedError


def invoiceable_charges(borrower) -> QuerySet:
    """Open charges of `borrower` that are settled by invoice (what `money.issue_invoice` accepts)."""
    raise NotImplementedError


def open_invoices(borrower=None) -> QuerySet:
    """Invoices issued, not cancelled, not paid; optionally of one borrower."""
    raise NotImplementedError


def overdue_invoices(today: datetime.date | None = None) -> QuerySet:
    """Open invoices past their due date."""
    raise NotImplementedError
