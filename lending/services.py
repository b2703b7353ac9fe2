"""The one way an incoming (lending) request changes: every function here is a transaction that locks
the request row (`SELECT … FOR UPDATE`), looks its move up in `lending.lifecycle.LENDING`, assigns the
status and writes exactly one `LendingEvent` (action, from, to, actor, note, data).

A move the lifecycle does not allow raises `core.errors.TransitionNotAllowed` (409); bad input raises
`core.errors.ServiceError` naming the field (400). Nothing is half-saved. Views and the ISO 18626
messaging call these functions and nothing else to move a lending request.

Money as a lender (charges, invoices, offsets) lives in `lending.money`; its services are re-exported
here so that `from lending import services; services.issue_invoice(...)` works too.
"""

import datetime

from lending.models import LendingEvent, LendingRequest, Renewal
from lending.money import cancel_invoice, issue_invoice, record_offset, record_offset_settled, record_payment, waive

__all__ = [
    "add_note",
    "ask_renewal",
    "cancel",
    "cancel_invoice",
    "complete",
    "decide_renewal",
    "issue_invoice",
    "mark_received",
    "mark_unfilled",
    "recall",
    "receive",
    "record_offset",
    "record_offset_settled",
    "record_payment",
    "record_return",
    "search",
    "ship",
    "start_copying",
    "waive",
    "will_supply",
]


def receive(*, borrower, kind: str, source: str, actor=None, **fields) -> LendingRequest:
    """Record a request from another library (`borrower`, an `ill.LendingInstitution`).

    `fields` are LendingRequest citation/wish fields (title, author, …, their_reference,
    patron_reference, need_by, max_cost, requester_note, nacsis_ill_id). The row is `full_clean`ed
    before it is saved: bad input raises ServiceError with `field`. A borrower whose
    BorrowerTerms.may_borrow is False is refused (ServiceError code "may_not_borrow").

    Idempotent: the same borrower with the same non-blank `their_reference` returns the existing
    request unchanged (ISO 18626 retries, retyped e-mails), without a new event.
    Our holdings are looked up by ISBN / ISSN / NCID and, when one matches, `holding`, `call_number`
    and `location` are pre-filled. Event "receive", data {"holding_found": bool}.
    """
    raise NotImplementedError


def search(req: LendingRequest, *, actor) -> LendingRequest:
    """Staff start looking for the item on our shelves (received → searching). Event "search"."""
    raise NotImplementedError


def will_supply(req: LendingRequest, *, actor, holding=None, note: str = "") -> LendingRequest:
    """We will supply it (received|searching → will_supply), from `holding` (an ill.LocalHolding;
    defaults to the one found on receipt). Sets holding, call_number, location from it.
    A loan from a holding that is on loan or missing is refused (ServiceError code "holding_unavailable",
    suggesting to mark it unfilled: on loan / missing). Event "will_supply", data {"holding": id|None}."""
    raise NotImplementedError


def mark_unfilled(req: LendingRequest, *, actor, reason: str, note: str = "") -> LendingRequest:
    """We cannot supply it (→ unfilled). `reason` is a LendingRequest.UnfilledReason value (required);
    the reason and `note` go back to the requester (h6 sends them by ISO 18626). Sets unfilled_reason,
    unfilled_note, closed_at. Event "mark_unfilled", data {"reason": reason}."""
    raise NotImplementedError


def cancel(req: LendingRequest, *, actor=None, note: str = "") -> LendingRequest:
    """They cancelled their request (→ cancelled, from the states the lifecycle allows: before we ship).
    Sets closed_at. Event "cancel"."""
    raise NotImplementedError


def start_copying(req: LendingRequest, *, actor, override_reason: str = "") -> LendingRequest:
    """Start making the copy (will_supply → copying; copies only). Runs `lending.copyright.check` first:
    a refusal raises `lending.copyright.CopyrightRefused` (a ServiceError listing every reason, `.refusals`)
    unless `override_reason` is given by a user with the permission "lending.override_copyright"
    (otherwise ServiceError code "override_not_permitted", 403-ish). The override is recorded in
    copyright_override_reason / copyright_override_by and in the event's data
    {"copyright_override": reason, "refusals": [codes]}. Event "start_copying"."""
    raise NotImplementedError


def ship(
    req: LendingRequest,
    *,
    actor,
    shipping_method: str,
    due_date: datetime.date | None = None,
    charge: int | None = None,
    note: str = "",
) -> LendingRequest:
    """Send it (copy: copying → shipped; loan: will_supply → shipped).

    `shipping_method` is a Request.Delivery value ("mail", "express", "fax"). For a loan `due_date`
    defaults to today + settings.LENDING_LOAN_DAYS (30) and must be after today. The charge is priced
    with our fee schedule (`lending.money.price_request`) unless `charge` (whole yen, tax-inclusive)
    is given; a `lending.money.LendingCharge` is created (settlement: offset / invoice / free).
    Sets shipped_at. Event "ship", data {"due_date": iso|None, "charge": total_yen, "settlement": ...}.
    """
    raise NotImplementedError


def mark_received(req: LendingRequest, *, actor=None) -> LendingRequest:
    """They confirmed they received our book (loan: shipped → on_loan). Event "mark_received"."""
    raise NotImplementedError


def record_return(req: LendingRequest, *, actor) -> LendingRequest:
    """Our book is back (loan: shipped|on_loan → returned). Sets returned_at. Event "record_return"."""
    raise NotImplementedError


def complete(req: LendingRequest, *, actor=None) -> LendingRequest:
    """Close it (copy: shipped → completed; loan: returned → completed). Sets completed_at, closed_at.
    Event "complete"."""
    raise NotImplementedError


def recall(req: LendingRequest, *, actor, new_due_date: datetime.date, note: str = "") -> LendingRequest:
    """We want our book back early (only while out on loan: shipped|on_loan). Sets recalled_at and brings
    the due date forward to `new_due_date` (not after the current due date, not before today).
    Status unchanged. Event "recall", data {"due_date": iso, "previous_due_date": iso}."""
    raise NotImplementedError


def ask_renewal(
    req: LendingRequest, *, wanted_until: datetime.date | None = None, note: str = "", actor=None
) -> Renewal:
    """They ask to keep our book longer (only while out on loan; not after a recall). One pending
    request at a time: a second one raises TransitionNotAllowed (code "renewal_pending").
    Event "renewal_asked", data {"renewal": id, "wanted_until": iso|None}."""
    raise NotImplementedError


def decide_renewal(
    renewal: Renewal, *, actor, grant: bool, new_due_date: datetime.date | None = None, note: str = ""
) -> Renewal:
    """Grant or refuse a pending renewal. Granting needs `new_due_date` later than the current due date
    (ServiceError field "new_due_date" otherwise); the loan's due_date moves and renewals += 1.
    Deciding one already decided raises TransitionNotAllowed. Event "renewal_granted" / "renewal_refused",
    data {"renewal": id, "due_date": iso}."""
    raise NotImplementedError


def add_note(req: LendingRequest, *, actor, note: str) -> LendingEvent:
    """Record a note on the request without moving it. Event "note"."""
    raise NotImplementedError
