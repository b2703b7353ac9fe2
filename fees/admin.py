from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from core.admin_tools import BigTableAdmin, InputFilter, yen_column
from core.text import fiscal_year_label, format_percent, format_yen, int_param
from fees import calculator, support
from fees.labels import line_label
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
    SupportUse,
    current_fiscal_year,
)
from fees.schedules import schedule_for
from fees.selectors import fiscal_year_bounds

# Seed 004 example 2: two items, 7 pages of which 2 in colour (3 mono; 2 mono + 2 colour), by mail.
SEED_EXAMPLE_2 = [
    calculator.CopyItem(key=1, mono_pages=3, colour_pages=0),
    calculator.CopyItem(key=2, mono_pages=2, colour_pages=2),
]


class ReadOnlyAdmin(BigTableAdmin):
    """Money a service wrote: shown, never added, changed or deleted here (a correction is a new
    entry made by a service). These tables grow with every request, so their lists are a
    `BigTableAdmin`: a bounded count, an indexed ordering and search."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaperSizePriceInline(admin.TabularInline):
    model = PaperSizePrice
    extra = 0


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    # Six columns that fit a 1,280 px window (eight bare numbers overflowed 1,440 px).
    list_display = [
        "lender",
        "copy_prices",
        yen_column("handling_fee_per_item", _("handling, per item")),
        yen_column("postage_per_shipment", _("postage, per shipment")),
        "loan_fee_display",
        "updated_at",
    ]
    search_fields = ["lender__name", "lender__code"]
    list_select_related = ["lender"]
    autocomplete_fields = ["lender"]
    readonly_fields = ["seed_example_preview"]
    inlines = [PaperSizePriceInline]
    fieldsets = [
        (None, {"fields": ["lender"]}),
        (
            _("Copies"),
            {
                "fields": [
                    "mono_price",
                    "colour_price",
                    "handling_fee_per_item",
                    "postage_per_shipment",
                    "express_surcharge",
                    "bank_transfer_fee",
                ]
            },
        ),
        (_("FAX / electronic delivery"), {"fields": ["fax_fee_mode", "fax_fee_per_page", "fax_fee_fixed"]}),
        (_("Tax"), {"fields": ["tax_rate_percent", "tax_included"]}),
        (_("Overseas"), {"fields": ["overseas_flat_fee_per_item", "overseas_fax_surcharge"]}),
        (_("Loans"), {"fields": ["loan_fee_mode", "loan_fee", "loan_express_surcharge"]}),
        (_("Check"), {"fields": ["seed_example_preview", "notes"]}),
    ]

    @admin.display(description=_("copy, per page (mono / colour)"))
    def copy_prices(self, obj):
        return f"{format_yen(obj.mono_price)} / {format_yen(obj.colour_price)}"

    @admin.display(description=_("loan fee"))
    def loan_fee_display(self, obj):
        return (
            f"{obj.get_loan_fee_mode_display()} · {format_yen(obj.loan_fee)}"
            if obj.loan_fee
            else obj.get_loan_fee_mode_display()
        )

    @admin.display(description=_("Seed example 2 with this schedule"))
    def seed_example_preview(self, obj):
        """What this lender would charge for seed 004's example 2 (2 items, 7 pages, 2 in colour)."""
        if obj is None or obj.pk is None:
            return _("Save the schedule to see the example.")
        try:
            breakdown = calculator.price_copies(schedule_for(obj.lender), SEED_EXAMPLE_2)
        except ValueError as exc:
            return str(exc)
        return render_to_string(
            "admin/fees/seed_example.html",
            {
                "lines": [(line_label(line.code), line) for line in breakdown.lines],
                "breakdown": breakdown,
                "shares": [format_yen(share.total) for share in breakdown.shares],
                "total": format_yen(breakdown.total),
            },
        )


class FiscalYearFilter(admin.SimpleListFilter):
    """The fiscal years the desk works with (next year back to nine years ago), known without
    reading the distinct years of the table."""

    title = _("fiscal year")
    parameter_name = "fiscal_year"
    field = "fiscal_year"

    def lookups(self, request, model_admin):
        this_year = current_fiscal_year()
        return [(str(year), fiscal_year_label(year)) for year in range(this_year + 1, this_year - 10, -1)]

    def queryset(self, request, queryset):
        year = int_param(self.value())
        return queryset.filter(**{self.field: year}) if year is not None else queryset


