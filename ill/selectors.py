"""Reads: what patrons and staff see of requests."""

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import format_date, format_yen
from ill import lifecycle
from ill.models import ExtensionRequest, Request
from ill.states import OPEN_EXTENSION_STATES

S = Request.Status

# The badge colour of each status on the desk's pages.
STATUS_STYLES = {
    "submitted": "secondary",
    "ordered": "primary",
    "unfilled": "warning",
    "arrived": "success",
    "on_loan": "info",
    "returned": "info",
    "handed_over": "dark",
    "closed": "dark",
    "rejected": "danger",
    "cancelled": "light",
}


# (group, label) shown to patrons instead of the internal states.
ACTION_NEEDED, IN_PROGRESS, ON_LOAN, FINISHED = "action", "progress", "loan", "finished"
PATRON_GROUPS = {
    ACTION_NEEDED: _("Waiting for you"),
    IN_PROGRESS: _("In progress"),
    ON_LOAN: _("On loan to you"),
    FINISHED: _("Finished"),
}


def patron_stage(request: Request) -> tuple[str, str]:
    """The group and plain-language status a patron sees for a request."""
    status = request.status
    if status == S.SUBMITTED:
        return IN_PROGRESS, _("Received — being checked by the library")
    if status in (S.ORDERED, S.UNFILLED):
        return IN_PROGRESS, _("Requested from another library")
    if status == S.ARRIVED:
        return ACTION_NEEDED, _("Arrived — ready to collect")
    if status == S.ON_LOAN:
        if request.is_overdue:
            return ACTION_NEEDED, _("Overdue — please return it to the counter")
        return ON_LOAN, _("Borrowed")
    if status == S.RETURNED:
        return FINISHED, _("Returned — thank you")
    if status == S.HANDED_OVER:
        return FINISHED, _("Collected")
    if status == S.REJECTED:
        return FINISHED, _("Declined")
    if status == S.CANCELLED:
        return FINISHED, _("Cancelled")
    if request.close_reason == Request.CloseReason.UNFILLED:
        return FINISHED, _("Could not be obtained")
    if request.close_reason == Request.CloseReason.NOT_COLLECTED:
        return FINISHED, _("Not collected")
    return FINISHED, _("Done")


# States in which something still happens for the patron (the rest are shown as finished).
OPEN_FOR_PATRON = (S.SUBMITTED, S.ORDERED, S.UNFILLED, S.ARRIVED, S.ON_LOAN)


def requests_for_patron(patron):
    return (
        Request.objects.filter(patron=patron)
        .select_related("pickup_branch", "lender", "charge")
        .order_by("-submitted_at")
    )


def active_loan_count(patron) -> int:
    """Loans counted against the limit: from submission until the book is back at the counter."""
    return Request.objects.filter(
        patron=patron, kind=Request.Kind.LOAN, status__in=lifecycle.ACTIVE_LOAN_STATES
    ).count()


def loan_limit() -> int:
    return settings.ILL_MAX_ACTIVE_LOANS


def overdue_q(today=None) -> Q:
    """The one definition of overdue, as a query (`Request.is_overdue` is the same rule on one row):
    on loan past the due date. Derived from the date, never stored (DESIGN.md §4)."""
    today = today or timezone.localdate()
    return Q(status=S.ON_LOAN, due_date__lt=today)


def due_soon_q(today=None) -> Q:
    """On loan and due within the next ILL_DUE_SOON_DAYS days (today included)."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.ILL_DUE_SOON_DAYS)
    return Q(status=S.ON_LOAN, due_date__gte=today, due_date__lte=horizon)


def open_extensions():
    """The one definition of an open extension request: the lender may still answer it."""
    return ExtensionRequest.objects.filter(state__in=OPEN_EXTENSION_STATES)


def has_open_extension() -> Exists:
    """For a page of requests: whether each has an open extension request (one probe per row)."""
    return Exists(open_extensions().filter(request=OuterRef("pk")))


def with_open_extension_q() -> Q:
    """A filter for the requests with an open extension request: the few open extensions are read
    once (the partial unique index `extension_one_open`), not probed for every request."""
    return Q(pk__in=open_extensions().values("request_id"))


def open_extension_of(request: Request) -> ExtensionRequest | None:
    return open_extensions().filter(request=request).first()


EVENT_LABELS = {
    "payment": _("Paid %(amount)s in cash"),
    "charge_accepted": _("Charge accepted"),
    "extension_requested": _("Extension requested"),
    "extension_forwarded": _("Extension request sent to the lender"),
    "extension_granted": _("Extension granted until %(due_date)s"),
    "notified": _("Arrival notice sent"),
    "reviewed": _("Checked by staff"),
    "extension_refused": _("Extension refused by the lender"),
    "recalled": _("Recalled by the lender: due on %(due_date)s"),
    "return_postage": _("Return postage received"),
    "campus_mail": _("Sent to the laboratory by campus mail"),
}


def event_label(event) -> str:
    """What a history line says, in the reader's language (notes stay in the writer's)."""
    if event.is_transition:
        return Request.Status(event.to_status).label if event.to_status in Request.Status.values else event.to_status
    label = EVENT_LABELS.get(event.action)
    if label is None:
        return event.note or event.action
    data = dict(event.data or {})
    if "amount" in data:
        data["amount"] = format_yen(data["amount"])
    if isinstance(data.get("due_date"), str):
        try:
            data["due_date"] = format_date(datetime.date.fromisoformat(data["due_date"]))
        except ValueError:
            pass
    try:
        return str(label) % data if "%(" in str(label) else str(label)
    except (KeyError, TypeError, ValueError):
        return str(label).split("%(")[0].strip()
