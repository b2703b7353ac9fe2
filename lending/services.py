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

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import bounds
from core.errors import ServiceError, TransitionNotAllowed
from core.text import format_date, format_yen
from fees.models import Delivery
from ill import identifiers
from ill.models import LendingInstitution, LocalHolding, LocalHoldingIdentifier
from lending import copyright, lifecycle, money
from lending.models import BorrowerTerms, LendingEvent, LendingRequest, Renewal
from lending.money import cancel_invoice, issue_invoice, record_offset, record_offset_settled, record_payment, waive
from lending.numbers import next_lending_number

__all__ = [
    "add_note",
    "ask_renewal",
    "cancel",
    "cancel_invoice",
    "complete",
    "decide_renewal",
    "find_holding",
    "issue_invoice",
    "mark_received",
    "mark_unfilled",
    "recall",
    "receive",
    "record_copy_details",
    "record_offset",
    "record_offset_settled",
    "record_payment",
    "record_return",
    "search",
    "set_holding",
    "ship",
    "start_copying",
    "waive",
    "will_supply",
]

S = LendingRequest.Status
LENDING = lifecycle.LENDING
Scheme = LocalHoldingIdentifier.Scheme

# The fields a caller of `receive` may give (the citation, their wishes, their identifiers).
RECEIVABLE_FIELDS = frozenset(
    {
        "their_reference",
        "nacsis_ill_id",
        "material_type",
        "title",
        "author",
        "publisher",
        "pub_year",
        "edition",
        "isbn",
        "issn",
        "ncid",
        "doi",
        "article_title",
        "article_author",
        "journal_title",
        "volume",
        "issue",
        "pages",
        "page_count",
        "colour_pages",
        "paper_size",
        "delivery_method",
        "purpose",
        "periodical_frequency",
        "issue_date",
        "work_total_pages",
        "requester_note",
        "patron_reference",
        "need_by",
        "max_cost",
    }
)
# What staff may complete from the item in hand before copying (record_copy_details).
COPY_DETAIL_FIELDS = frozenset(
    {"page_count", "colour_pages", "paper_size", "periodical_frequency", "issue_date", "work_total_pages", "pages"}
)
COPY_DETAIL_STATES = frozenset({S.RECEIVED, S.SEARCHING, S.WILL_SUPPLY, S.COPYING})
SET_HOLDING_STATES = COPY_DETAIL_STATES
# A loan's copy is ours no more from the moment we promise it until it is back (one book, one borrower).
HOLDING_TAKEN_STATES = (S.WILL_SUPPLY, S.SHIPPED, S.ON_LOAN)

NOT_ALLOWED = _("Lending request %(number)s is “%(status)s”: it is not possible to %(action)s it now.")
UNKNOWN_FIELD = _("%(field)s is not a field of a lending request.")
MAY_NOT_BORROW = _("%(library)s may not borrow from us (see its borrower's terms).")
HOLDING_ON_LOAN = _(
    "Our copy (%(call_number)s) is on loan: it cannot be lent now. Choose another copy, or mark the request "
    "unfilled with the reason “on loan”."
)
HOLDING_MISSING = _(
    "Our copy (%(call_number)s) is missing: it cannot be supplied. Choose another copy, or mark the request "
    "unfilled with the reason “missing”."
)
HOLDING_ELECTRONIC = _(
    "Our copy (%(title)s) is electronic: it cannot be lent. Mark the request unfilled with the reason "
    "“not for loan”, or choose a printed copy."
)
HOLDING_PROMISED = _(
    "Our copy (%(call_number)s) is already lent or promised to %(library)s (%(number)s): it cannot be lent twice. "
    "Choose another copy, or mark the request unfilled with the reason “on loan”."
)
REASON_NEEDED = _("Choose the reason why we cannot supply it.")
REASON_UNKNOWN = _("“%(reason)s” is not one of the reasons a request can be unfilled.")
SHIPPING_METHOD_NEEDED = _("Choose how it is sent (mail, express or FAX / electronic delivery).")
DUE_DATE_FOR_COPY = _("A copy is not returned: it has no due date.")
DUE_DATE_NOT_AFTER_TODAY = _("The due date must be after today.")
DUE_DATE_TOO_FAR = _("The due date can be at most two years ahead.")
CHARGE_INVALID = _("Enter the charge as a whole number of yen from 0 to %(max)s.")
CHARGE_ABOVE_MAX = _(
    "The charge %(charge)s is above the most they accept (%(max)s). Ask them first, enter a lower charge, "
    "or mark the request unfilled with the reason “conditions not accepted”."
)
NOT_OUT_ON_LOAN = _("Lending request %(number)s is not a loan of ours out with them.")
RECALL_DATE_PAST = _("The new due date cannot be before today.")
RECALL_NOT_EARLIER = _("A recall brings the due date forward: choose a date before %(date)s.")
RECALLED_NO_RENEWAL = _("We recalled this book (%(number)s): it cannot be renewed.")
RENEWAL_PENDING = _("A renewal of %(number)s is already waiting for our answer.")
WANTED_NOT_LATER = _("The date they want to keep it until must be after the current due date (%(date)s).")
RENEWAL_DECIDED = _("This renewal request was already answered (%(decision)s).")
NEW_DUE_NEEDED = _("Give the new due date of the renewal.")
NEW_DUE_NOT_LATER = _("The new due date must be after the current one (%(date)s).")
NOTE_NEEDED = _("Write the note.")
NOTE_TOO_LONG = _("Keep the note to %(max)d characters.")
NOTHING_TO_RECORD = _("Nothing to record: give at least one detail.")