class RecordedInFiscalYearFilter(FiscalYearFilter):
    """Rows recorded between 1 April of the year and 1 April of the next: a range of the list's
    time index. (Filtering on the budget's year instead made the newest-first list read back
    through every later year to find an old one's rows: 0.4 s for FY2022 on a million.) A budget
    code or support budget of a year is used within that year, so the rows are the same."""

    field = "created_at"

    def queryset(self, request, queryset):
        year = int_param(self.value())
        if year is None:
            return queryset
        start, end = fiscal_year_bounds(year)
        return queryset.filter(**{f"{self.field}__gte": start, f"{self.field}__lt": end})


class RequestNumberSearch:
    """Searched by the request's number (trigram index, 3 characters or more)."""

    search_fields = ["request__number"]
    trigram_search_fields = ("request__number",)
    number_search_fields = {"request__number": "ILL-"}  # ill's request numbers
    search_help_text = _("Request number (3 characters or more).")


class BudgetCodeFilter(InputFilter):
    """The budget code typed in: there are thousands."""

    title = _("budget code")
    parameter_name = "budget_code"

    def queryset(self, request, queryset):
        code = self.value()
        return queryset.filter(budget_code__code=code) if code else queryset


class LenderCodeFilter(InputFilter):
    """The lender by its code, typed in: a list of 300 lenders would be a page of its own."""

    title = _("lender code")
    parameter_name = "lender_code"

    def queryset(self, request, queryset):
        code = self.value()
        return queryset.filter(lender__code=code) if code else queryset


def _ledger_sum(*entry_types):
    """What the ledger holds for the budget code of the row, of these entry types: a subquery over
    the `ledger_code_amount` index (index-only), run for the rows shown only (not a join of the
    whole ledger)."""
    entries = (
        BudgetLedgerEntry.objects.filter(budget_code=OuterRef("pk"), entry_type__in=entry_types)
        .order_by()
        .values("budget_code")
        .annotate(sum=Sum("amount"))
        .values("sum")
    )
    return Coalesce(Subquery(entries, output_field=IntegerField()), Value(0), output_field=IntegerField())


@admin.register(BudgetCode)
class BudgetCodeAdmin(BigTableAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "fiscal_year",
        "responsible",
        "laboratory",
        "limit_display",
        "committed_display",
        "charged_display",
        "left_display",
        "usable_for_ill",
        "active",
    ]
    list_filter = [FiscalYearFilter, "kind", "active", "usable_for_ill"]
    search_fields = ["code", "name", "responsible__full_name"]
    trigram_search_fields = prefix_search_fields = ("responsible__full_name",)
    autocomplete_fields = ["responsible", "laboratory", "members"]
    list_select_related = ["responsible", "laboratory"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(committed=_ledger_sum("commitment", "release"), charged=_ledger_sum("charge"))
        )

    @admin.display(description=_("limit"), ordering="limit")
    def limit_display(self, obj):
        return format_yen(obj.limit) if obj.limit is not None else _("no limit")

    @admin.display(description=_("committed"))
    def committed_display(self, obj):
        return format_yen(obj.committed)

    @admin.display(description=_("charged"))
    def charged_display(self, obj):
        return format_yen(obj.charged)

    @admin.display(description=_("left"))
    def left_display(self, obj):
        if obj.limit is None:
            return "—"
        return format_yen(obj.limit - obj.committed - obj.charged)


@admin.register(BudgetLedgerEntry)
class BudgetLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["budget_code", "request", "entry_type", yen_column("amount", _("amount")), "created_at"]
    list_filter = ["entry_type", BudgetCodeFilter, RecordedInFiscalYearFilter]
    search_fields = ["budget_code__code", "request__number"]
    trigram_search_fields = ("request__number",)
    number_search_fields = {"request__number": "ILL-"}  # ill's request numbers
    search_help_text = _("Budget code, or request number (3 characters or more).")
    list_select_related = ["budget_code", "request"]
    ordering = ["-created_at", "-id"]  # index ledger_time
    sortable_by = ["created_at"]


