"""The registrar import in a browser (issue 13): upload → the check's progress bar → the preview
with its counts → apply → the apply's progress → the result, each step's page rendered by the
server after the script saw the job move on; nothing the Content-Security-Policy blocks."""

import pytest
from playwright.sync_api import expect

from patrons import registrar, tasks
from patrons.models import Patron, PatronImport
from tests import factories as f
from tests.browser.test_accessibility import axe_violations
from tests.patrons.test_registrar import GOOD

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
    monkeypatch.setattr(tasks.import_patrons_task, "delay", queued.append)
    context = browser.new_context(locale="en-GB", timezone_id="Asia/Tokyo")
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", admin_user.username)
    page.fill("input[name=password]", "password")
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    yield page, queued
    context.close()


@pytest.fixture
def library(db):
    f.BranchFactory(code="central")
    f.BranchFactory(code="medical", name="医学図書館", name_en="Medical Library")
    f.LaboratoryFactory(name="情報工学研究室", name_en="Information Engineering Lab", code="info")


def test_upload_preview_apply_progress_result(admin_page, live_server, library):
    page, queued = admin_page
    page.goto(f"{live_server.url}/admin/patrons/patron/")
    with page.expect_navigation():
        page.click("text=Import from the registrar")
    page.set_input_files(
        "input[name=file]", files=[{"name": "registrar.csv", "mimeType": "text/csv", "buffer": GOOD.encode("cp932")}]
    )
    page.check("input[name=complete]")
    with page.expect_navigation():
        page.click("input[type=submit].default")

    box = page.locator("#patron-import")
    expect(box).to_have_attribute("data-state", "queued")
    expect(page.locator("progress[data-job-progress]")).to_be_visible()
    job = PatronImport.objects.get()
    assert queued == [job.pk] and job.complete

    registrar.run_job(job.pk)  # the worker checks the file: the script sees it and reloads the page
    expect(box).to_have_attribute("data-state", "ready", timeout=15_000)
    expect(page.locator('#patron-import-counts [data-count="new"]')).to_have_text("3")
    expect(page.locator('#patron-import-counts [data-count="leaving"]')).to_have_text("0")
    expect(page.locator('.patron-import-samples[data-kind="new"] tbody tr')).to_have_count(3)
    assert Patron.objects.count() == 0  # a preview writes nothing
    assert axe_violations(page) == []

    with page.expect_navigation():
        page.click("button[value=apply]")
    expect(box).to_have_attribute("data-state", "queued")
    expect(box).to_have_attribute("data-mode", "apply")
    assert queued == [job.pk, job.pk]

    registrar.run_job(job.pk)  # the worker applies it
    expect(box).to_have_attribute("data-state", "done", timeout=15_000)
    progress = page.locator("progress[data-job-progress]")
    expect(progress).to_have_attribute("value", progress.get_attribute("max"))
    expect(page.locator('#patron-import-counts [data-count="new"]')).to_have_text("3")
    expect(page.locator("text=See the patrons")).to_be_visible()
    assert page.locator("button[value=apply]").count() == 0
    assert Patron.objects.count() == 3
    assert axe_violations(page) == []
    assert page.evaluate("window.__csp") == []


def test_a_bad_file_shows_its_lines_and_no_apply_button(admin_page, live_server, library):
    page, queued = admin_page
    page.goto(f"{live_server.url}/admin/patrons/patron/import/")
    bad = GOOD + "X1,Someone,,x@example.ac.jp,alien,,central\n"
    page.set_input_files(
        "input[name=file]", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    with page.expect_navigation():
        page.click("input[type=submit].default")
    registrar.run_job(queued[0])
    expect(page.locator("#patron-import")).to_have_attribute("data-state", "failed", timeout=15_000)
    rows = page.locator("#patron-import-problems tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").first).to_have_text("5")
    assert page.locator("button[value=apply]").count() == 0 and Patron.objects.count() == 0
    assert axe_violations(page) == []
    assert page.evaluate("window.__csp") == []
