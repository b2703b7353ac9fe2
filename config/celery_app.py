"""The Celery application. Workers: `celery -A config.celery_app worker`; beat: `... beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ill_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
