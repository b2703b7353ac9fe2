"""The outbox: one row per e-mail, written in the same transaction as the change that causes it.

A Celery task queued on commit sends it; a periodic sweep re-queues rows left pending, and the
unique idempotency key plus a conditional status update keep any message from going out twice
while the workers live. A worker killed between the SMTP server's "250 OK" and its own update
to "sent" leaves the row "sending"; the sweep sends it again later (at least once, not exactly
once), with the Message-ID stored on the row, so that the repeat is the same message to the
recipient's mail client.
"""

import ipaddress
import re
import secrets
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FALLBACK_DOMAIN = "ill-desk.invalid"
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9_-]+")


def _domain(host: str) -> str:
    """`host` as the right-hand side of a Message-ID (an ASCII domain name), or "" when it is
    an IP address, a single label such as localhost, or not a name at all."""
    host = (host or "").strip().strip(".").lower()
    try:
        ipaddress.ip_address(host.strip("[]"))
        return ""
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    labels = host.split(".")
    if len(labels) < 2 or not all(re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", label) for label in labels):
        return ""
    return host


def message_id_domain() -> str:
    """The site's domain (SITE_URL), else the sender's (DEFAULT_FROM_EMAIL)."""
    site = _domain(urlsplit(settings.SITE_URL or "").hostname or "")
    sender = _domain(parseaddr(settings.DEFAULT_FROM_EMAIL or "")[1].rpartition("@")[2])
    return site or sender or FALLBACK_DOMAIN


def new_message_id(key: str = "") -> str:
    """An RFC 5322 msg-id, `<arrived.event.42.9f3c1a2b7d4e6f80@ill.library.example.ac.jp>`: the
    idempotency key (readable in a mail client's headers), a random part (unique across
    installations that count the same keys) and the site's domain."""
    left = ".".join(part for part in _NOT_ATEXT.split(key) if part)[:150]
    token = secrets.token_hex(8)
    return f"<{left}.{token}@{message_id_domain()}>" if left else f"<{token}@{message_id_domain()}>"


class OutboxMessage(models.Model):
    class Kind(models.TextChoices):
        RECEIVED = "received", _("Request received")
        REJECTED = "rejected", _("Request rejected")
        CANCELLED = "cancelled", _("Request cancelled")
        ORDERED = "ordered", _("Request ordered")
        UNFILLED = "unfilled", _("Request unfilled")
        ARRIVED = "arrived", _("Item arrived")
        CHARGE_ACCEPTANCE = "charge_acceptance", _("Charge above your maximum")
        DUE_SOON = "due_soon", _("Due soon")
        OVERDUE = "overdue", _("Overdue")
        NOT_COLLECTED = "not_collected", _("Not collected")
        EXTENSION_GRANTED = "extension_granted", _("Extension granted")
        EXTENSION_REFUSED = "extension_refused", _("Extension refused")
        RECALLED = "recalled", _("Recalled by the lender")
        STAFF_DIGEST = "staff_digest", _("New requests digest")
        BUDGET_ALERT = "budget_alert", _("Budget alert")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    request = models.ForeignKey(
        "ill.Request",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("request"),
    )
    recipient = models.EmailField(_("recipient"))
    # Chosen once, when the message is written: every attempt, and a re-send after a worker died
    # in the middle of one, carries the same id, so the recipient's mail client can fold a repeat.
    message_id = models.CharField(_("Message-ID"), max_length=255, default=new_message_id, editable=False)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient's account"),
    )
    language = models.CharField(_("language"), max_length=5, default="ja")
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail message")
        verbose_name_plural = _("e-mail messages")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False), name="outbox_sent_has_time"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["kind", "id"], name="outbox_kind"),  # the admin's list of one kind, newest first
        ]

    def __str__(self):
        return f"{self.kind} → {self.recipient} ({self.status})"
