"""Reminders sent by Celery beat (DESIGN.md §4, §8): due soon, overdue (repeated), not collected,
and the staff's daily digest of new requests. Each uses an idempotency key, so running a job
twice, or late, never sends a reminder twice; a missed day is caught up on the next run."""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from ill import selectors
from ill.models import Request
from ill.notices import TEMPLATES, notify_patron
from notifications.services import queue_message
from patrons.models import Branch
from patrons.selectors import desk_staff

S = Request.Status


def send_due_soon(today: datetime.date | None = None) -> int:
    """Loans due within the next N days (setting), once per due date (a new one after an extension)."""
    today = today or timezone.localdate()
    sent = 0
    for request in Request.objects.filter(selectors.due_soon_q(today)).select_related(
        "patron__user", "pickup_branch", "lender"
    ):
        message = notify_patron(
            request,
            "due_soon",
            key=f"due_soon:{request.pk}:{request.due_date.isoformat()}",
            extra={"days_left": (request.due_date - today).days},
        )
        sent += message is not None
    return sent


def overdue_reminder_number(days_overdue: int) -> int:
    """1 on the first day overdue, then one more every ILL_OVERDUE_REPEAT_DAYS days."""
    return 1 + (days_overdue - 1) // settings.ILL_OVERDUE_REPEAT_DAYS


def send_overdue(today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    sent = 0
    for request in Request.objects.filter(selectors.overdue_q(today)).select_related(
        "patron__user", "pickup_branch", "lender"
    ):
        days = (today - request.due_date).days
        number = overdue_reminder_number(days)
        message = notify_patron(
            request,
            "overdue",
            key=f"overdue:{request.pk}:{request.due_date.isoformat()}:{number}",
            extra={"days_overdue": days, "reminder": number},
        )
        sent += message is not None
    return sent


def send_not_collected(today: datetime.date | None = None) -> int:
    """Items waiting at the counter for N days (setting): one reminder, with a date to collect by."""
    today = today or timezone.localdate()
    limit = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=settings.ILL_NOT_COLLECTED_DAYS), datetime.time.max)
    )
    sent = 0
    for request in Request.objects.filter(status=S.ARRIVED, arrived_at__lte=limit).select_related(
        "patron__user", "pickup_branch", "lender"
    ):
        waiting = (today - timezone.localtime(request.arrived_at).date()).days
        collect_by = today + datetime.timedelta(days=7)
        if request.due_date:
            collect_by = min(collect_by, request.due_date)
        message = notify_patron(
            request,
            "not_collected",
            key=f"not_collected:{request.pk}",
            extra={"days_waiting": waiting, "collect_by": collect_by},
        )
        sent += message is not None
    return sent


def send_staff_digest(today: datetime.date | None = None) -> int:
    """Per branch, the requests submitted since the same time yesterday, to the desk staff."""
    today = today or timezone.localdate()
    end = timezone.make_aware(datetime.datetime.combine(today, datetime.time(8, 0)))
    start = end - datetime.timedelta(days=1)
    desk_url = settings.SITE_URL.rstrip("/") + reverse("desk:home")
    staff = desk_staff()
    sent = 0
    for branch in Branch.objects.filter(active=True):
        new = list(
            Request.objects.filter(pickup_branch=branch, submitted_at__gte=start, submitted_at__lt=end)
            .select_related("patron")
            .order_by("submitted_at")
        )
        if not new:
            continue
        for user, language in staff:
            message = queue_message(
                template=TEMPLATES,
                kind="staff_digest",
                idempotency_key=f"digest:{branch.pk}:{today.isoformat()}:user:{user.pk}",
                recipient=user.email,
                language=language,
                user=user,
                context={"branch": branch, "requests": new, "count": len(new), "day": today, "desk_url": desk_url},
            )
            sent += message is not None
    return sent
