"""Interlibrary loan requests and what they are made of (DESIGN.md §2, §4, §7).

The status of a request is only ever assigned by `ill.services` through the transition table in
`ill.lifecycle`; nothing else writes it.
"""

import re
import unicodedata

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core import bounds
from core.models import ImportJob
from core.text import localized
from fees.models import PUBLIC_EXPENSES, Delivery, ExpenseType

# NACSIS-ILL identifiers (issue 11): the ILL record ID (12 characters), kept through every hop to the
# next candidate; a participant organisation's ID (参加組織ID, 8 characters, e.g. FA + 6 digits); the
# fee-offset member number (料金相殺利用機関番号, 10 characters). Stored upper case.
NACSIS_ILL_ID_PATTERN = r"[A-Z0-9]{12}"
NACSIS_PARTICIPANT_PATTERN = r"[A-Z0-9]{1,8}"
OFFSET_MEMBER_PATTERN = r"[A-Z0-9]{1,10}"
NACSIS_ILL_ID_INVALID = _("A NACSIS-ILL ID is 12 letters and digits (for example FA12345678AB); “%(value)s” is not.")
NACSIS_PARTICIPANT_INVALID = _("A NACSIS participant ID is at most 8 letters and digits (for example FA004321).")
OFFSET_MEMBER_INVALID = _("A fee-offset member number is at most 10 letters and digits.")


