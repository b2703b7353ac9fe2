"""iso18626.xml: every message kind builds to XML valid against the 2021 XSD and parses back the same;
what we cannot believe (not well-formed, DTDs and entities, too big, invalid) is a BadMessage."""

import datetime
import decimal
import time

import pytest

from iso18626 import xml as X

A = X.AgencyId("JP-1000001")
B = X.AgencyId("JP-1000002")
T = datetime.datetime(2026, 12, 1, 10, 30, 15, 123000, tzinfo=datetime.UTC)


def header(**kw):
    fields = dict(requesting_agency_id=A, supplying_agency_id=B, timestamp=T, requesting_agency_request_id="ILL-1")
    fields.update(kw)
    return X.Header(**fields)


def full_request():
    return X.Request(
        header=header(multiple_item_request_id="M-1"),
        bibliographic_info=X.BibliographicInfo(
            title="日本の近代図書館史",
            author="山田 太郎",
            subtitle="明治から昭和へ",
            series_title="図書館叢書",
            edition="第2版",
            title_of_component="論文の題",
            author_of_component="佐藤 花子",
            volume="3",
            issue="12",
            pages_requested="10-24",
            estimated_no_pages="15",
            supplier_unique_record_id="BB1234",
            item_ids=[("ISBN", "9784000000002"), ("ISSN", "0028-0836")],
            record_ids=[("NCID", "BA12345678")],
        ),
        service_info=X.ServiceInfo(
            service_type="Copy",
            request_type="New",
            request_sub_types=["PatronRequest"],
            need_before_date=T + datetime.timedelta(days=14),
            copyright_compliance="JP-Art31",
            any_edition=False,
            preferred_edition="ThisEdition",
            note="研究用",
        ),
        publication_info=X.PublicationInfo(
            publisher="岩波書店", publication_type="Book", publication_date="2020", place_of_publication="東京"
        ),
        supplier_info=[X.SupplierInfo(sort_order=1, supplier_code=B, call_number="010.2/Y")],
        requested_delivery_info=[
            X.RequestedDeliveryInfo(
                sort_order=0,
                address=X.PhysicalAddress(line1="1-1 Hongo", locality="Bunkyo", postal_code="113-0033", country="JP"),
                delivery_method="Mail",
            ),
            X.RequestedDeliveryInfo(sort_order=1, address=X.ElectronicAddress("Email", "ill@example.ac.jp")),
        ],
        requesting_agency_info=X.RequestingAgencyInfo(name="A University Library", contact_name="ILL desk"),
        patron_info=X.PatronInfo(patron_id="P-0001", send_to_patron=False),
        billing_info=X.BillingInfo(maximum_costs=X.Costs(decimal.Decimal("1500")), payment_method="Offset"),
    )


def supplying(**kw):
    fields = dict(
        header=header(supplying_agency_request_id="L-9"),
        message_info=X.MessageInfo("RequestResponse", note="発送しました"),
        status_info=X.StatusInfo("Loaned", T, due_date=T + datetime.timedelta(days=30)),
        delivery_info=X.DeliveryInfo(
            T,
            item_ids=["B0001234"],
            delivery_method="Mail",
            sent_to_patron=False,
            loan_conditions=["LibraryUseOnly"],
            item_format="Paper",
            delivery_costs=X.Costs(decimal.Decimal("1200")),
        ),
        return_info=X.ReturnInfo(return_agency_id=B, name="ILL desk", physical_address=X.PhysicalAddress(line1="x")),
    )
    fields.update(kw)
    return X.SupplyingAgencyMessage(**fields)


def confirmations():
    h = X.ConfirmationHeader(T, T, "OK", B, A, "ILL-1")
    e = X.ConfirmationHeader(T, T, "ERROR", B, A, "ILL-1")
    return [
        X.RequestConfirmation(h),
        X.RequestConfirmation(e, [X.ErrorData("UnrecognisedDataValue", "no such title")]),
        X.SupplyingAgencyMessageConfirmation(h, reason_for_message="StatusChange"),
        X.RequestingAgencyMessageConfirmation(e, [X.ErrorData("UnsupportedActionType")], action="Lost"),
    ]


