"""ISO 18626 (2021 revision) messages as dataclasses: build them to XML, parse XML into them.

The schema is the standard's own XSD (`iso18626/schema/ISO18626-v1_2.xsd`, OCLC's "Version 2021-2 June
2022"); every message we build is validated against it before it leaves (a failure is a bug here and
raises `InvalidOutgoing`), and every message we receive is validated before it is believed.

Receiving is safe: the body is capped (`MAX_BODY_BYTES`), parsed by defusedxml (no DTD, no entity
expansion, no network), then validated. A message that is valid only against the 2017 schema (ReShare
and other systems still send it; same namespace, `version` "1.2") is accepted too, and its renamed
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
from dataclasses import dataclass, field
from pathlib import Path

NS = "http://illtransactions.org/2013/iso18626"
VERSION = "1.2"
MAX_BODY_BYTES = 1_000_000
SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
SCHEMA_2021 = SCHEMA_DIR / "ISO18626-v1_2.xsd"
SCHEMA_2017 = SCHEMA_DIR / "ISO18626-2017-v1_2.xsd"

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
        """The amount as whole yen (rounded half up), for the fee code."""
        return int(self.amount.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))


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
    raise NotImplementedError


def parse(raw: bytes) -> AnyMessage:
    """The message in `raw` (any of the six kinds), validated against the 2021 XSD (or the 2017 one).

    Raises BadMessage("BadlyFormedMessage", …) when `raw` is larger than MAX_BODY_BYTES, not
    well-formed, has a DTD or entities, is not an ISO18626Message, or is invalid against the schema.
    """
    raise NotImplementedError


def confirmation_for(
    message: Message,
    *,
    errors: list[ErrorData] | tuple = (),
    received_at: datetime.datetime | None = None,
) -> Confirmation:
    """The confirmation that answers `message`: its ids copied into the confirmationHeader, status
    "OK" without errors, "ERROR" with them; the reasonForMessage / action echoed."""
    raise NotImplementedError


def error_confirmation(message_type: str, error_type: str, error_value: str) -> bytes:
    """The built ERROR confirmation for a body we could not read (`message_type` its root child's
    name if known, else a requestConfirmation), with no ids in the header."""
    raise NotImplementedError


def now() -> datetime.datetime:
    """The current time in UTC, to the millisecond (what we put in timestamps)."""
    t = datetime.datetime.now(datetime.UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


@functools.cache
def _schema(year: int):
    raise NotImplementedError
