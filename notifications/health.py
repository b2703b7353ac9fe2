"""Health of the moving parts that deliver the outbox: database, broker, workers, and the outbox itself.

The Celery app is the current one (`config.celery_app` sets it up at start), so this module needs no
import from `config`, which sits above every app.

`/health/` is polled by load balancers: it costs one index-backed query on the outbox (which also
proves the database answers) and one Redis `PING` on a connection kept open in the process (one
client and pool per process and broker URL, not a new connection per call)."""

import threading

import redis
from celery import current_app as app
from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from notifications.models import OutboxMessage

_clients: dict = {}
_clients_lock = threading.Lock()


def redis_client(url: str, timeout: float) -> redis.Redis:
    """The process's Redis client for `url`: created once, its pool reused by every call (and by
    every thread of a gthread worker; redis-py starts a new pool by itself after a fork)."""
    client = _clients.get(url)
    if client is None:
        with _clients_lock:
            client = _clients.get(url)
            if client is None:
                client = redis.Redis.from_url(
                    url, socket_connect_timeout=timeout, socket_timeout=timeout, max_connections=4
                )
                _clients[url] = client
    return client


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
    url = app.conf.broker_url
    try:
        if url.startswith(("redis://", "rediss://")):
            redis_client(url, timeout).ping()
        else:  # another transport: a connection from Celery's own pool
            with app.connection_or_acquire() as conn:
                conn.ensure_connection(max_retries=1, timeout=timeout)
        return {"ok": True, "url": url.split("@")[-1]}
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
    """Waiting and failed messages in one query on the (status, next_attempt_at) index."""
    S = OutboxMessage.Status
    waiting = Q(status__in=[S.PENDING, S.SENDING])
    try:
        counts = OutboxMessage.objects.filter(status__in=[S.PENDING, S.SENDING, S.FAILED]).aggregate(
            oldest=Min("created_at", filter=waiting),
            pending=Count("pk", filter=waiting),
            failed=Count("pk", filter=Q(status=S.FAILED)),
        )
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:200]}
    oldest = counts["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0
    # Messages older than a quarter of an hour and still not sent mean nothing is sending them.
    return {
        "ok": age < 900 and counts["failed"] == 0,
        "pending": counts["pending"],
        "oldest_pending_seconds": int(age),
        "failed": counts["failed"],
    }


def report(*, check_workers: bool = True) -> dict:
    box = outbox()
    # The outbox query answered: the database is up, no `SELECT 1` needed as well.
    parts = {"database": database() if "error" in box else {"ok": True}, "broker": broker(), "outbox": box}
    if check_workers:
        parts["workers"] = workers()
    parts["ok"] = all(part["ok"] for part in parts.values() if isinstance(part, dict))
    parts["time"] = timezone.now().isoformat()
    parts["eager"] = bool(settings.CELERY_TASK_ALWAYS_EAGER)
    return parts
