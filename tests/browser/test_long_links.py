"""OpenURL links too long for a URL (issue 12): in a browser, gunicorn's 414 page posts the citation
again as a form, and a citation posted from another site is posted again from this one, so that a
logged-in patron lands on the prefilled form, logged in, with no script blocked by the policy."""

from pathlib import Path

import pytest

from tests.ill.test_field_bounds import long_openurl

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE_414 = (Path(__file__).resolve().parents[2] / "templates" / "414.html").read_text()
CSP = "default-src 'self'; frame-ancestors 'none'"  # what gunicorn.conf.py sends with the page


@pytest.fixture
def patron_page(browser, live_server, undergraduate, login):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    login(page, undergraduate.user.username)
    yield page
    context.close()


def test_the_414_page_posts_a_long_openurl_again(patron_page, live_server):
    page = patron_page
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    def as_gunicorn(route):  # what gunicorn answers for a request line over its limit
        if route.request.method == "GET":
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP}
            route.fulfill(status=414, body=PAGE_414, headers=headers)
        else:
            route.continue_()

    page.route("**/openurl?*", as_gunicorn)
    with page.expect_navigation(url="**/openurl/"):
        page.goto(f"{live_server.url}/openurl?{long_openurl(10_000)}")
    page.wait_for_load_state()
    assert page.input_value("[name=article_title]") == "Interlibrary loan at scale"
    assert page.input_value("[name=title]") == "Journal of Library Science"
    assert blocked == []


def test_a_citation_posted_from_another_site_reaches_the_form_logged_in(patron_page, live_server):
    page = patron_page
    fields = "".join(
        f'<input type="hidden" name="{k}" value="{v}">'
        for k, v in [("genre", "article"), ("atitle", "Posted from a resolver"), ("jtitle", "Resolver Journal")]
    )
    page.goto("about:blank")
    page.set_content(f'<form method="post" action="{live_server.url}/openurl/">{fields}<button>go</button></form>')
    page.click("button")  # lands on the relay page, which posts again from this site at once
    page.wait_for_selector("[name=article_title]")
    assert page.url.startswith(live_server.url)
    assert page.locator("a[href='/my/']").count()  # still logged in
    assert page.input_value("[name=article_title]") == "Posted from a resolver"
