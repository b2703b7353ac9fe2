"""A day at the ILL counter, in a browser: a patron's request is checked and ordered with two
candidate lenders, the first cannot supply it, it arrives from the second, is handed over,
returned and sent back; meanwhile the home page's worklists follow."""

import pytest
from playwright.sync_api import expect

from ill.models import Request
from tests import factories as f
from tests.browser.conftest import open_action, submit_action
from tests.browser.pickers import choose_lender

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_counter_day(desk_page, live_server, doctoral, public_code, lender, second_lender):
    request = f.RequestFactory(
        patron=doctoral,
        title="The Art of Computer Programming",
        isbn="9780201896831",
        expense_type="public",
        budget_code=public_code,
    )
    desk = desk_page
    desk.goto(f"{live_server.url}/desk/")
    expect(desk.locator("[data-count=review]")).to_have_text("1")
    desk.locator("[data-worklist=review]").click()
    desk.get_by_role("link", name=request.number).click()

    # Check the citation, then order with two candidates.
    open_action(desk, "review")
    submit_action(desk, "review")
    choose_lender(desk.locator("[data-action=order]"), "lender_1", lender)
    choose_lender(desk.locator("[data-action=order]"), "lender_2", second_lender, typed=second_lender.name[:4])
    desk.fill("[data-action=order] input[name=lender_reference]", "NACSIS-0001")
    submit_action(desk, "order")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "ordered")
    expect(desk.get_by_test_id("candidates")).to_contain_text(lender.name)

    # The first lender cannot supply it: the second is asked at once.
    unfilled_form = open_action(desk, "mark_unfilled")
    unfilled_form.locator("select[name=reason]").select_option("not_for_loan")
    unfilled_form.locator("textarea[name=note]").fill("貸出不可(貴重書扱い)")
    submit_action(desk, "mark_unfilled")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "ordered")
    request.refresh_from_db()
    assert request.lender == second_lender

    # It arrives from the second, through the arrivals page.
    desk.goto(f"{live_server.url}/desk/shipments/new/?lender={second_lender.pk}")
    desk.locator(f"tr[data-number='{request.number}'] input[type=checkbox]").check()
    desk.fill("input[name=lender_due_date]", f.future(21).isoformat())
    desk.get_by_test_id("record-shipment").click()
    desk.goto(f"{live_server.url}/desk/requests/{request.number}/")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "arrived")

    # Public expense: nothing to pay; hand over, take back with the postal bar code, send back.
    submit_action(desk, "hand_over")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "on_loan")
    desk.goto(f"{live_server.url}/desk/")
    expect(desk.locator("[data-count=review]")).to_have_text("0")
    desk.goto(f"{live_server.url}/desk/requests/{request.number}/")
    desk.check("[data-action=return_by_patron] input[name=postal_barcode]")
    submit_action(desk, "return_by_patron")
    desk.goto(f"{live_server.url}/desk/")
    expect(desk.locator("[data-count=send_back]")).to_have_text("1")
    desk.locator("[data-worklist=send_back]").click()
    desk.locator(f"tr[data-number='{request.number}'] input[name=selected]").check()
    desk.select_option("#bulk-action", "send_back")
    desk.get_by_test_id("bulk-submit").click()
    desk.wait_for_load_state()

    request.refresh_from_db()
    assert (request.status, request.close_reason) == ("closed", "sent_back")
    actions = list(request.events.values_list("action", flat=True))
    assert actions == [
        "reviewed",
        "order",
        "mark_unfilled",
        "order",
        "record_arrival",
        "hand_over",
        "return_postage",
        "return_by_patron",
        "send_back",
    ]
    assert Request.objects.get(pk=request.pk).charge.payment_class == "public"
