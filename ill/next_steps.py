"""What the desk may do next with a request, derived from the state tables — the request
lifecycle (`ill.lifecycle.REQUEST`), the charge (`fees.states.CHARGE`) and the extension request
(`ill.states.EXTENSION`) — plus two steps that change no state (checking, re-sending the notice)."""

from fees.states import CHARGE
from ill import selectors
from ill.lifecycle import REQUEST
from ill.models import Request
from ill.services.ordering import past_not_needed
from ill.states import EXTENSION

S = Request.Status

# Desk steps that are not transitions of a table, and the request states they apply to.
NOTE_STEPS = {
    "review": {S.SUBMITTED},  # and only while nobody has checked it yet
    "notify": {S.ARRIVED},
}
# Desk steps named after a move of the extension table.
EXTENSION_STEPS = {"extension_forward": "forward", "extension_grant": "grant", "extension_refuse": "refuse"}

# The counter's usual next step first; the rarer ones are folded away on the page.
ORDER = [
    "review",
    "order",
    "record_arrival",
    "payment",
    "notify",
    "hand_over",
    "extension_forward",
    "extension_grant",
    "extension_refuse",
    "return_by_patron",
    "send_back",
    "mark_unfilled",
    "close_unfilled",
    "close_not_needed",
    "close_not_collected",
    "reject",
    "cancel",
]
SECONDARY = {"review", "notify", "mark_unfilled", "close_not_collected", "reject", "cancel", "extension_refuse"}


def available(item: Request, charge=None, extension=None) -> list[str]:
    """The desk's next steps for this request, in the counter's order."""
    steps = [a for a in REQUEST.allowed(item.status, item.kind) if a in ORDER]
    if "close_not_needed" in steps and not past_not_needed(item):
        steps.remove("close_not_needed")  # before the date, an unfilled request is closed as unfilled
    if item.status in NOTE_STEPS["review"] and item.reviewed_at is None:
        steps.append("review")
    if item.status in NOTE_STEPS["notify"]:
        steps.append("notify")
    if charge is not None and CHARGE.can("pay", charge.state) and charge.cash_due > 0:
        steps.append("payment")  # also after closing as not collected: the patron still owes it
    if extension is None and item.status == S.ON_LOAN:
        extension = selectors.open_extension_of(item)
    if extension is not None:
        steps += [step for step, move in EXTENSION_STEPS.items() if EXTENSION.can(move, extension.state)]
    return sorted(set(steps), key=ORDER.index)
