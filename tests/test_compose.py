"""The production stack fails fast instead of losing mail, and migrates once per start, not per web
process (issue 12, finding 7): docker-compose.yml and config/settings/production.py."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import need

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
PROBE = "import django; from django.conf import settings; django.setup(); print(settings.EMAIL_BACKEND)"
SECRET = "k7Vq2nXw9LpR4sTz8mYb3cHd6fJg1aKe5uNo0iWy-QrP_xZtU2vB8nM4"  # random-looking, 56 characters


def production(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "ALLOW_CONSOLE_EMAIL", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_ALLOWED_HOSTS": "ill.example.ac.jp",
            **env,
        },
    )


@pytest.mark.parametrize("url", ["consolemail://", "memorymail://", "dummymail://"])
def test_production_refuses_an_email_backend_that_delivers_nothing(url):
    result = production(EMAIL_URL=url)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "EMAIL_URL" in result.stderr


def test_production_without_email_url_refuses_to_start():
    result = production()  # base.py's default is the console
    assert result.returncode != 0 and "EMAIL_URL" in result.stderr


def test_production_accepts_smtp_and_a_staging_box_may_opt_out():
    result = production(EMAIL_URL="smtp://ill:pw@mail.example.ac.jp:587/?tls=True")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("smtp.EmailBackend")
    result = production(EMAIL_URL="consolemail://", ALLOW_CONSOLE_EMAIL="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("console.EmailBackend")


def _services():
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]


def test_compose_migrates_once_in_a_one_shot_service_before_the_rest():
    services = _services()
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"  # a one-shot: exits, is not restarted
    for name in ("web", "email-worker", "worker", "beat"):
        command = services[name]["command"]
        assert "migrate" not in " ".join(command), name
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert "migrate" not in services["migrate"]["depends_on"]


def test_compose_requires_a_real_email_url():
    text = COMPOSE.read_text(encoding="utf-8")
    assert "consolemail" not in text
    assert "EMAIL_URL: ${EMAIL_URL:?" in text


def _compose(tmp_path, **env):
    """`docker-compose config -q` on a copy, in a folder with no .env, with only this environment."""
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    clean = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL",) and not k.startswith("DJANGO_")}
    return subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**clean, **env},
    )


def test_docker_compose_refuses_to_start_without_email_url(tmp_path):
    need(shutil.which("docker-compose") is not None, "docker-compose")
    result = _compose(tmp_path)
    assert result.returncode != 0
    assert "EMAIL_URL" in result.stderr
    result = _compose(tmp_path, EMAIL_URL="smtp://ill:pw@mail.example.ac.jp:587")
    assert result.returncode == 0, result.stderr


def test_every_setting_of_env_example_reaches_the_containers():
    """Compose passes only what its `environment:` lists (the image has no .env): a setting documented
    in .env.example but not listed there is silently ignored in production (TRUSTED_PROXY_COUNT was)."""
    app = yaml.safe_load(COMPOSE.read_text())["x-app"]["environment"]
    documented = {
        line.split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert documented - set(app) == {"POSTGRES_PASSWORD"}  # the database service's own


def test_the_web_port_is_published_on_loopback_for_the_tls_proxy():
    """Reached directly, gunicorn would take any X-Forwarded-For a client sends as the proxy's."""
    web = yaml.safe_load(COMPOSE.read_text())["services"]["web"]
    assert web["ports"] == ["127.0.0.1:8000:8000"]
    assert (
        yaml.safe_load(COMPOSE.read_text())["x-app"]["environment"]["TRUSTED_PROXY_COUNT"]
        == "${TRUSTED_PROXY_COUNT:-1}"
    )
