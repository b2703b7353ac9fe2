"""OpenURL 0.1 / 1.0 KEV links into request-form fields (DESIGN.md §2). No database, no settings."""

from datetime import date
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ill.openurl import MAX_PARAMS, MAX_VALUE_LENGTH, OpenURLResult, parse_openurl

FIELD_NAMES = {
    "title",
    "author",
    "publisher",
    "pub_year",
    "edition",
    "isbn",
    "issn",
    "ncid",
    "doi",
    "article_title",
    "journal_title",
    "volume",
    "issue",
    "pages",
    "place",
    "note",
}
TODAY = date(2026, 4, 1)


@pytest.fixture(scope="module", autouse=True)
def english():
    """Problems are lazy: render them in English, configuring minimal settings only when none are."""
    from django.conf import settings
    from django.utils import translation

    if not settings.configured:
        settings.configure(USE_I18N=False)
    with translation.override("en"):
        yield


def parse(query: str, **kwargs) -> OpenURLResult:
    """As the view gets it: a query string decoded by Django / urllib."""
    return parse_openurl(parse_qsl(query, keep_blank_values=True), today=TODAY, **kwargs)


def problems(result: OpenURLResult) -> list[str]:
    return [str(p) for p in result.problems]


# --- real-looking links -----------------------------------------------------------------------


def test_google_scholar_article_link():
    result = parse(
        "sid=google&auinit=T&aulast=Kuhn&atitle=Historical+structure+of+scientific+discovery"
        "&title=Science&volume=136&issue=3518&date=1962&spage=760&epage=764&issn=0036-8075"
    )
    assert (result.kind, result.material_type) == ("copy", "article")
    assert result.fields == {
        "journal_title": "Science",
        "article_title": "Historical structure of scientific discovery",
        "author": "Kuhn, T",
        "pub_year": 1962,
        "issn": "0036-8075",
        "volume": "136",
        "issue": "3518",
        "pages": "760-764",
        "page_count": 5,
        "note": "Source: Google Scholar",
    }
    assert result.ignored == () and result.problems == ()
    assert not result.is_empty


def test_google_scholar_link_with_doi_in_id():
    result = parse(
        "sid=google&auinit=JD&aulast=Watson&atitle=Molecular+structure+of+nucleic+acids&id=doi:10.1038/171737a0"
        "&title=Nature&volume=171&issue=4356&date=1953&spage=737&issn=0028-0836"
    )
    assert result.kind == "copy"
    assert result.fields["doi"] == "10.1038/171737a0"
    assert result.fields["pages"] == "737"
    assert result.fields["author"] == "Watson, JD"


def test_google_scholar_book_link():
    result = parse(
        "sid=google&auinit=TS&aulast=Kuhn&title=The+structure+of+scientific+revolutions&genre=book"
        "&isbn=0226458083&date=1970"
    )
    assert (result.kind, result.material_type) == ("loan", "book")
    assert result.fields["title"] == "The structure of scientific revolutions"
    assert result.fields["isbn"] == "9780226458083"
    assert "pages" not in result.fields and "journal_title" not in result.fields


def test_cinii_books_book_link_in_japanese():
    query = urlencode(
        [
            ("url_ver", "Z39.88-2004"),
            ("ctx_ver", "Z39.88-2004"),
            ("ctx_enc", "info:ofi/enc:UTF-8"),
            ("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"),
            ("rfr_id", "info:sid/ci.nii.ac.jp:CiNii"),
            ("rft.btitle", "吾輩は猫である"),
            ("rft.au", "夏目, 漱石"),
            ("rft.pub", "岩波書店"),
            ("rft.place", "東京"),
            ("rft.date", "1990.4"),
            ("rft.edition", "改版"),
            ("rft.isbn", "4003101014"),
            ("rft_id", "info:ncid/BN0139061X"),
        ]
    )
    result = parse(query)
    assert (result.kind, result.material_type) == ("loan", "book")
    assert result.fields == {
        "title": "吾輩は猫である",
        "author": "夏目, 漱石",
        "publisher": "岩波書店",
        "pub_year": 1990,
        "edition": "改版",
        "isbn": "9784003101018",
        "ncid": "BN0139061X",
        "place": "東京",
        "note": "Source: CiNii",
    }
    assert result.problems == ()


