"""Issue 12, finding 1, in a browser: a patron who types a wrong password ten times sees until when
sign-in is locked and what to do; the desk, on the same address, is not locked, sees the lock on
the patron's page and lifts it; the patron signs in."""

import pytest
from django.test import override_settings
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def axes_on():
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=10, TRUSTED_PROXY_COUNT=0):
        yield


def test_a_locked_patron_is_told_when_to_retry_and_the_desk_unlocks_them(
    axes_on, browser, live_server, login, undergraduate, staff_user
):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    patron = context.new_page()
    for _ in range(10):
        login(patron, "hanako", "wrong")
    expect(patron.get_by_test_id("locked-out")).to_be_visible()
    expect(patron.get_by_test_id("locked-until")).to_contain_text("60")
    login(patron, "hanako")  # the right password does not get in while locked
    expect(patron.get_by_test_id("locked-out")).to_be_visible()

    # The desk signs in from the same address: staff are not locked by a patron's failures.
    desk_context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    desk = desk_context.new_page()
    login(desk, staff_user.username)
    desk.goto(f"{live_server.url}/desk/patrons/{undergraduate.patron_number}/")
    lock = desk.get_by_test_id("sign-in-lock")
    expect(lock).to_be_visible()
    with desk.expect_navigation():
        lock.locator("button[type=submit]").click()
    expect(desk.get_by_test_id("sign-in-lock")).to_have_count(0)

    login(patron, "hanako")
    expect(patron.get_by_test_id("locked-out")).to_have_count(0)
    assert "/accounts/login/" not in patron.url
    context.close()
    desk_context.close()
