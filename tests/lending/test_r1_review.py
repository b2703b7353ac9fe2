# ruff: noqa: F811  (the fixtures are imported from the neighbouring test module)
"""Review r1: a NUL byte typed into (or put in the address of) a lending desk page is not a 500."""

import pytest

from lending import services
from lending.models import Invoice, LendingCharge
from tests import factories as f
from tests.lending.test_views import (  # noqa: F401
    a_copy,
    desk,
    invoice_library,
    offset_library,
    reload,
    schedule,
    shipped_copy,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/desk/lending/L26-0%00/",
        "/desk/lending/L26-0%00/slip/",
        "/desk/lending/L26-0%00/note/",
        "/desk/lending/charges/FA%00/",
        "/desk/lending/invoices/INV%00/",
        "/desk/lending/invoices/INV%00/payment/",
        "/desk/lending/invoices/INV%00/cancel/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_nul_byte_in_a_number_is_a_404(desk, path, method):
    assert getattr(desk, method)(path).status_code == 404


def test_a_library_code_with_other_characters_still_has_its_charges_page(desk, schedule):
    library = f.LendingInstitutionFactory(code="図書館 1")
    assert desk.get(f"/desk/lending/charges/{library.code}/").status_code == 200


def test_a_nul_byte_in_an_invoice_cancel_reason_is_dropped_not_a_500(desk, invoice_library, shipped_copy):
    invoice = services.issue_invoice(invoice_library, [shipped_copy.charge], actor=None)
    response = desk.post(f"/desk/lending/invoices/{invoice.number}/cancel/", {"reason": "Wrong\x00 library"})
    assert response.status_code == 302
    assert Invoice.objects.get().cancelled_reason == "Wrong library"


def test_a_nul_byte_in_the_statement_reference_is_dropped_not_a_500(desk, offset_library, schedule):
    item = a_copy(offset_library)
    services.will_supply(item, actor=None)
    services.start_copying(item, actor=None)
    services.ship(item, actor=None, shipping_method="mail")
    charge = reload(item).charge
    response = desk.post("/desk/lending/charges/", {"charge": [charge.pk], "statement_ref": "2026\x00-11"})
    assert response.status_code == 302
    assert LendingCharge.objects.get().offset_statement_ref == "2026-11"


@pytest.mark.parametrize("page", ["/desk/lending/charges/", "/desk/lending/charges/{code}/"])
def test_a_charge_id_of_digits_int_refuses_is_a_4xx_not_a_500(desk, invoice_library, page):
    # "²".isdigit() is True but int("²") raises ValueError.
    response = desk.post(page.format(code=invoice_library.code), {"charge": ["²"], "statement_ref": "x"})
    assert response.status_code in (400, 404, 409)
