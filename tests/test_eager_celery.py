"""With no broker configured (`make run`'s embedded defaults: SQLite, Celery tasks run eagerly)
nothing warns about a broker: Celery takes a producer from the broker's pool even for an eager
task, and kombu logged "No hostname was supplied. Reverting to default 'localhost'" for the
host-less "memory://" URL on the first task of every process (the first `manage.py load_demo`
printed it)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNSET = ("CELERY_BROKER_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE")

SNIPPET = """
import django
django.setup()
from config.celery_app import app

@app.task(name="tests.eager_probe")
def probe(x):
    return x * 2

print("eager", app.conf.task_always_eager)
print("result", probe.apply_async((21,), priority=0).get())
print("result", probe.delay(2).get())
"""


@pytest.mark.parametrize("settings_module", ["config.settings.local", "config.settings.test"])
def test_an_eager_task_builds_no_warning_about_a_broker(tmp_path, settings_module):
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", SNIPPET], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["eager True", "result 42", "result 4"], result.stdout
    assert "No hostname was supplied" not in result.stderr, result.stderr
    assert "kombu" not in result.stderr, result.stderr
