"""Security headers (issue 12, finding 7, headers part): a Content-Security-Policy that needs no
'unsafe-inline', a Permissions-Policy, HSTS on by default in production (with a staging value),
and `manage.py check --deploy` clean with the documented production settings."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DROPPED = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "EMAIL_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE")
CLEAN = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith(("DJANGO_", "ALLOW_"))}
HOST = "ill.library.example.ac.jp"
# The production environment the README documents (.env.example with a generated key).
DOCUMENTED = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_ALLOWED_HOSTS": HOST,
    "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
    "SITE_URL": f"https://{HOST}",
    "EMAIL_URL": "smtp://ill:password@mail.example.ac.jp:587/?tls=True",
    "DEFAULT_FROM_EMAIL": "ILL Desk <ill@library.example.ac.jp>",
    "DATABASE_URL": "postgres://ill:password@db:5432/ill",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
}
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb", "serial", "hid", "midi")


def run_production(args, **env):
    return subprocess.run(
        args,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**CLEAN, **DOCUMENTED, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), **env},
    )


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: (value[0] if value else "") for name, *value in parts}


# --- production: check --deploy and HSTS ---------------------------------------------------------


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = run_production([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


# A response in a fresh process with the production settings, as seen behind the TLS proxy.
# /admin/ answers a stranger with a redirect: no template, no database, no static manifest.
PRODUCTION_RESPONSE = (
    "import json, django; django.setup(); from django.test import Client; "
    f"r = Client().get('/admin/', HTTP_HOST={HOST!r}, HTTP_X_FORWARDED_PROTO='https'); "
    "print(json.dumps({'status': r.status_code, **{k: v for k, v in r.headers.items()}}))"
)


def production_headers(**env) -> dict:
    result = run_production([sys.executable, "-c", PRODUCTION_RESPONSE], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_for_a_year_with_subdomains_and_preload_by_default():
    headers = production_headers()
    assert headers["status"] == 302
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "camera=()" in headers["Permissions-Policy"]


def test_hsts_can_be_staged_with_a_short_max_age_and_without_preload():
    headers = production_headers(
        DJANGO_SECURE_HSTS_SECONDS="300",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        DJANGO_SECURE_HSTS_PRELOAD="false",
    )
    assert headers["Strict-Transport-Security"] == "max-age=300"


def test_the_policy_can_be_staged_as_report_only():
    headers = production_headers(DJANGO_CSP_REPORT_ONLY="true", DJANGO_CSP_REPORT_URI="/csp-report/")
    assert "Content-Security-Policy" not in headers
    policy = directives(headers["Content-Security-Policy-Report-Only"])
    assert {k: v for k, v in policy.items() if k in CSP_DIRECTIVES} == CSP_DIRECTIVES
    assert policy["report-uri"] == "/csp-report/"


# --- every environment: the headers on real pages ------------------------------------------------


@pytest.mark.parametrize(
    "who, url",
    [
        (None, "/accounts/login/"),
        ("patron", "/my/"),
        ("patron", "/my/requests/new/copy/"),
        ("staff", "/desk/"),
        ("staff", "/desk/reports/charges/"),
        ("admin", "/admin/"),
    ],
)
def test_pages_send_a_policy_without_unsafe_inline_and_a_permissions_policy(
    client, admin_user, undergraduate, staff_user, who, url
):
    if who:
        client.force_login({"patron": undergraduate.user, "staff": staff_user, "admin": admin_user}[who])
    response = client.get(url)
    assert response.status_code == 200
    header = response.headers["Content-Security-Policy"]
    policy = directives(header)
    assert {k: v for k, v in policy.items() if k in CSP_DIRECTIVES} == CSP_DIRECTIVES
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"):
        assert unsafe not in header.split()
    features = dict(item.split("=", 1) for item in response.headers["Permissions-Policy"].split(", "))
    for feature in DENIED_FEATURES:
        assert features[feature] == "()", feature


# --- nothing in the templates would need 'unsafe-inline' -----------------------------------------

INLINE = [
    (re.compile(r"""\sstyle\s*=\s*["']""", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a <style> block"),
    (re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I), "an on… handler attribute"),
    (re.compile(r"""href\s*=\s*["']\s*javascript:""", re.I), "a javascript: link"),
]
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.I | re.S)


def page_templates():
    """Every template that a browser shows; HTML e-mail keeps its inline styles (no CSP in mail)."""
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if "email" not in path.relative_to(ROOT / "templates").parts:
            yield path


def test_no_page_template_has_inline_style_script_or_handler():
    problems = []
    for path in page_templates():
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", text, flags=re.S)
        for pattern, what in INLINE:
            if pattern.search(text):
                problems.append(f"{path.relative_to(ROOT)}: {what}")
        for attributes, body in SCRIPT.findall(text):
            if body.strip() and "application/json" not in attributes:
                problems.append(f"{path.relative_to(ROOT)}: an inline <script> body")
    assert problems == [], "\n".join(problems)


def test_the_template_check_finds_what_it_is_meant_to_find():
    text = '<td style="x"><style>a{}</style><button onclick="go()"><script>alert(1)</script>'
    assert all(pattern.search(text) for pattern, _ in INLINE[:3])
    assert [body for _, body in SCRIPT.findall(text)] == ["alert(1)"]


def test_the_csrf_failure_page_is_the_sites_own_without_an_inline_style(db):
    """Django's own CSRF page carries a <style> block, which the policy would block."""
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "<style" not in html and 'style="' not in html
    assert "css/ill.css" in html  # the site's stylesheet instead
    assert 'data-testid="csrf-failure"' in html
