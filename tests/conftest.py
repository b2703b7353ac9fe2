"""Shared fixtures: a fixed cast of patrons and staff, lenders with the seeds' fee schedules, and
the rule that a test needing PostgreSQL, Redis or Chromium skips on a laptop without it but FAILS
under CI=true."""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright's sync API

from tests import factories as f  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def need(available: bool, what: str):
    """Skip when a service is missing — unless in CI, where a missing service is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} not available")


def chromium_available() -> bool:
    return bool(shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no session or permission set of an earlier test."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _services_for_markers(request):
    if request.node.get_closest_marker("browser"):
        need(chromium_available(), f"Chromium ({CHROMIUM})")
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    if request.node.get_closest_marker("redis"):
        from django.conf import settings

        need(bool(settings.REAL_BROKER_URL) and _redis_answers(settings.REAL_BROKER_URL), "Redis (CELERY_BROKER_URL)")


def _redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


# --- the cast -------------------------------------------------------------------------------


@pytest.fixture
def branch(db):
    return f.BranchFactory()


@pytest.fixture
def medical_branch(db):
    return f.BranchFactory(code="medical", name="医学図書館", name_en="Medical Library")


@pytest.fixture
def lab(db):
    return f.LaboratoryFactory(name="情報工学研究室", name_en="Information Engineering Lab")


@pytest.fixture
def undergraduate(branch):
    return f.PatronFactory(user__username="hanako", full_name="佐藤 花子", home_branch=branch)


@pytest.fixture
def doctoral(branch, lab):
    return f.PatronFactory(
        user__username="wei",
        full_name="Chen Wei",
        category="doctoral",
        laboratory=lab,
        home_branch=branch,
        preferred_language="en",
    )


@pytest.fixture
def faculty(branch, lab):
    return f.PatronFactory(
        user__username="tanaka", full_name="田中 誠", category="faculty", laboratory=lab, home_branch=branch
    )


@pytest.fixture
def staff_user(db):
    from django.contrib.auth.models import Group

    from patrons.roles import CIRCULATION_STAFF, ensure_roles

    ensure_roles()
    user = f.UserFactory(username="desk", is_staff=True)
    user.groups.add(Group.objects.get(name=CIRCULATION_STAFF))
    return user


@pytest.fixture
def lender(db):
    """A Japanese university library priced like seed 004 example 1 (35 yen a page, postage 140)."""
    return f.FeeScheduleFactory(
        lender__name="東都大学附属図書館",
        lender__name_en="Toto University Library",
        lender__supports_fax=True,
        mono_price=35,
        postage_per_shipment=140,
        fax_fee_mode="per_page",
        fax_fee_per_page=40,
    ).lender


@pytest.fixture
def second_lender(db):
    return f.FeeScheduleFactory(lender__name="西海大学附属図書館", lender__name_en="Saikai University Library").lender


@pytest.fixture
def public_code(faculty, lab):
    return f.BudgetCodeFactory(code="2026-ENG-0301", responsible=faculty, laboratory=lab, limit=50000)


@pytest.fixture
def english():
    """Messages asserted in English; the site's default is Japanese."""
    from django.utils import translation

    with translation.override("en"):
        yield
