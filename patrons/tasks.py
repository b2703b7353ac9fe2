from celery import shared_task
from django.conf import settings

from patrons import registrar


@shared_task(
    ignore_result=True,
    soft_time_limit=settings.PATRON_IMPORT_TIME_LIMIT,
    time_limit=settings.PATRON_IMPORT_TIME_LIMIT + 60,
)
def import_patrons_task(job_id: int):
    """The admin's registrar import (patrons.registrar.run_job): its preview, or its apply once
    confirmed; its own time limit, longer than the periodic jobs'."""
    registrar.run_job(job_id)
