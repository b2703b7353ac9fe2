"""Before ordering: staff check a request, reject it with a reason, or it is cancelled."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from fees import support
from ill import notices
from ill.models import Request
from ill.services.transitions import add_note, apply, lock, skip_waiting_candidates

S = Request.Status

REJECT_NEEDS_REASON = _("Choose a reason for the rejection.")
NOT_SUBMITTED = _("Only a request waiting to be ordered can be marked as checked.")


@transaction.atomic
def cancel(request: Request, *, actor, reason: str = "") -> Request:
    """Cancel a request that has not been sent to a lender yet (seed 004: no cancellation after)."""
    request = lock(request)
    request.status_note = reason
    request.closed_at = timezone.now()
    skip_waiting_candidates(request)
    event = apply(request, "cancel", actor=actor, note=reason)
    support.release(request, note=reason)
    notices.notify_patron(request, "cancelled", event=event)
    return request


@transaction.atomic
def reject(request: Request, *, actor, reason: str, note: str = "") -> Request:
    """Refuse a request on review, with a reason code (e.g. rare, reference, large, Japanese-bound)."""
    if reason not in Request.RejectReason.values:
        raise ServiceError(REJECT_NEEDS_REASON, code="reject_reason", field="reason")
    request = lock(request)
    request.reject_reason = reason
    request.status_note = note
    request.closed_at = timezone.now()
    skip_waiting_candidates(request)
    event = apply(request, "reject", actor=actor, note=note, data={"reason": reason})
    support.release(request, note=note)
    notices.notify_patron(request, "rejected", event=event)
    return request


@transaction.atomic
def mark_reviewed(request: Request, *, actor, note: str = "") -> Request:
    """Staff checked the citation and the rules: the request moves from 'to review' to 'to order'."""
    request = lock(request)
    if request.status != S.SUBMITTED:
        raise ServiceError(NOT_SUBMITTED, code="not_submitted")
    request.reviewed_at = timezone.now()
    request.save(update_fields=["reviewed_at", "updated_at"])
    add_note(request, actor=actor, action="reviewed", note=note)
    return request