@pytest.mark.parametrize(
    "message",
    [
        full_request(),
        X.Request(header(supplying_agency_id=None), X.BibliographicInfo(title="t"), X.ServiceInfo("Loan")),
        supplying(),
        supplying(
            message_info=X.MessageInfo("StatusChange", answer_yes_no=True, reason_unfilled="NotHeld"),
            status_info=X.StatusInfo("Unfilled", T),
            delivery_info=None,
            return_info=None,
            retry_info=X.RetryInfo(offered_costs=[X.Costs(decimal.Decimal("2000"))], retry_before=T),
            shipping_info=X.ShippingInfo(courier_name="Yamato", tracking_ids=["1234-5678"]),
        ),
        X.RequestingAgencyMessage(header(supplying_agency_request_id="L-9"), "Renew", "もう2週間お願いします"),
        X.RequestingAgencyMessage(header(), "ShippedReturn"),
        *confirmations(),
    ],
    ids=lambda m: m.message_type,
)
def test_every_message_builds_valid_and_parses_back_the_same(message):
    raw = X.build(message)
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b'ill:version="1.2"' in raw
    assert not list(X._schema(2021).iter_errors(X.read_root(raw)))
    assert X.parse(raw) == message


def test_a_message_the_schema_refuses_is_never_built():
    with pytest.raises(X.InvalidOutgoing, match="status"):
        X.build(supplying(status_info=X.StatusInfo("Shipped", T)))  # not a status of the standard
    with pytest.raises(X.InvalidOutgoing, match="supplyingAgencyId"):
        X.build(X.RequestingAgencyMessage(header(supplying_agency_id=None), "Cancel"))  # required there
    with pytest.raises(X.InvalidOutgoing):
        X.build(X.RequestingAgencyMessage(header(), "Returned"))  # not an action


def test_confirmation_for_copies_the_ids_and_echoes_the_action_or_reason():
    ram = X.RequestingAgencyMessage(header(), "Cancel")
    ok = X.confirmation_for(ram)
    assert (ok.header.message_status, ok.action, ok.header.requesting_agency_request_id) == ("OK", "Cancel", "ILL-1")
    assert ok.header.supplying_agency_id == B and ok.header.requesting_agency_id == A
    bad = X.confirmation_for(supplying(), errors=[X.ErrorData("UnrecognisedDataValue", "?")])
    assert bad.header.message_status == "ERROR" and bad.reason_for_message == "RequestResponse"
    assert isinstance(X.confirmation_for(full_request()), X.RequestConfirmation)
    X.build(ok), X.build(bad)  # both valid


def test_error_confirmation_without_ids_is_valid():
    parsed = X.parse(X.error_confirmation("supplyingAgencyMessage", "BadlyFormedMessage", "x" * 2000))
    assert isinstance(parsed, X.SupplyingAgencyMessageConfirmation)
    assert parsed.errors[0].error_type == "BadlyFormedMessage" and len(parsed.errors[0].error_value) == 500
    assert isinstance(X.parse(X.error_confirmation("", "BadlyFormedMessage", "x")), X.RequestConfirmation)


def _bad(raw: bytes) -> X.BadMessage:
    with pytest.raises(X.BadMessage) as info:
        X.parse(raw)
    assert info.value.error_type == "BadlyFormedMessage"
    return info.value


def test_not_well_formed_empty_or_foreign_xml_is_a_bad_message():
    assert "well-formed" in _bad(b"<ISO18626Message").error_value
    assert "empty" in _bad(b"  ").error_value
    assert "root" in _bad(b"<html><body>hello</body></html>").error_value
    two = X.build(X.RequestingAgencyMessage(header(), "Cancel")).replace(
        b"</ill:ISO18626Message>", b"<ill:request/></ill:ISO18626Message>"
    )
    assert "exactly one" in _bad(two).error_value
    assert (
        "unknown"
        in _bad(
            X.build(X.RequestingAgencyMessage(header(), "Cancel")).replace(b"requestingAgencyMessage", b"somethingElse")
        ).error_value
    )


def test_dtds_and_entities_are_refused_before_they_expand():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10) for i in range(1, 10)
        )
        + b']><ISO18626Message xmlns="http://illtransactions.org/2013/iso18626">&lol9;</ISO18626Message>'
    )
    started = time.monotonic()
    assert "DTD" in _bad(laughs).error_value
    assert time.monotonic() - started < 1
    external = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626">&e;</ISO18626Message>'
    )
    assert "DTD" in _bad(external).error_value


def test_a_body_over_the_cap_is_refused_unread():
    raw = X.build(full_request()).replace(b"<ill:title>", b"<ill:title>" + b"x" * X.MAX_BODY_BYTES)
    assert "larger" in _bad(raw).error_value


def test_schema_invalid_names_the_problem_and_the_message_type():
    raw = X.build(supplying()).replace(b"<ill:status>Loaned<", b"<ill:status>Lent<")
    error = _bad(raw)
    assert error.message_type == "supplyingAgencyMessage"
    assert "status" in error.error_value and "{http" not in error.error_value
    missing_version = X.build(supplying()).replace(b' ill:version="1.2"', b"")
    assert "version" in _bad(missing_version).error_value


