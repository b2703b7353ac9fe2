"""Branches of the library, laboratories and patrons (DESIGN.md §1, §9)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import ImportJob
from core.text import localized


class Branch(models.Model):
    """A library branch with a pick-up counter (e.g. the central library, the medical library)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    counter = models.CharField(_("pick-up counter"), max_length=100, blank=True)
    counter_en = models.CharField(_("pick-up counter in English"), max_length=100, blank=True)
    campus = models.CharField(_("campus"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    hours_note = models.TextField(
        _("opening hours note"), blank=True, help_text=_("Exceptions such as holidays and vacation hours.")
    )
    hours_note_en = models.TextField(_("opening hours note in English"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["code"]

    def __str__(self):
        return localized(self)

    @property
    def display_name(self):
        return localized(self)

    @property
    def display_counter(self):
        return localized(self, "counter")

    @property
    def display_hours_note(self):
        return localized(self, "hours_note")


class OpeningHours(models.Model):
    """Regular opening hours of a branch for one day of the week (0 = Monday)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("branch"))
    weekday = models.PositiveSmallIntegerField(_("day of the week"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["branch", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "weekday"], name="opening_hours_one_per_day"),
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="opening_hours_opens_before_closes"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday_range"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Laboratory(models.Model):
    """A research group; budget codes may belong to it and copies go to it by campus mail."""

    code = models.CharField(
        _("code"),
        max_length=30,
        blank=True,
        help_text=_("The registrar's code for the laboratory (how the patron import names it); optional."),
    )
    name = models.CharField(_("name"), max_length=150)
    name_en = models.CharField(_("name in English"), max_length=150, blank=True)
    department = models.CharField(_("department"), max_length=150, blank=True)
    supervisor = models.ForeignKey(
        "Patron",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervised_labs",
        verbose_name=_("supervisor"),
    )
    campus_mail_address = models.CharField(_("campus mail address"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("laboratory")
        verbose_name_plural = _("laboratories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="laboratory_code_unique"),
        ]

    def __str__(self):
        return localized(self)


class Patron(models.Model):
    """A library user who may request items; linked one-to-one to a login."""

    class Category(models.TextChoices):
        UNDERGRADUATE = "undergraduate", _("Undergraduate (years 1–3)")
        UNDERGRADUATE_FINAL = "undergraduate_final", _("Undergraduate (year 4)")
        MASTERS = "masters", _("Master's student")
        DOCTORAL = "doctoral", _("Doctoral student")
        FACULTY = "faculty", _("Faculty")
        STAFF = "staff", _("Staff")

    STUDENT_CATEGORIES = (Category.UNDERGRADUATE, Category.UNDERGRADUATE_FINAL, Category.MASTERS, Category.DOCTORAL)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patron", verbose_name=_("login")
    )
    patron_number = models.CharField(
        _("patron number"), max_length=30, unique=True, help_text=_("Student or staff ID printed on the library card.")
    )
    # The campus sign-in's identifier (SAML eduPersonPrincipalName, patrons.saml): set by the first
    # sign-in that finds the patron by student number, or by staff in the admin; blank = not linked.
    eppn = models.CharField(
        _("university account (ePPN)"),
        max_length=255,
        blank=True,
        help_text=_("eduPersonPrincipalName sent by the university's sign-in, e.g. s1234567@example.ac.jp."),
    )
    full_name = models.CharField(_("full name"), max_length=150)
    full_name_kana = models.CharField(_("full name (kana)"), max_length=150, blank=True)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    department = models.CharField(_("faculty or department"), max_length=150, blank=True)
    laboratory = models.ForeignKey(
        Laboratory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("laboratory"),
    )
    home_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="patrons", verbose_name=_("home branch")
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=settings.LANGUAGES, default="ja"
    )
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    blocked = models.BooleanField(_("blocked"), default=False, help_text=_("A blocked patron cannot submit requests."))
    block_reason = models.CharField(_("reason for the block"), max_length=200, blank=True)
    # Set by the registrar import (patrons.registrar) when the patron is no longer in the complete
    # list (graduated, left): no new requests; the record and its history stay.
    active = models.BooleanField(
        _("registered"),
        default=True,
        help_text=_("Off: left the university (registrar import); no new requests, the history stays."),
    )
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("patron")
        verbose_name_plural = _("patrons")
        ordering = ["patron_number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    category__in=["undergraduate", "undergraduate_final", "masters", "doctoral", "faculty", "staff"]
                ),
                name="patron_category_valid",
            ),
            models.CheckConstraint(condition=Q(blocked=False) | ~Q(block_reason=""), name="patron_block_has_reason"),
            models.UniqueConstraint(fields=["eppn"], condition=~Q(eppn=""), name="patron_eppn_unique"),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.patron_number})"

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_student(self) -> bool:
        return self.category in self.STUDENT_CATEGORIES


class StaffMember(models.Model):
    """A member of the library staff and the branch they work at: the desk pages show every branch
    but start with theirs."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_member", verbose_name=_("login")
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="staff", verbose_name=_("branch"))

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")

    def __str__(self):
        return f"{self.user.get_username()} ({self.branch})"


class PatronEvent(models.Model):
    """The history of a patron: blocks, unblocks and changes made in the admin."""

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="events", verbose_name=_("patron"))
    action = models.CharField(_("action"), max_length=40)
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
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("patron event")
        verbose_name_plural = _("patron events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.patron_id} {self.action}"


class PatronImport(ImportJob):
    """One upload of the registrar's list of students and staff (patrons.registrar): checked first
    (a preview of what would change, nothing written), then applied in one transaction when an
    administrator confirms. The file waits here for a worker and is emptied when the job ends."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        READY = "ready", _("Checked: waiting for confirmation")
        DONE = "done", pgettext_lazy("patron import", "Applied")
        FAILED = "failed", pgettext_lazy("patron import", "Failed")
        DISCARDED = "discarded", _("Discarded")

    class Step(models.TextChoices):
        WAITING = "", _("Waiting for a worker")
        READING = "reading", _("Reading and checking the file")
        APPLYING = "applying", _("Applying to the patrons")
        FINISHED = "finished", _("Finished")

    class Mode(models.TextChoices):
        PREVIEW = "preview", _("Preview")
        APPLY = "apply", _("Apply")

    # The file, progress, heartbeat, problems and outcome: core.models.ImportJob.
    complete = models.BooleanField(
        _("complete list"), default=False, help_text=_("Patrons of the file's categories missing from it leave.")
    )
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.PREVIEW)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    step = models.CharField(_("step"), max_length=10, choices=Step.choices, default=Step.WAITING, blank=True)
    new_count = models.PositiveIntegerField(_("new"), default=0)
    changed_count = models.PositiveIntegerField(_("changed"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    leaving_count = models.PositiveIntegerField(_("leaving"), default=0)
    returning_count = models.PositiveIntegerField(_("returning"), default=0)
    samples = models.JSONField(_("examples"), default=dict, blank=True)  # {"new": [[number, name, detail]], …}
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(ImportJob.Meta):
        verbose_name = _("patron import")
        verbose_name_plural = _("patron imports")
