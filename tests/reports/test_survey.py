"""The annual survey page (/desk/reports/survey/): copies requested and loans borrowed, domestic and
overseas, per fiscal year, on a small data set with known answers — the fiscal-year boundary of
31 March / 1 April, a request that went to two lenders counted once, domestic against overseas —
the lending side counted (its figures: tests/reports/test_lending_figures.py), and the CSV in the survey's wording."""

import csv
import datetime
import io

import pytest
from django.utils import timezone, translation

from reports import rollup, survey
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def at(*args) -> datetime.datetime:
    """A time in the site's zone (Asia/Tokyo)."""
    return timezone.make_aware(datetime.datetime(*args))


@pytest.fixture
def lenders(db):
    return {
        "jp1": f.LendingInstitutionFactory(kind="jp_university", code="JP1"),
        "jp2": f.LendingInstitutionFactory(kind="ndl", code="JP2"),
        "abroad": f.LendingInstitutionFactory(
            kind="overseas", code="BL", country="GB", is_offset_participant=False, accepts_public_expense=False
        ),
    }


def borrowed(kind, hops, *, arrived=None, branch=None, status=None):
    """A request ordered from `hops` [(lender, ordered at)] in turn; the last supplied it when `arrived`."""
    extra = {"pickup_branch": branch} if branch else {}
    last_lender, last_time = hops[-1]
    request = f.RequestFactory(
        kind=kind,
        material_type="article" if kind == "copy" else "book",
        status=status or ("arrived" if arrived else "ordered"),
        lender=last_lender,
        ordered_at=last_time,
        arrived_at=arrived,
        submitted_at=hops[0][1] - datetime.timedelta(days=1),
        **extra,
    )
    for position, (lender, when) in enumerate(hops, start=1):
        last = position == len(hops)
        f.LenderCandidateFactory(
            request=request,
            position=position,
            lender=lender,
            ordered_at=when,
            state=("filled" if arrived else "ordered") if last else "unfilled",
        )
    return request


@pytest.fixture
def year_of_borrowing(lenders, branch, medical_branch):
    jp1, jp2, abroad = lenders["jp1"], lenders["jp2"], lenders["abroad"]
    # A copy first ordered on 31 March at 23:00 (FY2024) from Japan, unfilled, then from abroad in
    # April, supplied in April: sent in FY2024 (domestic), supplied in FY2025 (overseas).
    borrowed("copy", [(jp1, at(2025, 3, 31, 23)), (abroad, at(2025, 4, 2, 10))], arrived=at(2025, 4, 10, 12))
    # A copy ordered on 1 April at 00:30 (FY2025) in Japan, supplied: sent and supplied, domestic.
    borrowed("copy", [(jp2, at(2025, 4, 1, 0, 30))], arrived=at(2025, 4, 5, 9))
    # A loan asked of two Japanese lenders in turn, supplied on 31 March at 23:30: once, domestic, FY2025.
    borrowed("loan", [(jp1, at(2025, 6, 1, 9)), (jp2, at(2025, 6, 8, 9))], arrived=at(2026, 3, 31, 23, 30))
    # A loan ordered abroad on 31 March (FY2025), arrived 1 April at 00:10 (FY2026).
    borrowed("loan", [(abroad, at(2026, 3, 31, 15))], arrived=at(2026, 4, 1, 0, 10))
    # A loan for the medical library, ordered and still out (sent, not supplied).
    borrowed("loan", [(jp1, at(2025, 9, 1, 9))], branch=medical_branch)
    # Never sent: rejected or cancelled before ordering.
    f.RequestFactory(kind="copy", status="rejected", submitted_at=at(2025, 5, 1, 9))
    f.RequestFactory(kind="loan", status="cancelled", submitted_at=at(2025, 5, 1, 9))
    rollup.refresh(rebuild=True)  # what the nightly task does; a page refreshes only a few months itself


def figures(year, branch=None):
    table = survey.survey_tables(year, branch_id=branch.pk if branch else None)[0]
    return {(row[0], row[1]): row[2:5] for row in table.rows}


# In English, as the tests run (the `english` fixture): not in whatever language was active when
# the module was collected (random order left it Japanese once).
with translation.override("en"):
    COPY = str(survey.ITEMS["copy"])
    LOAN = str(survey.ITEMS["loan"])
    SENT = str(survey.COUNTED[survey.SENT])
    SUPPLIED = str(survey.COUNTED[survey.SUPPLIED])


