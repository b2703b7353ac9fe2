"""Celery entry points for money: the budget monitors, after a change and by beat.

A change that moves money on budget codes calls `monitor_after_commit` with the codes it touched;
however many times one transaction calls it, one task is queued when it commits, for exactly those
codes, read in one query. Beat's run (every 15 minutes) goes through every code of the year
`JOB_BATCH_SIZE` at a time, each batch its own short task, so that a limit changed in the admin is
caught too. Both run on the default queue, never on the e-mail workers' queue.
"""

import logging
from collections.abc import Iterable

from celery import shared_task
from django.db import transaction

from fees import alerts

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def monitor_budgets_task(after: int = 0):
    """Beat: the support budget, then the codes after id `after`; queues the next batch itself."""
    support = alerts.check_support_budget() if not after else None
    codes, next_after = alerts.check_budget_code_batch(after=after)
    if next_after is not None:
        monitor_budgets_task.delay(after=next_after)
    return {"support": support, "codes": codes, "next": next_after}


@shared_task(ignore_result=True)
def monitor_budget_codes_task(code_ids: list[int], support: bool = False):
    """After a change: only the codes it touched (and the support budget when it used it)."""
    return {
        "support": alerts.check_support_budget() if support else None,
        "codes": alerts.check_budget_codes(code_ids) if code_ids else [],
    }


class _Touched:
    """What one transaction touched; called once, on commit, to queue the monitor for it."""

    def __init__(self):
        self.code_ids: set[int] = set()
        self.support = False

    def __call__(self):
        try:
            monitor_budget_codes_task.delay(sorted(self.code_ids), support=self.support)
        except Exception:  # the broker is down: beat runs the monitor again soon
            log.warning("could not queue the budget monitor", exc_info=True)


def monitor_after_commit(code_ids: Iterable[int | None] = (), *, support: bool = False, using=None) -> None:
    """Monitor these budget codes (and the support budget) once the current transaction commits:
    one task per transaction, whatever the number of calls."""
    code_ids = {pk for pk in code_ids if pk is not None}
    if not code_ids and not support:
        return
    connection = transaction.get_connection(using)
    touched = None
    if connection.in_atomic_block:  # an earlier call in this transaction: add to it
        touched = next((entry[1] for entry in connection.run_on_commit if isinstance(entry[1], _Touched)), None)
    if touched is not None:
        touched.code_ids |= code_ids
        touched.support |= support
        return
    touched = _Touched()
    touched.code_ids |= code_ids
    touched.support = support
    transaction.on_commit(touched, using=using)
