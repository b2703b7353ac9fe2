"""Look-up from the national catalogues in a browser: typing an ISBN and choosing "Look up" fills
the loan form from NDL Search (replayed by a local server), a field the patron already filled is
offered, not overwritten; each failure leaves the form as it was with a calm message; the desk's
request page loads the CiNii Books holders after itself and adds a holder to the order form."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.test_csp import RECORDER
from tests.ill.test_catalogue import KOKORO, KOKORO_NCID, recorded, replay, serve_cinii, serve_ndl  # noqa: F401

NDL_NAME = re.compile("NDL Search|国立国会図書館")  # as the lead's translation will name it
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ndl_on(settings, replay):  # noqa: F811
    settings.CATALOGUE_LOOKUP = "ndl"
    settings.CINII_APPID = ""
    settings.NDL_SEARCH_URL = replay.url
    settings.NDL_API = "sru"
    settings.CATALOGUE_TIMEOUT = 1
    return replay


@pytest.fixture
def hanako_page(page, login, undergraduate, lender):
    login(page, "hanako")
    return page


def test_an_isbn_fills_the_loan_form(hanako_page, live_server, ndl_on):
    serve_ndl(ndl_on)
    page = hanako_page
    page.add_init_script(RECORDER)  # the policy (no 'unsafe-inline') blocks nothing of the look-up
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=author]", "Natsume, Soseki")  # typed by the patron: not overwritten
    page.fill("input[name=isbn]", "4-00-310101-4")
    button = page.get_by_test_id("lookup-isbn")
    expect(button).to_be_visible()
    button.focus()
    page.keyboard.press("Enter")  # keyboard only
    message = page.get_by_test_id("lookup-message")
    expect(message).to_have_attribute("aria-live", "polite")
    expect(page.locator("input[name=title]")).to_have_value("こころ")
    expect(page.locator("input[name=publisher]")).to_have_value("岩波書店")
    expect(page.locator("input[name=pub_year]")).to_have_value("1989")
    expect(page.locator("input[name=edition]")).to_have_value("改版")
    expect(page.locator("input[name=author]")).to_have_value("Natsume, Soseki")
    expect(message).not_to_be_empty()
    differences = page.get_by_test_id("lookup-differences")
    expect(differences).to_contain_text("夏目漱石 作")
    page.get_by_test_id("lookup-replace").click()
    expect(page.locator("input[name=author]")).to_have_value("夏目漱石 作")
    expect(differences).to_be_hidden()
    assert page.evaluate("window.__csp") == []
    page.get_by_test_id("to-confirm").click()  # the form submits as before
    expect(page.get_by_test_id("submit-request")).to_be_visible()


def test_each_failure_leaves_the_form_as_it_was_with_a_message(hanako_page, live_server, ndl_on):
    ndl_on.add("/api/sru", recorded("ndl_sru_hit.xml"), status=500, type="text/xml")
    page = hanako_page
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=title]", "My own title")
    message = page.get_by_test_id("lookup-message")
    page.fill("input[name=isbn]", "9784003101019")  # wrong check digit: refused before any call
    page.get_by_test_id("lookup-isbn").click()
    expect(message).to_contain_text("9784003101019")
    assert ndl_on.seen == []
    page.fill("input[name=isbn]", KOKORO)  # the service answers 500
    page.get_by_test_id("lookup-isbn").click()
    expect(message).to_contain_text(NDL_NAME)
    expect(page.locator("input[name=title]")).to_have_value("My own title")
    expect(page.locator("input[name=publisher]")).to_have_value("")
    page.fill("input[name=isbn]", "")
    page.get_by_test_id("lookup-isbn").click()
    expect(message).not_to_be_empty()


def test_a_slow_service_gives_a_calm_message(hanako_page, live_server, ndl_on):
    serve_ndl(ndl_on, delay=3)
    page = hanako_page
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=isbn]", KOKORO)
    page.get_by_test_id("lookup-isbn").click()
    message = page.get_by_test_id("lookup-message")
    expect(message).to_contain_text(NDL_NAME, timeout=5000)
    expect(page.locator("input[name=title]")).to_have_value("")
    expect(page.get_by_test_id("lookup-isbn")).to_be_enabled()


def test_without_the_lookup_there_is_no_button(hanako_page, live_server, settings):
    settings.CATALOGUE_LOOKUP = ""
    page = hanako_page
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    expect(page.locator("input[name=isbn]")).to_be_visible()
    expect(page.get_by_test_id("lookup-isbn")).to_have_count(0)


def test_the_desk_sees_the_holders_and_adds_one_to_the_order(desk_page, live_server, settings, replay, undergraduate):  # noqa: F811
    settings.CATALOGUE_LOOKUP = "cinii"
    settings.CINII_APPID = "test-appid"
    settings.CINII_BOOKS_URL = replay.url
    serve_cinii(replay)
    ours = f.LendingInstitutionFactory(code="FA001007", name="九州大学 附属図書館")
    item = f.RequestFactory(patron=undergraduate, ncid=KOKORO_NCID, isbn=KOKORO, title="こころ")
    page = desk_page
    page.add_init_script(RECORDER)
    page.goto(f"{live_server.url}/desk/requests/{item.number}/")
    card = page.get_by_test_id("cinii-holders")
    expect(card.get_by_test_id("holders")).to_contain_text("上智大学 図書館")
    add = card.locator(f"[data-add-candidate='{ours.code}']")
    expect(add).to_be_visible()
    add.click()
    expect(page.locator("[data-action=order] input[name=lender_1]")).to_have_value(ours.code)
    expect(card.get_by_test_id("holders-message")).to_contain_text(ours.code)
    add.click()
    expect(card.get_by_test_id("holders-message")).to_contain_text(ours.code)
    assert page.evaluate("window.__csp") == []


def test_the_holders_card_says_when_cinii_fails(desk_page, live_server, settings, replay, undergraduate):  # noqa: F811
    settings.CATALOGUE_LOOKUP = "cinii"
    settings.CINII_APPID = "test-appid"
    settings.CINII_BOOKS_URL = replay.url
    replay.add("/books/opensearch/holder", b"oops", status=500, type="text/plain")
    item = f.RequestFactory(patron=undergraduate, ncid=KOKORO_NCID)
    page = desk_page
    page.goto(f"{live_server.url}/desk/requests/{item.number}/")
    expect(page.get_by_test_id("holders-failure")).to_be_visible()
    expect(page.get_by_test_id("desk-status")).to_be_visible()  # the page itself is whole
