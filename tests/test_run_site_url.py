"""`make run PORT=8101` (issue 13): the printed login and every e-mail link point to the served
port, not to :8000 — the Makefile passes SITE_URL=http://$(HOST):$(PORT) to the demo loader and
the server unless SITE_URL is set (environment, command line or .env)."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from ill.services import submit_request
from notifications.models import OutboxMessage
from tests.ill.test_rules import loan

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
CLEAN = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "MAKEFLAGS", "MAKELEVEL")}


def dry_run(*args, cwd=ROOT, **env) -> dict[str, str]:
    """The commands `make run` would run (make -n), by what they run: {"load_demo": line, …}."""
    result = subprocess.run(
        ["make", "-n", "-f", str(ROOT / "Makefile"), "run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**CLEAN, **env},
    )
    assert result.returncode == 0, result.stderr
    lines = {}
    for line in result.stdout.splitlines():
        for command in ("load_demo", "runserver"):
            if f"manage.py {command}" in line:
                lines[command] = line
    assert set(lines) == {"load_demo", "runserver"}, result.stdout
    return lines


def site_url(line: str) -> str | None:
    found = re.search(r"(?:^|\s)SITE_URL=(\S+)", line)
    return shlex.split(found.group(1))[0] if found else None


def test_make_run_points_site_url_at_the_served_port():
    lines = dry_run("PORT=8101")
    assert site_url(lines["load_demo"]) == site_url(lines["runserver"]) == "http://127.0.0.1:8101"
    assert "runserver 127.0.0.1:8101" in lines["runserver"]
    assert site_url(dry_run()["load_demo"]) == "http://127.0.0.1:8000"
    # Served on every interface: the links name this machine's loopback, not 0.0.0.0.
    assert site_url(dry_run("HOST=0.0.0.0", "PORT=8102")["runserver"]) == "http://127.0.0.1:8102"


def test_a_site_url_that_is_set_wins():
    assert site_url(dry_run("PORT=8101", "SITE_URL=https://ill.example.ac.jp")["load_demo"]) == (
        "https://ill.example.ac.jp"
    )
    assert site_url(dry_run("PORT=8101", SITE_URL="https://env.example.ac.jp")["runserver"]) == (
        "https://env.example.ac.jp"
    )


def test_a_site_url_in_dotenv_is_left_to_django(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / ".env").write_text("DEBUG=1\nSITE_URL=https://dotenv.example.ac.jp\n")
    lines = dry_run("PORT=8101", cwd=tmp_path)
    assert site_url(lines["load_demo"]) is None and site_url(lines["runserver"]) is None


def test_the_settings_take_it():
    url = site_url(dry_run("PORT=8101")["runserver"])
    probe = "import django; from django.conf import settings; django.setup(); print(settings.SITE_URL)"
    env = {k: v for k, v in CLEAN.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.local", "SITE_URL": url},
    )
    assert result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8101", result.stderr


@pytest.mark.django_db
def test_the_printed_login_and_the_e_mail_links_follow_it(settings, undergraduate, django_capture_on_commit_callbacks):
    settings.SITE_URL = site_url(dry_run("PORT=8101")["load_demo"])
    out = StringIO()
    call_command("load_demo", "--no-samples", stdout=out)
    assert "Log in at http://127.0.0.1:8101/ with:" in out.getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        submit_request(patron=undergraduate, request=loan(undergraduate), actor=undergraduate.user)
    message = OutboxMessage.objects.get(recipient=undergraduate.user.email)
    assert "http://127.0.0.1:8101/" in message.body_text and ":8000" not in message.body_text