@pytest.mark.parametrize(
    "ncid_param",
    [
        ("rft_id", "info:ncid/BA51293930"),
        ("rfe_dat", "ncid/BA51293930"),
        ("pid", "ncid:BA51293930"),
        ("rft.ncid", "BA51293930"),
        ("ncid", "ba51293930"),
    ],
)
def test_the_ways_cinii_passes_an_ncid(ncid_param):
    result = parse_openurl([("title", "X"), ncid_param])
    assert result.fields["ncid"] == "BA51293930"
    assert (result.kind, result.material_type) == ("loan", "book")


def test_a_serial_ncid_alone_means_a_journal_copy():
    result = parse_openurl([("rft_id", "info:ncid/AN00406024")])
    assert (result.kind, result.material_type) == ("copy", "serial")


def test_publisher_site_article_link_with_doi():
    result = parse(
        "url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Ajournal"
        "&rfr_id=info%3Asid%2Fnature.com&rft.genre=article&rft.atitle=Molecular+Structure+of+Nucleic+Acids"
        "&rft.jtitle=Nature&rft.stitle=Nature&rft.aulast=Watson&rft.aufirst=J.+D.&rft.au=Watson%2C+J.+D."
        "&rft.au=Crick%2C+F.+H.+C.&rft.date=1953-04-25&rft.volume=171&rft.issue=4356&rft.spage=737"
        "&rft.epage=738&rft.issn=0028-0836&rft.eissn=1476-4687&rft_id=info%3Adoi%2F10.1038%2F171737a0"
    )
    assert (result.kind, result.material_type) == ("copy", "article")
    assert result.fields["author"] == "Watson, J. D.; Crick, F. H. C."  # the first author is not repeated
    assert result.fields["doi"] == "10.1038/171737a0"
    assert result.fields["issn"] == "0028-0836"
    assert result.fields["pub_year"] == 1953
    assert result.fields["journal_title"] == "Nature"
    assert result.fields["note"] == "Source: nature.com"


@pytest.mark.parametrize(
    "doi_id",
    [
        "info:doi/10.1038/nature14539",
        "https://doi.org/10.1038/nature14539",
        "http://dx.doi.org/10.1038/NATURE14539",
        "doi:10.1038/nature14539",
        "10.1038/nature14539",
    ],
)
def test_doi_in_rft_id(doi_id):
    result = parse_openurl([("rft.atitle", "Deep learning"), ("rft.jtitle", "Nature"), ("rft_id", doi_id)])
    assert result.fields["doi"] == "10.1038/nature14539"


def test_pubmed_link():
    result = parse(
        "sid=Entrez:PubMed&id=pmid:13054692&genre=article&atitle=Molecular+structure+of+nucleic+acids"
        "&title=Nature&stitle=Nature&volume=171&issue=4356&spage=737&date=1953+Apr+25&aulast=WATSON&aufirst=J+D"
        "&issn=0028-0836"
    )
    assert result.kind == "copy"
    assert result.fields["note"] == "Source: PubMed\nPMID: 13054692"
    assert result.fields["pub_year"] == 1953
    assert result.fields["author"] == "WATSON, J D"


def test_pubmed_1_0_link_with_pmid_uri():
    result = parse_openurl(
        [
            ("url_ver", "Z39.88-2004"),
            ("rfr_id", "info:sid/www.ncbi.nlm.nih.gov:pubmed"),
            ("rft_id", "info:pmid/13054692"),
            ("rft_id", "info:doi/10.1038/171737a0"),
            ("rft.jtitle", "Nature"),
            ("rft.atitle", "Molecular structure of nucleic acids"),
        ]
    )
    assert result.fields["doi"] == "10.1038/171737a0"
    assert result.fields["note"] == "Source: PubMed\nPMID: 13054692"


def test_dissertation():
    result = parse_openurl(
        [
            ("url_ver", "Z39.88-2004"),
            ("rft_val_fmt", "info:ofi/fmt:kev:mtx:dissertation"),
            ("rft.title", "日本占領期におけるアメリカ学校図書館の導入"),
            ("rft.au", "今井, 福司"),
            ("rft.inst", "東京大学"),
            ("rft.degree", "博士(教育学)"),
            ("rft.date", "2013"),
        ],
        today=TODAY,
    )
    assert (result.kind, result.material_type) == ("loan", "thesis")
    assert result.fields["title"] == "日本占領期におけるアメリカ学校図書館の導入"
    assert result.fields["note"] == "Degree: 博士(教育学)\nInstitution: 東京大学"
    assert result.fields["pub_year"] == 2013


