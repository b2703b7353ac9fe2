from django.contrib import admin

from fees.models import (
    BudgetCode,
    BudgetLedgerEntry,
    Charge,
    ChargeLine,
    FeeSchedule,
    PaperSizePrice,
    Payment,
    Shipment,
    SupportBudget,
)


class PaperSizePriceInline(admin.TabularInline):
    model = PaperSizePrice
    extra = 0


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    list_display = [
        "lender",
        "mono_price",
        "colour_price",
        "handling_fee_per_item",
        "postage_per_shipment",
        "loan_fee_mode",
        "loan_fee",
        "updated_at",
    ]
    search_fields = ["lender__name", "lender__code"]
    inlines = [PaperSizePriceInline]


@admin.register(BudgetCode)
class BudgetCodeAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "fiscal_year",
        "responsible",
        "laboratory",
        "limit",
        "usable_for_ill",
        "active",
    ]
    list_filter = ["fiscal_year", "kind", "active", "usable_for_ill"]
    search_fields = ["code", "name", "responsible__full_name"]
    autocomplete_fields = ["responsible", "laboratory", "members"]


@admin.register(BudgetLedgerEntry)
class BudgetLedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["budget_code", "request", "entry_type", "amount", "created_at"]
    list_filter = ["entry_type", "budget_code__fiscal_year"]
    search_fields = ["budget_code__code", "request__number"]
    list_select_related = ["budget_code", "request"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SupportBudget)
class SupportBudgetAdmin(admin.ModelAdmin):
    list_display = ["fiscal_year", "total", "per_student_cap", "is_open", "closed_at"]


class ChargeLineInline(admin.TabularInline):
    model = ChargeLine
    extra = 0
    readonly_fields = ["position", "code", "section", "unit_price", "quantity", "amount"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    readonly_fields = ["method", "amount", "receipt_number", "received_by", "received_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["request", "payment_class", "budget_code", "total", "state", "created_at"]
    list_filter = ["payment_class", "state"]
    search_fields = ["request__number"]
    list_select_related = ["request", "budget_code"]
    readonly_fields = [
        "request",
        "shipment",
        "copy_fee",
        "postage",
        "other_fees",
        "tax",
        "computed_total",
        "total",
        "adjustment_reason",
        "state",
        "payment_class",
        "budget_code",
        "accepted_at",
        "created_by",
    ]
    inlines = [ChargeLineInline, PaymentInline]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["lender", "received_at", "delivery_method", "total", "lender_invoice"]
    list_filter = ["lender"]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["charge", "method", "amount", "receipt_number", "received_at"]
    list_filter = ["method"]
    search_fields = ["receipt_number", "charge__request__number"]

    def has_change_permission(self, request, obj=None):
        return False
