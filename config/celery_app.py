"""The Celery application. Workers: `celery -A config.celery_app worker`; beat: `... beat`."""

import os

from celery import Celery

from config.schedules import BEAT_SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ill_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = BEAT_SCHEDULE
app.autodiscover_tasks()
