"""We are the requester (iso18626.borrowing): a borrowing request ordered from a peer goes as an ISO 18626
`request`, our desk's moves as requestingAgencyMessages, and the lender's supplyingAgencyMessages move
the request through ill's own services (queued messages are read, nothing is POSTed)."""

import datetime
import decimal

import pytest
from django.utils import timezone, translation

from core.text import format_date
from ill import services
from ill.models import LenderCandidate, Request
from iso18626 import borrowing, transport, xml
from iso18626 import lending as table
from iso18626.models import Message, Peer
from notifications.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The notes are written in the active language; these tests read them in English."""
    with translation.override("en"):
        yield


OURS, LENDER_ISIL, SECOND_ISIL = "JP-1000001", "JP-1000002", "JP-1000003"
S = Request.Status


@pytest.fixture
def peer(db, settings):
    settings.ISO18626_OUR_ISIL = OURS
    library = f.FeeScheduleFactory(lender__isil=LENDER_ISIL, lender__name_en="Library B").lender
    return Peer.objects.create(library=library, endpoint_url="http://b.example/iso18626/", shared_secret="b-secret")


@pytest.fixture
def second_peer(db):
    library = f.FeeScheduleFactory(lender__isil=SECOND_ISIL, lender__name_en="Library C").lender
    return Peer.objects.create(library=library, endpoint_url="http://c.example/iso18626/", shared_secret="c-secret")


def submitted(patron, **fields) -> Request:
    values = {"kind": "loan", "material_type": "book", "title": "Pattern Recognition", "isbn": "9780387310732"}
    values.update(fields)
    return services.submit_request(
        patron=patron, request=Request(pickup_branch=patron.home_branch, **values), actor=patron.user
    )


def copy_fields(**fields):
    return {
        "kind": "copy",
        "material_type": "article",
        "title": "Journal of Examples",
        "journal_title": "Journal of Examples",
        "article_title": "On examples",
        "issn": "1234-5679",
        "page_count": 10,
        "copyright_accepted": True,
        "purpose": "study",
        "pub_year": 2019,
        **fields,
    }


def sent(peer) -> list:
    return [xml.parse(m.body.encode()) for m in Message.objects.filter(direction="out", peer=peer).order_by("pk")]


def lender_says(peer, request, status, *, reason="StatusChange", supplier_id="L26-000001", **info):
    message = xml.SupplyingAgencyMessage(
        header=xml.Header(
            requesting_agency_id=xml.AgencyId(OURS),
            supplying_agency_id=xml.AgencyId(peer.isil),
            timestamp=xml.now(),
            requesting_agency_request_id=request.number if isinstance(request, Request) else request,
            supplying_agency_request_id=supplier_id,
        ),
        message_info=xml.MessageInfo(
            reason_for_message=reason,
            answer_yes_no=info.pop("answer", None),
            note=info.pop("note", ""),
            reason_unfilled=info.pop("reason_unfilled", ""),
        ),
        status_info=xml.StatusInfo(status=status, last_change=xml.now(), due_date=info.pop("due_date", None)),
        delivery_info=info.pop("delivery", None),
    )
    raw = xml.build(message)
    code, body = transport.receive(raw, {transport.SIGNATURE_HEADER: transport.sign(peer.shared_secret, raw)})
    return xml.parse(body)


def at_end_of(days: int) -> datetime.datetime:
    return table.end_of_day(f.future(days))


def notes(request) -> list[str]:
    return list(request.events.filter(action="iso18626").values_list("note", flat=True))


# --- ordering by message --------------------------------------------------------------------------


def test_ordering_from_a_peer_sends_the_request_without_the_patrons_name(peer, staff_user, undergraduate):
    request = submitted(undergraduate, not_needed_after=f.future(40), max_cost=3000, accept_other_edition=True)
    services.order(request, actor=staff_user, lenders=[peer.library], shipping_method="mail")
    (message,) = sent(peer)
    assert isinstance(message, xml.Request)
    assert message.header.requesting_agency_request_id == request.number
    assert (message.header.requesting_agency_id.value, message.header.supplying_agency_id.value) == (OURS, LENDER_ISIL)
    assert message.service_info.service_type == "Loan" and message.service_info.preferred_edition == "AnyEdition"
    assert (message.bibliographic_info.title, message.bibliographic_info.item_id("ISBN")) == (
        "Pattern Recognition",
        "9780387310732",
    )
    assert table.local_date(message.service_info.need_before_date) == f.future(40)
    assert message.billing_info.maximum_costs.yen == 3000
    body = Message.objects.get(direction="out").body
    assert undergraduate.full_name not in body and undergraduate.patron_number not in body
    assert undergraduate.user.email not in body
    assert message.patron_info.patron_id == borrowing.patron_pseudonym(request)


def test_a_copy_request_declares_art_31_with_its_purpose(peer, staff_user, undergraduate):
    request = submitted(undergraduate, **copy_fields())
    services.order(request, actor=staff_user, lenders=[peer.library], shipping_method="mail")
    (message,) = sent(peer)
    assert message.service_info.service_type == "Copy"
    assert message.service_info.copyright_compliance == "JP-Art31-Study"
    bib = message.bibliographic_info
    assert (bib.title, bib.title_of_component, bib.estimated_no_pages, bib.item_id("ISSN")) == (
        "Journal of Examples",
        "On examples",
        "10",
        "1234-5679",
    )


def test_ordering_from_a_library_that_is_no_peer_sends_nothing(lender, staff_user, undergraduate):
    request = submitted(undergraduate)
    services.order(request, actor=staff_user, lenders=[lender], shipping_method="mail")
    assert not Message.objects.exists()


# --- the lender's answers -------------------------------------------------------------------------


def ordered(peer, staff_user, patron, *more, **fields) -> Request:
    request = submitted(patron, **fields)
    services.order(request, actor=staff_user, lenders=[peer.library, *more], shipping_method="mail")
    return request


def test_will_supply_and_loaned_are_noted_for_staff_with_due_date_and_charge(peer, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate)
    assert lender_says(peer, request, "WillSupply", reason="RequestResponse").ok
    delivery = xml.DeliveryInfo(date_sent=xml.now(), delivery_costs=xml.Costs(decimal.Decimal(1600)))
    assert lender_says(peer, request, "Loaned", due_date=at_end_of(30), delivery=delivery).ok
    request.refresh_from_db()
    assert request.status == S.ORDERED  # the desk records the arrival when the book is here
    will, loaned = notes(request)
    assert "WillSupply" in will
    assert "Loaned" in loaned and f.future(30).isoformat() in loaned and "1,600" in loaned
    assert request.lender_reference == "L26-000001"
    assert request.candidates.get().lender_reference == "L26-000001"
    assert borrowing.due_date_announced(request) == f.future(30)
    assert not request.events.get(action="iso18626", note=will).visible_to_patron


def test_recording_the_arrival_sends_received_and_the_return_shipped_return(peer, staff_user, undergraduate):
    request = submitted(undergraduate)
    services.order(request, actor=staff_user, lenders=[peer.library], lender_reference="typed by staff")
    lender_says(peer, request, "WillSupply", reason="RequestResponse", supplier_id="L26-000042")
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(30))
    Request.objects.filter(pk=request.pk).update(status=S.RETURNED)  # (handed over and back: not this test's)
    services.send_back(request, actor=staff_user)
    actions = [m.action for m in sent(peer) if isinstance(m, xml.RequestingAgencyMessage)]
    assert actions == ["Received", "ShippedReturn"]
    for message in sent(peer)[1:]:  # (after the request): our id, and theirs as their message gave it
        assert message.header.requesting_agency_request_id == request.number
        assert message.header.supplying_agency_request_id == "L26-000042"


def test_before_the_lender_gave_its_id_none_is_sent_as_theirs(peer, staff_user, undergraduate):
    request = submitted(undergraduate)
    services.order(request, actor=staff_user, lenders=[peer.library], lender_reference="typed by staff")
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(30))
    assert sent(peer)[-1].header.supplying_agency_request_id == ""


def test_unfilled_moves_the_request_to_the_next_candidate(peer, lender, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate, lender)
    answer = lender_says(
        peer, request, "Unfilled", reason="RequestResponse", reason_unfilled="NotOnShelf", note="Missing."
    )
    assert answer.ok
    request.refresh_from_db()
    assert (request.status, request.lender) == (S.ORDERED, lender)
    first, second = request.candidates.order_by("position")
    assert (first.state, first.unfilled_reason) == (LenderCandidate.State.UNFILLED, "missing")
    assert "Missing." in first.answer_note
    assert second.state == LenderCandidate.State.ORDERED
    assert request.events.filter(action="order", data__automatic=True).exists()


def test_unfilled_with_a_peer_next_orders_that_peer_by_message(peer, second_peer, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate, second_peer.library)
    lender_says(peer, request, "Unfilled", reason="RequestResponse", reason_unfilled="NotHeld")
    request.refresh_from_db()
    assert request.lender == second_peer.library
    (message,) = sent(second_peer)
    assert isinstance(message, xml.Request) and message.header.requesting_agency_request_id == request.number
    assert request.candidates.get(position=1).unfilled_reason == "not_held"


def test_an_unfilled_without_a_next_candidate_waits_as_unfilled(peer, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate)
    lender_says(peer, request, "Unfilled", reason_unfilled="SomethingElse")
    request.refresh_from_db()
    assert request.status == S.UNFILLED
    assert request.candidates.get().unfilled_reason == "other"


def test_a_message_about_a_request_we_did_not_send_them_is_an_error(peer, lender, staff_user, undergraduate):
    other = submitted(undergraduate, title="Not ordered from them")
    services.order(other, actor=staff_user, lenders=[lender], shipping_method="mail")
    for number in ("ILL-2026-999999", other.number):
        answer = lender_says(peer, number, "Loaned")
        assert not answer.ok and answer.errors[0].error_type == "UnrecognisedDataValue"
    assert notes(other) == []


def test_a_late_answer_of_an_earlier_lender_is_only_noted(peer, lender, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate, lender)
    services.mark_unfilled(request, actor=staff_user, reason="on_loan")  # staff heard by telephone
    request.refresh_from_db()
    assert request.lender == lender
    assert lender_says(peer, request, "Unfilled", reason_unfilled="InUseOnLoan").ok
    request.refresh_from_db()
    assert (request.status, request.lender) == (S.ORDERED, lender)  # not marked unfilled at the new lender
    assert len(notes(request)) == 1


def test_a_recall_brings_the_due_dates_forward(peer, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate)
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(30))
    lender_says(peer, request, "Recalled", due_date=at_end_of(10), note="Needed here.")
    request.refresh_from_db()
    assert request.lender_due_date == f.future(10)
    assert request.due_date <= f.future(10)
    assert any("Needed here." in n and format_date(f.future(10)) in n for n in notes(request))
    assert request.events.filter(action="recalled").count() == 1  # through ill's service


def test_a_recall_of_a_book_the_patron_has_tells_the_patron(peer, staff_user, undergraduate):
    request = on_loan(peer, staff_user, undergraduate)
    lender_says(peer, request, "Recalled", due_date=at_end_of(8), note="Needed here.")
    request.refresh_from_db()
    assert request.lender_due_date == f.future(8)
    assert OutboxMessage.objects.filter(request=request, kind="recalled").count() == 1


def on_loan(peer, staff_user, patron) -> Request:
    request = ordered(peer, staff_user, patron)
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(20))
    Request.objects.filter(pk=request.pk).update(status=S.ON_LOAN)
    request.refresh_from_db()
    return request


@pytest.mark.parametrize("granted", [True, False])
def test_a_forwarded_extension_is_asked_by_renew_and_the_answer_applied(peer, staff_user, undergraduate, granted):
    request = on_loan(peer, staff_user, undergraduate)
    extension = services.request_extension(request, actor=undergraduate.user, reason="a thesis to finish")
    services.forward_extension(extension, actor=staff_user)
    renew = sent(peer)[-1]
    assert (renew.action, renew.note) == ("Renew", "a thesis to finish")
    assert renew.header.supplying_agency_request_id == request.candidates.get().lender_reference
    lender_says(peer, request, "Loaned", reason="RenewResponse", answer=granted, due_date=at_end_of(34))
    extension.refresh_from_db()
    request.refresh_from_db()
    if granted:
        assert (extension.state, request.lender_due_date) == ("granted", f.future(34))
    else:
        assert (extension.state, request.lender_due_date) == ("refused", f.future(20))


def test_loan_completed_is_noted(peer, staff_user, undergraduate):
    request = on_loan(peer, staff_user, undergraduate)
    lender_says(peer, request, "LoanCompleted")
    assert any("LoanCompleted" in n for n in notes(request))


def test_the_same_message_twice_is_noted_once(peer, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate)
    message = xml.SupplyingAgencyMessage(
        header=xml.Header(
            requesting_agency_id=xml.AgencyId(OURS),
            supplying_agency_id=xml.AgencyId(LENDER_ISIL),
            timestamp=xml.now(),
            requesting_agency_request_id=request.number,
            supplying_agency_request_id="L26-000001",
        ),
        message_info=xml.MessageInfo(reason_for_message="RequestResponse"),
        status_info=xml.StatusInfo(status="WillSupply", last_change=timezone.now()),
    )
    raw = xml.build(message)
    headers = {transport.SIGNATURE_HEADER: transport.sign(peer.shared_secret, raw)}
    assert transport.receive(raw, headers) == transport.receive(raw, headers)
    assert len(notes(request)) == 1


def test_a_shipped_status_repeated_after_the_arrival_is_only_noted(peer, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate)
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(30))
    lender_says(peer, request, "Loaned", due_date=at_end_of(30))
    (note,) = notes(request)
    assert "Loaned" in note and "record the arrival" not in note


def test_retry_possible_with_offered_costs_is_noted_for_staff(peer, staff_user, undergraduate):
    request = ordered(peer, staff_user, undergraduate)
    message = xml.SupplyingAgencyMessage(
        header=xml.Header(
            requesting_agency_id=xml.AgencyId(OURS),
            supplying_agency_id=xml.AgencyId(LENDER_ISIL),
            timestamp=xml.now(),
            requesting_agency_request_id=request.number,
            supplying_agency_request_id="L26-000001",
        ),
        message_info=xml.MessageInfo(reason_for_message="RequestResponse", reason_retry="CostExceedsMaxCost"),
        status_info=xml.StatusInfo(status="RetryPossible", last_change=timezone.now()),
        retry_info=xml.RetryInfo(offered_costs=[xml.Costs(decimal.Decimal(2400))]),
    )
    raw = xml.build(message)
    transport.receive(raw, {transport.SIGNATURE_HEADER: transport.sign(peer.shared_secret, raw)})
    request.refresh_from_db()
    assert request.status == S.ORDERED  # staff decide
    (note,) = notes(request)
    assert "RetryPossible" in note and "2,400" in note
