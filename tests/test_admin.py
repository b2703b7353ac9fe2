"""The admin cannot go around a service (DESIGN: the admin is for configuration; status, money
and history are read-only there or changed through a service)."""

import pytest
from django.db import IntegrityError, transaction

from fees.models import BudgetLedgerEntry
from ill.models import Request, RequestEvent
from patrons import services as patron_services
from patrons.models import PatronEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def _post_data(response):
    """What the browser would send back for the change form as it was shown."""
    data = {}

    def add(bound):
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)

    for bound in response.context["adminform"].form:
        add(bound)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            add(bound)
        for form in formset.forms:
            for bound in form:
                add(bound)
    return data


def _change_url(request):
    return f"/admin/ill/request/{request.pk}/change/"


def test_it_keeps_the_budget_code_of_an_ordered_request_read_only(admin_client, public_code):
    request = f.CopyRequestFactory(status=Request.Status.ORDERED, expense_type="public", budget_code=public_code)
    other = f.BudgetCodeFactory(code="2026-OTHER")
    response = admin_client.get(_change_url(request))
    assert "budget_code" not in response.context["adminform"].form.fields
    data = _post_data(response) | {"budget_code": str(other.pk), "comments": "checked"}
    response = admin_client.post(_change_url(request), data)
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.budget_code == public_code
    assert request.comments == "checked"


def test_it_lets_the_admin_edit_the_budget_code_of_a_submitted_request(admin_client):
    request = f.CopyRequestFactory()
    assert "budget_code" in admin_client.get(_change_url(request)).context["adminform"].form.fields


def test_it_writes_an_admin_change_event_with_the_actor(admin_client, admin_user):
    request = f.CopyRequestFactory()
    data = _post_data(admin_client.get(_change_url(request))) | {"comments": "fixed a typo"}
    assert admin_client.post(_change_url(request), data).status_code == 302
    event = RequestEvent.objects.get(request=request, action="admin_change")
    assert event.actor == admin_user
    assert event.data == {"changed": ["comments"]}
    assert (event.from_status, event.to_status) == ("submitted", "submitted")
    assert "comments" in event.note
    assert event.visible_to_patron is False


def test_it_refuses_to_delete_a_request(admin_client):
    request = f.CopyRequestFactory()
    assert admin_client.get(f"/admin/ill/request/{request.pk}/delete/").status_code == 403


def test_it_refuses_to_delete_or_change_a_request_event(admin_client):
    event = f.RequestEventFactory()
    assert admin_client.get(f"/admin/ill/requestevent/{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/ill/requestevent/{event.pk}/change/", {"note": "x"}).status_code == 403
    assert RequestEvent.objects.filter(pk=event.pk, note="").exists()


def test_it_keeps_the_state_of_an_extension_read_only(admin_client):
    extension = f.ExtensionRequestFactory()
    response = admin_client.get(f"/admin/ill/extensionrequest/{extension.pk}/change/")
    assert response.status_code == 200
    assert "state" not in response.context["adminform"].form.fields
    assert "new_due_date" not in response.context["adminform"].form.fields


@pytest.mark.parametrize("model", ["budgetledgerentry", "payment", "charge", "shipment", "supportuse"], ids=lambda m: m)
def test_it_refuses_to_add_money_records(admin_client, model):
    assert admin_client.get(f"/admin/fees/{model}/add/").status_code == 403


def test_it_refuses_to_delete_or_change_a_ledger_entry(admin_client):
    entry = f.BudgetLedgerEntryFactory()
    assert admin_client.get(f"/admin/fees/budgetledgerentry/{entry.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/fees/budgetledgerentry/{entry.pk}/change/", {"amount": 1}).status_code == 403
    entry.refresh_from_db()
    assert entry.amount == 1000


@pytest.mark.parametrize(("entry_type", "amount"), [("release", 5), ("commitment", -5), ("charge", -5), ("refund", 5)])
def test_it_refuses_a_ledger_entry_with_the_wrong_sign_or_type(entry_type, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.BudgetLedgerEntryFactory(entry_type=entry_type, amount=amount)


def test_it_accepts_a_release_as_a_negative_amount():
    assert f.BudgetLedgerEntryFactory(entry_type=BudgetLedgerEntry.EntryType.RELEASE, amount=-1000).pk


def test_it_refuses_a_payment_with_an_unknown_method():
    with pytest.raises(IntegrityError), transaction.atomic():
        f.PaymentFactory(method="cheque")


def test_it_logs_a_block_and_an_unblock(undergraduate, staff_user):
    patron_services.block(undergraduate, reason="Lost book", actor=staff_user)
    patron_services.unblock(undergraduate)
    events = list(PatronEvent.objects.filter(patron=undergraduate))
    assert [e.action for e in events] == ["blocked", "unblocked"]
    assert events[0].actor == staff_user
    assert events[0].note == "Lost book"


def test_it_keeps_the_block_read_only_in_the_patron_admin(admin_client, admin_user, undergraduate):
    url = f"/admin/patrons/patron/{undergraduate.pk}/change/"
    response = admin_client.get(url)
    assert "blocked" not in response.context["adminform"].form.fields
    data = _post_data(response) | {"blocked": "on", "block_reason": "sneaky", "phone": "0123"}
    assert admin_client.post(url, data).status_code == 302
    undergraduate.refresh_from_db()
    assert (undergraduate.blocked, undergraduate.phone) == (False, "0123")
    event = PatronEvent.objects.get(patron=undergraduate, action="admin_change")
    assert event.actor == admin_user
    assert event.data == {"changed": ["phone"]}


def test_it_refuses_to_change_or_delete_a_patron_event(admin_client, undergraduate):
    event = patron_services.block(undergraduate, reason="Lost book").events.get()
    assert admin_client.get(f"/admin/patrons/patronevent/{event.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/patrons/patronevent/add/").status_code == 403
