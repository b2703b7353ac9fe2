"""Celery entry points for e-mail. Thin: take an id, call one function, own the retry policy.

Every task here runs on the `email` queue (`CELERY_TASK_ROUTES`) with its own worker, so nothing
else the workers do can delay a patron's e-mail. Within that queue a message someone is waiting
for (arrived, ordered, …) is queued with priority 0 and what a periodic job sends in bulk
(reminders, digests, alerts, the sweep's re-sends) with priority 9: the Redis transport takes the
lower number first, so an arrival notice overtakes a morning's reminders.
"""

import logging

from celery import shared_task

from notifications import delivery

log = logging.getLogger(__name__)

URGENT = 0
BULK = 9


@shared_task(
    bind=True,
    max_retries=delivery.MAX_ATTEMPTS,
    acks_late=True,
    ignore_result=True,
    # One attempt is bounded (delivery.STALE_CLAIM is derived from these): the jobs' global
    # limit would keep a stuck attempt, and so the claim of a dead one, for minutes.
    soft_time_limit=delivery.SEND_SOFT_TIME_LIMIT,
    time_limit=delivery.SEND_TIME_LIMIT,
)
def send_message_task(self, message_id: int):
    try:
        delivery.deliver(message_id)
    except delivery.DeliveryFailed as exc:
        if self.request.is_eager:
            return  # no broker to retry through: the row stays pending for the sweep
        attempts = delivery.attempts_of(message_id)
        if attempts < delivery.MAX_ATTEMPTS:
            raise self.retry(exc=exc, countdown=delivery.backoff(attempts).total_seconds()) from exc


def enqueue(message_id: int, *, bulk: bool = False) -> bool:
    """Hand one message to a worker; False when the broker is down (the sweep sends it later)."""
    try:
        send_message_task.apply_async((message_id,), priority=BULK if bulk else URGENT)
    except Exception:  # broker down: the row stays pending and the sweep sends it later
        log.warning("could not queue message %s; the sweep will send it", message_id, exc_info=True)
        return False
    return True


def sweep(now=None) -> int:
    """Queue again what is due and was not sent (at most `delivery.sweep_batch()` rows, oldest
    first; the next sweep a minute later takes the rest). Returns how many were queued."""
    due = delivery.due_messages(now)
    for message_id in due:
        enqueue(message_id, bulk=True)
    return len(due)


@shared_task(ignore_result=True)
def sweep_outbox_task():
    return sweep()
