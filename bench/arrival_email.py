"""Arrival recorded → arrival e-mail received: the time a patron waits for the notice.

Run by hand against PostgreSQL and Redis (not part of `make test`; use a copy of the benchmark
database, the script adds requests, charges and ledger rows it does not remove):

    createdb -h 127.0.0.1 -p 5439 -U ill -T ill_bench ill_bg2        # a copy of the 1M data set
    DATABASE_URL=postgres://ill:ill@127.0.0.1:5439/ill_bg2 CELERY_BROKER_URL=redis://127.0.0.1:6391/3 \\
        .venv/bin/python bench/arrival_email.py --single 40 --rate 10 --seconds 20

It migrates the database it is given, starts an SMTP server (aiosmtpd) on loopback and the
workers of docker-compose.yml — one `celery worker -Q email` and one `celery worker -Q celery`,
two processes each (`--layout single`: one worker for both queues, as before issue 10) — then
prepares ordered loans for patrons of its own (inactive) branch, so that no other benchmark's
worklists change (a third of them on a public-expense budget code, so that each arrival also
queues the budget monitor) and records each arrival exactly as the desk does
(`ill.services.record_shipment`, ill/views/desk_request.py). For each arrival it measures from
the commit (the first on-commit callback) to the moment the SMTP server has the message (matched
by its Message-ID), and prints median, p90, p99 and max:

- *single*: one arrival at a time, the next once the e-mail is in (and a pause);
- *at N/s*: arrivals at a steady `--rate` for `--seconds`, from `--desks` threads (several desks
  at once; each starts on the clock, not when the previous one finished), not waiting for e-mails;
  `--backlog N` first queues N reminders the way the reminder jobs do (on the e-mail queue, at
  bulk priority), as when the 09:00 reminders are going out while the desk records arrivals.

When no copy can be made (`createdb -T` refuses while anyone is connected to ill_bench), run it on
ill_bench itself with a small number of arrivals, e.g. `--single 25 --rate 10 --seconds 7.5`
(100 arrivals); they belong to their own inactive branch and patrons (`bench-arrival…`).

The Redis database in CELERY_BROKER_URL is emptied first: give it one of its own.
Numbers are only comparable within one run of the machine: other load on the cores shows.
"""