@admin.register(SupportBudget)
class SupportBudgetAdmin(admin.ModelAdmin):
    list_display = [
        "fiscal_year",
        "total_display",
        "spent_display",
        "percent_display",
        "supported",
        "per_student_cap",
        "is_open",
        "closed_at",
    ]
    readonly_fields = [
        "spent_display",
        "percent_display",
        "supported",
        "closed_at",
        "alert_80_sent_at",
        "closing_alert_sent_at",
    ]

    def get_queryset(self, request):
        """What each budget spent and how many requests it supports, as subqueries over the index
        on the budget of each table, run for the budgets shown (not a query per row and column)."""
        money = IntegerField()
        charged = (
            SupportUse.objects.filter(budget=OuterRef("pk"), state=SupportUse.State.CHARGED)
            .order_by()
            .values("budget")
            .annotate(sum=Sum("amount"))
            .values("sum")
        )
        requests = SupportBudget._meta.get_field("requests").related_model  # ill.Request; fees never imports ill
        supported = (
            requests.objects.filter(support_budget=OuterRef("pk"))
            .exclude(status__in=["rejected", "cancelled"])
            .order_by()
            .values("support_budget")
            .annotate(n=Count("*"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                spent_total=Coalesce(Subquery(charged, output_field=money), Value(0), output_field=money),
                supported_requests=Coalesce(Subquery(supported, output_field=money), Value(0), output_field=money),
            )
        )

    def _spent(self, obj) -> int:
        return obj.spent_total if hasattr(obj, "spent_total") else support.spent(obj)

    @admin.display(description=_("total"))
    def total_display(self, obj):
        return format_yen(obj.total)

    @admin.display(description=_("spent"))
    def spent_display(self, obj):
        return format_yen(self._spent(obj))

    @admin.display(description=_("used"))
    def percent_display(self, obj):
        return format_percent(self._spent(obj), obj.total)

    @admin.display(description=_("supported requests"))
    def supported(self, obj):
        return obj.supported_requests if hasattr(obj, "supported_requests") else obj.requests.count()


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChargeLineInline(ReadOnlyInline):
    model = ChargeLine
    readonly_fields = ["position", "code", "section", "unit_price", "quantity", "amount"]
    fields = readonly_fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fk_name = "charge"
    readonly_fields = ["method", "amount", "receipt_number", "received_by", "received_at"]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("received_by")


@admin.register(Charge)
class ChargeAdmin(RequestNumberSearch, ReadOnlyAdmin):
    list_display = ["request", "payment_class", "budget_code", yen_column("total", _("total")), "state", "created_at"]
    list_filter = ["payment_class", "state", BudgetCodeFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["request", "budget_code"]
    ordering = ["-created_at", "-id"]  # index charge_time
    sortable_by = ["created_at"]
    readonly_fields = [
        "request",
        "shipment",
        "copy_fee",
        "postage",
        "other_fees",
        "tax",
        "return_postage",
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
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = ["lender", "received_at", "delivery_method", yen_column("total", _("total")), "lender_invoice"]
    list_filter = ["delivery_method", LenderCodeFilter, ("received_at", admin.DateFieldListFilter)]
    list_select_related = ["lender"]
    ordering = ["-received_at", "-id"]  # index shipment_time
    sortable_by = ["received_at"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["request", "charge", "method", yen_column("amount", _("amount")), "receipt_number", "received_at"]
    list_filter = ["method", ("received_at", admin.DateFieldListFilter)]
    search_fields = ["receipt_number__exact", "request__number"]
    trigram_search_fields = ("request__number",)
    number_search_fields = {"request__number": "ILL-"}  # ill's request numbers
    search_help_text = _("Receipt number, or request number (3 characters or more).")
    list_select_related = ["request", "charge"]
    ordering = ["-received_at", "-id"]  # index payment_day_method
    sortable_by = ["received_at"]


@admin.register(SupportUse)
class SupportUseAdmin(ReadOnlyAdmin):
    """A use of the support budget moves only through fees.states.SUPPORT (fees.support)."""

    list_display = ["request", "patron", "budget", "state", yen_column("amount", _("amount")), "updated_at"]
    list_filter = ["state", RecordedInFiscalYearFilter]
    search_fields = ["request__number", "patron__patron_number__startswith", "patron__full_name"]
    trigram_search_fields = ("request__number", "patron__full_name")
    number_search_fields = {"request__number": "ILL-"}  # ill's request numbers
    prefix_search_fields = ("patron__full_name",)
    search_help_text = _("Request number (3 characters or more), patron number or name.")
    list_select_related = ["request", "patron", "budget"]
    ordering = ["-created_at", "-id"]  # index support_use_time
    sortable_by = ["created_at"]