def normalize_nacsis(value) -> str:
    """What staff type or paste, as stored: full-width to ASCII, spaces and hyphens removed, upper case."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return re.sub(r"[\s\-]", "", text).upper()


class PatternCheck(bounds.PythonCheck):
    """`field` is empty or matches `pattern`, as a database CHECK validated in Python."""

    extra = ("pattern",)

    def passes(self, value) -> bool:
        return not value or re.fullmatch(self.pattern, value) is not None


def pattern_check(field: str, pattern: str, name: str) -> PatternCheck:
    return PatternCheck(
        condition=Q(**{field: ""}) | Q(**{f"{field}__regex": f"^{pattern}$"}), name=name, field=field, pattern=pattern
    )


class LendingInstitution(models.Model):
    """A library we borrow from (DESIGN.md §7)."""

    class Kind(models.TextChoices):
        JAPANESE_UNIVERSITY = "jp_university", _("Japanese university library")
        NDL = "ndl", _("National Diet Library")
        REGIONAL_NETWORK = "regional", _("Regional library network")
        RESEARCH_INSTITUTION = "jp_research", _("Japanese research institution library")
        OVERSEAS = "overseas", _("Overseas library")
        OTHER = "other", _("Other institution")

    # DESIGN.md §6: only these lenders qualify for the student support budget.
    SUPPORT_ELIGIBLE_KINDS = (Kind.JAPANESE_UNIVERSITY, Kind.NDL, Kind.RESEARCH_INSTITUTION)

    code = models.CharField(
        _("code"), max_length=20, unique=True, help_text=_("NACSIS-ILL participant code or a short local code.")
    )
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    is_offset_participant = models.BooleanField(
        _("fee-offset participant"), default=True, help_text=_("Takes part in the national ILL fee-offset (料金相殺).")
    )
    accepts_public_expense = models.BooleanField(_("accepts public expense"), default=True)
    supports_express = models.BooleanField(_("supports express mail"), default=True)
    supports_fax = models.BooleanField(_("supports FAX / electronic delivery"), default=False)
    payment_methods = models.CharField(
        _("payment methods"),
        max_length=200,
        blank=True,
        help_text=_("For lenders outside the fee-offset: prepayment, bank transfer, postal money order, stamps…"),
    )
    loan_period_days = models.PositiveSmallIntegerField(
        _("usual loan period (days)"), default=14, validators=[bounds.LOAN_DAYS.validator()]
    )
    country = models.CharField(_("country"), max_length=2, default="JP")
    contact_name = models.CharField(_("contact"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    fax = models.CharField(_("FAX"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    isil = models.CharField(
        "ISIL",
        max_length=16,
        blank=True,
        help_text=_("International Standard Identifier for Libraries, e.g. JP-1000001 (ISO 18626 agency ID)."),
    )
    nacsis_participant_id = models.CharField(
        _("NACSIS participant ID"),
        max_length=8,
        blank=True,
        help_text=_("The lender's participant organisation ID in NACSIS-ILL (AMLID), e.g. FA004321."),
        validators=[RegexValidator(f"^{NACSIS_PARTICIPANT_PATTERN}$", NACSIS_PARTICIPANT_INVALID)],
    )
    offset_member_number = models.CharField(
        _("fee-offset member number"),
        max_length=10,
        blank=True,
        help_text=_("The lender's number in the NACSIS-ILL fee-offset (料金相殺利用機関番号), if known."),
        validators=[RegexValidator(f"^{OFFSET_MEMBER_PATTERN}$", OFFSET_MEMBER_INVALID)],
    )

    class Meta:
        verbose_name = _("lending institution")
        verbose_name_plural = _("lending institutions")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["jp_university", "ndl", "regional", "jp_research", "overseas", "other"]),
                name="lender_kind_valid",
            ),
            # DESIGN.md §7: a lender outside the fee-offset takes no public expense.
            models.CheckConstraint(
                condition=Q(is_offset_participant=True) | Q(accepts_public_expense=False),
                name="lender_public_expense_needs_offset",
            ),
            bounds.LOAN_DAYS.constraint("loan_period_days", "lender_loan_period_days_range"),
            models.UniqueConstraint(
                fields=["nacsis_participant_id"],
                condition=~Q(nacsis_participant_id=""),
                name="lender_nacsis_participant_unique",
                violation_error_message=_("Another lender already has this NACSIS participant ID."),
            ),
            models.UniqueConstraint(
                fields=["isil"],
                condition=~Q(isil=""),
                name="lender_isil_unique",
                violation_error_message=_("Another library already has this ISIL."),
            ),
            pattern_check("nacsis_participant_id", NACSIS_PARTICIPANT_PATTERN, "lender_nacsis_participant_valid"),
            pattern_check("offset_member_number", OFFSET_MEMBER_PATTERN, "lender_offset_member_valid"),
        ]

    def __str__(self):
        return localized(self)

    def clean_fields(self, exclude=None):
        """The NACSIS identifiers as typed (lower case, full-width) are stored upper case, ASCII."""
        self.nacsis_participant_id = normalize_nacsis(self.nacsis_participant_id)
        self.offset_member_number = normalize_nacsis(self.offset_member_number)
        super().clean_fields(exclude=exclude)

    @property
    def display_name(self):
        return localized(self)

    @property
    def is_domestic(self) -> bool:
        return self.kind != self.Kind.OVERSEAS

    @property
    def qualifies_for_support(self) -> bool:
        """DESIGN.md §6: only orders from these lenders are paid by the student support budget."""
        return self.kind in self.SUPPORT_ELIGIBLE_KINDS


class LocalHolding(models.Model):
    """A record of this library's own catalogue, imported from CSV or MARC (DESIGN.md §3.3)."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        ON_LOAN = "on_loan", _("On loan")
        IN_PROCESS = "in_process", _("In process")
        MISSING = "missing", _("Missing")

    source_id = models.CharField(_("catalogue record ID"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=500)
    author = models.CharField(_("author"), max_length=300, blank=True)
    call_number = models.CharField(_("call number"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AVAILABLE)
    is_electronic = models.BooleanField(
        _("electronic"), default=False, help_text=_("An e-journal or e-book the patron can read directly.")
    )
    branch = models.ForeignKey(
        "patrons.Branch", on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("branch")
    )
    location = models.CharField(_("location"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("local holding")
        verbose_name_plural = _("local holdings")
        ordering = ["title"]

    def __str__(self):
        return self.title


class LocalHoldingIdentifier(models.Model):
    """One normalised identifier of a holding; a record may carry several ISBNs."""

    class Scheme(models.TextChoices):
        ISBN = "isbn", "ISBN"
        ISSN = "issn", "ISSN"
        NCID = "ncid", "NCID"

    holding = models.ForeignKey(
        LocalHolding, on_delete=models.CASCADE, related_name="identifiers", verbose_name=_("holding")
    )
    scheme = models.CharField(_("scheme"), max_length=4, choices=Scheme.choices)
    value = models.CharField(_("value"), max_length=20)

    class Meta:
        verbose_name = _("holding identifier")
        verbose_name_plural = _("holding identifiers")
        constraints = [
            models.UniqueConstraint(fields=["holding", "scheme", "value"], name="holding_identifier_unique"),
        ]
        indexes = [models.Index(fields=["scheme", "value"], name="holding_ident_lookup")]

    def __str__(self):
        return f"{self.scheme}:{self.value}"


class HoldingsImport(ImportJob):
    """One upload of the catalogue export, run by a Celery task (ill.holdings.run_job): the file waits
    here for a worker in another container, is read into HoldingsImportRow and swapped into the
    holdings in one transaction, all or nothing. The file is emptied when the job ends."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", pgettext_lazy("holdings import", "Done")
        FAILED = "failed", pgettext_lazy("holdings import", "Failed")  # not the e-mail's "could not be sent"

    class Step(models.TextChoices):
        WAITING = "", _("Waiting for a worker")
        READING = "reading", _("Reading and checking the file")
        APPLYING = "applying", _("Applying to the holdings")
        FINISHED = "finished", _("Finished")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        MARC = "marc", "MARC"

    # The file, progress, heartbeat, problems ([[line or record, message], …]) and outcome: core.models.ImportJob.
    fmt = models.CharField(_("format"), max_length=4, choices=Format.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    step = models.CharField(_("step"), max_length=10, choices=Step.choices, default=Step.WAITING, blank=True)
    lines_total = models.PositiveIntegerField(_("lines or records (estimated)"), default=0)
    lines_read = models.PositiveIntegerField(_("lines or records read"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )

    class Meta(ImportJob.Meta):
        verbose_name = _("holdings import")
        verbose_name_plural = _("holdings imports")


class HoldingsImportRow(models.Model):
    """The staging table: one checked record of a HoldingsImport, waiting for the swap (on PostgreSQL
    an UNLOGGED table: nothing here needs to survive a crash)."""

    job = models.ForeignKey(HoldingsImport, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    source_id = models.CharField(max_length=64)
    title = models.CharField(max_length=500)
    author = models.CharField(max_length=300, blank=True)
    call_number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20)
    is_electronic = models.BooleanField(default=False)
    branch = models.ForeignKey("patrons.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    location = models.CharField(max_length=100, blank=True)
    identifiers = models.TextField(blank=True)  # "isbn:9784101010014 ncid:BA51293930"

    class Meta:
        indexes = [models.Index(fields=["job", "source_id"], name="holdings_row_source")]

    def __str__(self):
        return f"{self.job_id}:{self.line}:{self.source_id}"


class RequestNumberCounter(models.Model):
    """Last number handed out per year, locked while a new request takes the next one."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("request number counter")
        verbose_name_plural = _("request number counters")

    def __str__(self):
        return f"{self.year}: {self.last}"


# The requests still being worked (ill.lifecycle.OPEN_STATES; a test keeps the two equal). The
# partial indexes below cover only them, so the counter's worklists cost the open work, not the history.
OPEN_STATUSES = ["submitted", "ordered", "unfilled", "arrived", "on_loan", "returned"]

REQUEST_STATUSES = [
    "submitted",
    "ordered",
    "unfilled",
    "arrived",
    "on_loan",
    "returned",
    "handed_over",
    "closed",
    "rejected",
    "cancelled",
]


class Request(models.Model):
    """A patron's request for a loan or a copy from another library."""

    class Kind(models.TextChoices):
        LOAN = "loan", _("Loan")
        COPY = "copy", _("Copy")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ORDERED = "ordered", _("Ordered")
        UNFILLED = "unfilled", _("Unfilled")
        ARRIVED = "arrived", _("Arrived")
        ON_LOAN = "on_loan", _("On loan")
        RETURNED = "returned", _("Returned by patron")
        HANDED_OVER = "handed_over", _("Handed over")
        CLOSED = "closed", _("Closed")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    class MaterialType(models.TextChoices):
        BOOK = "book", _("Book")
        CHAPTER = "chapter", _("Book chapter")
        ARTICLE = "article", _("Journal article")
        THESIS = "thesis", _("Thesis or dissertation")
        PROCEEDINGS = "proceedings", _("Conference proceedings")
        SERIAL = "serial", _("Serial (newspaper, journal volume)")
        AUDIOVISUAL = "audiovisual", _("Audio-visual material")
        OTHER = "other", _("Other")

    class PaperSize(models.TextChoices):
        A4 = "A4", "A4"
        A3 = "A3", "A3"
        B5 = "B5", "B5"
        B4 = "B4", "B4"

    Delivery = Delivery

    class Purpose(models.TextChoices):
        RESEARCH = "research", _("Research")
        STUDY = "study", _("Study")
        OTHER = "other", _("Other purpose")

    class Frequency(models.TextChoices):
        """How often a periodical appears (DESIGN.md §3.5: when its latest issue may be copied)."""

        NOT_PERIODICAL = "none", _("Not a periodical (book, proceedings…)")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly or twice a month")
        BIMONTHLY = "bimonthly", _("Every two months")
        QUARTERLY_OR_LESS = "quarterly", _("Quarterly or less often")

    ExpenseType = ExpenseType

    class Scope(models.TextChoices):
        DOMESTIC = "domestic", _("Japan only")
        OVERSEAS = "overseas", _("Overseas allowed")

    class UseRestriction(models.TextChoices):
        NONE = "none", _("No restriction")
        IN_LIBRARY = "in_library", _("In-library use only")
        NO_COPYING = "no_copying", _("No copying")
        IN_LIBRARY_NO_COPYING = "in_library_no_copying", _("In-library use only, no copying")

    class RejectReason(models.TextChoices):
        RARE = "rare", _("Rare book")
        REFERENCE = "reference", _("Reference book")
        LARGE = "large", _("Large book")
        JAPANESE_BINDING = "japanese_binding", _("Traditional Japanese binding (和装本)")
        NEW_PUBLICATION = "new_publication", _("New publication")
        PRE_1945 = "pre_1945", _("Published before 1945")
        SERIAL = "serial", _("Serial publication")
        HELD_LOCALLY = "held_locally", _("Held by this library")
        ELECTRONIC = "electronic", _("Available electronically")
        DUPLICATE = "duplicate", _("Already requested")
        COPYRIGHT = "copyright", _("Not allowed by copyright law")
        INCOMPLETE = "incomplete", _("Citation incomplete or not found")
        NOT_NEEDED = "not_needed", _("Cannot arrive before it is no longer needed")
        OTHER = "other", _("Other reason")

    class CloseReason(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        SENT_BACK = "sent_back", _("Returned to the lender")
        NOT_COLLECTED = "not_collected", _("Not collected")
        UNFILLED = "unfilled", _("No lender could supply it")
        NOT_NEEDED = "not_needed", _("No longer needed by the patron")

    number = models.CharField(_("request number"), max_length=20, unique=True, editable=False)
    patron = models.ForeignKey(
        "patrons.Patron", on_delete=models.PROTECT, related_name="requests", verbose_name=_("patron")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, editable=False)

    # Bibliographic data (§2)
    material_type = models.CharField(
        _("material type"), max_length=20, choices=MaterialType.choices, default=MaterialType.BOOK
    )
    title = models.CharField(
        _("title"), max_length=500, help_text=_("Book title, or the journal / book the part is in.")
    )
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
    pages = models.CharField(_("pages"), max_length=50, blank=True, help_text=_("For example 123-145."))
    note = models.TextField(_("note"), blank=True)

    # Copies (§2, §3.5)
    page_count = models.PositiveIntegerField(
        _("number of pages"), null=True, blank=True, validators=[bounds.PAGES.validator()]
    )
    colour_pages = models.PositiveIntegerField(
        _("of which in colour"), default=0, validators=[bounds.COLOUR_PAGES.validator()]
    )
    paper_size = models.CharField(_("paper size"), max_length=4, choices=PaperSize.choices, default=PaperSize.A4)
    delivery_method = models.CharField(_("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.MAIL)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.RESEARCH)
    periodical_frequency = models.CharField(
        _("publication frequency"), max_length=10, choices=Frequency.choices, default=Frequency.NOT_PERIODICAL
    )
    issue_date = models.DateField(_("issue date"), null=True, blank=True, validators=[bounds.ISSUE_DATE.validator()])
    work_total_pages = models.PositiveIntegerField(
        _("total pages of the work"), null=True, blank=True, validators=[bounds.WORK_PAGES.validator()]
    )
    copyright_accepted = models.BooleanField(_("copyright responsibility accepted"), default=False)

    # Payment (§2, §6)
    expense_type = models.CharField(
        _("expense"), max_length=10, choices=ExpenseType.choices, default=ExpenseType.PRIVATE
    )
    budget_code = models.ForeignKey(
        "fees.BudgetCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("budget code"),
    )
    cannot_use_public_expense = models.BooleanField(_("I cannot use a public expense"), default=False)
    support_budget = models.ForeignKey(
        "fees.SupportBudget",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("student support budget"),
    )
    comments = models.TextField(_("comments"), blank=True)

    # Wishes (§2)
    pickup_branch = models.ForeignKey(
        "patrons.Branch", on_delete=models.PROTECT, related_name="pickup_requests", verbose_name=_("pick-up branch")
    )
    not_needed_after = models.DateField(
        _("not needed after"), null=True, blank=True, validators=[bounds.DESK_DATE.validator()]
    )
    max_cost = models.PositiveIntegerField(
        _("maximum cost (yen)"), null=True, blank=True, validators=[bounds.YEN.validator()]
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.DOMESTIC)
    accept_other_edition = models.BooleanField(_("another edition is acceptable"), default=False)
    cancel_if_in_library_only = models.BooleanField(_("cancel if in-library use only"), default=False)

    # Overrides recorded by staff (§3.2, §3.5)
    duplicate_override_reason = models.CharField(_("duplicate override reason"), max_length=300, blank=True)
    copyright_override_reason = models.CharField(_("copyright override reason"), max_length=300, blank=True)

    # Ordering (§4)
    lender = models.ForeignKey(
        LendingInstitution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("lender"),
    )
    lender_reference = models.CharField(_("lender's reference"), max_length=100, blank=True)
    nacsis_ill_id = models.CharField(
        _("NACSIS-ILL ID"),
        max_length=12,
        blank=True,
        help_text=_("The ILL record's ID in NACSIS-ILL (12 characters); the same through every lender asked."),
        validators=[RegexValidator(f"^{NACSIS_ILL_ID_PATTERN}$", NACSIS_ILL_ID_INVALID)],
    )
    shipping_method = models.CharField(_("shipping method"), max_length=10, choices=Delivery.choices, blank=True)
    estimate = models.PositiveIntegerField(
        _("estimated charge (yen)"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("What the order is expected to cost at the current lender; held on the budget until arrival."),
        validators=[bounds.YEN.validator()],
    )

    # Arrival and after (§4)
    lender_due_date = models.DateField(
        _("lender's due date"), null=True, blank=True, validators=[bounds.DESK_DATE.validator()]
    )
    due_date = models.DateField(_("due date"), null=True, blank=True, validators=[bounds.DESK_DATE.validator()])
    use_restriction = models.CharField(
        _("use restriction"), max_length=30, choices=UseRestriction.choices, default=UseRestriction.NONE
    )
    restriction_note = models.CharField(_("restriction note"), max_length=300, blank=True)
    reject_reason = models.CharField(_("reason"), max_length=20, choices=RejectReason.choices, blank=True)
    close_reason = models.CharField(_("closed because"), max_length=20, choices=CloseReason.choices, blank=True)
    status_note = models.TextField(_("note to the patron"), blank=True)

    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now, editable=False)
    reviewed_at = models.DateTimeField(_("checked by staff"), null=True, blank=True, editable=False)
    ordered_at = models.DateTimeField(_("ordered"), null=True, blank=True, editable=False)
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True, editable=False)
    notified_at = models.DateTimeField(_("patron notified"), null=True, blank=True, editable=False)
    handed_over_at = models.DateTimeField(_("handed over"), null=True, blank=True, editable=False)
    returned_at = models.DateTimeField(_("returned by patron"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Retention (ill.retention): when the patron and the free text about them were removed, N years
    # after the request closed; the patron is then a placeholder of the same category and department.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-submitted_at"]
        permissions = [
            ("work_desk", _("Can work the ILL desk")),
            ("override_rules", _("Can override the duplicate and copyright rules")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["loan", "copy"]), name="request_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=REQUEST_STATUSES), name="request_status_valid"),
            models.CheckConstraint(
                condition=Q(page_count__isnull=True, colour_pages=0) | Q(colour_pages__lte=F("page_count")),
                name="request_colour_pages_within_pages",
            ),
            models.CheckConstraint(
                condition=Q(expense_type="private") | Q(budget_code__isnull=False),
                name="request_public_expense_has_budget_code",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""), name="request_rejection_has_reason"
            ),
            # Issue 12: what forms accept (core.bounds), so that nothing computed from it overflows.
            bounds.PUB_YEAR.constraint("pub_year", "request_pub_year_range"),
            bounds.PAGES.constraint("page_count", "request_page_count_range"),
            bounds.COLOUR_PAGES.constraint("colour_pages", "request_colour_pages_range"),
            bounds.WORK_PAGES.constraint("work_total_pages", "request_work_total_pages_range"),
            bounds.ISSUE_DATE.constraint("issue_date", "request_issue_date_range"),
            bounds.DESK_DATE.constraint("not_needed_after", "request_not_needed_after_range"),
            bounds.YEN.constraint("max_cost", "request_max_cost_range"),
            bounds.YEN.constraint("estimate", "request_estimate_range"),
            bounds.DESK_DATE.constraint("lender_due_date", "request_lender_due_date_range"),
            bounds.DESK_DATE.constraint("due_date", "request_due_date_range"),
            pattern_check("nacsis_ill_id", NACSIS_ILL_ID_PATTERN, "request_nacsis_ill_id_valid"),
            # One NACSIS-ILL record is one request (the offset statement is matched by it).
            models.UniqueConstraint(
                fields=["nacsis_ill_id"], condition=~Q(nacsis_ill_id=""), name="request_nacsis_ill_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "pickup_branch", "submitted_at"], name="request_staff_queue"),
            models.Index(fields=["-submitted_at"], name="request_newest"),
            models.Index(fields=["pickup_branch", "-submitted_at"], name="request_branch_newest"),
            models.Index(fields=["patron", "-submitted_at"], name="request_patron_list"),
            models.Index(fields=["patron", "kind", "status"], name="request_patron_active"),
            models.Index(fields=["isbn"], name="request_isbn"),
            models.Index(fields=["ncid"], name="request_ncid"),
            models.Index(fields=["status", "due_date"], name="request_due"),
            models.Index(fields=["lender", "status"], name="request_lender"),
            models.Index(
                fields=["pickup_branch", "status", "due_date"],
                condition=Q(status__in=OPEN_STATUSES),
                name="request_open_work",
            ),
            models.Index(fields=["due_date"], name="request_due_sort"),
            models.Index(fields=["title"], name="request_title_sort"),
            models.Index(fields=["issn"], condition=~Q(issn=""), name="request_issn"),
            models.Index(fields=["doi"], condition=~Q(doi=""), name="request_doi"),
            models.Index(fields=["lender_reference"], condition=~Q(lender_reference=""), name="request_lender_ref"),
            # The requests a student support budget supports, counted from the index alone (admin).
            models.Index(
                fields=["support_budget", "status"],
                condition=Q(support_budget__isnull=False),
                name="request_support_budget",
            ),
            # Closed requests still to anonymise, oldest first (ill.retention): only those, never the history.
            models.Index(
                fields=["closed_at", "id"],
                condition=Q(closed_at__isnull=False, anonymised_at__isnull=True),
                name="request_to_anonymise",
            ),
            # The copyright log (reports.copyright): the few overridden or copyright-rejected requests of a
            # period, read from these alone however many requests there are.
            models.Index(
                fields=["submitted_at"], condition=~Q(copyright_override_reason=""), name="request_copyright_override"
            ),
            models.Index(
                fields=["submitted_at"], condition=~Q(duplicate_override_reason=""), name="request_duplicate_override"
            ),
            models.Index(
                fields=["closed_at"], condition=Q(reject_reason="copyright"), name="request_copyright_rejected"
            ),
            # The report rollup (reports.rollup): what changed since its last refresh, and one month's arrivals.
            models.Index(fields=["updated_at"], name="request_updated"),
            models.Index(fields=["arrived_at"], condition=Q(arrived_at__isnull=False), name="request_arrived"),
        ]

    def __str__(self):
        return f"{self.number} {self.display_title}"

    def get_absolute_url(self):
        return reverse("patron:request", args=[self.number])

    def get_desk_url(self):
        return reverse("desk:request", args=[self.number])

    @property
    def display_title(self) -> str:
        return self.article_title or self.title

    @property
    def is_loan(self) -> bool:
        return self.kind == self.Kind.LOAN

    @property
    def is_copy(self) -> bool:
        return self.kind == self.Kind.COPY

    @property
    def is_public_expense(self) -> bool:
        return self.expense_type in PUBLIC_EXPENSES

    @property
    def is_overdue(self) -> bool:
        """Overdue is derived from the due date, never stored (DESIGN.md §4); `ill.selectors.overdue_q`
        is the same rule as a query."""
        return self.status == self.Status.ON_LOAN and self.due_date is not None and self.due_date < timezone.localdate()


class LenderCandidate(models.Model):
    """One of up to five lenders to ask in order, as NACSIS-ILL does; each hop stays on record."""

    MAX_CANDIDATES = 5

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ORDERED = "ordered", _("Ordered")
        UNFILLED = "unfilled", _("Unfilled")
        FILLED = "filled", _("Filled")
        SKIPPED = "skipped", _("Skipped")

    class UnfilledReason(models.TextChoices):
        """Why a lender could not supply, as NACSIS-ILL's refusal (謝絶) reasons are written."""

        NOT_HELD = "not_held", _("Not held")
        ON_LOAN = "on_loan", _("On loan or in use")
        NOT_FOR_LOAN = "not_for_loan", _("Not for loan")
        MISSING = "missing", _("Missing or not on the shelf")
        AT_BINDERY = "at_bindery", _("At the bindery or being repaired")
        FRAGILE = "fragile", _("Too fragile to lend or copy")
        COPYRIGHT = "copyright", _("Copyright does not allow it")
        CONDITIONS = "conditions", _("Conditions not accepted (fee, payment, delivery)")
        NO_ANSWER = "no_answer", _("No answer from the lender")
        OTHER = "other", _("Other reason")

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="candidates", verbose_name=_("request"))
    position = models.PositiveSmallIntegerField(_("position in the list"))
    lender = models.ForeignKey(LendingInstitution, on_delete=models.PROTECT, related_name="+", verbose_name=_("lender"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.WAITING)
    lender_reference = models.CharField(_("lender's reference"), max_length=100, blank=True)
    ordered_at = models.DateTimeField(_("ordered"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answer_note = models.CharField(_("answer"), max_length=300, blank=True)
    unfilled_reason = models.CharField(_("reason unfilled"), max_length=20, choices=UnfilledReason.choices, blank=True)

    class Meta:
        verbose_name = _("candidate lender")
        verbose_name_plural = _("candidate lenders")
        ordering = ["request", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "position"], name="candidate_position_unique"),
            models.CheckConstraint(condition=Q(position__gte=1, position__lte=5), name="candidate_position_range"),
        ]
        indexes = [
            # The report rollup (reports.rollup): one month's orders to lenders.
            models.Index(fields=["ordered_at"], condition=Q(ordered_at__isnull=False), name="candidate_ordered"),
        ]

    def __str__(self):
        return f"{self.position}. {self.lender}"


class RequestEvent(models.Model):
    """The history of a request: every transition and every other thing staff did to it."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="events", verbose_name=_("request"))
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
    visible_to_patron = models.BooleanField(_("shown to the patron"), default=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["request", "created_at"], name="event_request_time"),
            models.Index(fields=["created_at", "id"], name="event_time"),  # the admin's list, newest first
            models.Index(fields=["action", "created_at", "id"], name="event_action_time"),  # …of one action
        ]

    def __str__(self):
        return f"{self.request_id} {self.action} {self.from_status}→{self.to_status}"

    @property
    def is_transition(self) -> bool:
        return self.from_status != self.to_status


class ExtensionRequest(models.Model):
    """A patron asks for more time; the lender decides (DESIGN.md §4)."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        FORWARDED = "forwarded", _("Forwarded to the lender")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("request"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    new_lender_due_date = models.DateField(
        _("new lender's due date"), null=True, blank=True, validators=[bounds.DESK_DATE.validator()]
    )
    new_due_date = models.DateField(_("new due date"), null=True, blank=True, validators=[bounds.DESK_DATE.validator()])
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    answer_note = models.CharField(_("answer"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["requested_at", "id"], name="extension_requested")]  # the admin's list
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=Q(state__in=["requested", "forwarded"]), name="extension_one_open"
            ),
            models.CheckConstraint(
                condition=~Q(state="granted") | Q(new_due_date__isnull=False), name="extension_granted_has_date"
            ),
            bounds.DESK_DATE.constraint("new_lender_due_date", "extension_new_lender_due_date_range"),
            bounds.DESK_DATE.constraint("new_due_date", "extension_new_due_date_range"),
        ]

    def __str__(self):
        return f"{self.request_id} {self.state}"


class RuleRefusal(models.Model):
    """One refusal of a submission rule shown to a patron or to staff entering a request, for the
    copyright log (ill.refusals records it; reports.copyright counts it). Not who: the patron's
    category, the kind and material, the pick-up branch, the day (DESIGN.md §12: no reading
    record). The same patron, rule and citation count once a day: `fingerprint` is a keyed one-way
    hash (HMAC-SHA256 with SECRET_KEY) of the patron, the rule, the citation and the day, from which
    neither the patron nor the citation can be read back, nor two days of one patron linked."""

    day = models.DateField(_("day"))
    rule = models.CharField(_("rule"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=Request.Kind.choices)
    material_type = models.CharField(_("material type"), max_length=20, choices=Request.MaterialType.choices)
    branch = models.ForeignKey(
        "patrons.Branch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pick-up branch"),
    )
    patron_category = models.CharField(_("patron category"), max_length=30, blank=True)
    staff_entry = models.BooleanField(_("entered by staff"), default=False)
    fingerprint = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("rule refusal")
        verbose_name_plural = _("rule refusals")
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["day", "fingerprint"], name="refusal_once_a_day"),
        ]
        indexes = [
            models.Index(fields=["day", "rule", "staff_entry"], name="refusal_day_rule"),
            models.Index(fields=["branch", "day"], name="refusal_branch_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.rule}"