def test_book_chapter():
    result = parse_openurl(
        [
            ("url_ver", "Z39.88-2004"),
            ("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"),
            ("rft.genre", "bookitem"),
            ("rft.atitle", "The nature of paradigms"),
            ("rft.btitle", "Criticism and the growth of knowledge"),
            ("rft.au", "Masterman, Margaret"),
            ("rft.pub", "Cambridge University Press"),
            ("rft.date", "1970"),
            ("rft.isbn", "0-521-07826-1"),
            ("rft.spage", "59"),
            ("rft.epage", "89"),
        ]
    )
    assert (result.kind, result.material_type) == ("copy", "chapter")
    assert result.fields["title"] == "Criticism and the growth of knowledge"
    assert result.fields["article_title"] == "The nature of paradigms"
    assert result.fields["pages"] == "59-89"
    assert "journal_title" not in result.fields


def test_conference_paper_in_a_proceedings_volume():
    result = parse_openurl(
        [
            ("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"),
            ("rft.genre", "proceeding"),
            ("rft.atitle", "Attention is all you need"),
            ("rft.btitle", "Advances in Neural Information Processing Systems 30"),
            ("rft.date", "2017"),
            ("rft.pages", "5998-6008"),
        ]
    )
    assert (result.kind, result.material_type) == ("copy", "proceedings")
    assert result.fields["title"] == "Advances in Neural Information Processing Systems 30"
    assert result.fields["article_title"] == "Attention is all you need"
    assert result.fields["pages"] == "5998-6008"


def test_conference_paper_in_a_journal_like_series():
    result = parse_openurl(
        [
            ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
            ("rft.genre", "proceeding"),
            ("rft.atitle", "A paper"),
            ("rft.jtitle", "Lecture Notes in Computer Science"),
            ("rft.volume", "1234"),
        ]
    )
    assert (result.kind, result.material_type) == ("copy", "proceedings")
    assert result.fields["journal_title"] == "Lecture Notes in Computer Science"


def test_whole_conference_proceedings_is_a_loan():
    result = parse_openurl([("genre", "conference"), ("title", "Proceedings of ICML 2019"), ("date", "2019")])
    assert (result.kind, result.material_type) == ("loan", "proceedings")
    assert result.fields["title"] == "Proceedings of ICML 2019"


@pytest.mark.parametrize(
    ("genre", "kind", "material"),
    [
        ("book", "loan", "book"),
        ("bookitem", "copy", "chapter"),
        ("article", "copy", "article"),
        ("journal", "copy", "serial"),
        ("issue", "copy", "serial"),
        ("proceeding", "copy", "proceedings"),
        ("conference", "loan", "proceedings"),
        ("dissertation", "loan", "thesis"),
        ("report", "loan", "other"),
        ("document", "loan", "other"),
        ("preprint", "copy", "article"),
        ("BOOK", "loan", "book"),
        ("thesis", "loan", "thesis"),
    ],
)
def test_genres(genre, kind, material):
    result = parse_openurl([("rft.genre", genre), ("rft.title", "T")])
    assert (result.kind, result.material_type) == (kind, material)


def test_journal_genre_with_an_article_title_is_an_article():
    result = parse_openurl([("genre", "journal"), ("title", "Nature"), ("atitle", "Deep learning")])
    assert (result.kind, result.material_type) == ("copy", "article")


