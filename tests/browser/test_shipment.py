"""Staff record a two-item shipment priced like seed 004 example 2 and the patron sees 1,400 yen
split across the two requests."""

import pytest
from playwright.sync_api import expect

from fees.models import Charge
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_two_item_shipment_priced_like_seed_example_2(page, desk_page, live_server, login, undergraduate):
    # Seed 004 example 2: mono 50, colour 200, handling 200 an item, bank transfer 210, postage 140.
    lender = f.FeeScheduleFactory(
        lender__name="海洋科学研究所 図書室",
        lender__kind="jp_research",
        lender__is_offset_participant=False,
        lender__accepts_public_expense=False,
        mono_price=50,
        colour_price=200,
        handling_fee_per_item=200,
        bank_transfer_fee=210,
        postage_per_shipment=140,
    ).lender
    first = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=3, colour_pages=0)
    second = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=4, colour_pages=2)

    desk = desk_page
    desk.goto(f"{live_server.url}/desk/shipments/new/?lender={lender.pk}")
    for number in (first.number, second.number):
        desk.locator(f"tr[data-number='{number}'] input[type=checkbox]").check()
    desk.get_by_test_id("preview-shipment").click()
    expect(desk.get_by_test_id("shipment-total")).to_have_text("1,400円")
    desk.get_by_test_id("record-shipment").click()
    desk.wait_for_load_state()

    charges = {c.request_id: c.total for c in Charge.objects.all()}
    assert charges == {first.pk: 525, second.pk: 875}
    assert sum(charges.values()) == 1400

    login(page, "hanako")
    page.goto(f"{live_server.url}/my/")
    expect(page.get_by_test_id("to-pay")).to_have_text("1,400円")
    page.goto(f"{live_server.url}/my/requests/{first.number}/")
    expect(page.get_by_test_id("charge-total")).to_have_text("525円")
    page.goto(f"{live_server.url}/my/requests/{second.number}/")
    expect(page.get_by_test_id("charge-total")).to_have_text("875円")
