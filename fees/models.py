"""Fee schedules, charges, budget codes and the student support budget (DESIGN.md §5, §6).

Money is whole yen in integer fields. The arithmetic lives in `fees.calculator` (pure functions);
these models store its inputs (schedules) and its results (charges and their lines).
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import bounds
from core.text import fiscal_year_label


class ExpenseType(models.TextChoices):
    """Who pays for a request (DESIGN.md §2): a budget code, a research grant, or the patron."""

    PUBLIC = "public", _("Public expense (budget code)")
    GRANT = "grant", _("Research grant (KAKENHI)")
    PRIVATE = "private", _("Private expense")


PUBLIC_EXPENSES = (ExpenseType.PUBLIC, ExpenseType.GRANT)


class Delivery(models.TextChoices):
    """How a lender sends (and a patron wishes to receive) an item; each is priced differently (§5)."""

    MAIL = "mail", _("Ordinary mail")
    EXPRESS = "express", _("Express mail")
    FAX = "fax", _("FAX / electronic delivery")


def fiscal_year_of(day: datetime.date) -> int:
    """Japanese fiscal years run April–March: 2026-03-31 is FY2025, 2026-04-01 is FY2026."""
    return day.year if day.month >= 4 else day.year - 1


def current_fiscal_year() -> int:
    return fiscal_year_of(timezone.localdate())


class FeeSchedule(models.Model):
    """What a lender charges (DESIGN.md §5). Unit prices are per page (sheet), in yen."""

    class FaxFeeMode(models.TextChoices):
        NONE = "none", _("No FAX / electronic delivery")
        PER_PAGE = "per_page", _("Per page")
        FIXED = "fixed", _("Fixed per shipment")

    class LoanFeeMode(models.TextChoices):
        ROUND_TRIP = "round_trip", _("Round trip postage")
        RETURN_ONLY = "return_only", _("Return postage only")
        FREE = "free", _("Free")
        QUOTE = "quote", _("Quoted case by case")

    lender = models.OneToOneField(
        "ill.LendingInstitution", on_delete=models.CASCADE, related_name="fee_schedule", verbose_name=_("lender")
    )
    mono_price = models.PositiveIntegerField(
        _("monochrome, per page"), default=0, validators=[bounds.PAGE_PRICE.validator()]
    )
    colour_price = models.PositiveIntegerField(
        _("colour, per page"), default=0, validators=[bounds.PAGE_PRICE.validator()]
    )
    handling_fee_per_item = models.PositiveIntegerField(
        _("handling fee per item"), default=0, validators=[bounds.FEE.validator()]
    )
    postage_per_shipment = models.PositiveIntegerField(
        _("postage per shipment"), default=0, validators=[bounds.FEE.validator()]
    )
    express_surcharge = models.PositiveIntegerField(
        _("express surcharge per shipment"), default=0, validators=[bounds.FEE.validator()]
    )
    fax_fee_mode = models.CharField(
        _("FAX / electronic fee"), max_length=10, choices=FaxFeeMode.choices, default=FaxFeeMode.NONE
    )
    fax_fee_per_page = models.PositiveIntegerField(
        _("FAX fee per page"), default=0, validators=[bounds.PAGE_PRICE.validator()]
    )
    fax_fee_fixed = models.PositiveIntegerField(
        _("FAX fee per shipment"), default=0, validators=[bounds.FEE.validator()]
    )
    bank_transfer_fee = models.PositiveIntegerField(
        _("bank transfer fee per payment"), default=0, validators=[bounds.FEE.validator()]
    )
    tax_rate_percent = models.PositiveSmallIntegerField(
        _("consumption tax rate (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    tax_included = models.BooleanField(_("prices include tax"), default=True)
    overseas_flat_fee_per_item = models.PositiveIntegerField(
        _("overseas flat fee per item"), default=0, validators=[bounds.FEE.validator()]
    )
    overseas_fax_surcharge = models.PositiveIntegerField(
        _("overseas FAX surcharge per item"), default=0, validators=[bounds.FEE.validator()]
    )
    loan_fee_mode = models.CharField(
        _("loan fee"), max_length=12, choices=LoanFeeMode.choices, default=LoanFeeMode.ROUND_TRIP
    )
    loan_fee = models.PositiveIntegerField(_("loan fee per item"), default=0, validators=[bounds.FEE.validator()])
    loan_express_surcharge = models.PositiveIntegerField(
        _("loan express surcharge per item"), default=0, validators=[bounds.FEE.validator()]
    )
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")
        constraints = [
            models.CheckConstraint(condition=Q(tax_rate_percent__lte=100), name="fee_schedule_tax_rate_range"),
            models.CheckConstraint(
                condition=Q(fax_fee_mode__in=["none", "per_page", "fixed"]), name="fee_schedule_fax_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(loan_fee_mode__in=["round_trip", "return_only", "free", "quote"]),
                name="fee_schedule_loan_mode_valid",
            ),
            bounds.PAGE_PRICE.constraint("mono_price", "fee_schedule_mono_price_range"),
            bounds.PAGE_PRICE.constraint("colour_price", "fee_schedule_colour_price_range"),
            bounds.FEE.constraint("handling_fee_per_item", "fee_schedule_handling_fee_per_item_range"),
            bounds.FEE.constraint("postage_per_shipment", "fee_schedule_postage_per_shipment_range"),
            bounds.FEE.constraint("express_surcharge", "fee_schedule_express_surcharge_range"),
            bounds.PAGE_PRICE.constraint("fax_fee_per_page", "fee_schedule_fax_fee_per_page_range"),
            bounds.FEE.constraint("fax_fee_fixed", "fee_schedule_fax_fee_fixed_range"),
            bounds.FEE.constraint("bank_transfer_fee", "fee_schedule_bank_transfer_fee_range"),
            bounds.FEE.constraint("overseas_flat_fee_per_item", "fee_schedule_overseas_flat_fee_per_item_range"),
            bounds.FEE.constraint("overseas_fax_surcharge", "fee_schedule_overseas_fax_surcharge_range"),
            bounds.FEE.constraint("loan_fee", "fee_schedule_loan_fee_range"),
            bounds.FEE.constraint("loan_express_surcharge", "fee_schedule_loan_express_surcharge_range"),
        ]

    def __str__(self):
        return str(self.lender)

    def clean(self):
        errors = {}
        if self.fax_fee_mode == self.FaxFeeMode.PER_PAGE and not self.fax_fee_per_page:
            errors["fax_fee_per_page"] = _("Enter the FAX fee per page, or choose another FAX fee mode.")
        if self.fax_fee_mode == self.FaxFeeMode.FIXED and not self.fax_fee_fixed:
            errors["fax_fee_fixed"] = _("Enter the fixed FAX fee, or choose another FAX fee mode.")
        if self.loan_fee_mode in (self.LoanFeeMode.ROUND_TRIP, self.LoanFeeMode.RETURN_ONLY) and not self.loan_fee:
            errors["loan_fee"] = _("Enter the loan fee, or choose “free” or “quoted case by case”.")
        if errors:
            raise ValidationError(errors)


class PaperSizePrice(models.Model):
    """Unit prices for one paper size, where they differ from the schedule's defaults."""

    schedule = models.ForeignKey(
        FeeSchedule, on_delete=models.CASCADE, related_name="paper_prices", verbose_name=_("fee schedule")
    )
    paper_size = models.CharField(
        _("paper size"), max_length=4, choices=[("A4", "A4"), ("A3", "A3"), ("B5", "B5"), ("B4", "B4")]
    )
    mono_price = models.PositiveIntegerField(_("monochrome, per page"), validators=[bounds.PAGE_PRICE.validator()])
    colour_price = models.PositiveIntegerField(_("colour, per page"), validators=[bounds.PAGE_PRICE.validator()])

    class Meta:
        verbose_name = _("price by paper size")
        verbose_name_plural = _("prices by paper size")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "paper_size"], name="paper_price_unique"),
            bounds.PAGE_PRICE.constraint("mono_price", "paper_price_mono_price_range"),
            bounds.PAGE_PRICE.constraint("colour_price", "paper_price_colour_price_range"),
        ]

    def __str__(self):
        return self.paper_size


