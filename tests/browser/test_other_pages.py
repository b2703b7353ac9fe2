"""The main path of the remaining pages, in a browser: the patron's profile, asking for an
extension, accepting a charge; the staff's patron page with a block and a request on the patron's
behalf, the print-outs and the charges report."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from fees.models import Charge
from ill.models import Request
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hanako_page(page, login, undergraduate):
    login(page, "hanako")
    return page


def test_the_profile_switches_the_language_and_lists_budget_codes(page, login, doctoral, public_code, live_server):
    login(page, "wei")
    page.goto(f"{live_server.url}/my/profile/")
    expect(page.get_by_test_id("budget-codes")).to_contain_text(public_code.code)
    page.select_option("select[name=preferred_language]", "ja")
    page.click("form input[type=submit][name=submit]")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    doctoral.refresh_from_db()
    assert doctoral.preferred_language == "ja"


def test_a_patron_asks_for_an_extension(hanako_page, live_server, undergraduate, lender):
    loan = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(4))
    page = hanako_page
    page.goto(f"{live_server.url}/my/requests/{loan.number}/")
    page.fill("input[name=reason]", "まだ論文を書いています")
    page.get_by_test_id("ask-extension").click()
    expect(page.get_by_test_id("ask-extension")).to_have_count(0)
    assert loan.extensions.get().reason == "まだ論文を書いています"


def test_a_patron_accepts_a_charge_above_the_maximum(hanako_page, live_server, undergraduate, lender):
    copy = f.CopyRequestFactory(patron=undergraduate, status="arrived", lender=lender, max_cost=300)
    f.ChargeFactory(request=copy, total=490, computed_total=490, state="awaiting")
    page = hanako_page
    page.goto(f"{live_server.url}/my/requests/{copy.number}/")
    page.get_by_test_id("accept-charge").click()
    expect(page.get_by_test_id("accept-charge")).to_have_count(0)
    assert Charge.objects.get(request=copy).state == "due"
    assert copy.messages.filter(kind="arrived").exists()


def test_staff_block_a_patron_and_enter_a_request_for_another(desk_page, live_server, undergraduate, doctoral):
    desk = desk_page
    desk.goto(f"{live_server.url}/desk/patrons/?q={doctoral.patron_number}")
    desk.fill("input[name=reason]", "紛失資料の弁償待ち")
    desk.locator("form[action$='/block/'] button[type=submit]").click()
    expect(desk.get_by_test_id("block-reason")).to_contain_text("紛失資料の弁償待ち")

    desk.goto(f"{live_server.url}/desk/patrons/{undergraduate.patron_number}/new/loan/")
    desk.fill("input[name=title]", "日本語の歴史")
    desk.fill("input[name=isbn]", "9784004310181")
    desk.get_by_test_id("submit-for-patron").click()
    request = Request.objects.get(patron=undergraduate)
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "submitted")
    assert request.created_by.username == "desk"


def test_print_the_slip_and_the_book_band(desk_page, live_server, lender):
    loan = f.RequestFactory(status="on_loan", lender=lender, due_date=f.future(9), lender_reference="TOTO-1")
    desk = desk_page
    desk.goto(f"{live_server.url}/desk/requests/{loan.number}/slip/")
    expect(desk.locator(".slip .number")).to_have_text(loan.number)
    desk.emulate_media(media="print")
    expect(desk.locator(".toolbar")).to_be_hidden()
    desk.emulate_media(media="screen")
    desk.goto(f"{live_server.url}/desk/requests/{loan.number}/band/")
    due = f.future(9)  # as the page's language writes it (the demo desk is Japanese): 2026年12月11日
    expect(desk.locator(".band .due")).to_contain_text(f"{due.year}年{due.month}月{due.day}日")


def test_the_charges_report_and_its_csv(desk_page, live_server, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="arrived", lender=lender)
    f.ChargeFactory(request=request, total=490, computed_total=490)
    desk = desk_page
    desk.goto(f"{live_server.url}/desk/reports/charges/")
    expect(desk.get_by_test_id("by-month")).to_contain_text("490")
    expect(desk.get_by_test_id("by-code")).to_contain_text("490")
    with desk.expect_download() as download:
        desk.get_by_test_id("csv-summary").click()
    content = open(download.value.path(), encoding="utf-8").read()
    assert content.startswith("\ufeff") and "490" in content


def test_staff_push_the_waiting_and_the_failed_emails_from_the_desk(desk_page, live_server, undergraduate):
    """After an outage: the messages waiting for their next attempt and those that failed are sent
    from the desk's e-mail page at once (the test settings send through the memory back-end)."""
    later = timezone.now() + datetime.timedelta(minutes=30)
    refused = "Connection refused"
    waiting = f.OutboxMessageFactory(status="pending", attempts=5, next_attempt_at=later, last_error=refused)
    failed = f.OutboxMessageFactory(status="failed", attempts=8, last_error=refused)
    desk = desk_page
    desk.goto(f"{live_server.url}/desk/emails/")
    desk.get_by_test_id("send-all").click()
    expect(desk.locator(".alert")).to_have_count(1)
    waiting.refresh_from_db()
    assert waiting.status == "sent"
    desk.get_by_test_id("retry-all").click()
    failed.refresh_from_db()
    assert failed.status == "sent"
    expect(desk.get_by_test_id("retry-all")).to_have_count(0)
    assert len(mail.outbox) == 2
