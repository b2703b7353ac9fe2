from django.contrib import admin, messages
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iso18626 import transport
from iso18626.models import Message, Peer


@admin.register(Peer)
class PeerAdmin(admin.ModelAdmin):
    list_display = ["library", "isil", "endpoint_url", "active", "accept_unsigned"]
    list_filter = ["active", "accept_unsigned"]
    search_fields = ["library__name", "library__code", "library__isil", "endpoint_url"]
    autocomplete_fields = ["library"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="ISIL")
    def isil(self, peer):
        return peer.library.isil


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Every message in and out, read-only; failed or rejected outgoing ones can be sent again."""

    list_display = [
        "created_at",
        "direction",
        "peer",
        "message_type",
        "code",
        "requesting_agency_request_id",
        "state",
        "attempts",
        "last_error_short",
    ]
    list_filter = ["direction", "state", "message_type", "peer"]
    search_fields = ["requesting_agency_request_id", "supplying_agency_request_id"]
    date_hierarchy = "created_at"
    list_select_related = ["peer", "peer__library"]
    actions = ["send_again"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("last error"))
    def last_error_short(self, message):
        return message.last_error[:80]

    def has_resend_permission(self, request):
        return request.user.has_perm("iso18626.change_message")

    @admin.action(description=_("Send the selected outgoing messages again"), permissions=["resend"])
    def send_again(self, request, queryset):
        again = queryset.filter(
            direction=Message.Direction.OUT, state__in=[Message.State.FAILED, Message.State.REJECTED]
        )
        with transaction.atomic():
            ids = list(again.select_for_update().values_list("pk", flat=True))
            Message.objects.filter(pk__in=ids).update(
                state=Message.State.QUEUED, attempts=0, next_attempt_at=timezone.now(), done_at=None
            )
            for pk in ids:
                transaction.on_commit(lambda pk=pk: transport.enqueue(pk))
        self.message_user(
            request,
            ngettext("%(n)d message queued again.", "%(n)d messages queued again.", len(ids)) % {"n": len(ids)},
            messages.SUCCESS,
        )