@pytest.mark.parametrize(
    ("params", "kind", "material"),
    [
        ([("atitle", "A"), ("jtitle", "J")], "copy", "article"),
        ([("atitle", "A"), ("btitle", "B")], "copy", "chapter"),
        ([("atitle", "A"), ("title", "B"), ("isbn", "4003101014")], "copy", "chapter"),
        ([("atitle", "A"), ("title", "Nature")], "copy", "article"),
        ([("isbn", "4003101014")], "loan", "book"),
        ([("issn", "0028-0836")], "copy", "article"),
        ([("jtitle", "Nature")], "copy", "article"),
        ([("title", "Some book")], "loan", "book"),
        ([("rft_id", "info:doi/10.1038/nature14539")], "copy", "article"),
        ([("genre", "unknown"), ("isbn", "4003101014")], "loan", "book"),
        ([("genre", "nonsense"), ("atitle", "A"), ("jtitle", "J")], "copy", "article"),
        ([], "loan", "other"),
    ],
)
def test_genre_is_inferred_when_missing(params, kind, material):
    result = parse_openurl(params)
    assert (result.kind, result.material_type) == (kind, material)


# --- input shapes -----------------------------------------------------------------------------


def test_mapping_of_lists_and_query_string_and_querydict_like():
    mapping = {"rft.btitle": ["Book"], "rft.au": ["Sato, Hanako", "Suzuki, Taro"], "rft.date": "2020"}
    result = parse_openurl(mapping)
    assert result.fields["author"] == "Sato, Hanako; Suzuki, Taro"
    assert result.fields["pub_year"] == 2020

    assert parse_openurl("?rft.btitle=Book&rft.au=A").fields == {"title": "Book", "author": "A"}
    assert parse_openurl(b"rft.btitle=Book").fields == {"title": "Book"}

    class QueryDictLike(dict):
        def lists(self):
            return [("rft.btitle", ["Book"]), ("rft.au", ["A", "B"])]

    assert parse_openurl(QueryDictLike()).fields == {"title": "Book", "author": "A; B"}


@pytest.mark.parametrize(
    "params",
    [
        None,
        [],
        {},
        "",
        b"",
        [("only", "pairs"), "not a pair", (1, 2, 3), None],
        [(None, None), (1, 2), (b"title", b"\xff\xfe")],
        42,
    ],
)
def test_odd_inputs_do_not_raise(params):
    assert isinstance(parse_openurl(params), OpenURLResult)


def test_keys_are_case_insensitive():
    result = parse_openurl([("RFT.ISBN", "4003101014"), ("Rft.BTitle", "X")])
    assert result.fields == {"isbn": "9784003101018", "title": "X"}


# --- robustness -------------------------------------------------------------------------------


def test_empty_link():
    result = parse("")
    assert result.is_empty
    assert result.fields == {} and result.ignored == () and result.problems == ()


def test_only_unknown_keys_are_listed_sorted_and_unique():
    result = parse("utm_source=x&foo=1&bar=2&foo=3&rfe.atitle=citing+article&svc.fulltext=yes")
    assert result.is_empty
    assert result.ignored == ("bar", "foo", "rfe.atitle", "svc.fulltext", "utm_source")


def test_a_source_alone_is_still_empty():
    result = parse("sid=google&url_ver=Z39.88-2004")
    assert result.fields == {"note": "Source: Google Scholar"}
    assert result.is_empty
    assert result.ignored == ()


def test_the_referring_article_is_not_taken_for_the_wanted_one():
    result = parse_openurl([("rfe.atitle", "Citing paper"), ("rft.atitle", "Cited paper"), ("rft.jtitle", "J")])
    assert result.fields["article_title"] == "Cited paper"


def test_invalid_identifiers_are_dropped_and_reported():
    result = parse(
        "genre=book&title=X&isbn=978-4-320-12362-0&issn=1234-5678&rft_id=info:ncid/BA77561806&rft_id=info:doi/11.1/x"
    )
    assert set(result.fields) == {"title"}
    messages = problems(result)
    assert len(messages) == 4
    assert messages[0].startswith("ISBN 978-4-320-12362-0: the check digit is wrong (expected 5)")
    assert messages[1].startswith("ISSN 1234-5678:")
    assert messages[2].startswith("NCID BA77561806:")
    assert messages[3].startswith("DOI info:doi/11.1/x:")


def test_a_bad_issn_is_replaced_by_a_good_eissn_silently():
    result = parse_openurl([("atitle", "A"), ("issn", "1234-5678"), ("eissn", "1476-4687")])
    assert result.fields["issn"] == "1476-4687"
    assert result.problems == ()


