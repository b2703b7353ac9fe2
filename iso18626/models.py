"""ISO 18626 peers (the other installations we exchange messages with) and every message in and out.

A `Peer` is a partner library (`ill.LendingInstitution`, whose ISIL is its agency id) that speaks ISO
18626 at `endpoint_url`, with the secret both sides sign their POSTs with. Our own ISIL is the setting
`ISO18626_OUR_ISIL`.

A `Message` is one message as it went over the wire: outgoing ones wait in the outbox (state queued)
until the peer confirms them; incoming ones are kept with the confirmation we answered, so that the same
message received twice gets the same answer and changes nothing (`dedupe_key`).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ill.models import LendingInstitution


class Peer(models.Model):
    library = models.OneToOneField(
        LendingInstitution, on_delete=models.PROTECT, related_name="iso18626_peer", verbose_name=_("library")
    )
    endpoint_url = models.URLField(
        _("endpoint URL"),
        max_length=300,
        help_text=_("Where we POST our messages, e.g. https://ill.example.ac.jp/iso18626/"),
        validators=[URLValidator(schemes=["http", "https"])],
    )
    shared_secret = models.CharField(
        _("shared secret"),
        max_length=200,
        help_text=_("Agreed with the other library; both sides sign their messages with it (HMAC-SHA256)."),
    )
    accept_unsigned = models.BooleanField(
        _("accept unsigned messages"),
        default=False,
        help_text=_(
            "Only for systems that cannot sign (ReShare, most commercial systems): anyone who knows "
            "this library's ISIL can then send messages in its name."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("ISO 18626 peer")
        verbose_name_plural = _("ISO 18626 peers")

    def __str__(self):
        return f"{self.library} ({self.isil})"

    def clean(self):
        if self.library_id and not self.library.isil:
            raise ValidationError({"library": _("Give this library its ISIL first: it is its ISO 18626 agency id.")})

    @property
    def isil(self) -> str:
        return self.library.isil

    @staticmethod
    def our_isil() -> str:
        return settings.ISO18626_OUR_ISIL


class Message(models.Model):
    class Direction(models.TextChoices):
        OUT = "out", _("Sent by us")
        IN = "in", _("Received")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")  # out: waiting to be sent (again)
        SENT = "sent", _("Sent")  # out: the peer confirmed it OK
        FAILED = "failed", _("Failed")  # out: gave up after ISO18626_MAX_ATTEMPTS
        REJECTED = "rejected", _("Rejected")  # out: the peer answered ERROR; in: we answered ERROR
        RECEIVED = "received", _("Received")  # in: stored, not yet handled (only inside the transaction)
        PROCESSED = "processed", _("Processed")  # in: handled, answered OK

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="messages", verbose_name=_("peer"))
    message_type = models.CharField(_("message type"), max_length=40)
    code = models.CharField(
        _("action / status"), max_length=40, blank=True, help_text=_("The action, status or reason it carries.")
    )
    requesting_agency_request_id = models.CharField(_("requesting agency's request id"), max_length=100, blank=True)
    supplying_agency_request_id = models.CharField(_("supplying agency's request id"), max_length=100, blank=True)
    timestamp = models.DateTimeField(_("message timestamp"))
    body = models.TextField(_("body"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    confirmation = models.TextField(_("confirmation"), blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    dedupe_key = models.CharField(_("de-duplication key"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    done_at = models.DateTimeField(_("sent / processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("ISO 18626 message")
        verbose_name_plural = _("ISO 18626 messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "dedupe_key"], condition=~Q(dedupe_key=""), name="iso18626_message_dedupe"
            ),
        ]
        indexes = [
            # The outbox sweep reads only what is waiting.
            models.Index(fields=["next_attempt_at"], condition=Q(state="queued"), name="iso18626_outbox_due"),
            models.Index(fields=["peer", "requesting_agency_request_id"], name="iso18626_message_request"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.message_type} {self.code} {self.requesting_agency_request_id}"
