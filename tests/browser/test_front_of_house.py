"""Front of house in a browser (issue 13): the language switcher follows the patron into the
e-mails; dates read 1 Dec 2026 in English and 2026年12月1日 in Japanese on the pages and the slip,
and YYYY-MM-DD in a CSV; at 390 px what the patron should read comes before the button; and an
error the desk refuses with is shown once."""

import csv
import datetime
import io
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from ill.models import Request
from tests import factories as f
from tests.browser.conftest import submit_action

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def english(day: datetime.date) -> str:
    return f"{day.day} {day:%b} {day.year}"  # 1 Dec 2026, written out here rather than by Django


def japanese(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- the language follows the patron ---------------------------------------------------------


def test_the_header_switcher_makes_the_profile_and_the_next_email_english(
    page, login, live_server, undergraduate, lender
):
    assert undergraduate.preferred_language == "ja"
    login(page, "hanako")
    page.goto(f"{live_server.url}/my/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.click("#language-switcher button[data-language=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    undergraduate.refresh_from_db()
    assert undergraduate.preferred_language == "en"

    mail.outbox.clear()
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=title]", "The Art of Computer Programming")
    page.get_by_test_id("to-confirm").click()
    page.get_by_test_id("submit-request").click()
    request = Request.objects.get(patron=undergraduate)
    expect(page).to_have_url(re.compile(rf"/my/requests/{request.number}/$"))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith(f"We have received your ILL request {request.number}")
    assert request.messages.get().language == "en"


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_request_page_and_the_slip_write_dates_for_the_reader(
    browser, login, live_server, staff_user, undergraduate, lender, language
):
    due, back = f.future(9), f.future(16)
    loan = f.RequestFactory(
        patron=undergraduate, status="on_loan", lender=lender, due_date=due, lender_due_date=back, title="Dates"
    )
    written = english if language == "en" else japanese
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    try:
        patron = context.new_page()
        login(patron, "hanako")
        patron.click(f"#language-switcher button[data-language={language}]")
        expect(patron.locator("html")).to_have_attribute("lang", language)
        patron.goto(f"{live_server.url}/my/requests/{loan.number}/")
        expect(patron.locator("main")).to_contain_text(written(due))
        expect(patron.locator("main")).not_to_contain_text(
            due.isoformat() if language == "ja" else due.strftime("%m/%d")
        )
    finally:
        context.close()

    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    try:
        desk = context.new_page()
        login(desk, staff_user.username)
        desk.click(f"#language-switcher button[data-language={language}]")
        expect(desk.locator("html")).to_have_attribute("lang", language)
        desk.goto(f"{live_server.url}/desk/requests/{loan.number}/slip/")
        slip = desk.locator(".slip")
        expect(slip).to_contain_text(written(due))
        expect(slip).to_contain_text(written(back))
        submitted = timezone.localtime(loan.submitted_at).date()
        expect(slip.locator("footer")).to_contain_text(written(submitted))
        assert due.isoformat() not in slip.inner_text() and back.isoformat() not in slip.inner_text()
        desk.goto(f"{live_server.url}/desk/requests/{loan.number}/band/")
        expect(desk.locator(".band .due")).to_contain_text(written(due))
    finally:
        context.close()


def test_the_charges_csv_dates_are_iso_in_the_sites_time_zone(desk_page, live_server, lender):
    # Half past midnight in Tokyo on 1 December is still 30 November in UTC.
    moment = timezone.make_aware(datetime.datetime(2026, 12, 1, 0, 30))
    charge = f.ChargeFactory(request__lender=lender, total=490, state="due", created_at=moment)
    desk = desk_page
    desk.click("#language-switcher button[data-language=en]")
    desk.goto(f"{live_server.url}/desk/reports/charges/?year=2026")
    with desk.expect_download() as download:
        desk.get_by_test_id("csv-detail").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    line = next(row for row in rows[1:] if row[1] == charge.request.number)
    assert line[0] == "2026-12-01"


# --- 390 px: what to read before the button --------------------------------------------------


@pytest.mark.parametrize("kind", ["loan", "copy"])
def test_at_390_px_the_rules_and_estimates_come_before_the_button(browser, login, live_server, undergraduate, kind):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        login(page, "hanako")
        page.goto(f"{live_server.url}/my/requests/new/{kind}/")
        aside = page.locator("aside").filter(has=page.locator("h2"))
        expect(aside).to_be_visible()
        before = aside.locator(".card").first
        estimates = aside.locator(".card").nth(1)
        rule = "cannot be borrowed" if kind == "loan" else "Copyright"
        page.locator(".navbar-toggler").click()  # at 390 px the switcher is in the folded menu
        expect(page.locator(".navbar-collapse.show")).to_be_visible()  # unfolded, not still moving
        with page.expect_navigation():
            page.click("#language-switcher button[data-language=en]")
        expect(before).to_contain_text(rule)
        expect(estimates).to_contain_text("Usual time and cost")
        button = page.get_by_test_id("to-confirm")
        top_of_button = button.bounding_box()["y"]
        for box in (before, estimates):
            area = box.bounding_box()
            assert area["y"] + area["height"] <= top_of_button
        # one column: the aside is above, not beside, the form
        assert aside.bounding_box()["width"] > 300
    finally:
        context.close()


# --- an error the desk refuses with is shown once --------------------------------------------


def occurrences(page, text: str) -> int:
    return page.locator("body").inner_text().count(text)


def test_handing_over_an_unpaid_item_says_not_paid_once(desk_page, live_server, lender):
    loan = f.RequestFactory(status="arrived", lender=lender, lender_due_date=f.future(14))
    f.ChargeFactory(request=loan, total=1600, computed_total=1600, state="due")
    desk = desk_page
    desk.click("#language-switcher button[data-language=en]")
    desk.goto(f"{live_server.url}/desk/requests/{loan.number}/")
    submit_action(desk, "hand_over")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "arrived")
    assert occurrences(desk, "has not been paid yet") == 1, desk.locator("main").inner_text()


