"""The foundation's one real path, in a browser: a patron asks for a book, staff order it, record
its arrival (the patron is e-mailed), take payment, hand it over, take it back and close it; the
patron sees every step."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from ill.models import Request
from tests import factories as f
from tests.browser.conftest import submit_action
from tests.browser.pickers import choose_lender

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_loan_from_request_to_closing(page, desk_page, live_server, login, undergraduate, lender):
    # The patron asks for a book.
    login(page, "hanako")
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=title]", "統計的学習の基礎")
    page.fill("input[name=author]", "Hastie, Trevor")
    page.fill("input[name=isbn]", "978-4-320-12362-5")
    page.get_by_test_id("to-confirm").click()
    expect(page.get_by_test_id("confirm-title")).to_contain_text("統計的学習の基礎")
    page.get_by_test_id("submit-request").click()
    page.wait_for_load_state()
    request = Request.objects.get()
    assert request.isbn == "9784320123625"
    expect(page).to_have_url(re.compile(rf"/my/requests/{request.number}/$"))
    expect(page.get_by_test_id("patron-status")).to_be_visible()
    page.goto(f"{live_server.url}/my/")
    expect(page.get_by_text("統計的学習の基礎")).to_be_visible()

    # Staff find it in the queue and order it.
    desk = desk_page
    desk.goto(f"{live_server.url}/desk/")
    expect(desk.locator("[data-count=review]")).to_have_text("1")
    desk.locator("[data-worklist=review]").click()
    desk.get_by_role("link", name=request.number).click()
    choose_lender(desk.locator("[data-action=order]"), "lender_1", lender)
    desk.fill("[data-action=order] input[name=lender_reference]", "TOTO-2026-0042")
    submit_action(desk, "order")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "ordered")

    # It arrives: the charge is computed and the patron is e-mailed.
    desk.fill("[data-action=record_arrival] input[name=lender_due_date]", f.future(21).isoformat())
    mail.outbox.clear()
    submit_action(desk, "record_arrival")
    expect(desk.get_by_test_id("desk-charge-total")).to_have_text("1,600円")
    assert len(mail.outbox) == 1
    assert request.number in mail.outbox[0].subject
    body = mail.outbox[0].body
    assert "800円 を現金" in body  # outbound postage in cash (seed 004) ...
    assert "切手 800円分" in body  # ... and the return postage in stamps

    # Cash at the counter, then hand-over, return and send-back.
    desk.fill("[data-action=payment] input[name=amount]", "800")
    desk.fill("[data-action=payment] input[name=receipt_number]", "R-0001")
    submit_action(desk, "payment")
    submit_action(desk, "hand_over")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "on_loan")
    desk.fill("[data-action=return_by_patron] input[name=stamps_amount]", "800")
    submit_action(desk, "return_by_patron")
    submit_action(desk, "send_back")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "closed")

    # The patron sees every step.
    page.goto(f"{live_server.url}/my/requests/{request.number}/")
    history = page.get_by_test_id("history").locator("li")
    expect(history).to_have_count(8)  # submitted, ordered, arrived, paid, on loan, stamps, returned, closed
