"""ISO 18626 (2021 revision) messages as dataclasses: build them to XML, parse XML into them.

The schema is ours, written for this project from the standard's data dictionary
(`iso18626/schema/iso18626-2021.xsd`; settings.ISO18626_SCHEMA_PATH may name the official XSD from
illtransactions.org instead); every message we build is validated against it before it leaves (a failure
is a bug here and raises `InvalidOutgoing`), and every message we receive is validated before it is believed.

Receiving is safe: the body is capped (`MAX_BODY_BYTES`), parsed by defusedxml (no DTD, no entity
expansion, no network), then validated. A message that is valid only against the 2017 schema (`iso18626-2017.xsd`,
also ours; WorldShare ILL and older ReShare messages; same namespace) is accepted too, and its renamed
elements are read (`sentVia` → `delivery_method`, `deliveredFormat` → `item_format`, `offeredCosts`
in `messageInfo` → `retry_info.offered_costs`); `schema_year` on the message says which one matched.
We always send 2021 messages.

What the flows need is covered (see each dataclass); elements outside that (authentication,
consortial ids, addresses beyond one per place, shipping insurance, …) are read where cheap and
otherwise ignored on receipt, and never sent.

The public API, used by `iso18626.transport` and the flows:
    build(message) -> bytes                parse(raw) -> message          BadMessage(error_type, value)
    confirmation_for(message, ...)         error_confirmation(raw_type, error_type, value)
"""

from __future__ import annotations

import datetime
import decimal
import functools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as DET
import xmlschema
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from django.conf import settings

NS = "http://illtransactions.org/2013/iso18626"
VERSION = "1.2"
MAX_BODY_BYTES = 1_000_000
SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
SCHEMA_2021 = SCHEMA_DIR / "iso18626-2021.xsd"  # ours; settings.ISO18626_SCHEMA_PATH may replace it
SCHEMA_2017 = SCHEMA_DIR / "iso18626-2017.xsd"  # ours; only to accept a received 2017 message

# Closed code lists of the standard (the XSD's enumerations), for the flows to compare against.
MESSAGE_TYPES = (
    "request",
    "requestConfirmation",
    "supplyingAgencyMessage",
    "supplyingAgencyMessageConfirmation",
    "requestingAgencyMessage",
    "requestingAgencyMessageConfirmation",
)
ACTIONS = (
    "StatusRequest",
    "Received",
    "Cancel",
    "Renew",
    "HoldReturn",
    "ShippedReturn",
    "ShippedForward",
    "Notification",
    "Lost",
)
STATUSES = (
    "RequestReceived",
    "ExpectToSupply",
    "WillSupply",
    "Loaned",
    "Overdue",
    "Recalled",
    "RetryPossible",
    "Unfilled",
    "HoldReturn",
    "ReleaseHoldReturn",
    "CopyCompleted",
    "LoanCompleted",
    "CompletedWithoutReturn",
    "Cancelled",
)
REASONS_FOR_MESSAGE = (
    "RequestResponse",
    "StatusRequestResponse",
    "RenewResponse",
    "CancelResponse",
    "StatusChange",
    "Notification",
)
ERROR_TYPES = (
    "UnsupportedActionType",
    "UnsupportedReasonForMessageType",
    "UnrecognisedDataElement",
    "UnrecognisedDataValue",
    "BadlyFormedMessage",
)
SERVICE_TYPES = ("Copy", "Loan", "CopyOrLoan")
REQUEST_TYPES = ("New", "Retry", "Reminder")


class BadMessage(Exception):
    """A received body we cannot believe: not well-formed, too big, or invalid against the XSD.

    `error_type` is one of ERROR_TYPES (what goes into the ERROR confirmation's errorData), `error_value`
    a short human-readable explanation. `message_type` is the root child's name when it could be read
    (so the right kind of confirmation can answer), else "".
    """

    def __init__(self, error_type: str, error_value: str, message_type: str = ""):
        self.error_type = error_type
        self.error_value = error_value[:500]
        self.message_type = message_type
        super().__init__(f"{error_type}: {self.error_value}")


class InvalidOutgoing(Exception):
    """A message we built is not valid against the XSD: a bug in the caller or here, never sent."""


# --- building blocks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyId:
    """An agency (library) identifier; we use ISILs (`type` "ISIL")."""

    value: str
    type: str = "ISIL"


@dataclass
class Costs:
    """An amount of money (`type_costs`). We deal in whole yen; `amount` is a Decimal as on the wire."""

    amount: decimal.Decimal
    currency: str = "JPY"

    @property
    def yen(self) -> int:
        """The amount as whole yen (rounded half up), for the fee code. Exact however many digits a
        peer sent (quantize would raise InvalidOperation past 28 digits); the services bound it."""
        return int(decimal.Decimal(self.amount).to_integral_value(rounding=decimal.ROUND_HALF_UP))


@dataclass
class PhysicalAddress:
    line1: str = ""
    line2: str = ""
    locality: str = ""
    postal_code: str = ""
    region: str = ""
    country: str = ""  # ISO 3166-1 alpha-2, e.g. "JP"


@dataclass
class ElectronicAddress:
    type: str  # e.g. "Email", "URL"
    data: str


Address = PhysicalAddress | ElectronicAddress


@dataclass
class Header:
    """The header of request, supplyingAgencyMessage and requestingAgencyMessage (the three differ only
    in which fields the XSD requires: a requestingAgencyMessage needs `supplying_agency_id`)."""

    requesting_agency_id: AgencyId
    supplying_agency_id: AgencyId | None
    timestamp: datetime.datetime
    requesting_agency_request_id: str
    supplying_agency_request_id: str = ""  # not in a request's header
    multiple_item_request_id: str = ""  # only in a request's header


