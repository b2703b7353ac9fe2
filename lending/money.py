"""Money as a lender (DESIGN.md §5, §11): our own fee schedule priced with the same calculator, the charge
sent with each shipment, fee-offset entries for participants and invoices for the others.

A `LendingCharge` is created by `services.ship` (one per shipped request). Its settlement is "offset"
for a borrower that takes part in the fee-offset scheme (`LendingInstitution.is_offset_participant`),
"invoice" for the others, "free" when the total is zero (created settled: state "paid", nothing owed).
States:

    open ──► invoiced ──► paid          (invoice; cancelling the invoice puts its charges back to open)
    open ──► offset_recorded ──► paid   (offset: settled through the national fee-offset statement)
    open | offset_recorded ──► waived   (with a reason; an invoiced charge: cancel the invoice first)

Amounts are whole yen, tax-inclusive; the consumption-tax part is what the fee schedule computes (the
tax line when prices exclude tax; floor(total × rate / (100 + rate)) when they include it).
Every function that changes money is one transaction, locks the rows it changes (charges in primary-key
order, so two callers cannot deadlock) and writes a LendingEvent on each request concerned.
"""

import datetime
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import bounds
from core.errors import ServiceError, TransitionNotAllowed
from core.text import format_date, format_yen
from fees import calculator
from fees.models import Delivery, fiscal_year_of
from fees.schedules import calculator_schedule, copy_item_for
from lending.models import BorrowerTerms, Invoice, LendingCharge, LendingEvent, LendingRequest, OurFeeSchedule
from lending.numbers import next_invoice_number

State = LendingCharge.State
Settlement = LendingRequest.Settlement
DEFAULT_PAYMENT_TERMS_DAYS = 30
REGISTRATION_NUMBER = re.compile(r"^T\d{13}$")

NO_CHARGES = _("Choose at least one charge.")
CHARGES_NOT_FOUND = _("Some of the chosen charges do not exist (any more).")
NOT_INVOICEABLE = _(
    "These charges cannot be put on an invoice to %(library)s: %(numbers)s. Only open charges of this library "
    "that are settled by invoice can (fee-offset participants are settled through the fee-offset statement)."
)
NOT_OFFSETTABLE = _(
    "These charges cannot be entered for fee-offset: %(numbers)s. Only open charges settled by fee-offset can."
)
NOT_OFFSET_RECORDED = _("These charges were not entered for fee-offset: %(numbers)s.")
INVOICE_TOO_LARGE = _("An invoice can total at most %(max)s; choose fewer charges.")
BAD_REGISTRATION = _(
    "The invoice registration number configured (LENDING_INVOICE_REGISTRATION_NUMBER) is not “T” and 13 digits: "
    "%(value)s. Ask the administrator to correct it before issuing invoices."
)
INVOICE_CANCELLED = _("Invoice %(number)s was cancelled.")
INVOICE_ALREADY_PAID = _("Invoice %(number)s was already paid on %(date)s.")
PARTIAL_PAYMENT = _(
    "Invoice %(number)s is for %(total)s, but %(amount)s was entered. Partial payments are not recorded: "
    "record the payment when the whole amount has arrived, or ask the library about the difference."
)
AMOUNT_NOT_WHOLE = _("Enter the amount paid as a whole number of yen.")
PAID_ON_FUTURE = _("The payment date cannot be in the future.")
PAID_ON_NEEDED = _("Give the date of the payment.")
PAID_BEFORE_ISSUED = _("The payment date cannot be before the invoice date (%(date)s).")
ISSUED_ON_FUTURE = _("The invoice date cannot be in the future.")
REASON_REQUIRED = _("Give the reason.")
REASON_TOO_LONG = _("Keep the reason to %(max)d characters.")
CANNOT_WAIVE = _("The charge of %(number)s is “%(state)s”: it can no longer be waived.")
WAIVE_INVOICED = _("The charge of %(number)s is on invoice %(invoice)s: cancel the invoice first, then waive it.")
FAX_NOT_OFFERED = _(
    "Our fee schedule offers no FAX / electronic delivery: choose mail or express, or enter the charge."
)
LOAN_QUOTED = _("Our fee schedule quotes loans case by case: enter the charge.")
PAGES_NEEDED = _("Give the number of pages copied, so that the copy can be priced (or enter the charge).")
TOO_EXPENSIVE = _("The computed charge %(total)s is above %(max)s: check the pages and our fee schedule.")


