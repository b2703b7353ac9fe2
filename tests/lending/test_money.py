"""Money as a lender: our fee schedule priced by the same calculator, one charge per shipped request
(fee-offset for participants, invoice for the others, free when zero), invoices numbered per fiscal year
with our issuer and bank details, whole payments only, waivers and offset entries."""

import datetime

import pytest
from django.utils import timezone

from core.errors import ServiceError, TransitionNotAllowed
from ill.models import LendingInstitution
from lending import money, numbers, selectors, services
from lending.models import BorrowerTerms, Invoice, LendingCharge
from tests import factories as f
from tests.lending.test_services import receive_copy, receive_loan

pytestmark = pytest.mark.django_db

State = LendingCharge.State
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def _english(english):
    """Messages are checked in English."""


@pytest.fixture
def staff(db):
    return f.UserFactory(username="lending-desk", is_staff=True)


@pytest.fixture
def participant(db):
    return f.LendingInstitutionFactory(is_offset_participant=True)


@pytest.fixture
def outsider(db):
    library = f.LendingInstitutionFactory(
        is_offset_participant=False, accepts_public_expense=False, name_en="Private Research Institute"
    )
    BorrowerTerms.objects.create(library=library, payment_terms_days=45)
    return library


@pytest.fixture
def schedule(db):
    """Seed 004 example 1's prices as ours: 35 yen a page, postage 140, prices include 10% tax."""
    ours = money.current_schedule()
    ours.mono_price, ours.colour_price, ours.postage_per_shipment = 35, 100, 140
    ours.loan_fee_mode, ours.loan_fee = "round_trip", 1600
    ours.tax_rate_percent, ours.tax_included = 10, True
    ours.save()
    return ours


def copy_shipped(borrower, staff, **fields):
    req = services.will_supply(receive_copy(borrower, **fields), actor=staff)
    services.start_copying(req, actor=staff)
    return services.ship(req, actor=staff, shipping_method=fields.pop("shipping_method", "mail"))


def charged(borrower, staff, total):
    req = services.will_supply(receive_loan(borrower), actor=staff)
    services.ship(req, actor=staff, shipping_method="mail", charge=total)
    return req.charge


# --- pricing --------------------------------------------------------------------------------


def test_a_copy_is_priced_with_our_schedule_like_the_seed_example(participant, staff, schedule):
    req = copy_shipped(participant, staff, page_count=7)
    charge = req.charge
    assert (charge.copy_fee, charge.postage, charge.other_fees, charge.total) == (245, 140, 0, 385)
    assert charge.tax == 35  # 385 × 10 / 110, rounded down: the tax included in the price
    assert [line["code"] for line in charge.lines] == ["copy_mono", "postage"]
    assert (charge.settlement, charge.state, charge.borrower) == ("offset", State.OPEN, participant)


def test_colour_pages_are_priced_at_the_colour_price(participant, staff, schedule):
    assert copy_shipped(participant, staff, page_count=7, colour_pages=2).charge.total == 5 * 35 + 2 * 100 + 140


def test_prices_without_tax_add_the_tax_line(participant, staff, schedule):
    schedule.tax_included = False
    schedule.save()
    charge = copy_shipped(participant, staff, page_count=7).charge
    assert (charge.total, charge.tax) == (385 + 38, 38)
    assert charge.lines[-1]["code"] == "tax"


def test_an_overseas_library_pays_the_flat_fee(staff, schedule):
    schedule.overseas_flat_fee_per_item = 1800
    schedule.save()
    overseas = f.LendingInstitutionFactory(
        kind=LendingInstitution.Kind.OVERSEAS, is_offset_participant=False, accepts_public_expense=False
    )
    charge = copy_shipped(overseas, staff, page_count=7).charge
    assert (charge.total, charge.settlement) == (1800, "invoice")


