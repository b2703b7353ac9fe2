"""The peer's shared secret in the admin is write-only: never shown, kept when left blank, replaced when typed."""

import pytest

from iso18626.models import Peer
from tests import factories as f

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-only-the-two-libraries-know"


@pytest.fixture
def peer():
    library = f.LendingInstitutionFactory(isil="JP-1000002")
    return Peer.objects.create(library=library, endpoint_url="https://b.example.ac.jp/iso18626/", shared_secret=SECRET)


def form_data(peer, **changes):
    data = {"library": peer.library.pk, "endpoint_url": peer.endpoint_url, "shared_secret": "", "active": "on"}
    data.update(changes)
    return data


def test_the_secret_is_never_shown(admin_client, peer):
    page = admin_client.get(f"/admin/iso18626/peer/{peer.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert SECRET not in page
    assert 'type="password"' in page and "Leave this blank to keep it" in page


def test_left_blank_the_stored_secret_is_kept(admin_client, peer):
    response = admin_client.post(
        f"/admin/iso18626/peer/{peer.pk}/change/", form_data(peer, endpoint_url="https://c.example.ac.jp/iso18626/")
    )
    assert response.status_code == 302
    peer.refresh_from_db()
    assert (peer.shared_secret, peer.endpoint_url) == (SECRET, "https://c.example.ac.jp/iso18626/")


def test_a_typed_secret_replaces_it(admin_client, peer):
    response = admin_client.post(f"/admin/iso18626/peer/{peer.pk}/change/", form_data(peer, shared_secret="new-one"))
    assert response.status_code == 302
    peer.refresh_from_db()
    assert peer.shared_secret == "new-one"


def test_a_new_peer_needs_a_secret(admin_client):
    library = f.LendingInstitutionFactory(isil="JP-1000003")
    data = {"library": library.pk, "endpoint_url": "https://d.example.ac.jp/iso18626/", "active": "on"}
    response = admin_client.post("/admin/iso18626/peer/add/", {**data, "shared_secret": ""})
    assert response.status_code == 200 and not Peer.objects.exists()
    assert admin_client.post("/admin/iso18626/peer/add/", {**data, "shared_secret": "x"}).status_code == 302
    assert Peer.objects.get().shared_secret == "x"
