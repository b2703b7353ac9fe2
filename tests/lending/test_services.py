"""The lending services (lending.services): each move is looked up in lending.lifecycle, locks the row,
writes one event; bad input is a ServiceError naming the field, never a half-saved row."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone, translation

from core.errors import ServiceError, TransitionNotAllowed
from ill.models import LocalHolding
from lending import money, selectors, services
from lending.models import BorrowerTerms, LendingEvent, LendingRequest, Renewal
from tests import factories as f

pytestmark = pytest.mark.django_db

S = LendingRequest.Status
TODAY = timezone.localdate


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


@pytest.fixture
def borrower(db):
    return f.LendingInstitutionFactory(name="北辰大学附属図書館", name_en="Hokushin University Library")


@pytest.fixture
def staff(db):
    return f.UserFactory(username="lending-desk", is_staff=True)


@pytest.fixture
def supervisor(db):
    user = f.UserFactory(username="lending-head", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="override_copyright", content_type__app_label="lending"))
    return user


def receive_loan(borrower, **fields):
    fields.setdefault("title", "統計的学習の基礎")
    fields.setdefault("pub_year", 2015)
    return services.receive(borrower=borrower, kind="loan", source="nacsis", **fields)


def receive_copy(borrower, **fields):
    fields.setdefault("material_type", "article")
    fields.setdefault("title", "Journal of Things")
    fields.setdefault("journal_title", "Journal of Things")
    fields.setdefault("article_title", "On things")
    fields.setdefault("pub_year", 2015)
    fields.setdefault("periodical_frequency", "monthly")
    fields.setdefault("issue_date", datetime.date(2015, 3, 1))
    fields.setdefault("page_count", 7)
    return services.receive(borrower=borrower, kind="copy", source="email", **fields)


def loan_shipped(borrower, staff, **fields):
    req = receive_loan(borrower, **fields)
    services.will_supply(req, actor=staff)
    services.ship(req, actor=staff, shipping_method="mail", charge=0)
    return req


def actions(req):
    return list(req.events.values_list("action", flat=True))


# --- receive ------------------------------------------------------------------------------------


def test_receive_records_the_request_with_a_number_and_one_event(borrower, staff):
    req = receive_loan(borrower, their_reference="HK-2026-1", actor=staff)
    assert req.status == S.RECEIVED
    assert req.number.startswith("L") and len(req.number) == len("L26-000001")
    event = req.events.get()
    assert (event.action, event.from_status, event.to_status, event.actor) == ("receive", "", "received", staff)
    assert event.data == {"holding_found": False}
    assert req.entered_by == staff


def test_receive_is_idempotent_on_their_reference(borrower):
    first = receive_loan(borrower, their_reference="HK-7")
    again = receive_loan(borrower, their_reference="HK-7", title="Something else")
    assert again.pk == first.pk and again.title == first.title
    assert LendingRequest.objects.count() == 1 and LendingEvent.objects.count() == 1
    # another library may use the same number for its own request
    other = receive_loan(f.LendingInstitutionFactory(), their_reference="HK-7")
    assert other.pk != first.pk


def test_receive_without_their_reference_is_never_merged(borrower):
    receive_loan(borrower)
    receive_loan(borrower)
    assert LendingRequest.objects.count() == 2


def test_receive_refuses_a_borrower_that_may_not_borrow(borrower):
    BorrowerTerms.objects.create(library=borrower, may_borrow=False)
    with pytest.raises(ServiceError) as exc:
        receive_loan(borrower)
    assert exc.value.code == "may_not_borrow"
    assert not LendingRequest.objects.exists()


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"title": ""}, "title"),
        ({"pub_year": 99999}, "pub_year"),
        ({"page_count": 0}, "page_count"),
        ({"isbn": "978-4-00-000000-1"}, "isbn"),  # bad check digit
        ({"max_cost": -1}, "max_cost"),
        ({"purpose": "fun"}, "purpose"),
        ({"colour": 3}, "colour"),  # not a field at all
        ({"isbn": 9784101010015}, "isbn"),  # not even text
        ({"issue_date": "yesterday"}, "issue_date"),
    ],
)
def test_receive_refuses_bad_input_naming_the_field_and_saves_nothing(borrower, fields, field):
    with pytest.raises(ServiceError) as exc:
        receive_loan(borrower, **fields)
    assert exc.value.field == field
    assert not LendingRequest.objects.exists() and not LendingEvent.objects.exists()


def test_receive_refuses_an_unknown_kind(borrower):
    with pytest.raises(ServiceError) as exc:
        services.receive(borrower=borrower, kind="gift", source="nacsis", title="X")
    assert exc.value.field == "kind"


def test_receive_finds_our_holding_by_isbn_and_prefills_call_number_and_location(borrower):
    holding = f.LocalHoldingFactory(call_number="417/H", location="3F stacks")
    f.LocalHoldingIdentifierFactory(holding=holding, scheme="isbn", value="9784101010014")
    req = receive_loan(borrower, isbn="4-10-101001-3")  # the ISBN-10 of the same book
    assert req.isbn == "9784101010014"
    assert (req.holding, req.call_number, req.location) == (holding, "417/H", "3F stacks")
    assert req.events.get().data == {"holding_found": True}


def test_receive_prefers_a_printed_available_copy_and_never_lends_an_electronic_one(borrower):
    ebook = f.LocalHoldingFactory(is_electronic=True)
    f.LocalHoldingIdentifierFactory(holding=ebook, scheme="ncid", value="BA12345670")
    assert receive_loan(borrower, ncid="BA12345670").holding is None
    out = f.LocalHoldingFactory(status=LocalHolding.Status.ON_LOAN)
    shelf = f.LocalHoldingFactory(status=LocalHolding.Status.AVAILABLE)
    for h in (out, shelf):
        f.LocalHoldingIdentifierFactory(holding=h, scheme="ncid", value="BA87654327")
    assert receive_loan(borrower, ncid="BA87654327").holding == shelf


# --- the lifecycle --------------------------------------------------------------------------------


def test_a_loan_runs_its_whole_lifecycle_with_one_event_per_move(borrower, staff):
    req = receive_loan(borrower)
    services.search(req, actor=staff)
    services.will_supply(req, actor=staff, note="on the shelf")
    services.ship(req, actor=staff, shipping_method="mail", charge=1600)
    assert req.status == S.SHIPPED and req.shipped_at and req.due_date == in_days(30)
    services.mark_received(req)
    assert req.status == S.ON_LOAN
    services.record_return(req, actor=staff)
    assert req.status == S.RETURNED and req.returned_at
    services.complete(req, actor=staff)
    assert req.status == S.COMPLETED and req.completed_at and req.closed_at
    assert actions(req) == ["receive", "search", "will_supply", "ship", "mark_received", "record_return", "complete"]
    req.refresh_from_db()
    assert req.status == S.COMPLETED


def test_a_copy_runs_its_lifecycle(borrower, staff):
    req = receive_copy(borrower)
    services.will_supply(req, actor=staff)
    services.start_copying(req, actor=staff)
    services.ship(req, actor=staff, shipping_method="mail", charge=385)
    services.complete(req)
    assert req.status == S.COMPLETED
    assert actions(req) == ["receive", "will_supply", "start_copying", "ship", "complete"]


@pytest.mark.parametrize(
    "move",
    [
        lambda req, staff: services.ship(req, actor=staff, shipping_method="mail", charge=0),
        lambda req, staff: services.start_copying(req, actor=staff),
        lambda req, staff: services.complete(req, actor=staff),
        lambda req, staff: services.mark_received(req),
        lambda req, staff: services.record_return(req, actor=staff),
    ],
)
def test_moves_the_lifecycle_does_not_allow_are_refused_with_409(borrower, staff, move):
    req = receive_loan(borrower)
    with pytest.raises(TransitionNotAllowed) as exc:
        move(req, staff)
    assert exc.value.status_code == 409
    assert "L" in str(exc.value) and "Received" in str(exc.value)
    req.refresh_from_db()
    assert req.status == S.RECEIVED and actions(req) == ["receive"]


def test_a_stale_instance_cannot_move_a_request_twice(borrower, staff):
    req = receive_loan(borrower)
    stale = LendingRequest.objects.get(pk=req.pk)
    services.will_supply(req, actor=staff)
    with pytest.raises(TransitionNotAllowed):
        services.will_supply(stale, actor=staff)  # the service reads the locked row, not the instance


def test_will_supply_refuses_a_loan_from_a_copy_on_loan_or_missing(borrower, staff):
    for status, word in ((LocalHolding.Status.ON_LOAN, "on loan"), (LocalHolding.Status.MISSING, "missing")):
        holding = f.LocalHoldingFactory(status=status, call_number="417/H")
        req = receive_loan(borrower)
        with pytest.raises(ServiceError) as exc:
            services.will_supply(req, actor=staff, holding=holding)
        assert exc.value.code == "holding_unavailable" and word in str(exc.value)
        req.refresh_from_db()
        assert req.status == S.RECEIVED and req.holding is None


def test_will_supply_copies_from_a_book_on_loan_but_not_from_a_missing_one(borrower, staff):
    on_loan = f.LocalHoldingFactory(status=LocalHolding.Status.ON_LOAN, call_number="050/J", location="Journals")
    req = services.will_supply(receive_copy(borrower), actor=staff, holding=on_loan)
    assert (req.status, req.call_number, req.location) == (S.WILL_SUPPLY, "050/J", "Journals")
    assert req.events.last().data == {"holding": on_loan.pk}
    with pytest.raises(ServiceError):
        services.will_supply(
            receive_copy(borrower), actor=staff, holding=f.LocalHoldingFactory(status=LocalHolding.Status.MISSING)
        )


def test_set_holding_changes_the_copy_without_moving_the_request(borrower, staff):
    first, second = f.LocalHoldingFactory(call_number="A"), f.LocalHoldingFactory(call_number="B")
    req = services.will_supply(receive_loan(borrower), actor=staff, holding=first)
    services.set_holding(req, actor=staff, holding=second)
    assert (req.status, req.holding, req.call_number) == (S.WILL_SUPPLY, second, "B")
    assert req.events.last().data == {"holding": second.pk, "previous": first.pk}
    services.ship(req, actor=staff, shipping_method="mail", charge=0)
    with pytest.raises(TransitionNotAllowed):
        services.set_holding(req, actor=staff, holding=first)


def test_mark_unfilled_needs_a_known_reason_and_keeps_the_note(borrower, staff):
    req = receive_loan(borrower)
    with pytest.raises(ServiceError) as exc:
        services.mark_unfilled(req, actor=staff, reason="")
    assert exc.value.field == "reason"
    with pytest.raises(ServiceError):
        services.mark_unfilled(req, actor=staff, reason="bored")
    long_note = "x" * 400
    services.mark_unfilled(req, actor=staff, reason="on_loan", note=long_note)
    req.refresh_from_db()
    assert (req.status, req.unfilled_reason, len(req.unfilled_note)) == (S.UNFILLED, "on_loan", 300)
    event = req.events.last()
    assert event.note == long_note and event.data == {"reason": "on_loan"}
    assert req.closed_at is not None


def test_cancel_only_before_we_ship(borrower, staff):
    req = receive_loan(borrower)
    services.cancel(req, note="found elsewhere")
    assert req.status == S.CANCELLED and req.events.last().actor is None
    shipped = loan_shipped(borrower, staff)
    with pytest.raises(TransitionNotAllowed):
        services.cancel(shipped)


def test_ship_a_loan_checks_the_due_date(borrower, staff, settings):
    settings.LENDING_LOAN_DAYS = 21
    req = services.will_supply(receive_loan(borrower), actor=staff)
    for bad in (TODAY(), in_days(-1), in_days(800)):
        with pytest.raises(ServiceError) as exc:
            services.ship(req, actor=staff, shipping_method="mail", due_date=bad, charge=0)
        assert exc.value.field == "due_date"
    with pytest.raises(ServiceError) as exc:
        services.ship(req, actor=staff, shipping_method="pigeon", charge=0)
    assert exc.value.field == "shipping_method"
    req.refresh_from_db()
    assert req.status == S.WILL_SUPPLY and not hasattr(req, "charge")
    services.ship(req, actor=staff, shipping_method="express", charge=0)
    assert req.due_date == in_days(21)
    assert req.events.last().data == {"due_date": in_days(21).isoformat(), "charge": 0, "settlement": "free"}


def test_ship_a_copy_takes_no_due_date(borrower, staff):
    req = services.start_copying(services.will_supply(receive_copy(borrower), actor=staff), actor=staff)
    with pytest.raises(ServiceError) as exc:
        services.ship(req, actor=staff, shipping_method="mail", due_date=in_days(10), charge=0)
    assert exc.value.field == "due_date"


@pytest.mark.parametrize("charge", [-1, 10_000_001, True, 1.5, "100"])
def test_ship_refuses_a_charge_that_is_not_whole_yen_in_range(borrower, staff, charge):
    req = services.will_supply(receive_loan(borrower), actor=staff)
    with pytest.raises(ServiceError) as exc:
        services.ship(req, actor=staff, shipping_method="mail", charge=charge)
    assert exc.value.field == "charge"


def test_ship_refuses_a_charge_above_their_maximum(borrower, staff):
    req = services.will_supply(receive_loan(borrower, max_cost=1000), actor=staff)
    with pytest.raises(ServiceError) as exc:
        services.ship(req, actor=staff, shipping_method="mail", charge=1600)
    assert exc.value.code == "above_max_cost"
    req.refresh_from_db()
    assert req.status == S.WILL_SUPPLY


def test_ship_prices_with_our_schedule_when_no_charge_is_given(borrower, staff):
    schedule = money.current_schedule()
    schedule.loan_fee_mode, schedule.loan_fee = "round_trip", 1600
    schedule.save()
    req = services.will_supply(receive_loan(borrower), actor=staff)
    services.ship(req, actor=staff, shipping_method="mail")
    assert req.charge.total == 1600 and req.charge.settlement == "offset"
    assert req.charge.lines == [
        {"code": "loan_round_trip", "unit_price": 1600, "quantity": 1, "amount": 1600, "section": "B"}
    ]
    assert req.events.last().data["charge"] == 1600


# --- loans out: overdue, recall, renewals -------------------------------------------------------


def test_overdue_is_derived_from_the_due_date(borrower, staff):
    req = loan_shipped(borrower, staff)
    assert not selectors.is_overdue(req)
    later = req.due_date + datetime.timedelta(days=1)
    assert selectors.is_overdue(req, later)
    assert list(selectors.overdue_loans(later)) == [req]
    assert list(selectors.overdue_loans()) == []
    services.record_return(req, actor=staff)
    assert not selectors.is_overdue(req, later) and not selectors.overdue_loans(later).exists()


def test_recall_brings_the_due_date_forward_and_refuses_a_pending_renewal(borrower, staff):
    req = loan_shipped(borrower, staff)
    renewal = services.ask_renewal(req, wanted_until=in_days(60))
    with pytest.raises(ServiceError) as exc:
        services.recall(req, actor=staff, new_due_date=in_days(40))
    assert exc.value.field == "new_due_date"
    with pytest.raises(ServiceError):
        services.recall(req, actor=staff, new_due_date=in_days(-1))
    services.recall(req, actor=staff, new_due_date=in_days(7), note="needed for a course")
    req.refresh_from_db()
    assert req.due_date == in_days(7) and req.recalled_at and req.status == S.SHIPPED
    assert selectors.is_recalled(req) and list(selectors.recalled_loans()) == [req]
    renewal.refresh_from_db()
    assert renewal.decision == Renewal.Decision.REFUSED
    event = req.events.last()
    assert event.action == "recall" and event.data["due_date"] == in_days(7).isoformat()
    with pytest.raises(TransitionNotAllowed):
        services.ask_renewal(req)


def test_recall_only_while_out_on_loan(borrower, staff):
    with pytest.raises(TransitionNotAllowed):
        services.recall(receive_loan(borrower), actor=staff, new_due_date=in_days(3))


def test_one_pending_renewal_at_a_time_and_granting_moves_the_due_date(borrower, staff):
    req = loan_shipped(borrower, staff)
    services.mark_received(req)
    renewal = services.ask_renewal(req, wanted_until=in_days(45), note="still reading")
    with pytest.raises(TransitionNotAllowed) as exc:
        services.ask_renewal(req)
    assert exc.value.code == "renewal_pending"
    with pytest.raises(ServiceError) as exc:
        services.decide_renewal(renewal, actor=staff, grant=True)
    assert exc.value.field == "new_due_date"
    with pytest.raises(ServiceError) as exc, translation.override("ja"):
        services.decide_renewal(renewal, actor=staff, grant=True, new_due_date=in_days(30))  # not later
    due = in_days(30)
    with translation.override("ja"):  # the current due date as a Japanese reader writes it, not ISO
        assert f"{due.year}年{due.month}月{due.day}日" in str(exc.value)
    services.decide_renewal(renewal, actor=staff, grant=True, new_due_date=in_days(44))
    req.refresh_from_db()
    assert (req.due_date, req.renewals) == (in_days(44), 1)
    assert req.events.last().action == "renewal_granted"
    with pytest.raises(TransitionNotAllowed):
        services.decide_renewal(renewal, actor=staff, grant=False)
    second = services.ask_renewal(req)
    services.decide_renewal(second, actor=staff, grant=False, note="wanted back")
    req.refresh_from_db()
    assert (req.due_date, req.renewals) == (in_days(44), 1)
    assert actions(req)[-4:] == ["renewal_asked", "renewal_granted", "renewal_asked", "renewal_refused"]


def test_renewal_only_while_out_on_loan(borrower, staff):
    with pytest.raises(TransitionNotAllowed):
        services.ask_renewal(receive_loan(borrower))
    with pytest.raises(TransitionNotAllowed):
        services.ask_renewal(receive_copy(borrower))


def test_add_note_needs_text_and_does_not_move(borrower, staff):
    req = receive_loan(borrower)
    with pytest.raises(ServiceError):
        services.add_note(req, actor=staff, note="  ")
    event = services.add_note(req, actor=staff, note="phoned them")
    assert (event.action, event.from_status, event.to_status) == ("note", "received", "received")


# --- the admin ------------------------------------------------------------------------------------

ADMIN_LISTS = [
    "/admin/lending/lendingrequest/",
    "/admin/lending/lendingevent/",
    "/admin/lending/lendingcharge/",
    "/admin/lending/invoice/",
    "/admin/lending/borrowerterms/",
    "/admin/lending/ourfeeschedule/",
    "/admin/lending/numbercounter/",
]


def test_the_admin_lists_the_lending_side_and_finds_a_request_by_number(admin_client, borrower, staff):
    req = loan_shipped(borrower, staff, their_reference="HK-99")
    for url in ADMIN_LISTS:
        assert admin_client.get(url).status_code == 200, url
    found = admin_client.get("/admin/lending/lendingrequest/", {"q": req.number}).context["cl"].result_list
    assert list(found) == [req]
    assert list(admin_client.get("/admin/lending/lendingrequest/", {"q": "HK-99"}).context["cl"].result_list) == [req]
    assert admin_client.get(f"/admin/lending/lendingrequest/{req.pk}/change/").status_code == 200


def test_the_admin_never_changes_what_the_services_own(admin_client, borrower, staff):
    req = loan_shipped(borrower, staff)
    assert admin_client.get("/admin/lending/lendingrequest/add/").status_code == 403
    response = admin_client.post(f"/admin/lending/lendingrequest/{req.pk}/change/", {"title": "changed"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/lending/lendingrequest/{req.pk}/delete/", {"post": "yes"}).status_code == 403
    assert (
        admin_client.post(f"/admin/lending/lendingcharge/{req.charge.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    event = req.events.first()
    assert admin_client.post(f"/admin/lending/lendingevent/{event.pk}/change/", {"note": "x"}).status_code == 403
    req.refresh_from_db()
    assert req.title != "changed" and LendingEvent.objects.filter(pk=event.pk, note="").exists()


def test_the_admin_edits_our_fee_schedule(admin_client):
    schedule = money.current_schedule()
    data = {
        name: getattr(schedule, name)
        for name in (
            "colour_price",
            "handling_fee_per_item",
            "postage_per_shipment",
            "express_surcharge",
            "fax_fee_mode",
            "fax_fee_per_page",
            "fax_fee_fixed",
            "bank_transfer_fee",
            "tax_rate_percent",
            "overseas_flat_fee_per_item",
            "overseas_fax_surcharge",
            "loan_fee_mode",
            "loan_fee",
            "loan_express_surcharge",
        )
    }
    data.update(mono_price=30, tax_included="on", notes="")
    response = admin_client.post(f"/admin/lending/ourfeeschedule/{schedule.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule.refresh_from_db()
    assert schedule.mono_price == 30
    assert admin_client.get("/admin/lending/ourfeeschedule/add/").status_code == 403  # one row only


def test_one_copy_of_ours_is_not_lent_to_two_libraries_at_once(borrower, staff):
    """The catalogue says "available" until its next import: a copy promised or lent to one library is
    refused for a second loan, until it is back; a copy from the same book can still be made."""
    book = f.LocalHoldingFactory(call_number="417/H")
    first = services.will_supply(receive_loan(borrower), actor=staff, holding=book)
    other = f.LendingInstitutionFactory(name_en="Seiran University Library")
    second = receive_loan(other)
    with pytest.raises(ServiceError) as exc:
        services.will_supply(second, actor=staff, holding=book)
    assert exc.value.code == "holding_promised" and first.number in str(exc.value)
    second.refresh_from_db()
    assert second.status == S.RECEIVED
    services.ship(first, actor=staff, shipping_method="mail", charge=0)
    with pytest.raises(ServiceError):
        services.set_holding(second, actor=staff, holding=book)
    assert services.will_supply(receive_copy(other), actor=staff, holding=book).status == S.WILL_SUPPLY
    services.record_return(first, actor=staff)
    assert services.will_supply(second, actor=staff, holding=book).holding == book


def test_an_overdue_loan_is_not_renewed_to_a_day_already_past_nor_recalled_to_years_ahead(borrower, staff):
    req = loan_shipped(borrower, staff)
    LendingRequest.objects.filter(pk=req.pk).update(due_date=in_days(-10))  # ten days overdue
    renewal = services.ask_renewal(req)
    with pytest.raises(ServiceError) as exc:
        services.decide_renewal(renewal, actor=staff, grant=True, new_due_date=in_days(-5))
    assert (exc.value.code, exc.value.field) == ("due_date_past", "new_due_date")
    req.refresh_from_db()
    assert (req.due_date, req.renewals) == (in_days(-10), 0)
    with pytest.raises(ServiceError) as exc:
        services.recall(req, actor=staff, new_due_date=in_days(365 * 5))
    assert exc.value.code == "due_date_too_far"
    with pytest.raises(ServiceError):
        services.recall(req, actor=staff, new_due_date="2026-12-24")  # not a date: a 400, not a TypeError
    with pytest.raises(ServiceError):
        services.recall(req, actor=staff, new_due_date=timezone.now())  # a datetime is not compared with a date
    req.refresh_from_db()
    assert req.due_date == in_days(-10) and req.recalled_at is None
    services.decide_renewal(renewal, actor=staff, grant=True, new_due_date=in_days(14))
    req.refresh_from_db()
    assert (req.due_date, req.renewals) == (in_days(14), 1)


def test_receive_prefers_a_copy_no_loan_of_ours_has_out(borrower, staff):
    first, second = f.LocalHoldingFactory(call_number="417/H/1"), f.LocalHoldingFactory(call_number="417/H/2")
    for holding in (first, second):
        f.LocalHoldingIdentifierFactory(holding=holding, scheme="ncid", value="BA87654327")
    lent = services.will_supply(receive_loan(borrower, ncid="BA87654327"), actor=staff)
    assert lent.holding == first
    again = receive_loan(f.LendingInstitutionFactory(), ncid="BA87654327")
    assert again.holding == second
    assert services.will_supply(again, actor=staff).call_number == "417/H/2"
