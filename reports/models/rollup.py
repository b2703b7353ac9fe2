"""The monthly figures the report pages read (kept up to date by reports.rollup).

Each table holds counts per calendar month (the first day of the month, in the site's time zone) and
per the dimensions the reports group by. A month's rows are always rewritten together from the raw
requests (reports.rollup.refresh_month), so no row is ever edited on its own. No foreign keys: the
ids of the branch, the lender and the budget code are kept as plain numbers, so that the rollup never
holds up a deletion and is rebuilt the same way whatever happened to the rows it came from.
"""

from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from ill.models import LendingInstitution

__all__ = ["RollupState", "RequestMonth", "CandidateMonth", "DurationMonth", "ChargeMonth"]


class RollupState(models.Model):
    """One row (pk=1): how far the rollup has read the requests, and the lock of the one refresher
    (SELECT … FOR UPDATE of this row)."""

    # Requests with `updated_at` after this have not been read into the rollup yet.
    watermark = models.DateTimeField(null=True, blank=True)
    # The newest `updated_at` read so far: a page's quick refresh reads only what is newer.
    seen = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    # Set when something the rollup copied changed (a lender's kind or country): the next refresh
    # rebuilds everything.
    rebuild_needed = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("report figures state")

    def __str__(self):
        return f"rollup as of {self.computed_at}"


class RequestMonth(models.Model):
    """Requests counted by the month of one of their dates (`basis`)."""

    class Basis(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")  # lender = the lender that has it now / supplied it
        ORDERED = "ordered", _("first ordered")  # lender = the first lender asked
        ARRIVED = "arrived", _("arrived")  # lender = the lender that supplied it

    basis = models.CharField(max_length=10, choices=Basis.choices)
    month = models.DateField()
    branch_id = models.IntegerField()
    kind = models.CharField(max_length=10)
    status = models.CharField(max_length=20)
    lender_kind = models.CharField(max_length=20, blank=True)  # "" = never ordered
    overseas = models.BooleanField(null=True)  # None = never ordered
    supplied = models.BooleanField(default=False)  # it has arrived
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["basis", "month"], name="rollup_request_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.count}"


class CandidateMonth(models.Model):
    """The lenders asked (LenderCandidate with an order time), by the month they were asked."""

    month = models.DateField()
    branch_id = models.IntegerField()
    lender_id = models.IntegerField()
    state = models.CharField(max_length=10)
    unfilled_reason = models.CharField(max_length=20, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month"], name="rollup_candidate_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.count}"


class DurationMonth(models.Model):
    """How long arrived requests took, by arrival month: a histogram of whole hours (rounded down)
    {hours: count}, so that medians and percentiles of any set of months are exact at one hour."""

    class Measure(models.TextChoices):
        SUBMITTED = "submitted", _("submitted → arrived")
        ORDERED = "ordered", _("ordered → arrived")

    month = models.DateField()
    branch_id = models.IntegerField()
    kind = models.CharField(max_length=10)
    lender_kind = models.CharField(max_length=20)
    overseas = models.BooleanField()
    delivery = models.CharField(max_length=10)
    measure = models.CharField(max_length=10, choices=Measure.choices)
    count = models.PositiveIntegerField()
    hours = models.JSONField(default=dict)  # {"72": 3, …}

    class Meta:
        indexes = [models.Index(fields=["month"], name="rollup_duration_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.count}"


class ChargeMonth(models.Model):
    """Charges by the month they were recorded (Charge.created_at), of requests of a branch."""

    month = models.DateField()
    branch_id = models.IntegerField()
    payment_class = models.CharField(max_length=10)
    budget_code_id = models.IntegerField(null=True)
    count = models.PositiveIntegerField()
    total = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month"], name="rollup_charge_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.count}"


STATE_PK = 1


@receiver(pre_save, sender=LendingInstitution, dispatch_uid="reports-rollup-lender-changed")
def _lender_changed(sender, instance, raw=False, **kwargs):
    """The rollup keeps a lender's kind and whether it is abroad: when either changes, it is rebuilt
    (connected here, with the models, so that every process that can save a lender has it)."""
    if raw or instance.pk is None:
        return
    before = LendingInstitution.objects.filter(pk=instance.pk).values_list("kind", "country").first()
    if before is not None and before != (instance.kind, instance.country):
        RollupState.objects.update_or_create(pk=STATE_PK, defaults={"rebuild_needed": True})
