"""The Content-Security-Policy (no 'unsafe-inline') breaks nothing: a walk of the main pages as a
patron, as desk staff and as an administrator, with every `securitypolicyviolation` event and
every console message about the policy recorded, and the pages' scripts still doing their work
(the charges report's selects submit, the print button prints, the lender picker and the
admin's autocomplete and inlines open)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${where} ${e.sample}`);
});
window.__printed = 0;
window.print = () => { window.__printed += 1; };
"""


@pytest.fixture
def watched(browser):
    """A new browser context whose pages record policy violations; yields (new_page, problems)."""
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    context.add_init_script(RECORDER)
    console: list[str] = []
    about_policies = re.compile(r"Content.Security.Policy|Permissions.Policy")

    def new_page() -> Page:
        page = context.new_page()
        page.on("console", lambda m: console.append(m.text) if about_policies.search(m.text) else None)
        return page

    def problems(page: Page) -> list[str]:
        """What was reported since the last call (each message once)."""
        page.wait_for_load_state("load")
        page.wait_for_timeout(50)  # a violation event is queued as a task: let it fire
        found = page.evaluate("window.__csp.splice(0)") + sorted(set(console))
        console.clear()
        return found

    yield new_page, problems
    context.close()


def walk(page: Page, problems, base: str, paths: list[str]):
    problems(page)  # what the login left behind was the page after it: visited in the walk anyway
    found = {}
    for path in paths:
        response = page.goto(base + path)
        assert response.status < 400, (path, response.status)
        assert "'unsafe-inline'" not in response.headers["content-security-policy"], path
        if issues := problems(page):
            found[path] = issues
    return found


def log_in(page: Page, base: str, username: str, password: str = "pw"):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")


def test_the_patrons_pages_run_under_the_policy(watched, live_server, undergraduate, lender):
    new_page, problems = watched
    loan = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(4))
    page = new_page()
    assert walk(page, problems, live_server.url, ["/accounts/login/"]) == {}
    log_in(page, live_server.url, "hanako")
    found = walk(
        page,
        problems,
        live_server.url,
        [
            "/my/",
            "/my/requests/new/loan/",
            "/my/requests/new/copy/",
            f"/my/requests/{loan.number}/",
            "/my/profile/",
        ],
    )
    assert found == {}
    # A form sent back with its errors, the confirmation page, an OpenURL link's pre-filled form.
    page.goto(f"{live_server.url}/my/requests/new/loan/")
    page.fill("input[name=pub_year]", "12")
    with page.expect_navigation():
        page.get_by_test_id("to-confirm").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    if issues := problems(page):
        found["form with errors"] = issues
    page.fill("input[name=title]", "パターン認識と機械学習")
    page.fill("input[name=pub_year]", "2012")
    page.fill("input[name=isbn]", "9784621061220")
    with page.expect_navigation():
        page.get_by_test_id("to-confirm").click()
    expect(page.get_by_test_id("submit-request")).to_be_visible()
    if issues := problems(page):
        found["confirmation"] = issues
    page.goto(f"{live_server.url}/openurl?genre=article&atitle=DNA&title=Nature&issn=0028-0836&spage=737")
    expect(page.locator("input[name=article_title]")).to_have_value("DNA")
    if issues := problems(page):
        found["openurl"] = issues
    assert found == {}

    page.goto(f"{live_server.url}/my/")
    meter = page.get_by_test_id("loan-meter")
    expect(meter).to_have_attribute("value", "1")
    assert meter.bounding_box()["width"] > 100  # drawn by the stylesheet, no inline width
    page.locator(".navbar .dropdown-toggle").click()  # Bootstrap's dropdown (Popper) still opens
    expect(page.locator(".dropdown-menu")).to_be_visible()
    if issues := problems(page):
        found["dropdown"] = issues
    assert found == {}


