"""POST /iso18626/ (iso18626.views + transport.receive): only a known peer's signed, valid message is
handled, once; everything else gets a clear answer and changes nothing."""

import datetime
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from ill.models import LendingInstitution
from iso18626 import dispatch, transport
from iso18626 import xml as X
from iso18626.models import Message, Peer
from tests import factories as f

pytestmark = pytest.mark.django_db

OURS, THEIRS = "JP-1000001", "JP-1000002"
URL = "/iso18626/"


@pytest.fixture
def handlers():
    """The registry as the test sets it; the flows' handlers are put back afterwards."""
    saved = dict(dispatch._handlers)
    calls = []

    def record(message, *, peer, stored):
        calls.append((message, peer, stored))

    for kind in ("request", "supplyingAgencyMessage", "requestingAgencyMessage"):
        dispatch.register(kind, record)
    yield calls
    dispatch._handlers.clear()
    dispatch._handlers.update(saved)


@pytest.fixture
def peer(settings):
    settings.ISO18626_OUR_ISIL = OURS
    library = f.LendingInstitutionFactory(isil=THEIRS)
    return Peer.objects.create(library=library, endpoint_url="http://127.0.0.1:9/iso18626/", shared_secret="s3cret")


def their_request(number="THEIR-1", timestamp=None):
    return X.Request(
        header=X.Header(X.AgencyId(THEIRS), X.AgencyId(OURS), timestamp or X.now(), number),
        bibliographic_info=X.BibliographicInfo(title="図書館概論", item_ids=[("ISBN", "9784000000002")]),
        service_info=X.ServiceInfo("Loan", request_type="New"),
    )


def their_action(what="Renew", number="ILL-1"):
    return X.RequestingAgencyMessage(X.Header(X.AgencyId(THEIRS), X.AgencyId(OURS), X.now(), number), what)


def their_answer(status="Loaned"):
    return X.SupplyingAgencyMessage(
        header=X.Header(X.AgencyId(OURS), X.AgencyId(THEIRS), X.now(), "ILL-1", "L-1"),
        message_info=X.MessageInfo("StatusChange"),
        status_info=X.StatusInfo(status, X.now()),
    )


def post(raw: bytes, *, secret="s3cret", signature=None, content_type="application/xml", client=None):
    headers = {}
    if signature is not None:
        headers["HTTP_X_ISO18626_SIGNATURE"] = signature
    elif secret:
        headers["HTTP_X_ISO18626_SIGNATURE"] = transport.sign(secret, raw)
    client = client or Client(enforce_csrf_checks=True)
    return client.post(URL, raw, content_type=content_type, **headers)


def confirmation(response):
    assert response["Content-Type"].startswith("application/xml")
    return X.parse(response.content)


@pytest.mark.parametrize("message", [their_request(), their_action(), their_answer()], ids=lambda m: m.message_type)
def test_a_signed_valid_message_is_handled_once_and_confirmed_ok(peer, handlers, message):
    raw = X.build(message)
    response = post(raw)
    assert response.status_code == 200
    answer = confirmation(response)
    assert answer.ok and answer.message_type == X.CONFIRMATION_OF[message.message_type].message_type
    assert answer.header.requesting_agency_request_id == message.header.requesting_agency_request_id
    ((got, got_peer, stored),) = handlers
    assert got == message and got_peer == peer
    assert stored.direction == Message.Direction.IN and stored.state == Message.State.PROCESSED
    stored.refresh_from_db()
    assert stored.body.encode() == raw and stored.confirmation.encode() == response.content
    assert stored.code == transport.code_of(message)


def test_a_message_in_another_encoding_is_stored_as_text(peer, handlers):
    utf8 = X.build(their_action("Received"))
    raw = utf8.decode().replace("encoding='utf-8'", "encoding='utf-16'").encode("utf-16")
    assert b"\x00" in raw  # which PostgreSQL cannot store as text
    assert post(raw).status_code == 200 and len(handlers) == 1
    stored = Message.objects.get()
    assert "\x00" not in stored.body and X.parse(stored.body.encode()) == X.parse(utf8)


