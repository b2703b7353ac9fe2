"""Health of the moving parts that deliver the outbox: database, broker, workers, and the outbox itself.

The Celery app is the current one (`config.celery_app` sets it up at start), so this module needs no
import from `config`, which sits above every app."""

from celery import current_app as app
from django.conf import settings
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from notifications.models import OutboxMessage


def database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"ok": False, "error": str(exc)[:200]}


def broker(timeout: float = 2.0) -> dict:
    if app.conf.task_always_eager:
        return {"ok": True, "eager": True}
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return {"ok": True, "url": app.conf.broker_url.split("@")[-1]}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:200]}


def workers(timeout: float = 1.5) -> dict:
    if app.conf.task_always_eager:
        return {"ok": True, "eager": True, "names": []}
    try:
        replies = app.control.ping(timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:200], "names": []}
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "names": names}


def outbox() -> dict:
    pending = OutboxMessage.objects.filter(status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING])
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).count()
    # Messages older than a quarter of an hour and still not sent mean nothing is sending them.
    return {
        "ok": age < 900 and failed == 0,
        "pending": pending.count(),
        "oldest_pending_seconds": int(age),
        "failed": failed,
    }


def report(*, check_workers: bool = True) -> dict:
    parts = {"database": database(), "broker": broker(), "outbox": outbox()}
    if check_workers:
        parts["workers"] = workers()
    parts["ok"] = all(part["ok"] for part in parts.values() if isinstance(part, dict))
    parts["time"] = timezone.now().isoformat()
    parts["eager"] = bool(settings.CELERY_TASK_ALWAYS_EAGER)
    return parts