def test_sending_the_arrival_notice_twice_says_already_sent_once(desk_page, live_server, lender):
    loan = f.RequestFactory(status="arrived", lender=lender, lender_due_date=f.future(14))
    desk = desk_page
    desk.click("#language-switcher button[data-language=en]")
    desk.goto(f"{live_server.url}/desk/requests/{loan.number}/")
    submit_action(desk, "notify")
    expect(desk.locator("main")).to_contain_text("The arrival notice is being e-mailed.")
    submit_action(desk, "notify")
    assert occurrences(desk, "it is not sent again so soon") == 1, desk.locator("main").inner_text()
    assert loan.messages.filter(kind="arrived").count() == 1


def test_a_request_for_a_blocked_patron_says_why_once(desk_page, live_server, undergraduate):
    """The desk's request form showed a refusal of the intake both above the form and again at the
    top of the form (render_form's own non-field errors)."""
    undergraduate.blocked = True
    undergraduate.block_reason = "lost book"
    undergraduate.save()
    desk = desk_page
    desk.click("#language-switcher button[data-language=en]")
    desk.goto(f"{live_server.url}/desk/patrons/{undergraduate.patron_number}/new/loan/")
    desk.fill("input[name=title]", "Blocked")
    with desk.expect_navigation():
        desk.get_by_test_id("submit-for-patron").click()
    expect(desk.locator("main")).to_contain_text("blocked for interlibrary loan (lost book)")
    assert occurrences(desk, "blocked for interlibrary loan") == 1, desk.locator("main").inner_text()
    expect(desk.get_by_test_id("form-error")).to_contain_text("blocked for interlibrary loan (lost book)")
    assert not Request.objects.filter(patron=undergraduate).exists()
