"""At the counter: the patron accepts a charge, pays, collects the item, brings a loan back; the
book goes back to the lender. Money is recorded by `fees.charges`; the request's state and history
by the lifecycle, in the same transaction."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import format_yen
from fees import charges
from fees.models import Payment
from ill.models import Request
from ill.services.arrival import send_arrival_notice
from ill.services.transitions import add_note, apply, ensure_can, lock


@transaction.atomic
def accept_charge(request: Request, *, actor):
    """The patron accepts a charge above the maximum they set (DESIGN.md §2); then the arrival
    notice tells them where, when and how much."""
    request = lock(request)
    charge = charges.accept(request)
    event = add_note(
        request,
        actor=actor,
        action="charge_accepted",
        visible_to_patron=True,
        note=str(_("Charge of %(amount)s accepted.") % {"amount": format_yen(charge.total)}),
        data={"amount": charge.total},
    )
    if request.status == Request.Status.ARRIVED:
        send_arrival_notice(request, event)
    return charge


@transaction.atomic
def record_payment(request: Request, *, amount: int, receipt_number: str, actor):
    """Cash received at the counter: the exact amount, with a receipt number (seed 004)."""
    request = lock(request)
    payment = charges.record_payment(request, amount=amount, receipt_number=receipt_number, actor=actor)
    add_note(
        request,
        actor=actor,
        action="payment",
        visible_to_patron=True,
        note=str(
            _("Paid %(amount)s in cash, receipt %(receipt)s.")
            % {"amount": format_yen(amount), "receipt": payment.receipt_number}
        ),
        data={"amount": amount, "receipt": payment.receipt_number},
    )
    return payment


@transaction.atomic
def hand_over(request: Request, *, actor, campus_mail: bool = False, note: str = "") -> Request:
    """Give the item to the patron (a loan goes on loan; a copy is done).

    A private-expense charge must be paid first (`fees.charges.check_ready_for_hand_over`).
    Public-expense copies may instead go to the patron's laboratory by campus mail.
    """
    request = lock(request)
    ensure_can(request, "hand_over")
    charges.check_ready_for_hand_over(request, campus_mail=campus_mail)
    request.handed_over_at = timezone.now()
    if request.is_copy:
        request.closed_at = request.handed_over_at
        request.close_reason = Request.CloseReason.COMPLETED
    apply(request, "hand_over", actor=actor, note=note, data={"campus_mail": campus_mail})
    return request


def _record_return_postage(request: Request, *, method: str, amount: int, actor) -> None:
    payment = charges.record_return_postage(request, method=method, amount=amount, actor=actor)
    add_note(
        request,
        actor=actor,
        action="return_postage",
        visible_to_patron=True,
        note="",
        data={"method": method, "amount": payment.amount},
    )


@transaction.atomic
def take_back(request: Request, *, actor, stamps: int = 0, postal_barcode: bool = False, note: str = "") -> Request:
    """The patron returns the book at the counter (never the book drop), with what pays for sending
    it back."""
    request = lock(request)
    ensure_can(request, "return_by_patron")
    if stamps:
        _record_return_postage(request, method=Payment.Method.STAMPS, amount=stamps, actor=actor)
    if postal_barcode:
        _record_return_postage(request, method=Payment.Method.POSTAL_BARCODE, amount=0, actor=actor)
    return return_by_patron(request, actor=actor, note=note)


@transaction.atomic
def return_by_patron(request: Request, *, actor, note: str = "") -> Request:
    """The patron brought the book back to the counter."""
    request = lock(request)
    request.returned_at = timezone.now()
    apply(
        request,
        "return_by_patron",
        actor=actor,
        note=note,
        data={"overdue_days": max(0, (timezone.localdate() - request.due_date).days) if request.due_date else 0},
    )
    return request


@transaction.atomic
def send_back(request: Request, *, actor, note: str = "") -> Request:
    """The book went back to the lender; the request is closed."""
    request = lock(request)
    request.closed_at = timezone.now()
    request.close_reason = Request.CloseReason.SENT_BACK
    apply(request, "send_back", actor=actor, note=note)
    return request


@transaction.atomic
def close_not_collected(request: Request, *, actor, note: str = "") -> Request:
    """The patron never came for it: close (a loan is sent back to the lender)."""
    request = lock(request)
    request.closed_at = timezone.now()
    request.close_reason = Request.CloseReason.NOT_COLLECTED
    apply(request, "close_not_collected", actor=actor, note=note)
    return request
