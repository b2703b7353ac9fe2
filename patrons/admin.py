from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from patrons import services
from patrons.models import Branch, Laboratory, OpeningHours, Patron, PatronEvent, StaffMember


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class PatronEventInline(admin.TabularInline):
    model = PatronEvent
    extra = 0
    fields = readonly_fields = ["created_at", "action", "actor", "note"]
    can_delete = False

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


@admin.register(Patron)
class PatronAdmin(admin.ModelAdmin):
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
    search_fields = ["patron_number", "full_name", "full_name_kana", "user__email", "user__username"]
    autocomplete_fields = ["user", "laboratory"]
    list_select_related = ["laboratory", "home_branch"]
    # A block is set and lifted through patrons.services (the desk page), which logs it.
    readonly_fields = ["blocked", "block_reason"]
    inlines = [PatronEventInline]

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


@admin.register(PatronEvent)
class PatronEventAdmin(admin.ModelAdmin):
    """The history is append-only: it is written by services, never edited here."""

    list_display = ["patron", "action", "actor", "created_at"]
    list_filter = ["action"]
    search_fields = ["patron__patron_number", "patron__full_name"]
    list_select_related = ["patron", "actor"]

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
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
