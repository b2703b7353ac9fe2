"""The lending half of the office (DESIGN.md §11): other libraries ask us for copies and loans.

A borrowing library is an `ill.LendingInstitution` (the same partner we borrow from; most libraries are
both); what only the lending side needs about it is in `BorrowerTerms`. An incoming request is a
`LendingRequest`, moved only by the service functions in `lending.services` along `lending.lifecycle`;
each move writes a `LendingEvent` (which `iso18626` listens to, to answer a peer).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core import bounds
from fees.models import FeeSchedule
from ill.models import LenderCandidate, LendingInstitution, LocalHolding, Request


class BorrowerTerms(models.Model):
    """How a library that borrows from us is billed: whatever the lending side alone needs to know."""

    library = models.OneToOneField(
        LendingInstitution, on_delete=models.CASCADE, related_name="borrower_terms", verbose_name=_("library")
    )
    may_borrow = models.BooleanField(_("may borrow from us"), default=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, help_text=_("Days from the invoice date to its due date.")
    )
    billing_contact = models.CharField(_("billing contact"), max_length=100, blank=True)
    billing_email = models.EmailField(_("billing e-mail"), blank=True)
    billing_address = models.CharField(_("billing address"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("borrower's terms")
        verbose_name_plural = _("borrowers' terms")

    def __str__(self):
        return str(self.library)


class LendingRequest(models.Model):
    """A request from another library for a copy or a loan of something we hold."""

    Kind = Request.Kind
    MaterialType = Request.MaterialType
    PaperSize = Request.PaperSize
    Purpose = Request.Purpose
    Frequency = Request.Frequency
    UnfilledReason = LenderCandidate.UnfilledReason

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        SEARCHING = "searching", _("Searching our holdings")
        WILL_SUPPLY = "will_supply", _("Will supply")
        COPYING = "copying", _("Copying")
        SHIPPED = "shipped", _("Shipped")
        ON_LOAN = "on_loan", _("On loan to them")
        RETURNED = "returned", _("Returned to us")
        COMPLETED = "completed", _("Completed")
        UNFILLED = "unfilled", _("Unfilled")
        CANCELLED = "cancelled", _("Cancelled by them")

    class Source(models.TextChoices):
        NACSIS = "nacsis", _("NACSIS-ILL")
        EMAIL = "email", pgettext_lazy("received by", "E-mail")
        FAX = "fax", _("FAX")
        ISO18626 = "iso18626", _("ISO 18626 message")
        OTHER = "other", _("Other")

    class Settlement(models.TextChoices):
        OFFSET = "offset", _("Fee-offset (料金相殺)")
        INVOICE = "invoice", _("Invoice")
        FREE = "free", _("No charge")

    number = models.CharField(_("lending number"), max_length=20, unique=True, editable=False)
    borrower = models.ForeignKey(
        LendingInstitution,
        on_delete=models.PROTECT,
        related_name="lending_requests",
        verbose_name=_("borrowing library"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, editable=False)
    source = models.CharField(_("received by"), max_length=10, choices=Source.choices, default=Source.NACSIS)
    their_reference = models.CharField(
        _("their request number"), max_length=100, blank=True, help_text=_("The borrowing library's own number.")
    )
    nacsis_ill_id = models.CharField(_("NACSIS-ILL ID"), max_length=12, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, editable=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    # What they ask for (the same citation fields as a borrowing request)
    material_type = models.CharField(
        _("material type"), max_length=20, choices=MaterialType.choices, default=MaterialType.BOOK
    )
    title = models.CharField(_("title"), max_length=500)
    author = models.CharField(_("author"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    pub_year = models.PositiveSmallIntegerField(
        _("year of publication"), null=True, blank=True, validators=[bounds.PUB_YEAR.validator()]
    )
    edition = models.CharField(_("edition"), max_length=100, blank=True)
    isbn = models.CharField("ISBN", max_length=13, blank=True)
    issn = models.CharField("ISSN", max_length=9, blank=True)
    ncid = models.CharField("NCID", max_length=10, blank=True)
    doi = models.CharField("DOI", max_length=200, blank=True)
    article_title = models.CharField(_("article or chapter title"), max_length=500, blank=True)
    article_author = models.CharField(_("article author"), max_length=300, blank=True)
    journal_title = models.CharField(_("journal title"), max_length=300, blank=True)
    volume = models.CharField(_("volume"), max_length=50, blank=True)
    issue = models.CharField(_("issue"), max_length=50, blank=True)
    pages = models.CharField(_("pages"), max_length=50, blank=True)
    page_count = models.PositiveIntegerField(
        _("number of pages"), null=True, blank=True, validators=[bounds.PAGES.validator()]
    )
    colour_pages = models.PositiveIntegerField(
        _("of which in colour"), default=0, validators=[bounds.COLOUR_PAGES.validator()]
    )
    paper_size = models.CharField(_("paper size"), max_length=4, choices=PaperSize.choices, default=PaperSize.A4)
    delivery_method = models.CharField(
        _("delivery"), max_length=10, choices=Request.Delivery.choices, default=Request.Delivery.MAIL
    )
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.RESEARCH)
    periodical_frequency = models.CharField(
        _("publication frequency"), max_length=10, choices=Frequency.choices, default=Frequency.NOT_PERIODICAL
    )
    issue_date = models.DateField(_("issue date"), null=True, blank=True, validators=[bounds.ISSUE_DATE.validator()])
    work_total_pages = models.PositiveIntegerField(
        _("total pages of the work"), null=True, blank=True, validators=[bounds.WORK_PAGES.validator()]
    )
    requester_note = models.TextField(_("their note"), blank=True)
    patron_reference = models.CharField(
        _("their patron"),
        max_length=100,
        blank=True,
        help_text=_("Who the copy is for, as the borrowing library identifies them (one copy per person, art. 31)."),
    )
    need_by = models.DateField(_("needed by"), null=True, blank=True, validators=[bounds.DESK_DATE.validator()])
    max_cost = models.PositiveIntegerField(
        _("their maximum cost (yen)"), null=True, blank=True, validators=[bounds.YEN.validator()]
    )
    # Our side
    holding = models.ForeignKey(
        LocalHolding,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lending_requests",
        verbose_name=_("our holding"),
    )
    call_number = models.CharField(_("call number"), max_length=100, blank=True)
    location = models.CharField(_("location"), max_length=100, blank=True)
    unfilled_reason = models.CharField(_("reason unfilled"), max_length=20, choices=UnfilledReason.choices, blank=True)
    unfilled_note = models.CharField(_("note on the refusal"), max_length=300, blank=True)
    copyright_override_reason = models.CharField(_("copyright override reason"), max_length=300, blank=True)
    copyright_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("copyright override by"),
    )
    shipping_method = models.CharField(
        _("shipping method"), max_length=10, choices=Request.Delivery.choices, blank=True
    )
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True, editable=False)
    due_date = models.DateField(_("due back"), null=True, blank=True, validators=[bounds.DESK_DATE.validator()])
    renewals = models.PositiveSmallIntegerField(_("renewals granted"), default=0, editable=False)
    recalled_at = models.DateTimeField(_("recalled"), null=True, blank=True, editable=False)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("lending request")
        verbose_name_plural = _("lending requests")
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["loan", "copy"]), name="lending_kind_valid"),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "received",
                        "searching",
                        "will_supply",
                        "copying",
                        "shipped",
                        "on_loan",
                        "returned",
                        "completed",
                        "unfilled",
                        "cancelled",
                    ]
                ),
                name="lending_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="unfilled") | ~Q(unfilled_reason=""), name="lending_unfilled_has_reason"
            ),
            # One incoming request per their number from one library (ISO 18626 retries, retyped e-mails).
            models.UniqueConstraint(
                fields=["borrower", "their_reference"],
                condition=~Q(their_reference=""),
                name="lending_their_reference_unique",
            ),
            bounds.PAGES.constraint("page_count", "lending_page_count_range"),
            bounds.YEN.constraint("max_cost", "lending_max_cost_range"),
        ]
        indexes = [
            # The lending queue's worklists read open work only, however long the history.
            models.Index(
                fields=["status", "received_at"],
                condition=~Q(status__in=["completed", "unfilled", "cancelled"]),
                name="lending_open_work",
            ),
            models.Index(
                fields=["due_date"], condition=Q(status__in=["shipped", "on_loan"], kind="loan"), name="lending_due"
            ),
            models.Index(fields=["borrower", "-received_at"], name="lending_borrower_newest"),
            models.Index(fields=["-received_at"], name="lending_newest"),
            # The lending reports (reports.lending): a fiscal year's shipments; the copyright lists.
            models.Index(fields=["shipped_at"], condition=Q(shipped_at__isnull=False), name="lending_shipped"),
            models.Index(
                fields=["-received_at"], condition=Q(unfilled_reason="copyright"), name="lending_copyright_refused"
            ),
            models.Index(
                fields=["-received_at"], condition=~Q(copyright_override_reason=""), name="lending_copyright_override"
            ),
        ]
        permissions = [
            (
                "override_copyright",
                _("Can start a copy that the copyright rules refuse, with a recorded reason"),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title[:40]}"

    @property
    def is_loan(self) -> bool:
        return self.kind == self.Kind.LOAN


class LendingEvent(models.Model):
    """The history of an incoming request: every transition and everything else staff did to it."""

    request = models.ForeignKey(
        LendingRequest, on_delete=models.CASCADE, related_name="events", verbose_name=_("lending request")
    )
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("lending event")
        verbose_name_plural = _("lending events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"], name="lending_event_request_time")]

    def __str__(self):
        return f"{self.request_id} {self.action} {self.from_status}→{self.to_status}"


class Renewal(models.Model):
    """A borrowing library asks to keep our book longer; we grant or refuse at our discretion."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for our answer")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    request = models.ForeignKey(
        LendingRequest, on_delete=models.CASCADE, related_name="renewal_requests", verbose_name=_("lending request")
    )
    asked_at = models.DateTimeField(_("asked"), default=timezone.now, editable=False)
    wanted_until = models.DateField(_("wanted until"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    new_due_date = models.DateField(_("new due date"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("renewal request")
        verbose_name_plural = _("renewal requests")
        ordering = ["request", "asked_at"]
        constraints = [
            # One open question at a time per loan.
            models.UniqueConstraint(
                fields=["request"], condition=Q(decision="pending"), name="lending_one_pending_renewal"
            ),
        ]
        indexes = [
            # The lending reports: renewals decided in a fiscal year.
            models.Index(fields=["decided_at"], condition=Q(decided_at__isnull=False), name="lending_renewal_decided"),
        ]

    def __str__(self):
        return f"{self.request} {self.get_decision_display()}"


# --- Money as a lender (lending.money) ----------------------------------------------------------


def _as_lenders(name: str):
    """The field of a lender's fee schedule (fees.FeeSchedule) of this name: our schedule has the same
    fields, so the calculator reads both the same way (fees.schedules.calculator_schedule)."""
    return FeeSchedule._meta.get_field(name).clone()


class OurFeeSchedule(models.Model):
    """What we charge the libraries that borrow from us (DESIGN.md §5, §11): one row, edited in the admin.

    The fields are those of a lender's `fees.FeeSchedule`, priced by the same calculator; overseas
    pricing applies to a borrower that is not domestic."""

    FaxFeeMode = FeeSchedule.FaxFeeMode
    LoanFeeMode = FeeSchedule.LoanFeeMode

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    mono_price = _as_lenders("mono_price")
    colour_price = _as_lenders("colour_price")
    handling_fee_per_item = _as_lenders("handling_fee_per_item")
    postage_per_shipment = _as_lenders("postage_per_shipment")
    express_surcharge = _as_lenders("express_surcharge")
    fax_fee_mode = _as_lenders("fax_fee_mode")
    fax_fee_per_page = _as_lenders("fax_fee_per_page")
    fax_fee_fixed = _as_lenders("fax_fee_fixed")
    bank_transfer_fee = _as_lenders("bank_transfer_fee")
    tax_rate_percent = _as_lenders("tax_rate_percent")
    tax_included = _as_lenders("tax_included")
    overseas_flat_fee_per_item = _as_lenders("overseas_flat_fee_per_item")
    overseas_fax_surcharge = _as_lenders("overseas_fax_surcharge")
    loan_fee_mode = models.CharField(
        _("loan fee"), max_length=12, choices=FeeSchedule.LoanFeeMode.choices, default=FeeSchedule.LoanFeeMode.FREE
    )
    loan_fee = _as_lenders("loan_fee")
    loan_express_surcharge = _as_lenders("loan_express_surcharge")
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("our fee schedule (lending)")
        verbose_name_plural = _("our fee schedule (lending)")
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="our_fee_schedule_single_row"),
            models.CheckConstraint(condition=Q(tax_rate_percent__lte=100), name="our_fee_schedule_tax_rate_range"),
            models.CheckConstraint(
                condition=Q(fax_fee_mode__in=["none", "per_page", "fixed"]), name="our_fee_schedule_fax_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(loan_fee_mode__in=["round_trip", "return_only", "free", "quote"]),
                name="our_fee_schedule_loan_mode_valid",
            ),
            bounds.PAGE_PRICE.constraint("mono_price", "our_fee_schedule_mono_price_range"),
            bounds.PAGE_PRICE.constraint("colour_price", "our_fee_schedule_colour_price_range"),
            bounds.PAGE_PRICE.constraint("fax_fee_per_page", "our_fee_schedule_fax_fee_per_page_range"),
            bounds.FEE.constraint("handling_fee_per_item", "our_fee_schedule_handling_range"),
            bounds.FEE.constraint("postage_per_shipment", "our_fee_schedule_postage_range"),
            bounds.FEE.constraint("express_surcharge", "our_fee_schedule_express_range"),
            bounds.FEE.constraint("fax_fee_fixed", "our_fee_schedule_fax_fee_fixed_range"),
            bounds.FEE.constraint("bank_transfer_fee", "our_fee_schedule_bank_transfer_range"),
            bounds.FEE.constraint("overseas_flat_fee_per_item", "our_fee_schedule_overseas_flat_range"),
            bounds.FEE.constraint("overseas_fax_surcharge", "our_fee_schedule_overseas_fax_range"),
            bounds.FEE.constraint("loan_fee", "our_fee_schedule_loan_fee_range"),
            bounds.FEE.constraint("loan_express_surcharge", "our_fee_schedule_loan_express_range"),
        ]

    def __str__(self):
        return str(_("Our fee schedule"))

    def clean(self):
        FeeSchedule.clean(self)  # the same checks as a lender's schedule (fax fee given, loan fee given)


class NumberCounter(models.Model):
    """The last number handed out per series ("lending", "invoice") and fiscal year; the row is locked
    (UPDATE … SET last = last + 1) until the transaction that takes a number ends."""

    series = models.CharField(_("series"), max_length=10)
    year = models.PositiveSmallIntegerField(_("fiscal year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("lending number counter")
        verbose_name_plural = _("lending number counters")
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="lending_counter_unique")]

    def __str__(self):
        return f"{self.series} {self.year}: {self.last}"


class Invoice(models.Model):
    """Our invoice to a borrowing library that is not a fee-offset participant; its lines are charges."""

    number = models.CharField(_("invoice number"), max_length=20, unique=True, editable=False)
    borrower = models.ForeignKey(
        LendingInstitution,
        on_delete=models.PROTECT,
        related_name="lending_invoices",
        verbose_name=_("borrowing library"),
    )
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), editable=False)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("payment due"))
    total = models.PositiveIntegerField(_("total (yen, tax included)"), validators=[bounds.BUDGET.validator()])
    tax = models.PositiveIntegerField(_("of which consumption tax (yen)"), default=0)
    tax_rate_percent = models.PositiveSmallIntegerField(_("consumption tax rate (%)"), default=0, editable=False)
    issuer = models.JSONField(_("issuer"), default=dict, blank=True, editable=False)
    bank_details = models.JSONField(_("bank details"), default=dict, blank=True, editable=False)
    # What was invoiced, as issued: [{"charge", "request", "title", "total", "tax"}]. A cancelled invoice
    # keeps them (its charges go back to be invoiced again); its total is always theirs added up.
    lines = models.JSONField(_("lines as issued"), default=list, blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_amount = models.PositiveIntegerField(_("amount paid (yen)"), null=True, blank=True)
    payment_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment recorded by"),
    )
    cancelled = models.BooleanField(_("cancelled"), default=False)
    cancelled_reason = models.CharField(_("reason cancelled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-number"]
        constraints = [
            bounds.BUDGET.constraint("total", "lending_invoice_total_range"),
            models.CheckConstraint(condition=Q(due_on__gte=models.F("issued_on")), name="lending_invoice_due_after"),
            models.CheckConstraint(
                condition=Q(paid_on__isnull=True) | Q(cancelled=False), name="lending_invoice_paid_not_cancelled"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_on"], condition=Q(paid_on__isnull=True, cancelled=False), name="lending_invoice_open"
            ),
            models.Index(fields=["borrower", "-issued_on"], name="lending_invoice_borrower"),
            # The lending reports (reports.lending): invoices issued, and paid, in a fiscal year.
            models.Index(fields=["issued_on"], name="lending_invoice_issued"),
            models.Index(fields=["paid_on"], condition=Q(paid_on__isnull=False), name="lending_invoice_paid"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_paid(self) -> bool:
        return self.paid_on is not None

    @property
    def is_open(self) -> bool:
        return not self.cancelled and self.paid_on is None


class LendingCharge(models.Model):
    """What a borrowing library owes for one request we shipped, itemised by our fee schedule."""

    Settlement = LendingRequest.Settlement

    class State(models.TextChoices):
        OPEN = "open", _("Not yet settled")
        INVOICED = "invoiced", _("On an invoice")
        OFFSET_RECORDED = "offset_recorded", _("Entered for fee-offset")
        PAID = "paid", _("Paid")
        WAIVED = "waived", _("Waived")

    request = models.OneToOneField(
        LendingRequest, on_delete=models.PROTECT, related_name="charge", verbose_name=_("lending request")
    )
    borrower = models.ForeignKey(
        LendingInstitution,
        on_delete=models.PROTECT,
        related_name="lending_charges",
        verbose_name=_("borrowing library"),
    )
    settlement = models.CharField(_("settlement"), max_length=10, choices=Settlement.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    # The calculator's lines: [{"code", "unit_price", "quantity", "amount", "section"}] (NACSIS-ILL's
    # ITEM, UPRCE, QNT, CHRGE); "agreed" when staff gave the total instead of pricing it.
    lines = models.JSONField(_("lines"), default=list, blank=True)
    copy_fee = models.PositiveIntegerField(_("copy fee (A)"), default=0, validators=[bounds.YEN.validator()])
    postage = models.PositiveIntegerField(
        _("postage or communication fee (B)"), default=0, validators=[bounds.YEN.validator()]
    )
    other_fees = models.PositiveIntegerField(_("other fees (C)"), default=0, validators=[bounds.YEN.validator()])
    tax = models.PositiveIntegerField(_("of which consumption tax"), default=0, validators=[bounds.YEN.validator()])
    total = models.PositiveIntegerField(_("total (yen, tax included)"), validators=[bounds.YEN.validator()])
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="charges", verbose_name=_("invoice")
    )
    offset_statement_ref = models.CharField(_("fee-offset statement"), max_length=100, blank=True)
    offset_recorded_at = models.DateTimeField(_("entered for fee-offset"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    waived_reason = models.CharField(_("reason waived"), max_length=300, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("waived by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("lending charge")
        verbose_name_plural = _("lending charges")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(settlement__in=["offset", "invoice", "free"]), name="lending_charge_settlement_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "invoiced", "offset_recorded", "paid", "waived"]),
                name="lending_charge_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="invoiced") | Q(invoice__isnull=False), name="lending_charge_invoiced_has_invoice"
            ),
            models.CheckConstraint(
                condition=~Q(state="waived") | ~Q(waived_reason=""), name="lending_charge_waived_has_reason"
            ),
            bounds.YEN.constraint("total", "lending_charge_total_range"),
        ]
        indexes = [
            models.Index(
                fields=["borrower", "settlement"],
                condition=Q(state__in=["open", "invoiced", "offset_recorded"]),
                name="lending_charge_unsettled",
            ),
            # The lending reports (reports.lending): a fiscal year's charges (made when we ship).
            models.Index(fields=["created_at"], name="lending_charge_created"),
        ]

    def __str__(self):
        return f"{self.request.number} ¥{self.total:,}"
