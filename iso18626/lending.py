"""We are the supplier: ISO 18626 requests from a peer become lending requests, and what our desk does
to them goes back as supplyingAgencyMessages (DESIGN.md §11).

In: a `request` → `lending.services.receive(source="iso18626", their_reference=<their request id>)`
(a retry of the same request finds the same lending request and changes nothing); a
`requestingAgencyMessage` → Cancel: `services.cancel` when the lifecycle still allows it, else a
CancelResponse "N"; Renew: `services.ask_renewal` (refused → RenewResponse "N"); Received: the loan is
with them (`mark_received`; a copy is then complete); ShippedReturn: a note (the desk records the
return when the book is here); StatusRequest: a StatusRequestResponse with the current status;
Notification: a note. A message about a request id we do not know is answered ERROR
UnrecognisedDataValue.

Out: every `LendingEvent` written on a request that came by ISO 18626 is looked up in `EVENT_MESSAGES`
and, when it is one the borrower must hear of, queued to the peer (sent after the commit, one message
per event: the event's id is the outbox's de-duplication key).

`STATUSES` is the one table between the ISO 18626 status list and our two lifecycles: which status we
report for a lending request, and what the borrowing side (`iso18626.borrowing`) does when a lender
reports it.
"""

import datetime
import decimal
import logging
import re

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError
from ill.models import LenderCandidate, Request
from iso18626 import dispatch, transport, xml
from iso18626.models import Message, Peer
from lending import lifecycle, selectors, services
from lending.models import LendingEvent, LendingRequest

log = logging.getLogger(__name__)
S = LendingRequest.Status
R = LenderCandidate.UnfilledReason
LOAN, COPY = LendingRequest.Kind.LOAN, LendingRequest.Kind.COPY

# What the borrowing side does when a lender reports a status (iso18626.borrowing).
NOTE, SHIPPED, UNFILLED, RECALLED, CANCELLED = "note", "shipped", "unfilled", "recalled", "cancelled"

# ISO 18626 status -> (our lending states reported as it, for which kinds; what our borrowing side does)
STATUSES = {
    "RequestReceived": ({S.RECEIVED: (LOAN, COPY)}, NOTE),
    "ExpectToSupply": ({S.SEARCHING: (LOAN, COPY)}, NOTE),
    "WillSupply": ({S.WILL_SUPPLY: (LOAN, COPY), S.COPYING: (COPY,)}, NOTE),
    "Loaned": ({S.SHIPPED: (LOAN,), S.ON_LOAN: (LOAN,)}, SHIPPED),
    "Overdue": ({}, NOTE),  # derived: a loan with them past its due date
    "Recalled": ({}, RECALLED),  # derived: a loan with them we asked back
    "RetryPossible": ({}, NOTE),
    "Unfilled": ({S.UNFILLED: (LOAN, COPY)}, UNFILLED),
    "HoldReturn": ({}, NOTE),
    "ReleaseHoldReturn": ({}, NOTE),
    "CopyCompleted": ({S.SHIPPED: (COPY,), S.COMPLETED: (COPY,)}, SHIPPED),
    "LoanCompleted": ({S.RETURNED: (LOAN,), S.COMPLETED: (LOAN,)}, NOTE),
    "CompletedWithoutReturn": ({}, NOTE),
    "Cancelled": ({S.CANCELLED: (LOAN, COPY)}, CANCELLED),
}

