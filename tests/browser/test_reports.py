"""The report pages in a real browser: every chart drawn by Chart.js with data, in Japanese and in
English, under the Content-Security-Policy (no violation), at desk and phone widths (no page-wide
horizontal scroll), and the CSV and .xlsx downloads.

With REPORT_SCREENSHOTS=<dir> the walk also saves a full-page screenshot of each page there."""

import io
import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports import exports
from tests.reports.test_pages import SECTIONS, report_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""
CHARTS = """
() => Array.from(document.querySelectorAll("canvas[data-chart]")).map((canvas) => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  return {
    id: canvas.dataset.chart,
    ready: canvas.dataset.chartReady === "1",
    datasets: chart ? chart.data.datasets.length : 0,
    points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0) : 0,
    width: canvas.getBoundingClientRect().width,
    height: canvas.getBoundingClientRect().height,
    label: canvas.getAttribute("aria-label"),
    table: document.getElementById(canvas.getAttribute("aria-describedby")) !== null,
  };
})
"""
PATHS = [reverse("reports:index"), *(reverse("reports:section", args=[s]) for s in SECTIONS)]
SHOTS = os.environ.get("REPORT_SCREENSHOTS")


@pytest.fixture
def data(db, undergraduate, lender, second_lender):
    return report_data(undergraduate, lender, second_lender)


def staff_page(browser, live_server, staff_user, login, language, width):
    context = browser.new_context(
        locale="ja-JP" if language == "ja" else "en-GB",
        timezone_id="Asia/Tokyo",
        viewport={"width": width, "height": 900},
        accept_downloads=True,
    )
    context.add_init_script(RECORDER)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    console = []
    # Script errors and warnings, and any file that did not load (the browser's own favicon.ico aside).
    page.on(
        "console",
        lambda m: (
            console.append(m.text)
            if m.type in ("error", "warning") and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: console.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.on("pageerror", lambda error: console.append(str(error)))
    login(page, staff_user.username)
    return context, page, console


@pytest.mark.parametrize(("language", "width"), [("ja", 1280), ("en", 1280), ("ja", 390), ("en", 390)])
def test_every_report_page_draws_its_charts_with_data(browser, live_server, staff_user, login, data, language, width):
    context, page, console = staff_page(browser, live_server, staff_user, login, language, width)
    try:
        for path in PATHS:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            assert page.evaluate("document.documentElement.lang") == language
            page.wait_for_function(
                "document.querySelectorAll('canvas[data-chart]:not([data-chart-ready])').length === 0"
            )
            charts = page.evaluate(CHARTS)
            assert charts, path
            for chart in charts:
                assert chart["ready"] and chart["datasets"] > 0 and chart["points"] > 0, (path, chart)
                assert chart["width"] > 100 and chart["height"] > 100, (path, chart)
                assert chart["label"] and chart["table"], (path, chart)
            # Only the tables scroll sideways, inside their wrapper; never the page.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (path, width)
            assert page.evaluate("window.__csp") == [], path
            if SHOTS:
                Path(SHOTS).mkdir(parents=True, exist_ok=True)
                name = re.sub(r"\W+", "_", path.strip("/")) or "index"
                page.screenshot(path=f"{SHOTS}/{language}_{width}_{name}.png", full_page=True)
        assert console == []
    finally:
        context.close()


def test_the_charts_speak_the_pages_language(browser, live_server, staff_user, login, data):
    for language, yen in (("ja", "円"), ("en", "¥")):
        context, page, _console = staff_page(browser, live_server, staff_user, login, language, 1280)
        try:
            page.goto(live_server.url + reverse("reports:section", args=["charge-totals"]))
            page.wait_for_function("document.querySelector('canvas[data-chart-ready]') !== null")
            tick = page.evaluate(
                """() => {
                  const chart = Chart.getChart(document.querySelector("canvas[data-chart]"));
                  return chart.options.scales.y.ticks.callback(12000);
                }"""
            )
            assert yen in tick and "12,000" in tick, (language, tick)
            assert page.evaluate("Chart.defaults.font.family").find("Noto Sans JP") > 0
            assert page.evaluate("Chart.defaults.animation") is False
        finally:
            context.close()


def test_the_csv_and_xlsx_download(browser, live_server, staff_user, login, data):
    context, page, _console = staff_page(browser, live_server, staff_user, login, "ja", 1280)
    try:
        page.goto(live_server.url + reverse("reports:section", args=["charge-totals"]) + "?month=4")
        table = page.locator("[data-table=charges-month]")
        with page.expect_download() as download_info:
            table.locator("[data-testid=export-csv]").click()
        download = download_info.value
        year = page.locator("#filter-year").input_value()
        assert download.suggested_filename == f"ill-report-fy{year}-04-charges-month.csv"
        text = Path(download.path()).read_bytes().decode("utf-8")
        assert text.startswith("\ufeff年月,")
        with page.expect_download() as download_info:
            table.locator("[data-testid=export-xlsx]").click()
        download = download_info.value
        assert download.suggested_filename == f"ill-report-fy{year}-04-charges-month.xlsx"
        sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0] == "年月"
        assert isinstance(rows[1][-1], int)
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()


def test_printing_keeps_the_tables_and_drops_the_nav_and_filters(browser, live_server, staff_user, login, data):
    context, page, _console = staff_page(browser, live_server, staff_user, login, "en", 1280)
    try:
        page.goto(live_server.url + reverse("reports:section", args=["requests"]))
        page.wait_for_function("document.querySelector('canvas[data-chart-ready]') !== null")
        page.emulate_media(media="print")
        hidden = page.evaluate(
            """() => ["nav.ill-navbar", ".report-nav", "[data-testid=report-filters]", "[data-testid=export-csv]"]
                 .map((s) => getComputedStyle(document.querySelector(s)).display)"""
        )
        assert hidden == ["none"] * 4
        assert page.locator("table#data-by-kind").is_visible()
        assert page.locator("canvas[data-chart]").first.is_visible()
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/print_en_requests.png", full_page=True)
    finally:
        context.close()


def test_an_xlsx_past_the_row_cap_shows_the_page_with_a_message(
    browser, live_server, staff_user, login, data, monkeypatch
):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    context, page, _console = staff_page(browser, live_server, staff_user, login, "en", 1280)
    try:
        page.goto(live_server.url + reverse("reports:section", args=["charge-totals"]))
        with page.expect_navigation():
            page.locator("[data-table=charges-month] [data-testid=export-xlsx]").click()
        assert page.url.endswith("#table-charges-month")
        assert "download it as CSV" in page.locator(".alert").inner_text()
    finally:
        context.close()
