"""Sending and receiving ISO 18626 messages: the outbox (never lost, retried) and the endpoint's logic.

Sending: `queue(peer, message)` stores the built message (state queued) and, when the transaction
commits, a Celery task POSTs it (`deliver`). The peer's confirmation decides: messageStatus OK → sent;
ERROR → rejected, its errorData kept in `last_error`, never retried; no confirmation (timeout, refused
connection, HTTP 5xx, a body that is not a confirmation) → still queued, `next_attempt_at` pushed back
(ISO18626_RETRY_SECONDS × 2^(attempts-1)) for the beat sweep (`sweep`), until ISO18626_MAX_ATTEMPTS,
then failed. Messages to one peer about one request go in the order they were queued: one is not sent
while an older one for the same request is still waiting.

Signing: every POST carries `X-ISO18626-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes,
keyed with the peer's shared secret>`; `receive` checks it (constant-time) before anything else is
done with the message, unless the peer is marked "accept unsigned" and sent no signature header.

Receiving: `receive(raw, headers)` → (HTTP status, confirmation bytes), see its docstring.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Mapping

from iso18626 import xml
from iso18626.models import Message, Peer

SIGNATURE_HEADER = "X-ISO18626-Signature"
CONTENT_TYPE = "application/xml; charset=utf-8"


def sign(secret: str, body: bytes) -> str:
    """The value of the signature header for `body`: "sha256=<hex>"."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, value: str | None) -> bool:
    """Whether `value` (the received header, or None) is the signature of `body` (constant-time)."""
    return bool(value) and hmac.compare_digest(sign(secret, body), value.strip())


def header_for(
    peer: Peer,
    *,
    we_are: str,
    requesting_agency_request_id: str,
    supplying_agency_request_id: str = "",
    timestamp: datetime.datetime | None = None,
) -> xml.Header:
    """A header for a message to `peer`: `we_are` "requester" (a request or a requestingAgencyMessage:
    we are the requesting agency) or "supplier" (a supplyingAgencyMessage); our ISIL from the setting,
    theirs from the peer's library; the timestamp now unless given."""
    raise NotImplementedError


def queue(peer: Peer, message: xml.Message, *, dedupe_key: str = "") -> Message:
    """Store `message` for `peer` in the outbox and send it once the current transaction commits.

    The body is built (and validated) now, so a bad message fails in the caller's transaction. A non-empty
    `dedupe_key` makes queueing idempotent: queueing again with the same key returns the first row and
    sends nothing more. Raises ServiceError when the peer is inactive.
    """
    raise NotImplementedError


def deliver(message_id: int) -> str:
    """One attempt to POST the outgoing message `message_id`; returns its new state. Safe to call twice
    (a message no longer queued, or not yet due, or behind an older queued one, is left alone)."""
    raise NotImplementedError


def sweep(now: datetime.datetime | None = None) -> int:
    """Send again what is queued and due (oldest first, at most 100 a call). Returns how many tried."""
    raise NotImplementedError


def receive(raw: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
    """Handle one POSTed body; returns (HTTP status, confirmation XML).

    In order: the size cap (413); well-formed and an ISO18626Message (else an ERROR confirmation
    BadlyFormedMessage, HTTP 400); the sender — the header's requestingAgencyId for a request or a
    requestingAgencyMessage, its supplyingAgencyId for a supplyingAgencyMessage — must be an active
    peer and the signature good (else 403 with an empty body: nothing stored, nothing processed);
    valid against the schema (else an ERROR confirmation, HTTP 400); the recipient must be us (else
    ERROR UnrecognisedDataValue). Then idempotency: a message already received (same peer, type,
    requestingAgencyRequestId, timestamp and action/status/reason) gets the stored confirmation again
    and nothing else happens. Otherwise the message is stored and `dispatch.handle` runs in the same
    transaction; its `Refused` becomes an ERROR confirmation. Confirmations (requestConfirmation, …)
    are not accepted here: they come back in the HTTP response to our own POST.
    """
    raise NotImplementedError


def incoming_dedupe_key(peer: Peer, message: xml.Message) -> str:
    """The idempotency key of a received message (hex SHA-256)."""
    raise NotImplementedError


def code_of(message: xml.Message) -> str:
    """The action, status or reasonForMessage a message carries (what the admin list shows)."""
    if isinstance(message, xml.RequestingAgencyMessage):
        return message.action
    if isinstance(message, xml.SupplyingAgencyMessage):
        return message.status_info.status
    if isinstance(message, xml.Request):
        return message.service_info.request_type or "New"
    return ""