import argparse
import datetime
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import django
import redis
from aiosmtpd.controller import Controller
from celery import Celery
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MESSAGE_ID = re.compile(rb"^Message-ID:\s*<[^>]*\.(\d+)@ill-desk>", re.IGNORECASE | re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """The SMTP server's handler: when each outbox message (by pk, from its Message-ID) came in."""

    def __init__(self):
        self.received = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        found = MESSAGE_ID.search(envelope.original_content or envelope.content)
        if found:
            with self.lock:
                self.received.setdefault(int(found.group(1)), now)
        return "250 OK"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(name: str, latencies: list[float], missing: int) -> str:
    if not latencies:
        return f"{name:14} no e-mail received ({missing} missing)"
    ms = [x * 1000 for x in latencies]
    return (
        f"{name:14} n={len(ms):4d}  median {statistics.median(ms):7.0f} ms  p90 {percentile(ms, 90):7.0f} ms  "
        f"p99 {percentile(ms, 99):7.0f} ms  max {max(ms):7.0f} ms" + (f"  ({missing} not received)" if missing else "")
    )


def start_worker(name: str, queues: str, concurrency: int, workdir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "-Q",
            queues,
            f"--hostname={name}-{os.getpid()}@%h",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            f"--pidfile={workdir / (name + '.pid')}",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=open(workdir / f"{name}.log", "wb"),
        stderr=subprocess.STDOUT,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", type=int, default=40, help="arrivals recorded one at a time")
    parser.add_argument("--rate", type=float, default=10.0, help="arrivals per second in the steady phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady phase")
    parser.add_argument("--layout", choices=["split", "single"], default="split")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    parser.add_argument("--desks", type=int, default=4, help="threads recording arrivals in the steady phase")
    parser.add_argument("--backlog", type=int, default=0, help="reminders queued just before the steady phase")
    parser.add_argument("--same-priority", action="store_true", help="queue the backlog like a patron's e-mail")
    parser.add_argument("--public-share", type=int, default=3, help="every Nth arrival on a budget code")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("CELERY_BROKER_URL"):
        sys.exit("set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis)")

    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("CONN_MAX_AGE", "60")  # as in production, for the workers too

    django.setup()
    # The app's models can be imported only once Django is set up (a standalone script).
    from fees.models import BudgetCode, current_fiscal_year
    from ill import services
    from ill.models import LendingInstitution, Request
    from notifications import tasks
    from notifications.models import OutboxMessage
    from patrons.models import Branch, Patron, StaffMember

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    call_command("migrate", verbosity=0)

    # --- what the desk will record: ordered loans, some on a budget code ---------------------
    total = args.single + int(args.rate * args.seconds)
    staff = StaffMember.objects.select_related("user").first().user
    lender = LendingInstitution.objects.filter(active=True, fee_schedule__isnull=False).order_by("pk").first()
    # Its own branch and patrons, so that no other benchmark's worklists or patrons change.
    branch, _ = Branch.objects.get_or_create(
        code="bench-arrival", defaults={"name": "到着ベンチマーク", "name_en": "Arrival benchmark", "active": False}
    )
    patrons = []
    for n in range(20):
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench-arrival-{n:02d}", defaults={"email": f"bench-arrival-{n:02d}@example.ac.jp"}
        )
        patron, _ = Patron.objects.get_or_create(
            user=user,
            defaults={
                "patron_number": f"BA{n:06d}",
                "full_name": f"到着 試験{n:02d}",
                "category": Patron.Category.FACULTY,
                "home_branch": branch,
            },
        )
        patrons.append(patron)
    faculty = patrons[0]
    code, _ = BudgetCode.objects.get_or_create(
        code="BENCH-ARRIVAL",
        fiscal_year=current_fiscal_year(),
        defaults={"name": "Arrival benchmark", "responsible": faculty, "limit": 900_000_000},
    )
    run = int(time.time()) % 1_000_000
    offset = Request.objects.filter(number__startswith="ILL-2098-").count()  # numbers of earlier runs
    prepared = []
    started = time.monotonic()
    for n in range(total):
        patron = patrons[n % len(patrons)]
        public = args.public_share and n % args.public_share == 0
        request = Request.objects.create(
            number=f"ILL-2098-{offset + n:09d}",
            patron=patron,
            kind=Request.Kind.LOAN,
            status=Request.Status.SUBMITTED,
            material_type=Request.MaterialType.BOOK,
            title=f"Arrival benchmark {run} {n}",
            author="Bench",
            pickup_branch=branch,
            expense_type="public" if public else "private",
            budget_code=code if public else None,
        )
        services.order(request, actor=staff, lenders=[lender])
        prepared.append(request.pk)
    print(f"prepared {total} ordered loans from {lender} in {time.monotonic() - started:.0f} s", flush=True)
    OutboxMessage.objects.filter(request_id__in=prepared, status="pending").update(
        status="sent", sent_at=timezone.now()
    )  # the "ordered" notices: not part of the measurement
    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()

    # --- the workers ---------------------------------------------------------------------------
    workdir = Path(tempfile.mkdtemp(prefix="ill-arrival-"))
    if args.layout == "split":
        workers = [
            start_worker("email", "email", args.concurrency, workdir),
            start_worker("jobs", "celery", args.concurrency, workdir),
        ]
    else:
        workers = [start_worker("all", "celery,email", args.concurrency, workdir)]
    try:
        probe = Celery(broker=os.environ["CELERY_BROKER_URL"], set_as_current=False)
        deadline = time.monotonic() + 60
        while len(probe.control.ping(timeout=0.5)) < len(workers):
            if time.monotonic() > deadline:
                sys.exit(f"the workers did not start; see {workdir}")
        time.sleep(1)

        committed = {}  # outbox message pk → when its arrival committed
        record_times = []
        queue = list(Request.objects.filter(pk__in=prepared).select_related("lender").order_by("pk"))

        def record(request) -> int:
            stamp = {}
            began = time.monotonic()
            with transaction.atomic():
                transaction.on_commit(lambda: stamp.setdefault("t", time.monotonic()))  # runs first
                services.record_shipment(
                    lender=request.lender,
                    delivery=request.shipping_method or request.delivery_method,
                    actor=staff,
                    items=[
                        services.ArrivedItem(
                            request=request, lender_due_date=timezone.localdate() + datetime.timedelta(days=21)
                        )
                    ],
                )
            record_times.append(time.monotonic() - began)
            pk = OutboxMessage.objects.filter(request=request, kind="arrived").values_list("pk", flat=True).get()
            committed[pk] = stamp["t"]
            return pk

        def latencies(pks):
            got = [inbox.received[pk] - committed[pk] for pk in pks if pk in inbox.received]
            return got, len(pks) - len(got)

        def wait_for(pks, timeout):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not all(pk in inbox.received for pk in pks):
                time.sleep(0.005)

        queues = " + ".join(f"-Q {w.args[w.args.index('-Q') + 1]}" for w in workers)
        print(f"workers: {args.layout} ({queues}), {args.concurrency} processes each")
        single = []
        for request in queue[: args.single]:
            pk = record(request)
            wait_for([pk], 30)
            single.append(pk)
            time.sleep(0.3)
        results = [summary("single", *latencies(single))]

        if args.backlog:  # a morning's reminders queued just before the desk opens
            reminders = OutboxMessage.objects.bulk_create(
                [
                    OutboxMessage(
                        kind="overdue",
                        idempotency_key=f"bench-arrival:backlog:{run}:{n}",
                        recipient=patrons[n % len(patrons)].user.email,
                        subject="[ILL] backlog",
                        body_text="reminder\n" * 20,
                    )
                    for n in range(args.backlog)
                ]
            )
            bulk = {"bulk": True} if hasattr(tasks, "BULK") and not args.same_priority else {}
            for message in reminders:
                tasks.enqueue(message.pk, **bulk)
            print(f"queued {args.backlog} reminders ({'low priority' if bulk else 'same priority'}) first")

        # A steady rate from several desks at once: each arrival on its own thread (and connection)
        # from a small pool, started on the clock whether or not the previous one has finished.
        interval = 1 / args.rate if args.rate else 0
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.desks) as desks:
            futures = []
            for n, request in enumerate(queue[args.single :]):
                delay = start + n * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                futures.append(desks.submit(record, request))
            achieved = len(futures) / (time.monotonic() - start + interval) if futures else 0
            steady = [future.result() for future in futures]
        wait_for(steady, 120)
        results.append(summary(f"at {args.rate:g}/s", *latencies(steady)) + f"  (achieved {achieved:.1f}/s)")
        print("\n".join(results))
        ms = sorted(t * 1000 for t in record_times)
        print(f"recording one arrival (desk service call): median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        controller.stop()
        # The backlog was only load: what the workers did not send is not left for a real sweep.
        OutboxMessage.objects.filter(idempotency_key__startswith="bench-arrival:backlog:").delete()


if __name__ == "__main__":
    main()