# Our unfilled reasons (NACSIS-ILL's refusal reasons) as ISO 18626 reasonUnfilled values (an open
# list; these follow the names of the ISO 10161 / ISO 18626 data dictionary, in the CamelCase the
# 2021 schema's closed lists use).
REASON_UNFILLED_OUT = {
    R.NOT_HELD: "NotHeld",
    R.ON_LOAN: "InUseOnLoan",
    R.NOT_FOR_LOAN: "NonCirculating",
    R.MISSING: "NotOnShelf",
    R.AT_BINDERY: "AtBindery",
    R.FRAGILE: "PoorCondition",
    R.COPYRIGHT: "LacksCopyrightCompliance",
    R.CONDITIONS: "PolicyProblem",
    R.NO_ANSWER: "Other",
    R.OTHER: "Other",
}
# What other systems send, normalised (lower case, letters and digits only) -> our reason.
REASON_UNFILLED_IN = {
    **{re.sub(r"[^a-z0-9]", "", iso.lower()): ours for ours, iso in REASON_UNFILLED_OUT.items() if iso != "Other"},
    **{re.sub(r"[^a-z0-9]", "", ours): ours for ours in R.values},
    "notowned": R.NOT_HELD,
    "notheldbylibrary": R.NOT_HELD,
    "notfoundascited": R.NOT_HELD,
    "lacking": R.NOT_HELD,
    "onloan": R.ON_LOAN,
    "inuse": R.ON_LOAN,
    "onhold": R.ON_LOAN,
    "onreserve": R.NOT_FOR_LOAN,
    "notavailableforill": R.NOT_FOR_LOAN,
    "notavailable": R.NOT_FOR_LOAN,
    "notlendable": R.NOT_FOR_LOAN,
    "noncirculating": R.NOT_FOR_LOAN,
    "referenceonly": R.NOT_FOR_LOAN,
    "lost": R.MISSING,
    "missing": R.MISSING,
    "notonshelf": R.MISSING,
    "inprocess": R.AT_BINDERY,
    "atbindery": R.AT_BINDERY,
    "poorcondition": R.FRAGILE,
    "copyright": R.COPYRIGHT,
    "copyrightcompliance": R.COPYRIGHT,
    "lackscopyrightcompliance": R.COPYRIGHT,
    "costexceedslimit": R.CONDITIONS,
    "charges": R.CONDITIONS,
    "prepaymentrequired": R.CONDITIONS,
    "policyproblem": R.CONDITIONS,
    "policy": R.CONDITIONS,
    "other": R.OTHER,
}

# Our shipping methods as ISO 18626 deliveryMethod / sentVia (an open list) and back.
DELIVERY_OUT = {
    Request.Delivery.MAIL: "Mail",
    Request.Delivery.EXPRESS: "Express",
    Request.Delivery.FAX: "Electronic",
}
DELIVERY_IN = {
    "mail": Request.Delivery.MAIL,
    "post": Request.Delivery.MAIL,
    "courier": Request.Delivery.MAIL,
    "express": Request.Delivery.EXPRESS,
    "fax": Request.Delivery.FAX,
    "email": Request.Delivery.FAX,
    "electronic": Request.Delivery.FAX,
    "url": Request.Delivery.FAX,
    "ftp": Request.Delivery.FAX,
    "ariel": Request.Delivery.FAX,
    "odyssey": Request.Delivery.FAX,
}
# Our material types as publicationType (open list) and back.
PUBLICATION_TYPE_OUT = {
    Request.MaterialType.BOOK: "Book",
    Request.MaterialType.CHAPTER: "Chapter",
    Request.MaterialType.ARTICLE: "Article",
    Request.MaterialType.THESIS: "Thesis",
    Request.MaterialType.PROCEEDINGS: "ConferenceProc",
    Request.MaterialType.SERIAL: "Journal",
    Request.MaterialType.AUDIOVISUAL: "AudioBook",
    Request.MaterialType.OTHER: "Other",
}
PUBLICATION_TYPE_IN = {
    "book": Request.MaterialType.BOOK,
    "chapter": Request.MaterialType.CHAPTER,
    "article": Request.MaterialType.ARTICLE,
    "journal": Request.MaterialType.ARTICLE,
    "thesis": Request.MaterialType.THESIS,
    "dissertation": Request.MaterialType.THESIS,
    "conferenceproc": Request.MaterialType.PROCEEDINGS,
    "proceedings": Request.MaterialType.PROCEEDINGS,
    "newspaper": Request.MaterialType.SERIAL,
    "serial": Request.MaterialType.SERIAL,
    "audiobook": Request.MaterialType.AUDIOVISUAL,
    "video": Request.MaterialType.AUDIOVISUAL,
    "music": Request.MaterialType.AUDIOVISUAL,
}
# Copyright compliance we send for a copy (the patron's declaration under art. 31, with its purpose).
COPYRIGHT_COMPLIANCE = "JP-Art31"


