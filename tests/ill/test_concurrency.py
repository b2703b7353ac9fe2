"""The five-book limit holds when the same patron submits from two tabs at the same moment
(DESIGN.md §3.1): real concurrent transactions on PostgreSQL, each in its own thread and
connection. Counting is slowed down on purpose so that without the lock on the patron row both
submissions would count 4 and both pass."""

import threading
import time

import pytest
from django.db import connection

from ill import rules, selectors, services
from ill.models import Request
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _slow_count(original):
    def counted(patron):
        count = original(patron)
        time.sleep(0.3)  # widen the window between counting and inserting
        return count

    return counted


def submit_at_once(patron, requests):
    barrier = threading.Barrier(len(requests))
    outcomes = []

    def run(request):
        try:
            barrier.wait()
            services.submit_request(patron=patron, request=request, actor=patron.user)
            outcomes.append("submitted")
        except rules.RulesRefused as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_two_submissions_at_the_same_moment_cannot_both_take_the_fifth_place(undergraduate, monkeypatch):
    monkeypatch.setattr(selectors, "active_loan_count", _slow_count(selectors.active_loan_count))
    for _ in range(4):
        f.RequestFactory(patron=undergraduate, status="ordered")
    requests = [
        Request(kind="loan", material_type="book", title=f"Tab {n}", pickup_branch=undergraduate.home_branch)
        for n in (1, 2)
    ]
    assert submit_at_once(undergraduate, requests) == ["loan_limit", "submitted"]
    assert Request.objects.filter(patron=undergraduate, kind="loan").count() == 5


def test_numbers_stay_unique_when_many_patrons_submit_at_once(branch):
    patrons = [f.PatronFactory(home_branch=branch) for _ in range(6)]
    barrier = threading.Barrier(len(patrons))
    errors = []

    def run(patron):
        try:
            barrier.wait()
            services.submit_request(
                patron=patron,
                actor=patron.user,
                request=Request(kind="loan", material_type="book", title="Concurrent", pickup_branch=branch),
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in patrons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    numbers = list(Request.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 6
