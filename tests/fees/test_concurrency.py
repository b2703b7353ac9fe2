"""A budget code is never overspent by orders placed at the same moment (DESIGN.md §6): real
concurrent transactions on PostgreSQL. Reading the budget's position — what the locked path
really calls, `fees.budgets.budget_position` — is slowed down on purpose, so that without the row
lock on the budget code both orders would see the same amount left."""

import threading
import time

import pytest
from django.db import connection

from core.errors import ServiceError
from fees import budgets
from fees.models import BudgetLedgerEntry
from ill import services
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_orders_at_once_cannot_both_spend_what_is_left(monkeypatch, doctoral, faculty, lab, lender, staff_user):
    code = f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=700)
    requests = [
        f.CopyRequestFactory(patron=doctoral, expense_type="public", budget_code=code, page_count=10) for _ in range(2)
    ]  # each estimated at 490: only one fits in 700
    original = budgets.budget_position
    calls = []

    def slow_position(code):
        position = original(code)
        calls.append(code.pk)
        time.sleep(0.3)
        return position

    monkeypatch.setattr(budgets, "budget_position", slow_position)
    barrier = threading.Barrier(2)
    outcomes = []

    def run(request):
        try:
            barrier.wait()
            services.order(request, actor=staff_user, lenders=[lender])
            outcomes.append("ordered")
        except ServiceError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["budget_exceeded", "ordered"]
    assert sum(BudgetLedgerEntry.objects.filter(budget_code=code).values_list("amount", flat=True)) == 490
    assert calls, "the locked path no longer reads the budget position: slow down what it calls instead"
    assert original(code).left == 210
