"""The outbox never loses or duplicates a message (DESIGN.md §8), tested against a real SMTP
server on loopback (aiosmtpd): delivery, SMTP down and back, retries with backoff, the broker
unreachable, a worker killed while sending, two senders racing for one message."""

import datetime
import re
import threading

import pytest
from django.core.mail.backends import smtp as smtp_backend
from django.db import connection, transaction
from django.utils import timezone

from config.celery_app import app as celery_app
from notifications import delivery, services, tasks
from notifications.models import OutboxMessage, new_message_id
from tests import factories as f
from tests.notifications.smtp import SMTPServer, header

pytestmark = pytest.mark.django_db


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
    message = OutboxMessage.objects.get(request=request)
    assert header(envelope, "Message-ID") == message.message_id
    assert message.message_id.startswith("<arrived.event.")
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


def test_a_message_left_sending_by_a_killed_worker_is_sent_again_after_the_stale_claim_window(smtp):
    smtp.start()
    claimed = timezone.now()
    message = f.OutboxMessageFactory(status="sending", attempts=1, claimed_at=claimed)
    younger = claimed + delivery.STALE_CLAIM - datetime.timedelta(seconds=1)
    assert tasks.sweep(now=younger) == 0  # the worker may still be at it
    message.refresh_from_db()
    assert message.status == "sending" and smtp.received == []
    assert tasks.sweep(now=claimed + delivery.STALE_CLAIM + datetime.timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2 and len(smtp.received) == 1
    assert header(smtp.received[0], "Message-ID") == message.message_id


def test_the_stale_claim_window_is_the_send_tasks_hard_time_limit_plus_a_margin():
    """A live attempt ends (sent, failed, or killed by the hard limit) before its claim is released,
    and a dead worker's message goes out again within two minutes, not ten."""
    task = tasks.send_message_task
    assert task.soft_time_limit < task.time_limit < celery_app.conf.task_time_limit
    assert datetime.timedelta(seconds=task.time_limit) < delivery.STALE_CLAIM <= datetime.timedelta(minutes=2)
    assert delivery.SEND_SOFT_TIME_LIMIT == task.soft_time_limit and delivery.SEND_TIME_LIMIT == task.time_limit


def test_every_attempt_of_a_message_carries_the_same_message_id(smtp, django_capture_on_commit_callbacks):
    smtp.inbox.answers = ["451 4.3.0 try again later"]  # the server reads the first attempt, then refuses it
    smtp.start()
    with django_capture_on_commit_callbacks(execute=True):
        (message,) = queue(1, key="arrived:event:77")
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert tasks.sweep(now=later(2)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    first, second = smtp.received
    assert header(first, "Message-ID") == header(second, "Message-ID") == message.message_id


def test_a_message_the_server_accepted_is_sent_even_if_saying_goodbye_fails(smtp, monkeypatch):
    """After the answer to DATA the message is on its way: QUIT timing out must not make it a
    failure to be sent again."""

    def close_times_out(self):
        raise TimeoutError("QUIT timed out")

    monkeypatch.setattr(smtp_backend.EmailBackend, "close", close_times_out)
    smtp.start()
    message = f.OutboxMessageFactory()
    assert delivery.deliver(message.pk) is True
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


# --- the Message-ID -------------------------------------------------------------------------

ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = rf"{ATEXT}(?:\.{ATEXT})*"
MSG_ID = re.compile(rf"<{DOT_ATOM}@{DOT_ATOM}>")  # RFC 5322 §3.6.4, without the obsolete forms


@pytest.mark.parametrize(
    ("site_url", "from_email", "domain"),
    [
        ("https://ill.library.example.ac.jp/", "ILL Desk <ill@library.example.ac.jp>", "ill.library.example.ac.jp"),
        ("http://127.0.0.1:8000", "ILL Desk <ill@library.example.ac.jp>", "library.example.ac.jp"),
        ("http://localhost:8000", "ill@mail.example.ac.jp", "mail.example.ac.jp"),
        ("https://図書館.example.jp", "ill@library.example.ac.jp", "xn--lcss68aj21b.example.jp"),
        ("http://[::1]:8000", "root@localhost", "ill-desk.invalid"),
    ],
)
def test_the_message_id_is_an_rfc_5322_id_on_the_sites_domain(settings, site_url, from_email, domain):
    settings.SITE_URL, settings.DEFAULT_FROM_EMAIL = site_url, from_email
    message_id = new_message_id("digest:3:2026-12-01:user:9 / é")
    assert MSG_ID.fullmatch(message_id), message_id
    assert message_id.startswith("<digest.3.2026-12-01.user.9.") and message_id.endswith(f"@{domain}>")
    assert new_message_id("digest:3:2026-12-01:user:9 / é") != message_id  # unique, not derived only from the key
    assert len(new_message_id("x" * 200)) <= OutboxMessage._meta.get_field("message_id").max_length


def test_the_message_id_is_chosen_when_the_message_is_written(settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://ill.library.example.ac.jp"
    with django_capture_on_commit_callbacks(execute=False):
        (message,) = queue(1, key="received:event:5")
    stored = OutboxMessage.objects.get(pk=message.pk).message_id
    assert MSG_ID.fullmatch(stored) and stored.startswith("<received.event.5.")
    assert stored.endswith("@ill.library.example.ac.jp>")


def test_a_row_written_without_a_message_id_gets_one_stored_before_its_first_attempt(smtp):
    smtp.inbox.answers = ["451 4.3.0 try again later"]
    smtp.start()
    message = f.OutboxMessageFactory(message_id="")
    with pytest.raises(delivery.DeliveryFailed):
        delivery.deliver(message.pk)
    message.refresh_from_db()
    assert MSG_ID.fullmatch(message.message_id)
    assert delivery.deliver(message.pk) is True
    assert [header(e, "Message-ID") for e in smtp.received] == [message.message_id] * 2


# --- the desk pushes waiting messages -------------------------------------------------------


def backing_off(n=1, **fields):
    """n pending messages whose next attempt is half an hour away (as after an outage)."""
    return [
        f.OutboxMessageFactory(
            status="pending", attempts=5, next_attempt_at=later(30), last_error="Connection refused", **fields
        )
        for _ in range(n)
    ]


def test_the_desk_sends_the_selected_pending_messages_now(client, staff_user, smtp, django_capture_on_commit_callbacks):
    smtp.start()
    chosen, other = backing_off(2)
    client.force_login(staff_user)
    page = client.get("/desk/emails/").content.decode()
    assert f'name="selected" value="{chosen.pk}"' in page and 'value="send_all"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/desk/emails/", {"action": "send_selected", "selected": [chosen.pk]})
    assert response.status_code == 302
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert (chosen.status, chosen.attempts) == ("sent", 6)
    assert other.status == "pending" and other.next_attempt_at > timezone.now()
    assert [e.rcpt_tos for e in smtp.received] == [[chosen.recipient]]


def test_the_desk_sends_all_pending_messages_now_a_bounded_batch_at_a_time(
    client, staff_user, smtp, settings, django_capture_on_commit_callbacks
):
    settings.JOB_BATCH_SIZE = 3
    smtp.start()
    waiting = backing_off(4)
    sending = f.OutboxMessageFactory(status="sending", attempts=1, claimed_at=timezone.now())
    failed = f.OutboxMessageFactory(status="failed", attempts=delivery.MAX_ATTEMPTS)
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/desk/emails/", {"action": "send_all"}).status_code == 302
    statuses = OutboxMessage.objects.filter(pk__in=[m.pk for m in waiting]).values_list("status", flat=True)
    assert sorted(statuses) == ["pending", "sent", "sent", "sent"]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/desk/emails/", {"action": "send_all"}).status_code == 302
    assert set(OutboxMessage.objects.filter(pk__in=[m.pk for m in waiting]).values_list("status", flat=True)) == {
        "sent"
    }
    assert len(smtp.received) == 4  # the message being sent and the failed one were left alone
    assert OutboxMessage.objects.get(pk=sending.pk).status == "sending"
    assert OutboxMessage.objects.get(pk=failed.pk).status == "failed"


def test_the_desk_sends_all_failed_messages_again(client, staff_user, smtp, django_capture_on_commit_callbacks):
    smtp.start()
    failed = [f.OutboxMessageFactory(status="failed", attempts=delivery.MAX_ATTEMPTS) for _ in range(2)]
    client.force_login(staff_user)
    assert 'data-testid="retry-all"' in client.get("/desk/emails/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/desk/emails/", {"action": "retry_all"}).status_code == 302
    assert {(m.status, m.attempts) for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in failed])} == {
        ("sent", 1)
    }
    assert len(smtp.received) == 2


def test_a_bad_selection_is_refused_with_a_message_and_changes_nothing(client, staff_user, smtp):
    (message,) = backing_off(1)
    before = message.next_attempt_at
    client.force_login(staff_user)
    response = client.post(
        "/desk/emails/",
        {"action": "send_selected", "selected": [message.pk, "1 OR 1=1"]},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 400
    assert "The selection could not be read" in response.content.decode()
    assert client.post("/desk/emails/", {"action": "explode"}).status_code == 400
    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == ("pending", before)
    response = client.post("/desk/emails/", {"action": "send_selected"}, follow=True, headers={"accept-language": "en"})
    assert response.status_code == 200 and "Select the messages to send now" in response.content.decode()


def test_only_desk_staff_may_push_messages(client, undergraduate):
    (message,) = backing_off(1)
    client.force_login(undergraduate.user)
    assert client.post("/desk/emails/", {"action": "send_all"}).status_code == 403
    message.refresh_from_db()
    assert message.next_attempt_at > timezone.now()


def test_the_admin_sends_selected_pending_messages_now(admin_client, smtp, django_capture_on_commit_callbacks):
    smtp.start()
    (message,) = backing_off(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/notifications/outboxmessage/", {"action": "send_pending_now", "_selected_action": [message.pk]}
        )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == "sent" and len(smtp.received) == 1
