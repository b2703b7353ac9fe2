"""CSV and .xlsx exports of report Tables (reports.exports, reports.views.export_or_none)."""

import csv
import datetime
import io

import pytest
from django.contrib.messages import get_messages
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES as openpyxl_temp_files

from fees.models import current_fiscal_year
from reports import exports, figures
from reports.tables import COUNT, DATE, DAYS, PERCENT, TEXT, YEN, Column, Table

URL = reverse("reports:section", args=["charge-totals"])


def table(**changes):
    values = {
        "slug": "by-code",
        "title": "=cmd|' /C calc'!A0",
        "columns": [
            Column("code", "Budget code", TEXT),
            Column("count", "Requests", COUNT),
            Column("total", "Total (yen)", YEN),
            Column("rate", "Fill rate", PERCENT),
            Column("days", "Median days", DAYS),
            Column("day", "First charge", DATE),
        ],
        "rows": [
            ['=HYPERLINK("http://evil")', 3, 12400, 33.3333, 2.25, datetime.date(2027, 3, 31)],
            ["2026-ENG-0301", 1, 0, None, None, None],
        ],
        "footer": ["Total", 4, 12400, 33.3, None, None],
        "note": "+Whole yen, tax included.",
    }
    values.update(changes)
    return Table(**values)


def csv_rows(response):
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def sheet_of(response):
    assert isinstance(response, FileResponse)
    data = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(data)).worksheets[0]


# CSV


def test_the_csv_has_a_bom_a_header_and_the_tables_rows_then_its_totals():
    rows = csv_rows(exports.csv_response(table(), "x.csv"))
    assert rows == [
        ["Budget code", "Requests", "Total (yen)", "Fill rate", "Median days", "First charge"],
        ['\'=HYPERLINK("http://evil")', "3", "12400", "33.3", "2.2", "2027-03-31"],
        ["2026-ENG-0301", "1", "0", "", "", ""],
        ["Total", "4", "12400", "33.3", "", ""],
    ]


def test_the_csv_writes_every_row_of_all_rows_not_only_the_pages():
    many = table(all_rows=lambda: ([f"code-{n}", n, n * 100, None, None, None] for n in range(2500)), footer=None)
    rows = csv_rows(exports.csv_response(many, "x.csv"))
    assert len(rows) == 2501
    assert rows[-1] == ["code-2499", "2499", "249900", "", "", ""]


def test_the_csv_reads_all_rows_only_while_it_is_sent():
    calls = []

    def all_rows():
        calls.append(1)
        return iter([["a", 1, 1, None, None, None]])

    response = exports.csv_response(table(all_rows=all_rows), "x.csv")
    assert calls == []
    csv_rows(response)
    assert calls == [1]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_a_spreadsheet_would_run_is_prefixed(start):
    rows = csv_rows(exports.csv_response(table(rows=[[start + "1+1", 1, 1, None, None, None]], footer=None), "x"))
    assert rows[1][0] == "'" + start + "1+1"


def test_negative_numbers_stay_numbers():
    rows = csv_rows(exports.csv_response(table(rows=[["refund", -1, -1400, None, None, None]], footer=None), "x"))
    assert rows[1][:3] == ["refund", "-1", "-1400"]


def test_the_file_name_is_ascii():
    response = exports.csv_response(table(), "ill-report-FY2026 料金/..\\by code.csv")
    assert response["Content-Disposition"] == 'attachment; filename="ill-report-fy2026-by-code.csv"'


# XLSX


def test_the_xlsx_has_the_same_rows_with_numbers_dates_and_text_cells():
    sheet = sheet_of(exports.xlsx_response(table(), "x.xlsx"))
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[:4] == [
        ["Budget code", "Requests", "Total (yen)", "Fill rate", "Median days", "First charge"],
        ['=HYPERLINK("http://evil")', 3, 12400, pytest.approx(0.333333), 2.25, datetime.datetime(2027, 3, 31)],
        ["2026-ENG-0301", 1, 0, None, None, None],
        ["Total", 4, 12400, pytest.approx(0.333), None, None],
    ]
    assert values[-1][0] == "+Whole yen, tax included."  # the note, under the table
    rows = list(sheet.iter_rows())
    assert rows[1][0].data_type == "s"  # a string, never a formula
    assert rows[-1][0].data_type == "s"
    assert rows[1][1].data_type == "n" and rows[1][2].data_type == "n"
    assert rows[1][2].number_format == "#,##0"
    assert rows[1][3].number_format == "0.0%"
    assert rows[1][5].is_date and rows[1][5].number_format == "yyyy-mm-dd"
    assert rows[0][0].font.b and rows[3][1].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= len('=HYPERLINK("http://evil")')


def test_a_title_starting_with_equals_stays_a_string():
    sheet = sheet_of(exports.xlsx_response(table(rows=[["=cmd|' /C calc'!A0", 1, 1, None, None, None]]), "x"))
    cell = list(sheet.iter_rows())[1][0]
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"
    assert sheet.title == "=cmd|' C calc'!A0"  # Excel's forbidden / left out


def test_japanese_text_and_a_long_sheet_title():
    sheet = sheet_of(
        exports.xlsx_response(table(title="予算コード別の料金" * 5, rows=[["文献複写", 1, 1, 1, 1, None]]), "x")
    )
    assert len(sheet.title) == 31
    assert list(sheet.iter_rows())[1][0].value == "文献複写"


def test_more_rows_than_the_cap_is_refused():
    many = table(all_rows=lambda: ([f"c{n}", n, n, None, None, None] for n in range(11)))
    before = list(openpyxl_temp_files)
    with pytest.raises(exports.TooManyRows):
        exports.xlsx_response(many, "x", max_rows=10)
    assert openpyxl_temp_files == before  # the half-written sheet's temporary file is removed
    assert exports.xlsx_response(table(all_rows=lambda: iter([["c", 1, 1, None, None, None]] * 10)), "x", max_rows=10)


# Through the pages


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def charges(monkeypatch):
    monkeypatch.setattr(figures, "charges_tables", lambda scope: [table()])


@pytest.mark.django_db
def test_a_section_downloads_a_table_as_csv_named_for_the_period_and_branch(staff, charges, branch):
    response = staff.get(
        URL, {"export": "csv", "table": "by-code", "year": "2026", "month": "4", "branch": branch.code}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="ill-report-fy2026-04-{branch.code}-by-code.csv"'
    assert csv_rows(response)[1][1] == "3"


@pytest.mark.django_db
def test_a_section_downloads_a_table_as_xlsx(staff, charges):
    response = staff.get(URL, {"export": "xlsx", "table": "by-code"})
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    year = current_fiscal_year()
    assert response["Content-Disposition"] == f'attachment; filename="ill-report-fy{year}-by-code.xlsx"'
    assert [c.value for c in list(sheet_of(response).iter_rows())[1]][1:3] == [3, 12400]


@pytest.mark.django_db
def test_the_header_is_in_the_requests_language(client, staff_user):
    client.force_login(staff_user)
    for language, month in (("ja", "年月"), ("en", "Month")):
        client.cookies["django_language"] = language
        response = client.get(reverse("reports:section", args=["requests"]), {"export": "csv", "table": "by-kind"})
        assert csv_rows(response)[0][0] == month, language


@pytest.mark.django_db
def test_an_xlsx_past_the_cap_sends_back_to_the_page_pointing_to_the_csv(staff, monkeypatch, charges):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1)
    response = staff.get(URL, {"export": "xlsx", "table": "by-code", "year": "2025"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?year=2025#table-by-code"
    message = str(next(iter(get_messages(response.wsgi_request))))
    assert "CSV" in message