def test_repeated_keys_keep_the_first_value():
    result = parse("genre=article&genre=book&title=A&rft.title=B&title=A&volume=1&volume=1")
    assert (result.kind, result.fields["journal_title"], result.fields["volume"]) == ("copy", "A", "1")
    assert problems(result) == [
        "genre was given more than once with different values; the first one was used.",
        "title was given more than once with different values; the first one was used.",
    ]


def test_authors_accumulate():
    result = parse_openurl([("au", "A"), ("rft.au", "B"), ("au", "A"), ("aulast", "C"), ("aufirst", "D")])
    assert result.fields["author"] == "C, D; A; B"
    assert result.problems == ()


def test_corporate_author_when_there_is_no_person():
    assert parse_openurl([("rft.aucorp", "文部科学省")]).fields["author"] == "文部科学省"


def test_a_10000_character_title_is_shortened():
    result = parse("title=" + "x" * 10000)
    assert result.fields["title"] == "x" * MAX_VALUE_LENGTH
    assert problems(result) == ["The value of title was longer than 500 characters and was shortened."]


def test_very_many_authors_are_shortened():
    result = parse_openurl([("au", f"Author {i:03d} " + "x" * 20) for i in range(100)])
    assert len(result.fields["author"]) <= MAX_VALUE_LENGTH
    assert problems(result) == ["The list of authors was longer than 500 characters and was shortened."]


def test_nul_bytes_and_control_characters_are_removed():
    assert parse("title=Deep%00%01learning%1b").fields["title"] == "Deeplearning"
    result = parse("atitle=Intro%0Aduction&jtitle=Nat%E2%80%8Bure&volume=%00%00&issue=%E2%80%AE3")
    assert result.fields["journal_title"] == "Nature"  # zero-width space dropped
    assert result.fields["article_title"] == "Intro duction"  # a newline is whitespace
    assert "volume" not in result.fields  # nothing left: as if absent
    assert result.fields["issue"] == "3"  # bidi override dropped


def test_undecodable_bytes_are_removed_and_reported():
    result = parse("title=%E3%81&atitle=ok%FF%FE")
    assert "title" not in result.fields
    assert result.fields["article_title"] == "ok"
    assert problems(result) == [
        "Some characters in title could not be read and were left out.",
        "Some characters in atitle could not be read and were left out.",
    ]


def test_whitespace_is_collapsed_but_japanese_text_is_kept_as_typed():
    result = parse_openurl(
        [("btitle", "  吾輩は猫である\u3000\u3000上巻  "), ("au", "Natsume \t  Soseki"), ("pub", "ｲﾜﾅﾐ書店")]
    )
    assert result.fields["title"] == "吾輩は猫である\u3000上巻"
    assert result.fields["author"] == "Natsume Soseki"
    assert result.fields["publisher"] == "ｲﾜﾅﾐ書店"  # no NFKC on text


def test_too_many_parameters():
    params = [(f"k{i}", "v") for i in range(MAX_PARAMS)] + [("title", "Too late")]
    result = parse_openurl(params)
    assert "title" not in result.fields
    assert len(result.ignored) == MAX_PARAMS
    assert problems(result) == ["The link had more than 200 parameters; only the first 200 were read."]


@pytest.mark.parametrize(
    ("value", "year"),
    [
        ("2019-05-01", 2019),
        ("2019", 2019),
        ("1953 Apr 25", 1953),
        ("Spring 2001", 2001),
        ("２０１９年５月", 2019),
        ("平成31年", 2019),
        ("令和元年", 2019),
        ("昭和50", 1975),
        ("2027", 2027),
    ],
)
def test_publication_year(value, year):
    assert parse_openurl([("title", "T"), ("date", value)], today=TODAY).fields["pub_year"] == year


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1200", "The year 1200 in date is not plausible and was left out."),
        ("2028-01-01", "The year 2028 in date is not plausible and was left out."),
        ("99999", "No year could be read from date (99999)."),
        ("n.d.", "No year could be read from date (n.d.)."),
    ],
)
def test_absurd_or_unreadable_years_are_reported(value, message):
    result = parse_openurl([("title", "T"), ("date", value)], today=TODAY)
    assert "pub_year" not in result.fields
    assert problems(result) == [message]


