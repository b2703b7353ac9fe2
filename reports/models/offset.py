"""Imported NACSIS-ILL fee-offset statements and their lines, matched to our charges (reports.offset).

A statement is the 明細 (detail) CSV the office downloads each month. Its lines are stored with the
outcome of matching them to our charges, together with one line per charge of ours that no
statement matched ("only here"). Nothing of a bad file is stored. The patron's name and department
(CLNT, CLNTP) are not kept: the request page has them, and the retention policy removes them there.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["OffsetLine", "OffsetStatement"]


class OffsetStatement(models.Model):
    """One imported statement file (the same file twice is refused: `file_sha256` is unique)."""

    month = models.DateField(_("month"), help_text=_("The first day of the month the statement covers."))
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    file_size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    file_sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    encoding = models.CharField(_("encoding"), max_length=10, blank=True)
    participant_id = models.CharField(_("our participant ID"), max_length=8)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    counts = models.JSONField(_("lines by outcome"), default=dict, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("fee-offset statement")
        verbose_name_plural = _("fee-offset statements")
        ordering = ["-month", "-id"]
        indexes = [models.Index(fields=["-month", "-id"], name="offset_statement_newest")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.file_name}"


class OffsetLine(models.Model):
    """A line of a statement with what matching found, or a charge of ours no statement has."""

    class Outcome(models.TextChoices):
        DUPLICATE = "duplicate", _("Twice in the statements")
        LENDER_DIFFERS = "lender", _("Lender differs")
        AMOUNT_DIFFERS = "amount", _("Amount differs")
        DETAILS_DIFFER = "details", _("Postage or payment class differs")
        ONLY_STATEMENT = "only_statement", _("Only in the statement")
        ONLY_HERE = "only_here", _("Only here")
        MATCHED = "matched", _("Matched")
        LENDING = "lending", _("Lending (we are the lender)")

    # What does not match first, in this order; then what matched; the lending lines last.
    ORDER = {outcome: n for n, outcome in enumerate(Outcome.values)}
    MISMATCHES = (
        Outcome.DUPLICATE,
        Outcome.LENDER_DIFFERS,
        Outcome.AMOUNT_DIFFERS,
        Outcome.DETAILS_DIFFER,
        Outcome.ONLY_STATEMENT,
        Outcome.ONLY_HERE,
    )
    # The outcomes that tie a statement line to one of our charges (the charge is "in a statement").
    LINKED = (
        Outcome.DUPLICATE,
        Outcome.LENDER_DIFFERS,
        Outcome.AMOUNT_DIFFERS,
        Outcome.DETAILS_DIFFER,
        Outcome.MATCHED,
    )

    statement = models.ForeignKey(OffsetStatement, on_delete=models.CASCADE, related_name="lines")
    line = models.PositiveIntegerField(_("line"), null=True, blank=True)  # in the file; none for "only here"
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    rank = models.PositiveSmallIntegerField(default=0)  # ORDER[outcome]: the list's sort key
    # The statement's columns (ILL料金相殺システム提供データフォーマット, 明細データ), without CLNT / CLNTP.
    ill_id = models.CharField("ID", max_length=12, blank=True)
    renewed_on = models.DateField("RNWDT", null=True, blank=True)
    accepted_on = models.DateField("ADATE", null=True, blank=True)
    state = models.CharField("STAT", max_length=20, blank=True)
    omlid = models.CharField("OMLID", max_length=8, blank=True)
    omlid_member = models.CharField(_("requester's offset number"), max_length=10, blank=True)
    ono = models.CharField("ONO", max_length=10, blank=True)
    amlid = models.CharField("AMLID", max_length=8, blank=True)
    amlid_member = models.CharField(_("lender's offset number"), max_length=10, blank=True)
    ano = models.CharField("ANO", max_length=10, blank=True)
    service = models.CharField("SRVCE", max_length=1, blank=True)
    bibliography = models.TextField("BIBNT", blank=True)
    acct = models.CharField("ACCT", max_length=2, blank=True)
    total = models.PositiveIntegerField("SUM", null=True, blank=True)
    postage = models.PositiveIntegerField("POSTG", null=True, blank=True)
    budget_item = models.TextField("OLDAF", blank=True)
    isogid = models.CharField("ISOGID", max_length=25, blank=True)
    # Ours, as they were at the import.
    request = models.ForeignKey(
        "ill.Request", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("request")
    )
    charge = models.ForeignKey(
        "fees.Charge", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("charge")
    )
    our_total = models.PositiveIntegerField(_("our total"), null=True, blank=True)
    our_postage = models.PositiveIntegerField(_("our postage"), null=True, blank=True)
    our_amlid = models.CharField(_("our lender's participant ID"), max_length=8, blank=True)
    our_acct = models.CharField(_("our ACCT"), max_length=2, blank=True)
    charged_on = models.DateField(_("charge recorded"), null=True, blank=True)
    note = models.CharField(_("what differs"), max_length=500, blank=True)
    # Staff's resolution of a mismatch.
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(_("resolution"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("fee-offset statement line")
        verbose_name_plural = _("fee-offset statement lines")
        ordering = ["statement", "rank", "line", "id"]
        indexes = [
            # A statement's page: mismatches first (rank), or one outcome, a page at a time.
            models.Index(fields=["statement", "rank", "line", "id"], name="offset_line_list"),
            models.Index(fields=["statement", "outcome", "line", "id"], name="offset_line_outcome"),
            # Whether a charge is already in a statement (matching, "only here").
            models.Index(fields=["charge", "outcome"], condition=Q(charge__isnull=False), name="offset_line_charge"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    outcome__in=[
                        "duplicate",
                        "lender",
                        "amount",
                        "details",
                        "only_statement",
                        "only_here",
                        "matched",
                        "lending",
                    ]
                ),
                name="offset_line_outcome_valid",
            ),
        ]

    def __str__(self):
        return f"{self.statement_id}:{self.line or '-'} {self.ill_id} {self.outcome}"

    @property
    def is_mismatch(self) -> bool:
        return self.outcome in self.MISMATCHES

    @property
    def age_days(self) -> int | None:
        """For a charge only here: days from the charge to the end of the statement's month."""
        if self.charged_on is None:
            return None
        month = self.statement.month
        following = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
        return (following - self.charged_on).days - 1