# --- the one way a lending request moves ------------------------------------------------------


def _refuse(req: LendingRequest, action: str, message=NOT_ALLOWED, code: str = "transition_not_allowed"):
    raise TransitionNotAllowed(
        message,
        code=code,
        params={"number": req.number, "status": req.get_status_display(), "action": LENDING.label(action)},
    )


def _lock(req: LendingRequest) -> LendingRequest:
    """The request row, locked until the transaction ends (`SELECT … FOR UPDATE`)."""
    return LendingRequest.objects.select_for_update(of=("self",)).select_related("borrower").get(pk=req.pk)


def _ensure_can(req: LendingRequest, action: str) -> None:
    if not LENDING.can(action, req.status, req.kind):
        _refuse(req, action)


def _sync(target: LendingRequest, source: LendingRequest) -> LendingRequest:
    """Copy the saved row's values onto the caller's instance, so that it does not stay stale."""
    if target is not source:
        for field in LendingRequest._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))
    return source


def _apply(req: LendingRequest, action: str, *, actor, note: str = "", data: dict | None = None) -> LendingEvent:
    """Move a locked request along the transition named `action` and record the event."""
    transition = LENDING.find(action, req.status, req.kind)
    if transition is None:
        _refuse(req, action)
    event = LendingEvent(
        request=req,
        action=action,
        from_status=req.status,
        to_status=transition.target,
        actor=actor,
        note=note,
        data=data or {},
    )
    req.status = transition.target
    req.save()
    event.save()
    return event


def _event(req: LendingRequest, action: str, *, actor, note: str = "", data: dict | None = None) -> LendingEvent:
    """Record something that happened to a request without changing its state."""
    return LendingEvent.objects.create(
        request=req,
        action=action,
        from_status=req.status,
        to_status=req.status,
        actor=actor,
        note=note,
        data=data or {},
    )


def _user(actor):
    """The actor as stored on an event: a signed-in user, or None (a message from a peer)."""
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _validation_error(exc: ValidationError) -> ServiceError:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        message = errors[0].messages[0]
        return ServiceError(message, code="invalid", field=None if field == NON_FIELD_ERRORS else field)
    return ServiceError(exc.messages[0], code="invalid")


def _text(value: str, *, field: str, max_length: int, required_message=None) -> str:
    value = (value or "").strip()
    if required_message is not None and not value:
        raise ServiceError(required_message, code="required", field=field)
    if len(value) > max_length:
        raise ServiceError(NOTE_TOO_LONG, code="too_long", field=field, params={"max": max_length})
    return value


