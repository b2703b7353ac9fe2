"""The copyright log and the annual survey in a browser: a patron is refused by the half-of-a-work
rule, then staff open the log and see the refusal counted (and charted); the survey page shows its
figures and downloads the CSV."""

import csv
import datetime
import io

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fees.models import current_fiscal_year
from ill.models import Request, RuleRefusal
from reports import rollup
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_half_of_a_work_refusal_is_counted_in_the_copyright_log(page, login, live_server, undergraduate, desk_page):
    login(page, "hanako")
    page.goto(f"{live_server.url}/my/requests/new/copy/")
    page.select_option("select[name=material_type]", "chapter")
    page.fill("input[name=article_title]", "第3章 知覚の現象学")
    page.fill("input[name=title]", "知覚の哲学")
    page.fill("input[name=page_count]", "60")
    page.fill("input[name=work_total_pages]", "100")
    page.check("input[name=copyright_accepted]")
    page.get_by_test_id("to-confirm").click()
    expect(page.get_by_test_id("refusals").locator("[data-rule=copyright_half]")).to_be_visible()
    # tried again at once: still refused, still one refusal of the day
    page.get_by_test_id("to-confirm").click()
    expect(page.get_by_test_id("refusals").locator("[data-rule=copyright_half]")).to_be_visible()
    assert not Request.objects.exists()
    assert list(RuleRefusal.objects.values_list("rule", flat=True)) == ["copyright_half"]

    desk = desk_page
    desk.goto(f"{live_server.url}/desk/reports/copyright/?year={current_fiscal_year()}")
    table = desk.locator("#data-copyright-refusals")
    half = table.locator("tbody tr").nth(6)  # the rules in their order: the half rule is the seventh
    expect(half.locator("td").nth(2)).to_have_text("1")  # refusals, total
    expect(table.locator("tfoot td").nth(2)).to_have_text("1")
    canvas = desk.locator("#table-copyright-refusals canvas[data-testid=report-chart]")
    expect(canvas).to_be_visible()
    desk.wait_for_function(
        "document.querySelector('#table-copyright-refusals canvas').width > 0"
        " && window.Chart && Chart.getChart(document.querySelector('#table-copyright-refusals canvas'))"
    )
    drawn = desk.evaluate(
        "Chart.getChart(document.querySelector('#table-copyright-refusals canvas')).data.datasets[0].data"
    )
    assert drawn[6] == 1 and sum(drawn) == 1


def test_the_survey_page_shows_the_figures_and_downloads_the_csv(desk_page, live_server, lender):
    year = current_fiscal_year()
    ordered = timezone.now() - datetime.timedelta(hours=2)
    request = f.RequestFactory(
        kind="copy", material_type="article", status="arrived", lender=lender, ordered_at=ordered, arrived_at=ordered
    )
    f.LenderCandidateFactory(request=request, lender=lender, ordered_at=ordered, state="filled")
    rollup.refresh(rebuild=True)
    desk = desk_page
    desk.goto(f"{live_server.url}/desk/reports/survey/?year={year}")
    rows = desk.locator("#data-survey-borrowing tbody tr")
    expect(rows.first.locator("td").nth(1)).to_have_text("1")  # copies requested, sent, domestic
    expect(rows.first.locator("td").nth(3)).to_have_text("1")  # … total
    expect(desk.locator("#data-survey-lending tbody tr").first).to_be_visible()  # the lending side, counted now
    expect(desk.locator("#table-survey-borrowing canvas[data-testid=report-chart]")).to_be_visible()
    with desk.expect_download() as download_info:
        desk.locator("#table-survey-borrowing [data-testid=export-csv]").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-survey-borrowing.csv")
    with open(download.path(), "rb") as file:
        body = file.read()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[1][2:5] == ["1", "0", "1"]
