"""OpenURL links open the right form, prefilled; garbage never gives a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanako(client, undergraduate):
    client.force_login(undergraduate.user)
    return client


def form_values(response):
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields}


def test_google_scholar_article_link_opens_the_copy_form(hanako):
    response = hanako.get(
        "/openurl",
        {
            "sid": "google",
            "auinit": "J",
            "aulast": "Watson",
            "atitle": "Molecular structure of nucleic acids",
            "title": "Nature",
            "volume": "171",
            "issue": "4356",
            "date": "1953",
            "spage": "737",
            "epage": "738",
            "issn": "0028-0836",
        },
    )
    assert response.status_code == 200
    assert response.context["kind"] == "copy"
    values = form_values(response)
    assert values["article_title"] == "Molecular structure of nucleic acids"
    assert values["title"] == "Nature"
    assert (values["volume"], values["issue"], values["pages"], values["issn"]) == (
        "171",
        "4356",
        "737-738",
        "0028-0836",
    )
    assert values["material_type"] == "article"


def test_cinii_book_link_opens_the_loan_form(hanako):
    response = hanako.get(
        "/openurl/",
        {
            "url_ver": "Z39.88-2004",
            "rft_val_fmt": "info:ofi/fmt:kev:mtx:book",
            "rft.genre": "book",
            "rft.btitle": "統計的学習の基礎",
            "rft.au": "Hastie, Trevor",
            "rft.pub": "共立出版",
            "rft.date": "2014",
            "rft.isbn": "9784320123625",
            "rft_id": "info:ncid/BB15277494",
            "rfr_id": "info:sid/ci.nii.ac.jp:CiNii",
        },
    )
    assert response.status_code == 200
    assert response.context["kind"] == "loan"
    values = form_values(response)
    assert values["title"] == "統計的学習の基礎"
    assert (values["isbn"], values["pub_year"], values["publisher"]) == ("9784320123625", 2014, "共立出版")
    assert values["ncid"] == "BB15277494"


def test_publisher_doi_link(hanako):
    response = hanako.get(
        "/openurl",
        {
            "url_ver": "Z39.88-2004",
            "rft_val_fmt": "info:ofi/fmt:kev:mtx:journal",
            "rft.genre": "article",
            "rft.atitle": "Deep learning",
            "rft.jtitle": "Nature",
            "rft.date": "2015-05-28",
            "rft.volume": "521",
            "rft.spage": "436",
            "rft_id": "info:doi/10.1038/nature14539",
        },
    )
    values = form_values(response)
    assert response.context["kind"] == "copy"
    assert values["doi"] == "10.1038/nature14539"
    assert values["title"] == "Nature"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "foo=bar&baz=1",
        "isbn=978-0-00-000000-0",
        "title=%00%01&atitle=" + "x" * 10000,
        "genre=article&genre=book&title=A&title=B",
        "rft.date=99999&rft.volume=%FF%FE",
        "&&&==&",
        "isbn=%E3%81",
    ],
)
def test_garbage_links_are_never_a_500(hanako, query):
    response = hanako.get("/openurl?" + query)
    assert response.status_code == 200


def test_an_invalid_isbn_in_a_link_is_reported_and_dropped(hanako):
    response = hanako.get("/openurl", {"genre": "book", "title": "X", "isbn": "978-4-320-12362-0"})
    assert form_values(response)["isbn"] in ("", None)
    assert response.context["prefill"].problems


def test_openurl_needs_a_login_and_keeps_the_query(client):
    response = client.get("/openurl?genre=book&title=X")
    assert response.status_code == 302
    assert "next=/openurl%3Fgenre%3Dbook%26title%3DX" in response["Location"]


def test_a_page_range_gives_the_pages_to_copy(hanako):
    response = hanako.get("/openurl", {"genre": "article", "atitle": "A", "jtitle": "J", "spage": "10", "epage": "25"})
    values = form_values(response)
    assert (values["pages"], values["page_count"]) == ("10-25", 16)
    # one page number, or article numbers, say nothing about the count
    response = hanako.get(
        "/openurl", {"genre": "article", "atitle": "A", "jtitle": "J", "spage": "e12", "epage": "e20"}
    )
    assert form_values(response)["page_count"] in (None, "")


def test_an_article_with_an_issn_leaves_the_frequency_for_the_patron_to_choose(hanako):
    response = hanako.get(
        "/openurl", {"genre": "article", "atitle": "A", "jtitle": "J", "issn": "0028-0836", "date": "2026"}
    )
    assert form_values(response)["periodical_frequency"] == ""
    html = response.content.decode()
    select = html[
        html.index('name="periodical_frequency"') : html.index("</select>", html.index('name="periodical_frequency"'))
    ]
    assert 'value="" selected' in select  # "not a periodical" is not preselected
    # without a link the copy form still starts from "not a periodical" (a book chapter is the usual case)
    assert form_values(hanako.get("/my/requests/new/copy/"))["periodical_frequency"] == "none"


def test_a_bare_link_says_only_that_it_carried_nothing(hanako):
    response = hanako.get("/openurl", headers={"accept-language": "en"}, follow=True)
    html = response.content.decode()
    assert "The link carried no usable citation" in html
    assert "filled in from the link" not in html
    assert 'data-testid="openurl-prefill"' not in html