def _normalise_identifiers(fields: dict) -> None:
    for name in ("isbn", "issn", "ncid", "doi"):
        if name in fields:
            try:
                fields[name] = identifiers.normalize_identifier(name, str(fields[name]))
            except identifiers.IdentifierError as exc:
                raise ServiceError(exc.message, code="invalid_identifier", field=name) from None


# --- holdings ---------------------------------------------------------------------------------


def find_holding(*, isbn: str = "", issn: str = "", ncid: str = "", kind: str = "") -> LocalHolding | None:
    """Our holding of this item, by normalised ISBN, then NCID, then ISSN: a printed copy first (an
    electronic one cannot be lent), an available one first, then one no loan of ours has out or promised.
    None when we hold nothing of it."""
    candidates = []
    for scheme, value in ((Scheme.ISBN, isbn), (Scheme.NCID, ncid), (Scheme.ISSN, issn)):
        if value:
            candidates.append((scheme, value))
    for scheme, value in candidates:
        found = (
            LocalHolding.objects.filter(identifiers__scheme=scheme, identifiers__value=value)
            .annotate(
                _unavailable=Case(
                    When(status=LocalHolding.Status.AVAILABLE, then=Value(0)),
                    When(status=LocalHolding.Status.IN_PROCESS, then=Value(1)),
                    When(status=LocalHolding.Status.ON_LOAN, then=Value(2)),
                    default=Value(3),
                    output_field=IntegerField(),
                )
            )
            .annotate(
                _promised=Exists(
                    LendingRequest.objects.filter(
                        holding=OuterRef("pk"), kind=LendingRequest.Kind.LOAN, status__in=HOLDING_TAKEN_STATES
                    )
                )
            )
            .order_by("is_electronic", "_unavailable", "_promised", "pk")
            .first()
        )
        if found is not None and not (found.is_electronic and kind == LendingRequest.Kind.LOAN):
            return found
    return None


def _take_holding(req: LendingRequest, holding: LocalHolding | None) -> None:
    req.holding = holding
    if holding is not None:
        req.call_number = holding.call_number[:100]
        req.location = (holding.location or (str(holding.branch) if holding.branch_id else ""))[:100]


# --- receiving --------------------------------------------------------------------------------


@transaction.atomic
def receive(*, borrower, kind: str, source: str, actor=None, **fields) -> LendingRequest:
    """Record a request from another library (`borrower`, an `ill.LendingInstitution`).

    `fields` are LendingRequest citation/wish fields (title, author, …, their_reference,
    patron_reference, need_by, max_cost, requester_note, nacsis_ill_id; see RECEIVABLE_FIELDS). The row is
    `full_clean`ed before it is saved: bad input raises ServiceError with `field`. A borrower whose
    BorrowerTerms.may_borrow is False is refused (ServiceError code "may_not_borrow").

    Idempotent: the same borrower with the same non-blank `their_reference` returns the existing
    request unchanged (ISO 18626 retries, retyped e-mails), without a new event.
    Our holdings are looked up by ISBN / ISSN / NCID and, when one matches, `holding`, `call_number`
    and `location` are pre-filled. Event "receive", data {"holding_found": bool}.
    """
    unknown = sorted(set(fields) - RECEIVABLE_FIELDS)
    if unknown:
        raise ServiceError(UNKNOWN_FIELD, code="unknown_field", field=unknown[0], params={"field": unknown[0]})
    fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    fields = {k: v for k, v in fields.items() if v is not None}
    their_reference = fields.get("their_reference", "")
    if their_reference:
        existing = LendingRequest.objects.filter(borrower=borrower, their_reference=their_reference).first()
        if existing is not None:
            return existing
    terms = BorrowerTerms.objects.filter(library=borrower).first()
    if terms is not None and not terms.may_borrow:
        raise ServiceError(MAY_NOT_BORROW, code="may_not_borrow", params={"library": borrower.display_name})
    _normalise_identifiers(fields)
    req = LendingRequest(borrower=borrower, kind=kind, source=source, entered_by=_user(actor), **fields)
    req.status = LENDING.find("receive", lifecycle.NEW, kind).target  # any kind: full_clean checks it
    _take_holding(req, find_holding(isbn=req.isbn, issn=req.issn, ncid=req.ncid, kind=kind))
    try:
        req.full_clean(exclude=["number"], validate_constraints=False)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    req.number = next_lending_number()
    try:
        with transaction.atomic():
            req.save()
    except IntegrityError:
        # The same request arrived twice at once (a peer's retry): the other transaction saved it.
        if their_reference:
            existing = LendingRequest.objects.filter(borrower=borrower, their_reference=their_reference).first()
            if existing is not None:
                return existing
        raise
    LendingEvent.objects.create(
        request=req,
        action="receive",
        from_status=lifecycle.NEW,
        to_status=req.status,
        actor=_user(actor),
        data={"holding_found": req.holding_id is not None},
    )
    return req


