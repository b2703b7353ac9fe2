"""The NACSIS-ILL charge-line export (its fields, the SUM identity, ACCT, the month, the lenders) and
the NACSIS-ILL ID: validated in form, model and database, recorded at ordering, kept through the hops
to the next candidate, corrected afterwards with a line in the history."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from core.errors import ServiceError
from ill import services
from ill.forms_desk import NacsisIdField
from ill.models import LendingInstitution, Request
from ill.services.ordering import clean_nacsis_ill_id, set_nacsis_ill_id
from reports import nacsis
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NOV = timezone.make_aware(datetime.datetime(2026, 11, 10, 10, 0))
PERIOD = nacsis.month_period(2026, 11)
COLS = [c.key for c in nacsis.columns()]


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    return client


def as_dicts(rows):
    return [dict(zip(COLS, row, strict=True)) for row in rows]


def copy_charge(lender, *, a_lines, postage=0, c_lines=(), adjustment=0, payment_class="private", **request):
    """A copy's charge with its lines: A as (code, unit, qty), C as (code, amount)."""
    req = f.CopyRequestFactory(status="arrived", lender=lender, paper_size="A4", **request)
    copy_fee = sum(u * q for _c, u, q in a_lines)
    other = sum(a for _c, a in c_lines)
    tax = sum(a for c, a in c_lines if c == "tax")
    budget = f.BudgetCodeFactory(code="2026-ENG-0301") if payment_class in ("public", "grant") else None
    charge = f.ChargeFactory(
        request=req,
        payment_class=payment_class,
        budget_code=budget,
        copy_fee=copy_fee,
        postage=postage,
        other_fees=other,
        tax=tax,
        computed_total=copy_fee + postage + other,
        total=copy_fee + postage + other + adjustment,
        adjustment=adjustment,
        adjustment_reason="lender's invoice" if adjustment else "",
        created_at=NOV,
    )
    position = 0
    for code, unit, qty in a_lines:
        position += 1
        f.ChargeLineFactory(
            charge=charge, position=position, code=code, section="A", unit_price=unit, quantity=qty, amount=unit * qty
        )
    if postage:
        position += 1
        f.ChargeLineFactory(
            charge=charge,
            position=position,
            code="postage",
            section="B",
            unit_price=postage,
            quantity=1,
            amount=postage,
        )
    for code, amount in c_lines:
        position += 1
        f.ChargeLineFactory(
            charge=charge, position=position, code=code, section="C", unit_price=amount, quantity=1, amount=amount
        )
    return charge


@pytest.fixture
def toto(db):
    return f.LendingInstitutionFactory(
        name="東都大学附属図書館", name_en="Toto University Library", nacsis_participant_id="FA004321"
    )


def test_a_copy_record_carries_every_field_and_sum_is_the_total(toto):
    charge = copy_charge(
        toto,
        a_lines=[("copy_mono", 50, 5), ("copy_colour", 200, 2)],
        postage=140,
        c_lines=[("handling", 400), ("bank_transfer", 210), ("tax", 90)],
        adjustment=-10,
        payment_class="public",
        nacsis_ill_id="FA26000123AB",
        number="ILL-2026-000123",
    )
    rows = as_dicts(nacsis.iter_rows(PERIOD))
    assert len(rows) == 2  # one row per A line; the record's fields on the first
    first, second = rows
    assert first["date"] == datetime.date(2026, 11, 10)
    assert (first["ill_id"], first["number"], first["ono"]) == ("FA26000123AB", "ILL-2026-000123", "2026000123")
    assert (first["lender"], first["amlid"], first["kind"]) == ("Toto University Library", "FA004321", "Copy")
    assert (first["group"], first["item"], first["uprce"], first["qnt"], first["chrge"]) == (1, "A4", 50, 5, 250)
    assert (second["group"], second["item"], second["uprce"], second["qnt"], second["chrge"]) == (
        2,
        "A4 colour",
        200,
        2,
        400,
    )
    # FEE = C (handling + transfer + tax) + adjustment; POSTG = B; SUM = ΣCHRGE + FEE + POSTG = total.
    assert (first["fee"], first["postg"], first["sum"]) == (400 + 210 + 90 - 10, 140, charge.total)
    assert first["chrge"] + second["chrge"] + first["fee"] + first["postg"] == first["sum"] == 1480
    assert (first["acct"], first["oldaf"]) == ("pb", "2026-ENG-0301")
    assert "Adjustment" in first["note"]
    assert [second[k] for k in ("fee", "postg", "sum", "acct", "oldaf")] == [None] * 5  # summed once


