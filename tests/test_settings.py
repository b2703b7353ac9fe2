"""Settings read from the environment: embedded defaults for `make run`, a strict production."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'email': settings.EMAIL_BACKEND, 'lang': settings.LANGUAGE_CODE, 'tz': settings.TIME_ZONE, "
    "'conn_max_age': settings.DATABASES['default']['CONN_MAX_AGE'], 'debug': settings.DEBUG}))"
)
CLEAN = {
    k: v
    for k, v in os.environ.items()
    if k
    not in (
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "REDIS_URL",
        "EMAIL_URL",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_SETTINGS_MODULE",
    )
}
# Random-looking and 56 characters: what production accepts (tests/test_secret_key.py covers the refusals).
SECRET = "k7Vq2nXw9LpR4sTz8mYb3cHd6fJg1aKe5uNo0iWy-QrP_xZtU2vB8nM4"


def probe(module, **env):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**CLEAN, "DJANGO_SETTINGS_MODULE": module, **env},
    )
    return result


def test_local_defaults_need_no_other_service():
    result = probe("config.settings.local")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["eager"] is True
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"
    assert (values["lang"], values["tz"]) == ("ja", "Asia/Tokyo")
    assert values["debug"] is True


def test_a_broker_url_turns_eager_mode_off_and_database_url_selects_postgresql():
    result = probe(
        "config.settings.local",
        CELERY_BROKER_URL="redis://127.0.0.1:6390/0",
        DATABASE_URL="postgres://ill:ill@127.0.0.1:5433/ill",
    )
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["eager"] is False
    assert values["broker"] == "redis://127.0.0.1:6390/0"
    assert values["engine"] == "django.db.backends.postgresql"


def test_production_refuses_to_start_without_a_real_secret_key():
    result = probe("config.settings.production", DJANGO_ALLOWED_HOSTS="ill.example.ac.jp")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    result = probe(
        "config.settings.production",
        DJANGO_SECRET_KEY="insecure-dev-only-key-change-me",
        DJANGO_ALLOWED_HOSTS="ill.example.ac.jp",
    )
    assert result.returncode != 0


def test_production_refuses_to_start_without_allowed_hosts():
    result = probe("config.settings.production", DJANGO_SECRET_KEY=SECRET)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_keeps_database_connections_open():
    result = probe(
        "config.settings.production",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="ill.example.ac.jp",
        DATABASE_URL="postgres://ill:ill@127.0.0.1:5433/ill",
        EMAIL_URL="smtp://mail.example.ac.jp:587/?tls=True",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["conn_max_age"] == 60
    assert values["debug"] is False


def test_no_page_loads_anything_from_the_internet():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg.com", "googleapis", "bootstrapcdn"):
            assert cdn not in text, f"{template} links to {cdn}"
