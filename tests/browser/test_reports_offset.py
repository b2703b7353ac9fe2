"""The accounting office's month in a browser (issue 11, item 2): a librarian downloads the NACSIS-ILL
charge lines as CSV, imports the fee-offset statement, sees what does not match first and marks one
line resolved — with nothing the Content-Security-Policy blocks."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import OffsetLine
from tests.browser.conftest import f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = Path(__file__).parent.parent / "reports" / "data" / "offset_statement_2026-11.csv"
NOV = timezone.make_aware(datetime.datetime(2026, 11, 3, 14, 0))
RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.effectiveDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def librarian(browser, live_server, staff_user, login, settings):
    settings.NACSIS_PARTICIPANT_ID = "FA001234"
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True)
    context.add_init_script(RECORDER)
    page = context.new_page()
    login(page, staff_user.username)
    yield page
    context.close()


def charge(lender, ill_id, total, postage):
    request = f.RequestFactory(status="arrived", lender=lender, nacsis_ill_id=ill_id)
    return f.ChargeFactory(request=request, total=total, postage=postage, created_at=NOV)


def test_download_the_nacsis_csv_import_the_statement_resolve_a_mismatch(librarian, live_server):
    toto = f.LendingInstitutionFactory(name="東都大学附属図書館", nacsis_participant_id="FA004321")
    matched = charge(toto, "FA26000001AA", 385, 140)
    differs = charge(toto, "FA26000002AA", 1400, 140)
    page = librarian

    page.goto(f"{live_server.url}/desk/reports/nacsis/?year=2026&month=11")
    table = page.locator("#table-nacsis")
    expect(table).to_contain_text("FA26000001AA")
    expect(table).to_contain_text(differs.request.number)
    with page.expect_download() as download:
        table.get_by_test_id("export-csv").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert content.startswith("\ufeff")
    assert "FA26000001AA" in content and matched.request.number in content and ",385," in content

    page.goto(f"{live_server.url}/desk/reports/offset/")
    page.set_input_files(
        "input[name=file]", files=[{"name": SAMPLE.name, "mimeType": "text/csv", "buffer": SAMPLE.read_bytes()}]
    )
    with page.expect_navigation():
        page.get_by_test_id("offset-upload").locator("button[type=submit]").click()
    lines = page.get_by_test_id("offset-line")
    expect(lines.first).to_have_attribute("data-outcome", "amount")  # what does not match comes first
    amount = page.locator("tr[data-outcome=amount]")
    expect(amount).to_contain_text("FA26000002AA")
    expect(amount.get_by_role("link", name=differs.request.number)).to_have_attribute(
        "href", differs.request.get_desk_url()
    )
    expect(page.locator("tr[data-outcome=matched]")).to_contain_text("FA26000001AA")

    amount.locator("input[name=note]").fill("請求額を東都大学に確認済み")
    with page.expect_navigation():
        amount.get_by_test_id("resolve-form").locator("button[type=submit]").click()
    expect(page.locator("tr[data-outcome=amount]").get_by_test_id("resolved")).to_contain_text(
        "請求額を東都大学に確認済み"
    )
    line = OffsetLine.objects.get(ill_id="FA26000002AA")
    assert line.resolved_at is not None and line.resolution == "請求額を東都大学に確認済み"

    page.get_by_test_id("outcome-filter").locator("a[data-outcome=only_statement]").click()
    expect(page.get_by_test_id("offset-line")).to_have_count(3)  # lines 3, 4 and 5: no request here has them
    expect(page.get_by_test_id("offset-lines")).to_contain_text("FA26000099ZZ")
    assert page.evaluate("window.__csp") == []