def test_a_loan_is_one_row_its_postage_in_postg(toto):
    request = f.RequestFactory(status="arrived", lender=toto, nacsis_ill_id="FA26000124AB")
    charge = f.ChargeFactory(request=request, postage=1600, total=1600, created_at=NOV)
    f.ChargeLineFactory(charge=charge)
    (row,) = as_dicts(nacsis.iter_rows(PERIOD))
    assert (row["kind"], row["item"], row["chrge"], row["fee"], row["postg"], row["sum"], row["acct"]) == (
        "Loan",
        "",
        None,
        0,
        1600,
        1600,
        "pr",
    )


def test_more_than_ten_copy_lines_fold_into_fee_with_a_note(toto):
    lines = [("copy_mono", 10 + n, 1) for n in range(12)]
    charge = copy_charge(toto, a_lines=lines, postage=140)
    rows = as_dicts(nacsis.iter_rows(PERIOD))
    assert len(rows) == nacsis.MAX_GROUPS == 10
    folded = 20 + 21  # the 11th and 12th lines
    assert rows[0]["fee"] == folded
    assert sum(r["chrge"] for r in rows) + rows[0]["fee"] + rows[0]["postg"] == rows[0]["sum"] == charge.total
    assert "2 more copy-fee lines" in rows[0]["note"]


def test_a_charge_entered_by_staff_without_lines_is_all_fee(toto):
    request = f.RequestFactory(status="arrived", lender=toto)
    f.ChargeFactory(request=request, total=900, computed_total=0, adjustment_reason="no schedule", created_at=NOV)
    (row,) = as_dicts(nacsis.iter_rows(PERIOD))
    assert (row["fee"], row["postg"], row["sum"]) == (900, 0, 900)
    assert "No NACSIS-ILL ID recorded." in row["note"]


def test_the_identity_is_checked(toto):
    charge = {
        "id": 1,
        "created_at": NOV,
        "total": 1000,
        "copy_fee": 500,
        "postage": 140,
        "other_fees": 0,
        "adjustment": 0,  # 500 + 140 ≠ 1000: the parts do not add up
        "payment_class": "private",
        "budget_code__code": None,
        "request__number": "ILL-2026-000001",
        "request__nacsis_ill_id": "",
        "request__kind": "copy",
        "request__paper_size": "A4",
        "request__lender__name": "x",
        "request__lender__name_en": "",
        "request__lender__nacsis_participant_id": "",
    }
    with pytest.raises(nacsis.ExportMismatch):
        nacsis.record_rows(charge, [("copy_mono", 50, 10, 500)], kinds={}, english=True)


@pytest.mark.parametrize(
    ("payment_class", "acct"), [("public", "pb"), ("grant", "pb"), ("support", "pb"), ("private", "pr")]
)
def test_acct_from_the_payment_class(payment_class, acct):
    assert nacsis.acct_code(payment_class) == acct


@override_settings(NACSIS_ACCT_CODES={"public": "pb", "grant": "kh", "support": "pb", "private": "pr"})
def test_acct_codes_are_a_setting():
    assert nacsis.acct_code("grant") == "kh"


@pytest.mark.parametrize(
    ("number", "ono"),
    [("ILL-2026-000123", "2026000123"), ("ILL-2026-999999", "2026999999"), ("ILL-2026-1234567", "2601234567")],
)
def test_ono_is_our_number_in_ten_characters(number, ono):
    assert nacsis.compact_number(number) == ono
    assert len(ono) <= 10


