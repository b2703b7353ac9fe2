"""Importing the library's holdings from CSV and MARC: idempotent, all or nothing (a bad line and
nothing is applied, every bad line listed with its number), and every bad file explained with its
line or record — never an exception (issue 12, finding 3)."""

import pymarc
import pytest
from django.core.management import CommandError, call_command

from ill.holdings import import_holdings
from ill.models import HoldingsImport, HoldingsImportRow, LocalHolding, LocalHoldingIdentifier
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

GOOD_CSV = """record_id,title,author,call_number,status,isbn,issn,electronic
BIB001,吾輩は猫である,夏目漱石,913.6/N,available,4-10-101001-3;978-4-10-101001-4,,
BIB002,Introduction to Algorithms,"Cormen, T.",007.64/C,on loan,9780262046305,,
BIB003,Nature,,P/NAT,,,0028-0836,yes
BIB004,Kokoro,夏目漱石,913.6/N/3,,,,
"""
BAD_LINES = """,No ID,,,,,,
BIB005,Bad ISBN,,,,978-4-10-101001-0,,
BIB006,Odd status,,,borrowed?,,,
"""
CSV = GOOD_CSV + BAD_LINES


def imported(data, fmt="csv") -> HoldingsImport:
    return import_holdings(data if isinstance(data, bytes) else data.encode("utf-8"), fmt)


def test_a_good_csv_is_imported_with_its_identifiers():
    job = imported(GOOD_CSV)
    assert (job.state, job.created_count, job.updated_count, job.error_count) == ("done", 4, 0, 0)
    cat = LocalHolding.objects.get(source_id="BIB001")
    assert set(cat.identifiers.values_list("scheme", "value")) == {("isbn", "9784101010014")}
    assert LocalHolding.objects.get(source_id="BIB002").status == "on_loan"
    nature = LocalHolding.objects.get(source_id="BIB003")
    assert nature.is_electronic and nature.identifiers.get().value == "0028-0836"
    assert HoldingsImportRow.objects.count() == 0  # the staging rows are gone
    assert bytes(HoldingsImport.objects.get(pk=job.pk).data) == b""


def test_bad_lines_are_all_listed_with_their_number_and_nothing_is_imported():
    job = imported(CSV)
    assert job.state == "failed" and job.created_count == 0
    assert [line for line, _message in job.errors] == [6, 7, 8]
    assert "record ID" in job.errors[0][1]
    assert "ISBN" in job.errors[1][1]
    assert "borrowed?" in job.errors[2][1]
    assert "nothing was imported" in job.message
    assert LocalHolding.objects.count() == 0


def test_a_bad_line_at_the_end_leaves_the_holdings_as_they_were():
    imported(GOOD_CSV)
    changed = GOOD_CSV.replace("913.6/N,available", "913.6/N/2,on_loan").replace("Nature", "Nature (new)")
    job = imported(changed + "BIB999,Last line,,,no such status,,,\n")
    assert job.state == "failed" and job.errors == [[6, "unknown status “no such status”"]]
    cat = LocalHolding.objects.get(source_id="BIB001")
    assert (cat.call_number, cat.status) == ("913.6/N", "available")
    assert LocalHolding.objects.filter(title="Nature").exists()
    assert not LocalHolding.objects.filter(source_id="BIB999").exists()
    assert LocalHoldingIdentifier.objects.count() == 3


def test_importing_again_updates_instead_of_duplicating_and_keeps_holdings_not_in_the_file():
    imported(GOOD_CSV)
    changed = GOOD_CSV.replace("913.6/N,available", "913.6/N/2,on_loan").replace(
        "BIB004,Kokoro,夏目漱石,913.6/N/3,,,,\n", ""
    )
    job = imported(changed + "BIB010,New book,,,,,,\n")
    assert (job.created_count, job.updated_count) == (1, 3)
    assert LocalHolding.objects.count() == 5  # BIB004 is kept
    assert LocalHoldingIdentifier.objects.filter(value="9784101010014").count() == 1
    cat = LocalHolding.objects.get(source_id="BIB001")
    assert (cat.call_number, cat.status) == ("913.6/N/2", "on_loan")


def test_identifiers_are_replaced():
    imported(GOOD_CSV)
    imported(GOOD_CSV.replace("4-10-101001-3;978-4-10-101001-4", "9780262046305"))
    cat = LocalHolding.objects.get(source_id="BIB001")
    assert list(cat.identifiers.values_list("value", flat=True)) == ["9780262046305"]


