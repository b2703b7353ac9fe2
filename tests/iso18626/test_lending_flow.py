"""We are the supplier (iso18626.lending): a peer's request becomes a lending request, its actions move
it, and what our desk does goes back to it as supplyingAgencyMessages (queued in the outbox; the tests
read what is queued, nothing is POSTed)."""

import datetime
import decimal

import pytest
from django.utils import timezone, translation

from core.errors import TransitionNotAllowed
from iso18626 import lending as flow
from iso18626 import transport, xml
from iso18626.models import Message, Peer
from lending import services
from lending.models import LendingRequest, OurFeeSchedule, Renewal
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The notes are written in the active language; these tests read them in English."""
    with translation.override("en"):
        yield


OURS, THEIRS = "JP-2000001", "JP-2000002"
S = LendingRequest.Status


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


@pytest.fixture
def peer(db, settings):
    settings.ISO18626_OUR_ISIL = OURS
    library = f.LendingInstitutionFactory(isil=THEIRS, name_en="Library A")
    return Peer.objects.create(library=library, endpoint_url="http://a.example/iso18626/", shared_secret="s3cret")


@pytest.fixture
def staff(db):
    return f.UserFactory(username="lender", is_staff=True)


@pytest.fixture(autouse=True)
def schedule(db):
    OurFeeSchedule.objects.update_or_create(
        singleton=True,
        defaults={"mono_price": 35, "postage_per_shipment": 140, "loan_fee_mode": "round_trip", "loan_fee": 1600},
    )


@pytest.fixture
def holding(db):
    holding = f.LocalHoldingFactory(title="Pattern Recognition", call_number="007.13/B", location="Stacks 3F")
    f.LocalHoldingIdentifierFactory(holding=holding, scheme="isbn", value="9780387310732")
    return holding


def header(reference="A-0001", supplier_id="", timestamp=None):
    return xml.Header(
        requesting_agency_id=xml.AgencyId(THEIRS),
        supplying_agency_id=xml.AgencyId(OURS),
        timestamp=timestamp or xml.now(),
        requesting_agency_request_id=reference,
        supplying_agency_request_id=supplier_id,
    )


def loan_request(reference="A-0001", **service) -> xml.Request:
    return xml.Request(
        header=header(reference),
        bibliographic_info=xml.BibliographicInfo(
            title="Pattern Recognition", author="Bishop", item_ids=[("ISBN", "978-0-387-31073-2")]
        ),
        service_info=xml.ServiceInfo(
            service_type="Loan",
            request_type=service.pop("request_type", "New"),
            need_before_date=timezone.make_aware(datetime.datetime.combine(in_days(40), datetime.time(23, 59))),
        ),
        publication_info=xml.PublicationInfo(publisher="Springer", publication_date="2006", publication_type="Book"),
        patron_info=xml.PatronInfo(patron_id="Pabc123"),
        billing_info=xml.BillingInfo(maximum_costs=xml.Costs(decimal.Decimal("2000"))),
    )


def copy_request(reference="A-0002", compliance="JP-Art31-Research") -> xml.Request:
    return xml.Request(
        header=header(reference),
        bibliographic_info=xml.BibliographicInfo(
            title="Journal of Examples",
            title_of_component="On examples",
            volume="12",
            issue="3",
            pages_requested="101-110",
            estimated_no_pages="10",
            item_ids=[("ISSN", "1234-5679")],
        ),
        service_info=xml.ServiceInfo(service_type="Copy", request_type="New", copyright_compliance=compliance),
        publication_info=xml.PublicationInfo(publication_date="2019", publication_type="Article"),
        patron_info=xml.PatronInfo(patron_id="Pabc123"),
    )


def action(reference, verb, note="", supplier_id=""):
    return xml.RequestingAgencyMessage(header=header(reference, supplier_id), action=verb, note=note)


def post(peer, message):
    raw = xml.build(message)
    status, body = transport.receive(raw, {transport.SIGNATURE_HEADER: transport.sign(peer.shared_secret, raw)})
    return status, xml.parse(body)


def sent(peer) -> list[xml.SupplyingAgencyMessage]:
    rows = Message.objects.filter(direction="out", peer=peer).order_by("pk")
    return [xml.parse(row.body.encode()) for row in rows]


def received(peer, message) -> LendingRequest:
    status, confirmation = post(peer, message)
    assert status == 200 and confirmation.ok, confirmation
    return LendingRequest.objects.get(
        borrower=peer.library, their_reference=message.header.requesting_agency_request_id
    )


# --- their request --------------------------------------------------------------------------------


def test_a_request_becomes_a_lending_request_received_by_iso18626(peer, holding):
    req = received(peer, loan_request())
    assert (req.kind, req.status, req.source) == ("loan", S.RECEIVED, "iso18626")
    assert (req.title, req.author, req.publisher, req.pub_year, req.isbn) == (
        "Pattern Recognition",
        "Bishop",
        "Springer",
        2006,
        "9780387310732",
    )
    assert (req.patron_reference, req.max_cost, req.need_by) == ("Pabc123", 2000, in_days(40))
    assert req.holding == holding  # found on our shelves by its ISBN
    assert sent(peer) == []  # the requestConfirmation was the answer


def test_a_retry_of_the_same_request_finds_the_same_lending_request(peer):
    first = received(peer, loan_request())
    again = received(peer, loan_request(request_type="Retry"))
    assert again.pk == first.pk
    assert LendingRequest.objects.count() == 1 and first.events.count() == 1


def test_a_copy_carries_the_purpose_declared_under_art_31(peer):
    req = received(peer, copy_request())
    assert (req.kind, req.material_type, req.article_title, req.journal_title) == (
        "copy",
        "article",
        "On examples",
        "Journal of Examples",
    )
    assert (req.issn, req.page_count, req.pages, req.purpose) == ("1234-5679", 10, "101-110", "research")
    assert received(peer, copy_request("A-0003", compliance="JP-Art31-Study")).purpose == "study"
    assert received(peer, copy_request("A-0005", compliance="JP-Art31-Other")).purpose == "other"
    undeclared = received(peer, copy_request("A-0004", compliance=""))
    assert undeclared.purpose == "other" and "no copyright compliance" in undeclared.requester_note


def test_a_request_that_cannot_be_recorded_is_answered_error_and_nothing_is_saved(peer):
    message = loan_request()
    message.bibliographic_info.title = ""
    message.bibliographic_info.title_of_component = ""
    status, confirmation = post(peer, message)
    assert not confirmation.ok
    assert confirmation.errors[0].error_type == "UnrecognisedDataValue"
    assert LendingRequest.objects.count() == 0


# --- our moves go back to them ---------------------------------------------------------------------


def test_will_supply_ship_and_complete_a_loan_are_told(peer, staff, holding):
    req = received(peer, loan_request())
    services.will_supply(req, actor=staff)
    services.ship(req, actor=staff, shipping_method="mail", due_date=in_days(30))
    will, loaned = sent(peer)
    assert (will.message_info.reason_for_message, will.status_info.status) == ("RequestResponse", "WillSupply")
    assert (will.header.requesting_agency_request_id, will.header.supplying_agency_request_id) == ("A-0001", req.number)
    assert (loaned.message_info.reason_for_message, loaned.status_info.status) == ("StatusChange", "Loaned")
    assert flow.local_date(loaned.status_info.due_date) == in_days(30)
    req.refresh_from_db()
    assert loaned.delivery_info.delivery_costs.yen == req.charge.total > 0
    assert loaned.delivery_info.item_ids == ["007.13/B"]

    assert received(peer, action("A-0001", "Received")).status == S.ON_LOAN
    assert received(peer, action("A-0001", "ShippedReturn", "sent by post")).events.last().note.endswith("sent by post")
    services.record_return(req, actor=staff)
    services.complete(req, actor=staff)
    assert [m.status_info.status for m in sent(peer)] == ["WillSupply", "Loaned", "LoanCompleted"]


def test_a_copy_shipped_is_copy_completed_and_their_received_completes_it(peer, staff):
    req = received(peer, copy_request())
    services.will_supply(req, actor=staff)
    services.start_copying(req, actor=staff)
    services.ship(req, actor=staff, shipping_method="mail")
    statuses = [m.status_info.status for m in sent(peer)]
    assert statuses == ["WillSupply", "CopyCompleted"]
    req.refresh_from_db()
    assert sent(peer)[-1].delivery_info.delivery_costs.yen == req.charge.total == 35 * 10 + 140
    assert received(peer, action("A-0002", "Received")).status == S.COMPLETED
    assert len(sent(peer)) == 2  # nothing more to say about a copy


def test_unfilled_sends_the_reason_and_the_note_back(peer, staff):
    req = received(peer, copy_request())
    services.mark_unfilled(req, actor=staff, reason="copyright", note="More than half of the work.")
    (answer,) = sent(peer)
    assert answer.status_info.status == "Unfilled"
    assert answer.message_info.reason_unfilled == "LacksCopyrightCompliance"
    assert answer.message_info.note == "More than half of the work."
    assert flow.reason_unfilled_in(answer.message_info.reason_unfilled) == "copyright"  # and back


def test_cancel_before_we_ship_cancels_after_is_answered_no(peer, staff, holding):
    req = received(peer, loan_request())
    assert received(peer, action("A-0001", "Cancel", "found elsewhere")).status == S.CANCELLED
    (answer,) = sent(peer)
    assert (answer.message_info.reason_for_message, answer.message_info.answer_yes_no) == ("CancelResponse", True)
    assert answer.status_info.status == "Cancelled"

    other = received(peer, loan_request("A-0009"))
    services.will_supply(other, actor=staff)
    services.ship(other, actor=staff, shipping_method="mail")
    assert received(peer, action("A-0009", "Cancel")).status == S.SHIPPED
    refusal = sent(peer)[-1]
    assert (refusal.message_info.reason_for_message, refusal.message_info.answer_yes_no) == ("CancelResponse", False)
    assert refusal.status_info.status == "Loaned"
    assert req.pk != other.pk


def test_renew_is_asked_and_our_answer_goes_back(peer, staff, holding):
    req = received(peer, loan_request())
    services.will_supply(req, actor=staff)
    services.ship(req, actor=staff, shipping_method="mail", due_date=in_days(30))
    received(peer, action("A-0001", "Received"))
    received(peer, action("A-0001", "Renew", "a thesis chapter to finish"))
    renewal = Renewal.objects.get(request=req, decision="pending")
    services.decide_renewal(renewal, actor=staff, grant=True, new_due_date=in_days(44))
    answer = sent(peer)[-1]
    assert (answer.message_info.reason_for_message, answer.message_info.answer_yes_no) == ("RenewResponse", True)
    assert flow.local_date(answer.status_info.due_date) == in_days(44)

    # A second Renew while ours is pending is answered "no" at once.
    received(peer, action("A-0001", "Renew"))
    received(peer, action("A-0001", "Renew"))
    renewal = Renewal.objects.get(request=req, decision="pending")
    answer = sent(peer)[-1]
    assert (answer.message_info.reason_for_message, answer.message_info.answer_yes_no) == ("RenewResponse", False)
    services.decide_renewal(renewal, actor=staff, grant=False, note="Another reader is waiting.")
    answer = sent(peer)[-1]
    assert answer.message_info.answer_yes_no is False and answer.message_info.note == "Another reader is waiting."


def test_a_recall_is_told_with_the_new_due_date(peer, staff, holding):
    req = received(peer, loan_request())
    services.will_supply(req, actor=staff)
    services.ship(req, actor=staff, shipping_method="mail", due_date=in_days(30))
    services.recall(req, actor=staff, new_due_date=in_days(7), note="Needed for a course.")
    recall = sent(peer)[-1]
    assert recall.status_info.status == "Recalled" and flow.local_date(recall.status_info.due_date) == in_days(7)


def test_status_request_is_answered_with_where_it_is(peer, staff):
    req = received(peer, copy_request())
    received(peer, action("A-0002", "StatusRequest"))
    services.will_supply(req, actor=staff)
    received(peer, action("A-0002", "StatusRequest", supplier_id=req.number))
    answers = [(m.message_info.reason_for_message, m.status_info.status) for m in sent(peer)]
    assert answers == [
        ("StatusRequestResponse", "RequestReceived"),
        ("RequestResponse", "WillSupply"),
        ("StatusRequestResponse", "WillSupply"),
    ]


def test_an_action_about_a_request_we_do_not_know_is_an_error(peer):
    received(peer, copy_request())
    for message in (action("NO-SUCH", "Cancel"), action("A-0002", "Cancel", supplier_id="L26-999999")):
        status, confirmation = post(peer, message)
        assert status == 200 and not confirmation.ok
        assert confirmation.errors[0].error_type == "UnrecognisedDataValue"
    assert LendingRequest.objects.get().status == S.RECEIVED


def test_unsupported_actions_are_refused(peer):
    received(peer, copy_request())
    status, confirmation = post(peer, action("A-0002", "ShippedForward"))
    assert confirmation.errors[0].error_type == "UnsupportedActionType"


def test_a_request_typed_in_by_staff_sends_nothing(peer, staff):
    req = services.receive(borrower=peer.library, kind="loan", source="nacsis", title="Typed in", their_reference="X1")
    services.will_supply(req, actor=staff)
    services.mark_unfilled(req, actor=staff, reason="not_held")
    assert sent(peer) == []


def test_the_status_table_reports_every_lending_state():
    for status in LendingRequest.Status.values:
        for kind in ("loan", "copy"):
            req = LendingRequest(status=status, kind=kind)
            assert flow.iso_status(req, timezone.localdate()) in xml.STATUSES
    assert set(flow.STATUSES) == set(xml.STATUSES)


def test_an_overdue_loan_is_told_once_per_due_date(peer, staff, holding):
    req = received(peer, loan_request())
    services.will_supply(req, actor=staff)
    services.ship(req, actor=staff, shipping_method="mail", due_date=in_days(30))
    assert flow.tell_overdue(in_days(30)) == 0  # due today: not yet overdue
    assert flow.tell_overdue(in_days(31)) == 1
    assert flow.tell_overdue(in_days(32)) == 0  # told already
    overdue = sent(peer)[-1]
    assert (overdue.message_info.reason_for_message, overdue.status_info.status) == ("StatusChange", "Overdue")
    assert flow.local_date(overdue.status_info.due_date) == in_days(30)
    typed = services.receive(
        borrower=peer.library, kind="loan", source="nacsis", title="Typed in", their_reference="X2"
    )
    services.will_supply(typed, actor=staff)
    services.ship(typed, actor=staff, shipping_method="mail", due_date=in_days(30))
    assert flow.tell_overdue(in_days(40)) == 0  # not asked by ISO 18626: nothing to tell


def test_a_long_note_is_kept_cut_and_a_refused_move_is_an_error_not_a_500(peer, staff, monkeypatch):
    req = received(peer, copy_request())
    long_note = "x" * 9000
    assert received(peer, action("A-0002", "Notification", long_note)).events.last().note.endswith("x" * 100)

    def refuse(*args, **kwargs):
        raise TransitionNotAllowed("moved meanwhile", code="transition_not_allowed")

    monkeypatch.setattr(services, "cancel", refuse)  # another message moved it between our check and the lock
    status, confirmation = post(peer, action("A-0002", "Cancel"))
    assert status == 200 and not confirmation.ok
    assert confirmation.errors[0].error_type == "UnrecognisedDataValue"
    req.refresh_from_db()
    assert req.status == S.RECEIVED
