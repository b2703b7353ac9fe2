"""Extensions of a loan: the patron asks, staff forward it, the lender grants or refuses
(DESIGN.md §4). Not a change of the request's status: the extension's own states are declared in
`ill.states.EXTENSION`."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.text import format_date
from ill import notices, selectors
from ill.models import ExtensionRequest, Request
from ill.services.arrival import patron_due_date
from ill.services.transitions import add_note, lock
from ill.states import EXTENSION

S = Request.Status

EXTENSION_NOT_ON_LOAN = _("Only a book you have on loan can be extended.")
EXTENSION_ALREADY_OPEN = _(
    "You have already asked for an extension of %(number)s; the library will tell you the answer."
)
EXTENSION_NOT_OPEN = _("This extension request has already been answered.")
EXTENSION_DATE_NOT_LATER = _("The new due date must be after the current one (%(date)s).")
RECALL_NOT_HERE = _("Request %(number)s is not with us or the patron: a recall does not apply to it.")


def can_extend(request: Request) -> bool:
    """Whether the patron may ask for more time now: on loan, with no extension waiting for an answer."""
    return request.status == S.ON_LOAN and selectors.open_extension_of(request) is None


@transaction.atomic
def request_extension(request: Request, *, actor, reason: str = ""):
    """The patron asks for more time; staff forward it to the lender, who grants or refuses."""
    request = lock(request)
    if request.status != S.ON_LOAN:
        raise ServiceError(EXTENSION_NOT_ON_LOAN, code="extension_not_on_loan")
    if selectors.open_extension_of(request) is not None:
        raise ServiceError(EXTENSION_ALREADY_OPEN, code="extension_open", params={"number": request.number})
    extension = ExtensionRequest.objects.create(
        request=request, requested_by=actor, reason=reason[:300], state=EXTENSION.find("request", "").target
    )
    add_note(
        request,
        actor=actor,
        action="extension_requested",
        note=reason,
        visible_to_patron=True,
        data={"extension": extension.pk},
    )
    return extension


def _open(extension, action: str) -> ExtensionRequest:
    extension = ExtensionRequest.objects.select_for_update().select_related("request").get(pk=extension.pk)
    transition = EXTENSION.find(action, extension.state)
    if transition is None:
        raise ServiceError(EXTENSION_NOT_OPEN, code="extension_answered")
    extension.state = transition.target
    return extension


@transaction.atomic
def forward_extension(extension, *, actor, note: str = ""):
    """Staff asked the lender (NACSIS-ILL or e-mail); the answer is recorded later."""
    extension = _open(extension, "forward")
    extension.save(update_fields=["state"])
    add_note(extension.request, actor=actor, action="extension_forwarded", note=note, visible_to_patron=True)
    return extension


@transaction.atomic
def grant_extension(extension, *, actor, new_lender_due_date, note: str = ""):
    """The lender granted more time: new due dates for the lender and (a few days before) the patron."""
    extension = _open(extension, "grant")
    request = lock(extension.request)
    if request.status != S.ON_LOAN:
        raise ServiceError(EXTENSION_NOT_ON_LOAN, code="extension_not_on_loan")
    if request.lender_due_date and new_lender_due_date <= request.lender_due_date:
        raise ServiceError(
            EXTENSION_DATE_NOT_LATER,
            code="extension_date",
            field="new_lender_due_date",
            params={"date": format_date(request.lender_due_date)},
        )
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
    notices.notify_patron(request, "extension_granted", event=event, extra={"extension": extension})
    return extension


@transaction.atomic
def refuse_extension(extension, *, actor, note: str = ""):
    """The lender refused: the due date stays."""
    extension = _open(extension, "refuse")
    extension.decided_by, extension.decided_at, extension.answer_note = actor, timezone.now(), note[:300]
    extension.save()
    event = add_note(extension.request, actor=actor, action="extension_refused", note=note, visible_to_patron=True)
    notices.notify_patron(extension.request, "extension_refused", event=event, extra={"extension": extension})
    return extension


@transaction.atomic
def apply_recall(request: Request, *, lender_due_date, actor=None, note: str = ""):
    """The lender wants its book back sooner (a recall): the lender's due date and the patron's (a few
    days before it) are brought forward, never pushed back, and a patron who has the book is told by
    e-mail. Returns the event, or None when the date would not bring anything forward."""
    request = lock(request)
    if request.status not in (S.ARRIVED, S.ON_LOAN, S.RETURNED):
        raise ServiceError(RECALL_NOT_HERE, code="recall_not_here", params={"number": request.number})
    if request.lender_due_date is not None and lender_due_date >= request.lender_due_date:
        return None
    request.lender_due_date = lender_due_date
    patron_due = patron_due_date(lender_due_date)
    if request.due_date is None or patron_due < request.due_date:
        request.due_date = patron_due
    request.save(update_fields=["lender_due_date", "due_date", "updated_at"])
    event = add_note(
        request,
        actor=actor,
        action="recalled",
        note=note,
        visible_to_patron=True,
        data={"due_date": request.due_date.isoformat(), "lender_due_date": lender_due_date.isoformat()},
    )
    if request.status == S.ON_LOAN:
        notices.notify_patron(request, "recalled", event=event, extra={"note": note})
    return event
