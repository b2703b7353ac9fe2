"""The patron's side in a browser: loan and copy requests with the confirmation step, an OpenURL
link, the sixth book refused with the message, cancelling before ordering, and switching
between Japanese and English."""

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from ill.models import Request
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hanako_page(page, login, undergraduate, lender):
    login(page, "hanako")
    return page


def test_submit_a_loan_after_checking_rules_cost_and_time(hanako_page, live_server):
    page = hanako_page
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=title]", "パターン認識と機械学習")
    page.fill("input[name=author]", "Bishop, C. M.")
    page.fill("input[name=pub_year]", "2012")
    page.fill("input[name=isbn]", "9784621061220")
    page.get_by_test_id("to-confirm").click()
    expect(page.locator("[data-rule=loan_limit][data-outcome=pass]")).to_be_visible()
    expect(page.locator("[data-rule=held_here][data-outcome=pass]")).to_be_visible()
    expect(page.get_by_test_id("estimate")).to_contain_text("1,600")
    page.get_by_test_id("submit-request").click()
    request = Request.objects.get()
    expect(page).to_have_url(re.compile(rf"/my/requests/{request.number}/$"))
    assert (request.kind, request.isbn, request.pub_year) == ("loan", "9784621061220", 2012)


def test_submit_a_copy_from_an_openurl_link(hanako_page, live_server):
    page = hanako_page
    query = urlencode(
        {
            "sid": "google",
            "aulast": "Watson",
            "auinit": "J",
            "atitle": "Molecular structure of nucleic acids",
            "title": "Nature",
            "volume": "171",
            "issue": "4356",
            "date": "1953",
            "spage": "737",
            "epage": "738",
            "issn": "0028-0836",
        }
    )
    page.goto(f"{live_server.url}/openurl?{query}")
    expect(page.get_by_test_id("openurl-prefill")).to_be_visible()
    expect(page.locator("input[name=article_title]")).to_have_value("Molecular structure of nucleic acids")
    page.fill("input[name=page_count]", "2")
    page.check("input[name=copyright_accepted]")
    page.get_by_test_id("to-confirm").click()
    expect(page.locator("[data-rule=copyright][data-outcome=pass]")).to_be_visible()
    expect(page.get_by_test_id("estimate")).to_contain_text("210")  # 2 pages × 35 + postage 140
    page.get_by_test_id("submit-request").click()
    page.wait_for_load_state()
    request = Request.objects.get()
    assert (request.kind, request.article_title, request.issn, request.pages) == (
        "copy",
        "Molecular structure of nucleic acids",
        "0028-0836",
        "737-738",
    )


def test_the_sixth_book_is_refused_with_the_message(hanako_page, live_server, undergraduate):
    for _ in range(5):
        f.RequestFactory(patron=undergraduate, status="ordered")
    page = hanako_page
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=title]", "One too many")
    page.get_by_test_id("to-confirm").click()
    refusal = page.locator("[data-testid=refusals] [data-rule=loan_limit]")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("5")
    expect(page.locator("input[name=title]")).to_have_value("One too many")
    assert Request.objects.filter(patron=undergraduate).count() == 5


def test_cancel_a_request_before_it_is_ordered(hanako_page, live_server, undergraduate):
    request = f.RequestFactory(patron=undergraduate, title="No longer needed")
    page = hanako_page
    page.goto(f"{live_server.url}/my/requests/{request.number}/")
    page.get_by_test_id("cancel-request").click()
    expect(page.get_by_test_id("patron-status")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("cancel-request")).to_have_count(0)
    request.refresh_from_db()
    assert request.status == "cancelled"


def test_switch_the_page_to_english_and_back(hanako_page, live_server):
    page = hanako_page
    page.goto(f"{live_server.url}/my/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text("申込一覧")
    page.click("#language-switcher button[data-language=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My requests")
    page.click("#language-switcher button[data-language=ja]")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text("申込一覧")
