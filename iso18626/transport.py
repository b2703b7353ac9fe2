"""Sending and receiving ISO 18626 messages: the outbox (never lost, retried) and the endpoint's logic.

Sending: `queue(peer, message)` stores the built message (state queued) and, when the transaction
commits, a Celery task POSTs it (`deliver`). The peer's confirmation decides: messageStatus OK → sent;
ERROR → rejected, its errorData kept in `last_error`, never retried; no confirmation (timeout, refused
connection, HTTP 5xx, a body that is not a confirmation) → still queued, `next_attempt_at` pushed back
(ISO18626_RETRY_SECONDS × 2^(attempts-1), at most a day) for the beat sweep (`sweep`), until
ISO18626_MAX_ATTEMPTS, then failed. Messages to one peer about one request go in the order they were
queued: one is not sent while an older one for the same request is still waiting.

Signing: every POST carries `X-ISO18626-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes,
keyed with the peer's shared secret>`; `receive` checks it (constant-time) before anything else is
done with the message, unless the peer is marked "accept unsigned" and sent no signature header.

Receiving: `receive(raw, headers)` → (HTTP status, confirmation bytes), see its docstring.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from iso18626 import dispatch, xml
from iso18626.models import Message, Peer

log = logging.getLogger(__name__)

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
    if we_are not in ("requester", "supplier"):
        raise ValueError(f"we_are must be 'requester' or 'supplier', not {we_are!r}")
    ours, theirs = xml.AgencyId(our_isil()), xml.AgencyId(peer.isil)
    requester, supplier = (ours, theirs) if we_are == "requester" else (theirs, ours)
    return xml.Header(
        requesting_agency_id=requester,
        supplying_agency_id=supplier,
        timestamp=timestamp or xml.now(),
        requesting_agency_request_id=requesting_agency_request_id,
        supplying_agency_request_id=supplying_agency_request_id,
    )


def our_isil() -> str:
    """Our ISIL (the setting ISO18626_OUR_ISIL); ServiceError when it is not set."""
    isil = (settings.ISO18626_OUR_ISIL or "").strip()
    if not isil:
        raise ServiceError(_("ISO18626_OUR_ISIL is not set: this installation has no agency id."), code="no_isil")
    return isil


def queue(peer: Peer, message: xml.Message, *, dedupe_key: str = "") -> Message:
    """Store `message` for `peer` in the outbox and send it once the current transaction commits.

    The body is built (and validated) now, so a bad message fails in the caller's transaction. A non-empty
    `dedupe_key` makes queueing idempotent: queueing again with the same key returns the first row and
    sends nothing more. Raises ServiceError when the peer is inactive.
    """
    if not peer.active:
        raise ServiceError(_("%(peer)s is not an active ISO 18626 peer."), code="peer_inactive", params={"peer": peer})
    if dedupe_key:
        existing = Message.objects.filter(direction=Message.Direction.OUT, dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    body = xml.build(message)
    header = message.header
    fields = dict(
        direction=Message.Direction.OUT,
        peer=peer,
        message_type=message.message_type,
        code=code_of(message)[:40],
        requesting_agency_request_id=header.requesting_agency_request_id[:100],  # the columns' lengths: for
        supplying_agency_request_id=header.supplying_agency_request_id[:100],  # finding and showing only
        timestamp=header.timestamp,
        body=body.decode("utf-8"),
        state=Message.State.QUEUED,
        next_attempt_at=timezone.now(),
        dedupe_key=dedupe_key,
    )
    try:
        with transaction.atomic():
            row = Message.objects.create(**fields)
    except IntegrityError:
        if not dedupe_key:
            raise
        return Message.objects.get(direction=Message.Direction.OUT, dedupe_key=dedupe_key)
    transaction.on_commit(lambda: enqueue(row.pk))
    return row


def backoff(attempts: int) -> datetime.timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling from ISO18626_RETRY_SECONDS,
    at most a day."""
    seconds = settings.ISO18626_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, 86400))


def _claim_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.ISO18626_TIMEOUT + 60)


