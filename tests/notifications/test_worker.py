"""A real Celery worker process on Redis runs the e-mail task queued on commit (CI: required)."""

import pytest

from ill import services
from notifications.models import OutboxMessage
from tests import factories as f
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_sends_the_arrival_email_queued_on_commit(tmp_path, staff_user, lender, undergraduate):
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    with running_worker(tmp_path):
        services.record_arrival(request, actor=staff_user, lender_due_date=f.future(14))
        message = OutboxMessage.objects.get(request=request, kind="arrived")
        assert wait_until(lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent"), (
            tmp_path / "worker.log"
        ).read_text()[-3000:]
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.sent_at is not None
