"""Beat's jobs are bounded: each run handles at most JOB_BATCH_SIZE requests in index order and
queues the next run from where it stopped; together the runs do what one run did (issue 10)."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from ill import maintenance, reminders, tasks
from notifications.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db

TOKYO = datetime.timezone(datetime.timedelta(hours=9))
TODAY = datetime.date(2026, 12, 10)


def at(day: datetime.date, hour=9):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO), tick=False)


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def loans(settings, undergraduate):
    """Seven loans overdue, two of them on the same day (the pk breaks the tie)."""
    settings.ILL_DUE_SOON_DAYS = 3
    return [f.RequestFactory(patron=undergraduate, status="on_loan", due_date=days(-d)) for d in (9, 7, 7, 5, 3, 2, 1)]


def test_a_batch_takes_the_next_rows_in_index_order(settings, loans):
    settings.JOB_BATCH_SIZE = 3
    seen, after, runs = [], None, 0
    while True:
        batch = reminders.overdue_batch(TODAY, after=after)
        runs += 1
        seen += sorted(OutboxMessage.objects.filter(kind="overdue").values_list("request_id", flat=True))[len(seen) :]
        if batch.after is None:
            break
        assert batch.sent == 3
        after = batch.after
    assert runs == 3  # 3 + 3 + 1
    assert sorted(seen) == sorted(loan.pk for loan in loans)
    assert OutboxMessage.objects.filter(kind="overdue").count() == 7  # each once, none skipped at a tie


def test_the_cursor_is_plain_json_for_the_next_task(settings, loans):
    settings.JOB_BATCH_SIZE = 2
    batch = reminders.overdue_batch(TODAY)
    assert batch.after == [days(-7).isoformat(), loans[1].pk]


def test_the_task_chain_sends_every_reminder_once(settings, loans):
    settings.JOB_BATCH_SIZE = 2
    with at(TODAY):
        tasks.overdue_task.delay()  # eager here: each batch queues the next
        assert OutboxMessage.objects.filter(kind="overdue").count() == 7
        tasks.overdue_task.delay()
        assert OutboxMessage.objects.filter(kind="overdue").count() == 7


def test_due_soon_in_batches(settings, undergraduate):
    settings.ILL_DUE_SOON_DAYS = 3
    settings.JOB_BATCH_SIZE = 2
    for d in (0, 1, 1, 2, 3, 4):
        f.RequestFactory(patron=undergraduate, status="on_loan", due_date=days(d))
    with at(TODAY):
        tasks.due_soon_task.delay()
        assert reminders.send_due_soon() == 0
    assert OutboxMessage.objects.filter(kind="due_soon").count() == 5  # not the one due in 4 days


def test_not_collected_in_batches_by_arrival_time(settings, undergraduate):
    settings.ILL_NOT_COLLECTED_DAYS = 14
    settings.JOB_BATCH_SIZE = 2
    arrived = timezone.make_aware(datetime.datetime(2026, 11, 20, 10, 30))
    for _ in range(5):  # the same arrival time: the pk orders them
        f.RequestFactory(patron=undergraduate, status="arrived", arrived_at=arrived, due_date=days(30))
    f.RequestFactory(patron=undergraduate, status="arrived", arrived_at=timezone.now(), due_date=days(30))
    first = reminders.not_collected_batch(TODAY)
    assert first.sent == 2 and first.after is not None
    with at(TODAY):
        tasks.not_collected_task.delay(today=TODAY.isoformat(), after=first.after)
    assert OutboxMessage.objects.filter(kind="not_collected").count() == 5


def test_closing_no_longer_needed_requests_in_batches(settings, undergraduate):
    settings.JOB_BATCH_SIZE = 2
    for d in (5, 4, 4, 3):
        f.RequestFactory(patron=undergraduate, not_needed_after=days(-d))
    f.RequestFactory(patron=undergraduate, status="unfilled", not_needed_after=days(-1))
    f.RequestFactory(patron=undergraduate, not_needed_after=days(2))  # still needed
    first = maintenance.close_no_longer_needed_batch(TODAY)
    assert first.done == {"cancelled": 2, "closed": 0} and first.after is not None
    with at(TODAY):
        assert maintenance.close_no_longer_needed() == {"cancelled": 2, "closed": 1}
        assert maintenance.close_no_longer_needed() == {"cancelled": 0, "closed": 0}


def test_the_staff_digest_lists_a_bounded_number_but_counts_them_all(settings, staff_user, undergraduate):
    settings.JOB_BATCH_SIZE = 3
    with at(datetime.date(2026, 12, 1), hour=15):
        for _ in range(5):
            f.RequestFactory(patron=undergraduate)
    with at(datetime.date(2026, 12, 2), hour=8):
        assert reminders.send_staff_digest() == 1
    digest = OutboxMessage.objects.get(kind="staff_digest")
    assert " 5 " in digest.body_text or "5件" in digest.body_text
    assert digest.body_text.count("/desk/requests/") == 3


def test_the_jobs_are_bounded_queries(settings, django_assert_max_num_queries, loans):
    """A batch that finds nothing to send is one query, however long the history."""
    settings.JOB_BATCH_SIZE = 500
    with at(TODAY):
        reminders.send_overdue()
        with django_assert_max_num_queries(2):  # the batch, and which of them were already reminded
            assert reminders.overdue_batch(TODAY).sent == 0
