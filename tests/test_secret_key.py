"""Production refuses a secret key that is short, a placeholder, too uniform or published as an
example (issue 12, finding 2): the settings are imported in a fresh process with only the given
environment, as the web and worker processes import them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'
# The environment of the shell running the tests must not leak into the probed settings.
DROPPED = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "EMAIL_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE")
CLEAN = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith(("DJANGO_", "ALLOW_"))}
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_ALLOWED_HOSTS": "ill.library.example.ac.jp",
    "EMAIL_URL": "smtp://ill:password@mail.library.example.ac.jp:587/?tls=True",
    "DATABASE_URL": "postgres://ill:password@db.library.example.ac.jp:5432/ill",
}


def import_production(secret_key: str | None, code: str = "import config.settings.production"):
    env = {**CLEAN, **PRODUCTION}
    if secret_key is not None:
        env["DJANGO_SECRET_KEY"] = secret_key
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)


def env_example_key() -> str:
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("DJANGO_SECRET_KEY="):
            return line.partition("=")[2].strip()
    raise AssertionError(".env.example has no DJANGO_SECRET_KEY line")


def test_a_random_key_of_50_characters_is_accepted():
    result = import_production(secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "key, reason",
    [
        (None, "is not set"),
        ("", "is not set"),
        (secrets.token_urlsafe(40)[:49], "has 49 characters"),
        # What .env.example said until now: 64 characters, accepted by the old check (40+).
        ("change-me-to-50-random-characters-python-c-secrets-token-urlsafe", "is a placeholder"),
        ("insecure-" + secrets.token_urlsafe(50), "is a placeholder"),
        ("django-insecure-" + secrets.token_urlsafe(50), "is a placeholder"),
        ("Change-Me-" + secrets.token_urlsafe(50), "is a placeholder"),
        ("abcd" * 20, "has fewer than 5 different characters"),
    ],
    ids=["unset", "empty", "49-characters", "old-env-example", "insecure", "django-insecure", "change-me", "uniform"],
)
def test_a_weak_key_is_refused_with_how_to_make_one(key, reason):
    result = import_production(key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"DJANGO_SECRET_KEY {reason}" in result.stderr
    assert GENERATE in result.stderr
    if key:
        assert key not in result.stderr  # the refused key is not written to the log


def test_the_key_in_env_example_is_refused():
    key = env_example_key()
    assert len(key) >= 50  # long enough that only the example check stops it
    result = import_production(key)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr and GENERATE in result.stderr


def test_any_key_written_in_env_example_is_refused_even_one_not_listed_in_the_code(tmp_path):
    """An office that edits .env.example (say, to show another example) cannot run that one either."""
    published = secrets.token_urlsafe(50)
    (tmp_path / ".env.example").write_text(f"# e.g.\n# DJANGO_SECRET_KEY={published}\n", encoding="utf-8")
    code = (
        "import sys, pathlib, config.settings.production as p; "
        f"p.BASE_DIR = pathlib.Path({str(tmp_path)!r}); "
        f"print(repr(p.weak_secret_key_reason({published!r})), repr(p.weak_secret_key_reason('x' + {published!r})))"
    )
    result = import_production(secrets.token_urlsafe(50), code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["'is", "a", "published", "example", "value'", "''"]


def test_django_deploy_check_agrees_with_every_key_production_accepts():
    """Production's own rule is at least as strict as Django's security.W009."""
    code = (
        "import django; django.setup(); from django.core.checks.security.base import check_secret_key; "
        "print([w.id for w in check_secret_key(None)])"
    )
    result = import_production(secrets.token_urlsafe(50), code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
