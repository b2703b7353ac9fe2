"""iso18626.transport, sending: the outbox stores, signs, POSTs after commit, and never loses a message
(a peer that does not confirm gets it again later; ERROR is final; the order per request holds)."""

import datetime
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from core.errors import ServiceError
from iso18626 import transport
from iso18626 import xml as X
from iso18626.models import Message, Peer
from tests import factories as f

pytestmark = pytest.mark.django_db

OURS, THEIRS = "JP-1000001", "JP-1000002"


class FakePeer:
    """A peer's endpoint on a loopback port: records each POST, answers with `self.answer(body)`."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.answer = self.confirm_ok
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append((self.headers, body))
                if outer.delay:
                    time.sleep(outer.delay)
                status, answer, extra = outer.answer(body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/iso18626/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @staticmethod
    def confirm(body: bytes, errors=()) -> tuple[int, bytes, dict]:
        return 200, X.build(X.confirmation_for(X.parse(body), errors=list(errors))), {}

    def confirm_ok(self, body):
        return self.confirm(body)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_peer():
    peer = FakePeer()
    yield peer
    peer.close()


@pytest.fixture
def peer(settings, fake_peer):
    settings.ISO18626_OUR_ISIL = OURS
    settings.ISO18626_TIMEOUT = 1.0
    settings.ISO18626_MAX_ATTEMPTS = 3
    settings.ISO18626_RETRY_SECONDS = 60
    library = f.LendingInstitutionFactory(isil=THEIRS)
    return Peer.objects.create(library=library, endpoint_url=fake_peer.url, shared_secret="s3cret")


def action(peer, number="ILL-1", what="Cancel"):
    return X.RequestingAgencyMessage(
        transport.header_for(peer, we_are="requester", requesting_agency_request_id=number), what
    )


def queue(peer, message, capture, **kw):
    with capture(execute=True):
        return transport.queue(peer, message, **kw)


def test_header_for_puts_each_isil_on_its_side(peer):
    mine = transport.header_for(peer, we_are="requester", requesting_agency_request_id="R1")
    assert (mine.requesting_agency_id.value, mine.supplying_agency_id.value) == (OURS, THEIRS)
    theirs = transport.header_for(
        peer, we_are="supplier", requesting_agency_request_id="R1", supplying_agency_request_id="L1"
    )
    assert (theirs.requesting_agency_id.value, theirs.supplying_agency_id.value) == (THEIRS, OURS)
    assert theirs.supplying_agency_request_id == "L1"
    with pytest.raises(ValueError):
        transport.header_for(peer, we_are="lender", requesting_agency_request_id="R1")


def test_without_our_isil_nothing_can_be_addressed(peer, settings):
    settings.ISO18626_OUR_ISIL = ""
    with pytest.raises(ServiceError, match="ISO18626_OUR_ISIL"):
        transport.header_for(peer, we_are="requester", requesting_agency_request_id="R1")


def test_a_queued_message_is_sent_signed_after_commit_and_marked_sent(
    peer, fake_peer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = transport.queue(peer, action(peer))
        assert row.state == Message.State.QUEUED and fake_peer.received == []  # nothing before the commit
    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.state == Message.State.SENT and row.attempts == 1 and row.next_attempt_at is None
    assert row.message_type == "requestingAgencyMessage" and row.code == "Cancel"
    assert row.requesting_agency_request_id == "ILL-1"
    headers, body = fake_peer.received[0]
    assert body == row.body.encode()
    assert headers["X-ISO18626-Signature"] == transport.sign("s3cret", body)
    assert headers["Content-Type"].startswith("application/xml")
    assert X.parse(row.confirmation.encode()).ok


def test_an_error_confirmation_is_final_and_kept(peer, fake_peer, django_capture_on_commit_callbacks):
    fake_peer.answer = lambda body: FakePeer.confirm(body, [X.ErrorData("UnrecognisedDataValue", "no such request")])
    row = queue(peer, action(peer), django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == Message.State.REJECTED
    assert row.last_error == "UnrecognisedDataValue: no such request"
    assert transport.sweep(timezone.now() + datetime.timedelta(days=2)) == 0  # never again
    assert len(fake_peer.received) == 1


@pytest.mark.parametrize(
    "answer, error",
    [
        (lambda body: (500, b"<html>oops</html>", {}), "HTTP 500"),
        (lambda body: (200, b"OK", {}), "no confirmation"),
        (lambda body: (403, b"", {}), "HTTP 403"),
        (
            lambda body: (200, X.build(X.RequestConfirmation(X.ConfirmationHeader(X.now(), X.now(), "OK"))), {}),
            "not a requestingAgencyMessageConfirmation",
        ),
        (lambda body: (302, b"", {"Location": "http://127.0.0.1:9/elsewhere"}), "HTTP 302"),
    ],
    ids=["http-500", "not-xml", "forbidden", "wrong-confirmation", "redirect-not-followed"],
)
def test_no_confirmation_means_queued_again_with_backoff(
    peer, fake_peer, django_capture_on_commit_callbacks, answer, error
):
    fake_peer.answer = answer
    before = timezone.now()
    row = queue(peer, action(peer), django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == Message.State.QUEUED and row.attempts == 1
    assert error in row.last_error
    assert (
        before + datetime.timedelta(seconds=59) < row.next_attempt_at < timezone.now() + datetime.timedelta(seconds=61)
    )
    assert len(fake_peer.received) == 1


def test_a_peer_that_does_not_answer_in_time_is_tried_again(
    peer, fake_peer, django_capture_on_commit_callbacks, settings
):
    settings.ISO18626_TIMEOUT = 0.3
    fake_peer.delay = 1.0
    row = queue(peer, action(peer), django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == Message.State.QUEUED and "timed out" in row.last_error.lower()


def test_an_unreachable_peer_is_retried_until_max_attempts_then_failed(peer, django_capture_on_commit_callbacks):
    peer.endpoint_url = "http://127.0.0.1:9/iso18626/"  # nothing listens on the discard port
    peer.save()
    row = queue(peer, action(peer), django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == Message.State.QUEUED and row.attempts == 1
    assert transport.sweep() == 0  # not due yet
    later = timezone.now()
    for expected_wait in (120, None):  # the backoff doubles: 60 s after the 1st, 120 s after the 2nd
        later += datetime.timedelta(hours=1)
        Message.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert transport.sweep(later) == 1
        row.refresh_from_db()
        if expected_wait:
            assert row.state == Message.State.QUEUED
            wait = (row.next_attempt_at - timezone.now()).total_seconds()
            assert expected_wait - 2 < wait <= expected_wait
    assert row.state == Message.State.FAILED and row.attempts == 3 and row.next_attempt_at is None
    assert "ConnectionRefused" in row.last_error or "Errno" in row.last_error
    assert transport.health()["failed"] == 1 and not transport.health()["ok"]


def test_a_failed_attempt_and_a_later_success(peer, fake_peer, django_capture_on_commit_callbacks):
    fake_peer.answer = lambda body: (503, b"", {})
    row = queue(peer, action(peer), django_capture_on_commit_callbacks)
    fake_peer.answer = fake_peer.confirm_ok
    Message.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    assert transport.sweep() == 1
    row.refresh_from_db()
    assert row.state == Message.State.SENT and row.attempts == 2 and row.last_error == ""
    assert len(fake_peer.received) == 2 and fake_peer.received[0][1] == fake_peer.received[1][1]


def test_messages_about_one_request_go_in_order(peer, fake_peer, django_capture_on_commit_callbacks):
    fake_peer.answer = lambda body: (503, b"", {})
    first = queue(peer, action(peer, what="Renew"), django_capture_on_commit_callbacks)
    fake_peer.answer = fake_peer.confirm_ok
    second = queue(peer, action(peer, what="ShippedReturn"), django_capture_on_commit_callbacks)
    other = queue(peer, action(peer, number="ILL-2"), django_capture_on_commit_callbacks)
    second.refresh_from_db(), other.refresh_from_db()
    assert second.state == Message.State.QUEUED and second.attempts == 0  # waits behind the Renew
    assert other.state == Message.State.SENT  # another request is not held up
    assert transport.deliver(second.pk) == Message.State.QUEUED
    Message.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        transport.sweep()
    first.refresh_from_db(), second.refresh_from_db()
    assert first.state == second.state == Message.State.SENT
    actions = [X.parse(body).action for _, body in fake_peer.received]
    assert actions == ["Renew", "Cancel", "Renew", "ShippedReturn"]


def test_deliver_twice_sends_once(peer, fake_peer, django_capture_on_commit_callbacks):
    row = queue(peer, action(peer), django_capture_on_commit_callbacks)
    assert transport.deliver(row.pk) == Message.State.SENT
    assert len(fake_peer.received) == 1


def test_queueing_with_a_dedupe_key_is_idempotent(peer, fake_peer, django_capture_on_commit_callbacks):
    one = queue(peer, action(peer), django_capture_on_commit_callbacks, dedupe_key="event:1")
    two = queue(peer, action(peer), django_capture_on_commit_callbacks, dedupe_key="event:1")
    assert one.pk == two.pk and Message.objects.count() == 1 and len(fake_peer.received) == 1


def test_an_inactive_peer_gets_nothing(peer):
    peer.active = False
    peer.save()
    with pytest.raises(ServiceError):
        transport.queue(peer, action(peer))
    assert not Message.objects.exists()


def test_an_invalid_message_fails_in_the_callers_transaction(peer):
    with pytest.raises(X.InvalidOutgoing):
        transport.queue(peer, action(peer, what="Returned"))
    assert not Message.objects.exists()


def test_only_http_endpoints_are_posted_to(peer, django_capture_on_commit_callbacks):
    Peer.objects.filter(pk=peer.pk).update(endpoint_url="file:///etc/passwd")
    peer.refresh_from_db()
    row = queue(peer, action(peer), django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == Message.State.QUEUED and "not http" in row.last_error


def test_the_signature_is_checked_in_constant_time_and_exactly():
    body = b"<x/>"
    good = transport.sign("k", body)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert transport.signature_ok("k", body, good)
    assert transport.signature_ok("k", body, f" {good} ")
    assert not transport.signature_ok("k", body + b" ", good)
    assert not transport.signature_ok("other", body, good)
    assert not transport.signature_ok("k", body, None) and not transport.signature_ok("k", body, "")


def test_the_admin_lists_messages_and_sends_failed_ones_again(
    peer, fake_peer, admin_client, django_capture_on_commit_callbacks
):
    fake_peer.answer = lambda body: FakePeer.confirm(body, [X.ErrorData("UnrecognisedDataValue", "unknown")])
    row = queue(peer, action(peer), django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == Message.State.REJECTED
    page = admin_client.get("/admin/iso18626/message/?state=rejected")
    assert page.status_code == 200 and "UnrecognisedDataValue" in page.content.decode()
    assert admin_client.get(f"/admin/iso18626/message/{row.pk}/change/").status_code == 200
    fake_peer.answer = fake_peer.confirm_ok
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/iso18626/message/", {"action": "send_again", "_selected_action": [row.pk]}, follow=True
        )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.state == Message.State.SENT and row.attempts == 1


def test_a_peer_needs_a_library_with_an_isil(admin_client):
    library = f.LendingInstitutionFactory(isil="")
    response = admin_client.post(
        "/admin/iso18626/peer/add/",
        {
            "library": library.pk,
            "endpoint_url": "https://b.example.ac.jp/iso18626/",
            "shared_secret": "x",
            "active": "on",
        },
    )
    assert response.status_code == 200 and "ISIL" in response.content.decode()
    assert not Peer.objects.exists()
    response = admin_client.post(
        "/admin/iso18626/peer/add/",
        {"library": library.pk, "endpoint_url": "ftp://b.example.ac.jp/", "shared_secret": "x", "active": "on"},
    )
    assert not Peer.objects.exists()
