from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_tools import BigTableAdmin
from patrons import services
from patrons.models import Branch, Laboratory, OpeningHours, Patron, PatronEvent, StaffMember


def _unlock(modeladmin, request, users):
    """Lift the sign-in lockout of each user (patrons.services.unlock_sign_in, which notes it in a
    patron's history)."""
    unlocked = sum(1 for user in users if services.unlock_sign_in(user, actor=request.user))
    modeladmin.message_user(
        request,
        ngettext("Sign-in unlocked for %(count)d user.", "Sign-in unlocked for %(count)d users.", unlocked)
        % {"count": unlocked}
        if unlocked
        else _("None of them was locked."),
        messages.SUCCESS if unlocked else messages.INFO,
    )


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class PatronEventInline(admin.TabularInline):
    model = PatronEvent
    extra = 0
    fields = readonly_fields = ["created_at", "action", "actor", "note"]
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "campus", "phone", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name", "name_en"]
    inlines = [OpeningHoursInline]


@admin.register(Laboratory)
class LaboratoryAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "supervisor", "active"]
    list_filter = ["active", "department"]
    search_fields = ["name", "name_en", "department"]
    autocomplete_fields = ["supervisor"]
    list_select_related = ["supervisor"]


@admin.register(Patron)
class PatronAdmin(BigTableAdmin):
    """50,000 patrons: ordered by the unique patron number, which is searched by its start (its
    `_like` index); names through the trigram indexes, or for a one- or two-character term such as
    佐藤 by their start (the prefix indexes); the login's e-mail and user name exactly. The search
    also serves every patron autocomplete."""

    list_display = [
        "patron_number",
        "full_name",
        "category",
        "laboratory",
        "home_branch",
        "preferred_language",
        "blocked",
    ]
    list_filter = ["category", "home_branch", "preferred_language", "blocked"]
    search_fields = [
        "patron_number__startswith",
        "full_name",
        "full_name_kana",
        "user__email__iexact",
        "user__username__exact",
    ]
    trigram_search_fields = prefix_search_fields = ("full_name", "full_name_kana")
    search_help_text = _(
        "The start of a patron number, a name or kana (shorter than 3 characters: its start), or the "
        "login's e-mail or user name."
    )
    sortable_by = ["patron_number"]
    autocomplete_fields = ["user", "laboratory"]
    list_select_related = ["laboratory", "home_branch"]
    # A block is set and lifted through patrons.services (the desk page), which logs it.
    readonly_fields = ["blocked", "block_reason"]
    inlines = [PatronEventInline]
    actions = ["unlock_sign_in"]

    @admin.action(description=_("Unlock sign-in (after too many wrong passwords)"), permissions=["change"])
    def unlock_sign_in(self, request, queryset):
        _unlock(self, request, [patron.user for patron in queryset.select_related("user")])

    def search_fields_for(self, request, term):
        fields = super().search_fields_for(request, term)
        return fields if "@" in term else [name for name in fields if "email" not in name]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = list(form.changed_data)
        services.log(
            obj,
            action="admin_change",
            actor=request.user,
            note=str(_("Changed in the admin: %(fields)s") % {"fields": ", ".join(changed) or "—"}),
            data={"changed": changed},
        )


class PatronEventActionFilter(admin.SimpleListFilter):
    """The actions patrons.services writes, known without reading the distinct actions of the table."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, action) for action in ("blocked", "unblocked", "admin_change", "sign_in_unlocked")]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(PatronEvent)
class PatronEventAdmin(BigTableAdmin):
    """The history is append-only: it is written by services, never edited here."""

    list_display = ["patron", "action", "actor", "created_at"]
    list_filter = [PatronEventActionFilter]
    search_fields = ["patron__patron_number__startswith", "patron__full_name"]
    trigram_search_fields = prefix_search_fields = ("patron__full_name",)
    list_select_related = ["patron", "actor"]
    ordering = ["-id"]  # newest first, by the primary key (events are only ever appended)
    sortable_by = []

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "branch"]
    list_filter = ["branch"]
    list_select_related = ["user", "branch"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class LoginAdmin(UserAdmin):
    """Django's user admin, with the sign-in unlock for staff logins (who have no patron record)."""

    actions = ["unlock_sign_in"]

    @admin.action(description=_("Unlock sign-in (after too many wrong passwords)"), permissions=["change"])
    def unlock_sign_in(self, request, queryset):
        _unlock(self, request, list(queryset))