@transaction.atomic
def search(req: LendingRequest, *, actor) -> LendingRequest:
    """Staff start looking for the item on our shelves (received → searching). Event "search"."""
    locked = _lock(req)
    _apply(locked, "search", actor=_user(actor))
    return _sync(req, locked)


@transaction.atomic
def will_supply(req: LendingRequest, *, actor, holding=None, note: str = "") -> LendingRequest:
    """We will supply it (received|searching → will_supply), from `holding` (an ill.LocalHolding;
    defaults to the one found on receipt). Sets holding, call_number, location from it.
    A loan from a holding that is on loan, missing or electronic is refused, and a copy from a missing
    one (ServiceError code "holding_unavailable", field "holding", suggesting to mark it unfilled with
    the reason on loan / missing / not for loan). Event "will_supply", data {"holding": id|None}."""
    locked = _lock(req)
    _ensure_can(locked, "will_supply")
    holding = holding if holding is not None else locked.holding
    if holding is not None:
        _check_holding(locked, holding)
        _take_holding(locked, holding)
    _apply(locked, "will_supply", actor=_user(actor), note=note, data={"holding": locked.holding_id})
    return _sync(req, locked)


def _check_holding(req: LendingRequest, holding: LocalHolding) -> None:
    params = {"call_number": holding.call_number or "—", "title": holding.title}
    message = None
    if holding.status == LocalHolding.Status.MISSING:
        message = HOLDING_MISSING
    elif req.is_loan and holding.status == LocalHolding.Status.ON_LOAN:
        message = HOLDING_ON_LOAN
    elif req.is_loan and holding.is_electronic:
        message = HOLDING_ELECTRONIC
    if message is not None:
        raise ServiceError(message, code="holding_unavailable", field="holding", params=params)
    if req.is_loan:
        # Two members of staff promising the same copy to two libraries at once: its row serialises them
        # (each has locked its own request first, so they cannot deadlock). FOR NO KEY UPDATE: rows that
        # refer to the holding can still be written meanwhile.
        LocalHolding.objects.select_for_update(no_key=True).filter(pk=holding.pk).first()
        other = (
            LendingRequest.objects.filter(holding=holding, kind="loan", status__in=HOLDING_TAKEN_STATES)
            .exclude(pk=req.pk)
            .select_related("borrower")
            .first()
        )
        if other is not None:
            params.update(library=other.borrower.display_name, number=other.number)
            raise ServiceError(HOLDING_PROMISED, code="holding_promised", field="holding", params=params)


@transaction.atomic
def set_holding(req: LendingRequest, *, actor, holding) -> LendingRequest:
    """Staff pick another of our holdings (e.g. the first copy turned out missing), or none: no status
    change; only while open and not yet shipped (received, searching, will_supply, copying). Sets
    holding, call_number, location; refused like will_supply for an unavailable holding.
    Event "set_holding", data {"holding": id|None, "previous": id|None}."""
    locked = _lock(req)
    if locked.status not in SET_HOLDING_STATES:
        _refuse(locked, "will_supply")
    previous = locked.holding_id
    if holding is not None:
        _check_holding(locked, holding)
        _take_holding(locked, holding)
    else:
        locked.holding, locked.call_number, locked.location = None, "", ""
    locked.save()
    _event(locked, "set_holding", actor=_user(actor), data={"holding": locked.holding_id, "previous": previous})
    return _sync(req, locked)


