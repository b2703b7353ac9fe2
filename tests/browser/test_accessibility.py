"""Every page passes axe-core (4.14.1, vendored in tests/browser/vendor) with no violation of any
impact — patron, desk, reports and admin pages, in Japanese and English, at 1280 and 390 px — and
the focus ring is clearly visible (issue 13)."""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WIDTHS = {"wide": {"width": 1280, "height": 900}, "narrow": {"width": 390, "height": 844}}


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as shown (run through the DevTools protocol, which the
    page's Content-Security-Policy does not govern)."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"][0] if n["target"] else "" for n in v["nodes"]][:8],
            "summary": [n.get("failureSummary", "")[:300] for n in v["nodes"]][:3],
        }
        for v in result["violations"]
    ]


@pytest.fixture
def audit(browser):
    """(open, report): open(language, width) gives a page; report(page, label) records violations."""
    contexts = []
    found: dict[str, list] = {}

    def open_page(language: str, width: str) -> Page:
        context = browser.new_context(
            locale="ja-JP" if language == "ja" else "en-GB", timezone_id="Asia/Tokyo", viewport=WIDTHS[width]
        )
        context.set_extra_http_headers({"Accept-Language": language})
        contexts.append(context)
        return context.new_page()

    def report(page: Page, label: str):
        violations = axe_violations(page)
        if violations:
            found[label] = violations

    yield open_page, report, found
    if os.environ.get("AXE_REPORT"):  # for working on the fixes: every test's findings in one file
        path = Path(os.environ["AXE_REPORT"])
        earlier = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        path.write_text(json.dumps({**earlier, **found}, ensure_ascii=False, indent=1), encoding="utf-8")
    for context in contexts:
        context.close()


def log_in(page: Page, base: str, username: str, password: str = "pw"):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")


def visit(page: Page, report, base: str, paths: list[str], tag: str):
    for path in paths:
        response = page.goto(base + path)
        assert response.status < 400, (path, response.status)
        report(page, f"{tag} {path}")


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("width", ["wide", "narrow"])
def test_the_patrons_pages_have_no_axe_violation(audit, live_server, undergraduate, lender, language, width):
    open_page, report, found = audit
    loan = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(4))
    page = open_page(language, width)
    visit(page, report, live_server.url, ["/accounts/login/"], f"{language}/{width}")
    log_in(page, live_server.url, "hanako")
    paths = ["/my/", "/my/requests/new/loan/", "/my/requests/new/copy/", f"/my/requests/{loan.number}/", "/my/profile/"]
    visit(page, report, live_server.url, paths, f"{language}/{width}")
    # a form sent back with its errors, and the confirmation step
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=pub_year]", "12")
    with page.expect_navigation():
        page.get_by_test_id("to-confirm").click()
    report(page, f"{language}/{width} loan form with errors")
    page.fill("input[name=title]", "パターン認識と機械学習")
    page.fill("input[name=pub_year]", "2012")
    page.fill("input[name=isbn]", "9784621061220")
    with page.expect_navigation():
        page.get_by_test_id("to-confirm").click()
    report(page, f"{language}/{width} confirmation")
    assert found == {}


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("width", ["wide", "narrow"])
def test_the_desk_pages_have_no_axe_violation(audit, live_server, staff_user, undergraduate, lender, language, width):
    open_page, report, found = audit
    request = f.RequestFactory(patron=undergraduate, title="情報検索の基礎")
    on_loan = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(9))
    f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=3)
    charged = f.CopyRequestFactory(patron=undergraduate, status="arrived", lender=lender)
    f.ChargeFactory(request=charged, total=490, computed_total=490)
    page = open_page(language, width)
    log_in(page, live_server.url, staff_user.username)
    paths = [
        "/desk/",
        "/desk/requests/",
        "/desk/requests/?q=情報",
        request.get_desk_url(),
        on_loan.get_desk_url(),
        charged.get_desk_url(),
        f"/desk/shipments/new/?lender={lender.pk}",
        "/desk/lenders/",
        "/desk/patrons/",
        f"/desk/patrons/{undergraduate.patron_number}/",
        f"/desk/patrons/{undergraduate.patron_number}/new/loan/",
        "/desk/emails/",
        "/desk/reports/charges/",
        f"/desk/requests/{on_loan.number}/slip/",
        f"/desk/requests/{on_loan.number}/band/",
    ]
    visit(page, report, live_server.url, paths, f"{language}/{width}")
    assert found == {}


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("width", ["wide", "narrow"])
def test_the_admin_pages_have_no_axe_violation(audit, live_server, admin_user, undergraduate, lender, language, width):
    open_page, report, found = audit
    request = f.RequestFactory(patron=undergraduate, lender=lender)
    f.LenderCandidateFactory(request=request, lender=lender)
    holding = f.LocalHoldingFactory()
    f.ChargeFactory(total=12_345)
    f.SupportBudgetFactory()
    page = open_page(language, width)
    log_in(page, live_server.url, admin_user.username, "password")
    paths = [
        "/admin/",
        "/admin/ill/request/",
        f"/admin/ill/request/{request.pk}/change/",
        "/admin/ill/lendinginstitution/",
        f"/admin/ill/lendinginstitution/{lender.pk}/change/",
        "/admin/ill/localholding/",
        f"/admin/ill/localholding/{holding.pk}/change/",
        "/admin/ill/localholding/import/",
        "/admin/fees/feeschedule/",
        f"/admin/fees/feeschedule/{lender.fee_schedule.pk}/change/",
        "/admin/fees/charge/",
        "/admin/fees/budgetcode/",
        "/admin/fees/supportbudget/",
        "/admin/patrons/patron/",
        f"/admin/patrons/patron/{undergraduate.pk}/change/",
        "/admin/patrons/patron/import/",
        "/admin/notifications/outboxmessage/",
    ]
    visit(page, report, live_server.url, paths, f"{language}/{width}")
    assert found == {}


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("width", ["wide", "narrow"])
def test_the_report_pages_have_no_axe_violation(audit, live_server, staff_user, undergraduate, lender, language, width):
    open_page, report, found = audit
    arrived = f.CopyRequestFactory(patron=undergraduate, status="arrived", lender=lender)
    f.ChargeFactory(request=arrived, total=490, computed_total=490)
    page = open_page(language, width)
    log_in(page, live_server.url, staff_user.username)
    paths = [
        "/desk/reports/",
        "/desk/reports/requests/",
        "/desk/reports/fill-rate/",
        "/desk/reports/turnaround/",
        "/desk/reports/charges/",
        "/desk/reports/support/",
        "/desk/reports/copyright/",
        "/desk/reports/survey/",
        "/desk/reports/nacsis/",
        "/desk/reports/offset/",
    ]
    visit(page, report, live_server.url, paths, f"{language}/{width}")
    assert found == {}
