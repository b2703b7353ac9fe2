"""The admin's holdings import in a browser (issue 12, finding 3): the upload is answered at once
with the job's page, whose script polls the status and moves the progress bar until the job is
done, then shows the report — no inline script, nothing the Content-Security-Policy blocks."""

import pytest
from playwright.sync_api import expect

from ill import holdings, tasks
from ill.models import HoldingsImport, LocalHolding
from tests.ill.test_holdings import CSV, GOOD_CSV

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.effectiveDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def admin_page(browser, live_server, admin_user, monkeypatch):
    """An administrator's page; the import task is held back (queued, as with a busy worker) so the
    test decides when the job runs."""
    queued: list[int] = []
    monkeypatch.setattr(tasks.import_holdings_task, "delay", queued.append)
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", admin_user.username)
    page.fill("input[name=password]", "password")
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    yield page, queued
    context.close()


def upload(page, base: str, name: str, data: bytes):
    page.goto(f"{base}/admin/ill/localholding/import/")
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    page.select_option("select[name=format]", "csv")
    with page.expect_navigation():
        page.click("input[type=submit].default")


def test_the_progress_bar_follows_the_job_to_done(admin_page, live_server):
    page, queued = admin_page
    upload(page, live_server.url, "holdings.csv", GOOD_CSV.encode())
    box = page.locator("#holdings-import")
    expect(box).to_have_attribute("data-state", "queued")
    expect(page.locator("progress[data-job-progress]")).to_be_visible()
    job = HoldingsImport.objects.get()
    assert queued == [job.pk] and LocalHolding.objects.count() == 0

    holdings.run_job(job.pk)  # the worker: the page's script sees it finish and reloads the page

    expect(box).to_have_attribute("data-state", "done", timeout=15_000)
    progress = page.locator("progress[data-job-progress]")
    expect(progress).to_have_attribute("value", "5")
    expect(progress).to_have_attribute("max", "5")
    expect(box).to_contain_text("4")
    assert page.locator("[data-job-refresh]").count() == 0
    assert LocalHolding.objects.count() == 4
    assert page.evaluate("window.__csp") == []


def test_a_bad_file_ends_with_the_list_of_its_bad_lines(admin_page, live_server):
    page, queued = admin_page
    upload(page, live_server.url, "bad.csv", CSV.encode())
    holdings.run_job(queued[0])
    expect(page.locator("#holdings-import")).to_have_attribute("data-state", "failed", timeout=15_000)
    rows = page.locator("#holdings-import-problems tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first.locator("td").first).to_have_text("6")
    assert LocalHolding.objects.count() == 0