def test_pages():
    assert parse_openurl([("atitle", "A"), ("spage", "12"), ("epage", "12")]).fields["pages"] == "12"
    assert parse_openurl([("atitle", "A"), ("pages", "e1001-e1010")]).fields["pages"] == "e1001-e1010"
    assert parse_openurl([("atitle", "A"), ("spage", "5"), ("pages", "5-9")]).fields["pages"] == "5"


@pytest.mark.parametrize(
    ("source", "name"),
    [
        (("sid", "google"), "Google Scholar"),
        (("sid", "GOOGLE:scholar"), "Google Scholar"),
        (("rfr_id", "info:sid/google"), "Google Scholar"),
        (("rfr_id", "info:sid/ci.nii.ac.jp:CiNii"), "CiNii"),
        (("rfr_id", "info:sid/cir.nii.ac.jp:CiNii Research"), "CiNii Research"),
        (("sid", "Entrez:PubMed"), "PubMed"),
        (("sid", "ISI:WoS"), "Web of Science"),
        (("rfr_id", "info:sid/Elsevier:Scopus"), "Scopus"),
        (("rfr_id", "info:sid/jstage.jst.go.jp"), "J-STAGE"),
        (("rfr_id", "info:sid/example.org:handle"), "example.org:handle"),
    ],
)
def test_source_names(source, name):
    assert parse_openurl([source, ("title", "T")]).fields["note"] == f"Source: {name}"


# --- properties -------------------------------------------------------------------------------

KNOWN_KEYS = [
    "genre",
    "rft.genre",
    "title",
    "rft.title",
    "atitle",
    "rft.atitle",
    "jtitle",
    "rft.jtitle",
    "btitle",
    "rft.btitle",
    "au",
    "rft.au",
    "aulast",
    "aufirst",
    "auinit",
    "date",
    "rft.date",
    "volume",
    "issue",
    "spage",
    "epage",
    "pages",
    "isbn",
    "rft.isbn",
    "issn",
    "eissn",
    "rft_id",
    "id",
    "rfr_id",
    "sid",
    "pid",
    "rfe_dat",
    "rft_val_fmt",
    "rft.pub",
    "rft.inst",
    "rft.degree",
    "ncid",
    "rft.edition",
    "rft.place",
]
NASTY = st.one_of(
    st.text(),
    st.lists(
        st.sampled_from(
            [
                "\x00",
                "\ufffd",
                "\u3000",
                " ",
                "\n",
                "\u200b",
                "\ud800",
                "ー",
                "9",
                "X",
                "info:doi/10.1038/",
                "ncid/BA",
                "1",
                "-",
                "%",
                "平成",
                "元",
                "年",
            ]
        )
    ).map("".join),
    st.sampled_from(
        [
            "",
            "book",
            "article",
            "bookitem",
            "dissertation",
            "info:ofi/fmt:kev:mtx:journal",
            "info:doi/10.1038/nature14539",
            "info:ncid/BA51293930",
            "4003101014",
            "0028-0836",
            "x" * 20000,
            "２０１９",
            "9999",
        ]
    ),
)
PAIRS = st.lists(st.tuples(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=30)), NASTY), max_size=30)


@hypothesis_settings(max_examples=300, deadline=None)
@given(PAIRS)
def test_never_raises_and_keeps_its_promises(pairs):
    result = parse_openurl(pairs, today=TODAY)
    assert result.kind in ("loan", "copy")
    assert result.material_type in ("book", "chapter", "article", "thesis", "proceedings", "serial", "other")
    assert set(result.fields) <= FIELD_NAMES
    for name, value in result.fields.items():
        if name == "pub_year":
            assert isinstance(value, int) and 1400 <= value <= TODAY.year + 1
        else:
            assert isinstance(value, str) and value == value.strip() and value
            assert "\x00" not in value and "\ufffd" not in value
            assert len(value) <= (3 * MAX_VALUE_LENGTH if name == "note" else MAX_VALUE_LENGTH)
    assert list(result.ignored) == sorted(set(result.ignored))
    for problem in result.problems:
        assert str(problem)
    assert result.is_empty == (set(result.fields) <= {"note"})


@hypothesis_settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_raw_query_strings_never_raise(raw):
    parse_openurl(raw)
    parse_openurl(raw.decode("latin-1"))
