"""Choosing a lender in a browser: with JavaScript by typing part of its name into the picker and
choosing it with the keyboard; without JavaScript by typing its code (a wrong code is explained)."""

import re

import pytest
from playwright.sync_api import expect

from ill.models import Request
from tests import factories as f
from tests.browser.conftest import submit_action
from tests.browser.pickers import choose_lender, settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_choosing_a_lender_with_the_picker_and_ordering(desk_page, live_server, undergraduate, lender, second_lender):
    for n in range(30):
        f.FeeScheduleFactory(lender__name=f"候補大学 {n}")
    request = f.RequestFactory(patron=undergraduate, title="情報検索の基礎")
    desk = desk_page
    desk.goto(f"{live_server.url}{request.get_desk_url()}")
    order = desk.locator("[data-action=order]")

    # The label names the combobox; help and focus are the input's.
    box = desk.get_by_role("combobox", name="依頼先1")
    expect(box).to_have_attribute("aria-describedby", "id_order_lender_1_helptext")
    box.focus()
    expect(desk.locator("#id_order_lender_1-ts-dropdown").get_by_role("option").first).to_be_visible()
    assert desk.locator("#id_order_lender_1-ts-dropdown").get_by_role("option").count() == 20  # the best, bounded

    # Part of the name finds it, with its estimate; the keyboard chooses it.
    box.press_sequentially("西海", delay=30)
    settled(order, "lender_1")
    option = desk.locator("#id_order_lender_1-ts-dropdown").get_by_role("option", name=re.compile(second_lender.code))
    expect(option).to_contain_text("1,600円")
    expect(desk.locator("#id_order_lender_1-ts-dropdown").get_by_role("option")).to_have_count(1)
    if option.get_attribute("aria-selected") != "true":
        box.press("ArrowDown")
    box.press("Enter")
    expect(order.locator("input[name=lender_1]")).to_have_value(second_lender.code)
    expect(order.locator(".ts-wrapper").first).to_contain_text(second_lender.name)

    choose_lender(order, "lender_2", lender, typed="東都")
    submit_action(desk, "order")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "ordered")
    request.refresh_from_db()
    assert (request.status, request.lender) == (Request.Status.ORDERED, second_lender)
    assert list(request.candidates.values_list("lender", flat=True)) == [second_lender.pk, lender.pk]


def test_without_javascript_the_lender_is_a_code(browser, live_server, login, staff_user, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate)
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", java_script_enabled=False)
    desk = context.new_page()
    login(desk, staff_user.username)
    desk.goto(f"{live_server.url}{request.get_desk_url()}")
    field = desk.locator("[data-action=order] input[name=lender_1]")
    expect(field).to_be_visible()
    expect(field).to_have_attribute("list", f"lenders-for-{request.number}")

    field.fill("no-such")
    submit_action(desk, "order")
    expect(desk.locator("#id_order_lender_1_error")).to_contain_text("no-such")
    expect(desk.locator("[data-action=order] input[name=lender_1]")).to_have_attribute("aria-invalid", "true")

    desk.locator("[data-action=order] input[name=lender_1]").fill(lender.code.lower())
    submit_action(desk, "order")
    expect(desk.get_by_test_id("desk-status")).to_have_attribute("data-status", "ordered")
    request.refresh_from_db()
    assert request.lender == lender
    context.close()
