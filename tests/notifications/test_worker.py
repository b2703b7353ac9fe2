"""A real Celery worker process on Redis runs the e-mail task queued on commit, and a worker killed
in the middle of sending (CI: required)."""

import datetime
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from django.db import transaction

from ill import services
from notifications import delivery, tasks
from notifications import services as outbox
from notifications.models import OutboxMessage
from tests import factories as f
from tests.notifications.smtp import Inbox, SMTPServer, header
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_sends_the_arrival_email_queued_on_commit(tmp_path, staff_user, lender, undergraduate):
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    with running_worker(tmp_path):
        services.record_arrival(request, actor=staff_user, lender_due_date=f.future(14))
        message = OutboxMessage.objects.get(request=request, kind="arrived")
        assert wait_until(lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent"), (
            tmp_path / "worker.log"
        ).read_text()[-3000:]
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.sent_at is not None


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (the prefork pool's children), read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            children.append(int(stat.parent.name))
    return children + [grandchild for child in children for grandchild in descendants(child)]


def kill_once(worker_pid: int):
    """An SMTP `on_data` hook: the first time the server has a message, SIGKILL the whole worker
    (the main process first, so that it starts no new child, then the one sending) before the
    sender can read the server's "250 OK" and record the message as sent."""
    done = threading.Event()

    def hook(_envelope):
        if done.is_set():
            return
        done.set()
        pool = descendants(worker_pid)
        os.kill(worker_pid, signal.SIGKILL)
        for pid in pool:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    return hook


def log_of(directory: Path) -> str:
    path = directory / "worker.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def test_a_worker_killed_after_the_server_accepted_a_message_repeats_only_that_one_with_the_same_message_id(
    tmp_path,
):
    inbox = Inbox()
    server = SMTPServer(inbox)
    server.start()
    env = {"TEST_EMAIL_URL": server.url}
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    try:
        with running_worker(first, concurrency=1, queues="email", extra_env=env) as worker:
            inbox.on_data = kill_once(worker.pid)
            with transaction.atomic():
                for i in range(3):
                    outbox.queue_message(
                        template="ill/email",
                        kind="received",
                        idempotency_key=f"received:event:{900 + i}",
                        recipient=f"patron{i}@example.ac.jp",
                        language="en",
                        context={"request": None, "patron": None, "url": "/"},
                    )
            assert wait_until(lambda: worker.poll() is not None, timeout=30), log_of(first)
        assert len(inbox.messages) == 1  # the server has it; the worker died before it could say so
        (killed,) = OutboxMessage.objects.filter(recipient=inbox.messages[0].rcpt_tos[0])
        assert (killed.status, killed.attempts) == ("sending", 1)
        others = OutboxMessage.objects.exclude(pk=killed.pk)
        assert {m.status for m in others} == {"pending"}

        with running_worker(second, concurrency=2, queues="email", extra_env=env):
            # Inside the window: the others go, the killed worker's message waits (its worker might
            # be alive and still talking to the server, as far as anyone can tell).
            assert tasks.sweep(now=killed.claimed_at + delivery.STALE_CLAIM - datetime.timedelta(seconds=5)) == 2
            assert wait_until(lambda: not OutboxMessage.objects.filter(status="pending").exists()), log_of(second)
            assert wait_until(lambda: len(inbox.messages) == 3), log_of(second)
            tasks.enqueue(killed.pk)  # the broker handing the lost task out again changes nothing
            time.sleep(1)
            assert OutboxMessage.objects.get(pk=killed.pk).status == "sending" and len(inbox.messages) == 3
            # After the window the sweep releases the claim and the message goes out again.
            assert tasks.sweep(now=killed.claimed_at + delivery.STALE_CLAIM + datetime.timedelta(seconds=1)) == 1
            assert wait_until(lambda: OutboxMessage.objects.get(pk=killed.pk).status == "sent"), log_of(second)
            tasks.enqueue(killed.pk)  # and once it is sent, nothing sends it again
            time.sleep(1)
            assert tasks.sweep(now=killed.claimed_at + datetime.timedelta(hours=2)) == 0
            time.sleep(1)
    finally:
        server.stop()

    killed.refresh_from_db()
    assert (killed.status, killed.attempts) == ("sent", 2)
    by_recipient = {}
    for envelope in inbox.messages:
        by_recipient.setdefault(envelope.rcpt_tos[0], []).append(header(envelope, "Message-ID"))
    assert by_recipient.pop(killed.recipient) == [killed.message_id, killed.message_id]  # the repeat, recognisable
    assert {recipient: len(ids) for recipient, ids in by_recipient.items()} == {m.recipient: 1 for m in others}
    assert {ids[0] for ids in by_recipient.values()} == {m.message_id for m in others}
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1), ("sent", 2)}
