"""The lending side in the admin (DESIGN.md §11).

Configuration is edited here: the borrowers' terms and our fee schedule. What the services own — a
lending request's status, its history, charges and invoices — is read-only: it changes only through
`lending.services` / `lending.money` (the desk pages and ISO 18626), so that every change writes its event.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_tools import BigTableAdmin
from lending.models import (
    BorrowerTerms,
    Invoice,
    LendingCharge,
    LendingEvent,
    LendingRequest,
    NumberCounter,
    OurFeeSchedule,
    Renewal,
)


class ReadOnly:
    """Written by the services, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BorrowerTerms)
class BorrowerTermsAdmin(admin.ModelAdmin):
    list_display = ["library", "may_borrow", "payment_terms_days", "billing_contact", "billing_email"]
    list_filter = ["may_borrow"]
    list_select_related = ["library"]
    search_fields = ["library__code", "library__name", "library__name_en"]
    autocomplete_fields = ["library"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "billing_address":  # a postal address has lines: 〒, address, department
            kwargs["widget"] = forms.Textarea(attrs={"rows": 3})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(OurFeeSchedule)
class OurFeeScheduleAdmin(admin.ModelAdmin):
    """The one row of our prices as a lender; the calculator reads it like a lender's schedule."""

    list_display = ["__str__", "mono_price", "colour_price", "postage_per_shipment", "loan_fee_mode", "updated_at"]
    fieldsets = [
        (_("Copies"), {"fields": ["mono_price", "colour_price", "handling_fee_per_item", "postage_per_shipment"]}),
        (_("Delivery"), {"fields": ["express_surcharge", "fax_fee_mode", "fax_fee_per_page", "fax_fee_fixed"]}),
        (_("Overseas"), {"fields": ["overseas_flat_fee_per_item", "overseas_fax_surcharge"]}),
        (_("Loans"), {"fields": ["loan_fee_mode", "loan_fee", "loan_express_surcharge"]}),
        (_("Payment and tax"), {"fields": ["bank_transfer_fee", "tax_rate_percent", "tax_included", "notes"]}),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not OurFeeSchedule.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False  # charges already made keep their lines; the schedule is edited, not removed


class LendingEventInline(ReadOnly, admin.TabularInline):
    model = LendingEvent
    extra = 0
    fields = readonly_fields = ["created_at", "action", "from_status", "to_status", "actor", "note", "data"]
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class RenewalInline(ReadOnly, admin.TabularInline):
    model = Renewal
    extra = 0
    fields = readonly_fields = ["asked_at", "wanted_until", "decision", "new_due_date", "decided_at", "decided_by"]
    can_delete = False


class LendingChargeInline(ReadOnly, admin.StackedInline):
    model = LendingCharge
    extra = 0
    fields = readonly_fields = ["settlement", "state", "total", "tax", "lines", "invoice", "paid_on", "waived_reason"]
    can_delete = False


@admin.register(LendingRequest)
class LendingRequestAdmin(ReadOnly, BigTableAdmin):
    list_display = ["number", "kind", "status", "title", "borrower", "received_at", "due_date"]
    list_filter = ["kind", "status", "source"]
    list_select_related = ["borrower"]
    search_fields = ["number__exact", "their_reference__exact"]
    number_search_fields = {"number": "L"}
    search_help_text = _("Lending number (L26-…) or their request number, as written.")
    ordering = ["-received_at"]  # index lending_newest
    sortable_by = ["received_at"]
    inlines = [LendingChargeInline, RenewalInline, LendingEventInline]


@admin.register(LendingEvent)
class LendingEventAdmin(ReadOnly, BigTableAdmin):
    list_display = ["request", "action", "from_status", "to_status", "actor", "created_at"]
    list_select_related = ["request", "actor"]
    search_fields = ["request__number__exact"]
    search_help_text = _("Lending number, as written.")
    ordering = ["request", "created_at"]
    sortable_by = []


@admin.register(LendingCharge)
class LendingChargeAdmin(ReadOnly, BigTableAdmin):
    list_display = ["request", "borrower", "settlement", "state", "total", "invoice", "created_at"]
    list_filter = ["settlement", "state"]
    list_select_related = ["request", "borrower", "invoice"]
    search_fields = ["request__number__exact"]
    search_help_text = _("Lending number, as written.")
    sortable_by = []


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly, BigTableAdmin):
    list_display = ["number", "borrower", "issued_on", "due_on", "total", "paid_on", "cancelled"]
    list_filter = ["cancelled"]
    list_select_related = ["borrower"]
    search_fields = ["number__exact"]
    number_search_fields = {"number": "INV-"}
    search_help_text = _("Invoice number (INV-2026-…).")
    sortable_by = []


@admin.register(NumberCounter)
class NumberCounterAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["series", "year", "last"]
