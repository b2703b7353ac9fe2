from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iso18626 import transport
from iso18626.models import Message, Peer


def _https_by_default(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class PeerForm(forms.ModelForm):
    """The shared secret is write-only: never shown (not even in the page's HTML), required for a new
    peer, and kept as stored when the field is left blank on an existing one."""

    shared_secret = forms.CharField(
        label=_("shared secret"),
        max_length=200,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Peer
        fields = ["library", "endpoint_url", "shared_secret", "accept_unsigned", "active", "notes"]
        formfield_callback = _https_by_default

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["shared_secret"]
        if self.instance.pk:
            field.help_text = _("A secret is stored. Leave this blank to keep it; type a new one to replace it.")
        else:
            field.required = True
            field.help_text = Peer._meta.get_field("shared_secret").help_text

    def clean_shared_secret(self):
        secret = self.cleaned_data.get("shared_secret") or ""
        if not secret and self.instance.pk:
            return Peer.objects.filter(pk=self.instance.pk).values_list("shared_secret", flat=True).get()
        return secret


@admin.register(Peer)
class PeerAdmin(admin.ModelAdmin):
    form = PeerForm
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
