"""The one way a request's status changes: look the move up in `ill.lifecycle.REQUEST`, lock the
row, assign the status, write the event. Every service of `ill.services` goes through `apply`."""

from django.utils.translation import gettext_lazy as _

from core.errors import TransitionNotAllowed
from ill import lifecycle
from ill.models import LenderCandidate, Request, RequestEvent
from ill.states import CANDIDATE

S = Request.Status

CANNOT_CANCEL_ORDERED = _(
    "Request %(number)s has already been sent to a lender and can no longer be cancelled. "
    "Please contact the ILL counter if you no longer need it."
)
NOT_ALLOWED = _("Request %(number)s is “%(status)s”: it is not possible to %(action)s it now.")


def refuse(request: Request, action: str):
    if action == "cancel" and request.status not in (S.CANCELLED, S.REJECTED):
        raise TransitionNotAllowed(CANNOT_CANCEL_ORDERED, code="cannot_cancel", params={"number": request.number})
    raise TransitionNotAllowed(
        NOT_ALLOWED,
        code="transition_not_allowed",
        params={
            "number": request.number,
            "status": request.get_status_display(),
            "action": lifecycle.REQUEST.label(action),
        },
    )


def lock(request: Request) -> Request:
    """The request row, locked until the transaction ends (`SELECT … FOR UPDATE`)."""
    return Request.objects.select_for_update().get(pk=request.pk)


def can(request: Request, action: str) -> bool:
    return lifecycle.REQUEST.can(action, request.status, request.kind)


def ensure_can(request: Request, action: str) -> None:
    """Refuse early, with the lifecycle's message, an action the request's state does not allow."""
    if not can(request, action):
        refuse(request, action)


def apply(
    request: Request, action: str, *, actor, note: str = "", data: dict | None = None, visible_to_patron: bool = True
) -> RequestEvent:
    """Move a locked request along the transition named `action` and record the event."""
    transition = lifecycle.REQUEST.find(action, request.status, request.kind)
    if transition is None:
        refuse(request, action)
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


def skip_waiting_candidates(request: Request) -> None:
    """The candidate lenders not asked yet will never be: when the request arrived from an earlier
    one, or was cancelled, rejected or closed, they are marked skipped (the candidates' machine)."""
    for candidate in request.candidates.filter(state=LenderCandidate.State.WAITING):
        candidate.state = CANDIDATE.find("skip", candidate.state).target
        candidate.save(update_fields=["state"])
