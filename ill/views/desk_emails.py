"""E-mail problems: messages that could not be sent, and those still waiting, with a retry and a
"send now" (after an outage, without waiting for each message's next attempt)."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.text import int_param
from notifications import services as outbox
from notifications.models import OutboxMessage
from patrons.permissions import desk_required

# --- e-mail problems -----------------------------------------------------------------------

SHOWN = 200  # rows of each list on the page


@desk_required
def emails(request):
    """Messages that could not be sent (and those still waiting), with a retry button."""
    if request.method == "POST":
        return _act(request)
    return _page(request)


def _page(request, *, error: str = "", status: int = 200):
    S = OutboxMessage.Status
    failed = OutboxMessage.objects.filter(status=S.FAILED).select_related("request")[:SHOWN]
    waiting = (
        OutboxMessage.objects.filter(status__in=[S.PENDING, S.SENDING])
        .select_related("request")
        .order_by("created_at")[:SHOWN]
    )
    context = {"failed": failed, "waiting": waiting, "batch": outbox.push_batch(), "error": error}
    return render(request, "ill/desk/emails.html", context, status=status)


def _act(request):
    action = request.POST.get("action", "retry")
    if action == "retry":  # one failed message, its own button
        message_id = int_param(request.POST.get("message"))
        if message_id is None:
            raise Http404
        message = get_object_or_404(OutboxMessage, pk=message_id)
        with transaction.atomic():
            queued = outbox.retry(message)
        if queued:
            messages.success(request, _("The message will be sent again."))
        else:
            messages.info(request, _("This message is not waiting for a retry (it was sent or is being sent)."))
        return redirect("desk:emails")
    if action == "send_selected":
        raw = request.POST.getlist("selected")
        ids = [int_param(value) for value in raw]
        if None in ids or len(ids) > outbox.push_batch():
            error = _("The selection could not be read. Reload the page and select the messages again.")
            return _page(request, error=error, status=400)
        if not ids:
            messages.warning(request, _("Select the messages to send now."))
            return redirect("desk:emails")
        with transaction.atomic():
            count = outbox.send_now(ids)
    elif action == "send_all":
        with transaction.atomic():
            count = outbox.send_now()
    elif action == "retry_all":
        with transaction.atomic():
            count = outbox.retry_failed()
    else:
        return _page(request, error=_("Unknown action."), status=400)
    if count:
        messages.success(
            request,
            ngettext("%(count)d message is being sent now.", "%(count)d messages are being sent now.", count)
            % {"count": count},
        )
    else:
        messages.info(request, _("No message was waiting (they were sent or are being sent)."))
    return redirect("desk:emails")
