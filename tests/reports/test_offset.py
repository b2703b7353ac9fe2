"""The fee-offset statement import: reading the 明細 CSV (UTF-8 with or without a BOM, CP932, a header
row or none), refusing bad files whole with their line numbers, matching its lines to our charges
(matched, amount / lender / postage differs, only in the statement, only here, twice), the lending
lines kept apart, the same file twice, and staff resolving what does not match."""

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from core.errors import ServiceError
from reports import offset
from reports.models import OffsetLine, OffsetStatement
from tests import factories as f

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("english"),
    pytest.mark.usefixtures("participant"),
]

SAMPLE = Path(__file__).parent / "data" / "offset_statement_2026-11.csv"
OURS = "FA001234"
NOV = timezone.make_aware(datetime.datetime(2026, 11, 3, 14, 0))
HEADER = ",".join(name for name, _width in offset.COLUMNS)


@pytest.fixture
def participant():
    with override_settings(NACSIS_PARTICIPANT_ID=OURS):
        yield


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def toto(db):
    return f.LendingInstitutionFactory(name="東都大学附属図書館", nacsis_participant_id="FA004321")


def charge(lender, ill_id, total, *, postage=0, payment_class="private", at=NOV, **request):
    req = f.RequestFactory(status="arrived", lender=lender, nacsis_ill_id=ill_id, **request)
    budget = f.BudgetCodeFactory() if payment_class in ("public", "grant") else None
    return f.ChargeFactory(
        request=req, total=total, postage=postage, payment_class=payment_class, budget_code=budget, created_at=at
    )


@pytest.fixture
def ours(toto):
    """Our charges for the sample statement's lines, and some it does not have."""
    other = f.LendingInstitutionFactory(is_offset_participant=False, accepts_public_expense=False)
    return {
        "matched": charge(toto, "FA26000001AA", 385, postage=140),
        "amount": charge(toto, "FA26000002AA", 1400, postage=140, payment_class="public"),
        "lender": charge(toto, "FA26000003AA", 1600, postage=1600),
        "details": charge(toto, "FA26000004AA", 385, postage=140),
        "only_here": charge(toto, "FA26000005AA", 800, at=timezone.make_aware(datetime.datetime(2026, 9, 20, 9))),
        "no_id": charge(toto, "", 245),
        "free": charge(toto, "FA26000006AA", 0),
        "not_offset": charge(other, "", 2000),
        "december": charge(toto, "FA26000007AA", 500, at=timezone.make_aware(datetime.datetime(2026, 12, 1, 0, 5))),
    }


def line(ill_id, *, total=385, postage="140", omlid=OURS, amlid="FA004321", rnwdt="20261130", acct="pr", ono=""):
    cells = [ill_id, rnwdt, "20261101", "確認", omlid, "", ono, amlid, "", "", "氏名", "所属", "C", "書誌", acct]
    return ",".join([*cells, str(total), postage, "", ""])


def statement_of(data: bytes, **kwargs) -> OffsetStatement:
    return offset.import_statement(data, file_name="meisai.csv", **kwargs)


def outcomes(statement):
    return {
        row.ill_id or row.charge.request.number: row.outcome
        for row in statement.lines.select_related("charge__request")
    }


def test_the_sample_statement_is_matched(ours):
    statement = statement_of(SAMPLE.read_bytes())
    assert statement.month == datetime.date(2026, 11, 1)
    assert statement.encoding == "utf-8-bom" and statement.line_count == 6
    found = outcomes(statement)
    assert found == {
        "FA26000001AA": "matched",
        "FA26000002AA": "amount",
        "FA26000003AA": "lender",
        "FA26000004AA": "details",
        "FA26000099ZZ": "only_statement",
        "FA26000500XY": "lending",
        "FA26000005AA": "only_here",
        ours["no_id"].request.number: "only_here",
    }  # not: the zero charge, the lender outside the offset, the charge of December
    assert statement.counts == {
        "matched": 1,
        "amount": 1,
        "lender": 1,
        "details": 1,
        "only_statement": 1,
        "lending": 1,
        "only_here": 2,
    }
    assert offset.mismatch_count(statement) == 6
    rows = {r.ill_id: r for r in statement.lines.all()}
    assert rows["FA26000002AA"].note == "SUM: ¥1,500 in the statement, ¥1,400 here (+100)."
    assert (rows["FA26000002AA"].charge, rows["FA26000002AA"].our_total) == (ours["amount"], 1400)
    assert "FA009999 in the statement, FA004321" in rows["FA26000003AA"].note
    assert rows["FA26000004AA"].note == "POSTG: ¥180 in the statement, ¥140 here."
    assert rows["FA26000099ZZ"].request is None and rows["FA26000099ZZ"].charge is None
    lent = rows["FA26000500XY"]
    assert (lent.charge, lent.request, lent.amlid, lent.omlid) == (None, None, OURS, "FA007777")
    only_here = rows["FA26000005AA"]
    assert only_here.line is None and only_here.charged_on == datetime.date(2026, 9, 20)
    assert only_here.age_days == 71  # 20 September to 30 November
    assert rows[""].note == "No NACSIS-ILL ID recorded."
    matched = rows["FA26000001AA"]
    assert (matched.bibliography, matched.ono, matched.ano) == (
        "Journal of Examples, 12(3), pp.1-7",
        "2026000001",
        "T-0001",
    )
    assert not OffsetLine.objects.filter(bibliography__contains="佐藤").exists()  # CLNT is not kept


