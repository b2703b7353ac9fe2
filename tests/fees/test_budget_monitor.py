"""The budget monitor looks only at what a change touched, in one query, queued once per
transaction; beat's run goes through every code in bounded batches (issue 10, part 4)."""

import pytest
from django.db import transaction

from fees import alerts, tasks
from fees.models import BudgetLedgerEntry
from ill import services
from notifications.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """What `monitor_budget_codes_task` was queued with, instead of running it."""
    calls = []
    monkeypatch.setattr(
        tasks.monitor_budget_codes_task, "delay", lambda code_ids, support=False: calls.append((code_ids, support))
    )
    return calls


def spend(code, amount, patron):
    request = f.RequestFactory(patron=patron, expense_type="public", budget_code=code)
    BudgetLedgerEntry.objects.create(budget_code=code, request=request, entry_type="charge", amount=amount)


def test_one_task_per_transaction_with_every_code_it_touched(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            tasks.monitor_after_commit([3, None])
            tasks.monitor_after_commit([1, 3])
            tasks.monitor_after_commit([], support=True)
            tasks.monitor_after_commit([None])  # nothing touched: nothing added
    assert len(callbacks) == 1
    assert queued == [([1, 3], True)]


def test_nothing_is_queued_when_no_code_was_touched(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.monitor_after_commit([None, None])
    assert callbacks == [] and queued == []


def test_a_rolled_back_transaction_queues_nothing_and_the_next_one_queues_its_own(
    queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                tasks.monitor_after_commit([1])
                raise RuntimeError
        with transaction.atomic():
            tasks.monitor_after_commit([2])
    assert queued == [([2], False)]


def test_a_shipment_queues_one_monitor_for_exactly_its_codes(
    queued, django_capture_on_commit_callbacks, staff_user, lender, doctoral, faculty, lab
):
    first = f.BudgetCodeFactory(code="2026-A", responsible=faculty, laboratory=lab, limit=50000)
    second = f.BudgetCodeFactory(code="2026-B", responsible=faculty, laboratory=lab, limit=50000)
    f.BudgetCodeFactory(code="2026-UNTOUCHED", responsible=faculty, laboratory=lab, limit=50000)
    requests = [
        f.CopyRequestFactory(
            patron=doctoral, status="ordered", lender=lender, expense_type="public", budget_code=code, page_count=10
        )
        for code in (first, second, first)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.record_shipment(
            lender=lender, items=[services.ArrivedItem(request=r, pages=10) for r in requests], actor=staff_user
        )
    assert queued == [(sorted([first.pk, second.pk]), False)]


def test_the_touched_codes_are_read_with_their_positions_in_one_query(
    django_assert_num_queries, faculty, lab, doctoral
):
    codes = [f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=1000, code=f"T-{n}") for n in range(10)]
    for code in codes:
        spend(code, 100, doctoral)
    with django_assert_num_queries(1):  # codes + ledger sums together; nobody near a limit
        assert alerts.check_budget_codes([code.pk for code in codes[:5]]) == []


def test_only_the_touched_code_is_alerted(admin_user, faculty, lab, doctoral):
    touched = f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=1000, code="T-1")
    other = f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=1000, code="T-2")
    spend(touched, 850, doctoral)
    spend(other, 900, doctoral)
    assert tasks.monitor_budget_codes_task(code_ids=[touched.pk]) == {"support": None, "codes": [("T-1", "80")]}
    assert tasks.monitor_budget_codes_task(code_ids=[touched.pk]) == {"support": None, "codes": []}  # once
    keys = set(OutboxMessage.objects.filter(kind="budget_alert").values_list("idempotency_key", flat=True))
    assert keys == {f"budget:code:{touched.pk}:80:user:{admin_user.pk}"}


def test_checking_an_alerted_code_again_costs_one_query_for_all_admins(
    django_assert_num_queries, admin_user, faculty, lab, doctoral
):
    f.UserFactory(username="second-admin", is_superuser=True, is_staff=True)
    code = f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=1000, code="T-1")
    spend(code, 900, doctoral)
    assert alerts.check_budget_codes([code.pk]) == [("T-1", "80")]
    assert OutboxMessage.objects.filter(kind="budget_alert").count() == 2
    with django_assert_num_queries(3):  # the code with its position, the admins, who already has it
        assert alerts.check_budget_codes([code.pk]) == []


def test_beat_goes_through_every_code_in_bounded_batches(settings, admin_user, faculty, lab, doctoral):
    settings.JOB_BATCH_SIZE = 4
    codes = [f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=1000, code=f"B-{n:02d}") for n in range(10)]
    spend(codes[9], 1000, doctoral)  # the last one, found only by the third batch
    first, after = alerts.check_budget_code_batch()
    assert (first, after) == ([], codes[3].pk)
    second, after = alerts.check_budget_code_batch(after=after)
    assert (second, after) == ([], codes[7].pk)
    third, after = alerts.check_budget_code_batch(after=after)
    assert (third, after) == ([("B-09", "closed")], None)


def test_the_beat_task_queues_its_next_batch_itself(settings, admin_user, faculty, lab, doctoral):
    """Eagerly here: the chain of batches runs to the end, each a task of its own."""
    settings.JOB_BATCH_SIZE = 3
    codes = [f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=1000, code=f"C-{n:02d}") for n in range(7)]
    spend(codes[6], 800, doctoral)
    result = tasks.monitor_budgets_task.delay().get()
    assert result["next"] == codes[2].pk
    assert OutboxMessage.objects.filter(idempotency_key__startswith=f"budget:code:{codes[6].pk}:80:").count() == 1


def test_each_beat_batch_is_one_query_for_its_codes(settings, django_assert_num_queries, faculty, lab):
    settings.JOB_BATCH_SIZE = 50
    for n in range(30):
        f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=1000, code=f"Q-{n}")
    with django_assert_num_queries(1):
        assert alerts.check_budget_code_batch() == ([], None)