def _refuse_numbers(message, charges, **params):
    numbers = ", ".join(c.request.number for c in charges)
    raise ServiceError(message, code="charges_refused", params={"numbers": numbers, **params})


# --- pricing ----------------------------------------------------------------------------------


def current_schedule() -> OurFeeSchedule:
    """Our fee schedule (the one row; created with zero prices and free loans when missing)."""
    schedule, _created = OurFeeSchedule.objects.get_or_create(singleton=True)
    return schedule


def calculator_schedule_for(borrower) -> calculator.FeeSchedule:
    """Our schedule as the calculator sees it, for `borrower` (overseas pricing when not domestic)."""
    return calculator_schedule(current_schedule(), overseas=not borrower.is_domestic, paper_prices=[])


def included_tax(schedule: calculator.FeeSchedule, priced) -> int:
    """The consumption tax in a Breakdown's (or Share's) total: its tax line when our prices exclude tax,
    else the part included in the prices, floor(total × rate / (100 + rate))."""
    if not schedule.tax_included:
        return priced.tax
    rate = schedule.tax_rate_percent
    return priced.total * rate // (100 + rate) if rate else 0


def price_request(req, *, shipping_method: str) -> calculator.Breakdown:
    """What one shipped request costs them with our schedule: copies by pages (mono/colour, paper size)
    and delivery; loans by our loan fee (express when shipping_method is "express").
    Raises ServiceError (field "charge" or "shipping_method") when the schedule cannot price it."""
    schedule = calculator_schedule_for(req.borrower)
    try:
        if req.is_loan:
            return calculator.price_loans(schedule, [req.pk], express=shipping_method == Delivery.EXPRESS)
        if not req.page_count and not schedule.overseas:
            raise ServiceError(PAGES_NEEDED, code="pages_needed", field="page_count")
        return calculator.price_copies(schedule, [copy_item_for(req)], delivery=shipping_method)
    except calculator.FaxNotAvailable:
        raise ServiceError(FAX_NOT_OFFERED, code="fax_not_offered", field="shipping_method") from None
    except calculator.NeedsQuote:
        raise ServiceError(LOAN_QUOTED, code="needs_quote", field="charge") from None
    except calculator.TooExpensive as exc:
        params = {"total": format_yen(exc.total), "max": format_yen(calculator.MAX_TOTAL)}
        raise ServiceError(TOO_EXPENSIVE, code="too_expensive", field="charge", params=params) from None


def settlement_for(borrower, total: int) -> str:
    """ "free" when total is 0, "offset" for a fee-offset participant, "invoice" otherwise."""
    if total == 0:
        return Settlement.FREE
    return Settlement.OFFSET if borrower.is_offset_participant else Settlement.INVOICE


def _line_dict(line: calculator.Line) -> dict:
    return {
        "code": line.code,
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "amount": line.amount,
        "section": line.section,
    }


def create_charge(req, *, breakdown: calculator.Breakdown | None = None, total: int | None = None, actor=None):
    """The LendingCharge for a request being shipped (called by services.ship inside its transaction):
    lines from the breakdown, or a single "agreed" line when only `total` is given (tax part computed
    as included in it at our schedule's rate)."""
    if breakdown is not None:
        schedule = calculator_schedule_for(req.borrower)
        share = breakdown.share_for(req.pk)
        values = {
            "lines": [_line_dict(line) for line in share.lines],
            "copy_fee": share.copy_fee,
            "postage": share.postage,
            "other_fees": share.other_fees,
            "tax": included_tax(schedule, share),
            "total": share.total,
        }
    else:
        rate = current_schedule().tax_rate_percent
        values = {
            "lines": [{"code": "agreed", "unit_price": total, "quantity": 1, "amount": total, "section": "C"}]
            if total
            else [],
            "other_fees": total,
            "tax": total * rate // (100 + rate) if rate else 0,
            "total": total,
        }
    settlement = settlement_for(req.borrower, values["total"])
    state = State.PAID if settlement == Settlement.FREE else State.OPEN
    return LendingCharge.objects.create(
        request=req, borrower=req.borrower, settlement=settlement, state=state, **values
    )