def test_what_does_not_match_is_listed_first(ours):
    statement = statement_of(SAMPLE.read_bytes())
    lines, has_next = offset.lines_page(statement, "", 1, 100)
    order = [ln.outcome for ln in lines]
    assert order == ["lender", "amount", "details", "only_statement", "only_here", "only_here", "matched", "lending"]
    assert not has_next
    page1, more = offset.lines_page(statement, "mismatches", 1, 4)
    assert len(page1) == 4 and more
    assert [ln.outcome for ln in offset.lines_page(statement, "lending", 1, 10)[0]] == ["lending"]


def rows_of(*lines, header=False):
    return "\r\n".join(([HEADER] if header else []) + list(lines)) + "\r\n"


@pytest.mark.parametrize(
    ("encode", "header", "encoding"),
    [
        (lambda t: t.encode("cp932"), True, "cp932"),
        (lambda t: t.encode("cp932"), False, "cp932"),
        (lambda t: ("\ufeff" + t).encode("utf-8"), True, "utf-8-bom"),
        (lambda t: t.encode("utf-8"), False, "utf-8"),
    ],
)
def test_encodings_and_header(ours, encode, header, encoding):
    text = rows_of(line("FA26000001AA"), line("FA26000099ZZ", total=525, postage="0"), header=header)
    statement = statement_of(encode(text))
    assert statement.encoding == encoding and statement.line_count == 2
    assert outcomes(statement)["FA26000001AA"] == "matched"
    assert statement.lines.get(ill_id="FA26000001AA").state == "確認"


def test_an_old_file_of_18_columns_and_lower_case_ids_are_read(ours):
    old = ",".join(line("fa26000001aa").split(",")[:18])
    statement = statement_of(rows_of(old).encode())
    assert outcomes(statement)["FA26000001AA"] == "matched"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (line("FA26000001AA") + ",extra", "19 columns expected"),
        (line("FA2600001"), "ID must be 12 letters and digits"),
        (line("FA26000001AA", rnwdt="20261131"), "RNWDT is not a date"),
        (line("FA26000001AA", total="3百"), "SUM is not a whole number"),
        (line("FA26000001AA", total="123456789"), "at most 8 digits"),
        (line("FA26000001AA", postage="-5"), "POSTG is not a whole number"),
        (line("FA26000001AA", omlid="FA00999", amlid="FA004321"), "Neither OMLID"),
        (line("FA26000001AA", acct="public"), "ACCT is longer than 2 characters"),
        (line("FA26000001AA").replace("書誌", "書\x00誌"), "contains a NUL character"),  # it was a 500 at COPY
    ],
)
def test_a_bad_line_refuses_the_whole_file_with_its_number(ours, bad, message):
    data = rows_of(line("FA26000002AA", total=1400), bad, header=True).encode()
    with pytest.raises(offset.StatementError) as error:
        statement_of(data)
    assert error.value.problems[0][0] == 3  # the header is line 1
    assert message in error.value.problems[0][1]
    assert "nothing was imported" in error.value.message
    assert not OffsetStatement.objects.exists() and not OffsetLine.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n\r\n", "The file is empty."),
        (HEADER.encode() + b"\r\n", "no statement lines"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "nothing was imported"),
        (b"FA26000001AA,\x81\x7f\r\n", "neither UTF-8 nor Shift_JIS"),
    ],
)
def test_files_that_are_no_statement(data, message):
    with pytest.raises(offset.StatementError, match=message):
        statement_of(data)
    assert not OffsetStatement.objects.exists()


def test_another_librarys_statement_is_refused(ours):
    data = rows_of(line("FA26000001AA", omlid="FA005555", amlid="FA004321")).encode()
    with pytest.raises(offset.StatementError, match="No line of this statement has our participant ID FA001234"):
        statement_of(data)


def test_too_large_a_file_is_refused(ours, monkeypatch):
    monkeypatch.setattr(offset, "MAX_BYTES", 100)
    with pytest.raises(offset.StatementError, match="larger than"):
        statement_of(SAMPLE.read_bytes())


