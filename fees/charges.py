"""Charges at arrival, the patron's acceptance, payments at the counter (DESIGN.md §4, §5).

A charge's state moves only through `fees.states.CHARGE`. These functions price and store money;
the workflow (`ill.services`) calls them inside its own transaction and records the request's
events and e-mails.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.statemachine import NEW
from core.text import format_yen
from fees import budgets, calculator, schedules, support
from fees.models import PUBLIC_EXPENSES, Charge, ChargeLine, ExpenseType, Payment, Shipment
from fees.states import CHARGE

NOT_PAID = _("The charge of %(amount)s for request %(number)s has not been paid yet: record the payment first.")
NOT_ACCEPTED = _(
    "The charge of %(amount)s is above the patron's maximum of %(max)s and the patron has not accepted it yet."
)
CAMPUS_MAIL_NOT_POSSIBLE = _("Only public-expense copies from fee-offset lenders go to the laboratory by campus mail.")
CAMPUS_MAIL_NO_LAB = _("The patron belongs to no laboratory to send the copy to.")
WRONG_AMOUNT = _("The charge is %(due)s; cash must be the exact amount (no change is given), not %(amount)s.")
ALREADY_PAID = _("This charge has already been paid.")
NOTHING_DUE = _("Nothing is to be paid in cash for this request.")
NEED_RECEIPT = _("Enter the receipt number.")
RECEIPT_USED = _("Receipt number %(receipt)s has already been used for another payment.")
NO_CHARGE = _("There is no charge to pay for this request.")
NOTHING_TO_ACCEPT = _("There is no charge waiting for your acceptance.")
ADJUSTMENT_NEEDS_REASON = _("Give a reason when the charge differs from the computed amount.")
NO_SCHEDULE_NEEDS_TOTAL = _("%(lender)s has no fee schedule: enter the charge for request %(number)s.")
TOO_EXPENSIVE = _(
    "The charge would come to %(total)s, above the most a shipment may cost (%(max)s). Check the pages "
    "received and %(lender)s's fee schedule, or enter the charge the lender asks."
)
RETURN_POSTAGE_NOT_A_LOAN = _("Return postage is only for loans.")
WRONG_STAMPS = _("The return postage is %(due)s in stamps, not %(amount)s.")


def charge_of(request) -> Charge | None:
    return Charge.objects.filter(request=request).first()


def payment_class_for(request) -> str:
    """Who pays: the support budget when the request is linked to it (the link is removed when the
    order goes to a lender that does not qualify), otherwise the request's expense type."""
    if request.support_budget_id is not None:
        return Charge.PaymentClass.SUPPORT
    return {
        ExpenseType.PUBLIC: Charge.PaymentClass.PUBLIC,
        ExpenseType.GRANT: Charge.PaymentClass.GRANT,
    }.get(request.expense_type, Charge.PaymentClass.PRIVATE)


def _state_after_acceptance(charge: Charge) -> str:
    return Charge.State.DUE if charge.cash_due > 0 else Charge.State.SETTLED


def _first_state(request, charge: Charge) -> str:
    if request.max_cost is not None and charge.total > request.max_cost:
        return Charge.State.AWAITING_ACCEPTANCE
    return _state_after_acceptance(charge)


def _move(charge: Charge, action: str, target: str) -> None:
    if not CHARGE.can(action, charge.state or NEW, target=target):
        raise ServiceError(NOTHING_DUE, code=f"charge_{action}_not_allowed")
    charge.state = target


def campus_mail_allowed(request) -> bool:
    """Seed 004: public-expense copies from fee-offset lenders go to the lab by campus mail."""
    lender = request.lender
    return bool(request.is_copy and request.is_public_expense and lender and lender.is_offset_participant)