def test_a_record_repeated_in_one_file_takes_its_last_line():
    job = imported("record_id,title\nB1,First\nB2,Other\nB1,Second\n")
    assert (job.state, job.created_count) == ("done", 2)
    assert LocalHolding.objects.get(source_id="B1").title == "Second"


def test_the_branch_column_names_a_known_branch():
    branch = f.BranchFactory(code="medical")
    job = imported("record_id,title,branch\nB1,Anatomy,medical\nB2,Physiology,\n")
    assert job.state == "done"
    assert LocalHolding.objects.get(source_id="B1").branch == branch
    job = imported("record_id,title,branch\nB3,Surgery,nowhere\n")
    assert job.state == "failed" and job.errors[0][0] == 2 and "nowhere" in job.errors[0][1]


def test_shift_jis_and_japanese_headers_are_understood():
    data = "書誌ID,書名,著者,請求記号,貸出状態,ISBN\nB1,羅生門,芥川龍之介,913.6/A,貸出中,9784003107010\n".encode(
        "cp932"
    )
    job = imported(data)
    assert job.errors == [] and job.created_count == 1
    assert LocalHolding.objects.get(source_id="B1").status == "on_loan"


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


GOOD_RECORDS = [
    marc_record("M1", "The art of computer programming", isbn="0201896834", ncid="BA51293930"),
    marc_record("M2", "E-book", isbn="9780262046305", online=True),
]


def marcxml(records, namespace=True) -> bytes:
    ns = ' xmlns="http://www.loc.gov/MARC21/slim"' if namespace else ""
    body = b"\n".join(pymarc.record_to_xml(r) for r in records)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<collection' + ns.encode() + b">\n" + body + b"\n</collection>\n"


def test_marc_records_are_imported():
    job = imported(b"".join(r.as_marc() for r in GOOD_RECORDS), "marc")
    assert (job.state, job.created_count) == ("done", 2)
    art = LocalHolding.objects.get(source_id="M1")
    assert art.author == "Knuth, Donald E"
    assert set(art.identifiers.values_list("scheme", "value")) == {("isbn", "9780201896831"), ("ncid", "BA51293930")}
    assert LocalHolding.objects.get(source_id="M2").is_electronic


def test_a_bad_marc_record_is_named_by_its_number_and_nothing_is_imported():
    data = b"".join(r.as_marc() for r in [*GOOD_RECORDS, marc_record("M3", "Broken", isbn="12345")])
    job = imported(data, "marc")
    assert job.state == "failed" and [line for line, _m in job.errors] == [3]
    assert LocalHolding.objects.count() == 0


@pytest.mark.parametrize("namespace", [True, False])
def test_marcxml_is_imported(namespace):
    job = imported(marcxml(GOOD_RECORDS, namespace), "marc")
    assert (job.state, job.created_count) == ("done", 2)
    assert LocalHolding.objects.get(source_id="M2").is_electronic


def test_marcxml_inside_an_oai_pmh_answer_is_read():
    inner = pymarc.record_to_xml(GOOD_RECORDS[0], namespace=True)
    data = (
        b'<?xml version="1.0"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>'
        b"<record><header><identifier>oai:x:1</identifier></header><metadata>" + inner + b"</metadata></record>"
        b"</ListRecords></OAI-PMH>\n"
    )
    job = imported(data, "marc")
    assert (job.state, job.created_count) == ("done", 1)


def test_a_bad_marcxml_record_names_its_number_and_line():
    records = [*GOOD_RECORDS, marc_record("M3", "Broken", isbn="12345")]
    job = imported(marcxml(records), "marc")
    assert job.state == "failed" and job.errors[0][0] == 3 and "(line 5)" in job.errors[0][1]


