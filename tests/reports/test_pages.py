"""The report pages (/desk/reports/…): who may see them, the filters, bad parameters, what a Table
renders as (chart data, accessible canvas, the same figures as a table, numbers in the language)."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.urls import resolve, reverse
from django.utils import timezone, translation

from fees import views as fees_views
from fees.models import current_fiscal_year
from ill.models import LenderCandidate, Request
from reports import figures, rollup, views
from reports.tables import COUNT, DATE, DAYS, PERCENT, TEXT, YEN, Chart, Column, Scope, Table
from tests import factories as f

pytestmark = pytest.mark.django_db

SECTIONS = ["requests", "fill-rate", "turnaround", "charge-totals", "support"]
INDEX = reverse("reports:index")


def section_url(section):
    return reverse("reports:section", args=[section])


def report_data(patron, lender, second_lender):
    """A few requests of this fiscal year: loans and copies, arrived from two lenders (one after an
    unfilled order), charged to the patron, and one waiting — enough for every chart to have data."""
    now = timezone.now()
    year = current_fiscal_year()
    f.SupportBudgetFactory(fiscal_year=year, total=100000)
    start = timezone.make_aware(datetime.datetime(year, 4, 3, 10))
    made = []
    for n in range(6):
        submitted = min(start + datetime.timedelta(days=25 * n), now - datetime.timedelta(days=3))
        factory = f.CopyRequestFactory if n % 2 else f.RequestFactory
        supplier = lender if n % 3 else second_lender
        request = factory(
            patron=patron,
            status=Request.Status.ARRIVED,
            lender=supplier,
            submitted_at=submitted,
            ordered_at=submitted + datetime.timedelta(days=1),
            arrived_at=submitted + datetime.timedelta(days=2 + n),
            shipping_method=Request.Delivery.MAIL,
        )
        if n == 4:
            f.LenderCandidateFactory(
                request=request,
                position=1,
                lender=lender if supplier != lender else second_lender,
                state=LenderCandidate.State.UNFILLED,
                unfilled_reason=LenderCandidate.UnfilledReason.ON_LOAN,
                ordered_at=submitted,
                answered_at=submitted + datetime.timedelta(hours=5),
            )
        f.LenderCandidateFactory(
            request=request,
            position=2 if n == 4 else 1,
            lender=supplier,
            state=LenderCandidate.State.FILLED,
            ordered_at=submitted + datetime.timedelta(days=1),
            answered_at=submitted + datetime.timedelta(days=2 + n),
        )
        f.ChargeFactory(request=request, total=1400 + 100 * n, copy_fee=600, postage=140)
        made.append(request)
    f.RequestFactory(patron=patron)  # still waiting
    rollup.refresh(rebuild=True)  # more months than a page refreshes itself
    return made


def sample_table(slug="sample", title="Sample figures"):
    return Table(
        slug=slug,
        title=title,
        columns=[
            Column("lender", "Lender", TEXT),
            Column("count", "Requests", COUNT),
            Column("yen", "Charges", YEN),
            Column("rate", "Fill rate", PERCENT),
            Column("days", "Median days", DAYS),
            Column("day", "First", DATE),
        ],
        rows=[
            ["Toto", 1234, 1400, 45.25, 3.46, datetime.date(2026, 4, 1)],
            ["Saikai", 5, 0, None, None, None],
        ],
        chart=Chart("bar", ["Toto", "Saikai"], [("Requests", [1234, 5])]),
        note="Supplied over ordered.",
        footer=["Total", 1239, 1400, 45.3, None, None],
        summary="Toto asked 1234 times, Saikai 5.",
        extra={"headline": {"label": "Fill rate", "value": 45.25, "kind": PERCENT}},
    )


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def scopes(monkeypatch):
    """Every figures function replaced by one that records its Scope and returns the sample table."""
    seen = []

    def fake(scope):
        seen.append(scope)
        return [sample_table()]

    for name in ("requests_tables", "fill_rate_tables", "turnaround_tables", "charges_tables", "support_tables"):
        monkeypatch.setattr(figures, name, fake)
    return seen


# Who may see them


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in [INDEX, *map(section_url, SECTIONS)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]


def test_patrons_are_refused(client, undergraduate):
    client.force_login(undergraduate.user)
    for url in [INDEX, *map(section_url, SECTIONS), section_url("requests") + "?export=csv&table=by-kind"]:
        assert client.get(url).status_code == 403, url


def test_desk_staff_see_every_page_with_its_tables(staff, undergraduate, lender, second_lender):
    report_data(undergraduate, lender, second_lender)
    for url in [INDEX, *map(section_url, SECTIONS)]:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert b'data-testid="report-table"' in response.content
        assert b'data-testid="report-chart"' in response.content


def test_the_pages_answer_with_no_data_at_all(staff):
    for url in [INDEX, *map(section_url, SECTIONS)]:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert b'data-testid="report-table"' in response.content
        assert b'data-testid="report-filters"' in response.content


def test_every_section_shows_every_table_of_its_figures_function(staff, monkeypatch):
    monkeypatch.setattr(
        figures, "charges_tables", lambda scope: [sample_table("one", "One"), sample_table("two", "Two")]
    )
    body = staff.get(section_url("charge-totals")).content.decode()
    assert 'id="table-one"' in body and 'id="table-two"' in body


def test_an_unknown_section_is_not_found(staff):
    assert staff.get(INDEX + "nope/").status_code == 404


def test_the_sections_leave_the_older_charges_report_its_address(staff):
    """/desk/reports/charges/ is desk:charges_report (fees.views): the sections' route must not
    take it (it did as <slug:section>, and the accounting office's report and its CSV were gone)."""
    assert resolve(reverse("desk:charges_report")).func is fees_views.charges_report
    response = staff.get(reverse("desk:charges_report"), {"format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="ill-charges-')
    for section in SECTIONS:
        assert resolve(section_url(section)).func is views.section


def test_the_site_nav_links_the_reports_for_desk_staff_only(client, staff_user, undergraduate):
    client.force_login(staff_user)
    assert INDEX.encode() in client.get(reverse("desk:home")).content
    client.force_login(undergraduate.user)
    assert f'href="{INDEX}"'.encode() not in client.get(reverse("patron:dashboard")).content


def test_the_report_nav_links_every_report_and_keeps_the_filters(staff, branch):
    body = staff.get(section_url("turnaround") + f"?year=2025&month=5&branch={branch.code}").content.decode()
    nav = body[body.index('class="report-nav') : body.index("</nav>", body.index('class="report-nav'))]
    for name in ("reports:nacsis", "reports:offset", "reports:copyright", "reports:survey"):
        assert f'href="{reverse(name)}?year=2025&amp;month=5&amp;branch={branch.code}"' in nav
    assert f'href="{reverse("desk:charges_report")}?year=2025"' in nav
    assert re.search(r'class="nav-link text-nowrap active" aria-current="page" href="[^"]*/turnaround/', nav)


# Filters


def test_no_filter_is_this_fiscal_year_every_branch(staff, scopes):
    staff.get(section_url("requests"))
    assert scopes == [Scope(current_fiscal_year(), None, None)]


def test_year_month_and_branch_by_code_or_id_reach_the_figures(staff, scopes, branch):
    staff.get(section_url("requests") + f"?year=2025&month=3&branch={branch.code}")
    staff.get(section_url("requests") + f"?year=2025&month=4&branch={branch.pk}")
    assert scopes == [Scope(2025, 3, branch.pk), Scope(2025, 4, branch.pk)]


def test_the_index_reads_every_section_for_the_same_scope(staff, scopes):
    staff.get(INDEX + "?year=2024")
    assert scopes == [Scope(2024, None, None)] * 5


@pytest.mark.parametrize(
    "query",
    [
        "year=abc",
        "year=99999",
        "year=1999",
        "year=-1",
        "year=２０２５",
        "year=" + "9" * 40,
        "month=13",
        "month=0",
        "month=abc",
        "month=٣",
        "branch=nope",
        "branch=999999",
        "branch=" + "x" * 500,
        "year=2025&year=abc",
        "year=%00",
        "branch=%00",
        "branch=ab%00cd",
    ],
)
def test_bad_filters_fall_back_to_the_default_with_a_notice(staff, scopes, query):
    response = staff.get(section_url("fill-rate") + "?" + query)
    assert response.status_code == 200
    assert b'data-testid="report-notice"' in response.content
    assert scopes[-1].fiscal_year in (current_fiscal_year(), 2025)
    assert scopes[-1].month is None and scopes[-1].branch_id is None


@pytest.mark.parametrize(
    "query",
    ["export=pdf&table=sample", "export=csv&table=nope", "export=xlsx", "export=&table=sample"],
)
def test_a_bad_export_is_a_400_with_a_message(staff, scopes, query):
    response = staff.get(section_url("charge-totals") + "?" + query)
    assert response.status_code == 400
    assert response.content.strip()


def test_export_links_keep_the_filters_as_understood(staff, scopes, branch):
    body = staff.get(section_url("requests") + f"?year=abc&month=5&branch={branch.code}&other=1").content.decode()
    year = current_fiscal_year()
    assert (
        f'href="?other=1&amp;year={year}&amp;month=5&amp;branch={branch.code}&amp;export=csv&amp;table=sample"' in body
    )


def test_the_filter_offers_the_chosen_year_even_far_back(staff, scopes):
    body = staff.get(section_url("requests") + "?year=2003").content.decode()
    assert '<option value="2003" selected>' in body


def test_the_period_is_written_in_the_language(staff, scopes):
    with translation.override("en"):
        body = staff.get(section_url("requests") + "?year=2025&month=1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "FY2025" in body


# What a Table renders as


def test_a_chart_is_an_image_described_by_its_table_with_json_data(staff, scopes):
    body = staff.get(section_url("requests")).content.decode()
    assert (
        '<canvas role="img" aria-label="Toto asked 1234 times, Saikai 5." aria-describedby="data-sample" '
        'data-chart="chart-data-sample"'
    ) in body
    assert 'id="data-sample"' in body
    data = json.loads(re.search(r'<script id="chart-data-sample" type="application/json">(.*?)</script>', body)[1])
    assert data == {
        "kind": "bar",
        "unit": "count",
        "labels": ["Toto", "Saikai"],
        "series": [{"label": "Requests", "data": [1234.0, 5.0]}],
    }


def test_chart_labels_cannot_break_out_of_the_json(staff, monkeypatch):
    table = sample_table()
    table.chart = Chart("bar", ["</script><script>alert(1)</script>"], [("x", [1])])
    monkeypatch.setattr(figures, "requests_tables", lambda scope: [table])
    body = staff.get(section_url("requests")).content.decode()
    assert "<script>alert(1)" not in body


def test_a_chart_value_that_is_not_a_number_is_a_gap(staff, monkeypatch):
    table = sample_table()
    table.chart = Chart("line", ["a", "b", "c", "d"], [("x", [1, "n/a", None, Decimal("2.5")])])
    monkeypatch.setattr(figures, "requests_tables", lambda scope: [table])
    body = staff.get(section_url("requests")).content.decode()
    data = json.loads(re.search(r'<script id="chart-data-sample" type="application/json">(.*?)</script>', body)[1])
    assert data["series"][0]["data"] == [1.0, None, None, 2.5]


def test_a_table_without_rows_draws_no_chart_and_says_so(staff, monkeypatch):
    table = sample_table()
    table.rows = []
    table.footer = None
    monkeypatch.setattr(figures, "requests_tables", lambda scope: [table])
    body = staff.get(section_url("requests")).content.decode()
    assert "<canvas" not in body
    assert 'colspan="6"' in body


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", ["1,234", "¥1,400", "45.3%", "3.5", "2026-04-01"]), ("ja", ["1,234", "1,400円", "45.3%", "3.5"])],
)
def test_numbers_are_written_in_the_language(client, staff_user, scopes, language, expected):
    client.force_login(staff_user)
    client.cookies["django_language"] = language
    body = client.get(section_url("support")).content.decode()
    tbody = body[body.index("<tbody>") : body.index("</tfoot>")]
    for text in expected:
        assert text in tbody, text
    assert "Supplied over ordered." in body  # the note


def test_the_index_shows_the_headline_figures_and_links_each_section(staff, scopes):
    body = staff.get(INDEX + "?year=2025").content.decode()
    assert 'data-testid="headlines"' in body and "45.3%" in body
    for section in SECTIONS:
        assert f'href="{section_url(section)}?year=2025"' in body


def test_the_index_exports_its_tables_too(staff, scopes):
    response = staff.get(INDEX + "?export=csv&table=sample")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="ill-report-fy')


def test_the_branch_list_offers_active_branches_and_the_chosen_one(staff, scopes):
    f.BranchFactory(code="closed", name="閉館", active=False)
    f.BranchFactory(code="open", name="開館")
    assert b'value="closed"' not in staff.get(section_url("requests")).content
    assert b'value="closed" selected' in staff.get(section_url("requests") + "?branch=closed").content


def test_report_context_is_what_other_report_pages_use(rf, branch):
    context = views.report_context(rf.get("/", {"year": "2026", "month": "4", "branch": branch.code}))
    assert context["scope"] == Scope(2026, 4, branch.pk)
    assert context["filters"]["slug"] == f"fy2026-04-{branch.code}"
    assert context["filters"]["query"] == f"year=2026&month=4&branch={branch.code}"
    assert context["notices"] == []


def test_the_index_reads_its_headlines_from_the_figures(staff, undergraduate, lender, second_lender):
    report_data(undergraduate, lender, second_lender)
    with translation.override("en"):
        body = staff.get(INDEX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        tables = figures.requests_tables(Scope(current_fiscal_year()))
    headlines = body[body.index('data-testid="headlines"') : body.index('<div class="row g-4">')]
    total = next(t for t in tables if t.slug == "by-kind").footer[-1]
    assert total == 7
    for label in ("Requests submitted", "Fill rate", "Median days", "Charges", "Support budget used"):
        assert label in headlines, label
    assert '<div class="stat-value amount">7</div>' in headlines
    assert "¥11,900 of ¥100,000" not in headlines  # private charges are not the support budget's
    assert 'data-testid="computed-at"' in body


def test_the_index_refreshes_the_rollup_once_for_its_five_sections(staff, monkeypatch):
    calls = []
    real = rollup.refresh_for_page

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(rollup, "refresh_for_page", counted)
    assert staff.get(reverse("reports:index")).status_code == 200
    assert len(calls) == 1  # it was five: each section's figures refreshed for itself
    staff.get(reverse("reports:section", args=["fill-rate"]))
    assert len(calls) == 2
