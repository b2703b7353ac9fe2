"""Reminders sent by Celery beat (DESIGN.md §4, §8): due soon, overdue (repeated), not collected,
and the staff's daily digest of new requests. Each uses an idempotency key, so running a job
twice, or late, never sends a reminder twice; a missed day is caught up on the next run.

Each job works in batches: `*_batch` handles at most JOB_BATCH_SIZE requests in the order of an
index (the due date, the arrival time) after a cursor and says where the next batch starts; the
Celery task queues the next batch itself (`ill.tasks`), so no run holds a worker for long and
none reads more than the open loans it concerns. `send_*` runs every batch at once (tests, shell).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from ill import selectors
from ill.models import Request
from ill.notices import TEMPLATES, notify_patron
from notifications.models import OutboxMessage
from notifications.services import queue_message
from patrons.models import Branch
from patrons.selectors import desk_staff

S = Request.Status


@dataclass
class Batch:
    """What one batch did, and the cursor of the next one (None: this was the last)."""

    sent: int = 0
    after: list | None = None
    done: dict = field(default_factory=dict)


def next_rows(queryset: QuerySet, key: str, after: list | None, size: int | None = None) -> tuple[list, list | None]:
    """The `size` rows of `queryset` after the cursor `after` ([key value, pk], JSON-safe), ordered
    by the non-null field `key` then pk, and the cursor of the following batch (None when none)."""
    size = size or settings.JOB_BATCH_SIZE
    if after:
        value, pk = after
        # `key >= value` first, so that the database starts its index scan there.
        queryset = queryset.filter(Q(**{f"{key}__gte": value}) & (Q(**{f"{key}__gt": value}) | Q(pk__gt=pk)))
    rows = list(queryset.order_by(key, "pk")[:size])
    if len(rows) < size:
        return rows, None
    last = getattr(rows[-1], key)
    return rows, [last.isoformat() if hasattr(last, "isoformat") else last, rows[-1].pk]


def run_all(batch_job: Callable[..., Batch], **kwargs) -> Batch:
    """Every batch of a job, one after the other; the sums of what they did."""
    total, after = Batch(), None
    while True:
        batch = batch_job(after=after, **kwargs)
        total.sent += batch.sent
        for name, count in batch.done.items():
            total.done[name] = total.done.get(name, 0) + count
        if batch.after is None:
            return total
        after = batch.after


def _with_patron(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("patron__user", "pickup_branch", "lender")


def _not_yet_sent(rows: list, key: Callable[[Request], str]) -> list[tuple[Request, str]]:
    """The rows whose reminder (by idempotency key) is not in the outbox yet, found in one query,
    so that a run over rows already reminded costs two queries, not two a row."""
    keys = [(row, key(row)) for row in rows]
    existing = OutboxMessage.objects.filter(idempotency_key__in=[k for _row, k in keys]).order_by()
    sent = set(existing.values_list("idempotency_key", flat=True))
    return [(row, k) for row, k in keys if k not in sent]


def due_soon_batch(today: datetime.date | None = None, *, after: list | None = None, size: int | None = None) -> Batch:
    """Loans due within the next N days (setting), once per due date (a new one after an extension)."""
    today = today or timezone.localdate()
    rows, after = next_rows(_with_patron(Request.objects.filter(selectors.due_soon_q(today))), "due_date", after, size)
    sent = 0
    for request, key in _not_yet_sent(rows, lambda r: f"due_soon:{r.pk}:{r.due_date.isoformat()}"):
        message = notify_patron(request, "due_soon", key=key, extra={"days_left": (request.due_date - today).days})
        sent += message is not None
    return Batch(sent=sent, after=after)


def send_due_soon(today: datetime.date | None = None) -> int:
    return run_all(due_soon_batch, today=today).sent


def overdue_reminder_number(days_overdue: int) -> int:
    """1 on the first day overdue, then one more every ILL_OVERDUE_REPEAT_DAYS days."""
    return 1 + (days_overdue - 1) // settings.ILL_OVERDUE_REPEAT_DAYS


def overdue_batch(today: datetime.date | None = None, *, after: list | None = None, size: int | None = None) -> Batch:
    today = today or timezone.localdate()
    rows, after = next_rows(_with_patron(Request.objects.filter(selectors.overdue_q(today))), "due_date", after, size)

    def key(request: Request) -> str:
        number = overdue_reminder_number((today - request.due_date).days)
        return f"overdue:{request.pk}:{request.due_date.isoformat()}:{number}"

    sent = 0
    for request, reminder_key in _not_yet_sent(rows, key):
        days = (today - request.due_date).days
        message = notify_patron(
            request,
            "overdue",
            key=reminder_key,
            extra={"days_overdue": days, "reminder": overdue_reminder_number(days)},
        )
        sent += message is not None
    return Batch(sent=sent, after=after)


def send_overdue(today: datetime.date | None = None) -> int:
    return run_all(overdue_batch, today=today).sent


def not_collected_batch(
    today: datetime.date | None = None, *, after: list | None = None, size: int | None = None
) -> Batch:
    """Items waiting at the counter for N days (setting): one reminder, with a date to collect by."""
    today = today or timezone.localdate()
    limit = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=settings.ILL_NOT_COLLECTED_DAYS), datetime.time.max)
    )
    waiting_since = Request.objects.filter(status=S.ARRIVED, arrived_at__lte=limit)
    rows, after = next_rows(_with_patron(waiting_since), "arrived_at", after, size)
    sent = 0
    for request, key in _not_yet_sent(rows, lambda r: f"not_collected:{r.pk}"):
        waiting = (today - timezone.localtime(request.arrived_at).date()).days
        collect_by = today + datetime.timedelta(days=7)
        if request.due_date:
            collect_by = min(collect_by, request.due_date)
        message = notify_patron(
            request,
            "not_collected",
            key=key,
            extra={"days_waiting": waiting, "collect_by": collect_by},
        )
        sent += message is not None
    return Batch(sent=sent, after=after)


def send_not_collected(today: datetime.date | None = None) -> int:
    return run_all(not_collected_batch, today=today).sent


def send_staff_digest(today: datetime.date | None = None) -> int:
    """Per branch, the requests submitted since the same time yesterday, to the desk staff: the
    first JOB_BATCH_SIZE of them listed, all of them counted (on the branch's submission index)."""
    today = today or timezone.localdate()
    end = timezone.make_aware(datetime.datetime.combine(today, datetime.time(8, 0)))
    start = end - datetime.timedelta(days=1)
    desk_url = settings.SITE_URL.rstrip("/") + reverse("desk:home")
    staff = desk_staff()
    sent = 0
    for branch in Branch.objects.filter(active=True):
        submitted = Request.objects.filter(pickup_branch=branch, submitted_at__gte=start, submitted_at__lt=end)
        new = list(submitted.select_related("patron").order_by("submitted_at")[: settings.JOB_BATCH_SIZE])
        if not new:
            continue
        count = len(new) if len(new) < settings.JOB_BATCH_SIZE else submitted.count()
        for user, language in staff:
            message = queue_message(
                template=TEMPLATES,
                kind="staff_digest",
                idempotency_key=f"digest:{branch.pk}:{today.isoformat()}:user:{user.pk}",
                recipient=user.email,
                language=language,
                user=user,
                context={"branch": branch, "requests": new, "count": count, "day": today, "desk_url": desk_url},
            )
            sent += message is not None
    return sent
