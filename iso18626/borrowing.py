"""We are the requester: a borrowing request ordered from a lender that is an ISO 18626 peer is ordered
by message, and the lender's answers move it (DESIGN.md §4, issue 14).

Nothing here changes ill's rules: the desk orders, records arrivals, sends back and forwards
extensions as always (`ill.services`); this module listens to the history those services write
(post_save of `ill.RequestEvent`) and, for a request whose current lender has an active `Peer`, queues
the matching message:

    order                 → request (our request number is the requestingAgencyRequestId)
    record_arrival        → requestingAgencyMessage Received
    send_back             → ShippedReturn (also close_not_collected of a loan: the book goes back)
    extension_forwarded   → Renew

The lender's supplyingAgencyMessages are handled by `handle_supplier_message`: WillSupply and the like
become a note in the request's history (for staff); Loaned / CopyCompleted a note "shipped by the
lender" with the due date and the charge they announced (the desk records the arrival when it is
here); Unfilled → `ill.services.mark_unfilled` with their reason mapped, which orders the next
waiting candidate as staff would (by message again if that one is a peer); Recalled → the lender's
due date brought forward and a note; RenewResponse → `grant_extension` / `refuse_extension` of the
forwarded extension. A message about a request we do not know (or did not order from that peer) is
answered ERROR UnrecognisedDataValue.

Privacy: the patron's name never leaves; the patronId sent is a pseudonym (a keyed hash of the
patron's id, the same for every request of that patron, so the lender can apply "one copy per person").
"""

import datetime
import decimal
import hashlib
import hmac
import logging

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.text import format_date, format_yen
from ill import selectors as ill_selectors
from ill.models import LenderCandidate, Request, RequestEvent
from ill.services import extensions, ordering
from ill.services.transitions import add_note
from iso18626 import dispatch, transport, xml
from iso18626 import lending as table
from iso18626.models import Message, Peer

log = logging.getLogger(__name__)
S = Request.Status
NOTE_ACTION = "iso18626"
# A lender's news is only acted on while the request is with that lender.
WITH_LENDER = (S.ORDERED, S.ARRIVED, S.ON_LOAN, S.RETURNED)


