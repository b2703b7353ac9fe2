"""Lifecycle services: one function per transition of `ill.lifecycle.TRANSITIONS`.

Each runs in a transaction, locks the request row (`SELECT … FOR UPDATE`), checks the transition
against the table, changes the request, writes a `RequestEvent` and queues the patron's e-mail to
be sent after commit. Views, admin actions and Celery tasks call these; nothing else assigns
`Request.status`.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ill import lifecycle
from ill.errors import ServiceError, TransitionNotAllowed
from ill.models import LenderCandidate, LendingInstitution, Request, RequestEvent, RequestNumberCounter
from ill.utils import format_yen

S = Request.Status

CANNOT_CANCEL_ORDERED = _(
    "Request %(number)s has already been sent to a lender and can no longer be cancelled. "
    "Please contact the ILL counter if you no longer need it."
)
NOT_ALLOWED = _("Request %(number)s is “%(status)s”: it is not possible to %(action)s it now.")
NEED_LENDER = _("Choose at least one lender to order from.")
TOO_MANY_LENDERS = _("At most %(max)d candidate lenders can be listed.")
DUPLICATE_LENDER = _("%(lender)s is listed twice.")
LENDER_INACTIVE = _("%(lender)s is not an active lender.")
NO_WAITING_LENDER = _("No candidate lender is left for request %(number)s. Add a lender or close the request.")
LENDER_NO_PUBLIC_EXPENSE = _(
    "%(lender)s does not take part in the fee-offset and accepts no public expense: the request is paid by %(expense)s."
)
LENDER_OVERSEAS_NOT_ALLOWED = _("%(lender)s is overseas, but the patron asked for libraries in Japan only.")
LENDER_NO_EXPRESS = _("%(lender)s does not send by express mail.")
LOAN_NEEDS_DUE_DATE = _("Enter the lender's due date for a loan.")
DUE_DATE_IN_PAST = _("The lender's due date %(date)s is already past.")
REJECT_NEEDS_REASON = _("Choose a reason for the rejection.")
SUPPORT_NOT_FOR_LENDER = _(
    "%(lender)s is not a Japanese university, research institution or the NDL: the student support budget does "
    "not cover an order from it."
)
ABOVE_MAX_COST = _(
    "The estimate at %(lender)s is %(estimate)s, above the patron's maximum of %(max)s. Ask the patron; "
    "order only once they accept it (tick the box), or choose another lender."
)
PATRON_ACCEPTED = _("The patron accepted the estimate of %(estimate)s.")
NEXT_NOT_ORDERED = _("The next candidate lender could not be ordered automatically: %(reason)s")


def _refuse(request: Request, action: str):
    if action == "cancel" and request.status not in (S.CANCELLED, S.REJECTED):
        raise TransitionNotAllowed(CANNOT_CANCEL_ORDERED, code="cannot_cancel", params={"number": request.number})
    raise TransitionNotAllowed(
        NOT_ALLOWED,
        code="transition_not_allowed",
        params={
            "number": request.number,
            "status": request.get_status_display(),
            "action": lifecycle.ACTION_LABELS[action],
        },
    )


def _lock(request: Request) -> Request:
    return Request.objects.select_for_update().get(pk=request.pk)


def _apply(
    request: Request, action: str, *, actor, note: str = "", data: dict | None = None, visible_to_patron: bool = True
) -> RequestEvent:
    """Move a locked request along the transition named `action` and record the event."""
    transition = lifecycle.find_transition(action, request.kind, request.status)
    if transition is None:
        _refuse(request, action)
    event = RequestEvent(
        request=request,
        action=action,
        from_status=request.status,
        to_status=transition.target,
        actor=actor,
        note=note,
        data=data or {},
        visible_to_patron=visible_to_patron,
    )
    request.status = transition.target
    request.save()
    event.save()
    return event


def can(request: Request, action: str) -> bool:
    return lifecycle.find_transition(action, request.kind, request.status) is not None


def ensure_can(request: Request, action: str) -> None:
    """Refuse early, with the lifecycle's message, an action the request's state does not allow."""
    if not can(request, action):
        _refuse(request, action)


def add_note(
    request: Request,
    *,
    actor,
    note: str,
    action: str = "note",
    data: dict | None = None,
    visible_to_patron: bool = False,
) -> RequestEvent:
    """Record something that happened to a request without changing its state."""
    return RequestEvent.objects.create(
        request=request,
        action=action,
        from_status=request.status,
        to_status=request.status,
        actor=actor,
        note=note,
        data=data or {},
        visible_to_patron=visible_to_patron,
    )


def _notify(request: Request, kind: str, event: RequestEvent):
    from notifications import services as notifications

    notifications.notify_patron(request, kind, event=event)


# --- submit ---------------------------------------------------------------------------------


def next_request_number(today: datetime.date | None = None) -> str:
    """ILL-<year>-<6 digits>, counted per calendar year. Holds the counter row until commit."""
    year = (today or timezone.localdate()).year
    RequestNumberCounter.objects.get_or_create(year=year)
    RequestNumberCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = RequestNumberCounter.objects.get(year=year).last
    return f"ILL-{year}-{last:06d}"


@transaction.atomic
def submit(request: Request, *, actor, note: str = "") -> Request:
    """Save a new, already validated request as submitted.

    The submission rules of DESIGN.md §3 are checked by `ill.intake`, which calls this inside the
    same transaction while it holds the lock on the patron.
    """
    if request.pk is not None:
        _refuse(request, "submit")
    request.number = next_request_number()
    request.status = lifecycle.NEW
    request.submitted_at = timezone.now()
    if actor is not None and request.created_by_id is None:
        request.created_by = actor
    request.full_clean(exclude=["number", "status"])
    transition = lifecycle.find_transition("submit", request.kind, lifecycle.NEW)
    request.status = transition.target
    request.save()
    event = RequestEvent.objects.create(
        request=request,
        action="submit",
        from_status="",
        to_status=request.status,
        actor=actor,
        note=note,
    )
    _notify(request, "received", event)
    return request


# --- before ordering ------------------------------------------------------------------------


@transaction.atomic
def cancel(request: Request, *, actor, reason: str = "") -> Request:
    """Cancel a request that has not been sent to a lender yet (seed 004: no cancellation after)."""
    request = _lock(request)
    request.status_note = reason
    request.closed_at = timezone.now()
    event = _apply(request, "cancel", actor=actor, note=reason)
    _notify(request, "cancelled", event)
    return request


@transaction.atomic
def reject(request: Request, *, actor, reason: str, note: str = "") -> Request:
    """Refuse a request on review, with a reason code (e.g. rare, reference, large, Japanese-bound)."""
    if reason not in Request.RejectReason.values:
        raise ServiceError(REJECT_NEEDS_REASON, code="reject_reason", field="reason")
    request = _lock(request)
    request.reject_reason = reason
    request.status_note = note
    request.closed_at = timezone.now()
    event = _apply(request, "reject", actor=actor, note=note, data={"reason": reason})
    _notify(request, "rejected", event)
    return request


# --- ordering -------------------------------------------------------------------------------


def _check_lender(request: Request, lender: LendingInstitution):
    params = {"lender": lender.display_name}
    if not lender.active:
        raise ServiceError(LENDER_INACTIVE, code="lender_inactive", field="lenders", params=params)
    if request.is_public_expense and not lender.accepts_public_expense:
        raise ServiceError(
            LENDER_NO_PUBLIC_EXPENSE,
            code="lender_no_public_expense",
            field="lenders",
            params={**params, "expense": request.get_expense_type_display()},
        )
    if request.scope == Request.Scope.DOMESTIC and not lender.is_domestic:
        raise ServiceError(LENDER_OVERSEAS_NOT_ALLOWED, code="lender_overseas", field="lenders", params=params)


def _shipping_for(request: Request, lender: LendingInstitution, wanted: str) -> tuple[str, str]:
    """The shipping method the lender can do, and a note when it differs from what was wanted.

    Seed 004: FAX / electronic delivery falls back to express when the lender cannot do it.
    """
    if wanted == Request.Delivery.FAX and not lender.supports_fax:
        wanted = Request.Delivery.EXPRESS
        note = _("%(lender)s cannot send by FAX or electronically: ordered by express mail instead.")
        if not lender.supports_express:
            return Request.Delivery.MAIL, str(_("%(lender)s sends by ordinary mail only.") % {"lender": lender})
        return wanted, str(note % {"lender": lender})
    if wanted == Request.Delivery.EXPRESS and not lender.supports_express:
        raise ServiceError(
            LENDER_NO_EXPRESS, code="lender_no_express", field="shipping_method", params={"lender": lender.display_name}
        )
    return wanted, ""


@transaction.atomic
def order(
    request: Request,
    *,
    actor,
    lenders=None,
    lender_reference: str = "",
    shipping_method: str | None = None,
    note: str = "",
    automatic: bool = False,
    estimated_charge: int | None = None,
    patron_accepted: bool = False,
) -> Request:
    """Send the request to its next candidate lender.

    From `submitted`, `lenders` (1–5, in order) become the candidate list. From `unfilled`, the
    next waiting candidate is asked; new lenders may be appended. Public expense is committed on
    the budget code (`fees.services.commit_budget`, which locks the code) in the same transaction.
    """
    from fees import services as fees
    from fees import support as fees_support

    request = _lock(request)
    if lifecycle.find_transition("order", request.kind, request.status) is None:
        _refuse(request, "order")
    lenders = list(lenders or [])
    existing = list(request.candidates.select_related("lender"))
    if len(lenders) != len({lender.pk for lender in lenders}):
        duplicate = next(lender for i, lender in enumerate(lenders) if lender in lenders[:i])
        raise ServiceError(DUPLICATE_LENDER, code="duplicate_lender", field="lenders", params={"lender": duplicate})
    if request.status == S.SUBMITTED:
        if not lenders:
            raise ServiceError(NEED_LENDER, code="no_lender", field="lenders")
        request.candidates.all().delete()
        existing = []
    if len(existing) + len(lenders) > LenderCandidate.MAX_CANDIDATES:
        raise ServiceError(
            TOO_MANY_LENDERS, code="too_many_lenders", field="lenders", params={"max": LenderCandidate.MAX_CANDIDATES}
        )
    for lender in lenders:
        _check_lender(request, lender)
    position = max((c.position for c in existing), default=0)
    for lender in lenders:
        position += 1
        LenderCandidate.objects.create(request=request, position=position, lender=lender)
    candidate = request.candidates.filter(state=LenderCandidate.State.WAITING).select_related("lender").first()
    if candidate is None:
        raise ServiceError(
            NO_WAITING_LENDER, code="no_candidate_left", field="lenders", params={"number": request.number}
        )
    lender = candidate.lender
    _check_lender(request, lender)
    wanted = shipping_method or request.shipping_method or request.delivery_method
    shipping, fallback_note = _shipping_for(request, lender, wanted)
    request.lender, request.shipping_method = lender, shipping  # what the estimate depends on
    estimate = estimated_charge if estimated_charge is not None else fees.estimate_or_none(request, lender)
    if estimate is None and request.is_public_expense:
        raise ServiceError(
            fees.NEEDS_ESTIMATE,
            code="estimate_required",
            field="estimated_charge",
            params={"lender": lender.display_name, "code": request.budget_code.code},
        )
    if request.max_cost is not None and estimate is not None and estimate > request.max_cost and not patron_accepted:
        raise ServiceError(
            ABOVE_MAX_COST,
            code="above_max_cost",
            field="patron_accepted",
            params={
                "estimate": format_yen(estimate),
                "max": format_yen(request.max_cost),
                "lender": lender.display_name,
            },
        )
    support_note = ""
    if request.support_budget_id is not None:
        if fees_support.lender_qualifies(lender):
            support_note = fees_support.reserve(request, estimate or 0)
        else:
            support_note = str(SUPPORT_NOT_FOR_LENDER % {"lender": lender.display_name})

    now = timezone.now()
    candidate.state = LenderCandidate.State.ORDERED
    candidate.ordered_at = now
    candidate.lender_reference = lender_reference
    candidate.save()
    request.lender_reference = lender_reference
    request.ordered_at = now
    request.estimate = estimate
    accepted_note = str(PATRON_ACCEPTED % {"estimate": format_yen(estimate)}) if patron_accepted else ""
    event = _apply(
        request,
        "order",
        actor=actor,
        note=" ".join(filter(None, [note, fallback_note, support_note, accepted_note])),
        data={
            "lender": lender.pk,
            "lender_name": str(lender),
            "candidate": candidate.position,
            "shipping_method": shipping,
            "reference": lender_reference,
            "automatic": automatic,
            "estimate": estimate,
        },
    )
    fees.commit_budget(request, actor=actor, estimate=estimate or 0)
    _notify(request, "ordered", event)
    return request


@transaction.atomic
def mark_unfilled(request: Request, *, actor, note: str = "") -> Request:
    """The lender cannot supply it. The next waiting candidate is ordered at once, keeping the hop
    in the history; with none left the request waits as unfilled for staff to decide."""
    from fees import services as fees

    request = _lock(request)
    if lifecycle.find_transition("mark_unfilled", request.kind, request.status) is None:
        _refuse(request, "mark_unfilled")
    now = timezone.now()
    current = request.candidates.filter(state=LenderCandidate.State.ORDERED).first()
    if current is not None:
        current.state = LenderCandidate.State.UNFILLED
        current.answered_at = now
        current.answer_note = note[:300]
        current.save()
    fees.release_budget(request, actor=actor)
    lender_name = str(request.lender) if request.lender else ""
    _apply(
        request,
        "mark_unfilled",
        actor=actor,
        note=note,
        data={
            "lender": request.lender_id,
            "lender_name": lender_name,
            "candidate": current.position if current else None,
        },
    )
    if request.candidates.filter(state=LenderCandidate.State.WAITING).exists():
        try:
            with transaction.atomic():  # a savepoint: a refusal leaves the request unfilled, not stuck
                return order(
                    request,
                    actor=actor,
                    automatic=True,
                    note=str(_("Unfilled by %(lender)s; asked the next candidate.") % {"lender": lender_name}),
                )
        except ServiceError as exc:
            request.refresh_from_db()
            add_note(
                request,
                actor=actor,
                action="note",
                data={"automatic_order_refused": exc.code},
                note=str(NEXT_NOT_ORDERED % {"reason": exc}),
            )
    return request


@transaction.atomic
def close_unfilled(request: Request, *, actor, note: str = "") -> Request:
    """No lender could supply it: close and tell the patron."""
    request = _lock(request)
    request.close_reason = Request.CloseReason.UNFILLED
    request.closed_at = timezone.now()
    request.status_note = note
    event = _apply(request, "close_unfilled", actor=actor, note=note)
    _notify(request, "unfilled", event)
    return request


# --- arrival and after ----------------------------------------------------------------------


def patron_due_date(lender_due_date: datetime.date) -> datetime.date:
    """The patron's due date is a few days before the lender's (DESIGN.md §4), never before tomorrow."""
    margin = datetime.timedelta(days=settings.ILL_DUE_DATE_MARGIN_DAYS)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return max(lender_due_date - margin, min(tomorrow, lender_due_date))


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
    """The item came from the lender. Its charge, if any, is stored by `fees.services` first so
    that the arrival e-mail can tell the patron how much to bring."""
    request = _lock(request)
    if lifecycle.find_transition("record_arrival", request.kind, request.status) is None:
        _refuse(request, "record_arrival")
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
    request.candidates.filter(state=LenderCandidate.State.ORDERED).update(
        state=LenderCandidate.State.FILLED, answered_at=request.arrived_at
    )
    event = _apply(
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
        from fees.models import Charge

        awaiting = Charge.objects.filter(request=request, state=Charge.State.AWAITING_ACCEPTANCE).exists()
        if awaiting:  # the arrival notice follows once the patron accepts the charge
            _notify(request, "charge_acceptance", event)
        else:
            send_arrival_notice(request, event)
    return request


def send_arrival_notice(request: Request, event: RequestEvent) -> None:
    """E-mail where, when, how much and what to bring, and remember when the patron was told."""
    request.notified_at = timezone.now()
    Request.objects.filter(pk=request.pk).update(notified_at=request.notified_at)
    _notify(request, "arrived", event)


@transaction.atomic
def hand_over(request: Request, *, actor, campus_mail: bool = False, note: str = "") -> Request:
    """Give the item to the patron (a loan goes on loan; a copy is done).

    A private-expense charge must be paid first (`fees.services.check_ready_for_hand_over`).
    Public-expense copies may instead go to the patron's laboratory by campus mail.
    """
    from fees import services as fees

    request = _lock(request)
    if lifecycle.find_transition("hand_over", request.kind, request.status) is None:
        _refuse(request, "hand_over")
    fees.check_ready_for_hand_over(request, campus_mail=campus_mail)
    request.handed_over_at = timezone.now()
    if request.is_copy:
        request.closed_at = request.handed_over_at
        request.close_reason = Request.CloseReason.COMPLETED
    _apply(request, "hand_over", actor=actor, note=note, data={"campus_mail": campus_mail})
    return request


@transaction.atomic
def return_by_patron(request: Request, *, actor, note: str = "") -> Request:
    """The patron brought the book back to the counter (never the book drop)."""
    request = _lock(request)
    request.returned_at = timezone.now()
    _apply(
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
    request = _lock(request)
    request.closed_at = timezone.now()
    request.close_reason = Request.CloseReason.SENT_BACK
    _apply(request, "send_back", actor=actor, note=note)
    return request


@transaction.atomic
def close_not_collected(request: Request, *, actor, note: str = "") -> Request:
    """The patron never came for it: close (a loan is sent back to the lender)."""
    request = _lock(request)
    request.closed_at = timezone.now()
    request.close_reason = Request.CloseReason.NOT_COLLECTED
    _apply(request, "close_not_collected", actor=actor, note=note)
    return request


# --- extensions (not a change of state: the lender decides, DESIGN.md §4) ------------------

EXTENSION_NOT_ON_LOAN = _("Only a book you have on loan can be extended.")
EXTENSION_ALREADY_OPEN = _(
    "You have already asked for an extension of %(number)s; the library will tell you the answer."
)


@transaction.atomic
def request_extension(request: Request, *, actor, reason: str = ""):
    """The patron asks for more time; staff forward it to the lender, who grants or refuses."""
    from ill.models import ExtensionRequest

    request = _lock(request)
    if request.status != S.ON_LOAN:
        raise ServiceError(EXTENSION_NOT_ON_LOAN, code="extension_not_on_loan")
    if request.extensions.filter(state__in=ExtensionRequest.OPEN_STATES).exists():
        raise ServiceError(EXTENSION_ALREADY_OPEN, code="extension_open", params={"number": request.number})
    extension = ExtensionRequest.objects.create(request=request, requested_by=actor, reason=reason[:300])
    add_note(
        request,
        actor=actor,
        action="extension_requested",
        note=reason,
        visible_to_patron=True,
        data={"extension": extension.pk},
    )
    return extension


EXTENSION_NOT_OPEN = _("This extension request has already been answered.")
EXTENSION_DATE_NOT_LATER = _("The new due date must be after the current one (%(date)s).")
NOT_SUBMITTED = _("Only a request waiting to be ordered can be marked as checked.")
NOT_ARRIVED = _("The patron can be told only about an item that has arrived.")
JUST_NOTIFIED = _("The arrival notice was e-mailed at %(time)s; it is not sent again so soon.")
RENOTIFY_AFTER = datetime.timedelta(minutes=10)


@transaction.atomic
def mark_reviewed(request: Request, *, actor, note: str = "") -> Request:
    """Staff checked the citation and the rules: the request moves from 'to review' to 'to order'."""
    request = _lock(request)
    if request.status != S.SUBMITTED:
        raise ServiceError(NOT_SUBMITTED, code="not_submitted")
    request.reviewed_at = timezone.now()
    request.save(update_fields=["reviewed_at", "updated_at"])
    add_note(request, actor=actor, action="reviewed", note=note)
    return request


@transaction.atomic
def notify_arrival(request: Request, *, actor) -> Request:
    """E-mail the arrival notice (again): where, when, how much, what to bring."""
    from notifications.models import OutboxMessage

    request = _lock(request)
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


def _open_extension(extension):
    from ill.models import ExtensionRequest

    extension = ExtensionRequest.objects.select_for_update().select_related("request").get(pk=extension.pk)
    if extension.state not in ExtensionRequest.OPEN_STATES:
        raise ServiceError(EXTENSION_NOT_OPEN, code="extension_answered")
    return extension


@transaction.atomic
def forward_extension(extension, *, actor, note: str = ""):
    """Staff asked the lender (NACSIS-ILL or e-mail); the answer is recorded later."""
    extension = _open_extension(extension)
    extension.state = extension.State.FORWARDED
    extension.save(update_fields=["state"])
    add_note(extension.request, actor=actor, action="extension_forwarded", note=note, visible_to_patron=True)
    return extension


@transaction.atomic
def grant_extension(extension, *, actor, new_lender_due_date, note: str = ""):
    """The lender granted more time: new due dates for the lender and (a few days before) the patron."""
    extension = _open_extension(extension)
    request = _lock(extension.request)
    if request.status != S.ON_LOAN:
        raise ServiceError(EXTENSION_NOT_ON_LOAN, code="extension_not_on_loan")
    if request.lender_due_date and new_lender_due_date <= request.lender_due_date:
        raise ServiceError(
            EXTENSION_DATE_NOT_LATER,
            code="extension_date",
            field="new_lender_due_date",
            params={"date": request.lender_due_date.isoformat()},
        )
    extension.state = extension.State.GRANTED
    extension.new_lender_due_date = new_lender_due_date
    extension.new_due_date = patron_due_date(new_lender_due_date)
    extension.decided_by, extension.decided_at, extension.answer_note = actor, timezone.now(), note[:300]
    extension.save()
    request.lender_due_date, request.due_date = new_lender_due_date, extension.new_due_date
    request.save(update_fields=["lender_due_date", "due_date", "updated_at"])
    event = add_note(
        request,
        actor=actor,
        action="extension_granted",
        note=note,
        visible_to_patron=True,
        data={"due_date": extension.new_due_date.isoformat()},
    )
    from notifications import services as notifications

    notifications.notify_patron(request, "extension_granted", event=event, extra={"extension": extension})
    return extension


@transaction.atomic
def refuse_extension(extension, *, actor, note: str = ""):
    """The lender refused: the due date stays."""
    extension = _open_extension(extension)
    extension.state = extension.State.REFUSED
    extension.decided_by, extension.decided_at, extension.answer_note = actor, timezone.now(), note[:300]
    extension.save()
    event = add_note(extension.request, actor=actor, action="extension_refused", note=note, visible_to_patron=True)
    from notifications import services as notifications

    notifications.notify_patron(extension.request, "extension_refused", event=event, extra={"extension": extension})
    return extension
