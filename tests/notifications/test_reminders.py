"""Reminders with a frozen clock: due soon, overdue (repeated) and not collected fire on the right
days and once; the staff digest once a day per branch; the beat schedule is in one place."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from ill import reminders
from notifications.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db

TOKYO = datetime.timezone(datetime.timedelta(hours=9))
DUE = datetime.date(2026, 12, 10)


def at(day: datetime.date, hour=9):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO), tick=False)


def sent(kind):
    return OutboxMessage.objects.filter(kind=kind).count()


def run_daily(job, first: datetime.date, last: datetime.date):
    """Run a daily job on every day from `first` to `last`; return the days it sent something."""
    days = []
    day = first
    while day <= last:
        with at(day):
            if job():
                days.append(day)
        day += datetime.timedelta(days=1)
    return days


def test_due_soon_fires_n_days_before_and_once(settings, undergraduate):
    settings.ILL_DUE_SOON_DAYS = 3
    f.RequestFactory(patron=undergraduate, status="on_loan", due_date=DUE)
    days = run_daily(reminders.send_due_soon, DUE - datetime.timedelta(days=6), DUE + datetime.timedelta(days=2))
    assert days == [DUE - datetime.timedelta(days=3)]
    assert sent("due_soon") == 1


def test_an_extended_loan_gets_a_new_due_soon_reminder(settings, undergraduate):
    settings.ILL_DUE_SOON_DAYS = 3
    loan = f.RequestFactory(patron=undergraduate, status="on_loan", due_date=DUE)
    with at(DUE - datetime.timedelta(days=2)):
        assert reminders.send_due_soon() == 1
    loan.due_date = DUE + datetime.timedelta(days=14)
    loan.save()
    days = run_daily(reminders.send_due_soon, DUE, loan.due_date)
    assert days == [loan.due_date - datetime.timedelta(days=3)]


def test_overdue_fires_the_day_after_and_repeats_at_the_interval(settings, undergraduate):
    settings.ILL_OVERDUE_REPEAT_DAYS = 7
    f.RequestFactory(patron=undergraduate, status="on_loan", due_date=DUE)
    days = run_daily(reminders.send_overdue, DUE - datetime.timedelta(days=1), DUE + datetime.timedelta(days=16))
    assert days == [DUE + datetime.timedelta(days=n) for n in (1, 8, 15)]
    keys = list(OutboxMessage.objects.order_by("created_at").values_list("idempotency_key", flat=True))
    assert [key.rsplit(":", 1)[1] for key in keys] == ["1", "2", "3"]


def test_a_missed_day_is_caught_up_not_skipped(settings, undergraduate):
    settings.ILL_OVERDUE_REPEAT_DAYS = 7
    f.RequestFactory(patron=undergraduate, status="on_loan", due_date=DUE)
    with at(DUE + datetime.timedelta(days=3)):  # beat was down on the first overdue day
        assert reminders.send_overdue() == 1
    with at(DUE + datetime.timedelta(days=4)):
        assert reminders.send_overdue() == 0


def test_returned_loans_get_no_reminders(undergraduate):
    f.RequestFactory(patron=undergraduate, status="returned", due_date=DUE)
    with at(DUE + datetime.timedelta(days=1)):
        assert reminders.send_overdue() == 0
    with at(DUE - datetime.timedelta(days=1)):
        assert reminders.send_due_soon() == 0


def test_not_collected_fires_n_days_after_arrival_once(settings, undergraduate):
    settings.ILL_NOT_COLLECTED_DAYS = 14
    arrival = datetime.date(2026, 12, 1)
    with at(arrival, hour=11):
        f.RequestFactory(
            patron=undergraduate,
            status="arrived",
            arrived_at=timezone.now(),
            due_date=DUE + datetime.timedelta(days=20),
        )
    days = run_daily(reminders.send_not_collected, arrival, arrival + datetime.timedelta(days=20))
    assert days == [arrival + datetime.timedelta(days=14)]


def test_the_staff_digest_goes_once_a_day_per_branch(staff_user, undergraduate, medical_branch):
    with at(datetime.date(2026, 12, 1), hour=15):
        f.RequestFactory(patron=undergraduate)
        f.RequestFactory(patron=undergraduate)
        f.RequestFactory(patron=undergraduate, pickup_branch=medical_branch)
    with at(datetime.date(2026, 12, 2), hour=8):
        assert reminders.send_staff_digest() == 2  # one per branch with new requests
        assert reminders.send_staff_digest() == 0
    with at(datetime.date(2026, 12, 3), hour=8):
        assert reminders.send_staff_digest() == 0  # nothing new since yesterday 08:00
    digest = OutboxMessage.objects.filter(kind="staff_digest").order_by("pk").first()
    assert digest.recipient == staff_user.email


def test_every_beat_schedule_names_a_registered_task():
    from config.celery_app import app
    from config.schedules import BEAT_SCHEDULE

    app.loader.import_default_modules()
    assert set(BEAT_SCHEDULE) == {
        "outbox-sweep",
        "budget-monitors",
        "staff-digest",
        "due-soon",
        "overdue",
        "not-collected",
        "no-longer-needed",
        "clear-sessions",
        "clear-login-logs",
        "clear-email-bodies",
        "anonymise-requests",
        "reports-rollup",
        "iso18626-outbox",
        "iso18626-overdue",
    }
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
    assert app.conf.beat_schedule == BEAT_SCHEDULE


def test_worker_settings_fit_production():
    from config.celery_app import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"


def test_requests_no_longer_needed_are_cancelled_before_ordering_only(undergraduate, lender):
    from ill.maintenance import close_no_longer_needed

    waiting = f.RequestFactory(patron=undergraduate, not_needed_after=DUE)
    ordered = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender, not_needed_after=DUE)
    with at(DUE):
        assert close_no_longer_needed() == {"cancelled": 0, "closed": 0}
    with at(DUE + datetime.timedelta(days=1)):
        assert close_no_longer_needed() == {"cancelled": 1, "closed": 0}
    waiting.refresh_from_db()
    ordered.refresh_from_db()
    assert (waiting.status, ordered.status) == ("cancelled", "ordered")
    # The date as the reader writes it (the job runs in Japanese, the site's language): never an ISO date.
    assert f"{DUE.year}年{DUE.month}月{DUE.day}日" in waiting.status_note