def check_ready_for_hand_over(request, *, campus_mail: bool = False) -> None:
    """Refuse a hand-over that the money rules do not allow yet (DESIGN.md §4, §5)."""
    charge = charge_of(request)
    if charge is not None:
        amounts = {"amount": format_yen(charge.total), "number": request.number, "max": format_yen(request.max_cost)}
        if charge.state == Charge.State.AWAITING_ACCEPTANCE:
            raise ServiceError(NOT_ACCEPTED, code="charge_not_accepted", params=amounts)
        if charge.state == Charge.State.DUE and charge.cash_due > 0:
            raise ServiceError(
                NOT_PAID, code="charge_not_paid", params={**amounts, "amount": format_yen(charge.cash_due)}
            )
    if campus_mail:
        if not campus_mail_allowed(request):
            raise ServiceError(CAMPUS_MAIL_NOT_POSSIBLE, code="campus_mail_not_possible")
        if request.patron.laboratory_id is None:
            raise ServiceError(CAMPUS_MAIL_NO_LAB, code="campus_mail_no_lab")


def preview_shipment(lender, items, delivery: str):
    """The breakdown a shipment would get, without saving anything (None when it cannot be priced)."""
    if not items:
        return None
    requests = [item.request for item in items]
    pages = {item.request.pk: (item.pages, item.colour_pages) for item in items}
    try:
        return schedules.price_items(lender, requests, pages, delivery)
    except calculator.TooExpensive as exc:
        raise _too_expensive(lender, exc.total) from exc


def _too_expensive(lender, total: int) -> ServiceError:
    return ServiceError(
        TOO_EXPENSIVE,
        code="charge_too_large",
        field="adjusted_total",
        params={"total": format_yen(total), "max": format_yen(calculator.MAX_TOTAL), "lender": lender.display_name},
    )


def record_shipment_charges(*, lender, items, delivery: str, actor, lender_invoice: str = "") -> dict:
    """Price what `lender` sent together with its schedule, store each request's share as its
    charge (itemised lines, payment class) and book it on the budget code or the support budget.

    `items` carry `request` (locked by the caller), `pages`, `colour_pages`, `adjusted_total` and
    `adjustment_reason`. Returns {request pk: Charge}. Call inside the arrival's transaction.
    """
    try:
        breakdown = preview_shipment(lender, items, delivery)
    except ServiceError as exc:
        if exc.code != "charge_too_large" or any(item.adjusted_total is None for item in items):
            raise
        breakdown = None  # staff entered what the lender asks for each: recorded as when there is no schedule
    if breakdown is None:
        for item in items:
            if item.adjusted_total is None:
                raise ServiceError(
                    NO_SCHEDULE_NEEDS_TOTAL,
                    code="charge_required",
                    field="adjusted_total",
                    params={"lender": lender.display_name, "number": item.request.number},
                )
    built = []
    for item in items:
        request = item.request
        share = breakdown.share_for(request.pk) if breakdown else None
        computed = share.total if share else 0
        total = computed if item.adjusted_total is None else item.adjusted_total
        reason = (item.adjustment_reason or "").strip()
        if total != computed and not reason:
            if share is None:
                reason = str(_("Amount entered by staff (no fee schedule)."))
            else:
                raise ServiceError(ADJUSTMENT_NEEDS_REASON, code="adjustment_reason", field="adjustment_reason")
        payment_class = payment_class_for(request)
        charge = Charge(
            request=request,
            payment_class=payment_class,
            budget_code=request.budget_code if payment_class in PUBLIC_EXPENSES else None,
            copy_fee=share.copy_fee if share else 0,
            postage=share.postage if share else 0,
            other_fees=share.other_fees if share else 0,
            tax=share.tax if share else 0,
            computed_total=computed,
            total=total,
            adjustment_reason=reason,
            adjustment=total - computed,
            return_postage=schedules.return_postage_for(request, lender, total),
            created_by=actor,
            state=NEW,
        )
        _move(charge, "record", _first_state(request, charge))
        built.append((charge, share))
    shipment_total = sum(charge.total for charge, _share in built)
    if shipment_total > calculator.MAX_TOTAL:  # staff's amounts, each bounded, may still add up past it
        raise _too_expensive(lender, shipment_total)
    shipment = Shipment.objects.create(
        lender=lender,
        delivery_method=delivery,
        lender_invoice=lender_invoice,
        total=shipment_total,
        recorded_by=actor,
    )
    charges = {}
    for charge, share in built:
        charge.shipment = shipment
        charge.save()
        if share is not None:
            ChargeLine.objects.bulk_create(
                [
                    ChargeLine(
                        charge=charge,
                        position=n,
                        code=line.code,
                        section=line.section,
                        unit_price=line.unit_price,
                        quantity=line.quantity,
                        amount=line.amount,
                    )
                    for n, line in enumerate(share.lines, start=1)
                ]
            )
        if charge.budget_code_id is not None:
            budgets.book_charge(charge.request, code_id=charge.budget_code_id, amount=charge.total, actor=actor)
        if charge.payment_class == Charge.PaymentClass.SUPPORT:
            support.book_charge(charge.request, amount=charge.total)
        charges[charge.request_id] = charge
    return charges