@dataclass
class BibliographicInfo:
    title: str = ""
    author: str = ""
    subtitle: str = ""
    series_title: str = ""
    edition: str = ""
    title_of_component: str = ""  # the article's title for a copy
    author_of_component: str = ""
    volume: str = ""
    issue: str = ""
    pages_requested: str = ""
    estimated_no_pages: str = ""
    supplier_unique_record_id: str = ""
    # (code, value) pairs: bibliographicItemId e.g. ("ISBN", "9784…"), ("ISSN", "0028-0836");
    # bibliographicRecordId e.g. ("NCID", "BA12345678"), ("OCLC", "12345").
    item_ids: list[tuple[str, str]] = field(default_factory=list)
    record_ids: list[tuple[str, str]] = field(default_factory=list)

    def item_id(self, code: str) -> str:
        """The first bibliographicItemId with this code (case-insensitive), or ""."""
        return next((v for c, v in self.item_ids if c.upper() == code.upper()), "")

    def record_id(self, code: str) -> str:
        """The first bibliographicRecordId with this code (case-insensitive), or ""."""
        return next((v for c, v in self.record_ids if c.upper() == code.upper()), "")


@dataclass
class PublicationInfo:
    publisher: str = ""
    publication_type: str = ""  # e.g. "Book", "Journal", "Article"
    publication_date: str = ""  # free text on the wire: the year for us
    place_of_publication: str = ""


@dataclass
class ServiceInfo:
    service_type: str  # SERVICE_TYPES
    request_type: str = ""  # REQUEST_TYPES ("New" for a first request)
    request_sub_types: list[str] = field(default_factory=list)  # e.g. ["PatronRequest"]
    requesting_agency_previous_request_id: str = ""
    service_level: str = ""
    item_format: str = ""
    need_before_date: datetime.datetime | None = None
    copyright_compliance: str = ""  # e.g. "JP-Art31" (an open code list)
    any_edition: bool | None = None  # deprecated by the 2021 revision, still read and sent if set
    preferred_edition: str = ""  # MostRecentEdition / ThisEdition / AnyEdition
    loan_conditions: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class SupplierInfo:
    sort_order: int | None = None
    supplier_code: AgencyId | None = None
    supplier_description: str = ""
    call_number: str = ""
    summary_holdings: str = ""
    availability_note: str = ""


@dataclass
class RequestedDeliveryInfo:
    sort_order: int | None = None
    address: Address | None = None
    delivery_method: str = ""  # e.g. "Mail", "Courier", "Email"


@dataclass
class RequestingAgencyInfo:
    name: str = ""
    contact_name: str = ""
    addresses: list[Address] = field(default_factory=list)


@dataclass
class PatronInfo:
    patron_id: str = ""
    surname: str = ""
    given_name: str = ""
    patron_type: str = ""
    send_to_patron: bool | None = None


@dataclass
class BillingInfo:
    maximum_costs: Costs | None = None
    payment_method: str = ""
    billing_method: str = ""
    billing_name: str = ""


@dataclass
class MessageInfo:
    reason_for_message: str  # REASONS_FOR_MESSAGE
    answer_yes_no: bool | None = None  # the answer to a Cancel or Renew
    note: str = ""
    reason_unfilled: str = ""  # an open code list, e.g. "NotHeld", "NotAvailableForILL", "PolicyProblem"
    reason_retry: str = ""


@dataclass
class StatusInfo:
    status: str  # STATUSES
    last_change: datetime.datetime
    expected_delivery_date: datetime.datetime | None = None
    due_date: datetime.datetime | None = None


@dataclass
class RetryInfo:
    offered_costs: list[Costs] = field(default_factory=list)
    retry_before: datetime.datetime | None = None
    retry_after: datetime.datetime | None = None
    service_type: str = ""


@dataclass
class DeliveryInfo:
    date_sent: datetime.datetime
    item_ids: list[str] = field(default_factory=list)  # e.g. our barcode of the book lent
    url: str = ""
    delivery_method: str = ""  # "sentVia" in 2017
    sent_to_patron: bool | None = None
    loan_conditions: list[str] = field(default_factory=list)  # e.g. "LibraryUseOnly", "NoReproduction"
    item_format: str = ""  # "deliveredFormat" in 2017, e.g. "PDF", "Paper"
    service_type: str = ""
    delivery_costs: Costs | None = None
    payment_method: str = ""


@dataclass
class ShippingInfo:
    courier_name: str = ""
    tracking_ids: list[str] = field(default_factory=list)


@dataclass
class ReturnInfo:
    return_agency_id: AgencyId | None = None
    name: str = ""
    physical_address: PhysicalAddress | None = None


# --- the three messages ----------------------------------------------------------------------------


@dataclass
class Request:
    """`request`: the requesting agency asks the supplying agency for a loan or a copy."""

    header: Header
    bibliographic_info: BibliographicInfo
    service_info: ServiceInfo
    publication_info: PublicationInfo | None = None
    supplier_info: list[SupplierInfo] = field(default_factory=list)
    requested_delivery_info: list[RequestedDeliveryInfo] = field(default_factory=list)
    requesting_agency_info: RequestingAgencyInfo | None = None
    patron_info: PatronInfo | None = None
    billing_info: BillingInfo | None = None
    schema_year: int = 2021  # set by parse(): 2017 when only the 2017 XSD accepted it

    message_type = "request"

    @property
    def sender(self) -> AgencyId:
        return self.header.requesting_agency_id

    @property
    def recipient(self) -> AgencyId | None:
        return self.header.supplying_agency_id