def _key(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (value or "").lower())


def iso_status(req: LendingRequest, today: datetime.date | None = None) -> str:
    """The ISO 18626 status that says where our lending request is (for StatusRequest and answers)."""
    if req.kind == LOAN and req.status in lifecycle.OUT_ON_LOAN_STATES:
        if selectors.is_recalled(req):
            return "Recalled"
        if selectors.is_overdue(req, today):
            return "Overdue"
    for status, (states, _reaction) in STATUSES.items():
        if req.kind in states.get(req.status, ()):
            return status
    return "RequestReceived"


def reaction_to(status: str) -> str:
    """What the borrowing side does when a lender reports `status` (NOTE when unknown)."""
    return STATUSES.get(status, ({}, NOTE))[1]


def reason_unfilled_in(value: str) -> str:
    """Our LenderCandidate.UnfilledReason for a received reasonUnfilled (OTHER when not recognised)."""
    return REASON_UNFILLED_IN.get(_key(value), R.OTHER)


def end_of_day(day: datetime.date | None) -> datetime.datetime | None:
    """A date as the xs:dateTime we send: the end of that day in our time zone."""
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


def local_date(value) -> datetime.date | None:
    """The day an xs:dateTime we received falls on in our time zone."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def yen(costs) -> int | None:
    """Whole yen of a received Costs (None for another currency: we do not convert)."""
    if costs is None or (costs.currency or "JPY").upper() != "JPY":
        return None
    return costs.yen


# --- receiving a request ------------------------------------------------------------------------


def _kind_of(message: xml.Request) -> str:
    service = message.service_info.service_type
    if service == "Loan":
        return LOAN
    if service == "Copy":
        return COPY
    bib = message.bibliographic_info  # CopyOrLoan: a part of something is a copy, a whole a loan
    return COPY if (bib.title_of_component or bib.pages_requested) else LOAN


def _material_of(message: xml.Request, kind: str) -> str:
    publication = message.publication_info
    found = PUBLICATION_TYPE_IN.get(_key(publication.publication_type)) if publication else None
    if found:
        return found
    if kind == COPY and message.bibliographic_info.title_of_component:
        return Request.MaterialType.ARTICLE
    return Request.MaterialType.BOOK


def _purpose_of(message: xml.Request, kind: str) -> tuple[str, str]:
    """The copy's purpose (art. 31) from the copyright compliance they declared, and a note on it."""
    compliance = (message.service_info.copyright_compliance or "").strip()
    if kind != COPY:
        return Request.Purpose.RESEARCH, ""
    key = _key(compliance)
    if key.startswith(_key(COPYRIGHT_COMPLIANCE)):  # ours: "JP-Art31-<purpose>"
        purpose = key[len(_key(COPYRIGHT_COMPLIANCE)) :]
        return (purpose if purpose in Request.Purpose.values else Request.Purpose.OTHER), ""
    if compliance:
        note = _("Copyright compliance declared by the borrowing library: %(value)s.") % {"value": compliance[:100]}
        return Request.Purpose.RESEARCH, note
    return Request.Purpose.OTHER, _("The borrowing library declared no copyright compliance for this copy.")


def _digits(value: str, length: int) -> str:
    cleaned = re.sub(r"[^0-9Xx]", "", value or "").upper()
    return cleaned[:length]