@transaction.atomic
def mark_unfilled(req: LendingRequest, *, actor, reason: str, note: str = "") -> LendingRequest:
    """We cannot supply it (→ unfilled). `reason` is a LendingRequest.UnfilledReason value (required);
    the reason and `note` go back to the requester (h6 sends them by ISO 18626). Sets unfilled_reason,
    unfilled_note (the note's first 300 characters; the event keeps all of it), closed_at.
    Event "mark_unfilled", data {"reason": reason}."""
    if not reason:
        raise ServiceError(REASON_NEEDED, code="reason_required", field="reason")
    if reason not in LendingRequest.UnfilledReason.values:
        raise ServiceError(REASON_UNKNOWN, code="reason_unknown", field="reason", params={"reason": reason})
    note = (note or "").strip()
    locked = _lock(req)
    _ensure_can(locked, "mark_unfilled")
    locked.unfilled_reason = reason
    locked.unfilled_note = note if len(note) <= 300 else note[:299] + "…"
    locked.closed_at = timezone.now()
    _apply(locked, "mark_unfilled", actor=_user(actor), note=note, data={"reason": reason})
    return _sync(req, locked)


@transaction.atomic
def cancel(req: LendingRequest, *, actor=None, note: str = "") -> LendingRequest:
    """They cancelled their request (→ cancelled, from the states the lifecycle allows: before we ship).
    Sets closed_at. Event "cancel"."""
    locked = _lock(req)
    _ensure_can(locked, "cancel")
    locked.closed_at = timezone.now()
    _apply(locked, "cancel", actor=_user(actor), note=(note or "").strip())
    return _sync(req, locked)


@transaction.atomic
def record_copy_details(req: LendingRequest, *, actor, **details) -> LendingRequest:
    """Staff complete, from the item in hand, what the copyright rules and the price need: page_count,
    colour_pages, paper_size, pages, periodical_frequency, issue_date, work_total_pages (copies only,
    before shipping). Validated like the request itself. Status unchanged; event "details" with the
    old and new values."""
    unknown = sorted(set(details) - COPY_DETAIL_FIELDS)
    if unknown:
        raise ServiceError(UNKNOWN_FIELD, code="unknown_field", field=unknown[0], params={"field": unknown[0]})
    if not details:
        raise ServiceError(NOTHING_TO_RECORD, code="nothing_to_record")
    locked = _lock(req)
    if locked.kind != LendingRequest.Kind.COPY or locked.status not in COPY_DETAIL_STATES:
        _refuse(locked, "start_copying")
    changes = {}
    for name, value in details.items():
        old = getattr(locked, name)
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
        changes[name] = [str(old) if old is not None else None, str(value) if value is not None else None]
    try:
        locked.full_clean(exclude=["number"], validate_constraints=False)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    if locked.status == S.COPYING:
        # The copyright check passed (or was overridden) on the details as they were when copying began:
        # details changed now must pass it too, or e.g. a chapter becomes more than half of the book.
        _recheck_copyright(locked)
    locked.save()
    _event(locked, "details", actor=_user(actor), data={"changes": changes})
    return _sync(req, locked)


def _recheck_copyright(locked: LendingRequest) -> None:
    """Refuse (CopyrightRefused, nothing saved) when the art. 31 rules now refuse a copy being made,
    except for the rules a permitted user overrode when it was started."""
    refusals = copyright.check(locked)
    if not refusals:
        return
    overridden = set()
    if locked.copyright_override_reason:
        started = locked.events.filter(action="start_copying").order_by("-created_at", "-pk").first()
        overridden = set((started.data or {}).get("refusals", [])) if started is not None else set()
    new = [r for r in refusals if r.code not in overridden]
    if new:
        raise copyright.CopyrightRefused(new)


