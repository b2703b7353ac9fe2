"""Issue 12, finding 1: ten wrong passwords for one user lock that user on that client address only —
never another user, never the admin, even when every request arrives through one reverse proxy;
the locked-out user is told until when and what to do (429); staff unlock from the desk or admin."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patrons import services
from patrons.models import PatronEvent
from patrons.roles import CIRCULATION_STAFF, ensure_roles
from patrons.signin import client_ip, sign_in_lock
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("axes_on")]

PROXY = "10.0.0.1"  # every request arrives from the reverse proxy's address
LIMIT = 10


@pytest.fixture
def axes_on():
    """Axes is off for the rest of the suite (config/settings/test.py). Its handler keeps no state
    between requests (the database handler); the attempts are rows, rolled back with each test."""
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=LIMIT, TRUSTED_PROXY_COUNT=0):
        yield


@pytest.fixture
def patron_a(branch):
    return f.PatronFactory(user__username="patron-a", home_branch=branch)


@pytest.fixture
def patron_b(branch):
    return f.PatronFactory(user__username="patron-b", home_branch=branch)


@pytest.fixture
def admin_user(db):
    return f.UserFactory(username="admin", is_staff=True, is_superuser=True)


def sign_in(username, password="pw", path=None, client=None, **meta):
    meta.setdefault("REMOTE_ADDR", PROXY)
    client = client or Client()
    response = client.post(path or reverse("login"), {"username": username, "password": password}, **meta)
    return response


def fail(username, times=LIMIT, **meta):
    for _ in range(times):
        response = sign_in(username, "wrong", **meta)
    return response


def test_ten_failures_lock_that_user_on_that_address_and_nobody_else(patron_a, patron_b, admin_user):
    fail("patron-a")
    assert sign_in("patron-a").status_code == 429  # even with the right password
    # The next patron and the admin, through the same proxy address, are not affected.
    assert sign_in("patron-b").status_code == 302
    assert sign_in("admin", path="/admin/login/?next=/admin/").status_code == 302
    # Nor is patron A on another address.
    assert sign_in("patron-a", REMOTE_ADDR="10.0.0.77").status_code == 302


def test_failures_for_many_users_from_one_address_lock_none_of_the_others(patron_a, admin_user):
    """An attacker trying passwords for every user name through the proxy cannot lock anyone else."""
    for n in range(30):
        sign_in(f"guess{n}", "wrong")
    assert sign_in("patron-a").status_code == 302
    assert sign_in("admin", path="/admin/login/?next=/admin/").status_code == 302


def test_nine_failures_do_not_lock_and_a_success_clears_the_count(patron_a):
    fail("patron-a", LIMIT - 1)
    assert sign_in("patron-a").status_code == 302
    fail("patron-a", LIMIT - 1)
    assert sign_in("patron-a").status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_each_forwarded_client_is_its_own_address(patron_a):
    fail("patron-a", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert sign_in("patron-a", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert sign_in("patron-a", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302
    # The locked client cannot pose as another by sending its own header: the proxy appends
    # the address it saw, and only that entry is read.
    assert sign_in("patron-a", HTTP_X_FORWARDED_FOR="203.0.113.6, 203.0.113.5").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_the_client_address_comes_from_the_configured_number_of_proxies(rf):
    def ip(count, forwarded=None):
        meta = {"REMOTE_ADDR": PROXY} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
        with override_settings(TRUSTED_PROXY_COUNT=count):
            return client_ip(rf.post("/", **meta))

    assert ip(0, "203.0.113.5") == PROXY  # no proxy: the header is the client's own claim
    assert ip(1, "203.0.113.5") == "203.0.113.5"
    assert ip(1, "1.2.3.4, 203.0.113.5") == "203.0.113.5"
    assert ip(2, "1.2.3.4, 203.0.113.5, 10.0.0.2") == "203.0.113.5"
    assert ip(1, "192.168.10.20") == "192.168.10.20"  # a PC on the library's private network
    assert ip(1) == PROXY  # not through the proxy
    # A trusted entry that is not an address never lets the client's own entries through.
    assert ip(1, "1.2.3.4, unknown") == PROXY
    assert ip(1, "1.2.3.4,,") == PROXY
    assert ip(2, "9.9.9.9, unknown, 10.0.0.2") == PROXY
    assert ip(2, "9.9.9.9, 1.2.3.4, unknown") == "1.2.3.4"  # the outer proxy's entry; the inner one's is about it
    assert ip(2, "203.0.113.5") == PROXY  # shorter than the chain of proxies
    assert ip(1, "2001:db8::1") == "2001:db8::1"


def test_the_locked_out_page_says_until_when_and_what_to_do_in_the_users_language(patron_a, english):
    fail("patron-a")
    client = Client()
    client.cookies["django_language"] = "en"
    response = sign_in("patron-a", client=client)
    assert response.status_code == 429
    last = AccessAttempt.objects.get(username="patron-a").attempt_time
    until = timezone.localtime(last + datetime.timedelta(hours=1)).strftime("%H:%M")
    text = re.sub(r"\s+", " ", response.content.decode())
    assert f"for 60 minutes, until {until}" in text
    assert "“patron-a”" in text
    assert "ILL desk" in text
    assert "<script>" not in text and "style=" not in text


def test_the_locked_out_page_is_in_japanese_by_default(patron_a):
    fail("patron-a")
    response = sign_in("patron-a")
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert b'<html lang="ja"' in response.content
    assert response.context["minutes"] == 60


def test_failures_while_locked_do_not_prolong_the_lock(patron_a):
    fail("patron-a")
    first = AccessAttempt.objects.get(username="patron-a").attempt_time
    fail("patron-a", 5)
    attempt = AccessAttempt.objects.get(username="patron-a")
    assert attempt.attempt_time == first
    assert sign_in_lock("patron-a").until == first + datetime.timedelta(hours=1)


def test_the_lock_ends_after_the_cool_off(patron_a):
    fail("patron-a")
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=61))
    assert sign_in_lock("patron-a") is None
    assert sign_in("patron-a").status_code == 302


# --- unlocking ------------------------------------------------------------------------------


@pytest.fixture
def desk_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def patron_page(patron):
    return reverse("desk:patron", args=[patron.patron_number])


def test_the_desk_page_shows_the_lock_only_while_there_is_one(desk_client, patron_a):
    assert b'data-testid="sign-in-lock"' not in desk_client.get(patron_page(patron_a)).content
    fail("patron-a", LIMIT - 1)
    assert b'data-testid="sign-in-lock"' not in desk_client.get(patron_page(patron_a)).content
    fail("patron-a", 1)
    response = desk_client.get(patron_page(patron_a))
    assert b'data-testid="sign-in-lock"' in response.content
    assert response.context["sign_in_lock"].addresses == 1


def test_the_lock_state_costs_one_query_on_the_username_index(desk_client, patron_a):
    fail("patron-a")
    desk_client.get(patron_page(patron_a))
    with CaptureQueriesContext(connection) as captured:
        desk_client.get(patron_page(patron_a))
    axes_queries = [q["sql"] for q in captured if "axes_accessattempt" in q["sql"]]
    assert len(axes_queries) == 1
    assert '"axes_accessattempt"."username" =' in axes_queries[0]


def test_staff_unlock_at_the_desk_and_the_patron_signs_in(desk_client, staff_user, patron_a):
    fail("patron-a")
    fail("patron-a", REMOTE_ADDR="10.0.0.99")
    assert sign_in_lock("patron-a").addresses == 2
    response = desk_client.post(reverse("desk:patron_unlock_sign_in", args=[patron_a.patron_number]))
    assert response.status_code == 302
    assert sign_in_lock("patron-a") is None
    event = PatronEvent.objects.get(patron=patron_a, action="sign_in_unlocked")
    assert event.actor == staff_user
    assert event.data["was_locked"] is True
    assert sign_in("patron-a").status_code == 302
    assert sign_in("patron-a", REMOTE_ADDR="10.0.0.99").status_code == 302
    assert b'data-testid="sign-in-lock"' not in desk_client.get(patron_page(patron_a)).content


def test_unlocking_needs_the_desk_permission_a_post_and_the_csrf_token(staff_user, patron_a, patron_b):
    fail("patron-a")
    url = reverse("desk:patron_unlock_sign_in", args=[patron_a.patron_number])
    patron = Client()
    patron.force_login(patron_b.user)
    assert patron.post(url).status_code == 403
    desk = Client(enforce_csrf_checks=True)
    desk.force_login(staff_user)
    assert desk.post(url).status_code == 403
    assert desk.get(url).status_code == 302
    assert sign_in_lock("patron-a") is not None
    assert not PatronEvent.objects.filter(action="sign_in_unlocked").exists()


def test_unlocking_a_user_who_is_not_locked_writes_nothing(patron_a, staff_user):
    assert services.unlock_sign_in(patron_a.user, actor=staff_user) == 0
    assert not PatronEvent.objects.exists()


def test_the_admin_unlocks_a_patron_and_a_staff_login(admin_user, patron_a):
    ensure_roles()
    colleague = f.UserFactory(username="colleague", is_staff=True)
    colleague.groups.add(Group.objects.get(name=CIRCULATION_STAFF))
    fail("patron-a")
    fail("colleague", path="/admin/login/")
    assert sign_in("colleague", path="/admin/login/?next=/admin/").status_code == 429
    admin = Client()
    admin.force_login(admin_user)
    response = admin.post(
        "/admin/patrons/patron/", {"action": "unlock_sign_in", "_selected_action": [patron_a.pk]}, follow=True
    )
    assert response.status_code == 200
    assert sign_in_lock("patron-a") is None
    assert PatronEvent.objects.filter(patron=patron_a, action="sign_in_unlocked", actor=admin_user).exists()
    response = admin.post(
        "/admin/auth/user/", {"action": "unlock_sign_in", "_selected_action": [colleague.pk]}, follow=True
    )
    assert response.status_code == 200
    assert sign_in("colleague", path="/admin/login/?next=/admin/").status_code == 302


def test_axes_access_attempt_admin_lists_shows_and_deletes(admin_user, patron_a):
    fail("patron-a")
    attempt = AccessAttempt.objects.get()
    admin = Client()
    admin.force_login(admin_user)
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    assert admin.get("/admin/axes/accessattempt/?locked_out=yes&q=patron-a").status_code == 200
    assert admin.get(f"/admin/axes/accessattempt/{attempt.pk}/change/").status_code == 200
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert sign_in("patron-a").status_code == 302
