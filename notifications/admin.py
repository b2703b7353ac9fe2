from django.conf import settings
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin_tools import BigTableAdmin
from notifications import services
from notifications.models import OutboxMessage


class LanguageFilter(admin.SimpleListFilter):
    """The site's languages, known without reading the distinct languages of every message."""

    title = _("language")
    parameter_name = "language"

    def lookups(self, request, model_admin):
        return settings.LANGUAGES

    def queryset(self, request, queryset):
        return queryset.filter(language=self.value()) if self.value() else queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(BigTableAdmin):
    """Every e-mail ever sent: newest first by the primary key (messages are only appended, so it
    is their order of creation), searched by indexed columns only."""

    list_display = ["created_at", "kind", "recipient", "language", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", LanguageFilter]
    search_fields = ["idempotency_key__exact", "recipient_user__email__iexact", "request__number"]
    trigram_search_fields = ("request__number",)
    number_search_fields = {"request__number": "ILL-"}
    search_help_text = _("Recipient's e-mail address, request number (3 characters or more) or idempotency key.")
    ordering = ["-id"]
    sortable_by = []
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry_failed", "send_pending_now"]

    def search_fields_for(self, request, term):
        fields = super().search_fields_for(request, term)
        return fields if "@" in term else [name for name in fields if "email" not in name]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Retry the selected failed messages"), permissions=["change"])
    def retry_failed(self, request, queryset):
        ids = queryset.filter(status=OutboxMessage.Status.FAILED).values_list("pk", flat=True)
        count = services.retry_failed(list(ids[: services.push_batch()]))
        self.message_user(request, _("%(count)d message(s) queued again.") % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Send the selected pending messages now"), permissions=["change"])
    def send_pending_now(self, request, queryset):
        ids = queryset.filter(status=OutboxMessage.Status.PENDING).values_list("pk", flat=True)
        count = services.send_now(list(ids[: services.push_batch()]))
        self.message_user(request, _("%(count)d message(s) queued now.") % {"count": count}, messages.SUCCESS)
