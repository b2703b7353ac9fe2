"""The lending side of a fee-offset statement: the lines where we are the lender beside our lending
charges (by NACSIS-ILL ID, then borrowing library and amount), and the matched charges settled only when
staff confirm them, all or nothing."""

import datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.errors import ServiceError, TransitionNotAllowed
from lending import services
from lending.models import LendingCharge
from reports import offset, offset_lending
from tests import factories as f
from tests.lending.test_services import receive_loan
from tests.reports.test_offset import HEADER, OURS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

State = LendingCharge.State
OUT = offset_lending.Outcome


@pytest.fixture(autouse=True)
def participant():
    with override_settings(NACSIS_PARTICIPANT_ID=OURS):
        yield


@pytest.fixture
def staff(staff_user):
    return staff_user


@pytest.fixture
def hokushin(db):
    return f.LendingInstitutionFactory(
        name="北辰大学附属図書館", nacsis_participant_id="FA007777", is_offset_participant=True
    )


@pytest.fixture
def private(db):
    return f.LendingInstitutionFactory(
        name="Private Institute",
        nacsis_participant_id="FA008888",
        is_offset_participant=False,
        accepts_public_expense=False,
    )


def lent(borrower, staff, total, nacsis_ill_id=""):
    req = services.will_supply(receive_loan(borrower, nacsis_ill_id=nacsis_ill_id), actor=staff)
    services.ship(req, actor=staff, shipping_method="mail", charge=total)
    return LendingCharge.objects.get(request=req)


def lending_line(ill_id, total, omlid="FA007777"):
    day = timezone.localdate().strftime("%Y%m%d")
    cells = [ill_id, day, day, "確認", omlid, "", "", OURS, "", "", "氏名", "所属", "L", "書誌", "pb"]
    return ",".join([*cells, str(total), "0", "", ""])


def import_lines(*lines):
    data = "\n".join([HEADER, *lines]).encode()
    return offset.import_statement(data, file_name="meisai.csv")


@pytest.fixture
def book(hokushin, private, staff):
    charges = {
        "matched": lent(hokushin, staff, 1600, "FA26000501AA"),
        "amount": lent(hokushin, staff, 1600, "FA26000502AA"),
        "borrower": lent(hokushin, staff, 800, "FA26000503AA"),
        "no_id": lent(hokushin, staff, 1200),
        "invoiced_here": lent(private, staff, 900, "FA26000504AA"),
        "only_here": lent(hokushin, staff, 700, "FA26000505AA"),
        "twice": lent(hokushin, staff, 500, "FA26000506AA"),
    }
    statement = import_lines(
        lending_line("FA26000501AA", 1600),
        lending_line("FA26000502AA", 1800),
        lending_line("FA26000503AA", 800, omlid="FA009999"),
        lending_line("FA26000599ZZ", 1200),  # no request has the ID: the library and the amount find "no_id"
        lending_line("FA26000504AA", 900, omlid="FA008888"),
        lending_line("FA26000598ZZ", 333),  # nothing of ours
        lending_line("FA26000506AA", 500),
        lending_line("FA26000506AA", 500),
    )
    return statement, charges


def by_charge(rows):
    return {row.charge.pk: row for row in rows if row.charge is not None}


def test_the_lending_lines_are_compared_with_our_lending_charges(book):
    statement, charges = book
    rows = offset_lending.compare(statement)
    found = by_charge(rows)
    assert found[charges["matched"].pk].outcome == OUT.MATCHED
    assert found[charges["amount"].pk].outcome == OUT.AMOUNT_DIFFERS
    assert "SUM: ¥1,800 in the statement, ¥1,600 here (+200)." in found[charges["amount"].pk].note
    assert found[charges["borrower"].pk].outcome == OUT.BORROWER_DIFFERS
    no_id = found[charges["no_id"].pk]
    assert (no_id.outcome, no_id.line.ill_id) == (OUT.MATCHED, "FA26000599ZZ")
    assert "by the borrowing library and the amount" in no_id.note
    assert found[charges["invoiced_here"].pk].outcome == OUT.NOT_OFFSET
    assert found[charges["only_here"].pk].outcome == OUT.ONLY_HERE and found[charges["only_here"].pk].line is None
    assert [r.outcome for r in rows if r.charge == charges["twice"]] == [OUT.DUPLICATE, OUT.MATCHED]
    assert [r.line.ill_id for r in rows if r.outcome == OUT.ONLY_STATEMENT] == ["FA26000598ZZ"]
    assert offset_lending.counts(rows) == {
        "matched": 3,
        "amount": 1,
        "borrower": 1,
        "not_offset": 1,
        "only_here": 1,
        "only_statement": 1,
        "duplicate": 1,
    }
    assert [r.outcome for r in rows][:1] == [OUT.DUPLICATE]  # what does not match first
    assert {r.charge.pk for r in rows if r.settleable} == {
        c.pk for k, c in charges.items() if k in ("matched", "no_id", "twice")
    }


