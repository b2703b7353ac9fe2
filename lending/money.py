"""Money as a lender (DESIGN.md §5, §11): our own fee schedule priced with the same calculator, the charge
sent with each shipment, fee-offset entries for participants and invoices for the others.

A `LendingCharge` is created by `services.ship` (one per shipped request). Its settlement is "offset"
for a borrower that takes part in the fee-offset scheme (`LendingInstitution.is_offset_participant`),
"invoice" for the others, "free" when the total is zero. States:

    open ──► invoiced ──► paid          (invoice)
    open ──► offset_recorded ──► paid   (offset: settled through the national fee-offset statement)
    open|invoiced|offset_recorded ──► waived

Amounts are whole yen, tax-inclusive; the consumption-tax part is what the fee schedule computes.
"""

import datetime

from fees import calculator


def current_schedule():
    """Our fee schedule (`lending.OurFeeSchedule`, the one row; created with zero prices when missing)."""
    raise NotImplementedError


def calculator_schedule_for(borrower) -> calculator.FeeSchedule:
    """Our schedule as the calculator sees it, for `borrower` (overseas pricing when not domestic)."""
    raise NotImplementedError


def price_request(req, *, shipping_method: str) -> calculator.Breakdown:
    """What one shipped request costs them with our schedule: copies by pages (mono/colour, paper size)
    and delivery; loans by our loan fee (express when shipping_method is "express").
    Raises ServiceError when the schedule cannot price it (FAX not offered, loans quoted case by case)."""
    raise NotImplementedError


def settlement_for(borrower, total: int) -> str:
    """ "free" when total is 0, "offset" for a fee-offset participant, "invoice" otherwise."""
    raise NotImplementedError


def create_charge(req, *, breakdown: calculator.Breakdown | None = None, total: int | None = None, actor=None):
    """The LendingCharge for a request being shipped (called by services.ship inside its transaction):
    lines from the breakdown, or a single "agreed" line when only `total` is given."""
    raise NotImplementedError


def issue_invoice(borrower, charges, *, actor, issued_on: datetime.date | None = None):
    """One invoice for `charges` (LendingCharges of `borrower`, open and invoice-settled; anything else is
    refused with a ServiceError). Number "INV-2026-0001" per fiscal year, race-free. due_on = issued_on +
    BorrowerTerms.payment_terms_days (30 without terms). The charges become "invoiced". Returns Invoice."""
    raise NotImplementedError


def record_payment(invoice, *, actor, paid_on: datetime.date, amount: int):
    """The invoice was paid on `paid_on`. `amount` must equal the total (partial payments are refused
    with a message); a cancelled or already paid invoice is refused. Its charges become "paid"."""
    raise NotImplementedError


def cancel_invoice(invoice, *, actor, reason: str):
    """Cancel an unpaid invoice (a mistake): its charges go back to "open" so they can be invoiced again."""
    raise NotImplementedError


def waive(charge, *, actor, reason: str):
    """We do not ask for this charge after all (reason required). Not possible once paid, nor while it is
    on an open invoice (cancel the invoice first)."""
    raise NotImplementedError


def record_offset(charges, *, actor, statement_ref: str = ""):
    """Record that `charges` (open, offset-settled) were entered on the fee-offset statement
    (`statement_ref`, e.g. the statement's period). They become "offset_recorded". Returns the charges."""
    raise NotImplementedError


def record_offset_settled(charges, *, actor, paid_on: datetime.date, statement_ref: str = ""):
    """The fee-offset statement was settled: offset_recorded charges become "paid"."""
    raise NotImplementedError
