"""A lending librarian's day in a browser (issue 14, Deliver 1–3): a copy request from an e-mail is
entered and supplied (the charge shown before shipping), a loan is pulled with its slip, lent, renewed,
returned and completed, another request is refused with a reason, and an overdue loan shows in its
worklist. Then every lending page passes axe-core in Japanese and English at 1280 and 390 px.
Screenshots for review go to /tmp/h5shots/."""

import datetime
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from lending import money, services
from lending.models import BorrowerTerms, Invoice, LendingRequest
from tests import factories as f
from tests.browser.conftest import open_action, submit_action
from tests.browser.pickers import choose_lender
from tests.browser.test_accessibility import WIDTHS, axe_violations, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h5shots")


def shot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def status_of(page):
    return page.get_by_test_id("lending-status")


@pytest.fixture
def our_prices(db):
    ours = money.current_schedule()
    ours.mono_price = 30
    ours.postage_per_shipment = 140
    ours.tax_included = True
    ours.tax_rate_percent = 10
    ours.loan_fee_mode = "round_trip"
    ours.loan_fee = 1500
    ours.save()
    return ours


@pytest.fixture
def borrower(db):
    library = f.LendingInstitutionFactory(
        code="FA055501", name="北海道学芸大学附属図書館", name_en="Hokkaido Gakugei University Library"
    )
    BorrowerTerms.objects.create(library=library, payment_terms_days=30)
    return library


def test_a_lending_librarians_day(desk_page, live_server, borrower, our_prices):
    desk = desk_page
    holding = f.LocalHoldingFactory(title="統計学入門", call_number="417/To", location="書庫2F")
    f.LocalHoldingIdentifierFactory(holding=holding, scheme="isbn", value="9784130420655")
    loan = services.receive(borrower=borrower, kind="loan", source="nacsis", title="統計学入門", isbn="9784130420655")
    refused = services.receive(
        borrower=borrower, kind="copy", source="fax", title="未所蔵の紀要", pages="1-4", page_count=4
    )
    late = services.receive(borrower=borrower, kind="loan", source="email", title="延滞中の本")
    services.will_supply(late, actor=None)
    services.ship(late, actor=None, shipping_method="mail", due_date=timezone.localdate() + datetime.timedelta(days=3))
    LendingRequest.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - datetime.timedelta(days=4))

    # The queue: the overdue loan is counted and marked in its worklist.
    desk.goto(f"{live_server.url}/desk/lending/")
    expect(desk.locator("[data-count=overdue]")).to_have_text("1")
    expect(desk.locator("[data-count=new]")).to_have_text("2")
    shot(desk, "queue-ja-1280")
    desk.locator("[data-worklist=overdue]").click()
    expect(desk.locator(f"tr[data-number='{late.number}'] [data-testid=overdue]")).to_be_visible()

    # A copy request that came by e-mail, typed in; the library chosen with the picker.
    with desk.expect_navigation():
        desk.get_by_test_id("enter-request").click()
    form = desk.get_by_test_id("incoming-form")
    choose_lender(form, "borrower", borrower, typed="学芸")
    form.locator("select[name=kind]").select_option("loan")
    expect(form.locator("[data-for-kind=copy]")).to_be_hidden()  # a loan has no pages to copy
    form.locator("select[name=kind]").select_option("copy")
    expect(form.locator("[data-for-kind=copy]")).to_be_visible()
    form.locator("select[name=source]").select_option("email")
    form.locator("input[name=their_reference]").fill("HG-2026-0777")
    form.locator("input[name=patron_reference]").fill("院生 A")
    form.locator("select[name=material_type]").select_option("article")
    form.locator("input[name=title]").fill("日本化学会誌")
    form.locator("input[name=article_title]").fill("錯体触媒の研究")
    form.locator("input[name=pages]").fill("10-19")
    form.locator("input[name=page_count]").fill("10")
    form.locator("select[name=periodical_frequency]").select_option("monthly")
    form.locator("input[name=issue_date]").fill("2020-05-01")
    shot(desk, "new-request-ja-1280")
    with desk.expect_navigation():
        desk.get_by_test_id("receive").click()
    expect(status_of(desk)).to_have_attribute("data-status", "received")
    copy = LendingRequest.objects.get(their_reference="HG-2026-0777")
    assert copy.borrower == borrower and copy.source == "email"

    # search → will supply → copy → ship (the charge shown first) → complete
    submit_action(desk, "search")
    expect(status_of(desk)).to_have_attribute("data-status", "searching")
    submit_action(desk, "will_supply")
    expect(status_of(desk)).to_have_attribute("data-status", "will_supply")
    submit_action(desk, "start_copying")
    expect(status_of(desk)).to_have_attribute("data-status", "copying")
    expect(desk.get_by_test_id("preview-total")).to_have_text("440円")  # 10 pages × 30 + postage 140
    shot(desk, "copy-to-ship-ja-1280")
    submit_action(desk, "ship")
    expect(status_of(desk)).to_have_attribute("data-status", "shipped")
    expect(desk.get_by_test_id("charge-total")).to_have_text("440円")
    submit_action(desk, "complete")
    expect(status_of(desk)).to_have_attribute("data-status", "completed")

    # The loan: will supply, its pull slip, ship with a due date, received, renewed, back, complete.
    desk.goto(f"{live_server.url}/desk/lending/{loan.number}/")
    expect(desk.get_by_test_id("our-holding")).to_contain_text("417/To")
    submit_action(desk, "will_supply")
    with desk.context.expect_page() as popup:
        desk.get_by_test_id("pull-slip").click()
    slip = popup.value
    slip.wait_for_load_state()
    expect(slip.get_by_test_id("slip-call-number")).to_have_text("417/To")
    expect(slip.locator("svg")).to_have_count(1)
    shot(slip, "pull-slip-ja")
    slip.close()
    due = timezone.localdate() + datetime.timedelta(days=30)
    desk.locator("[data-action=ship] input[name=due_date]").fill(due.isoformat())
    expect(desk.get_by_test_id("preview-total")).to_have_text("1,500円")
    submit_action(desk, "ship")
    expect(status_of(desk)).to_have_attribute("data-status", "shipped")
    submit_action(desk, "mark_received")
    expect(status_of(desk)).to_have_attribute("data-status", "on_loan")
    wanted = due + datetime.timedelta(days=14)
    open_action(desk, "renewal_ask").locator("input[name=wanted_until]").fill(wanted.isoformat())
    submit_action(desk, "renewal_ask")
    expect(desk.locator("[data-action=renewal_grant] input[name=new_due_date]")).to_have_value(wanted.isoformat())
    shot(desk, "loan-renewal-ja-1280")
    submit_action(desk, "renewal_grant")
    loan.refresh_from_db()
    assert (loan.due_date, loan.renewals) == (wanted, 1)
    submit_action(desk, "record_return")
    expect(status_of(desk)).to_have_attribute("data-status", "returned")
    submit_action(desk, "complete")
    expect(status_of(desk)).to_have_attribute("data-status", "completed")

    # One we cannot supply: the reason goes with it.
    desk.goto(f"{live_server.url}/desk/lending/{refused.number}/")
    box = open_action(desk, "mark_unfilled")
    box.locator("select[name=reason]").select_option("not_held")
    box.locator("textarea[name=note]").fill("当館未所蔵")
    submit_action(desk, "mark_unfilled")
    expect(status_of(desk)).to_have_attribute("data-status", "unfilled")
    refused.refresh_from_db()
    assert refused.unfilled_reason == "not_held"
    expect(desk.get_by_test_id("lending-history")).to_contain_text("当館未所蔵")