# --- helpers ----------------------------------------------------------------------------------


def _event(req, action: str, *, actor, note: str = "", data: dict | None = None) -> LendingEvent:
    return LendingEvent.objects.create(
        request=req,
        action=action,
        from_status=req.status,
        to_status=req.status,
        actor=actor,
        note=note,
        data=data or {},
    )


def _lock_charges(charges) -> list[LendingCharge]:
    ids = sorted({c.pk if isinstance(c, LendingCharge) else int(c) for c in charges})
    if not ids:
        raise ServiceError(NO_CHARGES, code="no_charges")
    locked = list(
        LendingCharge.objects.select_for_update(of=("self",))
        .select_related("request")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(locked) != len(ids):
        raise ServiceError(CHARGES_NOT_FOUND, code="charges_not_found")
    return locked


def _plain(text: str) -> str:
    """Typed text as stored: NUL bytes dropped (PostgreSQL refuses them in a text column: a 500)."""
    return (text or "").replace("\x00", "").strip()


def _reason(reason: str, *, max_length: int = 300) -> str:
    reason = _plain(reason)
    if not reason:
        raise ServiceError(REASON_REQUIRED, code="reason_required", field="reason")
    if len(reason) > max_length:
        raise ServiceError(REASON_TOO_LONG, code="reason_too_long", field="reason", params={"max": max_length})
    return reason


def issuer_details() -> dict:
    """Our name, address, phone, e-mail and qualified-invoice registration number, as configured."""
    issuer = {key: str(value or "").strip() for key, value in getattr(settings, "LENDING_INVOICE_ISSUER", {}).items()}
    number = issuer.get("registration_number", "")
    if number and not REGISTRATION_NUMBER.match(number):
        raise ServiceError(BAD_REGISTRATION, code="bad_registration_number", params={"value": number})
    return issuer


def bank_details() -> dict:
    return {key: str(value or "").strip() for key, value in getattr(settings, "LENDING_BANK_DETAILS", {}).items()}


def payment_terms_days(borrower) -> int:
    terms = BorrowerTerms.objects.filter(library=borrower).first()
    return terms.payment_terms_days if terms is not None else DEFAULT_PAYMENT_TERMS_DAYS


# --- invoices ---------------------------------------------------------------------------------


def invoice_tax(charges, rate: int) -> int:
    """The consumption tax of an invoice, computed once on its tax-inclusive total (a qualified invoice,
    適格請求書, rounds the tax once per invoice and rate, not per line): floor(total × rate / (100 + rate))
    at our schedule's rate (every charge is taxed at it). Without a rate configured now, the charges' own
    tax parts are added up."""
    if not rate:
        return sum(c.tax for c in charges)
    return sum(c.total for c in charges) * rate // (100 + rate)


@transaction.atomic
def issue_invoice(borrower, charges, *, actor, issued_on: datetime.date | None = None) -> Invoice:
    """One invoice for `charges` (LendingCharges or their ids, of `borrower`, open and invoice-settled;
    anything else is refused with a ServiceError naming the requests). Number "INV-2026-0001" per fiscal
    year, race-free. due_on = issued_on + BorrowerTerms.payment_terms_days (30 without terms). The
    issuer and bank details are copied onto the invoice. The charges become "invoiced"."""
    today = timezone.localdate()
    issued_on = issued_on or today
    if issued_on > today:
        raise ServiceError(ISSUED_ON_FUTURE, code="issued_on_future", field="issued_on")
    issuer = issuer_details()
    locked = _lock_charges(charges)
    wrong = [
        c for c in locked if c.borrower_id != borrower.pk or c.settlement != Settlement.INVOICE or c.state != State.OPEN
    ]
    if wrong:
        _refuse_numbers(NOT_INVOICEABLE, wrong, library=borrower.display_name)
    total = sum(c.total for c in locked)
    if total > bounds.MAX_BUDGET:
        raise ServiceError(INVOICE_TOO_LARGE, code="invoice_too_large", params={"max": format_yen(bounds.MAX_BUDGET)})
    rate = current_schedule().tax_rate_percent  # stated on the invoice: a later change of it does not alter it
    invoice = Invoice.objects.create(
        number=next_invoice_number(issued_on),
        borrower=borrower,
        fiscal_year=fiscal_year_of(issued_on),
        issued_on=issued_on,
        due_on=issued_on + datetime.timedelta(days=payment_terms_days(borrower)),
        total=total,
        tax=invoice_tax(locked, rate),
        tax_rate_percent=rate,
        issuer=issuer,
        bank_details=bank_details(),
        lines=[
            {
                "charge": c.pk,
                "request": c.request.number,
                "title": (c.request.article_title or c.request.title)[:200],
                "total": c.total,
                "tax": c.tax,
            }
            for c in locked
        ],
        issued_by=actor,
    )
    for charge in locked:
        charge.state = State.INVOICED
        charge.invoice = invoice
        charge.save(update_fields=["state", "invoice", "updated_at"])
        _event(charge.request, "invoice_issued", actor=actor, data={"invoice": invoice.number, "charge": charge.total})
    return invoice


def _check_paid_on(paid_on) -> None:
    if not isinstance(paid_on, datetime.date):
        raise ServiceError(PAID_ON_NEEDED, code="paid_on_required", field="paid_on")
    if paid_on > timezone.localdate():
        raise ServiceError(PAID_ON_FUTURE, code="paid_on_future", field="paid_on")


def _lock_invoice(invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


def _ensure_open(invoice: Invoice) -> None:
    if invoice.cancelled:
        raise TransitionNotAllowed(INVOICE_CANCELLED, code="invoice_cancelled", params={"number": invoice.number})
    if invoice.paid_on is not None:
        raise TransitionNotAllowed(
            INVOICE_ALREADY_PAID,
            code="invoice_paid",
            params={"number": invoice.number, "date": format_date(invoice.paid_on)},
        )


def _invoice_charges(invoice: Invoice) -> list[LendingCharge]:
    return list(
        LendingCharge.objects.select_for_update(of=("self",))
        .select_related("request")
        .filter(invoice=invoice)
        .order_by("pk")
    )


@transaction.atomic
def record_payment(invoice, *, actor, paid_on: datetime.date, amount: int) -> Invoice:
    """The invoice was paid on `paid_on`. `amount` must equal the total (partial payments are refused
    with a message); a cancelled or already paid invoice is refused (409). Its charges become "paid"."""
    invoice = _lock_invoice(invoice)
    _ensure_open(invoice)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ServiceError(AMOUNT_NOT_WHOLE, code="amount_invalid", field="amount")
    _check_paid_on(paid_on)
    if paid_on < invoice.issued_on:
        raise ServiceError(
            PAID_BEFORE_ISSUED,
            code="paid_before_issued",
            field="paid_on",
            params={"date": format_date(invoice.issued_on)},
        )
    if amount != invoice.total:
        params = {"number": invoice.number, "total": format_yen(invoice.total), "amount": format_yen(amount)}
        raise ServiceError(PARTIAL_PAYMENT, code="partial_payment", field="amount", params=params)
    invoice.paid_on = paid_on
    invoice.paid_amount = amount
    invoice.payment_recorded_by = actor
    invoice.save(update_fields=["paid_on", "paid_amount", "payment_recorded_by"])
    for charge in _invoice_charges(invoice):
        charge.state = State.PAID
        charge.paid_on = paid_on
        charge.save(update_fields=["state", "paid_on", "updated_at"])
        _event(charge.request, "payment_recorded", actor=actor, data={"invoice": invoice.number})
    return invoice


@transaction.atomic
def cancel_invoice(invoice, *, actor, reason: str) -> Invoice:
    """Cancel an unpaid invoice (a mistake): its charges go back to "open" so they can be invoiced again.
    The number is not reused; the invoice keeps its lines as issued (`Invoice.lines`)."""
    reason = _reason(reason)
    invoice = _lock_invoice(invoice)
    _ensure_open(invoice)
    invoice.cancelled = True
    invoice.cancelled_reason = reason
    invoice.save(update_fields=["cancelled", "cancelled_reason"])
    for charge in _invoice_charges(invoice):
        charge.state = State.OPEN
        charge.invoice = None
        charge.save(update_fields=["state", "invoice", "updated_at"])
        _event(charge.request, "invoice_cancelled", actor=actor, note=reason, data={"invoice": invoice.number})
    return invoice


# --- waivers and fee-offset -----------------------------------------------------------------


@transaction.atomic
def waive(charge, *, actor, reason: str) -> LendingCharge:
    """We do not ask for this charge after all (reason required). Not possible once paid or waived, nor
    while it is on an invoice (cancel the invoice first)."""
    reason = _reason(reason)
    (charge,) = _lock_charges([charge])
    if charge.state == State.INVOICED:
        raise TransitionNotAllowed(
            WAIVE_INVOICED, code="charge_invoiced", params={"number": charge.request.number, "invoice": charge.invoice}
        )
    if charge.state not in (State.OPEN, State.OFFSET_RECORDED):
        raise TransitionNotAllowed(
            CANNOT_WAIVE,
            code="charge_settled",
            params={"number": charge.request.number, "state": charge.get_state_display()},
        )
    charge.state = State.WAIVED
    charge.waived_reason = reason
    charge.waived_by = actor
    charge.save(update_fields=["state", "waived_reason", "waived_by", "updated_at"])
    _event(charge.request, "charge_waived", actor=actor, note=reason, data={"charge": charge.total})
    return charge


@transaction.atomic
def record_offset(charges, *, actor, statement_ref: str = "") -> list[LendingCharge]:
    """Record that `charges` (open, offset-settled) were entered on the fee-offset statement
    (`statement_ref`, e.g. the statement's period). They become "offset_recorded". Returns the charges."""
    statement_ref = _plain(statement_ref)[:100]
    locked = _lock_charges(charges)
    wrong = [c for c in locked if c.settlement != Settlement.OFFSET or c.state != State.OPEN]
    if wrong:
        _refuse_numbers(NOT_OFFSETTABLE, wrong)
    now = timezone.now()
    for charge in locked:
        charge.state = State.OFFSET_RECORDED
        charge.offset_recorded_at = now
        charge.offset_statement_ref = statement_ref
        charge.save(update_fields=["state", "offset_recorded_at", "offset_statement_ref", "updated_at"])
        _event(
            charge.request, "offset_recorded", actor=actor, data={"statement": statement_ref, "charge": charge.total}
        )
    return locked


@transaction.atomic
def record_offset_settled(charges, *, actor, paid_on: datetime.date, statement_ref: str = "") -> list[LendingCharge]:
    """The fee-offset statement was settled: offset_recorded charges become "paid"."""
    _check_paid_on(paid_on)
    locked = _lock_charges(charges)
    wrong = [c for c in locked if c.state != State.OFFSET_RECORDED]
    if wrong:
        _refuse_numbers(NOT_OFFSET_RECORDED, wrong)
    statement_ref = _plain(statement_ref)[:100]
    for charge in locked:
        charge.state = State.PAID
        charge.paid_on = paid_on
        if statement_ref:
            charge.offset_statement_ref = statement_ref
        charge.save(update_fields=["state", "paid_on", "offset_statement_ref", "updated_at"])
        _event(charge.request, "offset_settled", actor=actor, data={"statement": charge.offset_statement_ref})
    return locked
