"""E-mail problems: messages that could not be sent, and those still waiting, with a retry."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from core.text import int_param
from notifications import services as outbox
from notifications.models import OutboxMessage
from patrons.permissions import desk_required

# --- e-mail problems -----------------------------------------------------------------------


@desk_required
def emails(request):
    """Messages that could not be sent (and those still waiting), with a retry button."""
    if request.method == "POST":
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
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).select_related("request")[:200]
    waiting = (
        OutboxMessage.objects.filter(status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING])
        .select_related("request")
        .order_by("created_at")[:200]
    )
    return render(request, "ill/desk/emails.html", {"failed": failed, "waiting": waiting})
