"""Issue 13, campus sign-in: SAML 2.0 with the university's identity provider (djangosaml2), played
here by pysaml2 (tests/saml_idp.py) with real signed and encrypted assertions. Who is let in (the
mapping rules), who is refused and how, and that with SAML_ENABLED off nothing of it exists."""

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client, override_settings
from saml2 import BINDING_HTTP_POST

from patrons import saml
from patrons.models import Patron, PatronEvent
from tests import factories as f
from tests.saml_idp import SCOPE, SamlTestIdP, site_settings

ROOT = Path(__file__).resolve().parents[2]
SP_URL = "http://testserver"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pages_in_english(settings):
    """The refusal pages are asserted in English: requests without a language cookie get the default."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def idp(tmp_path):
    server = SamlTestIdP(tmp_path, users={})
    yield server
    server.server.server_close()


@pytest.fixture
def saml_on(idp):
    with site_settings(SP_URL, idp):
        yield idp


def attributes(eppn="s1234567@" + SCOPE, affiliation="student", number=None, name="山田 太郎", mail=None):
    found = {"eduPersonPrincipalName": [eppn], "eduPersonAffiliation": [affiliation], "displayName": [name]}
    if number:
        found["schacPersonalUniqueCode"] = [f"urn:schac:personalUniqueCode:jp:{SCOPE}:studentID:{number}"]
    if mail:
        found["mail"] = [mail]
    return found


def _field(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def start(client, next_url="/my/"):
    """The SP's sign-in start (HTTP-POST binding): the AuthnRequest the browser would carry."""
    response = client.get("/saml2/login/", {"next": next_url})
    assert response.status_code == 200, response.content
    return response, _field(response.content.decode(), "SAMLRequest")


def sign_in(client, idp, attrs, next_url="/my/", tamper=None):
    """The whole round trip without a browser: start, the IdP's answer, the POST to /saml2/acs/."""
    _page, saml_request = start(client, next_url)
    request = idp.idp.parse_authn_request(saml_request, BINDING_HTTP_POST).message
    answer = idp.answer(request, "someone", attrs, relay_state=next_url).decode()
    saml_response = _field(answer, "SAMLResponse")
    if tamper:
        saml_response = base64.b64encode(tamper(base64.b64decode(saml_response))).decode()
    return client.post("/saml2/acs/", {"SAMLResponse": saml_response, "RelayState": next_url})


def signed_in_user(client):
    return client.session.get(SESSION_KEY)


def refusal(client, response):
    assert response.status_code == 303
    page = client.get(response["Location"])
    assert page.status_code == 403
    return page


# --- off by default --------------------------------------------------------------------------


def test_with_the_setting_off_there_is_no_saml_url_and_no_button(client):
    assert client.get("/saml2/login/").status_code == 404
    assert client.get("/saml2/acs/").status_code == 404
    page = client.get("/accounts/login/").content.decode()
    assert 'id="saml-login"' not in page
    assert 'id="login-form"' in page


PROBE = (
    "import json, django; from django.conf import settings; django.setup(); from django.urls import reverse; "
    "print(json.dumps({'login': reverse('saml2_login'), 'acs': reverse('saml2_acs'), "
    "'middleware': 'djangosaml2.middleware.SamlSessionMiddleware' in settings.MIDDLEWARE, "
    "'backend': 'patrons.saml.PatronSamlBackend' in settings.AUTHENTICATION_BACKENDS, "
    "'apps': 'djangosaml2' in settings.INSTALLED_APPS, "
    "'entity': settings.SAML_CONFIG['entityid'], "
    "'acs_url': settings.SAML_CONFIG['service']['sp']['endpoints']['assertion_consumer_service'][0][0], "
    "'session_samesite': settings.SESSION_COOKIE_SAMESITE, "
    "'saml_samesite': settings.SAML_SESSION_COOKIE_SAMESITE, "
    "'saml_cookie': settings.SAML_SESSION_COOKIE_NAME, 'session_cookie': settings.SESSION_COOKIE_NAME}))"
)


def _probe(module, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SAML_", "DJANGO_")) and k not in ("EMAIL_URL", "SITE_URL")
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
    )