def test_a_long_request_id_is_answered_with_it_whole(peer, handlers):
    number = "R" * 300  # xs:string: no length limit in the standard
    response = post(X.build(their_action(number=number)))
    assert response.status_code == 200
    assert confirmation(response).header.requesting_agency_request_id == number
    assert handlers[0][0].header.requesting_agency_request_id == number
    assert Message.objects.get().requesting_agency_request_id == "R" * 100


def test_the_same_message_twice_changes_nothing_and_gets_the_same_answer(peer, handlers):
    raw = X.build(their_action("Cancel"))
    first = post(raw)
    second = post(raw)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(handlers) == 1 and Message.objects.count() == 1


def test_a_new_message_about_the_same_request_is_a_new_message(peer, handlers):
    post(X.build(their_action("Renew")))
    post(X.build(their_action("ShippedReturn")))
    assert [m.action for m, _, _ in handlers] == ["Renew", "ShippedReturn"]


def test_a_refusal_is_an_error_confirmation_and_rolls_the_handler_back(peer, handlers):
    def refuse(message, *, peer, stored):
        f.LendingInstitutionFactory(code="HALF0001")  # written, then refused: must not stay
        raise dispatch.Refused("UnrecognisedDataValue", "no request ILL-404 was sent to you")

    dispatch.register("requestingAgencyMessage", refuse)
    raw = X.build(their_action(number="ILL-404"))
    response = post(raw)
    assert response.status_code == 200  # answered (as ReShare does): the ERROR is in the confirmation
    answer = confirmation(response)
    assert not answer.ok and answer.action == "Renew"
    assert (answer.errors[0].error_type, answer.errors[0].error_value) == (
        "UnrecognisedDataValue",
        "no request ILL-404 was sent to you",
    )
    assert not LendingInstitution.objects.filter(code="HALF0001").exists()
    stored = Message.objects.get()
    assert stored.state == Message.State.REJECTED and "ILL-404" in stored.last_error
    assert post(raw).content == response.content  # and the repeat gets the same answer


def test_an_action_nobody_handles_is_unsupported(peer, handlers):
    dispatch.unregister("requestingAgencyMessage")
    answer = confirmation(post(X.build(their_action("Lost"))))
    assert answer.errors[0].error_type == "UnsupportedActionType"


def test_a_message_for_another_library_is_refused(peer, handlers):
    message = their_request()
    message.header.supplying_agency_id = X.AgencyId("JP-9999999")
    answer = confirmation(post(X.build(message)))
    assert answer.errors[0].error_type == "UnrecognisedDataValue" and "JP-9999999" in answer.errors[0].error_value
    assert handlers == []


def test_a_handler_bug_is_a_500_and_leaves_nothing_so_the_peer_sends_again(peer, handlers):
    def broken(message, *, peer, stored):
        f.LendingInstitutionFactory(code="HALF0002")
        raise RuntimeError("bug")

    dispatch.register("request", broken)
    raw = X.build(their_request())
    client = Client(raise_request_exception=False)
    assert post(raw, client=client).status_code == 500
    assert not Message.objects.exists() and not LendingInstitution.objects.filter(code="HALF0002").exists()
    dispatch.register("request", lambda message, *, peer, stored: None)
    assert post(raw).status_code == 200 and Message.objects.count() == 1


@pytest.mark.parametrize(
    "kw",
    [
        {"signature": "sha256=" + "0" * 64},  # wrong
        {"secret": "not-the-secret"},
        {"secret": None},  # unsigned, and the peer does not accept that
    ],
    ids=["bad-signature", "other-secret", "unsigned"],
)
def test_a_bad_or_missing_signature_is_403_and_nothing_is_stored(peer, handlers, kw):
    response = post(X.build(their_request()), **kw)
    assert response.status_code == 403 and response.content == b""
    assert handlers == [] and not Message.objects.exists()


def test_a_peer_marked_accept_unsigned_may_send_unsigned_but_never_badly_signed(peer, handlers):
    peer.accept_unsigned = True
    peer.save()
    assert post(X.build(their_request("U-1")), secret=None).status_code == 200
    assert post(X.build(their_request("U-2")), signature="sha256=bad").status_code == 403
    assert len(handlers) == 1


def test_an_unknown_or_inactive_sender_is_403(peer, handlers):
    stranger = their_request()
    stranger.header.requesting_agency_id = X.AgencyId("JP-7777777")
    assert post(X.build(stranger)).status_code == 403
    peer.active = False
    peer.save()
    assert post(X.build(their_request())).status_code == 403
    assert handlers == [] and not Message.objects.exists()


