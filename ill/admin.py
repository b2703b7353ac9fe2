import logging
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.admin_tools import BigTableAdmin, InputFilter
from ill import holdings, identifiers, lifecycle, tasks
from ill.models import (
    ExtensionRequest,
    HoldingsImport,
    LenderCandidate,
    LendingInstitution,
    LocalHolding,
    LocalHoldingIdentifier,
    Request,
    RequestEvent,
    RequestNumberCounter,
    RuleRefusal,
)
from ill.services import add_note

log = logging.getLogger(__name__)


@admin.register(LendingInstitution)
class LendingInstitutionAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "is_offset_participant",
        "nacsis_participant_id",
        "accepts_public_expense",
        "supports_express",
        "supports_fax",
        "active",
    ]
    list_filter = ["kind", "is_offset_participant", "accepts_public_expense", "active"]
    search_fields = ["code", "name", "name_en", "nacsis_participant_id"]


class LocalHoldingIdentifierInline(admin.TabularInline):
    model = LocalHoldingIdentifier
    extra = 0


def import_limit_bytes() -> int:
    return int(settings.HOLDINGS_IMPORT_MAX_MB * 1024 * 1024)


def too_large_message():
    return _("The file is larger than %(limit)s MB, the most an import accepts (HOLDINGS_IMPORT_MAX_MB).") % {
        "limit": settings.HOLDINGS_IMPORT_MAX_MB
    }


class SizeLimitedUpload(FileUploadHandler):
    """Stops storing an upload once it passes HOLDINGS_IMPORT_MAX_MB: the rest of the request is
    read and dropped, nothing of it written to disk, and the view answers with a form error."""

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


class HoldingsImportForm(forms.Form):
    file = forms.FileField(
        label=_("Catalogue export"), help_text=_("CSV (UTF-8 or Shift_JIS) or MARC (ISO 2709 or MARCXML).")
    )
    format = forms.ChoiceField(label=_("Format"), choices=HoldingsImport.Format.choices)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > import_limit_bytes():
            raise forms.ValidationError(too_large_message())
        return upload


def _queue_import(job_id: int) -> None:
    """Hand the import to a worker; with the broker down the job fails at once with a message
    (the page says so) instead of a 500 and a job left queued for ever."""
    try:
        tasks.import_holdings_task.delay(job_id)
    except Exception:
        log.warning("could not queue holdings import %s", job_id, exc_info=True)
        holdings.fail_unqueued(job_id)


@admin.register(LocalHolding)
class LocalHoldingAdmin(admin.ModelAdmin):
    list_display = ["source_id", "title", "call_number", "status", "is_electronic", "branch"]
    list_filter = ["status", "is_electronic", "branch"]
    search_fields = ["source_id", "title", "author", "call_number", "identifiers__value"]
    inlines = [LocalHoldingIdentifierInline]
    change_list_template = "admin/ill/localholding/change_list.html"

    def get_urls(self):
        site = self.admin_site
        return [
            # csrf_exempt here, csrf_protect inside: the upload's size limit must be in place before
            # anything reads the request body (Django's pattern for per-view upload handlers).
            path("import/", site.admin_view(csrf_exempt(self.import_view)), name="ill_localholding_import"),
            path("import/<int:job_id>/", site.admin_view(self.job_view), name="ill_localholding_import_job"),
            path(
                "import/<int:job_id>/status.json",
                site.admin_view(self.job_status_view),
                name="ill_localholding_import_status",
            ),
        ] + super().get_urls()

    def import_view(self, request):
        limiter = SizeLimitedUpload(request, import_limit_bytes())
        if request.method == "POST":
            request.upload_handlers.insert(0, limiter)
        return csrf_protect(partial(self._import_form, limiter=limiter))(request)

    def _import_form(self, request, limiter: SizeLimitedUpload):
        """Upload a CSV or MARC export: it is stored as a job and imported by a Celery task (at once,
        in this process, without a broker); the job's page shows the progress and the report."""
        if not self.has_add_permission(request):
            return redirect("admin:ill_localholding_changelist")
        posted = request.method == "POST"
        form = HoldingsImportForm(request.POST, request.FILES) if posted else HoldingsImportForm()
        if posted:
            if limiter.exceeded:
                form.is_valid()
                form.errors.pop("file", None)
                form.add_error("file", too_large_message())
            elif form.is_valid():
                upload = form.cleaned_data["file"]
                with transaction.atomic():
                    job = holdings.create_job(
                        upload.read(), form.cleaned_data["format"], file_name=upload.name or "", user=request.user
                    )
                    transaction.on_commit(partial(_queue_import, job.pk))
                self.message_user(request, _("The file was received: this page shows its import."))
                return redirect("admin:ill_localholding_import_job", job_id=job.pk)
        holdings.mark_stale_jobs()
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "jobs": HoldingsImport.objects.defer("data", "errors").select_related("started_by")[:10],
            "limit_mb": settings.HOLDINGS_IMPORT_MAX_MB,
            "opts": self.model._meta,
            "title": _("Import holdings"),
        }
        return render(request, "admin/ill/localholding/import.html", context, status=400 if form.errors else 200)

    def _job(self, request, job_id: int) -> HoldingsImport:
        holdings.mark_stale_jobs()
        return get_object_or_404(HoldingsImport.objects.defer("data").select_related("started_by"), pk=job_id)

    def job_view(self, request, job_id: int):
        """One import: a progress bar polled by static/js/import-job.js, then the report."""
        if not self.has_add_permission(request):
            return redirect("admin:ill_localholding_changelist")
        job = self._job(request, job_id)
        context = {
            **self.admin_site.each_context(request),
            "job": job,
            "status": holdings.status(job),
            "record_word": _("Line") if job.fmt == HoldingsImport.Format.CSV else _("Record"),
            "opts": self.model._meta,
            "title": _("Holdings import: %(file)s") % {"file": job.file_name or job.pk},
        }
        return render(request, "admin/ill/localholding/import_job.html", context)

    def job_status_view(self, request, job_id: int):
        if not self.has_add_permission(request):
            return JsonResponse({"error": "forbidden"}, status=403)
        job = self._job(request, job_id)
        data = holdings.status(job)
        data["page"] = reverse("admin:ill_localholding_import_job", args=[job.pk])
        return JsonResponse(data)


