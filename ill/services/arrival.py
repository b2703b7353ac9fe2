"""Arrivals: what a lender sent (one request or a shipment of several), its charge, the notice.

`record_shipment` locks the requests, has `fees.charges` price the shipment and store each share,
then records each arrival, which e-mails the patron where, when, how much and what to bring.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.text import format_yen
from fees import charges
from fees.models import Charge
from fees.tasks import monitor_after_commit
from ill import countcache, notices
from ill.models import LenderCandidate, LendingInstitution, Request, RequestEvent
from ill.services.transitions import add_note, apply, ensure_can, lock, skip_waiting_candidates
from ill.states import CANDIDATE
from notifications.models import OutboxMessage

log = logging.getLogger(__name__)
S = Request.Status

LOAN_NEEDS_DUE_DATE = _("Enter the lender's due date for a loan.")
DUE_DATE_IN_PAST = _("The lender's due date %(date)s is already past.")
SHIPMENT_EMPTY = _("Choose at least one request that arrived.")
SHIPMENT_OTHER_LENDER = _("Request %(number)s was not ordered from %(lender)s.")
SHIPMENT_MIXED = _("Loans and copies cannot be recorded as one shipment.")
SHIPMENT_DUPLICATE = _("A request is listed twice in this shipment.")
NOT_ARRIVED = _("The patron can be told only about an item that has arrived.")
JUST_NOTIFIED = _("The arrival notice was e-mailed at %(time)s; it is not sent again so soon.")
RENOTIFY_AFTER = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class ArrivedItem:
    """One request in a shipment, with what actually came (copies: pages received)."""

    request: Request
    pages: int | None = None
    colour_pages: int | None = None
    lender_due_date: datetime.date | None = None
    use_restriction: str = Request.UseRestriction.NONE
    restriction_note: str = ""
    adjusted_total: int | None = None
    adjustment_reason: str = ""


def patron_due_date(lender_due_date: datetime.date) -> datetime.date:
    """The patron's due date is a few days before the lender's (DESIGN.md §4), never before tomorrow."""
    margin = datetime.timedelta(days=settings.ILL_DUE_DATE_MARGIN_DAYS)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return max(lender_due_date - margin, min(tomorrow, lender_due_date))


def _check_listed(items: list[ArrivedItem]) -> None:
    if not items:
        raise ServiceError(SHIPMENT_EMPTY, code="shipment_empty")
    if len({item.request.pk for item in items}) != len(items):
        raise ServiceError(SHIPMENT_DUPLICATE, code="shipment_duplicate")


def _check_items(lender: LendingInstitution, items: list[ArrivedItem]) -> None:
    """On the locked rows: all ordered from this lender, all loans or all copies."""
    for item in items:
        if item.request.lender_id != lender.pk:
            raise ServiceError(
                SHIPMENT_OTHER_LENDER,
                code="shipment_other_lender",
                params={"number": item.request.number, "lender": lender.display_name},
            )
    if len({item.request.kind for item in items}) > 1:
        raise ServiceError(SHIPMENT_MIXED, code="shipment_mixed")


def preview_shipment(lender: LendingInstitution, items: list[ArrivedItem], delivery: str):
    """The breakdown a shipment would get, without saving anything (None when it cannot be priced)."""
    if not items:
        return None
    _check_listed(items)
    return charges.preview_shipment(lender, items, delivery)


@transaction.atomic
def record_shipment(
    *,
    lender: LendingInstitution,
    items: list[ArrivedItem],
    delivery: str = Request.Delivery.MAIL,
    actor,
    lender_invoice: str = "",
    notify: bool = True,
):
    """Record that `lender` sent these requests together: price the shipment, store each request's
    charge, then record each arrival (which e-mails the patron)."""
    _check_listed(items)
    locked = {r.pk: r for r in Request.objects.select_for_update().filter(pk__in=[i.request.pk for i in items])}
    items = [ArrivedItem(**{**item.__dict__, "request": locked[item.request.pk]}) for item in items]
    _check_items(lender, items)
    for item in items:
        ensure_can(item.request, "record_arrival")
    stored = charges.record_shipment_charges(
        lender=lender, items=items, delivery=delivery, actor=actor, lender_invoice=lender_invoice
    )
    for item in items:
        charge = stored[item.request.pk]
        record_arrival(
            item.request,
            actor=actor,
            lender_due_date=item.lender_due_date,
            use_restriction=item.use_restriction,
            restriction_note=item.restriction_note,
            notify=notify,
            note=str(_("Charge %(amount)s.") % {"amount": format_yen(charge.total)}),
        )
    monitor_after_commit(  # one task on commit, for only the codes this shipment charged
        [charge.budget_code_id for charge in stored.values()],
        support=any(charge.payment_class == Charge.PaymentClass.SUPPORT for charge in stored.values()),
    )
    return next(iter(stored.values())).shipment if stored else None


@transaction.atomic
def record_arrival(
    request: Request,
    *,
    actor,
    lender_due_date: datetime.date | None = None,
    use_restriction: str = Request.UseRestriction.NONE,
    restriction_note: str = "",
    note: str = "",
    notify: bool = True,
) -> Request:
    """The item came from the lender. Its charge, if any, is stored first (`record_shipment`) so
    that the arrival e-mail can tell the patron how much to bring."""
    request = lock(request)
    ensure_can(request, "record_arrival")
    if request.is_loan:
        if lender_due_date is None:
            raise ServiceError(LOAN_NEEDS_DUE_DATE, code="due_date_required", field="lender_due_date")
        if lender_due_date < timezone.localdate():
            raise ServiceError(
                DUE_DATE_IN_PAST,
                code="due_date_past",
                field="lender_due_date",
                params={"date": lender_due_date.isoformat()},
            )
        request.lender_due_date = lender_due_date
        request.due_date = patron_due_date(lender_due_date)
    if use_restriction not in Request.UseRestriction.values:
        use_restriction = Request.UseRestriction.NONE
    request.use_restriction = use_restriction
    request.restriction_note = restriction_note
    request.arrived_at = timezone.now()
    for candidate in request.candidates.filter(state=LenderCandidate.State.ORDERED):
        candidate.state = CANDIDATE.find("arrived", candidate.state).target
        candidate.answered_at = request.arrived_at
        candidate.save(update_fields=["state", "answered_at"])
    skip_waiting_candidates(request)  # the lenders after the one that supplied it will never be asked
    event = apply(
        request,
        "record_arrival",
        actor=actor,
        note=note,
        data={
            "lender_due_date": lender_due_date.isoformat() if lender_due_date else None,
            "use_restriction": use_restriction,
        },
    )
    if notify:
        charge = charges.charge_of(request)
        if charge is not None and charge.state == Charge.State.AWAITING_ACCEPTANCE:
            notices.notify_patron(request, "charge_acceptance", event=event)  # the arrival notice follows
        else:
            send_arrival_notice(request, event)
    return request


def send_arrival_notice(request: Request, event: RequestEvent) -> None:
    """E-mail where, when, how much and what to bring, and remember when the patron was told."""
    request.notified_at = timezone.now()
    Request.objects.filter(pk=request.pk).update(notified_at=request.notified_at)
    countcache.counts_changed()  # an update() sends no post_save
    notices.notify_patron(request, "arrived", event=event)


@transaction.atomic
def notify_arrival(request: Request, *, actor) -> Request:
    """E-mail the arrival notice (again): where, when, how much, what to bring."""
    request = lock(request)
    if request.status != S.ARRIVED:
        raise ServiceError(NOT_ARRIVED, code="not_arrived")
    recent = (
        OutboxMessage.objects.filter(
            request=request, kind=OutboxMessage.Kind.ARRIVED, created_at__gte=timezone.now() - RENOTIFY_AFTER
        )
        .order_by("-created_at")
        .first()
    )
    if recent is not None:  # a double click, or two members of staff at once
        raise ServiceError(
            JUST_NOTIFIED,
            code="just_notified",
            params={"time": timezone.localtime(recent.created_at).strftime("%H:%M")},
        )
    event = add_note(request, actor=actor, action="notified", note="", visible_to_patron=False)
    send_arrival_notice(request, event)
    return request
