from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from notifications import services
from notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "recipient", "language", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["recipient", "subject", "request__number", "idempotency_key"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Retry the selected failed messages"))
    def retry_failed(self, request, queryset):
        failed = queryset.filter(status=OutboxMessage.Status.FAILED)
        for message in failed:
            services.retry(message)
        self.message_user(
            request, _("%(count)d message(s) queued again.") % {"count": failed.count()}, messages.SUCCESS
        )
