"""The charges report at scale: totals from one aggregate query over the chosen period, the table
paginated without a count, the CSV files streamed as values with the columns they always had."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from fees import views
from fees.models import Charge, current_fiscal_year
from fees.selectors import Period
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = reverse("desk:charges_report")


def at(year, month, day=15, hour=10, minute=0):
    """A moment in the site's time zone (Asia/Tokyo)."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def body_of(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode("utf-8")


def rows_of(response) -> list[list[str]]:
    text = body_of(response)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    return client


def test_the_totals_keep_paid_unpaid_and_supported_apart_by_month(desk, public_code, lender):
    f.ChargeFactory(total=500, state="paid", created_at=at(2026, 4, 3))
    f.ChargeFactory(total=700, state="due", created_at=at(2026, 4, 20))
    f.ChargeFactory(total=300, state="awaiting", created_at=at(2026, 5, 1))
    f.ChargeFactory(total=900, payment_class="support", state="settled", created_at=at(2026, 5, 2))
    f.ChargeFactory(
        total=1200, payment_class="public", budget_code=public_code, state="settled", created_at=at(2027, 3, 31)
    )
    f.ChargeFactory(total=99999, state="paid", created_at=at(2026, 3, 31))  # FY2025: not in the totals
    response = desk.get(URL, {"year": 2026}, HTTP_ACCEPT_LANGUAGE="en")
    totals = dict(response.context["by_class"])
    assert totals == {
        "Private expense, paid": 500,
        "Private expense, not paid yet": 1000,
        "Public expense": 1200,
        "Student support budget": 900,
    }
    assert response.context["grand_total"] == 3600
    by_month = {month: (cells, values) for month, cells, values in response.context["by_month"]}
    assert len(by_month) == 12 and list(by_month)[0] == datetime.date(2026, 4, 1)
    # Columns: private paid, private not paid, public, grant, support.
    assert by_month[datetime.date(2026, 4, 1)][0] == [500, 700, None, None, None]
    assert by_month[datetime.date(2026, 5, 1)][0] == [None, 300, None, None, 900]
    assert by_month[datetime.date(2027, 3, 1)][1]["total"] == 1200
    assert by_month[datetime.date(2026, 6, 1)][1]["count"] == 0
    assert "99,999" not in response.content.decode()


def test_the_report_costs_the_same_queries_with_ten_times_the_charges(desk, public_code):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert desk.get(URL).status_code == 200
        return len(ctx.captured_queries)

    f.ChargeFactory.create_batch(2, total=100)
    few = queries()
    f.ChargeFactory.create_batch(20, total=100, state="paid")
    f.ChargeFactory.create_batch(5, total=100, payment_class="public", budget_code=public_code, state="settled")
    assert queries() == few


def test_the_period_is_a_fiscal_year_or_one_month_of_it(desk):
    f.ChargeFactory(total=111, created_at=at(2026, 3, 31, 23, 59))
    f.ChargeFactory(total=222, created_at=at(2026, 4, 1, 0, 1))
    f.ChargeFactory(total=333, created_at=at(2026, 5, 10))
    assert desk.get(URL, {"year": 2025}).context["grand_total"] == 111
    assert desk.get(URL, {"year": 2026}).context["grand_total"] == 555
    april = desk.get(URL, {"year": 2026, "month": 4})
    assert april.context["grand_total"] == 555  # the cards are the fiscal year's
    assert [row["total"] for row in april.context["rows"]] == [222]  # the rows the month's
    march = desk.get(URL, {"year": 2025, "month": 3})
    assert [row["total"] for row in march.context["rows"]] == [111]
    assert [row["total"] for row in desk.get(URL, {"year": 2025}).context["rows"]] == [111]  # a past year: March
    assert Period(2025, 3).bounds == (
        timezone.make_aware(datetime.datetime(2026, 3, 1)),
        timezone.make_aware(datetime.datetime(2026, 4, 1)),
    )
    assert Period(2026, 12).bounds[1] == timezone.make_aware(datetime.datetime(2027, 1, 1))


def test_the_current_fiscal_year_is_the_default(desk):
    f.ChargeFactory(total=123)
    response = desk.get(URL)
    assert response.context["period"] == Period(current_fiscal_year())
    assert response.context["grand_total"] == 123
    assert Period(2026).slug == "FY2026" and Period(2026, 1).slug == "FY2026-2027-01"


@pytest.mark.parametrize("query", ["month=13", "month=0", "month=²", "page=0", "page=abc", "page=99999999999"])
def test_odd_parameters_are_ignored(desk, query):
    assert desk.get(f"{URL}?{query}").status_code == 200


def test_the_rows_come_a_page_at_a_time_without_a_count(desk, monkeypatch, faculty):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(5):
        code = f.BudgetCodeFactory(code=f"2026-P-{n}", responsible=faculty)
        f.ChargeFactory(total=100 + n, payment_class="public", budget_code=code, state="settled")
    with CaptureQueriesContext(connection) as ctx:
        first = desk.get(URL)
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"] and "GROUP BY" not in q["sql"]]
    assert [row["budget_code__code"] for row in first.context["rows"]] == ["2026-P-0", "2026-P-1"]
    assert first.context["has_next"] and first.context["grand_total"] == 510
    third = desk.get(URL, {"page": 3})
    assert [row["budget_code__code"] for row in third.context["rows"]] == ["2026-P-4"]
    assert not third.context["has_next"]
    html = third.content.decode()
    assert 'data-testid="page-previous"' in html and 'data-testid="page-next"' not in html
    assert "5–5" in html


