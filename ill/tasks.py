"""Celery entry points for requests: the daily jobs of Celery beat. Thin: call one function."""

from celery import shared_task

from ill import maintenance, reminders


@shared_task(ignore_result=True)
def close_no_longer_needed_task():
    return maintenance.close_no_longer_needed()


@shared_task(ignore_result=True)
def due_soon_task():
    return reminders.send_due_soon()


@shared_task(ignore_result=True)
def overdue_task():
    return reminders.send_overdue()


@shared_task(ignore_result=True)
def not_collected_task():
    return reminders.send_not_collected()


@shared_task(ignore_result=True)
def staff_digest_task():
    return reminders.send_staff_digest()