def test_the_month_is_the_charge_recorded_in_japan_time_and_offset_lenders_by_default(toto):
    other = f.LendingInstitutionFactory(is_offset_participant=False, accepts_public_expense=False)
    inside = f.ChargeFactory(request__lender=toto, created_at=NOV)
    f.ChargeFactory(request__lender=other, created_at=NOV)
    # 1 December 00:30 in Tokyo is 30 November in UTC: it counts in December.
    f.ChargeFactory(request__lender=toto, created_at=timezone.make_aware(datetime.datetime(2026, 12, 1, 0, 30)))
    numbers = {r["number"] for r in as_dicts(nacsis.iter_rows(PERIOD))}
    assert numbers == {inside.request.number}
    assert len(list(nacsis.iter_rows(PERIOD, nacsis.ALL))) == 2


def test_the_stream_reads_in_batches(toto):
    made = [f.ChargeFactory(request__lender=toto, created_at=NOV) for _ in range(5)]
    rows = list(nacsis.iter_rows(PERIOD, batch=2))
    assert [r[2] for r in rows] == [c.request.number for c in made]


def test_the_page_defaults_to_last_month(desk):
    assert nacsis.last_month(datetime.date(2026, 4, 1)) == datetime.date(2026, 3, 1)
    assert nacsis.last_month(datetime.date(2027, 1, 31)) == datetime.date(2026, 12, 1)
    month = nacsis.last_month()
    response = desk.get("/desk/reports/nacsis/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"?year={nacsis.fiscal_year_of(month)}&month={month.month}")


def test_the_page_and_its_downloads(desk, toto):
    copy_charge(toto, a_lines=[("copy_mono", 35, 7)], postage=140, nacsis_ill_id="FA26000125AB")
    page = desk.get("/desk/reports/nacsis/?year=2026&month=11")
    assert page.status_code == 200
    html = page.content.decode()
    assert "FA26000125AB" in html and "the month it was recorded" in html
    csv_response = desk.get("/desk/reports/nacsis/?year=2026&month=11&export=csv&table=nacsis")
    assert csv_response.status_code == 200 and csv_response.streaming
    text = b"".join(csv_response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    header, row = list(csv.reader(io.StringIO(text[1:])))
    assert header[:4] == ["Date", "ID (NACSIS-ILL)", "Request number", "ONO"]
    assert header[8:17] == ["ITEM", "UPRCE", "QNT", "CHRGE", "FEE", "POSTG", "SUM", "ACCT", "OLDAF"]
    assert row[1] == "FA26000125AB" and row[8:15] == ["A4", "35", "7", "245", "0", "140", "385"]
    xlsx = desk.get("/desk/reports/nacsis/?year=2026&month=11&export=xlsx&table=nacsis")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][14] == "SUM" and values[1][14] == 385 and values[1][1] == "FA26000125AB"


def test_the_excel_file_needs_a_month(desk, toto):
    response = desk.get("/desk/reports/nacsis/?year=2026&export=xlsx&table=nacsis")
    assert response.status_code == 302 and "export" not in response["Location"]
    assert desk.get("/desk/reports/nacsis/?year=2026&export=csv&table=nacsis").status_code == 200


def test_the_export_is_for_desk_staff_only(client, undergraduate):
    client.force_login(undergraduate.user)
    assert client.get("/desk/reports/nacsis/?year=2026&month=11").status_code in (302, 403)


# --- the NACSIS-ILL ID ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("FA26000001AA", "FA26000001AA"),
        ("fa26000001aa", "FA26000001AA"),
        ("ＦＡ２６ ０００００１ＡＡ", "FA26000001AA"),
        ("", ""),
    ],
)
def test_the_form_field_normalises(typed, stored):
    assert NacsisIdField().clean(typed) == stored