def test_a_2017_message_is_read_with_its_renamed_elements():
    raw = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626" '
        b'xmlns:ill="http://illtransactions.org/2013/iso18626" ill:version="1.2"><supplyingAgencyMessage>'
        b"<header><supplyingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>JP-1000002</agencyIdValue>"
        b"</supplyingAgencyId><requestingAgencyId><agencyIdType>ISIL</agencyIdType>"
        b"<agencyIdValue>JP-1000001</agencyIdValue></requestingAgencyId><multipleItemRequestId/><timestamp>2026-12-01T10:00:00Z</timestamp>"
        b"<requestingAgencyRequestId>ILL-1</requestingAgencyRequestId></header>"
        b"<messageInfo><reasonForMessage>RequestResponse</reasonForMessage>"
        b"<offeredCosts><currencyCode>JPY</currencyCode><monetaryValue>800</monetaryValue></offeredCosts>"
        b"</messageInfo><statusInfo><status>CopyCompleted</status><lastChange>2026-12-01T10:00:00Z</lastChange>"
        b"</statusInfo><deliveryInfo><dateSent>2026-12-01T09:00:00Z</dateSent><sentVia>Mail</sentVia>"
        b"<deliveredFormat>Paper</deliveredFormat></deliveryInfo></supplyingAgencyMessage></ISO18626Message>"
    )
    message = X.parse(raw)
    assert message.schema_year == 2017
    assert message.delivery_info.delivery_method == "Mail" and message.delivery_info.item_format == "Paper"
    assert message.retry_info.offered_costs[0].yen == 800
    assert message.status_info.status == "CopyCompleted"


def test_times_are_read_in_any_offset_and_written_in_utc():
    raw = X.build(supplying()).replace(
        b"2026-12-01T10:30:15.123Z</ill:timestamp>", b"2026-12-01T19:30:15.1234567+09:00</ill:timestamp>"
    )
    parsed = X.parse(raw)
    assert parsed.header.timestamp == T + datetime.timedelta(microseconds=456)
    naive = X.build(supplying()).replace(
        b"2026-12-01T10:30:15.123Z</ill:timestamp>", b"2026-12-01T10:30:15</ill:timestamp>"
    )
    assert X.parse(naive).header.timestamp.tzinfo is not None
    jst = datetime.timezone(datetime.timedelta(hours=9))
    assert b"2026-12-01T10:30:15.123Z" in X.build(supplying(header=header(timestamp=T.astimezone(jst))))


def test_costs_in_whole_yen():
    assert X.Costs(decimal.Decimal("1200.50")).yen == 1201
    assert X.parse(X.build(full_request())).billing_info.maximum_costs == X.Costs(decimal.Decimal("1500"), "JPY")


def test_bibliographic_identifiers_are_looked_up_by_code():
    info = full_request().bibliographic_info
    assert info.item_id("isbn") == "9784000000002" and info.record_id("NCID") == "BA12345678"
    assert info.item_id("DOI") == ""


def test_the_schemas_are_ours_and_an_operator_may_name_another(settings, tmp_path):
    """Our own XSDs (written for this project) by default; ISO18626_SCHEMA_PATH replaces the 2021 one."""
    assert (X.SCHEMA_2021.name, X.SCHEMA_2017.name) == ("iso18626-2021.xsd", "iso18626-2017.xsd")
    for path in (X.SCHEMA_2021, X.SCHEMA_2017):
        assert b"Written for this project" in path.read_bytes()
    settings.ISO18626_SCHEMA_PATH = ""
    assert X.schema_path() == X.SCHEMA_2021
    # Another XSD named by the setting is the one messages are validated against (here: one that
    # has no "Copy" service type, so a copy request that ours accepts is refused).
    strict = tmp_path / "official.xsd"
    strict.write_bytes(X.SCHEMA_2021.read_bytes().replace(b'<xs:enumeration value="Copy"/>', b""))
    settings.ISO18626_SCHEMA_PATH = str(strict)
    assert X.schema_path() == strict and X.schema_path(2017) == X.SCHEMA_2017
    with pytest.raises(X.InvalidOutgoing, match="serviceType"):
        X.build(full_request())
    settings.ISO18626_SCHEMA_PATH = ""
    assert X.parse(X.build(full_request())) == full_request()


@pytest.mark.parametrize("confirmation", confirmations()[:3], ids=lambda m: m.message_type)
def test_our_confirmations_are_valid_for_a_2017_peer_too(confirmation):
    """A peer on the 2017 schema (WorldShare's samples, ReShare's older fixtures) can read our answers."""
    assert not list(X._schema(2017).iter_errors(X.read_root(X.build(confirmation))))
