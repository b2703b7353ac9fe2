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

from core import bounds
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
        EMAIL = "email", _("E-mail")
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

    def __str__(self):
        return f"{self.request} {self.get_decision_display()}"
