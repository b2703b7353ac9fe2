"""Importing the library's holdings from CSV and MARC: idempotent, line-numbered errors that do
not stop the good lines, and the held-here rule sees what was imported."""

import io

import pymarc
import pytest
from django.core.management import call_command

from ill.holdings import import_holdings
from ill.models import LocalHolding, LocalHoldingIdentifier

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CSV = """record_id,title,author,call_number,status,isbn,issn,electronic
BIB001,吾輩は猫である,夏目漱石,913.6/N,available,4-10-101001-3;978-4-10-101001-4,,
BIB002,Introduction to Algorithms,"Cormen, T.",007.64/C,on loan,9780262046305,,
BIB003,Nature,,P/NAT,,,0028-0836,yes
,No ID,,,,,,
BIB005,Bad ISBN,,,,978-4-10-101001-0,,
BIB006,Odd status,,,borrowed?,,,
"""


def test_csv_lines_are_imported_and_bad_lines_reported_with_their_number():
    report = import_holdings(CSV.encode("utf-8"), "csv")
    assert report.created == 4
    assert [line for line, _message in report.errors] == [5, 6, 7]
    assert "record ID" in report.errors[0][1]
    assert "ISBN" in report.errors[1][1]
    cat = LocalHolding.objects.get(source_id="BIB001")
    assert set(cat.identifiers.values_list("scheme", "value")) == {("isbn", "9784101010014")}
    assert LocalHolding.objects.get(source_id="BIB002").status == "on_loan"
    nature = LocalHolding.objects.get(source_id="BIB003")
    assert nature.is_electronic and nature.identifiers.get().value == "0028-0836"
    assert LocalHolding.objects.get(source_id="BIB005").identifiers.count() == 0  # kept, without the bad ISBN


def test_importing_again_updates_instead_of_duplicating():
    import_holdings(CSV.encode("utf-8"), "csv")
    changed = CSV.replace("913.6/N,available", "913.6/N/2,on_loan")
    report = import_holdings(changed.encode("utf-8"), "csv")
    assert (report.created, report.updated) == (0, 4)
    assert LocalHolding.objects.count() == 4
    assert LocalHoldingIdentifier.objects.filter(value="9784101010014").count() == 1
    cat = LocalHolding.objects.get(source_id="BIB001")
    assert (cat.call_number, cat.status) == ("913.6/N/2", "on_loan")


def test_shift_jis_and_japanese_headers_are_understood():
    data = "書誌ID,書名,著者,請求記号,貸出状態,ISBN\nB1,羅生門,芥川龍之介,913.6/A,貸出中,9784003107010\n".encode(
        "cp932"
    )
    report = import_holdings(data, "csv")
    assert report.errors == [] and report.created == 1
    assert LocalHolding.objects.get(source_id="B1").status == "on_loan"


def test_a_csv_without_the_needed_columns_is_reported():
    report = import_holdings(b"foo,bar\n1,2\n", "csv")
    assert report.created == 0 and report.errors[0][0] == 1


def marc_record(control, title, isbn=None, ncid=None, online=False):
    record = pymarc.Record()
    record.add_field(pymarc.Field(tag="001", data=control))
    record.add_field(pymarc.Field(tag="245", indicators=["1", "0"], subfields=[pymarc.Subfield("a", title)]))
    record.add_field(
        pymarc.Field(tag="100", indicators=["1", " "], subfields=[pymarc.Subfield("a", "Knuth, Donald E.,")])
    )
    record.add_field(pymarc.Field(tag="090", indicators=[" ", " "], subfields=[pymarc.Subfield("a", "007.64/K")]))
    if isbn:
        record.add_field(
            pymarc.Field(tag="020", indicators=[" ", " "], subfields=[pymarc.Subfield("a", isbn + " (pbk.)")])
        )
    if ncid:
        record.add_field(
            pymarc.Field(tag="035", indicators=[" ", " "], subfields=[pymarc.Subfield("a", f"(NCID){ncid}")])
        )
    if online:
        record.add_field(
            pymarc.Field(tag="856", indicators=["4", "0"], subfields=[pymarc.Subfield("u", "https://e.example/1")])
        )
        record.add_field(
            pymarc.Field(tag="338", indicators=[" ", " "], subfields=[pymarc.Subfield("a", "online resource")])
        )
    return record


def test_marc_records_are_imported():
    data = b"".join(
        r.as_marc()
        for r in [
            marc_record("M1", "The art of computer programming", isbn="0201896834", ncid="BA51293930"),
            marc_record("M2", "E-book", isbn="9780262046305", online=True),
            marc_record("M3", "Broken", isbn="12345"),
        ]
    )
    report = import_holdings(data, "marc")
    assert report.created == 3
    assert [line for line, _m in report.errors] == [3]
    art = LocalHolding.objects.get(source_id="M1")
    assert art.author == "Knuth, Donald E"
    assert set(art.identifiers.values_list("scheme", "value")) == {("isbn", "9780201896831"), ("ncid", "BA51293930")}
    assert LocalHolding.objects.get(source_id="M2").is_electronic


def test_the_command_prints_a_summary_and_line_numbered_problems(tmp_path, capsys):
    path = tmp_path / "holdings.csv"
    path.write_text(CSV, encoding="utf-8")
    call_command("import_holdings", str(path), verbosity=0)
    out, err = capsys.readouterr()
    assert "4 created, 0 updated, 3 problem(s)" in out
    assert "holdings.csv:5:" in err


def test_the_admin_upload_imports(admin_client):
    upload = io.BytesIO(CSV.encode("utf-8"))
    upload.name = "holdings.csv"
    response = admin_client.post("/admin/ill/localholding/import/", {"file": upload, "format": "csv"})
    assert response.status_code == 200
    assert LocalHolding.objects.count() == 4
    assert "978-4-10-101001-0" in response.content.decode()  # the bad line is listed