def patron_pseudonym(request: Request) -> str:
    """The patronId we send: a keyed one-way hash of the patron's id (not their name or number)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"iso18626-patron:{request.patron_id}".encode(), hashlib.sha256)
    return "P" + digest.hexdigest()[:20]


def peer_for(lender_id) -> Peer | None:
    if not lender_id:
        return None
    return Peer.objects.filter(library_id=lender_id, active=True).select_related("library").first()


# --- what we send --------------------------------------------------------------------------------


def request_message(request: Request, peer: Peer) -> xml.Request:
    """The ISO 18626 `request` for one of our borrowing requests (what its citation and wishes say)."""
    header = transport.header_for(peer, we_are="requester", requesting_agency_request_id=request.number)
    item_ids = [
        (code, value) for code, value in (("ISBN", request.isbn), ("ISSN", request.issn), ("DOI", request.doi)) if value
    ]
    bib = xml.BibliographicInfo(
        title=request.journal_title or request.title if request.is_copy else request.title,
        author=request.author,
        edition=request.edition,
        title_of_component=request.article_title,
        author_of_component=request.article_author,
        volume=request.volume,
        issue=request.issue,
        pages_requested=request.pages,
        estimated_no_pages=str(request.page_count) if request.page_count else "",
        item_ids=item_ids,
        record_ids=[("NCID", request.ncid)] if request.ncid else [],
    )
    service = xml.ServiceInfo(
        service_type="Copy" if request.is_copy else "Loan",
        request_type="New",
        request_sub_types=["PatronRequest"],
        need_before_date=table.end_of_day(request.not_needed_after),
        copyright_compliance=f"{table.COPYRIGHT_COMPLIANCE}-{request.purpose.capitalize()}" if request.is_copy else "",
        preferred_edition="AnyEdition" if request.accept_other_edition else "ThisEdition",
    )
    publication = xml.PublicationInfo(
        publisher=request.publisher,
        publication_type=table.PUBLICATION_TYPE_OUT.get(request.material_type, ""),
        publication_date=str(request.pub_year) if request.pub_year else "",
    )
    delivery = table.DELIVERY_OUT.get(request.shipping_method or request.delivery_method, "")
    return xml.Request(
        header=header,
        bibliographic_info=bib,
        service_info=service,
        publication_info=publication,
        requested_delivery_info=[xml.RequestedDeliveryInfo(delivery_method=delivery)] if delivery else [],
        requesting_agency_info=xml.RequestingAgencyInfo(name=settings.LIBRARY_NAME) if settings.LIBRARY_NAME else None,
        patron_info=xml.PatronInfo(patron_id=patron_pseudonym(request)),
        billing_info=(
            xml.BillingInfo(maximum_costs=xml.Costs(decimal.Decimal(request.max_cost)))
            if request.max_cost is not None
            else None
        ),
    )


def action_message(request: Request, peer: Peer, action: str, note: str = "") -> xml.RequestingAgencyMessage:
    header = transport.header_for(
        peer,
        we_are="requester",
        requesting_agency_request_id=request.number,
        supplying_agency_request_id=_their_id(request, peer),
    )
    return xml.RequestingAgencyMessage(header=header, action=action, note=note[:2000])


def _their_id(request: Request, peer: Peer) -> str:
    """The peer's own id of our request, as its messages gave it ("" before it sent any: a lender's
    reference typed by staff at ordering is not sent as theirs)."""
    return (
        Message.objects.filter(direction=Message.Direction.IN, peer=peer, requesting_agency_request_id=request.number)
        .exclude(supplying_agency_request_id="")
        .order_by("-pk")
        .values_list("supplying_agency_request_id", flat=True)
        .first()
        or ""
    )


def _candidate(request: Request, peer: Peer) -> LenderCandidate | None:
    return (
        request.candidates.filter(lender_id=peer.library_id)
        .exclude(state=LenderCandidate.State.WAITING)
        .order_by("-position")
        .first()
    )


# RequestEvent.action -> the requestingAgencyMessage action it sends (loans only where it says so).
EVENT_ACTIONS = {
    "record_arrival": ("Received", False),
    "send_back": ("ShippedReturn", True),
    "close_not_collected": ("ShippedReturn", True),
    "extension_forwarded": ("Renew", True),
}


def on_request_event(sender, instance: RequestEvent, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of RequestEvent: order from a peer by message, and tell it what our desk did."""
    if not created or raw:
        return
    if instance.action == "order":
        peer = peer_for((instance.data or {}).get("lender"))
        if peer is not None:
            request = Request.objects.get(pk=instance.request_id)
            transport.queue(peer, request_message(request, peer), dedupe_key=f"request-event:{instance.pk}")
        return
    found = EVENT_ACTIONS.get(instance.action)
    if found is None:
        return
    action, loans_only = found
    request = instance.request  # the row the service just moved (no query)
    if loans_only and not request.is_loan:
        return
    peer = peer_for(request.lender_id)  # the one query every such event costs
    if peer is None or _candidate(request, peer) is None:
        return
    note = instance.note if action == "Renew" else ""
    if action == "Renew":
        extension = ill_selectors.open_extension_of(request)
        note = note or (extension.reason if extension is not None else "")
    transport.queue(peer, action_message(request, peer, action, note), dedupe_key=f"request-event:{instance.pk}")


# --- what the lender tells us --------------------------------------------------------------------


def _note(request: Request, text: str, data: dict) -> None:
    add_note(request, actor=None, action=NOTE_ACTION, note=text, data={"iso18626": data})


def _summary(message: xml.SupplyingAgencyMessage) -> dict:
    status = message.status_info
    delivery = message.delivery_info
    costs = table.yen(delivery.delivery_costs) if delivery and delivery.delivery_costs else None
    return {
        "status": status.status,
        "reason": message.message_info.reason_for_message,
        "due_date": (d.isoformat() if (d := table.local_date(status.due_date)) else None),
        "delivery_costs": costs,
        "reason_unfilled": message.message_info.reason_unfilled,
        "answer": message.message_info.answer_yes_no,
        "supplying_agency_request_id": message.header.supplying_agency_request_id,
        "offered_costs": [
            c.yen for c in (message.retry_info.offered_costs if message.retry_info else []) if table.yen(c) is not None
        ],
    }


def _lender_says(peer: Peer, message: xml.SupplyingAgencyMessage) -> str:
    text = _("%(lender)s (ISO 18626): %(status)s.") % {"lender": peer.library, "status": message.status_info.status}
    parts = [text, message.message_info.note]
    offered = _summary(message)["offered_costs"]
    if offered:  # e.g. RetryPossible: they would supply at this price (staff decide and order again)
        parts.append(_("They offer it for %(amount)s.") % {"amount": ", ".join(format_yen(c) for c in offered)})
    return " ".join(filter(None, parts))


