"""The borrower's billing address is edited in a box with lines (〒, address, department)."""

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_billing_address_is_a_box_with_lines(admin_client):
    library = f.LendingInstitutionFactory()
    page = admin_client.get(f"/admin/lending/borrowerterms/add/?library={library.pk}").content.decode()
    assert '<textarea name="billing_address"' in page