@dataclass
class SupplyingAgencyMessage:
    """`supplyingAgencyMessage`: the supplier answers or reports a change (status in `status_info`)."""

    header: Header
    message_info: MessageInfo
    status_info: StatusInfo
    retry_info: RetryInfo | None = None
    delivery_info: DeliveryInfo | None = None
    shipping_info: ShippingInfo | None = None
    return_info: ReturnInfo | None = None
    schema_year: int = 2021

    message_type = "supplyingAgencyMessage"

    @property
    def sender(self) -> AgencyId:
        return self.header.supplying_agency_id

    @property
    def recipient(self) -> AgencyId | None:
        return self.header.requesting_agency_id


@dataclass
class RequestingAgencyMessage:
    """`requestingAgencyMessage`: the requester's action (Cancel, Renew, Received, ShippedReturn, …)."""

    header: Header
    action: str  # ACTIONS
    note: str = ""
    schema_year: int = 2021

    message_type = "requestingAgencyMessage"

    @property
    def sender(self) -> AgencyId:
        return self.header.requesting_agency_id

    @property
    def recipient(self) -> AgencyId | None:
        return self.header.supplying_agency_id


# --- confirmations ---------------------------------------------------------------------------------


@dataclass
class ErrorData:
    error_type: str  # ERROR_TYPES
    error_value: str = ""


@dataclass
class ConfirmationHeader:
    timestamp: datetime.datetime
    timestamp_received: datetime.datetime
    message_status: str  # "OK" or "ERROR"
    supplying_agency_id: AgencyId | None = None
    requesting_agency_id: AgencyId | None = None
    requesting_agency_request_id: str = ""


@dataclass
class _Confirmation:
    header: ConfirmationHeader
    errors: list[ErrorData] = field(default_factory=list)
    schema_year: int = 2021

    @property
    def ok(self) -> bool:
        return self.header.message_status == "OK"


@dataclass
class RequestConfirmation(_Confirmation):
    message_type = "requestConfirmation"


@dataclass
class SupplyingAgencyMessageConfirmation(_Confirmation):
    reason_for_message: str = ""  # echoes the message's reasonForMessage

    message_type = "supplyingAgencyMessageConfirmation"


@dataclass
class RequestingAgencyMessageConfirmation(_Confirmation):
    action: str = ""  # echoes the message's action

    message_type = "requestingAgencyMessageConfirmation"


Message = Request | SupplyingAgencyMessage | RequestingAgencyMessage
Confirmation = RequestConfirmation | SupplyingAgencyMessageConfirmation | RequestingAgencyMessageConfirmation
AnyMessage = Message | Confirmation

CONFIRMATION_OF = {
    "request": RequestConfirmation,
    "supplyingAgencyMessage": SupplyingAgencyMessageConfirmation,
    "requestingAgencyMessage": RequestingAgencyMessageConfirmation,
}


# --- the API ---------------------------------------------------------------------------------------