PAGES = (
    "/desk/lending/",
    "/desk/lending/?worklist=overdue",
    "/desk/lending/?q=統計",
    "/desk/lending/new/",
    "/desk/lending/slips/pull/",
    "/desk/lending/charges/",
    "/desk/lending/invoices/",
)


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("width", ["wide", "narrow"])
def test_the_lending_pages_have_no_axe_violation(browser, live_server, staff_user, language, width):
    call_command("load_lending_demo")
    invoice = Invoice.objects.get()
    requests = {r.their_reference: r.number for r in LendingRequest.objects.all()}
    paths = [
        *PAGES,
        *(f"/desk/lending/{number}/" for number in requests.values()),
        f"/desk/lending/{requests['SKR-2026-031']}/slip/",
        f"/desk/lending/{requests['SKR-2026-031']}/?holding_q=統計",
        f"/desk/lending/charges/{invoice.borrower.code}/",
        f"/desk/lending/invoices/{invoice.number}/",
    ]
    context = browser.new_context(
        locale="ja-JP" if language == "ja" else "en-GB", timezone_id="Asia/Tokyo", viewport=WIDTHS[width]
    )
    context.set_extra_http_headers({"Accept-Language": language})
    page = context.new_page()
    found = {}
    try:
        log_in(page, live_server.url, staff_user.username)
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status < 400, (path, response.status)
            violations = axe_violations(page)
            if violations:
                found[path] = violations
        size = "1280" if width == "wide" else "390"
        if width == "narrow":  # on a phone a request's next steps come before its facts and history
            page.goto(f"{live_server.url}/desk/lending/{requests['SKR-2026-032']}/")
            steps = page.get_by_test_id("next-steps").bounding_box()
            history = page.get_by_test_id("lending-history").bounding_box()
            assert steps["y"] < history["y"]
        for name, path in (
            ("queue", "/desk/lending/"),
            ("loan-renewal", f"/desk/lending/{requests['SKR-2026-029']}/"),
            ("copy-copying", f"/desk/lending/{requests['SKR-2026-032']}/"),
            ("invoice", f"/desk/lending/invoices/{invoice.number}/"),
        ):
            page.goto(live_server.url + path)
            shot(page, f"{name}-{language}-{size}")
        # A form sent back with problems: the summary, each problem tied to its field.
        page.goto(f"{live_server.url}/desk/lending/new/")
        with page.expect_navigation():
            page.get_by_test_id("receive").click()
        expect(page.get_by_test_id("form-error")).to_be_focused()
        violations = axe_violations(page)
        if violations:
            found["new with errors"] = violations
        shot(page, f"new-request-errors-{language}-{size}")
    finally:
        context.close()
    assert found == {}
    assert re.match(r"^INV-", invoice.number)