@transaction.atomic
def start_copying(req: LendingRequest, *, actor, override_reason: str = "") -> LendingRequest:
    """Start making the copy (will_supply → copying; copies only). Runs `lending.copyright.check` first:
    a refusal raises `lending.copyright.CopyrightRefused` (a ServiceError listing every reason, `.refusals`)
    unless `override_reason` is given by a user with the permission "lending.override_copyright"
    (otherwise `copyright.OverrideNotPermitted`, 403). The override is recorded in
    copyright_override_reason / copyright_override_by and in the event's data
    {"copyright_override": reason, "refusals": [codes]}. Event "start_copying".
    Staff who refuse instead call mark_unfilled(reason="copyright", note=copyright.unfilled_note(refusals))."""
    override_reason = _text(override_reason, field="override_reason", max_length=300)
    locked = _lock(req)
    _ensure_can(locked, "start_copying")
    if locked.patron_reference:
        # One copy per person: two copies of the same article for the same person started at the same
        # moment would each find no earlier copy. Their library's row serialises them.
        LendingInstitution.objects.select_for_update(no_key=True).filter(pk=locked.borrower_id).first()
    refusals = copyright.check(locked)
    data = {}
    if refusals:
        if not override_reason:
            raise copyright.CopyrightRefused(refusals)
        if actor is None or not actor.has_perm("lending.override_copyright"):
            raise copyright.OverrideNotPermitted(refusals)
        locked.copyright_override_reason = override_reason
        locked.copyright_override_by = actor
        data = {"copyright_override": override_reason, "refusals": [r.code for r in refusals]}
    _apply(locked, "start_copying", actor=_user(actor), data=data)
    return _sync(req, locked)


def _check_charge(charge) -> int:
    if isinstance(charge, bool) or not isinstance(charge, int) or not 0 <= charge <= bounds.MAX_YEN:
        raise ServiceError(
            CHARGE_INVALID, code="charge_invalid", field="charge", params={"max": format_yen(bounds.MAX_YEN)}
        )
    return charge


