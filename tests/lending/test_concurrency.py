"""Real concurrent transactions on PostgreSQL (each thread its own connection): two staff shipping the
same request, two invoices for the same charges, numbers taken at the same moment, a peer's retry of the
same request. The windows between reading and writing are widened on purpose, so that without the row
locks both sides would read the same state and both write."""

import threading
import time

import pytest
from django.db import connection, transaction

from core.errors import ServiceError
from lending import copyright, money, numbers, services
from lending.models import Invoice, LendingCharge, LendingRequest
from tests import factories as f
from tests.lending.test_services import receive_copy, receive_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(calls):
    """Run the callables in threads released together; each outcome: "ok" or the ServiceError's code."""
    barrier = threading.Barrier(len(calls))
    outcomes, lock = [], threading.Lock()

    def run(call):
        try:
            barrier.wait()
            call()
            outcome = "ok"
        except ServiceError as exc:
            outcome = exc.code
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def slowed(original, seconds=0.4):
    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(seconds)
        return result

    return wrapper


@pytest.fixture
def staff(db):
    return f.UserFactory(username="lending-desk", is_staff=True)


def test_two_staff_shipping_the_same_request_at_once_ship_it_once(staff, monkeypatch):
    req = services.will_supply(receive_loan(f.LendingInstitutionFactory()), actor=staff)
    monkeypatch.setattr(money, "price_request", slowed(money.price_request))
    other = f.UserFactory(username="second-desk", is_staff=True)
    outcomes = at_once(
        [
            lambda: services.ship(LendingRequest.objects.get(pk=req.pk), actor=staff, shipping_method="mail"),
            lambda: services.ship(LendingRequest.objects.get(pk=req.pk), actor=other, shipping_method="express"),
        ]
    )
    assert outcomes == ["ok", "transition_not_allowed"]
    assert LendingCharge.objects.filter(request=req).count() == 1
    assert req.events.filter(action="ship").count() == 1


def test_two_invoices_for_the_same_charges_at_once_make_one(staff, monkeypatch):
    library = f.LendingInstitutionFactory(is_offset_participant=False, accepts_public_expense=False)
    charges = []
    for _ in range(2):
        req = services.will_supply(receive_loan(library), actor=staff)
        services.ship(req, actor=staff, shipping_method="mail", charge=1600)
        charges.append(LendingCharge.objects.get(request=req))
    monkeypatch.setattr(money, "next_invoice_number", slowed(money.next_invoice_number))
    outcomes = at_once(
        [
            lambda: money.issue_invoice(library, charges, actor=staff),
            lambda: money.issue_invoice(library, list(reversed(charges)), actor=staff),
        ]
    )
    assert outcomes == ["charges_refused", "ok"]
    invoice = Invoice.objects.get()
    assert set(LendingCharge.objects.values_list("invoice", flat=True)) == {invoice.pk}


def test_numbers_stay_unique_when_taken_at_once(staff):
    library = f.LendingInstitutionFactory()
    outcomes = at_once([lambda: receive_loan(library) for _ in range(6)])  # the year's first: no counter yet
    assert outcomes == ["ok"] * 6
    lending_numbers = list(LendingRequest.objects.values_list("number", flat=True))
    assert len(set(lending_numbers)) == 6
    assert sorted(n[-6:] for n in lending_numbers) == [f"{i:06d}" for i in range(1, 7)]
    taken, lock = [], threading.Lock()

    def take():
        with transaction.atomic():
            number = numbers.next_invoice_number()
        with lock:
            taken.append(number)

    assert at_once([take for _ in range(5)]) == ["ok"] * 5
    assert len(set(taken)) == 5


def test_a_request_retried_at_the_same_moment_is_recorded_once(staff, monkeypatch):
    library = f.LendingInstitutionFactory()
    monkeypatch.setattr(services, "next_lending_number", slowed(services.next_lending_number, 0.2))
    outcomes = at_once([lambda: receive_loan(library, their_reference="ISO-42") for _ in range(3)])
    assert outcomes == ["ok"] * 3
    assert LendingRequest.objects.filter(borrower=library, their_reference="ISO-42").count() == 1


def test_two_copies_for_the_same_person_started_at_once_make_one(staff, monkeypatch):
    library = f.LendingInstitutionFactory()
    reqs = [
        services.will_supply(receive_copy(library, patron_reference="P-1"), actor=staff),
        services.will_supply(receive_copy(library, patron_reference="P-1"), actor=staff),
    ]
    monkeypatch.setattr(copyright, "earlier_copy_for_same_person", slowed(copyright.earlier_copy_for_same_person))
    outcomes = at_once([lambda r=r: services.start_copying(r, actor=staff) for r in reqs])
    assert outcomes == ["copyright", "ok"]
    assert LendingRequest.objects.filter(status="copying").count() == 1


def test_two_staff_promising_the_same_copy_to_two_libraries_at_once_promise_it_once(staff, monkeypatch):
    book = f.LocalHoldingFactory(call_number="417/H")
    first = receive_loan(f.LendingInstitutionFactory())
    second = receive_loan(f.LendingInstitutionFactory())
    monkeypatch.setattr(services, "_take_holding", slowed(services._take_holding))
    outcomes = at_once(
        [
            lambda: services.will_supply(LendingRequest.objects.get(pk=first.pk), actor=staff, holding=book),
            lambda: services.will_supply(LendingRequest.objects.get(pk=second.pk), actor=staff, holding=book),
        ]
    )
    assert outcomes == ["holding_promised", "ok"]
    assert LendingRequest.objects.filter(holding=book, status=LendingRequest.Status.WILL_SUPPLY).count() == 1


def test_the_locks_that_serialise_copying_do_not_hold_up_that_librarys_other_requests(staff, monkeypatch):
    """start_copying locks the borrowing library's row (one copy per person) FOR NO KEY UPDATE: a new
    request from that library (a row referring to it) is recorded meanwhile instead of waiting."""
    library = f.LendingInstitutionFactory()
    req = services.will_supply(receive_copy(library, patron_reference="P-1"), actor=staff)
    locked, release = threading.Event(), threading.Event()
    original = copyright.check

    def held_check(r):
        locked.set()
        release.wait(10)
        return original(r)

    monkeypatch.setattr(copyright, "check", held_check)
    outcomes = []

    def copying():
        try:
            services.start_copying(LendingRequest.objects.get(pk=req.pk), actor=staff)
            outcomes.append("ok")
        finally:
            connection.close()

    thread = threading.Thread(target=copying)
    thread.start()
    try:
        assert locked.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            receive_loan(library, their_reference="NEW-1")  # waited for start_copying before: lock timeout
    finally:
        release.set()
        thread.join(20)
    assert outcomes == ["ok"]
    assert LendingRequest.objects.filter(borrower=library, their_reference="NEW-1").exists()
