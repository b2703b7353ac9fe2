"""Sending one outbox message, and finding the messages that are due again (DESIGN.md §8).

A message is claimed with a conditional UPDATE (pending → sending), so that two workers, or a retry
and the sweep, can never both send it. Nothing here queues a task: `notifications.tasks` does, so
that the tasks can call this module without an import circle.
"""

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.utils import timezone

from notifications.models import OutboxMessage

MAX_ATTEMPTS = 8
# A claimed message still "sending" after this long belongs to a worker that died: the task time
# limit (CELERY_TASK_TIME_LIMIT, 2 minutes) ends any live attempt long before.
STALE_CLAIM = datetime.timedelta(minutes=10)


def sweep_batch() -> int:
    """At most this many messages per sweep (JOB_BATCH_SIZE); the next sweep takes the rest."""
    return settings.JOB_BATCH_SIZE


def backoff(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 … minutes between attempts, at most an hour."""
    return datetime.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


class DeliveryFailed(Exception):
    """Sending failed and will be retried."""


def deliver(message_id: int) -> bool:
    """Send one message if nobody else is sending or has sent it. Returns True when sent now."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": f"<{message.idempotency_key.replace(':', '.')}.{message.pk}@ill-desk>"},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send(fail_silently=False)
    except Exception as exc:
        final = message.attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.SENDING).update(
            status=OutboxMessage.Status.FAILED if final else OutboxMessage.Status.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=timezone.now() + backoff(message.attempts),
        )
        raise DeliveryFailed(str(exc)) from exc
    OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.SENDING).update(
        status=OutboxMessage.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def attempts_of(message_id: int) -> int:
    return OutboxMessage.objects.filter(pk=message_id).values_list("attempts", flat=True).first() or 1


def due_messages(now: datetime.datetime | None = None) -> list[int]:
    """What should be sent again now: rows whose task was lost (broker down, worker killed) and rows
    whose worker died while sending (released back to pending first)."""
    now = now or timezone.now()
    OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=OutboxMessage.Status.PENDING
    )
    return list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: sweep_batch()]
    )