def test_without_our_isil_messaging_is_off(peer, handlers, settings):
    settings.ISO18626_OUR_ISIL = ""
    assert post(X.build(their_request())).status_code == 403
    assert handlers == [] and not Message.objects.exists()


def test_a_schema_invalid_message_is_400_badly_formed_and_kept_for_staff(peer, handlers):
    raw = X.build(their_answer()).replace(b">Loaned<", b">Lent<")
    response = post(raw)
    assert response.status_code == 400
    answer = confirmation(response)
    assert isinstance(answer, X.SupplyingAgencyMessageConfirmation)
    assert answer.errors[0].error_type == "BadlyFormedMessage" and "status" in answer.errors[0].error_value
    assert handlers == []
    kept = Message.objects.get()
    assert kept.state == Message.State.REJECTED and kept.http_status == 400 and kept.peer == peer


@pytest.mark.parametrize(
    "raw",
    [
        b"<ISO18626Message xmlns='http://illtransactions.org/2013/iso18626'><request>",
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><ISO18626Message/>',
        b"<html/>",
    ],
    ids=["not-well-formed", "dtd", "not-iso"],
)
def test_unreadable_bodies_are_400_badly_formed_with_nothing_stored(peer, handlers, raw):
    response = post(raw)
    assert response.status_code == 400
    assert confirmation(response).errors[0].error_type == "BadlyFormedMessage"
    assert handlers == [] and not Message.objects.exists()


def test_an_empty_body_is_refused(peer, handlers):
    assert post(b"").status_code == 415  # the test client drops the content type of an empty body
    status, body = transport.receive(b"", {})
    assert status == 400 and "empty" in X.parse(body).errors[0].error_value


def test_a_confirmation_is_not_accepted_as_a_message(peer, handlers):
    raw = X.build(X.confirmation_for(their_request()))
    response = post(raw)
    assert response.status_code == 400 and confirmation(response).errors[0].error_type == "UnsupportedActionType"


def test_the_body_cap(peer, handlers):
    raw = X.build(their_request()).replace(b"<ill:title>", b"<ill:title>" + "字".encode() * 400_000)
    assert len(raw) > X.MAX_BODY_BYTES
    response = post(raw)
    assert response.status_code == 413 and confirmation(response).errors[0].error_type == "BadlyFormedMessage"
    assert handlers == [] and not Message.objects.exists()
    status, _ = transport.receive(raw, {})  # the same cap when called directly (chunked bodies, tests)
    assert status == 413


def test_only_xml_posts(peer, handlers):
    raw = X.build(their_request())
    assert post(raw, content_type="application/json").status_code == 415
    assert post(raw, content_type="text/xml; charset=utf-8").status_code == 200
    assert Client().get(URL).status_code == 405


def test_dedupe_key_tells_messages_apart(peer):
    t = X.now()
    a = their_request(timestamp=t)
    b = their_request(timestamp=t + datetime.timedelta(milliseconds=1))
    assert transport.incoming_dedupe_key(peer, a) == transport.incoming_dedupe_key(peer, their_request(timestamp=t))
    assert transport.incoming_dedupe_key(peer, a) != transport.incoming_dedupe_key(peer, b)
    renew, cancel = their_action("Renew"), their_action("Cancel")
    cancel.header.timestamp = renew.header.timestamp
    assert transport.incoming_dedupe_key(peer, renew) != transport.incoming_dedupe_key(peer, cancel)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_message_at_the_same_moment_is_handled_once(peer, handlers):
    """Two workers receive one message (a peer's retry overtaking its first POST): real concurrent
    transactions; the handler is slow so that both would run it without the unique key."""

    def slow(message, *, peer, stored):
        handlers.append(message)
        time.sleep(0.5)

    dispatch.register("requestingAgencyMessage", slow)
    raw = X.build(their_action("Received"))
    headers = {transport.SIGNATURE_HEADER: transport.sign("s3cret", raw)}
    barrier = threading.Barrier(2)
    answers = []

    def run():
        try:
            barrier.wait()
            answers.append(transport.receive(raw, headers))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2 and answers[0] == answers[1] and answers[0][0] == 200
    assert len(handlers) == 1 and Message.objects.count() == 1
