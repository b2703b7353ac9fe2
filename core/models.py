"""Abstract models shared by the apps (core owns no table)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """What every file import run by a worker keeps (the holdings: ill.HoldingsImport; the
    registrar's patrons: patrons.PatronImport): the uploaded file, which waits here for a worker in
    another container and is emptied when the job ends; its progress (lines read of the estimated
    total) and the heartbeat by which a job whose worker died is recognised; the problems (all
    counted, the first kept with their line) and the outcome. Each import adds its own state and
    step choices, counters and who started it."""

    file_name = models.CharField(_("file"), max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    data = models.BinaryField(editable=False, default=bytes)
    lines_total = models.PositiveIntegerField(_("lines (estimated)"), default=0)
    lines_read = models.PositiveIntegerField(_("lines read"), default=0)
    error_count = models.PositiveIntegerField(_("problems"), default=0)
    errors = models.JSONField(_("first problems"), default=list, blank=True)  # [[line, message], …]
    message = models.TextField(_("outcome"), blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.get_state_display()})"
