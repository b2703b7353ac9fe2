"""Celery entry points for requests."""

from celery import shared_task

from ill import maintenance


@shared_task(ignore_result=True)
def cancel_no_longer_needed_task():
    return maintenance.cancel_no_longer_needed()
