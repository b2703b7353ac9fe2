"""Celery entry points for e-mail. Thin: take an id, call one function, own the retry policy."""

import logging

from celery import shared_task

from notifications import delivery

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=delivery.MAX_ATTEMPTS, acks_late=True, ignore_result=True)
def send_message_task(self, message_id: int):
    try:
        delivery.deliver(message_id)
    except delivery.DeliveryFailed as exc:
        if self.request.is_eager:
            return  # no broker to retry through: the row stays pending for the sweep
        attempts = delivery.attempts_of(message_id)
        if attempts < delivery.MAX_ATTEMPTS:
            raise self.retry(exc=exc, countdown=delivery.backoff(attempts).total_seconds()) from exc


def enqueue(message_id: int) -> bool:
    """Hand one message to a worker; False when the broker is down (the sweep sends it later)."""
    try:
        send_message_task.delay(message_id)
    except Exception:  # broker down: the row stays pending and the sweep sends it later
        log.warning("could not queue message %s; the sweep will send it", message_id, exc_info=True)
        return False
    return True


def sweep(now=None) -> int:
    """Queue again what is due and was not sent. Returns how many were queued."""
    due = delivery.due_messages(now)
    for message_id in due:
        enqueue(message_id)
    return len(due)


@shared_task(ignore_result=True)
def sweep_outbox_task():
    return sweep()