def _fields_of(message: xml.Request, kind: str) -> dict:
    bib = message.bibliographic_info
    publication = message.publication_info or xml.PublicationInfo()
    service = message.service_info
    year = re.search(r"\d{4}", publication.publication_date or "")
    issn = _digits(bib.item_id("ISSN"), 8)
    purpose, purpose_note = _purpose_of(message, kind)
    delivery = next((d.delivery_method for d in message.requested_delivery_info if d.delivery_method), "")
    pages = re.fullmatch(r"\s*(\d{1,6})\s*", bib.estimated_no_pages or "")
    material = _material_of(message, kind)
    maximum = yen(message.billing_info.maximum_costs) if message.billing_info else None
    notes = [service.note, purpose_note]
    if message.billing_info and message.billing_info.maximum_costs and maximum is None:
        costs = message.billing_info.maximum_costs
        notes.append(
            _("Their maximum cost: %(amount)s %(currency)s.") % {"amount": costs.amount, "currency": costs.currency}
        )
    return {
        "material_type": material,
        "title": (bib.title or bib.title_of_component)[:500],
        "author": bib.author[:300],
        "publisher": publication.publisher[:200],
        "pub_year": int(year.group()) if year else None,
        "edition": bib.edition[:100],
        "isbn": _digits(bib.item_id("ISBN"), 13),
        "issn": f"{issn[:4]}-{issn[4:]}" if len(issn) == 8 else "",
        "ncid": bib.record_id("NCID")[:10],
        "doi": bib.item_id("DOI")[:200],
        "article_title": bib.title_of_component[:500],
        "article_author": bib.author_of_component[:300],
        "journal_title": bib.title[:300] if material == Request.MaterialType.ARTICLE else "",
        "volume": bib.volume[:50],
        "issue": bib.issue[:50],
        "pages": bib.pages_requested[:50],
        "page_count": int(pages.group(1)) if pages else None,
        "purpose": purpose,
        "delivery_method": DELIVERY_IN.get(_key(delivery), Request.Delivery.MAIL),
        "their_reference": message.header.requesting_agency_request_id[:100],
        "patron_reference": (message.patron_info.patron_id if message.patron_info else "")[:100],
        "need_by": local_date(service.need_before_date),
        "max_cost": maximum,
        "requester_note": "\n".join(n for n in notes if n),
    }


def handle_request(message: xml.Request, *, peer: Peer, stored: Message) -> None:
    """A peer asks us for a loan or a copy: record it as a lending request (once per their id)."""
    reference = message.header.requesting_agency_request_id.strip()
    if not reference:
        raise dispatch.Refused("UnrecognisedDataValue", "requestingAgencyRequestId is empty")
    kind = _kind_of(message)
    fields = _fields_of(message, kind)
    if not fields["title"]:
        raise dispatch.Refused("UnrecognisedDataValue", "bibliographicInfo/title is empty")
    try:
        services.receive(borrower=peer.library, kind=kind, source=LendingRequest.Source.ISO18626, **fields)
    except ServiceError as exc:
        where = f"{exc.field}: " if getattr(exc, "field", None) else ""
        raise dispatch.Refused("UnrecognisedDataValue", f"{where}{exc}"[:500]) from exc


# --- receiving their actions --------------------------------------------------------------------


def _their_request(message: xml.RequestingAgencyMessage, peer: Peer) -> LendingRequest:
    header = message.header
    req = (
        LendingRequest.objects.filter(borrower=peer.library, their_reference=header.requesting_agency_request_id)
        .order_by("-received_at")
        .first()
    )
    if req is None or (header.supplying_agency_request_id and header.supplying_agency_request_id != req.number):
        raise dispatch.Refused(
            "UnrecognisedDataValue", f"no request {header.requesting_agency_request_id} from you is known here"
        )
    return req


def handle_action(message: xml.RequestingAgencyMessage, *, peer: Peer, stored: Message) -> None:
    """The borrowing library's Cancel, Renew, Received, ShippedReturn, StatusRequest or Notification.
    What our services refuse (a note they find too long, a move the request's state no longer allows
    because another message moved it meanwhile) is answered ERROR, never a 500 the peer would retry."""
    req = _their_request(message, peer)
    try:
        _act(req, peer, message.action, (message.note or "")[:NOTE_LENGTH])
    except ServiceError as exc:
        raise dispatch.Refused("UnrecognisedDataValue", f"{message.action}: {exc}"[:500]) from exc


