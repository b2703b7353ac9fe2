"""How many e-mails a second one Celery worker delivers from the outbox to a local SMTP server.

Run by hand against PostgreSQL and Redis (not part of `make test`):

    DATABASE_URL=postgres://ill:ill@127.0.0.1:5433/ill_bench CELERY_BROKER_URL=redis://127.0.0.1:6390/5 \\
        .venv/bin/python bench/outbox_throughput.py --messages 1000 --concurrency 1

It migrates the database it is given, starts an SMTP server (aiosmtpd) on loopback and one
`celery worker`, queues N messages at once and times until the last is marked sent; then checks
that the SMTP server received each exactly once.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self):
        self.count = 0
        self.recipients = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1, help="worker processes (prefork) in the one worker")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("CELERY_BROKER_URL"):
        sys.exit("set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis)")

    from aiosmtpd.controller import Controller

    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "false"

    import django

    django.setup()
    from django.core.management import call_command

    from notifications.models import OutboxMessage
    from notifications.tasks import send_message_task

    call_command("migrate", verbosity=0)
    OutboxMessage.objects.filter(idempotency_key__startswith="bench:").delete()

    workdir = Path(tempfile.mkdtemp(prefix="ill-bench-"))
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "--pool=prefork",
            f"--concurrency={args.concurrency}",
            "--loglevel=WARNING",
            f"--pidfile={workdir / 'worker.pid'}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=open(workdir / "worker.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        from celery import Celery

        probe = Celery(broker=os.environ["CELERY_BROKER_URL"], set_as_current=False)
        deadline = time.monotonic() + 30
        while not probe.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                sys.exit("the worker did not start; see " + str(workdir / "worker.log"))

        rows = OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    kind="received",
                    idempotency_key=f"bench:{n}",
                    recipient=f"patron{n}@example.ac.jp",
                    subject=f"[ILL] Benchmark {n}",
                    body_text="本文 / body\n" * 20,
                    body_html="<p>本文 / body</p>" * 20,
                )
                for n in range(args.messages)
            ]
        )
        ids = [row.pk for row in rows]
        start = time.monotonic()
        for pk in ids:
            send_message_task.delay(pk)
        queued = time.monotonic() - start
        pending = OutboxMessage.objects.filter(pk__in=ids).exclude(status="sent")
        while pending.exists():
            time.sleep(0.05)
            if time.monotonic() - start > 600:
                sys.exit("timed out")
        elapsed = time.monotonic() - start
        duplicates = inbox.count - len(set(inbox.recipients))
        print(f"messages:    {args.messages}")
        print(f"worker:      1 worker, prefork concurrency {args.concurrency}")
        print(f"queued in:   {queued:.2f} s")
        print(f"all sent in: {elapsed:.2f} s  ->  {args.messages / elapsed:.0f} messages/s")
        print(f"received:    {inbox.count} by the SMTP server, duplicates: {duplicates}")
        OutboxMessage.objects.filter(pk__in=ids).delete()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        controller.stop()


if __name__ == "__main__":
    main()
