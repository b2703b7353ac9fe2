"""Labels for the lending desk's templates: a lending status, an event's action, an unfilled reason."""

import datetime

from django import template
from django.utils.translation import gettext_lazy as _

from lending.lifecycle import LENDING
from lending.models import LendingRequest

register = template.Library()

# Events that move nothing (lending.services): what staff read in the history.
OTHER_EVENTS = {
    "note": _("Note"),
    "recall": _("Recalled"),
    "renewal_asked": _("Renewal asked"),
    "renewal_granted": _("Renewal granted"),
    "renewal_refused": _("Renewal refused"),
    "set_holding": _("Holding changed"),
    "details": _("Details of the copy completed"),
    "invoice_issued": _("Put on an invoice"),
    "invoice_cancelled": _("Invoice cancelled"),
    "payment_recorded": _("Payment received"),
    "charge_waived": _("Charge waived"),
    "offset_recorded": _("Entered for fee-offset"),
    "offset_settled": _("Settled through the fee-offset"),
}


@register.filter
def lending_status(value):
    if not value:
        return ""
    try:
        return LendingRequest.Status(value).label
    except ValueError:
        return value


@register.filter
def lending_action(action):
    if action in OTHER_EVENTS:
        return OTHER_EVENTS[action]
    label = str(LENDING.label(action))
    return label[:1].upper() + label[1:]


@register.filter
def lending_unfilled_reason(value):
    return dict(LendingRequest.UnfilledReason.choices).get(value, value)


@register.filter
def iso_date(value):
    """A date kept as ISO text in an event's data, as a date (for the `date` filter)."""
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None