SENT_BACK = gettext_lazy("They sent our book back (ISO 18626). Record the return when it is here.")
NOTE_LENGTH = 2000  # of their note, kept with ours (the lending history takes up to 5,000 characters)


def _act(req: LendingRequest, peer: Peer, action: str, note: str) -> None:
    if action == "Cancel":
        if lifecycle.LENDING.can("cancel", req.status, req.kind):
            services.cancel(req, note=note)  # the event answers CancelResponse "Y"
        else:
            send(req, peer, "CancelResponse", answer=False, note=_("It has already been sent."))
    elif action == "Renew":
        try:
            services.ask_renewal(req, note=note[:300])  # the desk decides; its event answers RenewResponse
        except ServiceError as exc:
            send(req, peer, "RenewResponse", answer=False, note=str(exc))
    elif action == "Received":
        if req.kind == LOAN and lifecycle.LENDING.can("mark_received", req.status, req.kind):
            services.mark_received(req)
        elif req.kind == COPY and lifecycle.LENDING.can("complete", req.status, req.kind):
            services.complete(req)
    elif action == "ShippedReturn":
        services.add_note(req, actor=None, note=" ".join(filter(None, [str(SENT_BACK), note])))
    elif action == "StatusRequest":
        send(req, peer, "StatusRequestResponse")
    elif action == "Notification":
        services.add_note(req, actor=None, note=_("Message from them (ISO 18626): %(note)s") % {"note": note})
    else:
        raise dispatch.Refused("UnsupportedActionType", f"{action} is not supported here")


# --- telling them what we did -------------------------------------------------------------------


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _delivery_info(req: LendingRequest, event: LendingEvent | None) -> xml.DeliveryInfo:
    data = event.data if event is not None else {}
    charge = data.get("charge")
    return xml.DeliveryInfo(
        date_sent=req.shipped_at or timezone.now(),
        item_ids=[req.call_number] if req.call_number else [],
        delivery_method=DELIVERY_OUT.get(req.shipping_method, ""),
        service_type="Loan" if req.kind == LOAN else "Copy",
        delivery_costs=xml.Costs(decimal.Decimal(int(charge))) if charge is not None else None,
    )


def supplying_message(
    req: LendingRequest,
    peer: Peer,
    reason: str,
    *,
    status: str = "",
    answer: bool | None = None,
    note: str = "",
    reason_unfilled: str = "",
    due_date: datetime.date | None = None,
    delivery: xml.DeliveryInfo | None = None,
) -> xml.SupplyingAgencyMessage:
    """A supplyingAgencyMessage about `req` to `peer` (status: the request's own unless given)."""
    header = transport.header_for(
        peer,
        we_are="supplier",
        requesting_agency_request_id=req.their_reference,
        supplying_agency_request_id=req.number,
    )
    if due_date is None and req.kind == LOAN and req.status in lifecycle.OUT_ON_LOAN_STATES:
        due_date = req.due_date
    return xml.SupplyingAgencyMessage(
        header=header,
        message_info=xml.MessageInfo(
            reason_for_message=reason, answer_yes_no=answer, note=note[:2000], reason_unfilled=reason_unfilled
        ),
        status_info=xml.StatusInfo(
            status=status or iso_status(req),
            last_change=req.updated_at or timezone.now(),
            due_date=end_of_day(due_date),
        ),
        delivery_info=delivery,
    )


def send(req: LendingRequest, peer: Peer, reason: str, *, dedupe_key: str = "", **kwargs) -> Message:
    """Queue a supplyingAgencyMessage (sent when the transaction commits)."""
    return transport.queue(peer, supplying_message(req, peer, reason, **kwargs), dedupe_key=dedupe_key)


def _first_or_change(event: LendingEvent) -> str:
    """RequestResponse for our first answer to their request (a move out of received / searching),
    StatusChange for what follows."""
    return "RequestResponse" if event.from_status in (S.RECEIVED, S.SEARCHING) else "StatusChange"