class BudgetCode(models.Model):
    """A registered budget a patron may charge (public expense or a research grant)."""

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public expense")
        GRANT = "grant", _("Research grant (KAKENHI)")

    code = models.CharField(_("budget code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PUBLIC)
    fiscal_year = models.PositiveSmallIntegerField(
        _("fiscal year"),
        help_text=_("April to March; 2026 means April 2026 – March 2027."),
        validators=[bounds.FISCAL_YEAR.validator()],
    )
    responsible = models.ForeignKey(
        "patrons.Patron",
        on_delete=models.PROTECT,
        related_name="responsible_budget_codes",
        verbose_name=_("responsible faculty member"),
    )
    laboratory = models.ForeignKey(
        "patrons.Laboratory",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="budget_codes",
        verbose_name=_("laboratory"),
        help_text=_("Every member of this laboratory may charge the code."),
    )
    members = models.ManyToManyField(
        "patrons.Patron", blank=True, related_name="budget_codes", verbose_name=_("members")
    )
    limit = models.PositiveIntegerField(
        _("limit (yen)"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no limit."),
        validators=[bounds.BUDGET.validator()],
    )
    usable_for_ill = models.BooleanField(
        _("usable for ILL"), default=True, help_text=_("Some grants may not pay for interlibrary loan.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("budget code")
        verbose_name_plural = _("budget codes")
        ordering = ["-fiscal_year", "code"]
        indexes = [models.Index(fields=["-fiscal_year", "code"], name="budget_code_newest")]  # lists, autocomplete
        constraints = [
            models.UniqueConstraint(fields=["code", "fiscal_year"], name="budget_code_unique_per_year"),
            models.CheckConstraint(condition=Q(kind__in=["public", "grant"]), name="budget_code_kind_valid"),
            bounds.FISCAL_YEAR.constraint("fiscal_year", "budget_code_fiscal_year_range"),
            bounds.BUDGET.constraint("limit", "budget_code_limit_range"),
        ]

    def __str__(self):
        return f"{self.code} {self.name} ({fiscal_year_label(self.fiscal_year)})"


class BudgetLedgerEntry(models.Model):
    """Money held or spent on a budget code. Left = limit − committed − charged (DESIGN.md §6).

    `amount` is signed: a release is the negative of the commitment it undoes.
    """

    class EntryType(models.TextChoices):
        COMMITMENT = "commitment", _("Commitment (estimate at ordering)")
        RELEASE = "release", _("Release of a commitment")
        CHARGE = "charge", _("Charge (actual, at arrival)")

    budget_code = models.ForeignKey(
        BudgetCode, on_delete=models.PROTECT, related_name="ledger", verbose_name=_("budget code")
    )
    request = models.ForeignKey(
        "ill.Request", on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("request")
    )
    entry_type = models.CharField(_("type"), max_length=12, choices=EntryType.choices)
    amount = models.IntegerField(_("amount (yen)"), validators=[bounds.SIGNED_YEN.validator()])
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("budget ledger entry")
        verbose_name_plural = _("budget ledger entries")
        ordering = ["created_at", "id"]
        indexes = [
            # A code's committed and charged sums are an index-only scan of its entries.
            models.Index(fields=["budget_code", "entry_type", "amount"], name="ledger_code_amount"),
            models.Index(fields=["created_at", "id"], name="ledger_time"),  # the admin's list, newest first
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(entry_type__in=["commitment", "release", "charge"]), name="ledger_entry_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(entry_type="release", amount__lte=0)
                | Q(entry_type__in=["commitment", "charge"], amount__gte=0),
                name="ledger_amount_sign",
            ),
            bounds.SIGNED_YEN.constraint("amount", "ledger_amount_range"),
        ]

    def __str__(self):
        return f"{self.budget_code.code} {self.entry_type} {self.amount}"


class SupportBudget(models.Model):
    """The library's support for students' ILL costs, one per fiscal year (DESIGN.md §6)."""

    fiscal_year = models.PositiveSmallIntegerField(
        _("fiscal year"), unique=True, validators=[bounds.FISCAL_YEAR.validator()]
    )
    total = models.PositiveIntegerField(_("total (yen)"), validators=[bounds.BUDGET.validator()])
    per_student_cap = models.PositiveSmallIntegerField(
        _("supported requests per student"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no cap."),
        validators=[bounds.STUDENT_CAP.validator()],
    )
    is_open = models.BooleanField(_("open"), default=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    alert_80_sent_at = models.DateTimeField(_("80 % alert sent"), null=True, blank=True)
    closing_alert_sent_at = models.DateTimeField(_("closing alert sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("student support budget")
        verbose_name_plural = _("student support budgets")
        ordering = ["-fiscal_year"]
        constraints = [
            bounds.FISCAL_YEAR.constraint("fiscal_year", "support_budget_fiscal_year_range"),
            bounds.BUDGET.constraint("total", "support_budget_total_range"),
            bounds.STUDENT_CAP.constraint("per_student_cap", "support_budget_per_student_cap_range"),
        ]

    def __str__(self):
        return fiscal_year_label(self.fiscal_year)


class Shipment(models.Model):
    """Items a lender sent together; shared costs (postage, transfer fee) are split across them."""

    lender = models.ForeignKey(
        "ill.LendingInstitution", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("lender")
    )
    delivery_method = models.CharField(
        _("delivery"),
        max_length=10,
        choices=Delivery.choices,
        default=Delivery.MAIL,
    )
    lender_invoice = models.CharField(_("lender's invoice number"), max_length=100, blank=True)
    total = models.PositiveIntegerField(_("total (yen)"), validators=[bounds.YEN.validator()])
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["received_at", "id"], name="shipment_time")]  # the admin's list
        constraints = [
            bounds.YEN.constraint("total", "shipment_total_range"),
        ]

    def __str__(self):
        return f"{self.lender} {self.received_at:%Y-%m-%d}"


class Charge(models.Model):
    """What one request costs, itemised (NACSIS-ILL: ITEM, UPRCE, QNT, CHRGE, POSTG, SUM, ACCT)."""

    class PaymentClass(models.TextChoices):
        PUBLIC = "public", _("Public expense")
        GRANT = "grant", _("Research grant")
        PRIVATE = "private", _("Private expense")
        SUPPORT = "support", _("Student support budget")

    class State(models.TextChoices):
        AWAITING_ACCEPTANCE = "awaiting", _("Waiting for the patron to accept")
        DUE = "due", _("To be paid")
        PAID = "paid", _("Paid")
        SETTLED = "settled", _("Settled by budget")

    request = models.OneToOneField(
        "ill.Request", on_delete=models.PROTECT, related_name="charge", verbose_name=_("request")
    )
    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, null=True, blank=True, related_name="charges", verbose_name=_("shipment")
    )
    payment_class = models.CharField(_("payment class"), max_length=10, choices=PaymentClass.choices)
    budget_code = models.ForeignKey(
        BudgetCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        verbose_name=_("budget code"),
    )
    copy_fee = models.PositiveIntegerField(_("copy fee (A)"), default=0, validators=[bounds.YEN.validator()])
    postage = models.PositiveIntegerField(
        _("postage or communication fee (B)"), default=0, validators=[bounds.YEN.validator()]
    )
    other_fees = models.PositiveIntegerField(_("other fees (C)"), default=0, validators=[bounds.YEN.validator()])
    tax = models.PositiveIntegerField(_("consumption tax"), default=0, validators=[bounds.YEN.validator()])
    return_postage = models.PositiveIntegerField(
        _("return postage (yen)"),
        default=0,
        help_text=_(
            "For loans: the part of the total paid for the return — stamps brought by the patron "
            "(private expense) or the postal bar code (public expense)."
        ),
        validators=[bounds.YEN.validator()],
    )
    adjustment = models.IntegerField(
        _("adjustment (yen)"),
        default=0,
        help_text=_("Staff's correction to the computed charge, so that A + B + C + adjustment = total."),
        validators=[bounds.SIGNED_YEN.validator()],
    )
    computed_total = models.PositiveIntegerField(_("computed total"), validators=[bounds.YEN.validator()])
    total = models.PositiveIntegerField(_("total (yen)"), validators=[bounds.YEN.validator()])
    adjustment_reason = models.CharField(_("reason for adjustment"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    accepted_at = models.DateTimeField(_("accepted by the patron"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total=F("computed_total")) | ~Q(adjustment_reason=""), name="charge_adjustment_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(payment_class__in=["private", "support"]) | Q(budget_code__isnull=False),
                name="charge_public_has_budget_code",
            ),
            models.CheckConstraint(
                condition=Q(return_postage__lte=F("total")), name="charge_return_postage_within_total"
            ),
            models.CheckConstraint(
                condition=Q(total=F("copy_fee") + F("postage") + F("other_fees") + F("adjustment")),
                name="charge_parts_add_up",
            ),
            bounds.YEN.constraint("copy_fee", "charge_copy_fee_range"),
            bounds.YEN.constraint("postage", "charge_postage_range"),
            bounds.YEN.constraint("other_fees", "charge_other_fees_range"),
            bounds.YEN.constraint("tax", "charge_tax_range"),
            bounds.YEN.constraint("return_postage", "charge_return_postage_range"),
            bounds.YEN.constraint("computed_total", "charge_computed_total_range"),
            bounds.YEN.constraint("total", "charge_total_range"),
            bounds.SIGNED_YEN.constraint("adjustment", "charge_adjustment_range"),
        ]
        indexes = [
            # The charges report: a period's totals by class and state are an index-only scan of it.
            models.Index(fields=["created_at", "payment_class", "state", "total"], name="charge_period"),
        ]

    def __str__(self):
        return f"{self.request_id} {self.total}"

    @property
    def cash_due(self) -> int:
        """What a private-expense patron pays in cash at pick-up (seed 004: the outbound postage of a
        loan in cash, the return postage in stamps when bringing the book back)."""
        if self.payment_class != self.PaymentClass.PRIVATE:
            return 0
        return self.total - self.return_postage


class ChargeLine(models.Model):
    """One line of a charge: item, unit price, quantity, amount, section A/B/C."""

    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="lines", verbose_name=_("charge"))
    position = models.PositiveSmallIntegerField(validators=[bounds.LINE_POSITION.validator()])
    code = models.CharField(_("item"), max_length=30)
    section = models.CharField(_("section"), max_length=1, choices=[("A", "A"), ("B", "B"), ("C", "C")])
    unit_price = models.PositiveIntegerField(_("unit price"), validators=[bounds.YEN.validator()])
    quantity = models.PositiveIntegerField(_("quantity"), validators=[bounds.CHARGE_QUANTITY.validator()])
    amount = models.PositiveIntegerField(_("amount"), validators=[bounds.YEN.validator()])

    class Meta:
        verbose_name = _("charge line")
        verbose_name_plural = _("charge lines")
        ordering = ["charge", "position"]
        constraints = [
            models.UniqueConstraint(fields=["charge", "position"], name="charge_line_position_unique"),
            bounds.LINE_POSITION.constraint("position", "charge_line_position_range"),
            bounds.YEN.constraint("unit_price", "charge_line_unit_price_range"),
            bounds.CHARGE_QUANTITY.constraint("quantity", "charge_line_quantity_range"),
            bounds.YEN.constraint("amount", "charge_line_amount_range"),
        ]

    def __str__(self):
        return f"{self.code} {self.amount}"


class Payment(models.Model):
    """Money or postage received at the counter (cash, exact amount — no change is given)."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        STAMPS = "stamps", _("Postage stamps for the return")
        POSTAL_BARCODE = "postal_barcode", _("Postal bar code for the return (public expense)")
        BANK_TRANSFER = "bank_transfer", _("Bank or postal transfer by the patron")

    request = models.ForeignKey(
        "ill.Request", on_delete=models.PROTECT, related_name="payments", verbose_name=_("request")
    )
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="payments", verbose_name=_("charge")
    )
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    amount = models.PositiveIntegerField(_("amount (yen)"), default=0, validators=[bounds.YEN.validator()])
    receipt_number = models.CharField(_("receipt number"), max_length=40, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("received by")
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["received_at"]
        indexes = [models.Index(fields=["received_at", "method"], name="payment_day_method")]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt_number"], condition=~Q(receipt_number=""), name="payment_receipt_unique"
            ),
            models.CheckConstraint(
                condition=~Q(method="cash") | ~Q(receipt_number=""), name="payment_cash_has_receipt"
            ),
            models.CheckConstraint(
                condition=~Q(method="cash") | Q(charge__isnull=False), name="payment_cash_pays_a_charge"
            ),
            models.CheckConstraint(
                condition=Q(method__in=["cash", "stamps", "postal_barcode", "bank_transfer"]),
                name="payment_method_valid",
            ),
            bounds.YEN.constraint("amount", "payment_amount_range"),
        ]

    def __str__(self):
        return f"{self.method} {self.amount}"


class SupportUse(models.Model):
    """One request paid by the student support budget (DESIGN.md §6): it counts against the
    per-student cap while it stands, holds its estimate from ordering to arrival, then its charge.
    Its state moves only through `fees.states.SUPPORT`."""

    class State(models.TextChoices):
        LINKED = "linked", _("Linked (counts against the per-student cap)")
        RESERVED = "reserved", _("Estimate held (ordered)")
        CHARGED = "charged", _("Charged")
        RELEASED = "released", _("Released")

    budget = models.ForeignKey(
        SupportBudget, on_delete=models.PROTECT, related_name="uses", verbose_name=_("support budget")
    )
    request = models.OneToOneField(
        "ill.Request", on_delete=models.PROTECT, related_name="support_use", verbose_name=_("request")
    )
    patron = models.ForeignKey("patrons.Patron", on_delete=models.PROTECT, related_name="+", verbose_name=_("patron"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.LINKED)
    amount = models.PositiveIntegerField(
        _("amount (yen)"),
        default=0,
        help_text=_("The estimate held while ordered; the charge once it arrived."),
        validators=[bounds.YEN.validator()],
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("use of the student support budget")
        verbose_name_plural = _("uses of the student support budget")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["linked", "reserved", "charged", "released"]), name="support_use_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["reserved", "charged"]) | Q(amount=0), name="support_use_amount_only_when_held"
            ),
            bounds.YEN.constraint("amount", "support_use_amount_range"),
        ]
        indexes = [
            # What a budget spent or holds (support.spent, reserved) is an index-only scan.
            models.Index(fields=["budget", "state", "amount"], name="support_use_budget_amount"),
            models.Index(fields=["budget", "patron", "state"], name="support_use_patron"),
            models.Index(fields=["created_at", "id"], name="support_use_time"),  # the admin's list, newest first
        ]

    def __str__(self):
        return f"{self.budget} {self.request_id} {self.state}"