def test_saml_enabled_wires_middleware_backend_urls_and_a_cross_site_cookie_of_its_own(idp):
    result = _probe(
        "config.settings.production",
        SAML_ENABLED="true",
        SAML_IDP_METADATA=str(idp.metadata_path),
        SITE_URL="https://ill.example.ac.jp",
        DJANGO_SECRET_KEY="k7Vq2nXw9LpR4sTz8mYb3cHd6fJg1aKe5uNo0iWy-QrP_xZtU2vB8nM4",
        DJANGO_ALLOWED_HOSTS="ill.example.ac.jp",
        EMAIL_URL="smtp://mail.example.ac.jp:587/?tls=True",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["login"] == "/saml2/login/" and values["acs"] == "/saml2/acs/"
    assert values["middleware"] and values["backend"] and values["apps"]
    assert values["entity"] == "https://ill.example.ac.jp/saml2/metadata/"
    assert values["acs_url"] == "https://ill.example.ac.jp/saml2/acs/"
    # The IdP's answer is a cross-site POST: djangosaml2's own cookie is SameSite=None (with Secure in
    # production); the site's session cookie is not weakened.
    assert values["saml_samesite"] == "None"
    assert values["session_samesite"] == "Lax"
    assert values["saml_cookie"] != values["session_cookie"]


def test_saml_enabled_without_metadata_refuses_to_start_with_a_clear_message():
    result = _probe("config.settings.test", SAML_ENABLED="true")
    assert result.returncode != 0
    assert "SAML_IDP_METADATA" in result.stderr


# --- the mapping rules -----------------------------------------------------------------------------


def test_the_login_page_offers_the_university_account_above_the_local_form(client, saml_on):
    page = client.get("/accounts/login/?next=/my/").content.decode()
    assert 'id="saml-login"' in page
    assert page.index('id="saml-login"') < page.index('id="login-form"')
    assert 'href="/saml2/login/?next=/my/"' in page


def test_a_patron_linked_by_eppn_is_signed_in_and_sent_on(client, saml_on, branch):
    patron = f.PatronFactory(eppn="s1234567@" + SCOPE, home_branch=branch, preferred_language="en")
    response = sign_in(client, saml_on, attributes())
    assert response.status_code == 302
    assert response["Location"] == "/my/"
    assert signed_in_user(client) == str(patron.user.pk)
    assert response.cookies["django_language"].value == "en"  # the patron's language, as after a password
    assert client.get("/my/").status_code == 200


def test_a_patron_found_by_student_number_is_linked_once(client, saml_on, branch):
    patron = f.PatronFactory(patron_number="s1234567", home_branch=branch)
    response = sign_in(client, saml_on, attributes(number="s1234567"))
    assert response.status_code == 302
    assert signed_in_user(client) == str(patron.user.pk)
    patron.refresh_from_db()
    assert patron.eppn == "s1234567@" + SCOPE
    assert PatronEvent.objects.filter(patron=patron, action="saml_linked").count() == 1


def test_an_unknown_person_is_refused_with_a_clear_page_and_nothing_is_created(client, saml_on, branch, english):
    users = get_user_model().objects.count()
    response = sign_in(client, saml_on, attributes(number="s7654321"))
    page = refusal(client, response)
    assert b"not registered for interlibrary loan" in page.content
    assert b"library counter" in page.content
    assert signed_in_user(client) is None
    assert get_user_model().objects.count() == users
    assert not Patron.objects.filter(eppn__startswith="s1234567").exists()


def test_the_refusal_page_speaks_the_users_language(client, saml_on, branch):
    client.cookies["django_language"] = "en"
    page = refusal(client, sign_in(client, saml_on, attributes()))
    assert '<html lang="en">' in page.content.decode()


def test_unknown_people_are_created_only_when_the_setting_allows(client, idp, branch):
    with site_settings(SP_URL, idp, SAML_CREATE_PATRONS=True):
        response = sign_in(
            client, idp, attributes(eppn="t.suzuki@" + SCOPE, affiliation="faculty@" + SCOPE, number="F0042")
        )
        assert response.status_code == 302
    patron = Patron.objects.get(eppn="t.suzuki@" + SCOPE)
    assert (patron.patron_number, patron.category, patron.home_branch) == ("F0042", "faculty", branch)
    assert patron.full_name == "山田 太郎"
    assert not patron.user.has_usable_password()
    assert signed_in_user(client) == str(patron.user.pk)
    assert PatronEvent.objects.filter(patron=patron, action="saml_created").exists()


def test_a_student_affiliation_makes_a_student_and_no_number_no_patron(client, idp, branch, english):
    with site_settings(SP_URL, idp, SAML_CREATE_PATRONS=True):
        sign_in(client, idp, attributes(eppn="new@" + SCOPE, number="s0001"))
        assert Patron.objects.get(eppn="new@" + SCOPE).category == "undergraduate"
        client.logout()
        page = refusal(client, sign_in(client, idp, attributes(eppn="nonumber@" + SCOPE)))
        assert b"did not send" in page.content
        page = refusal(client, sign_in(client, idp, attributes(eppn="alum@" + SCOPE, affiliation="alum", number="9")))
        assert b"not registered" in page.content
    assert not Patron.objects.filter(eppn__in=["nonumber@" + SCOPE, "alum@" + SCOPE]).exists()


def test_a_local_login_with_the_same_name_is_never_taken_over(client, idp, branch):
    local = f.UserFactory(username="taken@" + SCOPE)
    with site_settings(SP_URL, idp, SAML_CREATE_PATRONS=True):
        response = sign_in(client, idp, attributes(eppn="taken@" + SCOPE, number="s42"))
    assert response.status_code == 303
    assert signed_in_user(client) is None
    assert not Patron.objects.filter(user=local).exists()


def test_a_patron_who_left_is_refused(client, saml_on, branch, english):
    f.PatronFactory(eppn="s1234567@" + SCOPE, home_branch=branch, active=False)
    page = refusal(client, sign_in(client, saml_on, attributes()))
    assert b"registration as a library user has ended" in page.content
    assert signed_in_user(client) is None


def test_staff_never_get_in_by_saml(client, saml_on, branch, staff_user, english):
    patron = f.PatronFactory(user=staff_user, patron_number="s1234567", home_branch=branch)
    page = refusal(client, sign_in(client, saml_on, attributes(number="s1234567")))
    assert b"sign in with their library user name and password" in page.content
    assert signed_in_user(client) is None
    patron.refresh_from_db()
    assert patron.eppn == ""  # not linked either
    admin = f.PatronFactory(user__is_superuser=True, eppn="root@" + SCOPE, home_branch=branch)
    refusal(client, sign_in(client, saml_on, attributes(eppn=admin.eppn)))
    assert signed_in_user(client) is None


def test_a_patron_number_linked_to_another_account_is_refused(client, saml_on, branch, english):
    patron = f.PatronFactory(patron_number="s1234567", eppn="old@" + SCOPE, home_branch=branch)
    page = refusal(client, sign_in(client, saml_on, attributes(number="s1234567")))
    assert b"different university account" in page.content
    patron.refresh_from_db()
    assert patron.eppn == "old@" + SCOPE


# --- what the SP checks ------------------------------------------------------------------------------


def test_a_forged_assertion_is_refused(client, idp, branch, english):
    """Unencrypted, so the test can change the ePPN inside: the IdP's signature then fails."""
    f.PatronFactory(eppn="victim@" + SCOPE, home_branch=branch)
    idp.encrypt = False
    with site_settings(SP_URL, idp):
        response = sign_in(
            client, idp, attributes(eppn="me@" + SCOPE), tamper=lambda xml: xml.replace(b"me@", b"victim@")
        )
        page = refusal(client, response)
    assert b"did not complete" in page.content
    assert signed_in_user(client) is None


def test_an_answer_nobody_asked_for_is_refused(client, saml_on, branch):
    f.PatronFactory(eppn="s1234567@" + SCOPE, home_branch=branch)
    _page, saml_request = start(client)
    request = saml_on.idp.parse_authn_request(saml_request, BINDING_HTTP_POST).message
    answer = saml_on.answer(request, "someone", attributes()).decode()
    other = Client()  # another browser, without the SAML session that sent the request
    response = other.post("/saml2/acs/", {"SAMLResponse": _field(answer, "SAMLResponse")})
    assert response.status_code == 303
    assert other.session.get(SESSION_KEY) is None


def test_an_acs_post_without_a_response_is_a_400_not_a_500(client, saml_on):
    assert client.post("/saml2/acs/", {}).status_code == 400


def test_the_post_binding_page_has_no_inline_script_and_may_post_only_to_the_idp(client, saml_on):
    response, _request = start(client)
    page = response.content.decode()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None  # no inline script
    assert 'src="/static/js/saml_post.js"' in page
    assert f'action="{saml_on.url}/idp/sso/post"' in page
    policy = response["Content-Security-Policy"]
    form_action = next(part for part in policy.split(";") if part.strip().startswith("form-action"))
    assert form_action.split()[1:] == ["'self'", saml_on.url]
    assert "unsafe-inline" not in policy
    # The site's other pages keep form-action 'self' alone.
    other = client.get("/accounts/login/")["Content-Security-Policy"]
    assert saml_on.url not in other


def test_the_redirect_binding_needs_no_page(client, idp):
    with site_settings(SP_URL, idp, SAML_DEFAULT_BINDING="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"):
        response = client.get("/saml2/login/", {"next": "/my/"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{idp.url}/idp/sso/redirect?SAMLRequest=")


def test_the_sp_metadata_names_the_acs_and_the_certificate(client, saml_on):
    response = client.get("/saml2/metadata/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'Location="{SP_URL}/saml2/acs/"' in body
    assert "X509Certificate" in body
    assert 'use="encryption"' in body


@override_settings(
    SAML_ATTR_EPPN="urn:oid:1.3.6.1.4.1.5923.1.1.1.6", SAML_ATTR_STUDENT_NUMBER="gakuninScopedPersonalUniqueCode"
)
def test_attribute_names_may_be_given_as_oids_and_values_are_normalised():
    found = {
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": [" x@" + SCOPE + " "],
        "gakuninScopedPersonalUniqueCode": ["student:0123@" + SCOPE],
        "eduPersonScopedAffiliation": ["Faculty@" + SCOPE, "member@" + SCOPE],
    }
    assert saml.eppn_of(found) == "x@" + SCOPE
    assert saml.student_number_of(found) == "0123"
    assert saml.affiliations_of(found) == {"faculty", "member"}
    assert saml.category_for(saml.affiliations_of(found)) == "faculty"


def test_with_the_sign_in_lockout_on_a_saml_sign_in_still_works(client, saml_on, branch):
    """django-axes' backend comes first and sees no user name or password here: it lets the SAML
    backend answer, and a refusal is still the refusal page."""
    patron = f.PatronFactory(eppn="s1234567@" + SCOPE, home_branch=branch)
    with override_settings(AXES_ENABLED=True):
        refusal(client, sign_in(client, saml_on, attributes(eppn="nobody@" + SCOPE)))
        response = sign_in(client, saml_on, attributes())
    assert response.status_code == 302
    assert signed_in_user(client) == str(patron.user.pk)


def test_with_several_idps_the_universitys_is_chosen_by_setting_or_by_the_user(client, idp, tmp_path, english):
    (tmp_path / "other").mkdir()
    other = SamlTestIdP(tmp_path / "other", users={})
    with site_settings(SP_URL, idp):
        config = {**django_settings.SAML_CONFIG}
        config["metadata"] = {"local": [str(idp.metadata_path), str(other.metadata_path)]}
        with override_settings(SAML_CONFIG=config):
            page = client.get("/saml2/login/", {"next": "/my/"})
            assert page.status_code == 200
            body = page.content.decode()
            assert "Choose your university" in body
            assert f"idp={quote(idp.entity_id, safe='')}" in body
            assert f"idp={quote(other.entity_id, safe='')}" in body
            with override_settings(SAML_IDP_ENTITY_ID=other.entity_id):
                page = client.get("/saml2/login/", {"next": "/my/"})
            assert f'action="{other.url}/idp/sso/post"' in page.content.decode()
    other.server.server_close()


def test_the_page_after_sign_in_is_never_another_site(client, saml_on, branch):
    f.PatronFactory(eppn="s1234567@" + SCOPE, home_branch=branch)
    response = sign_in(client, saml_on, attributes(), next_url="https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == "/"
