"""The Celery application. Two workers, one per queue (CELERY_TASK_ROUTES in config/settings/base.py):
`celery -A config.celery_app worker -Q email` sends e-mail, `... worker -Q celery` runs every other
job; beat (one instance): `celery -A config.celery_app beat`."""

import os

from celery import Celery

from config.schedules import BEAT_SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ill_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = BEAT_SCHEDULE
app.autodiscover_tasks()