class LenderCandidateInline(admin.TabularInline):
    model = LenderCandidate
    extra = 0
    readonly_fields = ["position", "lender", "state", "lender_reference", "ordered_at", "answered_at", "answer_note"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lender")


class AppendOnly:
    """History is append-only: written by the services, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RequestEventInline(AppendOnly, admin.TabularInline):
    model = RequestEvent
    extra = 0
    readonly_fields = ["created_at", "action", "from_status", "to_status", "actor", "note", "visible_to_patron"]
    fields = readonly_fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ExtensionRequestInline(admin.TabularInline):
    model = ExtensionRequest
    extra = 0
    fields = readonly_fields = [
        "state",
        "requested_at",
        "requested_by",
        "reason",
        "new_lender_due_date",
        "new_due_date",
        "decided_at",
        "decided_by",
        "answer_note",
    ]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by", "decided_by")


# Always read-only: the number, the status (changed only by the lifecycle services) and the timestamps.
REQUEST_ALWAYS_READ_ONLY = [
    "number",
    "status",
    "submitted_at",
    "reviewed_at",
    "ordered_at",
    "arrived_at",
    "notified_at",
    "handed_over_at",
    "returned_at",
    "closed_at",
    "updated_at",
    "lender",
    "lender_reference",
    "nacsis_ill_id",  # recorded at ordering, corrected on the request page (with a line in its history)
    "created_by",  # who entered the request: history, and a login among 50,000
]
# Read-only once the request is past `submitted`: the ordering, money and answer services own them.
REQUEST_SERVICE_OWNED = [
    "expense_type",
    "budget_code",
    "support_budget",
    "shipping_method",
    "estimate",
    "due_date",
    "lender_due_date",
    "use_restriction",
    "reject_reason",
    "close_reason",
]


class LenderCodeFilter(InputFilter):
    """The lender by its code, typed in: a list of 300 lenders would be a page of its own."""

    title = _("lender code")
    parameter_name = "lender_code"

    def queryset(self, request, queryset):
        code = self.value()
        return queryset.filter(lender__code=code) if code else queryset


def identifier_matches(term: str) -> list[Q]:
    """A request's identifiers (ISBN, ISSN, NCID, DOI) found as typed, hyphens and all, by their
    normalised value (each column has a B-tree index)."""
    matches = []
    for kind in ("isbn", "issn", "ncid", "doi"):
        try:
            value = identifiers.normalize_identifier(kind, term)
        except (identifiers.IdentifierError, ValueError):
            continue
        if value:
            matches.append(Q(**{kind: value}))
    return matches


@admin.register(Request)
class RequestAdmin(BigTableAdmin):
    """Status is read-only here: it changes only through the lifecycle services (the desk pages).
    Once a request is past `submitted`, what the services own is read-only too, and every save
    here is written to the request's history.

    At a million requests: the list reads one page of the `-submitted_at` index (the date is a
    range filter, not a date hierarchy that would list the distinct dates of every request), the
    search uses the trigram indexes on number and titles and looks patrons up first, and only
    indexed columns sort."""

    list_display = ["number", "kind", "status", "display_title", "patron", "pickup_branch", "lender", "submitted_at"]
    list_filter = [
        "kind",
        "status",
        "expense_type",
        "pickup_branch",
        "lender__kind",
        LenderCodeFilter,
        ("submitted_at", admin.DateFieldListFilter),
    ]
    search_fields = [
        "number",
        "title",
        "article_title",
        "patron__patron_number__startswith",
        "patron__full_name",
        "patron__full_name_kana",
    ]
    trigram_search_fields = ("number", "title", "article_title", "patron__full_name", "patron__full_name_kana")
    prefix_search_fields = ("title", "patron__full_name", "patron__full_name_kana")  # request_title_prefix, …
    number_search_fields = {"number": "ILL-"}
    search_help_text = _(
        "Request number or title, ISBN, ISSN, NCID or DOI, patron number or name (a term shorter than 3 "
        "characters: the start of a title or name)."
    )
    sortable_by = ["number", "submitted_at"]
    list_select_related = ["patron", "pickup_branch", "lender"]
    readonly_fields = REQUEST_ALWAYS_READ_ONLY
    autocomplete_fields = ["patron", "budget_code"]
    inlines = [LenderCandidateInline, ExtensionRequestInline, RequestEventInline]

    def search_term_matches(self, term):
        return identifier_matches(term)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != Request.Status.SUBMITTED:
            fields += [name for name in REQUEST_SERVICE_OWNED if name not in fields]
        return fields

    def has_add_permission(self, request):
        return False  # requests enter through the intake service (patron form or the desk)

    def has_delete_permission(self, request, obj=None):
        return False  # a request is cancelled or closed through a service, never deleted

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = list(form.changed_data)
        add_note(
            obj,
            actor=request.user,
            action="admin_change",
            note=str(_("Changed in the admin: %(fields)s") % {"fields": ", ".join(changed) or "—"}),
            data={"changed": changed},
            visible_to_patron=False,
        )


# What the services write besides the lifecycle's transitions (ill.services: add_note's actions).
OTHER_EVENT_ACTIONS = (
    "reviewed",
    "note",
    "notified",
    "charge_accepted",
    "payment",
    "return_postage",
    "extension_requested",
    "extension_forwarded",
    "extension_granted",
    "extension_refused",
    "recalled",
    "admin_change",
)


class EventActionFilter(admin.SimpleListFilter):
    """The actions are known, so the filter does not read the distinct actions of millions of events."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, label) for action, label in lifecycle.ACTION_LABELS.items()] + [
            (action, action) for action in OTHER_EVENT_ACTIONS
        ]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class RequestNumberSearch:
    """Searched by the request's number (trigram index, 3 characters or more)."""

    search_fields = ["request__number"]
    trigram_search_fields = ("request__number",)
    number_search_fields = {"request__number": "ILL-"}
    search_help_text = _("Request number (3 characters or more).")