@override_settings(NACSIS_PARTICIPANT_ID="")
def test_without_our_participant_id_nothing_is_imported(ours):
    with pytest.raises(offset.StatementError, match="NACSIS_PARTICIPANT_ID"):
        statement_of(SAMPLE.read_bytes())


def test_the_same_file_twice_is_refused(ours):
    first = statement_of(SAMPLE.read_bytes())
    with pytest.raises(offset.StatementError, match="already imported") as error:
        statement_of(SAMPLE.read_bytes())
    assert error.value.existing == first
    assert OffsetStatement.objects.count() == 1


def test_a_request_twice_is_flagged(ours):
    data = rows_of(line("FA26000001AA"), line("FA26000001AA")).encode()
    statement = statement_of(data)
    first, second = statement.lines.filter(ill_id="FA26000001AA").order_by("line")
    assert (first.outcome, second.outcome) == ("matched", "duplicate")
    assert second.note == "The same request is on line 1."
    again = statement_of(rows_of(line("FA26000001AA", rnwdt="20261215")).encode())
    duplicate = again.lines.get(ill_id="FA26000001AA")
    assert duplicate.outcome == "duplicate" and "Already in the statement of November 2026" in duplicate.note


def test_a_request_without_a_charge_and_one_found_by_its_ono(ours, toto):
    pending = f.RequestFactory(status="ordered", lender=toto, nacsis_ill_id="FA26000010AA")
    by_ono = f.RequestFactory(status="arrived", lender=toto, number="ILL-2026-000042")
    data = rows_of(line("FA26000010AA"), line("FA26000011AA", ono="2026000042")).encode()
    rows = {r.ill_id: r for r in statement_of(data).lines.exclude(line=None)}
    assert rows["FA26000010AA"].outcome == "only_statement" and rows["FA26000010AA"].request == pending
    assert f"Request {pending.number} has no charge recorded yet." == rows["FA26000010AA"].note
    assert rows["FA26000011AA"].outcome == "only_statement" and rows["FA26000011AA"].request == by_ono
    assert "Request ILL-2026-000042 has this ONO (2026000042)" in rows["FA26000011AA"].note


def test_a_lender_without_a_participant_id_is_said_so(ours, toto):
    toto.nacsis_participant_id = ""
    toto.save()
    statement = statement_of(rows_of(line("FA26000001AA")).encode())
    row = statement.lines.get(ill_id="FA26000001AA")
    assert row.outcome == "lender" and "has no NACSIS participant ID recorded here" in row.note


def test_acct_is_a_secondary_check(ours):
    statement = statement_of(rows_of(line("FA26000001AA", acct="pb")).encode())
    row = statement.lines.get(ill_id="FA26000001AA")
    assert (row.outcome, row.note) == ("details", "ACCT: pb in the statement, pr here.")


def test_a_later_statement_finds_a_charge_only_here_earlier(ours, staff_user):
    november = statement_of(SAMPLE.read_bytes())
    waiting = november.lines.get(outcome="only_here", charge=ours["only_here"])
    december = statement_of(rows_of(line("FA26000005AA", total=800, postage="0", rnwdt="20261220")).encode())
    assert december.month == datetime.date(2026, 12, 1)
    assert december.lines.get(ill_id="FA26000005AA").outcome == "matched"
    waiting.refresh_from_db()
    assert waiting.resolved_at is not None and waiting.resolution == "Found in the statement of December 2026."
    # December's "only here" has the charge recorded on 1 December, not the one just found.
    here = set(december.lines.filter(outcome="only_here").values_list("charge", flat=True))
    assert ours["december"].pk in here and ours["only_here"].pk not in here


def test_charges_older_than_twelve_months_are_not_looked_for(ours, toto):
    old = charge(toto, "FA25000001AA", 700, at=timezone.make_aware(datetime.datetime(2025, 11, 30, 12)))
    year_ago = charge(toto, "FA25000002AA", 700, at=timezone.make_aware(datetime.datetime(2025, 12, 1, 12)))
    statement = statement_of(SAMPLE.read_bytes())
    here = set(statement.lines.filter(outcome="only_here").values_list("charge", flat=True))
    assert year_ago.pk in here and old.pk not in here


def test_staff_resolve_a_mismatch(ours, staff_user):
    november = statement_of(SAMPLE.read_bytes())
    amount = november.lines.get(ill_id="FA26000002AA")
    assert offset.resolve(amount, user=staff_user, note="Lender's invoice corrected") == 1
    amount.refresh_from_db()
    assert (amount.resolved_by, amount.resolution) == (staff_user, "Lender's invoice corrected")
    assert amount.resolved_at is not None
    with pytest.raises(ServiceError, match="already marked resolved"):
        offset.resolve(amount, user=staff_user, note="again")
    with pytest.raises(ServiceError, match="Only a line that does not match"):
        offset.resolve(november.lines.get(outcome="matched"), user=staff_user, note="x")
    assert offset.open_count(november) == 5