@transaction.atomic
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
    defaults to today + settings.LENDING_LOAN_DAYS (30) and must be after today (at most two years
    ahead); a copy takes no due date. The charge is priced with our fee schedule
    (`lending.money.price_request`) unless `charge` (whole yen, tax-inclusive) is given; a charge above
    their `max_cost` is refused. A `LendingCharge` is created (settlement: offset / invoice / free).
    Sets shipped_at. Event "ship", data {"due_date": iso|None, "charge": total_yen, "settlement": ...}.
    """
    if shipping_method not in Delivery.values:
        raise ServiceError(SHIPPING_METHOD_NEEDED, code="shipping_method_required", field="shipping_method")
    if charge is not None:
        charge = _check_charge(charge)
    locked = _lock(req)
    _ensure_can(locked, "ship")
    today = timezone.localdate()
    if locked.is_loan:
        due_date = due_date or today + datetime.timedelta(days=settings.LENDING_LOAN_DAYS)
        if due_date <= today:
            raise ServiceError(DUE_DATE_NOT_AFTER_TODAY, code="due_date_past", field="due_date")
        if due_date > today + bounds.DUE_DATE_AHEAD:
            raise ServiceError(DUE_DATE_TOO_FAR, code="due_date_too_far", field="due_date")
    elif due_date is not None:
        raise ServiceError(DUE_DATE_FOR_COPY, code="due_date_for_copy", field="due_date")
    breakdown = None
    if charge is None:
        breakdown = money.price_request(locked, shipping_method=shipping_method)
        total = breakdown.share_for(locked.pk).total
    else:
        total = charge
    if locked.max_cost is not None and total > locked.max_cost:
        params = {"charge": format_yen(total), "max": format_yen(locked.max_cost)}
        raise ServiceError(CHARGE_ABOVE_MAX, code="above_max_cost", field="charge", params=params)
    locked.shipping_method = shipping_method
    locked.due_date = due_date
    locked.shipped_at = timezone.now()
    lending_charge = money.create_charge(locked, breakdown=breakdown, total=None if breakdown else total)
    data = {
        "due_date": due_date.isoformat() if due_date else None,
        "charge": lending_charge.total,
        "settlement": lending_charge.settlement,
    }
    _apply(locked, "ship", actor=_user(actor), note=(note or "").strip(), data=data)
    return _sync(req, locked)


@transaction.atomic
def mark_received(req: LendingRequest, *, actor=None) -> LendingRequest:
    """They confirmed they received our book (loan: shipped → on_loan). Event "mark_received"."""
    locked = _lock(req)
    _apply(locked, "mark_received", actor=_user(actor))
    return _sync(req, locked)


@transaction.atomic
def record_return(req: LendingRequest, *, actor) -> LendingRequest:
    """Our book is back (loan: shipped|on_loan → returned). Sets returned_at. A renewal still waiting
    for our answer is refused with it (no longer needed). Event "record_return"."""
    locked = _lock(req)
    _ensure_can(locked, "record_return")
    locked.returned_at = timezone.now()
    _close_pending_renewal(locked, actor=actor, note=_("Returned."))
    _apply(locked, "record_return", actor=_user(actor))
    return _sync(req, locked)


@transaction.atomic
def complete(req: LendingRequest, *, actor=None) -> LendingRequest:
    """Close it (copy: shipped → completed; loan: returned → completed). Sets completed_at, closed_at.
    Event "complete"."""
    locked = _lock(req)
    _ensure_can(locked, "complete")
    locked.completed_at = locked.closed_at = timezone.now()
    _apply(locked, "complete", actor=_user(actor))
    return _sync(req, locked)


# --- loans out with them: recall and renewals -------------------------------------------------


def _ensure_out_on_loan(req: LendingRequest, action: str) -> None:
    if not (req.is_loan and req.status in lifecycle.OUT_ON_LOAN_STATES):
        raise TransitionNotAllowed(NOT_OUT_ON_LOAN, code="not_out_on_loan", params={"number": req.number})


def _close_pending_renewal(req: LendingRequest, *, actor, note) -> Renewal | None:
    pending = Renewal.objects.select_for_update().filter(request=req, decision=Renewal.Decision.PENDING).first()
    if pending is not None:
        pending.decision = Renewal.Decision.REFUSED
        pending.decided_at = timezone.now()
        pending.decided_by = _user(actor)
        pending.note = str(note)[:300]
        pending.save()
    return pending


@transaction.atomic
def recall(req: LendingRequest, *, actor, new_due_date: datetime.date, note: str = "") -> LendingRequest:
    """We want our book back early (only while out on loan: shipped|on_loan). Sets recalled_at (the first
    recall's time) and brings the due date forward to `new_due_date` (not before today; before the
    current due date unless that has passed). A renewal waiting for our answer is refused with it.
    Status unchanged. Event "recall", data {"due_date": iso, "previous_due_date": iso|None,
    "renewal_refused": id|None}."""
    locked = _lock(req)
    _ensure_out_on_loan(locked, "recall")
    today = timezone.localdate()
    if (
        not isinstance(new_due_date, datetime.date)
        or isinstance(new_due_date, datetime.datetime)
        or new_due_date < today
    ):
        raise ServiceError(RECALL_DATE_PAST, code="recall_date_past", field="new_due_date")
    if new_due_date > today + bounds.DUE_DATE_AHEAD:
        raise ServiceError(DUE_DATE_TOO_FAR, code="due_date_too_far", field="new_due_date")
    previous = locked.due_date
    if previous is not None and previous >= today and new_due_date >= previous:
        raise ServiceError(
            RECALL_NOT_EARLIER, code="recall_not_earlier", field="new_due_date", params={"date": format_date(previous)}
        )
    locked.due_date = new_due_date
    locked.recalled_at = locked.recalled_at or timezone.now()
    locked.save()
    refused = _close_pending_renewal(locked, actor=actor, note=_("We recalled the book."))
    _event(
        locked,
        "recall",
        actor=_user(actor),
        note=(note or "").strip(),
        data={
            "due_date": new_due_date.isoformat(),
            "previous_due_date": previous.isoformat() if previous else None,
            "renewal_refused": refused.pk if refused else None,
        },
    )
    return _sync(req, locked)


@transaction.atomic
def ask_renewal(
    req: LendingRequest, *, wanted_until: datetime.date | None = None, note: str = "", actor=None
) -> Renewal:
    """They ask to keep our book longer (only while out on loan; not after a recall: 409). One pending
    request at a time: a second one raises TransitionNotAllowed (code "renewal_pending").
    `wanted_until`, when given, must be after the current due date. Status unchanged.
    Event "renewal_asked", data {"renewal": id, "wanted_until": iso|None}."""
    locked = _lock(req)
    _ensure_out_on_loan(locked, "ask_renewal")
    if locked.recalled_at is not None:
        raise TransitionNotAllowed(RECALLED_NO_RENEWAL, code="recalled", params={"number": locked.number})
    if wanted_until is not None and locked.due_date is not None and wanted_until <= locked.due_date:
        raise ServiceError(
            WANTED_NOT_LATER,
            code="wanted_not_later",
            field="wanted_until",
            params={"date": format_date(locked.due_date)},
        )
    note = (note or "").strip()[:300]
    try:
        with transaction.atomic():
            renewal = Renewal.objects.create(request=locked, wanted_until=wanted_until, note=note)
    except IntegrityError:
        raise TransitionNotAllowed(RENEWAL_PENDING, code="renewal_pending", params={"number": locked.number}) from None
    _event(
        locked,
        "renewal_asked",
        actor=_user(actor),
        note=note,
        data={"renewal": renewal.pk, "wanted_until": wanted_until.isoformat() if wanted_until else None},
    )
    return renewal


@transaction.atomic
def decide_renewal(
    renewal: Renewal, *, actor, grant: bool, new_due_date: datetime.date | None = None, note: str = ""
) -> Renewal:
    """Grant or refuse a pending renewal. Granting needs `new_due_date` later than the current due date
    (ServiceError field "new_due_date" otherwise); the loan's due_date moves and renewals += 1.
    Deciding one already decided, or for a loan no longer out, raises TransitionNotAllowed.
    Event "renewal_granted" / "renewal_refused", data {"renewal": id, "due_date": iso}."""
    locked = _lock(renewal.request)  # the request first, as ask_renewal and recall lock it
    renewal = Renewal.objects.select_for_update().get(pk=renewal.pk)
    if renewal.decision != Renewal.Decision.PENDING:
        raise TransitionNotAllowed(
            RENEWAL_DECIDED, code="renewal_decided", params={"decision": renewal.get_decision_display()}
        )
    _ensure_out_on_loan(locked, "decide_renewal")
    note = (note or "").strip()[:300]
    if grant:
        if new_due_date is None:
            raise ServiceError(NEW_DUE_NEEDED, code="new_due_date_required", field="new_due_date")
        if locked.due_date is not None and new_due_date <= locked.due_date:
            raise ServiceError(
                NEW_DUE_NOT_LATER,
                code="new_due_not_later",
                field="new_due_date",
                params={"date": format_date(locked.due_date)},
            )
        if new_due_date <= timezone.localdate():  # an overdue loan renewed to a day already past
            raise ServiceError(DUE_DATE_NOT_AFTER_TODAY, code="due_date_past", field="new_due_date")
        if new_due_date > timezone.localdate() + bounds.DUE_DATE_AHEAD:
            raise ServiceError(DUE_DATE_TOO_FAR, code="due_date_too_far", field="new_due_date")
        locked.due_date = new_due_date
        locked.renewals += 1
        locked.save()
        renewal.decision = Renewal.Decision.GRANTED
        renewal.new_due_date = new_due_date
    else:
        renewal.decision = Renewal.Decision.REFUSED
    renewal.decided_at = timezone.now()
    renewal.decided_by = _user(actor)
    renewal.note = note or renewal.note
    renewal.save()
    _event(
        locked,
        "renewal_granted" if grant else "renewal_refused",
        actor=_user(actor),
        note=note,
        data={"renewal": renewal.pk, "due_date": locked.due_date.isoformat() if locked.due_date else None},
    )
    renewal.request = locked
    return renewal


@transaction.atomic
def add_note(req: LendingRequest, *, actor, note: str) -> LendingEvent:
    """Record a note on the request without moving it. Event "note"."""
    note = _text(note, field="note", max_length=5000, required_message=NOTE_NEEDED)
    locked = _lock(req)
    return _event(locked, "note", actor=_user(actor), note=note)