@admin.register(RequestEvent)
class RequestEventAdmin(AppendOnly, RequestNumberSearch, BigTableAdmin):
    list_display = ["request", "action", "from_status", "to_status", "actor", "created_at"]
    list_filter = [EventActionFilter]
    list_select_related = ["request", "actor"]
    ordering = ["-created_at", "-id"]  # index event_time
    sortable_by = ["created_at"]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(RequestNumberSearch, BigTableAdmin):
    """An extension is decided through ill.services.extensions; its state and dates are read-only here."""

    list_display = ["request", "state", "requested_at", "new_due_date", "decided_at"]
    list_filter = ["state"]
    list_select_related = ["request"]
    ordering = ["-requested_at", "-id"]  # index extension_requested
    sortable_by = ["requested_at"]
    raw_id_fields = ["request"]
    readonly_fields = [
        "request",
        "state",
        "requested_by",
        "requested_at",
        "new_lender_due_date",
        "new_due_date",
        "decided_by",
        "decided_at",
    ]

    def has_add_permission(self, request):
        return False  # a patron asks for an extension through the extension service

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleRefusal)
class RuleRefusalAdmin(AppendOnly, BigTableAdmin):
    """The copyright log's raw rows (ill.refusals writes them): read-only, and nothing in them says who."""

    list_display = ["day", "rule", "kind", "material_type", "branch", "patron_category", "staff_entry"]
    list_filter = ["kind", "staff_entry"]
    list_select_related = ["branch"]
    ordering = ["-day", "-id"]  # index refusal_day_rule
    sortable_by = ["day"]
    exclude = ["fingerprint"]


@admin.register(RequestNumberCounter)
class RequestNumberCounterAdmin(admin.ModelAdmin):
    list_display = ["year", "last"]

    def has_change_permission(self, request, obj=None):
        return False
