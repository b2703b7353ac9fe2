"""The lending demo (`manage.py load_lending_demo`): requests in every state of the desk's day, made by
the services, and loading it twice changes nothing."""

import pytest
from django.core.management import call_command

from lending import worklists
from lending.models import BorrowerTerms, Invoice, LendingEvent, LendingRequest

pytestmark = pytest.mark.django_db


def test_the_lending_demo_fills_the_desk_and_loads_twice_alike():
    call_command("load_demo", "--no-samples")
    call_command("load_lending_demo")
    states = set(LendingRequest.objects.values_list("status", flat=True))
    assert {"received", "searching", "will_supply", "copying", "completed", "on_loan", "returned", "unfilled"} <= states
    terms = list(BorrowerTerms.objects.select_related("library"))
    assert len(terms) == 3
    assert "overseas" in {t.library.kind for t in terms}
    assert {t.library.is_offset_participant for t in terms} == {True, False}
    counts = worklists.count_worklists()
    for name in ("new", "pull", "copy", "ship", "out", "overdue", "renewals", "returned"):
        assert counts[name] >= 1, name
    assert Invoice.objects.count() == 1
    # Every request was moved by the services: its status is the last event's.
    for item in LendingRequest.objects.all():
        assert item.events.last().to_status == item.status
    before = (LendingRequest.objects.count(), LendingEvent.objects.count(), Invoice.objects.count())
    call_command("load_lending_demo")
    assert (LendingRequest.objects.count(), LendingEvent.objects.count(), Invoice.objects.count()) == before


def test_the_lending_demo_loads_on_its_own():
    call_command("load_lending_demo")
    assert LendingRequest.objects.count() == 9