def test_the_desk_pages_and_their_scripts_run_under_the_policy(watched, live_server, staff_user, undergraduate, lender):
    new_page, problems = watched
    request = f.RequestFactory(patron=undergraduate, title="情報検索の基礎")
    on_loan = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(9))
    f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=3)
    charged = f.CopyRequestFactory(patron=undergraduate, status="arrived", lender=lender)
    f.ChargeFactory(request=charged, total=490, computed_total=490)
    page = new_page()
    log_in(page, live_server.url, staff_user.username)
    found = walk(
        page,
        problems,
        live_server.url,
        [
            "/desk/",
            "/desk/requests/",
            request.get_desk_url(),
            on_loan.get_desk_url(),
            f"/desk/shipments/new/?lender={lender.pk}",
            "/desk/lenders/",
            "/desk/patrons/",
            f"/desk/patrons/{undergraduate.patron_number}/",
            f"/desk/patrons/{undergraduate.patron_number}/new/loan/",
            "/desk/emails/",
            "/desk/reports/charges/",
            f"/desk/requests/{on_loan.number}/slip/",
            f"/desk/requests/{on_loan.number}/band/",
        ],
    )
    assert found == {}

    # The lender picker (Tom Select) still opens its list.
    page.goto(f"{live_server.url}{request.get_desk_url()}")
    box = page.get_by_role("combobox", name="依頼先1")
    box.focus()
    expect(page.locator("#id_order_lender_1-ts-dropdown").get_by_role("option").first).to_be_visible()
    if issues := problems(page):
        found["lender picker"] = issues

    # The charges report's selects submit their form on change (no inline onchange any more).
    page.goto(f"{live_server.url}/desk/reports/charges/")
    year = page.locator("select[name=year]")
    other_year = year.locator("option").nth(1).get_attribute("value")
    with page.expect_navigation():
        year.select_option(other_year)
    assert f"year={other_year}" in page.url
    month = page.locator("select[name=month]")
    other_month = month.locator("option").nth(2).get_attribute("value")
    with page.expect_navigation():
        month.select_option(other_month)
    assert f"month={other_month}" in page.url and f"year={other_year}" in page.url
    if issues := problems(page):
        found["charges report selects"] = issues

    # The print button prints (window.print is stubbed by the recorder).
    page.goto(f"{live_server.url}/desk/requests/{on_loan.number}/slip/")
    page.get_by_role("button", name="印刷").click()
    assert page.evaluate("window.__printed") == 1
    if issues := problems(page):
        found["print"] = issues
    assert found == {}


def test_the_admin_pages_run_under_the_policy(watched, live_server, admin_user, undergraduate, lender):
    new_page, problems = watched
    request = f.RequestFactory(patron=undergraduate, lender=lender)
    f.LenderCandidateFactory(request=request, lender=lender)
    holding = f.LocalHoldingFactory()
    page = new_page()
    log_in(page, live_server.url, admin_user.username, "password")
    paths = [
        "/admin/",
        "/admin/ill/request/",
        "/admin/ill/request/?lender_code=TOTO",
        f"/admin/ill/request/{request.pk}/change/",
        "/admin/ill/localholding/",
        f"/admin/ill/localholding/{holding.pk}/change/",
        "/admin/ill/localholding/add/",
        "/admin/ill/localholding/import/",
        "/admin/fees/feeschedule/",
        "/admin/fees/feeschedule/add/",
        "/admin/fees/charge/",
        "/admin/patrons/patron/",
        f"/admin/patrons/patron/{undergraduate.pk}/change/",
        "/admin/auth/user/",
        f"/admin/auth/user/{admin_user.pk}/change/",
        f"/admin/fees/feeschedule/{lender.fee_schedule.pk}/change/",  # the seed example preview
    ]
    found = walk(page, problems, live_server.url, paths)
    assert found == {}

    # The change form's autocomplete (select2) and an inline's "add another" row.
    page.goto(f"{live_server.url}/admin/ill/request/{request.pk}/change/")
    page.locator(".field-patron .select2-selection").click()
    expect(page.locator(".select2-results__option").first).to_be_visible()
    page.keyboard.press("Escape")
    page.goto(f"{live_server.url}/admin/ill/localholding/add/")
    rows = page.locator(".inline-related tbody tr.form-row:not(.empty-form)")
    before = rows.count()
    page.locator(".add-row a").filter(visible=True).first.click()
    expect(rows).to_have_count(before + 1)
    if issues := problems(page):
        found["admin widgets"] = issues
    assert found == {}


def test_the_recorder_sees_what_the_policy_blocks(watched, live_server):
    """The walk above would catch an inline style, handler or script: here is one of each."""
    new_page, problems = watched
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => {
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p><img src="x:" onerror="1">');
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.append(script);
    }"""
    )
    found = problems(page)
    assert page.evaluate("window.__ran") is None
    assert any(line.startswith("style-src-attr blocked inline") for line in found), found
    assert any(line.startswith("script-src-elem blocked inline") for line in found), found
