from django.contrib import admin

from patrons.models import Branch, Laboratory, OpeningHours, Patron, StaffMember


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


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


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "branch"]
    list_filter = ["branch"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