def _expected_detail_line(charge):
    """The detail CSV's line as it was built from model objects before it was streamed."""
    request = charge.request
    return [
        timezone.localtime(charge.created_at).strftime("%Y-%m-%d"),
        request.number,
        request.patron.patron_number,
        request.lender.name if request.lender else "",
        request.lender.code if request.lender else "",
        str(dict(Charge.PaymentClass.choices)[charge.payment_class]),
        charge.budget_code.code if charge.budget_code else "",
        str(charge.copy_fee),
        str(charge.postage),
        str(charge.other_fees),
        str(charge.tax),
        str(charge.total),
        charge.get_state_display(),
    ]


def test_the_detail_csv_streams_the_lines_it_always_had(desk, public_code, lender):
    charges = [
        f.ChargeFactory(
            request__lender=lender, copy_fee=350, postage=140, total=490, state="due", created_at=at(2026, 4, 2)
        ),
        f.ChargeFactory(
            request__lender=None,
            payment_class="public",
            budget_code=public_code,
            copy_fee=1000,
            other_fees=200,
            tax=100,
            total=1200,
            state="settled",
            created_at=at(2026, 4, 1, 8),
        ),
        f.ChargeFactory(payment_class="support", state="settled", total=900, created_at=at(2026, 6, 30)),
    ]
    f.ChargeFactory(created_at=at(2025, 6, 1))  # another fiscal year
    with translation.override("ja"):
        expected = [_expected_detail_line(c) for c in sorted(charges, key=lambda c: (c.created_at, c.pk))]
    response = desk.get(URL, {"year": 2026, "format": "detail"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="ill-charges-FY2026-detail.csv"'
    rows = rows_of(response)
    assert rows[0] == [
        "日付",
        "申込番号",
        "利用者番号",
        "依頼先",
        "依頼先コード",
        "支払区分",
        "予算コード",
        "複写料(A)",
        "送料(B)",
        "その他の料金(C)",
        "消費税",
        "合計(円)",
        "状態",
    ]
    assert rows[1:] == expected


def test_the_detail_csv_reads_values_in_one_query_for_any_number_of_charges(desk, lender):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            body_of(desk.get(URL, {"format": "detail"}))
        return len(ctx.captured_queries)

    f.ChargeFactory(request__lender=lender)
    few = queries()
    f.ChargeFactory.create_batch(12, request__lender=lender)
    assert queries() == few


def test_the_detail_csv_of_a_month(desk):
    f.ChargeFactory(total=111, created_at=at(2026, 4, 30))
    f.ChargeFactory(total=222, created_at=at(2026, 5, 1))
    response = desk.get(URL, {"year": 2026, "month": 5, "format": "detail"})
    assert response["Content-Disposition"] == 'attachment; filename="ill-charges-FY2026-2026-05-detail.csv"'
    assert [row[11] for row in rows_of(response)[1:]] == ["222"]


def test_the_summary_csv_streams_month_class_code_state_count_and_total(desk, public_code):
    f.ChargeFactory(total=500, state="paid", created_at=at(2026, 4, 3))
    f.ChargeFactory(total=700, state="paid", created_at=at(2026, 4, 4))
    f.ChargeFactory(
        total=1200, payment_class="public", budget_code=public_code, state="settled", created_at=at(2026, 5, 1)
    )
    response = desk.get(URL, {"year": 2026, "format": "csv"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Disposition"] == 'attachment; filename="ill-charges-FY2026.csv"'
    rows = rows_of(response)
    assert rows[0] == ["Month", "Payment class", "Budget code", "Budget name", "State", "Requests", "Total (yen)"]
    assert rows[1:] == [
        ["2026-04", "Private expense", "", "", "Paid", "2", "1200"],
        ["2026-05", "Public expense", public_code.code, public_code.name, "Settled by budget", "1", "1200"],
    ]


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(desk, public_code):
    """CSV injection: a name typed in the admin (a budget code's, a lender's) that starts like a
    formula must not run when the accounting office opens the file in Excel."""
    public_code.name = '=HYPERLINK("http://evil.example/","click")'
    public_code.save()
    f.ChargeFactory(
        payment_class="public", budget_code=public_code, state="settled", total=800, created_at=at(2026, 5, 1)
    )
    rows = rows_of(desk.get(URL, {"year": 2026, "format": "csv"}))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + public_code.name in cells
    assert not any(cell.startswith(views.FORMULA_STARTS) for cell in cells)
    assert "800" in cells  # numbers stay numbers


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+81", "'+81"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("ILL-2026-1", "ILL-2026-1"),
        (-500, -500),
    ],
)
def test_spreadsheet_safe(cell, written):
    assert views.spreadsheet_safe(cell) == written