@pytest.mark.parametrize("typed", ["FA2600001", "FA26000001AAB", "FA2600000!AA", "ＦＡ２６"])
def test_a_bad_id_is_refused_by_form_service_model_and_database(typed):
    with pytest.raises(ValidationError, match="12 letters and digits"):
        NacsisIdField().clean(typed)
    with pytest.raises(ServiceError, match="12 letters and digits"):
        clean_nacsis_ill_id(typed)
    request = f.RequestFactory()
    request.nacsis_ill_id = typed.upper()
    with pytest.raises(ValidationError):
        request.full_clean(exclude=["patron", "pickup_branch"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(nacsis_ill_id="fa26000001aa")


def test_the_order_form_records_the_id_and_the_forward_keeps_it(desk, lender, second_lender):
    request = f.RequestFactory()
    response = desk.post(
        f"/desk/requests/{request.number}/order/",
        {
            "lender_1": lender.code,
            "lender_2": second_lender.code,
            "shipping_method": "mail",
            "nacsis_ill_id": "fa26 000001aa",
        },
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.nacsis_ill_id == "FA26000001AA"
    assert desk.post(f"/desk/requests/{request.number}/mark_unfilled/", {"reason": "not_held"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.lender, request.nacsis_ill_id) == ("ordered", second_lender, "FA26000001AA")
    orders = list(request.events.filter(action="order").values_list("data__nacsis_ill_id", flat=True))
    assert orders == ["FA26000001AA", "FA26000001AA"]


def test_a_bad_id_on_the_order_form_is_a_form_error(desk, lender):
    request = f.RequestFactory()
    response = desk.post(
        f"/desk/requests/{request.number}/order/",
        {"lender_1": lender.code, "shipping_method": "mail", "nacsis_ill_id": "FA123"},
    )
    assert response.status_code == 400
    assert "12 letters and digits" in response.content.decode()
    request.refresh_from_db()
    assert (request.status, request.nacsis_ill_id) == ("submitted", "")


def test_an_id_already_on_another_request_is_refused(staff_user, lender):
    f.RequestFactory(nacsis_ill_id="FA26000001AA")
    request = f.RequestFactory()
    with pytest.raises(ServiceError, match="already recorded on request"):
        services.order(request, actor=staff_user, lenders=[lender], nacsis_ill_id="FA26000001AA")
    request.refresh_from_db()
    assert (request.status, request.nacsis_ill_id) == ("submitted", "")


def test_staff_correct_the_id_afterwards_with_a_line_in_the_history(desk, staff_user, lender):
    request = f.RequestFactory()
    services.order(request, actor=staff_user, lenders=[lender], nacsis_ill_id="FA26000001AA")
    response = desk.post(f"/desk/reports/nacsis/id/{request.number}/", {"nacsis_ill_id": "FA26000001AB"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.nacsis_ill_id == "FA26000001AB"
    event = request.events.get(action="nacsis_ill_id")
    assert event.data == {"old": "FA26000001AA", "new": "FA26000001AB"} and event.actor == staff_user
    assert not event.visible_to_patron
    page = desk.get(request.get_desk_url()).content.decode()
    assert "FA26000001AB" in page and "changed from FA26000001AA" in page
    bad = desk.post(f"/desk/reports/nacsis/id/{request.number}/", {"nacsis_ill_id": "nope"})
    assert bad.status_code == 400 and "12 letters and digits" in bad.content.decode()
    request.refresh_from_db()
    assert request.nacsis_ill_id == "FA26000001AB"
    set_nacsis_ill_id(request, "FA26000001AB", actor=staff_user)  # unchanged: no second line
    assert request.events.filter(action="nacsis_ill_id").count() == 1


def test_a_lender_participant_id_is_upper_case_and_unique(toto):
    lender = f.LendingInstitutionFactory.build(code="NEW1", nacsis_participant_id="fa004321")
    with pytest.raises(ValidationError) as error:
        lender.full_clean()
    assert "Another lender already has this NACSIS participant ID." in str(error.value)  # upper-cased, then taken
    lender.nacsis_participant_id = "fa00999"
    lender.full_clean()
    assert lender.nacsis_participant_id == "FA00999"
    with pytest.raises(IntegrityError), transaction.atomic():
        LendingInstitution.objects.filter(pk=toto.pk).update(nacsis_participant_id="fa004321")


def test_the_database_keeps_one_request_per_nacsis_ill_id():
    """The check in the service is backed by a unique constraint: two staff entering one ID at the
    same moment cannot both succeed (the service also serialises them on the ID)."""
    first, second = f.RequestFactory(), f.RequestFactory()
    Request.objects.filter(pk=first.pk).update(nacsis_ill_id="FA26000001AA")
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=second.pk).update(nacsis_ill_id="FA26000001AA")
    Request.objects.filter(pk__in=[first.pk, second.pk]).update(nacsis_ill_id="")  # blank stays free for many
