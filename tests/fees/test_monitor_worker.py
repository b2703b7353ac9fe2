"""The budget monitor run by a real Celery worker on Redis: 80 % alert, then closing (CI: required)."""

import pytest

from fees.models import SupportBudget
from fees.tasks import monitor_budgets_task
from notifications.models import OutboxMessage
from tests import factories as f
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def spend(budget, patron, amount):
    request = f.RequestFactory(patron=patron, support_budget=budget, status="arrived")
    f.ChargeFactory(request=request, payment_class="support", total=amount, computed_total=amount, state="settled")


def test_a_worker_alerts_admins_at_80_percent_and_closes_the_spent_budget(tmp_path, undergraduate):
    admin = f.UserFactory(username="boss", is_superuser=True, is_staff=True)
    budget = f.SupportBudgetFactory(total=1000)
    spend(budget, undergraduate, 800)
    alerts = OutboxMessage.objects.filter(kind="budget_alert", recipient=admin.email)
    with running_worker(tmp_path):
        monitor_budgets_task.delay()
        assert wait_until(lambda: alerts.filter(status="sent").count() == 1), (tmp_path / "worker.log").read_text()[
            -2000:
        ]
        assert SupportBudget.objects.get(pk=budget.pk).is_open
        spend(budget, undergraduate, 200)
        monitor_budgets_task.delay()
        assert wait_until(lambda: alerts.filter(status="sent").count() == 2)
    budget.refresh_from_db()
    assert not budget.is_open and budget.closing_alert_sent_at is not None
    assert [m.idempotency_key.split(":")[3] for m in alerts.order_by("created_at")] == ["80", "closed"]
