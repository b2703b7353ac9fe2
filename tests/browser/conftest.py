import pytest
from playwright.sync_api import Page

from tests import factories as f


@pytest.fixture
def login(live_server):
    """Log a page in as `username` through the real login form."""

    def _login(page: Page, username: str, password: str = "pw"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state()

    return _login


@pytest.fixture
def desk_page(browser, live_server, staff_user, login):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    login(page, staff_user.username)
    yield page
    context.close()


def open_action(page: Page, action: str):
    """Unfold a less common action (shown folded in a <details>) before using it."""
    box = page.locator(f"[data-action={action}]")
    if box.evaluate("e => e.tagName === 'DETAILS' && !e.open"):
        box.locator("summary").click()
    return box


def submit_action(page: Page, action: str):
    """Submit one action's form and wait for the page it leads to (a slow POST under load must
    not leave the test looking at the old page)."""
    with page.expect_navigation(timeout=30_000):
        open_action(page, action).locator("input[type=submit]").click()
    page.wait_for_load_state()


__all__ = ["f", "open_action", "submit_action"]
