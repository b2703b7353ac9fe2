"""Celery entry points for ISO 18626: send one outgoing message, sweep the outbox. Thin: call one function.

The retry policy lives in `iso18626.transport` (a failed attempt sets `next_attempt_at`; the beat
sweep, every minute, queues what is due), so a broker outage or a worker restart loses nothing: the
rows stay queued in the database.
"""

import logging

from celery import shared_task

from iso18626 import transport

log = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def deliver_task(message_id: int):
    return transport.deliver(message_id)


@shared_task(ignore_result=True)
def sweep_task():
    return transport.sweep()


def enqueue(message_id: int) -> bool:
    """Hand one message to a worker (eager under `make run`); False when the broker is down (the
    sweep sends it later)."""
    try:
        deliver_task.delay(message_id)
    except Exception:  # broker down: the row stays queued and the sweep sends it later
        log.warning("could not queue ISO 18626 message %s; the sweep will send it", message_id, exc_info=True)
        return False
    return True