def test_fax_is_refused_when_our_schedule_does_not_offer_it(participant, staff, schedule):
    req = services.start_copying(services.will_supply(receive_copy(participant), actor=staff), actor=staff)
    with pytest.raises(ServiceError) as exc:
        services.ship(req, actor=staff, shipping_method="fax")
    assert exc.value.field == "shipping_method"
    req.refresh_from_db()
    assert req.status == "copying" and not LendingCharge.objects.exists()


def test_a_copy_without_pages_needs_them_or_a_charge(participant, staff, schedule):
    req = services.start_copying(
        services.will_supply(receive_copy(participant, page_count=None), actor=staff), actor=staff
    )
    with pytest.raises(ServiceError) as exc:
        services.ship(req, actor=staff, shipping_method="mail")
    assert exc.value.field == "page_count"
    services.ship(req, actor=staff, shipping_method="mail", charge=500)
    assert req.charge.lines == [{"code": "agreed", "unit_price": 500, "quantity": 1, "amount": 500, "section": "C"}]
    assert req.charge.tax == 45


def test_loans_quoted_case_by_case_need_the_charge(participant, staff, schedule):
    schedule.loan_fee_mode = "quote"
    schedule.save()
    req = services.will_supply(receive_loan(participant), actor=staff)
    with pytest.raises(ServiceError) as exc:
        services.ship(req, actor=staff, shipping_method="mail")
    assert exc.value.field == "charge"


def test_settlement_follows_the_borrower_and_zero_is_free(participant, outsider, staff):
    assert charged(participant, staff, 1600).settlement == "offset"
    assert charged(outsider, staff, 1600).settlement == "invoice"
    free = charged(outsider, staff, 0)
    assert (free.settlement, free.state, free.lines) == ("free", State.PAID, [])
    assert not selectors.open_charges().filter(pk=free.pk).exists()


def test_our_schedule_is_checked_like_a_lenders(db):
    schedule = money.current_schedule()
    schedule.loan_fee_mode, schedule.loan_fee = "round_trip", 0
    with pytest.raises(Exception) as exc:
        schedule.full_clean()
    assert "loan_fee" in exc.value.message_dict


# --- numbers ----------------------------------------------------------------------------------


def test_numbers_are_counted_per_fiscal_year(db):
    assert numbers.next_lending_number(datetime.date(2027, 3, 31)) == "L26-000001"
    assert numbers.next_lending_number(datetime.date(2026, 4, 1)) == "L26-000002"
    assert numbers.next_lending_number(datetime.date(2027, 4, 1)) == "L27-000001"
    assert numbers.next_invoice_number(datetime.date(2026, 3, 31)) == "INV-2025-0001"
    assert numbers.next_invoice_number(datetime.date(2026, 4, 1)) == "INV-2026-0001"
    assert numbers.next_invoice_number(datetime.date(2026, 12, 1)) == "INV-2026-0002"


# --- invoices ---------------------------------------------------------------------------------


def test_an_invoice_for_open_charges_of_one_library(outsider, staff, settings):
    settings.LENDING_INVOICE_ISSUER = {"name": "東都大学附属図書館", "registration_number": "T1234567890123"}
    settings.LENDING_BANK_DETAILS = {"bank": "みずほ銀行", "account_holder_kana": "トウトダイガク"}
    charges = [charged(outsider, staff, 1600), charged(outsider, staff, 800)]
    invoice = services.issue_invoice(outsider, charges, actor=staff)
    assert invoice.number == f"INV-{numbers.fiscal_year_of(TODAY())}-0001"
    assert (invoice.total, invoice.issued_on, invoice.due_on) == (2400, TODAY(), TODAY() + datetime.timedelta(45))
    assert invoice.tax == 2400 * 10 // 110  # 218: computed once on the invoice, not 145 + 72 per line
    assert invoice.issuer["registration_number"] == "T1234567890123"
    assert invoice.bank_details["account_holder_kana"] == "トウトダイガク"
    assert sorted(c.pk for c in invoice.charges.all()) == sorted(c.pk for c in charges)
    assert set(invoice.charges.values_list("state", flat=True)) == {State.INVOICED}
    assert charges[0].request.events.last().action == "invoice_issued"
    assert list(selectors.open_invoices()) == [invoice]
    assert list(selectors.overdue_invoices(invoice.due_on + datetime.timedelta(1))) == [invoice]
    # a later change of the settings does not alter the invoice issued
    settings.LENDING_INVOICE_ISSUER = {"name": "Renamed"}
    invoice.refresh_from_db()
    assert invoice.issuer["name"] == "東都大学附属図書館"