def deliver(message_id: int) -> str:
    """One attempt to POST the outgoing message `message_id`; returns its new state. Safe to call twice
    (a message no longer queued, or not yet due, or behind an older queued one, is left alone)."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            Message.objects.select_for_update(skip_locked=True)
            .select_related("peer", "peer__library")
            .filter(pk=message_id, direction=Message.Direction.OUT)
            .first()
        )
        if row is None:
            return "locked"
        if row.state != Message.State.QUEUED or (row.next_attempt_at and row.next_attempt_at > now):
            return row.state
        if _older_waiting(row):
            return row.state
        if not row.peer.active:
            row.last_error = "the peer is not active"
            row.next_attempt_at = now + backoff(row.attempts + 1)
            row.save(update_fields=["last_error", "next_attempt_at"])
            return row.state
        # Claim it: another worker (or the sweep) leaves it alone while the POST is under way.
        row.attempts += 1
        row.next_attempt_at = now + _claim_window()
        row.save(update_fields=["attempts", "next_attempt_at"])
    confirmation, error = _post(row)
    return _record_outcome(row, confirmation, error)


def _older_waiting(row: Message) -> bool:
    """Whether an older message to the same peer about the same request is still waiting."""
    older = Message.objects.filter(
        direction=Message.Direction.OUT, peer_id=row.peer_id, state=Message.State.QUEUED, pk__lt=row.pk
    )
    if row.requesting_agency_request_id:
        older = older.filter(requesting_agency_request_id=row.requesting_agency_request_id)
    return older.exists()


def _post(row: Message) -> tuple[xml.Confirmation | None, str]:
    """POST the body; (the peer's confirmation, "") or (None, what went wrong)."""
    url = row.peer.endpoint_url
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return None, f"the endpoint URL is not http(s): {url}"
    body = row.body.encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": CONTENT_TYPE,
            "Accept": "application/xml, text/xml",
            SIGNATURE_HEADER: sign(row.peer.shared_secret, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.ISO18626_TIMEOUT) as response:
            status, answer = response.status, response.read(xml.MAX_BODY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read(xml.MAX_BODY_BYTES + 1)
    except (OSError, ValueError) as exc:  # refused, timed out, DNS, TLS, a malformed URL
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    try:
        confirmation = xml.parse(answer)
    except xml.BadMessage as exc:
        return None, f"HTTP {status}, no confirmation: {exc}"[:1000]
    expected = xml.CONFIRMATION_OF[row.message_type]
    if not isinstance(confirmation, expected):
        return None, f"HTTP {status}, answered with a {confirmation.message_type}, not a {expected.message_type}"
    return confirmation, ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A peer's endpoint answers itself: a redirect is reported as an error, never followed (a signed
    body must not be replayed to wherever a redirect points)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _record_outcome(row: Message, confirmation: xml.Confirmation | None, error: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        current = Message.objects.select_for_update().get(pk=row.pk)
        if current.state != Message.State.QUEUED or current.attempts != row.attempts:
            return current.state  # someone else has dealt with it meanwhile
        if confirmation is not None:
            current.confirmation = xml.build(confirmation).decode("utf-8")
            current.done_at = now
            current.next_attempt_at = None
            if confirmation.ok:
                current.state = Message.State.SENT
                current.last_error = ""
            else:
                current.state = Message.State.REJECTED
                current.last_error = "; ".join(f"{e.error_type}: {e.error_value}" for e in confirmation.errors)
                current.last_error = current.last_error or "ERROR without errorData"
                log.warning(
                    "ISO 18626 %s %s rejected by %s: %s",
                    current.message_type,
                    current.pk,
                    current.peer_id,
                    current.last_error,
                )
        else:
            current.last_error = error
            if current.attempts >= settings.ISO18626_MAX_ATTEMPTS:
                current.state = Message.State.FAILED
                current.next_attempt_at = None
                current.done_at = now
                log.error(
                    "ISO 18626 message %s to peer %s failed after %s attempts: %s",
                    current.pk,
                    current.peer_id,
                    current.attempts,
                    error,
                )
            else:
                current.next_attempt_at = now + backoff(current.attempts)
                log.warning(
                    "ISO 18626 message %s to peer %s not delivered (attempt %s): %s",
                    current.pk,
                    current.peer_id,
                    current.attempts,
                    error,
                )
        current.save(update_fields=["state", "confirmation", "done_at", "next_attempt_at", "last_error"])
        state = current.state
    if state != Message.State.QUEUED:
        _send_next(current)
    return state


def _send_next(row: Message) -> None:
    """The next message that waited behind `row` (same peer, same request) goes now."""
    following = Message.objects.filter(
        direction=Message.Direction.OUT,
        peer_id=row.peer_id,
        state=Message.State.QUEUED,
        requesting_agency_request_id=row.requesting_agency_request_id,
        pk__gt=row.pk,
    ).order_by("pk")
    nxt = following.values_list("pk", flat=True).first()
    if nxt is not None:
        enqueue(nxt)


# The Celery tasks live here (named as if in iso18626.tasks, which re-exports them) so that this module
# can queue them without an import circle.


@shared_task(name="iso18626.tasks.deliver_task", ignore_result=True, acks_late=True)
def deliver_task(message_id: int):
    return deliver(message_id)


@shared_task(name="iso18626.tasks.sweep_task", ignore_result=True)
def sweep_task():
    return sweep()


def enqueue(message_id: int) -> bool:
    """Hand one message to a worker (run at once when Celery is eager, as under `make run`); False when
    the broker is down: the row stays queued and the sweep sends it later."""
    try:
        deliver_task.delay(message_id)
    except Exception:  # noqa: BLE001 - broker down: the sweep sends it later
        log.warning("could not queue ISO 18626 message %s; the sweep will send it", message_id, exc_info=True)
        return False
    return True


SWEEP_BATCH = 100


def sweep(now: datetime.datetime | None = None) -> int:
    """Send again what is queued and due (oldest first, at most SWEEP_BATCH a call). Returns how many tried."""
    now = now or timezone.now()
    due = list(
        Message.objects.filter(state=Message.State.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in due:
        enqueue(pk)
    return len(due)


def health() -> dict:
    """The outbox at a glance (for a desk health line): how many wait, how many failed or were rejected."""
    counts = {state: 0 for state in (Message.State.QUEUED, Message.State.FAILED, Message.State.REJECTED)}
    rows = (
        Message.objects.filter(direction=Message.Direction.OUT, state__in=list(counts))
        .values_list("state")
        .annotate(n=models.Count("pk"))
    )
    for state, n in rows:
        counts[state] = n
    oldest = (
        Message.objects.filter(state=Message.State.QUEUED).order_by("created_at").values_list("created_at", flat=True)
    ).first()
    return {
        "queued": counts[Message.State.QUEUED],
        "failed": counts[Message.State.FAILED],
        "rejected": counts[Message.State.REJECTED],
        "oldest_queued": oldest,
        "ok": counts[Message.State.FAILED] == 0,
    }


# --- receiving -------------------------------------------------------------------------------------


def receive(raw: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
    """Handle one POSTed body; returns (HTTP status, confirmation XML).

    In order: the size cap (413); well-formed and an ISO18626Message (else an ERROR confirmation
    BadlyFormedMessage, HTTP 400); the sender — the header's requestingAgencyId for a request or a
    requestingAgencyMessage, its supplyingAgencyId for a supplyingAgencyMessage — must be an active
    peer and the signature good (else 403 with an empty body: nothing stored, nothing processed);
    valid against the schema (else an ERROR confirmation, HTTP 400, kept as a rejected message); the
    recipient must be us (else ERROR UnrecognisedDataValue). Then idempotency: a message already
    received (same peer, type, requestingAgencyRequestId, timestamp and action/status/reason) gets the
    stored confirmation again and nothing else happens. Otherwise the message is stored and
    `dispatch.handle` runs in the same transaction; its `Refused` becomes an ERROR confirmation (HTTP
    200, as ReShare answers). Confirmations (requestConfirmation, …) are not accepted here: they come
    back in the HTTP response to our own POST.
    """
    headers = {k.lower(): v for k, v in headers.items()}
    if not (settings.ISO18626_OUR_ISIL or "").strip():
        log.warning("ISO 18626 message refused: ISO18626_OUR_ISIL is not set, messaging is off")
        return 403, b""
    if len(raw) > xml.MAX_BODY_BYTES:
        return 413, xml.error_confirmation("", "BadlyFormedMessage", f"larger than {xml.MAX_BODY_BYTES} bytes")
    try:
        root = xml.read_root(raw)
        kind = xml.message_type_of(root)
    except xml.BadMessage as exc:
        return 400, xml.error_confirmation(exc.message_type, exc.error_type, exc.error_value)
    if kind not in xml.CONFIRMATION_OF:
        return 400, xml.error_confirmation(
            "",
            "UnsupportedActionType",
            f"a {kind} is not accepted here: it answers a message in the same HTTP exchange",
        )
    sender = xml.sender_of(root)
    peer = Peer.objects.select_related("library").filter(library__isil=sender, active=True).first() if sender else None
    if peer is None:
        log.warning("ISO 18626 %s from unknown or inactive agency %r refused", kind, sender[:50])
        return 403, b""
    signature = headers.get(SIGNATURE_HEADER.lower())
    # Unsigned only from a peer marked so; a signature, when sent, must always be right.
    authentic = peer.accept_unsigned if signature is None else signature_ok(peer.shared_secret, raw, signature)
    if not authentic:
        log.warning(
            "ISO 18626 %s claiming to be from %s refused: %s signature", kind, sender, "bad" if signature else "no"
        )
        return 403, b""
    received_at = xml.now()
    try:
        message = xml.parse(raw)
    except xml.BadMessage as exc:
        body = xml.error_confirmation(kind, exc.error_type, exc.error_value)
        _store_unreadable(peer, kind, raw, body, exc)
        return 400, body
    recipient = message.recipient
    ours = (settings.ISO18626_OUR_ISIL or "").strip()
    if recipient is not None and recipient.value != ours:
        errors = [
            xml.ErrorData(
                "UnrecognisedDataValue", f"this is {ours or 'an installation without an ISIL'}, not {recipient.value}"
            )
        ]
        return _answer(peer, message, raw, received_at, errors=errors)
    return _answer(peer, message, raw, received_at)


def _answer(peer, message, raw, received_at, *, errors=None) -> tuple[int, bytes]:
    key = incoming_dedupe_key(peer, message)
    earlier = Message.objects.filter(direction=Message.Direction.IN, dedupe_key=key).first()
    if earlier is not None:
        return earlier.http_status or 200, earlier.confirmation.encode("utf-8")
    header = message.header
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = Message.objects.create(
                    direction=Message.Direction.IN,
                    peer=peer,
                    message_type=message.message_type,
                    code=code_of(message)[:40],
                    requesting_agency_request_id=header.requesting_agency_request_id[:100],
                    supplying_agency_request_id=header.supplying_agency_request_id[:100],
                    timestamp=header.timestamp,
                    body=xml.as_text(raw),
                    state=Message.State.RECEIVED,
                    dedupe_key=key,
                )
        except IntegrityError:  # the same message, received at the same moment by another worker
            earlier = Message.objects.get(direction=Message.Direction.IN, dedupe_key=key)
            return earlier.http_status or 200, earlier.confirmation.encode("utf-8")
        if errors is None:
            errors = []
            try:
                with transaction.atomic():
                    dispatch.handle(message, peer=peer, stored=row)
            except dispatch.Refused as refused:
                errors = [xml.ErrorData(refused.error_type, refused.error_value[:500])]
        body = xml.build(xml.confirmation_for(message, errors=errors, received_at=received_at))
        row.state = Message.State.REJECTED if errors else Message.State.PROCESSED
        row.last_error = "; ".join(f"{e.error_type}: {e.error_value}" for e in errors)
        row.confirmation = body.decode("utf-8")
        row.http_status = 200
        row.done_at = timezone.now()
        row.save(update_fields=["state", "last_error", "confirmation", "http_status", "done_at"])
    return 200, body


def _store_unreadable(peer: Peer, kind: str, raw: bytes, confirmation: bytes, exc: xml.BadMessage) -> None:
    """Keep an authenticated peer's invalid message (state rejected) so staff can see what it sent."""
    Message.objects.create(
        direction=Message.Direction.IN,
        peer=peer,
        message_type=kind,
        timestamp=timezone.now(),
        body=xml.as_text(raw),
        state=Message.State.REJECTED,
        last_error=f"{exc.error_type}: {exc.error_value}",
        confirmation=confirmation.decode("utf-8"),
        http_status=400,
        done_at=timezone.now(),
    )


def incoming_dedupe_key(peer: Peer, message: xml.Message) -> str:
    """The idempotency key of a received message (hex SHA-256)."""
    header = message.header
    parts = [
        str(peer.pk),
        message.message_type,
        header.requesting_agency_request_id,
        header.timestamp.astimezone(datetime.UTC).isoformat(),
        code_of(message),
    ]
    if isinstance(message, xml.SupplyingAgencyMessage):
        parts.append(message.message_info.reason_for_message)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def code_of(message: xml.Message) -> str:
    """The action, status or reasonForMessage a message carries (what the admin list shows)."""
    if isinstance(message, xml.RequestingAgencyMessage):
        return message.action
    if isinstance(message, xml.SupplyingAgencyMessage):
        return message.status_info.status
    if isinstance(message, xml.Request):
        return message.service_info.request_type or "New"
    return ""
