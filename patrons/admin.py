import logging
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.admin_tools import BigTableAdmin
from patrons import registrar, services, tasks
from patrons.models import Branch, Laboratory, OpeningHours, Patron, PatronEvent, PatronImport, StaffMember

log = logging.getLogger(__name__)


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
    list_display = ["name", "code", "department", "supervisor", "active"]
    list_filter = ["active", "department"]
    search_fields = ["code", "name", "name_en", "department"]
    autocomplete_fields = ["supervisor"]
    list_select_related = ["supervisor"]


class SizeLimitedUpload(FileUploadHandler):
    """Stops storing an upload once it passes PATRON_IMPORT_MAX_MB: the rest of the request is read
    and dropped, nothing of it written to disk, and the view answers with a form error."""

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


class PatronImportForm(forms.Form):
    file = forms.FileField(
        label=_("Registrar's list (CSV)"),
        help_text=_("UTF-8 (with or without BOM) or Shift_JIS. The columns are described above."),
    )
    complete = forms.BooleanField(
        label=_("This file is the complete list"),
        required=False,
        help_text=_(
            "Ticked: active patrons of the categories in this file who are not in it are marked as having left "
            "(never deleted: their history stays). Not ticked: patrons are only added and updated."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > registrar.limit_bytes():
            raise forms.ValidationError(registrar.too_large_message())
        return upload


def _queue_import(job_id: int) -> None:
    """Hand the job to a worker; with the broker down the job fails at once with a message (the
    page says so) instead of a 500 and a job left queued for ever."""
    try:
        tasks.import_patrons_task.delay(job_id)
    except Exception:
        log.warning("could not queue patron import %s", job_id, exc_info=True)
        registrar.fail_unqueued(job_id)


FIELD_LABELS = {
    "full_name": _("name"),
    "full_name_kana": _("kana"),
    "email": _("e-mail"),
    "category": _("category"),
    "laboratory_id": _("laboratory"),
    "home_branch_id": _("home branch"),
    "department": _("department"),
}


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
        "active",
    ]
    list_filter = ["category", "home_branch", "preferred_language", "blocked", "active"]
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
    # A block is set and lifted through patrons.services (the desk page), which logs it. Leaving and
    # returning come from the registrar import (patrons.registrar); an administrator may also turn
    # "registered" off or on here (the time it is turned off is kept in left_at, and the change logged).
    readonly_fields = ["blocked", "block_reason", "left_at"]
    inlines = [PatronEventInline]
    actions = ["unlock_sign_in"]
    change_list_template = "admin/patrons/patron/change_list.html"

    @admin.action(description=_("Unlock sign-in (after too many wrong passwords)"), permissions=["change"])
    def unlock_sign_in(self, request, queryset):
        _unlock(self, request, [patron.user for patron in queryset.select_related("user")])

    def search_fields_for(self, request, term):
        fields = super().search_fields_for(request, term)
        return fields if "@" in term else [name for name in fields if "email" not in name]

    def save_model(self, request, obj, form, change):
        if "active" in form.changed_data:
            obj.left_at = None if obj.active else timezone.now()
        super().save_model(request, obj, form, change)
        changed = list(form.changed_data)
        services.log(
            obj,
            action="admin_change",
            actor=request.user,
            note=str(_("Changed in the admin: %(fields)s") % {"fields": ", ".join(changed) or "—"}),
            data={"changed": changed},
        )

    # --- the registrar import -----------------------------------------------------------

    def get_urls(self):
        site = self.admin_site
        return [
            # csrf_exempt here, csrf_protect inside: the upload's size limit must be in place before
            # anything reads the request body (Django's pattern for per-view upload handlers).
            path("import/", site.admin_view(csrf_exempt(self.import_view)), name="patrons_patron_import"),
            path("import/<int:job_id>/", site.admin_view(self.job_view), name="patrons_patron_import_job"),
            path(
                "import/<int:job_id>/status.json",
                site.admin_view(self.job_status_view),
                name="patrons_patron_import_status",
            ),
        ] + super().get_urls()

    def may_import(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def import_view(self, request):
        limiter = SizeLimitedUpload(request, registrar.limit_bytes())
        if request.method == "POST":
            request.upload_handlers.insert(0, limiter)
        return csrf_protect(partial(self._import_form, limiter=limiter))(request)

    def _import_form(self, request, limiter: SizeLimitedUpload):
        """Upload the registrar's CSV: stored as a job and checked by a Celery task (at once, in this
        process, without a broker); the job's page shows the progress, then the preview to confirm."""
        if not self.may_import(request):
            return redirect("admin:patrons_patron_changelist")
        posted = request.method == "POST"
        form = PatronImportForm(request.POST, request.FILES) if posted else PatronImportForm()
        if posted:
            if limiter.exceeded:
                form.is_valid()
                form.errors.pop("file", None)
                form.add_error("file", registrar.too_large_message())
            elif form.is_valid():
                upload = form.cleaned_data["file"]
                with transaction.atomic():
                    job = registrar.create_job(
                        upload.read(),
                        complete=form.cleaned_data["complete"],
                        file_name=upload.name or "",
                        user=request.user,
                    )
                    transaction.on_commit(partial(_queue_import, job.pk))
                self.message_user(request, _("The file was received: this page shows its check."))
                return redirect("admin:patrons_patron_import_job", job_id=job.pk)
        registrar.mark_stale_jobs()
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "jobs": PatronImport.objects.defer("data", "errors", "samples").select_related("started_by")[:10],
            "limit_mb": settings.PATRON_IMPORT_MAX_MB,
            "columns": registrar.COLUMNS,
            "categories": Patron.Category.choices,
            "opts": self.model._meta,
            "title": _("Import from the registrar"),
        }
        return render(request, "admin/patrons/patron/import.html", context, status=400 if form.errors else 200)

    def _job(self, job_id: int) -> PatronImport:
        registrar.mark_stale_jobs()
        return get_object_or_404(PatronImport.objects.defer("data").select_related("started_by"), pk=job_id)

    def job_view(self, request, job_id: int):
        """One import: a progress bar polled by static/js/import-job.js, then the preview with
        the buttons to apply or discard it, then the result."""
        if not self.may_import(request):
            return redirect("admin:patrons_patron_changelist")
        if request.method == "POST":
            return self._decide(request, job_id)
        job = self._job(job_id)
        samples = [
            (kind, title, rows)
            for kind, title in (
                ("new", _("New")),
                ("changed", _("Changed")),
                ("returning", _("Returning")),
                ("leaving", _("Leaving")),
            )
            if (rows := self._shown_samples(job.samples.get(kind, [])))
        ]
        context = {
            **self.admin_site.each_context(request),
            "job": job,
            "status": registrar.status(job),
            "samples": samples,
            "opts": self.model._meta,
            "title": _("Registrar import: %(file)s") % {"file": job.file_name or job.pk},
        }
        return render(request, "admin/patrons/patron/import_job.html", context)

    @staticmethod
    def _shown_samples(rows):
        """[line, number, name, detail]: a change's detail as “field: old → new” in the page's language."""
        shown = []
        for line, number, name, detail in rows:
            if isinstance(detail, list):
                detail = "; ".join(f"{FIELD_LABELS.get(key, key)}: {old} → {new}" for key, old, new in detail)
            shown.append((line, number, name, detail))
        return shown

    def _decide(self, request, job_id: int):
        decision = request.POST.get("decision")
        if decision == "apply":
            with transaction.atomic():
                queued = registrar.request_apply(job_id, user=request.user)
                if queued:
                    transaction.on_commit(partial(_queue_import, job_id))
            if queued:
                self.message_user(request, _("Applying the import: this page shows its progress."))
            else:
                self.message_user(request, registrar.NOT_READY, messages.ERROR)
        elif decision == "discard":
            if registrar.discard(job_id):
                self.message_user(request, _("The import was discarded; nothing was changed."))
            else:
                self.message_user(request, registrar.NOT_READY, messages.ERROR)
        else:
            self.message_user(request, _("Choose to apply or to discard the import."), messages.ERROR)
        return redirect("admin:patrons_patron_import_job", job_id=job_id)

    def job_status_view(self, request, job_id: int):
        if not self.may_import(request):
            return JsonResponse({"error": "forbidden"}, status=403)
        job = self._job(job_id)
        data = registrar.status(job)
        data["page"] = reverse("admin:patrons_patron_import_job", args=[job.pk])
        return JsonResponse(data)


@admin.register(PatronImport)
class PatronImportAdmin(admin.ModelAdmin):
    """The registrar imports, read-only: each one's page (progress, preview, result) is the import's own."""

    list_display = ["file", "state", "complete", "new_count", "changed_count", "leaving_count", "created_at"]
    list_filter = ["state"]
    list_select_related = ["started_by"]
    fields = readonly_fields = [
        "file_name",
        "file_size",
        "complete",
        "state",
        "message",
        "new_count",
        "changed_count",
        "unchanged_count",
        "returning_count",
        "leaving_count",
        "error_count",
        "started_by",
        "applied_by",
        "created_at",
        "finished_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data", "errors", "samples")

    @admin.display(description=_("file"))
    def file(self, job):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:patrons_patron_import_job", args=[job.pk]), job.file_name or job.pk
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PatronEventActionFilter(admin.SimpleListFilter):
    """The actions patrons.services writes, known without reading the distinct actions of the table."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [
            (action, action)
            for action in (
                "blocked",
                "unblocked",
                "admin_change",
                "sign_in_unlocked",
                "registrar_created",
                "registrar_changed",
                "registrar_left",
                "registrar_returned",
            )
        ]

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