def test_the_invoices_consumption_tax_is_rounded_once_on_its_total(outsider, staff, schedule):
    """A qualified invoice (適格請求書) rounds the tax once per invoice and rate: two charges of 105 yen
    including 10 % make 210 yen, of which 19 yen tax (not 9 + 9 rounded per line)."""
    charges = [charged(outsider, staff, 105), charged(outsider, staff, 105)]
    assert [c.tax for c in charges] == [9, 9]
    invoice = services.issue_invoice(outsider, charges, actor=staff)
    assert (invoice.total, invoice.tax, invoice.tax_rate_percent) == (210, 19, 10)
    schedule.tax_rate_percent = 8
    schedule.save()
    invoice.refresh_from_db()
    assert invoice.tax_rate_percent == 10  # the invoice sent says what it said


def test_payment_terms_default_to_30_days(staff):
    library = f.LendingInstitutionFactory(is_offset_participant=False, accepts_public_expense=False)
    invoice = services.issue_invoice(library, [charged(library, staff, 500)], actor=staff)
    assert invoice.due_on == TODAY() + datetime.timedelta(30)


def test_an_invoice_takes_only_open_invoice_charges_of_that_library(outsider, participant, staff):
    offset = charged(participant, staff, 1600)
    other_library = charged(
        f.LendingInstitutionFactory(is_offset_participant=False, accepts_public_expense=False), staff, 800
    )
    mine = charged(outsider, staff, 1600)
    for wrong in ([offset], [other_library], [mine, other_library], []):
        with pytest.raises(ServiceError):
            services.issue_invoice(outsider, wrong, actor=staff)
    assert not Invoice.objects.exists()
    mine.refresh_from_db()
    assert mine.state == State.OPEN  # nothing half-saved
    services.issue_invoice(outsider, [mine], actor=staff)
    with pytest.raises(ServiceError) as exc:
        services.issue_invoice(outsider, [mine], actor=staff)  # already invoiced
    assert mine.request.number in str(exc.value)


def test_a_malformed_registration_number_is_refused_before_anything_is_saved(outsider, staff, settings):
    settings.LENDING_INVOICE_ISSUER = {"registration_number": "T123"}
    with pytest.raises(ServiceError) as exc:
        services.issue_invoice(outsider, [charged(outsider, staff, 100)], actor=staff)
    assert exc.value.code == "bad_registration_number"
    assert not Invoice.objects.exists()


def test_only_the_whole_amount_is_recorded_as_paid(outsider, staff):
    invoice = services.issue_invoice(outsider, [charged(outsider, staff, 1600)], actor=staff)
    with pytest.raises(ServiceError) as exc:
        services.record_payment(invoice, actor=staff, paid_on=TODAY(), amount=1000)
    assert exc.value.code == "partial_payment" and "Partial payments" in str(exc.value)
    for bad in (
        {"paid_on": TODAY() + datetime.timedelta(1), "amount": 1600},
        {"paid_on": None, "amount": 1600},
        {"paid_on": TODAY(), "amount": "1600"},
    ):
        with pytest.raises(ServiceError):
            services.record_payment(invoice, actor=staff, **bad)
    invoice.refresh_from_db()
    assert invoice.paid_on is None
    services.record_payment(invoice, actor=staff, paid_on=TODAY(), amount=1600)
    invoice.refresh_from_db()
    assert (invoice.paid_on, invoice.paid_amount, invoice.payment_recorded_by) == (TODAY(), 1600, staff)
    assert set(invoice.charges.values_list("state", flat=True)) == {State.PAID}
    assert not selectors.open_invoices().exists()
    with pytest.raises(TransitionNotAllowed):
        services.record_payment(invoice, actor=staff, paid_on=TODAY(), amount=1600)
    with pytest.raises(TransitionNotAllowed):
        services.cancel_invoice(invoice, actor=staff, reason="late")


