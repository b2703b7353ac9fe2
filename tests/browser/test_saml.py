"""Issue 13, campus sign-in, in Chromium end to end: the login page's "Sign in with your university
account" → the site's HTTP-POST binding page (submitted by a static script: the CSP allows no inline
script, and form-action only the IdP's address) → the login form of an identity provider run inside
the test (pysaml2, tests/saml_idp.py; signed and encrypted assertions) → the site's assertion
consumer → the patron's page, signed in as the patron the ePPN names. And a person the library does
not know: the refusal page, in the browser's language, with a 403. No policy violation anywhere on
the site's pages."""

import re
import socket

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.test_accessibility import axe_violations
from tests.saml_idp import SCOPE, SamlTestIdP, site_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USERS = {
    "taro": ("idp-pw", {"eduPersonPrincipalName": [f"taro@{SCOPE}"], "eduPersonAffiliation": ["student"]}),
    "jiro": ("idp-pw", {"eduPersonPrincipalName": [f"jiro@{SCOPE}"], "eduPersonAffiliation": ["student"]}),
}

RECORDER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(`${location.href}: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def saml_site(tmp_path):
    """The site with SAML_ENABLED, served by a live server of its own (started after the settings
    change, so its middleware has djangosaml2's session), and the IdP. Yields (site URL, IdP)."""
    idp = SamlTestIdP(tmp_path, users=USERS).start()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for connection in shared.values():
        connection.inc_thread_sharing()
    with site_settings(url, idp, ALLOWED_HOSTS=["127.0.0.1", "localhost"]):
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=shared, port=port)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        try:
            yield url, idp
        finally:
            server.terminate()
            idp.stop()
            for connection in shared.values():
                connection.dec_thread_sharing()


@pytest.fixture
def watched(browser):
    """An English browser whose policy violations (on any page, across navigations) are collected."""
    context = browser.new_context(locale="en-US", timezone_id="Asia/Tokyo")
    violations: list[str] = []
    context.expose_function("reportViolation", lambda text: violations.append(text))
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.on(
        "console",
        lambda m: violations.append(m.text) if re.search(r"Content.Security.Policy", m.text) else None,
    )
    yield page, violations
    context.close()


def _through_the_idp(page, site, idp, username):
    page.goto(f"{site}/accounts/login/?next=/my/")
    button = page.locator("#saml-login")
    expect(button).to_have_text("Sign in with your university account")
    assert axe_violations(page) == []
    # The button is above the local form, which stays for staff and the demo.
    assert button.bounding_box()["y"] < page.locator("#login-form").bounding_box()["y"]
    button.click()
    page.wait_for_url(f"{idp.url}/idp/sso/post", timeout=30_000)  # POSTed there by static/js/saml_post.js
    page.fill("#idp-username", username)
    page.fill("#idp-password", "idp-pw")
    page.click("#idp-submit")  # the IdP's answer posts itself to /saml2/acs/


def test_a_patron_signs_in_with_the_university_account(saml_site, watched, branch):
    site, idp = saml_site
    page, violations = watched
    f.PatronFactory(eppn=f"taro@{SCOPE}", full_name="山田 太郎", home_branch=branch, preferred_language="en")

    _through_the_idp(page, site, idp, "taro")
    page.wait_for_url(f"{site}/my/", timeout=30_000)
    expect(page.locator("nav")).to_contain_text("山田 太郎")
    assert idp.requests_seen == ["post"]
    assert violations == []


def test_a_person_the_library_does_not_know_is_told_to_ask_the_counter(saml_site, watched, branch):
    site, idp = saml_site
    page, violations = watched
    statuses = {}
    page.on("response", lambda r: statuses.setdefault(r.url.split("?")[0], r.status))

    _through_the_idp(page, site, idp, "jiro")
    page.wait_for_url(re.compile(r"/saml2/refused/"), timeout=30_000)
    refused = page.get_by_test_id("saml-refused")
    expect(refused).to_contain_text("not registered for interlibrary loan")
    expect(refused).to_contain_text("library counter")
    assert page.locator("html").get_attribute("lang") == "en"
    assert statuses[f"{site}/saml2/refused/"] == 403
    assert axe_violations(page) == []
    page.goto(f"{site}/my/")
    assert "/accounts/login/" in page.url  # not signed in
    assert violations == []
