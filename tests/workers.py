"""A real Celery worker process for tests (Redis broker, the test database)."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery
from django.conf import settings
from django.db import connection

from config.celery_app import app

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the test database this process is using, for the worker to use too."""
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_for_worker(broker_url: str, timeout: float = 30.0) -> None:
    probe = Celery(broker=broker_url, set_as_current=False)  # else shared tasks would bind to it
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe.control.ping(timeout=0.5):
            return
    raise RuntimeError(f"the Celery worker did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def running_worker(
    tmp_path: Path, *, concurrency: int = 2, queues: str = "celery,email", extra_env: dict | None = None
):
    """Start `celery worker` against the real broker and the test database, consuming `queues`
    (by default both: the jobs' and the e-mail queue); point this process's Celery app at the
    same broker (not eager) while it runs."""
    broker = settings.REAL_BROKER_URL
    subprocess.run([sys.executable, "-c", f"import redis; redis.Redis.from_url('{broker}').flushdb()"], check=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **(extra_env or {}),
    }
    pidfile = tmp_path / "worker.pid"
    log = open(tmp_path / "worker.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            f"--queues={queues}",
            "--loglevel=INFO",
            f"--pidfile={pidfile}",
            f"--hostname=test-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=broker)
    app._pool = None
    app.amqp._producer_pool = None
    try:
        wait_for_worker(broker)
        yield proc
    finally:
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