def test_a_request_not_shipped_yet_is_only_in_the_statement(hokushin, staff):
    receive_loan(hokushin, nacsis_ill_id="FA26000601AA")
    statement = import_lines(lending_line("FA26000601AA", 1600))
    (row,) = offset_lending.compare(statement)
    assert row.outcome == OUT.ONLY_STATEMENT and "has no charge yet" in row.note


def test_showing_the_page_settles_nothing_and_confirming_settles_the_checked_ones(book, client, staff):
    statement, charges = book
    client.force_login(staff)
    page = client.get(reverse("reports:offset_lending", args=[statement.pk]))
    assert page.status_code == 200
    assert page.content.decode().count('name="charge"') == 3
    assert set(LendingCharge.objects.values_list("state", flat=True)) == {State.OPEN}
    today = timezone.localdate()
    url = reverse("reports:offset_lending_settle", args=[statement.pk])
    chosen = [charges["matched"].pk, charges["no_id"].pk]
    answer = client.post(url, {"charge": chosen, "paid_on": today.isoformat()})
    assert answer.status_code == 302
    for key in ("matched", "no_id"):
        charge = LendingCharge.objects.get(pk=charges[key].pk)
        assert (charge.state, charge.paid_on) == (State.PAID, today)
        assert charge.offset_statement_ref.startswith(f"{statement.month:%Y-%m}")
        assert list(charge.request.events.filter(action__startswith="offset").values_list("action", flat=True)) == [
            "offset_recorded",
            "offset_settled",
        ]
    assert LendingCharge.objects.get(pk=charges["twice"].pk).state == State.OPEN  # not checked: not settled
    again = client.post(url, {"charge": chosen, "paid_on": today.isoformat()})  # a second click, a second tab
    assert again.status_code == 409
    assert charges["matched"].request.number in again.content.decode()
    assert LendingCharge.objects.filter(state=State.PAID).count() == 2


def test_only_matched_unsettled_charges_can_be_settled_and_nothing_half(book, staff):
    statement, charges = book
    today = timezone.localdate()
    for wrong in ("amount", "borrower", "invoiced_here", "only_here"):
        with pytest.raises(TransitionNotAllowed):
            offset_lending.settle(statement, [charges["matched"].pk, charges[wrong].pk], user=staff, paid_on=today)
    assert set(LendingCharge.objects.values_list("state", flat=True)) == {State.OPEN}
    with pytest.raises(ServiceError):
        offset_lending.settle(statement, [], user=staff, paid_on=today)
    with pytest.raises(ServiceError) as future:
        offset_lending.settle(
            statement, [charges["matched"].pk], user=staff, paid_on=today + datetime.timedelta(days=1)
        )
    assert future.value.field == "paid_on"
    assert set(LendingCharge.objects.values_list("state", flat=True)) == {State.OPEN}


def test_a_charge_already_entered_for_fee_offset_is_settled_too(book, staff):
    statement, charges = book
    services.record_offset([charges["matched"]], actor=staff, statement_ref="entered by hand")
    (charge,) = offset_lending.settle(statement, [charges["matched"].pk], user=staff, paid_on=timezone.localdate())
    assert charge.state == State.PAID


def test_bad_input_is_a_400_and_settles_nothing(book, client, staff):
    statement, charges = book
    client.force_login(staff)
    url = reverse("reports:offset_lending_settle", args=[statement.pk])
    today = timezone.localdate().isoformat()
    assert client.post(url, {"charge": ["x1"], "paid_on": today}).status_code == 400
    assert client.post(url, {"charge": [charges["matched"].pk], "paid_on": "2026-13-45"}).status_code == 400
    assert client.post(url, {"paid_on": today}).status_code == 400
    assert client.get(url).status_code == 302
    assert set(LendingCharge.objects.values_list("state", flat=True)) == {State.OPEN}


def test_the_statement_page_links_to_the_lending_side(book, client, staff):
    statement, _charges = book
    client.force_login(staff)
    page = client.get(reverse("reports:offset_statement", args=[statement.pk]))
    assert reverse("reports:offset_lending", args=[statement.pk]) in page.content.decode()


def test_the_page_costs_the_same_queries_however_many_lines(hokushin, staff, client):
    client.force_login(staff)

    def queries(statement):
        url = reverse("reports:offset_lending", args=[statement.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    lent(hokushin, staff, 1600, "FA26000701AA")
    few = queries(import_lines(lending_line("FA26000701AA", 1600)))
    for n in range(2, 8):
        lent(hokushin, staff, 1600, f"FA2600070{n}AA")
        lent(hokushin, staff, 900)  # only here
    many = queries(import_lines(*(lending_line(f"FA2600070{n}AA", 1600) for n in range(1, 8))))
    assert many == few


def test_a_free_loan_in_the_statement_at_zero_yen_matches_and_is_nothing_to_settle(hokushin, staff):
    free = lent(hokushin, staff, 0, "FA26000801AA")
    statement = import_lines(lending_line("FA26000801AA", 0))
    (row,) = offset_lending.compare(statement)
    assert (row.outcome, row.charge, row.settleable) == (OUT.MATCHED, free, False)
