"""The lending report page (/desk/reports/lending/) and the survey's lending side in a real browser: every
chart drawn with data under the Content-Security-Policy, no page-wide horizontal scroll at 390 px, no
axe-core violation in Japanese and English at 1280 and 390 px, and the CSV download.

With REPORT_SCREENSHOTS=<dir> it also saves a full-page screenshot of each page there."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from tests.browser.test_accessibility import axe_violations
from tests.browser.test_reports import CHARTS, staff_page
from tests.reports import test_lending_figures

# The known-answer data set of the lending figures' tests (FY2026), as fixtures here.
borrowers = test_lending_figures.borrowers
year_of_lending = test_lending_figures.year_of_lending

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("REPORT_SCREENSHOTS")
PAGES = [reverse("reports:lending") + "?year=2026", reverse("reports:survey") + "?year=2026"]


@pytest.mark.parametrize(("language", "width"), [("ja", 1280), ("en", 1280), ("ja", 390), ("en", 390)])
def test_the_lending_page_draws_its_charts_and_has_no_axe_violation(
    browser, live_server, staff_user, login, year_of_lending, language, width
):
    context, page, console = staff_page(browser, live_server, staff_user, login, language, width)
    try:
        for path in PAGES:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            page.wait_for_function(
                "document.querySelectorAll('canvas[data-chart]:not([data-chart-ready])').length === 0"
            )
            charts = page.evaluate(CHARTS)
            assert charts, path
            for chart in charts:
                assert chart["ready"] and chart["datasets"] > 0 and chart["points"] > 0, (path, chart)
                assert chart["width"] > 100 and chart["height"] > 100, (path, chart)
                assert chart["label"] and chart["table"], (path, chart)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (path, width)
            assert page.evaluate("window.__csp") == [], path
            assert axe_violations(page) == [], (path, language, width)
            if SHOTS:
                Path(SHOTS).mkdir(parents=True, exist_ok=True)
                name = "lending" if "lending" in path else "survey"
                page.screenshot(path=f"{SHOTS}/{language}_{width}_{name}.png", full_page=True)
        # the lending page's lists link each request to the lending desk
        page.goto(live_server.url + PAGES[0])
        link = page.locator("[data-table=lending-copyright-overrides] tbody a").first
        assert link.get_attribute("href") == reverse("lending:request", args=[year_of_lending[7].number])
        assert console == []
    finally:
        context.close()


def test_the_lending_csv_downloads(browser, live_server, staff_user, login, year_of_lending):
    context, page, _console = staff_page(browser, live_server, staff_user, login, "ja", 1280)
    try:
        page.goto(live_server.url + PAGES[0])
        with page.expect_download() as download_info:
            page.locator("[data-table=lending-received] [data-testid=export-csv]").click()
        download = download_info.value
        assert download.suggested_filename == "ill-lending-fy2026-lending-received.csv"
        text = Path(download.path()).read_bytes().decode("utf-8")
        assert text.startswith("\ufeff") and text.strip().splitlines()[-1].endswith(",4,4,8")
    finally:
        context.close()
