"""The demo (`make run`): its sample e-mails went nowhere, so no sample claims the patron was told
(issue 13: the desk said "arrival notice sent" although nothing was printed), and it loads twice."""

import pytest
from django.core.management import call_command

from ill import next_steps
from ill.models import Request
from notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_tells_no_patron_anything_it_did_not_print(capsys):
    call_command("load_demo")
    assert not OutboxMessage.objects.exists()
    # the open samples (the history's finished requests keep their past notices)
    assert not Request.objects.filter(status="arrived", notified_at__isnull=False).exists()
    arrived = Request.objects.filter(status="arrived").order_by("-submitted_at").first()
    assert arrived is not None
    assert "notify" in next_steps.available(arrived, getattr(arrived, "charge", None))
    count = Request.objects.count()
    call_command("load_demo")  # safe to run again
    assert Request.objects.count() == count