MALFORMED_XML = b"""<?xml version="1.0"?>
<collection xmlns="http://www.loc.gov/MARC21/slim">
<record><controlfield tag="001">X1</controlfield>
<datafield tag="245" ind1="0" ind2="0"><subfield code="a">One</subfield></datafield></record>
<record><controlfield tag="001">X2</controlfield>
<datafield tag="245" ind1="0" ind2="0"><subfield code="a">Two</subfield></record>
</collection>
"""
ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE collection [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<collection><record><controlfield tag="001">&b;</controlfield></record></collection>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE collection [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<collection><record><controlfield tag="001">&secret;</controlfield></record></collection>
"""
ISO = b"".join(r.as_marc() for r in GOOD_RECORDS)


@pytest.mark.parametrize(
    ("data", "fmt", "line", "words"),
    [
        pytest.param(b"record_id,title\nB1,One\nB2,T\x00wo\n", "csv", 3, "NUL byte", id="nul-byte"),
        pytest.param(
            b'record_id,title\nB1,One\nB2,"' + b"x" * 140_000 + b'"\n', "csv", 3, "longer than 131,072", id="long-field"
        ),
        pytest.param(b"record_id,title\nB1,One\nB2,\x85\x20\n", "csv", 3, "neither UTF-8 nor Shift_JIS", id="encoding"),
        pytest.param("record_id,title\nB1,One\n".encode("utf-16"), "csv", 1, "UTF-16", id="utf-16"),
        pytest.param(b"code,name\n1,2\n", "csv", 1, "no column for source_id, title", id="missing-columns"),
        pytest.param(b"record_id,title\n", "csv", 0, "no lines", id="header-only"),
        pytest.param(b"", "csv", 0, "empty", id="empty-csv"),
        pytest.param(b"  \n", "marc", 0, "empty", id="empty-marc"),
        pytest.param(marcxml(GOOD_RECORDS), "csv", 1, "choose the MARC format", id="xml-as-csv"),
        pytest.param(MALFORMED_XML, "marc", 2, "line 6, column", id="malformed-marcxml"),
        pytest.param(
            b'<?xml version="1.0"?>\n<books><book id="1"><title>A</title></book></books>\n',
            "marc",
            0,
            "no MARC records found — is this a MARCXML export?",
            id="not-marc-xml",
        ),
        pytest.param(ENTITY_BOMB, "marc", 0, "declares entities", id="entity-expansion"),
        pytest.param(EXTERNAL_ENTITY, "marc", 0, "declares entities", id="external-entity"),
        pytest.param(ISO[:-10], "marc", 2, "truncated", id="truncated-iso2709"),
        pytest.param(ISO + b"garbage!", "marc", 3, "damaged", id="garbage-after-records"),
        pytest.param(GOOD_CSV.encode(), "marc", 1, "not an ISO 2709", id="csv-as-marc"),
        pytest.param(
            b'<?xml version="1.0"?>\n<collection>\n<record><controlfield>X</controlfield></record></collection>',
            "marc",
            1,
            "not valid MARCXML",
            id="marcxml-without-tag",
        ),
    ],
)
def test_every_bad_file_is_explained_with_its_line_or_record(data, fmt, line, words):
    LocalHolding.objects.create(source_id="KEEP", title="Kept")
    job = imported(data, fmt)
    assert job.state == "failed"
    assert job.errors[-1][0] == line, job.errors
    assert words in job.errors[-1][1], job.errors
    assert list(LocalHolding.objects.values_list("source_id", "title")) == [("KEEP", "Kept")]
    assert HoldingsImportRow.objects.count() == 0


def test_at_most_200_problems_are_kept_but_all_are_counted():
    data = "record_id,title,status\n" + "".join(f"B{n},Title,odd\n" for n in range(250))
    job = imported(data)
    assert job.error_count == 250 and len(job.errors) == 200
    assert job.errors[0][0] == 2 and job.errors[-1][0] == 201


def test_the_command_prints_a_summary(tmp_path, capsys):
    path = tmp_path / "holdings.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    call_command("import_holdings", str(path), verbosity=0)
    out, _err = capsys.readouterr()
    assert "4 created, 0 updated" in out
    assert HoldingsImport.objects.get().state == "done"


def test_the_command_lists_the_bad_lines_and_imports_nothing(tmp_path, capsys):
    path = tmp_path / "holdings.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="3 problems: nothing was imported"):
        call_command("import_holdings", str(path), verbosity=0)
    _out, err = capsys.readouterr()
    assert "holdings.csv:6: no record ID" in err and "holdings.csv:8:" in err
    assert LocalHolding.objects.count() == 0


def test_the_command_explains_a_bad_marc_file(tmp_path, capsys):
    path = tmp_path / "export.xml"
    path.write_bytes(MALFORMED_XML)
    with pytest.raises(CommandError):
        call_command("import_holdings", str(path), verbosity=0)
    assert "export.xml:2: line 6, column" in capsys.readouterr().err