def test_the_figures_of_a_fiscal_year(year_of_borrowing):
    assert figures(2025) == {
        (COPY, SENT): [1, 0, 1],  # the first copy was first sent in FY2024
        (COPY, SUPPLIED): [1, 1, 2],
        (LOAN, SENT): [2, 1, 3],  # the loan asked of two lenders counts once
        (LOAN, SUPPLIED): [1, 0, 1],  # the one from abroad arrived in FY2026
    }


def test_the_boundaries_of_31_march_and_1_april(year_of_borrowing):
    assert figures(2024)[(COPY, SENT)] == [1, 0, 1]
    assert figures(2024)[(COPY, SUPPLIED)] == [0, 0, 0]
    assert figures(2026)[(LOAN, SUPPLIED)] == [0, 1, 1]
    assert figures(2026)[(LOAN, SENT)] == [0, 0, 0]


def test_per_branch(year_of_borrowing, medical_branch, branch):
    assert figures(2025, medical_branch)[(LOAN, SENT)] == [1, 0, 1]
    assert figures(2025, branch)[(LOAN, SENT)] == [1, 1, 2]


def test_a_country_outside_japan_is_overseas_whatever_the_kind(lenders, branch):
    other = f.LendingInstitutionFactory(kind="other", code="KR1", country="KR")
    borrowed("copy", [(other, at(2025, 7, 1, 9))], arrived=at(2025, 7, 9, 9))
    rollup.refresh(rebuild=True)
    assert figures(2025)[(COPY, SENT)] == [0, 1, 1]
    assert figures(2025)[(COPY, SUPPLIED)] == [0, 1, 1]


def test_every_figure_has_its_definition_next_to_it(year_of_borrowing):
    borrowing, lending, definitions = survey.survey_tables(2025)
    for row in borrowing.rows:
        assert row[5] in {str(text) for text in survey.DEFINITIONS.values()}
    assert "once" in borrowing.rows[0][5] and "first order" in borrowing.rows[0][5]
    assert len(definitions.rows) == len(survey.DEFINITIONS)
    # the lending side (reports.lending): counted, each figure with its definition (no lending here: zeros)
    for row in lending.rows:
        assert row[2:5] == [0, 0, 0] and row[5] in {str(text) for text in survey.DEFINITIONS.values()}
    assert "received" in lending.rows[0][5] and "shipped" in lending.rows[1][5]


def test_the_page_shows_the_figures_of_both_sides(client, staff_user, year_of_borrowing):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    page = client.get("/desk/reports/survey/?year=2025")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Copies requested from other libraries (文献複写 依頼)" in html
    assert 'data-table="survey-lending"' in html
    assert "Copy requests received from other libraries (文献複写 受付)" in html
    assert 'data-testid="report-chart"' in html
    month = client.get("/desk/reports/survey/?year=2025&month=5")
    assert 'data-testid="survey-month-ignored"' in month.content.decode()
    assert month.context["scope"].month is None


def test_the_csv_in_the_surveys_wording(client, staff_user, year_of_borrowing):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    response = client.get("/desk/reports/survey/?year=2025&export=csv&table=survey-borrowing")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('fy2025-survey-borrowing.csv"')
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel in Japan expects
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0] == ["Survey item", "Counted", "Domestic (国内)", "Overseas (国外)", "Total", "Definition"]
    assert lines[1][:5] == [COPY, SENT, "1", "0", "1"]
    assert lines[3][:5] == [LOAN, SENT, "2", "1", "3"]
    # the labels follow the page's language (the Japanese wording is the translators')
    client.cookies["django_language"] = "ja"
    response = client.get("/desk/reports/survey/?year=2025&export=csv&table=survey-borrowing")
    header = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    with translation.override("ja"):
        assert header[2] == str(translation.gettext("Domestic (国内)"))


def test_bad_input_is_never_a_500(client, staff_user):
    client.force_login(staff_user)
    for query in ("year=1999x", "year=99999", "branch=nowhere", "export=csv&table=nope", "export=doc"):
        assert client.get(f"/desk/reports/survey/?{query}").status_code in (200, 400), query
    assert client.get("/desk/reports/survey/?export=xlsx&table=survey-borrowing").status_code == 200


def test_only_staff(client, undergraduate):
    client.force_login(undergraduate.user)
    assert client.get("/desk/reports/survey/").status_code == 403


def test_figures_not_computed_yet_are_said_so(client, staff_user, lenders):
    borrowed("copy", [(lenders["jp1"], at(2024, 4, 2, 9))], arrived=at(2024, 4, 9, 9))  # many months to compute
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    html = client.get("/desk/reports/survey/?year=2025").content.decode()
    assert 'data-testid="survey-stale"' in html