def test_resolving_a_charge_only_here_resolves_it_everywhere_and_it_is_not_listed_again(ours, staff_user):
    november = statement_of(SAMPLE.read_bytes())
    december = statement_of(rows_of(line("FA26000099ZZ", rnwdt="20261220", total=525, postage="0")).encode())
    nov_row = november.lines.get(outcome="only_here", charge=ours["only_here"])
    dec_row = december.lines.get(outcome="only_here", charge=ours["only_here"])
    assert offset.resolve(dec_row, user=staff_user, note="Paid by invoice, not by the offset") == 2
    nov_row.refresh_from_db()
    assert nov_row.resolution == "Paid by invoice, not by the offset"
    january = statement_of(rows_of(line("FA26000098ZZ", rnwdt="20270115", total=525, postage="0")).encode())
    assert not january.lines.filter(charge=ours["only_here"]).exists()


# --- the pages ------------------------------------------------------------------------------


def upload(desk, data: bytes, name="meisai.csv", month=""):
    return desk.post(
        "/desk/reports/offset/", {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "month": month}
    )


def test_the_pages(desk, ours):
    assert desk.get("/desk/reports/offset/").status_code == 200
    response = upload(desk, SAMPLE.read_bytes())
    assert response.status_code == 302
    statement = OffsetStatement.objects.get()
    assert response["Location"] == f"/desk/reports/offset/{statement.pk}/"
    page = desk.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert ours["amount"].request.get_desk_url() in html and "SUM: ¥1,500 in the statement" in html
    assert html.index('data-outcome="lender"') < html.index('data-outcome="matched"')
    only = desk.get(f"{response['Location']}?outcome=only_statement").content.decode()
    assert "FA26000099ZZ" in only and "FA26000001AA" not in only
    assert desk.get(f"{response['Location']}?outcome=bogus").status_code == 400
    listing = desk.get("/desk/reports/offset/").content.decode()
    assert "meisai.csv" in listing and "November 2026" in listing
    line_pk = statement.lines.get(ill_id="FA26000002AA").pk
    resolved = desk.post(f"/desk/reports/offset/line/{line_pk}/resolve/", {"note": "Invoice corrected"})
    assert resolved.status_code == 302
    assert OffsetLine.objects.get(pk=line_pk).resolution == "Invoice corrected"
    assert desk.post(f"/desk/reports/offset/line/{line_pk}/resolve/", {"note": ""}).status_code == 302
    assert OffsetLine.objects.get(pk=line_pk).resolution == "Invoice corrected"


def test_a_bad_file_is_a_page_with_its_lines_not_a_500(desk, ours):
    data = rows_of(line("FA26000001AA"), line("BAD"), line("FA26000002AA", total="x"), header=True).encode("cp932")
    response = upload(desk, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "problems on 2 lines; nothing was imported" in html
    assert "Line 3:" in html and "Line 4:" in html
    assert not OffsetStatement.objects.exists()
    again = upload(desk, SAMPLE.read_bytes())
    assert again.status_code == 302
    twice = upload(desk, SAMPLE.read_bytes(), name="copy.csv")
    assert twice.status_code == 409 and "already imported" in twice.content.decode()
    assert OffsetStatement.objects.count() == 1


def test_the_month_can_be_given(desk, ours):
    assert upload(desk, SAMPLE.read_bytes(), month="2026-12").status_code == 302
    assert OffsetStatement.objects.get().month == datetime.date(2026, 12, 1)
    assert upload(desk, SAMPLE.read_bytes() + b"\r\n", month="12/2026").status_code == 400


def test_the_pages_are_for_desk_staff(client, undergraduate):
    client.force_login(undergraduate.user)
    assert client.get("/desk/reports/offset/").status_code in (302, 403)


def test_the_import_does_not_query_per_line(ours, toto, django_assert_max_num_queries):
    """10,000 lines in seconds: the requests are read in batches, the lines written at once (COPY on
    PostgreSQL), our unmatched charges added by one INSERT … SELECT; never a query per line."""
    lines = [line(f"FA2600{n:04d}XX", total=100 + n, postage="0") for n in range(600)]
    for n in range(0, 600, 3):
        charge(toto, f"FA2600{n:04d}XX", 100 + n)
    with django_assert_max_num_queries(25):
        statement = statement_of(rows_of(*lines).encode())
    assert statement.counts["matched"] == 200 and statement.counts["only_statement"] == 400