def test_a_cancelled_invoice_frees_its_charges_for_a_new_one(outsider, staff):
    charge = charged(outsider, staff, 1600)
    first = services.issue_invoice(outsider, [charge], actor=staff)
    with pytest.raises(ServiceError):
        services.cancel_invoice(first, actor=staff, reason=" ")
    services.cancel_invoice(first, actor=staff, reason="wrong address")
    charge.refresh_from_db()
    assert (charge.state, charge.invoice) == (State.OPEN, None)
    with pytest.raises(TransitionNotAllowed):
        services.record_payment(first, actor=staff, paid_on=TODAY(), amount=1600)
    second = services.issue_invoice(outsider, [charge], actor=staff)
    assert second.number != first.number and second.number.endswith("0002")


# --- waivers and fee-offset -----------------------------------------------------------------


def test_waive_needs_a_reason_and_an_unsettled_charge_not_on_an_invoice(outsider, staff):
    charge = charged(outsider, staff, 1600)
    with pytest.raises(ServiceError):
        services.waive(charge, actor=staff, reason="")
    services.waive(charge, actor=staff, reason="damaged in the post; copied again")
    charge.refresh_from_db()
    assert (charge.state, charge.waived_by) == (State.WAIVED, staff)
    with pytest.raises(TransitionNotAllowed):
        services.waive(charge, actor=staff, reason="again")
    invoiced = charged(outsider, staff, 800)
    invoice = services.issue_invoice(outsider, [invoiced], actor=staff)
    with pytest.raises(TransitionNotAllowed) as exc:
        services.waive(invoiced, actor=staff, reason="goodwill")
    assert invoice.number in str(exc.value)


def test_offset_charges_are_entered_then_settled(participant, outsider, staff):
    offset = charged(participant, staff, 1600)
    invoice_charge = charged(outsider, staff, 800)
    with pytest.raises(ServiceError):
        services.record_offset([offset, invoice_charge], actor=staff)
    assert list(selectors.offsettable_charges()) == [offset]
    services.record_offset([offset], actor=staff, statement_ref="2026-11")
    offset.refresh_from_db()
    assert (offset.state, offset.offset_statement_ref) == (State.OFFSET_RECORDED, "2026-11")
    with pytest.raises(ServiceError):
        services.record_offset([offset], actor=staff)
    services.record_offset_settled([offset], actor=staff, paid_on=TODAY())
    offset.refresh_from_db()
    assert (offset.state, offset.paid_on) == (State.PAID, TODAY())
    assert offset.request.events.last().action == "offset_settled"


def test_a_cancelled_invoice_keeps_the_lines_its_total_is_made_of(outsider, staff):
    """Its charges go back to be invoiced again, but the invoice that was sent still shows what it asked
    for: its total is its lines added up, before and after the cancellation."""
    charges = [charged(outsider, staff, 1600), charged(outsider, staff, 800)]
    invoice = services.issue_invoice(outsider, charges, actor=staff)
    services.cancel_invoice(invoice, actor=staff, reason="wrong address")
    invoice.refresh_from_db()
    assert not invoice.charges.exists()
    assert [(line["request"], line["total"]) for line in invoice.lines] == [
        (charges[0].request.number, 1600),
        (charges[1].request.number, 800),
    ]
    assert sum(line["total"] for line in invoice.lines) == invoice.total == 2400
