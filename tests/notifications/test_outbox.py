"""The outbox never loses or duplicates a message (DESIGN.md §8), tested against a real SMTP
server on loopback (aiosmtpd): delivery, SMTP down and back, retries with backoff, the broker
unreachable, a worker killed while sending, two senders racing for one message."""

import datetime
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, transaction
from django.utils import timezone

from config.celery_app import app as celery_app
from notifications import delivery, services, tasks
from notifications.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db


class Inbox:
    """An SMTP handler that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPServer:
    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self):
        return self.inbox.messages


@pytest.fixture
def smtp(settings):
    server = SMTPServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


def queue(n=1, **kwargs):
    """Queue n messages in a transaction that commits (on_commit callbacks run)."""
    created = []
    for i in range(n):
        with transaction.atomic():
            created.append(
                services.queue_message(
                    template="ill/email",
                    kind="received",
                    idempotency_key=kwargs.get("key", f"test:{timezone.now().timestamp()}:{i}"),
                    recipient=f"patron{i}@example.ac.jp",
                    language="ja",
                    context={"request": None, "patron": None, "url": "/"},
                )
            )
    return created


def later(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_it_delivers_through_a_real_smtp_server(smtp, django_capture_on_commit_callbacks, undergraduate, lender):
    from ill import services as ill_services

    smtp.start()
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    with django_capture_on_commit_callbacks(execute=True):
        ill_services.record_arrival(request, actor=None, lender_due_date=f.future(14))
    assert len(smtp.received) == 1
    envelope = smtp.received[0]
    assert envelope.rcpt_tos == [undergraduate.user.email]
    raw = envelope.content.decode("utf-8", "replace")
    assert "multipart/alternative" in raw and "text/html" in raw
    assert "Message-ID: <arrived.event." in raw
    message = OutboxMessage.objects.get(request=request)
    assert (message.status, message.attempts, message.sent_at is not None) == ("sent", 1, True)


def test_smtp_down_then_back_delivers_each_message_exactly_once(smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(5)
    pending = OutboxMessage.objects.filter(status="pending")
    assert pending.count() == 5
    assert all(m.attempts == 1 and "Connection" in m.last_error or m.last_error for m in pending)
    smtp.start()
    assert tasks.sweep(now=later(0)) == 0  # not due yet: backoff
    assert tasks.sweep(now=later(2)) == 5
    assert len(smtp.received) == 5
    assert tasks.sweep(now=later(120)) == 0
    assert len(smtp.received) == 5
    assert sorted(e.rcpt_tos[0] for e in smtp.received) == [f"patron{i}@example.ac.jp" for i in range(5)]
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 2)}


def test_retries_back_off_and_give_up_then_staff_retry(smtp, admin_client, django_capture_on_commit_callbacks):
    message = f.OutboxMessageFactory(attempts=delivery.MAX_ATTEMPTS - 1)
    with pytest.raises(delivery.DeliveryFailed):
        delivery.deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert tasks.sweep(now=later(24 * 60)) == 0  # a failed message is not retried by itself
    smtp.start()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/notifications/outboxmessage/", {"action": "retry_failed", "_selected_action": [message.pk]}
        )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == "sent"
    assert len(smtp.received) == 1


def test_backoff_grows_and_is_capped():
    assert [delivery.backoff(n).total_seconds() // 60 for n in (1, 2, 3, 4, 7, 12)] == [1, 2, 4, 8, 60, 60]


def test_the_same_event_and_kind_make_one_message(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue(1, key="arrived:event:1")
        second = queue(1, key="arrived:event:1")
    assert first[0] is not None and second == [None]
    assert OutboxMessage.objects.count() == 1


def test_a_message_queued_while_the_broker_is_unreachable_is_sent_by_the_sweep(
    smtp, django_capture_on_commit_callbacks
):
    smtp.start()
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url", "task_publish_retry")}
    celery_app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0", task_publish_retry=False)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            queue(1)
    finally:
        celery_app.conf.update(saved)
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("pending", 0)
    assert smtp.received == []
    assert tasks.sweep() == 1
    message.refresh_from_db()
    assert message.status == "sent" and len(smtp.received) == 1


def test_a_message_left_sending_by_a_killed_worker_is_sent_again_later(smtp):
    smtp.start()
    message = f.OutboxMessageFactory(status="sending", attempts=1, claimed_at=timezone.now())
    assert tasks.sweep(now=later(1)) == 0  # the worker may still be at it
    assert tasks.sweep(now=later(11)) == 1
    message.refresh_from_db()
    assert message.status == "sent" and len(smtp.received) == 1


def test_a_sent_message_is_never_sent_again(smtp):
    smtp.start()
    message = f.OutboxMessageFactory()
    assert delivery.deliver(message.pk) is True
    assert delivery.deliver(message.pk) is False
    assert tasks.sweep(now=later(60)) == 0
    assert len(smtp.received) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_for_one_message_send_it_once(smtp):
    smtp.start()
    message = f.OutboxMessageFactory()
    barrier = threading.Barrier(4)
    results = []

    def send():
        try:
            barrier.wait()
            results.append(delivery.deliver(message.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, False, False, True]
    assert len(smtp.received) == 1


def test_staff_see_failed_messages_on_the_desk_and_send_them_again(
    client, staff_user, smtp, django_capture_on_commit_callbacks
):
    smtp.start()
    message = f.OutboxMessageFactory(status="failed", attempts=delivery.MAX_ATTEMPTS, last_error="550 no such user")
    client.force_login(staff_user)
    page = client.get("/desk/emails/").content.decode()
    assert "550 no such user" in page and message.recipient in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/desk/emails/", {"message": message.pk}).status_code == 302
    message.refresh_from_db()
    assert message.status == "sent" and len(smtp.received) == 1
    assert client.post("/desk/emails/", {"message": "abc"}).status_code == 404