def build(message: AnyMessage) -> bytes:
    """The message as a UTF-8 ISO18626Message document (2021 schema, `ill:version` "1.2").

    Validated against the XSD before it is returned: a message the schema refuses raises
    InvalidOutgoing (a bug: a required field left empty, a code outside its list).
    """
    builder = _BUILDERS.get(type(message))
    if builder is None:
        raise InvalidOutgoing(f"not an ISO 18626 message: {type(message).__name__}")
    root = ET.Element(_q("ISO18626Message"), {_q("version"): VERSION})
    builder(ET.SubElement(root, _q(message.message_type)), message)
    errors = list(_schema(2021).iter_errors(root))
    if errors:
        raise InvalidOutgoing(f"{message.message_type} is invalid against the ISO 18626 schema: {_reason(errors[0])}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def parse(raw: bytes) -> AnyMessage:
    """The message in `raw` (any of the six kinds), validated against the 2021 XSD (or the 2017 one).

    Raises BadMessage("BadlyFormedMessage", …) when `raw` is larger than MAX_BODY_BYTES, not
    well-formed, has a DTD or entities, is not an ISO18626Message, or is invalid against the schema.
    """
    root = read_root(raw)
    kind = message_type_of(root)
    errors = list(_schema(2021).iter_errors(root))
    year = 2021
    if errors:
        if list(_schema(2017).iter_errors(root)):
            raise BadMessage("BadlyFormedMessage", f"invalid against the ISO 18626 schema: {_reason(errors[0])}", kind)
        year = 2017
    body = root[0]
    message = _PARSERS[kind](body)
    message.schema_year = year
    return message


def read_root(raw: bytes) -> ET.Element:
    """The ISO18626Message root element of `raw`, safely parsed but not yet validated.

    Raises BadMessage("BadlyFormedMessage", …) for a body too large, not well-formed, with a DTD or
    entity declarations, or whose root is not an ISO18626Message with one known message inside.
    """
    if len(raw) > MAX_BODY_BYTES:
        raise BadMessage("BadlyFormedMessage", f"the message is larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise BadMessage("BadlyFormedMessage", "the body is empty")
    try:
        root = DET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise BadMessage("BadlyFormedMessage", "DTDs and entities are not allowed") from None
    except ET.ParseError as exc:
        raise BadMessage("BadlyFormedMessage", f"not well-formed XML: {exc}") from None
    if root.tag != _q("ISO18626Message"):
        raise BadMessage("BadlyFormedMessage", f"the root element is not ISO18626Message in {NS}")
    message_type_of(root)
    return root


def as_text(raw: bytes) -> str:
    """A received body as text to store: as received when it is UTF-8 (nearly always), else (UTF-16,
    Shift_JIS, … as its XML declaration says) the document re-serialised; "" when it is not readable XML."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return text
    try:
        return ET.tostring(read_root(raw), encoding="unicode")
    except BadMessage:
        return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def message_type_of(root: ET.Element) -> str:
    """The name of the message inside an ISO18626Message root ("request", …)."""
    children = [c for c in root if isinstance(c.tag, str)]
    if len(children) != 1 or not children[0].tag.startswith("{" + NS + "}"):
        raise BadMessage("BadlyFormedMessage", "ISO18626Message must hold exactly one message")
    kind = children[0].tag.split("}", 1)[1]
    if kind not in MESSAGE_TYPES:
        raise BadMessage("BadlyFormedMessage", f"unknown message {kind!r}")
    return kind


def sender_of(root: ET.Element) -> str:
    """The agency id value of the sender named in an (unvalidated) root: the requestingAgencyId of a
    request or a requestingAgencyMessage, the supplyingAgencyId of a supplyingAgencyMessage; "" when
    absent. Used to find the peer (and its secret) before the message is believed."""
    kind = message_type_of(root)
    who = "supplyingAgencyId" if kind == "supplyingAgencyMessage" else "requestingAgencyId"
    value = root.find(f"{_q(kind)}/{_q('header')}/{_q(who)}/{_q('agencyIdValue')}")
    return (value.text or "").strip() if value is not None else ""


def confirmation_for(
    message: Message,
    *,
    errors: list[ErrorData] | tuple = (),
    received_at: datetime.datetime | None = None,
) -> Confirmation:
    """The confirmation that answers `message`: its ids copied into the confirmationHeader, status
    "OK" without errors, "ERROR" with them; the reasonForMessage / action echoed."""
    header = ConfirmationHeader(
        timestamp=now(),
        timestamp_received=received_at or now(),
        message_status="ERROR" if errors else "OK",
        supplying_agency_id=message.header.supplying_agency_id,
        requesting_agency_id=message.header.requesting_agency_id,
        requesting_agency_request_id=message.header.requesting_agency_request_id,
    )
    errors = list(errors)
    if isinstance(message, SupplyingAgencyMessage):
        return SupplyingAgencyMessageConfirmation(
            header, errors, reason_for_message=message.message_info.reason_for_message
        )
    if isinstance(message, RequestingAgencyMessage):
        return RequestingAgencyMessageConfirmation(header, errors, action=message.action)
    return RequestConfirmation(header, errors)


def error_confirmation(message_type: str, error_type: str, error_value: str) -> bytes:
    """The built ERROR confirmation for a body we could not read (`message_type` its root child's
    name if known, else a requestConfirmation), with no ids in the header."""
    cls = CONFIRMATION_OF.get(message_type, RequestConfirmation)
    t = now()
    header = ConfirmationHeader(timestamp=t, timestamp_received=t, message_status="ERROR")
    return build(cls(header, [ErrorData(error_type, error_value[:500])]))


def now() -> datetime.datetime:
    """The current time in UTC, to the millisecond (what we put in timestamps)."""
    t = datetime.datetime.now(datetime.UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


# --- internals -------------------------------------------------------------------------------------

ET.register_namespace("ill", NS)


def schema_path(year: int = 2021) -> Path:
    """The XSD messages of that revision are validated against: for 2021 settings.ISO18626_SCHEMA_PATH
    when set (e.g. the official XSD from illtransactions.org), else ours; for 2017 always ours."""
    if year == 2021:
        configured = getattr(settings, "ISO18626_SCHEMA_PATH", "")
        return Path(configured) if configured else SCHEMA_2021
    return SCHEMA_2017


def _schema(year: int) -> xmlschema.XMLSchema:
    return _load_schema(str(schema_path(year)))


@functools.cache
def _load_schema(path: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(path)


def _reason(error) -> str:
    path = getattr(error, "path", "") or ""
    reason = getattr(error, "reason", None) or str(error).splitlines()[0]
    text = f"{reason} (at {path})" if path else reason
    return text.replace("{" + NS + "}", "")


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


# building


def _dt(value: datetime.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    value = value.astimezone(datetime.UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _yn(value: bool) -> str:
    return "Y" if value else "N"


def _add(parent: ET.Element, name: str, value=None) -> ET.Element:
    """Append <name>; a str/int value is its text, a datetime is formatted; returns the element."""
    el = ET.SubElement(parent, _q(name))
    if isinstance(value, datetime.datetime):
        el.text = _dt(value)
    elif value is not None:
        el.text = str(value)
    return el


def _opt(parent: ET.Element, name: str, value) -> None:
    """Append <name> only when there is a value ("" / None / [] mean absent)."""
    if value is None or value == "":
        return
    _add(parent, name, value)


def _agency(parent: ET.Element, name: str, agency: AgencyId | None) -> None:
    if agency is None:
        return
    el = _add(parent, name)
    _add(el, "agencyIdType", agency.type)
    _add(el, "agencyIdValue", agency.value)


def _costs(parent: ET.Element, name: str, costs: Costs | None) -> None:
    if costs is None:
        return
    el = _add(parent, name)
    _add(el, "currencyCode", costs.currency)
    _add(el, "monetaryValue", format(decimal.Decimal(costs.amount), "f"))


def _address(parent: ET.Element, address: Address | None) -> None:
    if address is None:
        return
    el = _add(parent, "address")
    if isinstance(address, ElectronicAddress):
        e = _add(el, "electronicAddress")
        _add(e, "electronicAddressType", address.type)
        _add(e, "electronicAddressData", address.data)
        return
    _physical(el, address)


def _physical(parent: ET.Element, address: PhysicalAddress | None) -> None:
    if address is None:
        return
    p = _add(parent, "physicalAddress")
    _opt(p, "line1", address.line1)
    _opt(p, "line2", address.line2)
    _opt(p, "locality", address.locality)
    _opt(p, "postalCode", address.postal_code)
    _opt(p, "region", address.region)
    _opt(p, "country", address.country)


def _header(parent: ET.Element, h: Header, kind: str) -> None:
    el = _add(parent, "header")
    _agency(el, "supplyingAgencyId", h.supplying_agency_id)
    _agency(el, "requestingAgencyId", h.requesting_agency_id)
    if kind == "request":
        _opt(el, "multipleItemRequestId", h.multiple_item_request_id)
    _add(el, "timestamp", h.timestamp)
    _add(el, "requestingAgencyRequestId", h.requesting_agency_request_id)
    if kind != "request":
        _opt(el, "supplyingAgencyRequestId", h.supplying_agency_request_id)


def _build_request(el: ET.Element, m: Request) -> None:
    _header(el, m.header, "request")
    b, bi = _add(el, "bibliographicInfo"), m.bibliographic_info
    _opt(b, "supplierUniqueRecordId", bi.supplier_unique_record_id)
    _opt(b, "title", bi.title)
    _opt(b, "author", bi.author)
    _opt(b, "subtitle", bi.subtitle)
    _opt(b, "seriesTitle", bi.series_title)
    _opt(b, "edition", bi.edition)
    _opt(b, "titleOfComponent", bi.title_of_component)
    _opt(b, "authorOfComponent", bi.author_of_component)
    _opt(b, "volume", bi.volume)
    _opt(b, "issue", bi.issue)
    _opt(b, "pagesRequested", bi.pages_requested)
    _opt(b, "estimatedNoPages", bi.estimated_no_pages)
    for code, value in bi.item_ids:
        i = _add(b, "bibliographicItemId")
        _add(i, "bibliographicItemIdentifierCode", code)
        _add(i, "bibliographicItemIdentifier", value)
    for code, value in bi.record_ids:
        r = _add(b, "bibliographicRecordId")
        _add(r, "bibliographicRecordIdentifierCode", code)
        _add(r, "bibliographicRecordIdentifier", value)
    if m.publication_info is not None:
        p, pi = _add(el, "publicationInfo"), m.publication_info
        _opt(p, "publisher", pi.publisher)
        _opt(p, "publicationType", pi.publication_type)
        _opt(p, "publicationDate", pi.publication_date)
        _opt(p, "placeOfPublication", pi.place_of_publication)
    s, si = _add(el, "serviceInfo"), m.service_info
    _opt(s, "requestType", si.request_type)
    for sub in si.request_sub_types:
        _add(s, "requestSubType", sub)
    _opt(s, "requestingAgencyPreviousRequestId", si.requesting_agency_previous_request_id)
    _add(s, "serviceType", si.service_type)
    _opt(s, "serviceLevel", si.service_level)
    _opt(s, "itemFormat", si.item_format)
    _opt(s, "needBeforeDate", si.need_before_date)
    _opt(s, "copyrightCompliance", si.copyright_compliance)
    if si.any_edition is not None:
        _add(s, "anyEdition", _yn(si.any_edition))
    _opt(s, "preferredEdition", si.preferred_edition)
    for condition in si.loan_conditions:
        _add(s, "loanCondition", condition)
    _opt(s, "note", si.note)
    for sup in m.supplier_info:
        e = _add(el, "supplierInfo")
        _opt(e, "sortOrder", sup.sort_order)
        _agency(e, "supplierCode", sup.supplier_code)
        _opt(e, "supplierDescription", sup.supplier_description)
        _opt(e, "callNumber", sup.call_number)
        _opt(e, "summaryHoldings", sup.summary_holdings)
        _opt(e, "availabilityNote", sup.availability_note)
    for rd in m.requested_delivery_info:
        e = _add(el, "requestedDeliveryInfo")
        _opt(e, "sortOrder", rd.sort_order)
        _address(e, rd.address)
        _opt(e, "deliveryMethod", rd.delivery_method)
    if m.requesting_agency_info is not None:
        e, ra = _add(el, "requestingAgencyInfo"), m.requesting_agency_info
        _opt(e, "name", ra.name)
        _opt(e, "contactName", ra.contact_name)
        for address in ra.addresses:
            _address(e, address)
    if m.patron_info is not None:
        e, pa = _add(el, "patronInfo"), m.patron_info
        _opt(e, "patronId", pa.patron_id)
        _opt(e, "surname", pa.surname)
        _opt(e, "givenName", pa.given_name)
        _opt(e, "patronType", pa.patron_type)
        if pa.send_to_patron is not None:
            _add(e, "sendToPatron", _yn(pa.send_to_patron))
    if m.billing_info is not None:
        e, bl = _add(el, "billingInfo"), m.billing_info
        _opt(e, "paymentMethod", bl.payment_method)
        _costs(e, "maximumCosts", bl.maximum_costs)
        _opt(e, "billingMethod", bl.billing_method)
        _opt(e, "billingName", bl.billing_name)


def _build_supplying(el: ET.Element, m: SupplyingAgencyMessage) -> None:
    _header(el, m.header, "supplyingAgencyMessage")
    e, mi = _add(el, "messageInfo"), m.message_info
    _add(e, "reasonForMessage", mi.reason_for_message)
    if mi.answer_yes_no is not None:
        _add(e, "answerYesNo", _yn(mi.answer_yes_no))
    _opt(e, "note", mi.note)
    _opt(e, "reasonUnfilled", mi.reason_unfilled)
    _opt(e, "reasonRetry", mi.reason_retry)
    e, st = _add(el, "statusInfo"), m.status_info
    _add(e, "status", st.status)
    _opt(e, "expectedDeliveryDate", st.expected_delivery_date)
    _opt(e, "dueDate", st.due_date)
    _add(e, "lastChange", st.last_change)
    if m.retry_info is not None:
        e, ri = _add(el, "retryInfo"), m.retry_info
        _opt(e, "serviceType", ri.service_type)
        for costs in ri.offered_costs:
            _costs(e, "offeredCosts", costs)
        _opt(e, "retryBefore", ri.retry_before)
        _opt(e, "retryAfter", ri.retry_after)
    if m.delivery_info is not None:
        e, di = _add(el, "deliveryInfo"), m.delivery_info
        _add(e, "dateSent", di.date_sent)
        for item_id in di.item_ids:
            _add(e, "itemId", item_id)
        _opt(e, "URL", di.url)
        _opt(e, "deliveryMethod", di.delivery_method)
        if di.sent_to_patron is not None:
            _add(e, "sentToPatron", "true" if di.sent_to_patron else "false")
        for condition in di.loan_conditions:
            _add(e, "loanCondition", condition)
        _opt(e, "itemFormat", di.item_format)
        _opt(e, "serviceType", di.service_type)
        _costs(e, "deliveryCosts", di.delivery_costs)
        _opt(e, "paymentMethod", di.payment_method)
    if m.shipping_info is not None:
        e, sh = _add(el, "shippingInfo"), m.shipping_info
        _opt(e, "courierName", sh.courier_name)
        for tracking in sh.tracking_ids:
            _add(e, "trackingId", tracking)
    if m.return_info is not None:
        e, rt = _add(el, "returnInfo"), m.return_info
        _agency(e, "returnAgencyId", rt.return_agency_id)
        _opt(e, "name", rt.name)
        _physical(e, rt.physical_address)


def _build_requesting(el: ET.Element, m: RequestingAgencyMessage) -> None:
    _header(el, m.header, "requestingAgencyMessage")
    _add(el, "action", m.action)
    _opt(el, "note", m.note)


def _build_confirmation(el: ET.Element, m: _Confirmation) -> None:
    e, h = _add(el, "confirmationHeader"), m.header
    _agency(e, "supplyingAgencyId", h.supplying_agency_id)
    _agency(e, "requestingAgencyId", h.requesting_agency_id)
    _add(e, "timestamp", h.timestamp)
    _opt(e, "requestingAgencyRequestId", h.requesting_agency_request_id)
    _add(e, "timestampReceived", h.timestamp_received)
    _add(e, "messageStatus", h.message_status)
    if isinstance(m, SupplyingAgencyMessageConfirmation):
        _opt(el, "reasonForMessage", m.reason_for_message)
    if isinstance(m, RequestingAgencyMessageConfirmation):
        _opt(el, "action", m.action)
    for error in m.errors:
        d = _add(el, "errorData")
        _add(d, "errorType", error.error_type)
        _opt(d, "errorValue", error.error_value)


_BUILDERS = {
    Request: _build_request,
    SupplyingAgencyMessage: _build_supplying,
    RequestingAgencyMessage: _build_requesting,
    RequestConfirmation: _build_confirmation,
    SupplyingAgencyMessageConfirmation: _build_confirmation,
    RequestingAgencyMessageConfirmation: _build_confirmation,
}


# parsing (of a validated element: the structure is known, only optional parts may be missing)

_FRACTION = re.compile(r"(\.\d{6})\d+")


def _child(el: ET.Element | None, name: str) -> ET.Element | None:
    return None if el is None else el.find(_q(name))


def _children(el: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if el is None else el.findall(_q(name))


def _text(el: ET.Element | None, name: str) -> str:
    c = _child(el, name)
    return (c.text or "").strip() if c is not None else ""


def _texts(el: ET.Element | None, name: str) -> list[str]:
    return [(c.text or "").strip() for c in _children(el, name) if (c.text or "").strip()]


_EARLIEST = datetime.datetime(2, 1, 1, tzinfo=datetime.UTC)
_LATEST = datetime.datetime(9998, 12, 31, tzinfo=datetime.UTC)


def _parse_dt(value: str) -> datetime.datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("z", "Z")))
    except ValueError:
        raise BadMessage("UnrecognisedDataValue", f"not a date and time: {value!r}") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
    # Years 1 and 9999 with an offset overflow Python's datetime when moved to UTC or our time zone.
    try:
        in_range = _EARLIEST <= parsed.astimezone(datetime.UTC) <= _LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise BadMessage("UnrecognisedDataValue", f"a date and time out of range: {value!r}")
    return parsed


def _date(el: ET.Element | None, name: str) -> datetime.datetime | None:
    return _parse_dt(_text(el, name))


def _bool_yn(el: ET.Element | None, name: str) -> bool | None:
    value = _text(el, name)
    return {"Y": True, "N": False, "true": True, "false": False, "1": True, "0": False}.get(value)


def _int(el: ET.Element | None, name: str) -> int | None:
    value = _text(el, name)
    return int(value) if value else None


def _agency_of(el: ET.Element | None) -> AgencyId | None:
    if el is None:
        return None
    return AgencyId(value=_text(el, "agencyIdValue"), type=_text(el, "agencyIdType"))


def _costs_of(el: ET.Element | None) -> Costs | None:
    if el is None:
        return None
    return Costs(amount=decimal.Decimal(_text(el, "monetaryValue")), currency=_text(el, "currencyCode"))


def _physical_of(el: ET.Element | None) -> PhysicalAddress | None:
    if el is None:
        return None
    return PhysicalAddress(
        line1=_text(el, "line1"),
        line2=_text(el, "line2"),
        locality=_text(el, "locality"),
        postal_code=_text(el, "postalCode"),
        region=_text(el, "region"),
        country=_text(el, "country"),
    )


def _address_of(el: ET.Element | None) -> Address | None:
    if el is None:
        return None
    electronic = _child(el, "electronicAddress")
    if electronic is not None:
        return ElectronicAddress(
            type=_text(electronic, "electronicAddressType"), data=_text(electronic, "electronicAddressData")
        )
    return _physical_of(_child(el, "physicalAddress"))


def _header_of(el: ET.Element) -> Header:
    h = _child(el, "header")
    return Header(
        requesting_agency_id=_agency_of(_child(h, "requestingAgencyId")),
        supplying_agency_id=_agency_of(_child(h, "supplyingAgencyId")),
        timestamp=_date(h, "timestamp"),
        requesting_agency_request_id=_text(h, "requestingAgencyRequestId"),
        supplying_agency_request_id=_text(h, "supplyingAgencyRequestId"),
        multiple_item_request_id=_text(h, "multipleItemRequestId"),
    )


def _pairs(el: ET.Element, name: str, code: str, value: str) -> list[tuple[str, str]]:
    return [(_text(c, code), _text(c, value)) for c in _children(el, name)]


def _parse_request(el: ET.Element) -> Request:
    b = _child(el, "bibliographicInfo")
    bibliographic = BibliographicInfo(
        title=_text(b, "title"),
        author=_text(b, "author"),
        subtitle=_text(b, "subtitle"),
        series_title=_text(b, "seriesTitle"),
        edition=_text(b, "edition"),
        title_of_component=_text(b, "titleOfComponent"),
        author_of_component=_text(b, "authorOfComponent"),
        volume="; ".join(_texts(b, "volume")),
        issue=_text(b, "issue"),
        pages_requested=_text(b, "pagesRequested"),
        estimated_no_pages=_text(b, "estimatedNoPages"),
        supplier_unique_record_id=_text(b, "supplierUniqueRecordId"),
        item_ids=_pairs(b, "bibliographicItemId", "bibliographicItemIdentifierCode", "bibliographicItemIdentifier"),
        record_ids=_pairs(
            b, "bibliographicRecordId", "bibliographicRecordIdentifierCode", "bibliographicRecordIdentifier"
        ),
    )
    p = _child(el, "publicationInfo")
    publication = None
    if p is not None:
        publication = PublicationInfo(
            publisher=_text(p, "publisher"),
            publication_type=_text(p, "publicationType"),
            publication_date=_text(p, "publicationDate"),
            place_of_publication=_text(p, "placeOfPublication"),
        )
    s = _child(el, "serviceInfo")  # optional in 2017
    service = ServiceInfo(
        service_type=_text(s, "serviceType"),
        request_type=_text(s, "requestType"),
        request_sub_types=_texts(s, "requestSubType"),
        requesting_agency_previous_request_id=_text(s, "requestingAgencyPreviousRequestId"),
        service_level=_text(s, "serviceLevel"),
        item_format=_text(s, "itemFormat") or _text(s, "preferredFormat"),
        need_before_date=_date(s, "needBeforeDate"),
        copyright_compliance=_text(s, "copyrightCompliance"),
        any_edition=_bool_yn(s, "anyEdition"),
        preferred_edition=_text(s, "preferredEdition"),
        loan_conditions=_texts(s, "loanCondition"),
        note=_text(s, "note"),
    )
    suppliers = [
        SupplierInfo(
            sort_order=_int(e, "sortOrder"),
            supplier_code=_agency_of(_child(e, "supplierCode")),
            supplier_description=_text(e, "supplierDescription"),
            call_number=_text(e, "callNumber"),
            summary_holdings=_text(e, "summaryHoldings"),
            availability_note=_text(e, "availabilityNote"),
        )
        for e in _children(el, "supplierInfo")
    ]
    deliveries = [
        RequestedDeliveryInfo(
            sort_order=_int(e, "sortOrder"),
            address=_address_of(_child(e, "address")),
            delivery_method=_text(e, "deliveryMethod"),
        )
        for e in _children(el, "requestedDeliveryInfo")
    ]
    ra = _child(el, "requestingAgencyInfo")
    agency_info = None
    if ra is not None:
        agency_info = RequestingAgencyInfo(
            name=_text(ra, "name"),
            contact_name=_text(ra, "contactName"),
            addresses=[a for a in (_address_of(x) for x in _children(ra, "address")) if a is not None],
        )
    pa = _child(el, "patronInfo")
    patron = None
    if pa is not None:
        patron = PatronInfo(
            patron_id=_text(pa, "patronId"),
            surname=_text(pa, "surname"),
            given_name=_text(pa, "givenName"),
            patron_type=_text(pa, "patronType"),
            send_to_patron=_bool_yn(pa, "sendToPatron"),
        )
    bl = _child(el, "billingInfo")
    billing = None
    if bl is not None:
        billing = BillingInfo(
            maximum_costs=_costs_of(_child(bl, "maximumCosts")),
            payment_method=_text(bl, "paymentMethod"),
            billing_method=_text(bl, "billingMethod"),
            billing_name=_text(bl, "billingName"),
        )
    return Request(
        header=_header_of(el),
        bibliographic_info=bibliographic,
        service_info=service,
        publication_info=publication,
        supplier_info=suppliers,
        requested_delivery_info=deliveries,
        requesting_agency_info=agency_info,
        patron_info=patron,
        billing_info=billing,
    )


def _parse_supplying(el: ET.Element) -> SupplyingAgencyMessage:
    mi = _child(el, "messageInfo")
    st = _child(el, "statusInfo")
    ri = _child(el, "retryInfo")
    retry = None
    # 2017 kept offeredCosts / retryBefore / retryAfter in messageInfo; 2021 moved them to retryInfo.
    offered = [_costs_of(c) for c in _children(ri, "offeredCosts") + _children(mi, "offeredCosts")]
    if ri is not None or offered or _text(mi, "retryBefore") or _text(mi, "retryAfter"):
        retry = RetryInfo(
            offered_costs=offered,
            retry_before=_date(ri, "retryBefore") or _date(mi, "retryBefore"),
            retry_after=_date(ri, "retryAfter") or _date(mi, "retryAfter"),
            service_type=_text(ri, "serviceType"),
        )
    di = _child(el, "deliveryInfo")
    delivery = None
    if di is not None:
        costs = _children(di, "deliveryCosts")
        delivery = DeliveryInfo(
            date_sent=_date(di, "dateSent"),
            item_ids=_texts(di, "itemId"),
            url=_text(di, "URL"),
            delivery_method=_text(di, "deliveryMethod") or _text(di, "sentVia"),
            sent_to_patron=_bool_yn(di, "sentToPatron"),
            loan_conditions=_texts(di, "loanCondition"),
            item_format=_text(di, "itemFormat") or _text(di, "deliveredFormat"),
            service_type=_text(di, "serviceType"),
            delivery_costs=_costs_of(costs[0]) if costs else None,
            payment_method=_text(di, "paymentMethod"),
        )
    sh = _child(el, "shippingInfo")
    shipping = None
    if sh is not None:
        shipping = ShippingInfo(courier_name=_text(sh, "courierName"), tracking_ids=_texts(sh, "trackingId"))
    rt = _child(el, "returnInfo")
    returned = None
    if rt is not None:
        returned = ReturnInfo(
            return_agency_id=_agency_of(_child(rt, "returnAgencyId")),
            name=_text(rt, "name"),
            physical_address=_physical_of(_child(rt, "physicalAddress")),
        )
    return SupplyingAgencyMessage(
        header=_header_of(el),
        message_info=MessageInfo(
            reason_for_message=_text(mi, "reasonForMessage"),
            answer_yes_no=_bool_yn(mi, "answerYesNo"),
            note=_text(mi, "note"),
            reason_unfilled=_text(mi, "reasonUnfilled"),
            reason_retry=_text(mi, "reasonRetry"),
        ),
        status_info=StatusInfo(
            status=_text(st, "status"),
            last_change=_date(st, "lastChange"),
            expected_delivery_date=_date(st, "expectedDeliveryDate"),
            due_date=_date(st, "dueDate"),
        ),
        retry_info=retry,
        delivery_info=delivery,
        shipping_info=shipping,
        return_info=returned,
    )


def _parse_requesting(el: ET.Element) -> RequestingAgencyMessage:
    return RequestingAgencyMessage(header=_header_of(el), action=_text(el, "action"), note=_text(el, "note"))


def _parse_confirmation(cls):
    def parse_one(el: ET.Element) -> Confirmation:
        h = _child(el, "confirmationHeader")
        header = ConfirmationHeader(
            timestamp=_date(h, "timestamp"),
            timestamp_received=_date(h, "timestampReceived"),
            message_status=_text(h, "messageStatus"),
            supplying_agency_id=_agency_of(_child(h, "supplyingAgencyId")),
            requesting_agency_id=_agency_of(_child(h, "requestingAgencyId")),
            requesting_agency_request_id=_text(h, "requestingAgencyRequestId"),
        )
        errors = [ErrorData(_text(e, "errorType"), _text(e, "errorValue")) for e in _children(el, "errorData")]
        confirmation = cls(header, errors)
        if cls is SupplyingAgencyMessageConfirmation:
            confirmation.reason_for_message = _text(el, "reasonForMessage")
        if cls is RequestingAgencyMessageConfirmation:
            confirmation.action = _text(el, "action")
        return confirmation

    return parse_one


_PARSERS = {
    "request": _parse_request,
    "supplyingAgencyMessage": _parse_supplying,
    "requestingAgencyMessage": _parse_requesting,
    "requestConfirmation": _parse_confirmation(RequestConfirmation),
    "supplyingAgencyMessageConfirmation": _parse_confirmation(SupplyingAgencyMessageConfirmation),
    "requestingAgencyMessageConfirmation": _parse_confirmation(RequestingAgencyMessageConfirmation),
}
