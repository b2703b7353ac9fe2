"""The lending demo (`manage.py load_lending_demo`): requests in every state of the desk's day, made by
the services, and loading it twice changes nothing."""

import json
import os
import subprocess
import sys

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


LENDING_PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps([settings.LENDING_INVOICE_ISSUER, settings.LENDING_BANK_DETAILS]))"
)


def lending_settings(module, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LENDING_", "DJANGO_SETTINGS", "DATABASE_URL"))}
    env = {**clean, "DJANGO_SETTINGS_MODULE": module, "DJANGO_SECRET_KEY": "x" * 60, **env}
    result = subprocess.run([sys.executable, "-c", LENDING_PROBE], capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_make_run_has_demo_issuer_and_bank_details_unless_the_environment_gives_them():
    issuer, bank = lending_settings("config.settings.local")
    assert issuer["name"] == "デモ大学附属図書館" and issuer["registration_number"] == "T0000000000000"
    assert bank["bank"] == "デモ銀行" and bank["account_holder_kana"] == "ﾃﾞﾓﾀﾞｲｶﾞｸ"
    issuer, bank = lending_settings("config.settings.local", LENDING_INVOICE_ISSUER_NAME="東都大学附属図書館")
    assert issuer["name"] == "東都大学附属図書館"
    issuer, bank = lending_settings("config.settings.test")
    assert issuer["name"] == "" and bank["bank"] == ""  # everywhere else empty unless configured
