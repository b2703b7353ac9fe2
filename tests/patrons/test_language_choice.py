"""The language a patron picks in the switcher follows them: the profile keeps it, so the e-mails
are written in it too (issue 13: choosing English left the e-mails in Japanese)."""

import pytest

from ill import services
from notifications.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_choosing_english_in_the_switcher_sets_the_profile_and_the_e_mails_follow(client, undergraduate, staff_user):
    assert undergraduate.preferred_language == "ja"
    client.force_login(undergraduate.user)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/my/"})
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert response.cookies["django_language"].value == "en"
    undergraduate.refresh_from_db()
    assert undergraduate.preferred_language == "en"
    assert undergraduate.events.filter(action="language").exists()

    request = f.RequestFactory(patron=undergraduate)
    services.cancel(request, actor=staff_user, reason="test")
    message = OutboxMessage.objects.filter(recipient=undergraduate.email).latest("pk")
    assert message.language == "en"


def test_an_unknown_language_changes_nothing_and_staff_have_no_profile(client, undergraduate, staff_user):
    client.force_login(undergraduate.user)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/my/"})
    undergraduate.refresh_from_db()
    assert undergraduate.preferred_language == "ja"
    client.force_login(staff_user)
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/desk/"}).status_code == 302


def test_the_switcher_still_works_signed_out(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