@transaction.atomic
def accept(request) -> Charge:
    """The patron accepts a charge above the maximum they set (DESIGN.md §2)."""
    charge = Charge.objects.select_for_update().filter(request=request).first()
    if charge is None or not CHARGE.can("accept", charge.state):
        raise ServiceError(NOTHING_TO_ACCEPT, code="nothing_to_accept")
    _move(charge, "accept", _state_after_acceptance(charge))
    charge.accepted_at = timezone.now()
    charge.save(update_fields=["state", "accepted_at"])
    return charge


@transaction.atomic
def record_payment(request, *, amount: int, receipt_number: str, actor) -> Payment:
    """Cash received at the counter: the exact amount, with a receipt number (seed 004)."""
    charge = Charge.objects.select_for_update().filter(request=request).first()
    if charge is None:
        raise ServiceError(NO_CHARGE, code="no_charge")
    if charge.state == Charge.State.PAID:
        raise ServiceError(ALREADY_PAID, code="already_paid")
    if not CHARGE.can("pay", charge.state) or charge.cash_due <= 0:
        raise ServiceError(NOTHING_DUE, code="nothing_due")
    if amount != charge.cash_due:
        raise ServiceError(
            WRONG_AMOUNT,
            code="wrong_amount",
            field="amount",
            params={"due": format_yen(charge.cash_due), "amount": format_yen(amount)},
        )
    receipt_number = receipt_number.strip()
    if not receipt_number:
        raise ServiceError(NEED_RECEIPT, code="receipt_required", field="receipt_number")
    if Payment.objects.filter(receipt_number=receipt_number).exists():
        raise ServiceError(
            RECEIPT_USED, code="receipt_used", field="receipt_number", params={"receipt": receipt_number}
        )
    payment = Payment.objects.create(
        request=request,
        charge=charge,
        method=Payment.Method.CASH,
        amount=amount,
        receipt_number=receipt_number,
        received_by=actor,
    )
    _move(charge, "pay", Charge.State.PAID)
    charge.save(update_fields=["state"])
    return payment


def return_postage_due(request, charge: Charge | None) -> str:
    """What the patron brings when returning a loan: stamps (private expense) or the postal bar code
    (public expense); nothing when the lender charges nothing for the return (e.g. KL-NET) or the
    support budget pays for it."""
    if not request.is_loan:
        return ""
    if request.is_public_expense and request.support_budget_id is None:
        return "barcode"
    if charge is not None and (charge.payment_class != Charge.PaymentClass.PRIVATE or charge.return_postage == 0):
        return ""
    if charge is None and request.support_budget_id is not None:
        return ""
    return "stamps"


@transaction.atomic
def record_return_postage(request, *, method: str, amount: int = 0, actor) -> Payment:
    """The patron brought what pays for sending the book back: stamps (private expense) or the
    postal bar code (public expense)."""
    if not request.is_loan:
        raise ServiceError(RETURN_POSTAGE_NOT_A_LOAN, code="not_a_loan")
    charge = Charge.objects.select_for_update().filter(request=request).first()
    if (
        method == Payment.Method.STAMPS
        and charge is not None
        and charge.return_postage
        and amount != charge.return_postage
    ):
        raise ServiceError(
            WRONG_STAMPS,
            code="wrong_stamps",
            field="stamps_amount",
            params={"due": format_yen(charge.return_postage), "amount": format_yen(amount)},
        )
    return Payment.objects.create(
        request=request,
        charge=charge,
        method=method,
        amount=amount if method == Payment.Method.STAMPS else 0,
        received_by=actor,
    )
