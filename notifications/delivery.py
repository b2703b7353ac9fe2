"""Sending one outbox message, and finding the messages that are due again (DESIGN.md §8).

A message is claimed with a conditional UPDATE (pending → sending), so that two workers, or a retry
and the sweep, can never both send it. Nothing here queues a task: `notifications.tasks` does, so
that the tasks can call this module without an import circle.
"""

import contextlib
import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F
from django.utils import timezone

from notifications.models import OutboxMessage, new_message_id

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

# How long one attempt may take. The SMTP socket gives up after EMAIL_TIMEOUT (20 s by default)
# on any one read or write; a slow server that answers each command just in time is stopped by
# the send task's soft time limit (SoftTimeLimitExceeded in the task, the row back to pending),
# and a process stuck beyond that is killed by the hard limit. Both are the task's own
# (`tasks.send_message_task`), shorter than the jobs' global CELERY_TASK_TIME_LIMIT.
SEND_SOFT_TIME_LIMIT = 45
SEND_TIME_LIMIT = 60
# A message still "sending" this long after its claim belongs to a worker that died (SIGKILL, the
# machine lost, out of memory): a live attempt has ended by then, sent or put back to pending.
# It cannot be shorter: until the hard limit a live worker may still be in the SMTP conversation,
# and releasing its claim earlier would let the sweep send, as a second copy, a message that was
# never in trouble. The margin covers the clocks of the worker and sweep hosts (claimed_at is
# the worker's time, the sweep compares it with its own). The sweep runs every minute, so a
# message in flight when its worker died goes out again 1½ to 2½ minutes later.
STALE_CLAIM = datetime.timedelta(seconds=SEND_TIME_LIMIT + 30)


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
        headers={"Message-ID": message_id_of(message)},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        send(email)
    except Exception as exc:  # SoftTimeLimitExceeded too: the attempt is over, the row is pending again
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


def message_id_of(message: OutboxMessage) -> str:
    """The row's Message-ID; a row written before there was one gets it now, stored before the
    first attempt that uses it."""
    if not message.message_id:
        OutboxMessage.objects.filter(pk=message.pk, message_id="").update(
            message_id=new_message_id(message.idempotency_key)
        )
        message.message_id = OutboxMessage.objects.values_list("message_id", flat=True).get(pk=message.pk)
    return message.message_id


def send(email: EmailMultiAlternatives) -> None:
    """Hand the message to the mail server. Once the server has accepted it (the answer to DATA),
    an error while saying goodbye (QUIT timing out, the connection dropped) is not a failure: the
    message is on its way, and calling it failed would only send it twice."""
    connection = get_connection(fail_silently=False)
    connection.open()
    try:
        connection.send_messages([email])
    except Exception:
        with contextlib.suppress(Exception):
            connection.close()
        raise
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - see above
        log.warning("the mail server accepted the message; closing the connection failed", exc_info=True)


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
