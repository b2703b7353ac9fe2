# ruff: noqa: F811  (the fixtures are imported from the neighbouring test module)
"""Review r1: what a peer's odd but schema-valid message must not do (a 500 makes it retry for ever)."""

import decimal
import re

import pytest
from django.utils.translation import gettext as _

from core.errors import TransitionNotAllowed
from iso18626 import dispatch, transport, xml
from iso18626.models import Message
from lending.models import LendingRequest
from tests.iso18626.test_lending_flow import action, english, loan_request, peer, post, schedule  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", ["1" * 40, "20000000", "-5"])
def test_a_maximum_cost_beyond_any_yen_amount_is_an_error_confirmation(peer, amount):
    message = loan_request("A-BIG")
    message.billing_info = xml.BillingInfo(maximum_costs=xml.Costs(decimal.Decimal(amount)))
    status, answer = post(peer, message)
    assert status in (200, 400)
    assert answer.header.message_status == "ERROR"
    assert not LendingRequest.objects.filter(their_reference="A-BIG").exists()


@pytest.fixture
def refusing_handler():
    """The registered action handler replaced, for one test, by one whose service refuses."""
    original = dispatch.handler_for("requestingAgencyMessage")

    def handler(message, *, peer, stored):
        LendingRequest.objects.filter(their_reference="A-REF").update(requester_note="changed")
        raise TransitionNotAllowed(_("This action is not possible in the request's current state."))

    dispatch.register("requestingAgencyMessage", handler)
    yield
    if original is None:
        dispatch.unregister("requestingAgencyMessage")
    else:
        dispatch.register("requestingAgencyMessage", original)


def test_a_service_refusal_in_a_handler_is_an_error_confirmation_not_a_500(peer, refusing_handler):
    assert post(peer, loan_request("A-REF"))[1].header.message_status == "OK"
    status, answer = post(peer, action("A-REF", "Received"))
    assert status == 200
    assert answer.header.message_status == "ERROR"
    assert answer.errors[0].error_type == "UnsupportedActionType"
    assert LendingRequest.objects.get(their_reference="A-REF").requester_note != "changed"  # rolled back
    stored = Message.objects.get(direction="in", message_type="requestingAgencyMessage")
    assert stored.state == Message.State.REJECTED


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T20:00:00Z"])
def test_a_timestamp_at_the_ends_of_the_calendar_is_an_error_confirmation_not_a_500(peer, stamp):
    raw = re.sub(
        rb"<ill:timestamp>[^<]+</ill:timestamp>",
        f"<ill:timestamp>{stamp}</ill:timestamp>".encode(),
        xml.build(loan_request("A-OLD")),
    )
    assert stamp.encode() in raw
    status, body = transport.receive(raw, {transport.SIGNATURE_HEADER: transport.sign(peer.shared_secret, raw)})
    assert status == 400
    assert xml.parse(body).header.message_status == "ERROR"
    assert not LendingRequest.objects.filter(their_reference="A-OLD").exists()