def _will_supply(req, peer, event):
    return _first_or_change(event), {"status": "WillSupply", "note": event.note}


def _unfilled(req, peer, event):
    reason = req.unfilled_reason or (event.data or {}).get("reason") or R.OTHER
    note = req.unfilled_note or event.note
    return _first_or_change(event), {
        "status": "Unfilled",
        "reason_unfilled": REASON_UNFILLED_OUT.get(reason, "Other"),
        "note": note,
    }


def _shipped(req, peer, event):
    data = event.data or {}
    status = "Loaned" if req.kind == LOAN else "CopyCompleted"
    return _first_or_change(event), {
        "status": status,
        "note": event.note,
        "due_date": _date(data.get("due_date")) or (req.due_date if req.kind == LOAN else None),
        "delivery": _delivery_info(req, event),
    }


def _recalled(req, peer, event):
    return "StatusChange", {
        "status": "Recalled",
        "note": event.note,
        "due_date": _date((event.data or {}).get("due_date")),
    }


def _completed(req, peer, event):
    if req.kind != LOAN:
        return None  # a copy's CopyCompleted went with the shipment
    return "StatusChange", {"status": "LoanCompleted", "note": event.note}


def _renewal(granted: bool):
    def answer(req, peer, event):
        due = _date((event.data or {}).get("due_date")) or req.due_date
        return "RenewResponse", {"answer": granted, "note": event.note, "due_date": due}

    return answer


def _cancelled(req, peer, event):
    return "CancelResponse", {"status": "Cancelled", "answer": True, "note": event.note}


# LendingEvent.action -> what the borrowing library is told (reasonForMessage, fields), or nothing.
EVENT_MESSAGES = {
    "will_supply": _will_supply,
    "mark_unfilled": _unfilled,
    "ship": _shipped,
    "recall": _recalled,
    "complete": _completed,
    "renewal_granted": _renewal(True),
    "renewal_refused": _renewal(False),
    "cancel": _cancelled,
}


def peer_of(req: LendingRequest) -> Peer | None:
    return Peer.objects.filter(library_id=req.borrower_id, active=True).select_related("library").first()


def on_lending_event(sender, instance: LendingEvent, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of LendingEvent: tell the borrowing library, when it asked by ISO 18626."""
    if not created or raw:
        return
    build = EVENT_MESSAGES.get(instance.action)
    if build is None:
        return
    req = instance.request
    if req.source != LendingRequest.Source.ISO18626 or not req.their_reference:
        return
    peer = peer_of(req)
    if peer is None:
        log.warning("lending request %s came by ISO 18626 but %s is no active peer: not answered", req, req.borrower)
        return
    found = build(req, peer, instance)
    if found is None:
        return
    reason, fields = found
    send(req, peer, reason, dedupe_key=f"lending-event:{instance.pk}", **fields)


def tell_overdue(today: datetime.date | None = None) -> int:
    """Tell each borrowing library that asked by ISO 18626 which of our loans are overdue (an Overdue
    StatusChange, once per loan and due date: a renewal's new date, once passed, is told again).
    Returns how many were queued; run every morning by the beat (`tell_overdue_task`)."""
    today = today or timezone.localdate()
    loans = (
        LendingRequest.objects.filter(selectors.overdue_q(today), source=LendingRequest.Source.ISO18626)
        .exclude(their_reference="")
        .order_by("due_date", "pk")
    )
    queued = 0
    for req in loans.iterator():
        peer = peer_of(req)
        if peer is None:
            continue
        key = f"overdue:{req.pk}:{req.due_date.isoformat()}"
        if Message.objects.filter(direction=Message.Direction.OUT, dedupe_key=key).exists():
            continue
        with transaction.atomic():
            send(req, peer, "StatusChange", status="Overdue", dedupe_key=key)
        queued += 1
    return queued


@shared_task(name="iso18626.lending.tell_overdue_task", ignore_result=True)
def tell_overdue_task():
    return tell_overdue()
