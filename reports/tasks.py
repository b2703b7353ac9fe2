"""Celery entry points for the reports: keep the monthly rollup up to date (config.schedules)."""

from celery import shared_task

from reports import rollup


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1700)
def refresh_rollup_task():
    """Every 5 minutes: recompute the months the requests changed since the last refresh (everything
    after a lender's kind or country changed). Another refresher holding the lock: nothing to do.
    Its own time limit: a full rebuild at 1,000,000 requests takes longer than the default 120 s."""
    return rollup.refresh(wait=False)["months"]