def _shipped(request, peer, message, summary):
    if request.status != S.ORDERED:  # already here: a repeated or late status, only noted
        _note(request, _lender_says(peer, message), summary)
        return
    parts = [_("Shipped by the lender: record the arrival when it is here.")]
    if summary["due_date"]:
        parts.append(_("Due back at the lender on %(date)s.") % {"date": summary["due_date"]})
    if summary["delivery_costs"] is not None:
        parts.append(_("Their charge: %(amount)s.") % {"amount": format_yen(summary["delivery_costs"])})
    _note(request, " ".join([_lender_says(peer, message), *parts]), summary)


def _unfilled(request, peer, message, summary):
    reason = table.reason_unfilled_in(message.message_info.reason_unfilled)
    note = _lender_says(peer, message)
    if message.message_info.reason_unfilled:
        note = f"{note} ({message.message_info.reason_unfilled})"
    if request.status != S.ORDERED or request.lender_id != peer.library_id:
        _note(request, note, summary)
        return
    try:
        with transaction.atomic():
            ordering.mark_unfilled(request, actor=None, reason=reason, note=note[:300])
    except ServiceError as exc:
        _note(request, f"{note} {exc}", summary)


def _recalled(request, peer, message, summary):
    due = table.local_date(message.status_info.due_date)
    note = _lender_says(peer, message)
    if due is not None and request.status in (S.ARRIVED, S.ON_LOAN, S.RETURNED):
        note = f"{note} " + _("Recalled: due back at the lender on %(date)s; ask the patron to return it.") % {
            "date": format_date(due)
        }
        # ill's service moves the dates (only ever forward) and tells a patron who has the book.
        extensions.apply_recall(request, lender_due_date=due, note=note[:300])
    _note(request, note, summary)


def _renew_response(request, peer, message, summary):
    extension = ill_selectors.open_extension_of(request)
    note = _lender_says(peer, message)
    if extension is None or extension.state != extension.State.FORWARDED:
        _note(request, note, summary)
        return
    due = table.local_date(message.status_info.due_date)
    try:
        with transaction.atomic():
            if message.message_info.answer_yes_no and due is not None:
                extensions.grant_extension(extension, actor=None, new_lender_due_date=due, note=note[:300])
            else:
                extensions.refuse_extension(extension, actor=None, note=note[:300])
    except ServiceError as exc:
        _note(request, f"{note} {exc}", summary)


REACTIONS = {
    table.SHIPPED: _shipped,
    table.UNFILLED: _unfilled,
    table.RECALLED: _recalled,
}


def _our_request(message: xml.SupplyingAgencyMessage, peer: Peer) -> tuple[Request, LenderCandidate]:
    number = message.header.requesting_agency_request_id
    request = Request.objects.filter(number=number).first()
    candidate = _candidate(request, peer) if request is not None else None
    if candidate is None:
        raise dispatch.Refused("UnrecognisedDataValue", f"no request {number} of ours was sent to you")
    return request, candidate


def handle_supplier_message(message: xml.SupplyingAgencyMessage, *, peer: Peer, stored: Message) -> None:
    """A lender's answer or news about one of our requests."""
    request, candidate = _our_request(message, peer)
    their_id = message.header.supplying_agency_request_id
    if their_id and candidate.lender_reference != their_id:
        candidate.lender_reference = their_id[:100]
        candidate.save(update_fields=["lender_reference"])
        if request.lender_id == peer.library_id and not request.lender_reference:
            Request.objects.filter(pk=request.pk).update(lender_reference=their_id[:100])
    summary = _summary(message)
    reason = message.message_info.reason_for_message
    current = request.lender_id == peer.library_id and request.status in WITH_LENDER
    if reason == "RenewResponse" and current:
        _renew_response(request, peer, message, summary)
        return
    reaction = REACTIONS.get(table.reaction_to(message.status_info.status))
    if reaction is None or not current:
        _note(request, _lender_says(peer, message), summary)
        return
    reaction(request, peer, message, summary)


def announced(request: Request) -> dict:
    """What the current lender last announced by ISO 18626 (due date, charge), for the desk: {} if nothing."""
    for event in request.events.filter(action=NOTE_ACTION).order_by("-created_at", "-id"):
        data = (event.data or {}).get("iso18626") or {}
        if data.get("status") in ("Loaned", "CopyCompleted"):
            return data
    return {}


def due_date_announced(request: Request) -> datetime.date | None:
    value = announced(request).get("due_date")
    return datetime.date.fromisoformat(value) if value else None
