"""Celery entry points for requests: the daily jobs of Celery beat. Thin: call one function.

Each job runs a batch at a time (at most JOB_BATCH_SIZE requests, `ill.reminders`); when a batch
says where the next one starts, the task queues itself again with that cursor and the same day,
so a large day is many short tasks on the default queue instead of one long one.
"""

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from ill import holdings, maintenance, reminders, retention


def _day(today: str | None) -> datetime.date:
    return datetime.date.fromisoformat(today) if today else timezone.localdate()


def _run(task, batch_job, today: str | None, after: list | None):
    day = _day(today)
    batch = batch_job(day, after=after)
    if batch.after is not None:
        task.delay(today=day.isoformat(), after=batch.after)
    return batch.done or batch.sent


@shared_task(ignore_result=True)
def close_no_longer_needed_task(today: str | None = None, after: list | None = None):
    return _run(close_no_longer_needed_task, maintenance.close_no_longer_needed_batch, today, after)


@shared_task(ignore_result=True)
def due_soon_task(today: str | None = None, after: list | None = None):
    return _run(due_soon_task, reminders.due_soon_batch, today, after)


@shared_task(ignore_result=True)
def overdue_task(today: str | None = None, after: list | None = None):
    return _run(overdue_task, reminders.overdue_batch, today, after)


@shared_task(ignore_result=True)
def not_collected_task(today: str | None = None, after: list | None = None):
    return _run(not_collected_task, reminders.not_collected_batch, today, after)


@shared_task(ignore_result=True)
def staff_digest_task():
    return reminders.send_staff_digest()


# Retention (ill.retention): nightly, each in batches like the jobs above.
@shared_task(ignore_result=True)
def anonymise_closed_requests_task(today: str | None = None, after: list | None = None):
    return _run(anonymise_closed_requests_task, retention.anonymise_closed_requests_batch, today, after)


@shared_task(ignore_result=True)
def clear_sessions_task(today: str | None = None, after: list | None = None):
    return _run(clear_sessions_task, retention.clear_sessions_batch, today, after)


@shared_task(ignore_result=True)
def clear_login_logs_task(today: str | None = None, after: list | None = None):
    return _run(clear_login_logs_task, retention.clear_login_logs_batch, today, after)


@shared_task(ignore_result=True)
def clear_email_bodies_task(today: str | None = None, after: list | None = None):
    return _run(clear_email_bodies_task, retention.clear_email_bodies_batch, today, after)


@shared_task(
    ignore_result=True,
    soft_time_limit=settings.HOLDINGS_IMPORT_TIME_LIMIT,
    time_limit=settings.HOLDINGS_IMPORT_TIME_LIMIT + 60,
)
def import_holdings_task(job_id: int):
    """The admin's holdings import (ill.holdings.run_job): its own time limit, longer than the jobs'."""
    holdings.run_job(job_id)
