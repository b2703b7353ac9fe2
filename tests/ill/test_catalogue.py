"""Look-up from the national catalogues (ill.catalogue): the parsing of each service's format, the
look-up against a local HTTP server replaying recorded answers (hit, no hit, malformed, slow,
HTTP 500, a redirect), the cache and the rate limit, the endpoints' validation, and the desk's
CiNii Books holders matched to our lenders.

The recorded answers are in tests/ill/data/catalogue/, in each service's documented format (see
the module docstring of ill.catalogue for the documents)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from ill import catalogue
from ill.models import LendingInstitution
from tests import factories as f

DATA = Path(__file__).parent / "data" / "catalogue"
KOKORO = "9784003101018"  # 夏目漱石『こころ』岩波文庫, ISBN-10 4-00-310101-4
NO_SUCH_ISBN = "9784000000000"
KOKORO_NCID = "BN03215734"


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


class Replay:
    """A local HTTP server answering from recorded files: routes are (path, required query
    parameters) → (status, body, content type, seconds to wait first, drip: bytes a second)."""

    def __init__(self):
        self.routes = []
        self.seen = []  # (path, {param: value}) of every request, in order
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                replay.seen.append((parts.path, query))
                answer = next(
                    (
                        route
                        for path, needs, route in replay.routes
                        if path == parts.path and all(query.get(k) == v for k, v in needs.items())
                    ),
                    {"status": 404, "body": b"Not Found", "type": "text/plain"},
                )
                time.sleep(answer.get("delay", 0))
                try:
                    self.send_response(answer["status"])
                    for name, value in answer.get("headers", {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", answer["type"])
                    self.send_header("Content-Length", str(len(answer["body"])))
                    self.end_headers()
                    if answer.get("drip"):
                        for byte in answer["body"]:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(1 / answer["drip"])
                    else:
                        self.wfile.write(answer["body"])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, path, body, *, status=200, type="application/json; charset=utf-8", **options):
        needs = options.pop("query", {})
        self.routes.append((path, needs, {"status": status, "body": body, "type": type, **options}))

    def paths(self):
        return [path for path, _query in self.seen]


@pytest.fixture
def replay():
    server = Replay()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def ndl(settings, replay):
    settings.CATALOGUE_LOOKUP = "ndl"
    settings.CINII_APPID = ""
    settings.NDL_SEARCH_URL = replay.url
    settings.NDL_API = "sru"
    settings.CATALOGUE_TIMEOUT = 2
    return replay


@pytest.fixture
def cinii(settings, replay):
    settings.CATALOGUE_LOOKUP = "cinii"
    settings.CINII_APPID = "test-appid"
    settings.CINII_BOOKS_URL = replay.url
    settings.CATALOGUE_TIMEOUT = 2
    return replay


def serve_ndl(replay, isbn=KOKORO, name="ndl_sru_hit.xml", **options):
    replay.add("/api/sru", recorded(name), query={"query": f'isbn="{isbn}"'}, type="text/xml; charset=UTF-8", **options)


def serve_cinii(replay):
    replay.add("/books/opensearch/search", recorded("cinii_search_hit.json"), query={"isbn": KOKORO})
    replay.add("/books/opensearch/search", recorded("cinii_search_none.json"), query={"isbn": NO_SUCH_ISBN})
    replay.add(f"/ncid/{KOKORO_NCID}.json", recorded("cinii_record_BN03215734.json"))
    replay.add("/ncid/AA00651208.json", recorded("cinii_record_serial.json"))
    replay.add("/books/opensearch/holder", recorded("cinii_holders.json"), query={"ncid": KOKORO_NCID})


# --- parsing each format ----------------------------------------------------------------------


def test_an_ndl_sru_dcndl_record_gives_the_forms_fields():
    (record,) = catalogue.parse_ndl_sru(recorded("ndl_sru_hit.xml"))
    assert record.fields() == {
        "title": "こころ",
        "author": "夏目漱石 作",
        "publisher": "岩波書店",
        "pub_year": 1989,
        "edition": "改版",
        "isbn": KOKORO,
    }
    assert record.link == "https://ndlsearch.ndl.go.jp/books/R100000002-I000002004857"


def test_an_ndl_sru_record_packed_as_a_string_is_read_too_with_the_journals_issn():
    (record,) = catalogue.parse_ndl_sru(recorded("ndl_sru_serial.xml"))
    assert (record.title, record.issn, record.publisher, record.pub_year) == (
        "Nature",
        "0028-0836",
        "Macmillan Journals",
        1869,
    )


def test_ndl_sru_without_records_is_no_hit_and_a_diagnostic_is_not_read_as_one():
    assert catalogue.parse_ndl_sru(recorded("ndl_sru_none.xml")) == []
    with pytest.raises(catalogue.MalformedAnswer, match="diagnostic"):
        catalogue.parse_ndl_sru(recorded("ndl_sru_diagnostic.xml"))


def test_an_ndl_opensearch_rss_item_gives_the_same_fields():
    (record,) = catalogue.parse_ndl_opensearch(recorded("ndl_opensearch_hit.xml"))
    assert (record.title, record.publisher, record.pub_year, record.edition, record.isbn) == (
        "こころ",
        "岩波書店",
        1989,
        "改版",
        KOKORO,
    )


def test_a_cinii_books_search_item_and_record():
    (item,) = catalogue.parse_cinii_search(recorded("cinii_search_hit.json"))
    assert (item.title, item.author, item.publisher, item.pub_year, item.isbn, item.ncid) == (
        "こころ",
        "夏目漱石作",
        "岩波書店",
        1989,
        KOKORO,
        KOKORO_NCID,
    )
    assert item.edition == ""  # the search's item has none: the record has it
    record = catalogue.parse_cinii_record(recorded("cinii_record_BN03215734.json"))
    assert (record.title, record.edition, record.isbn, record.ncid) == ("こころ", "改版", KOKORO, KOKORO_NCID)
    serial = catalogue.parse_cinii_record(recorded("cinii_record_serial.json"))
    assert (serial.title, serial.issn, serial.pub_year) == ("Nature", "0028-0836", 1869)
    assert catalogue.parse_cinii_search(recorded("cinii_search_none.json")) == []


def test_cinii_books_holders_with_their_library_ids():
    total, holders = catalogue.parse_cinii_holders(recorded("cinii_holders.json"))
    assert total == 4
    assert [(h.fano, h.name) for h in holders][:2] == [
        ("FA001007", "九州大学 附属図書館"),
        ("FA005358", "上智大学 図書館"),
    ]
    assert holders[0].link == "https://ci.nii.ac.jp/library/FA001007"


@pytest.mark.parametrize(
    ("parse", "data"),
    [
        (catalogue.parse_ndl_sru, recorded("ndl_malformed.xml")),
        (catalogue.parse_ndl_sru, recorded("xml_entities.xml")),  # defusedxml: no DTD, no entity expansion
        (catalogue.parse_ndl_sru, recorded("cinii_search_hit.json")),
        (catalogue.parse_ndl_opensearch, recorded("ndl_sru_hit.xml")),
        (catalogue.parse_cinii_search, recorded("cinii_malformed.json")),
        (catalogue.parse_cinii_search, recorded("cinii_wrong_shape.json")),
        (catalogue.parse_cinii_search, recorded("ndl_sru_hit.xml")),
        (catalogue.parse_cinii_record, recorded("cinii_search_none.json")),  # a record without a title
        (catalogue.parse_cinii_holders, b'{"@graph": [{"opensearch:totalResults": "1", "items": [{"title": "x"}]}]}'),
    ],
)
def test_an_answer_not_in_the_documented_format_is_malformed(parse, data):
    with pytest.raises(catalogue.MalformedAnswer):
        parse(data)


def test_the_fields_fit_the_form(db):
    record = catalogue.Record(title="長" * 600, pub_year=1200, isbn="")
    fields = record.fields()
    assert len(fields["title"]) == 500
    assert "pub_year" not in fields and "isbn" not in fields  # before 1400: not a year the form takes


# --- the look-up against the replaying server ---------------------------------------------------


def test_ndl_sru_hit_by_a_validated_isbn(db, ndl, staff_user):
    serve_ndl(ndl)
    service, found = catalogue.lookup("isbn", "ISBN 4-00-310101-4", user=staff_user)
    assert service == "ndl"
    assert found["fields"]["title"] == "こころ" and found["fields"]["edition"] == "改版"
    ((path, query),) = ndl.seen
    assert path == "/api/sru"
    assert query["query"] == f'isbn="{KOKORO}"'  # the ISBN-10 typed, asked as the normalised ISBN-13
    assert (query["recordSchema"], query["operation"], query["onlyBib"]) == ("dcndl", "searchRetrieve", "true")


def test_ndl_opensearch_when_chosen(db, ndl, settings, staff_user):
    settings.NDL_API = "opensearch"
    ndl.add("/api/opensearch", recorded("ndl_opensearch_hit.xml"), query={"isbn": KOKORO}, type="application/xml")
    _service, found = catalogue.lookup("isbn", KOKORO, user=staff_user)
    assert found["fields"]["publisher"] == "岩波書店"
    assert ndl.paths() == ["/api/opensearch"]


def test_cinii_isbn_hit_takes_the_edition_from_the_record_and_sends_the_appid(db, cinii, staff_user):
    serve_cinii(cinii)
    service, found = catalogue.lookup("isbn", KOKORO, user=staff_user)
    assert service == "cinii"
    assert found["fields"] == {
        "title": "こころ",
        "author": "夏目漱石作",
        "publisher": "岩波書店",
        "pub_year": 1989,
        "edition": "改版",
        "isbn": KOKORO,
        "ncid": KOKORO_NCID,
    }
    assert cinii.paths() == ["/books/opensearch/search", f"/ncid/{KOKORO_NCID}.json"]
    assert all(query["appid"] == "test-appid" for _path, query in cinii.seen)
    assert cinii.seen[0][1]["format"] == "json"


def test_cinii_ncid_and_issn(db, cinii, staff_user):
    serve_cinii(cinii)
    cinii.add("/books/opensearch/search", recorded("cinii_search_none.json"), query={"issn": "00280836"})
    _service, found = catalogue.lookup("ncid", "aa00651208", user=staff_user)
    assert found["fields"]["issn"] == "0028-0836" and found["link"] == "https://ci.nii.ac.jp/ncid/AA00651208"
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("issn", "0028-0836", user=staff_user)
    assert failure.value.code == "not_found"
    assert cinii.seen[-1][1]["issn"] == "00280836"  # CiNii wants it without the hyphen


def test_no_hit_is_not_found_and_the_miss_is_cached(db, cinii, staff_user):
    serve_cinii(cinii)
    for _ in range(2):
        with pytest.raises(catalogue.LookupFailure) as failure:
            catalogue.lookup("isbn", NO_SUCH_ISBN, user=staff_user)
        assert failure.value.code == "not_found" and failure.value.status == 404
        assert "CiNii Books" in str(failure.value)
    assert len(cinii.seen) == 1


def test_a_hit_is_cached_for_everyone(db, ndl, staff_user, undergraduate):
    serve_ndl(ndl)
    catalogue.lookup("isbn", KOKORO, user=staff_user)
    catalogue.lookup("isbn", "4003101014", user=undergraduate.user)
    assert len(ndl.seen) == 1


@pytest.mark.parametrize(
    ("name", "options", "code"),
    [
        ("ndl_malformed.xml", {}, "malformed"),
        ("ndl_sru_diagnostic.xml", {}, "malformed"),
        ("xml_entities.xml", {}, "malformed"),
        ("ndl_sru_hit.xml", {"status": 500}, "unavailable"),
        ("ndl_sru_hit.xml", {"status": 503}, "unavailable"),
        ("ndl_sru_hit.xml", {"status": 302, "headers": {"Location": "/elsewhere"}}, "unavailable"),
        ("ndl_sru_none.xml", {}, "not_found"),
    ],
)
def test_each_failure_is_a_calm_lookup_failure_and_nothing_is_cached_but_a_miss(
    db, ndl, staff_user, name, options, code
):
    serve_ndl(ndl, name=name, **options)
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("isbn", KOKORO, user=staff_user)
    assert failure.value.code == code
    assert "/elsewhere" not in ndl.paths()  # a redirect is not followed
    with pytest.raises(catalogue.LookupFailure):
        catalogue.lookup("isbn", KOKORO, user=staff_user)
    assert len(ndl.seen) == (1 if code == "not_found" else 2)


@pytest.mark.parametrize("options", [{"delay": 3}, {"drip": 20}])
def test_a_slow_service_times_out_within_the_deadline(db, ndl, settings, staff_user, options):
    """A silent server and one that drips its answer byte by byte (each byte within the socket's
    timeout, the whole far beyond it) both stop at CATALOGUE_TIMEOUT."""
    settings.CATALOGUE_TIMEOUT = 0.5
    serve_ndl(ndl, **options)
    started = time.monotonic()
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("isbn", KOKORO, user=staff_user)
    assert failure.value.code == "timeout" and failure.value.status == 504
    assert time.monotonic() - started < 2


def test_a_refused_connection_is_unavailable(db, settings, staff_user):
    settings.CATALOGUE_LOOKUP = "ndl"
    settings.NDL_SEARCH_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("isbn", KOKORO, user=staff_user)
    assert failure.value.code == "unavailable"


def test_a_bad_isbn_is_refused_before_any_call(db, ndl, staff_user):
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("isbn", "9784003101019", user=staff_user)
    assert failure.value.code == "invalid" and failure.value.status == 400
    assert "9784003101019" in str(failure.value)  # the identifier's own message, naming what was typed
    for value in ('9784003101018" OR title="x', "../../admin", "http://evil.example/"):
        with pytest.raises(catalogue.LookupFailure):
            catalogue.lookup("isbn", value, user=staff_user)
    assert ndl.seen == []


def test_off_by_default_and_cinii_needs_an_appid(db, settings, staff_user):
    settings.CATALOGUE_LOOKUP = ""
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("isbn", KOKORO, user=staff_user)
    assert failure.value.code == "off" and failure.value.status == 503
    settings.CATALOGUE_LOOKUP = "cinii"
    settings.CINII_APPID = ""
    assert not catalogue.enabled() and not catalogue.holdings_enabled()
    settings.CATALOGUE_LOOKUP = "worldcat"
    assert not catalogue.enabled()


def test_ndl_without_a_cinii_appid_cannot_look_up_an_ncid(db, ndl, staff_user):
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("ncid", KOKORO_NCID, user=staff_user)
    assert failure.value.code == "unsupported"
    assert ndl.seen == []


def test_each_user_is_rate_limited_on_calls_to_the_service(db, ndl, settings, staff_user, undergraduate):
    settings.CATALOGUE_RATE_PER_MINUTE = 2
    serve_ndl(ndl)
    catalogue.lookup("isbn", KOKORO, user=staff_user)
    catalogue.lookup("isbn", KOKORO, user=staff_user)  # cached: not counted
    with pytest.raises(catalogue.LookupFailure):
        catalogue.lookup("isbn", NO_SUCH_ISBN, user=staff_user)  # the service answers 404: counted
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("isbn", "9784621061220", user=staff_user)
    assert failure.value.code == "rate_limited" and failure.value.status == 429
    assert len(ndl.seen) == 2
    catalogue.lookup("isbn", KOKORO, user=undergraduate.user)  # cached, and another user is not held up
    with pytest.raises(catalogue.LookupFailure) as failure:
        catalogue.lookup("isbn", "9784621061220", user=undergraduate.user)
    assert failure.value.code == "unavailable"


# --- the patron's endpoint -----------------------------------------------------------------------


@pytest.fixture
def hanako_client(client, undergraduate):
    client.force_login(undergraduate.user)
    return client


def ask(client, kind, value):
    return client.get(
        reverse("patron:catalogue_lookup"), {"kind": kind, "value": value}, HTTP_ACCEPT="application/json"
    )


def test_the_endpoint_fills_from_the_service(hanako_client, ndl):
    serve_ndl(ndl)
    response = ask(hanako_client, "isbn", "4-00-310101-4")
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True and data["service"] == "ndl"
    assert data["fields"]["title"] == "こころ"
    assert "NDL" in data["message"] or "国立国会図書館" in data["message"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("kind", "value", "status", "code"),
    [
        ("isbn", "9784003101019", 400, "invalid"),
        ("isbn", "", 400, "invalid"),
        ("isbn", "9" * 200, 400, "invalid"),
        ("doi", "10.1038/171737a0", 400, "unsupported"),
        ("", "", 400, "unsupported"),
        ("ncid", KOKORO_NCID, 400, "unsupported"),
    ],
)
def test_the_endpoint_refuses_bad_input_with_a_message(hanako_client, ndl, kind, value, status, code):
    response = ask(hanako_client, kind, value)
    assert response.status_code == status
    data = response.json()
    assert data["ok"] is False and data["code"] == code and data["message"]
    assert ndl.seen == []


def test_the_endpoint_says_when_the_service_fails(hanako_client, ndl):
    serve_ndl(ndl, status=500)
    response = ask(hanako_client, "isbn", KOKORO)
    assert response.status_code == 502
    assert response.json()["code"] == "unavailable"


def test_the_endpoint_when_the_lookup_is_off(hanako_client, settings):
    settings.CATALOGUE_LOOKUP = ""
    response = ask(hanako_client, "isbn", KOKORO)
    assert response.status_code == 503 and response.json()["code"] == "off"


def test_only_signed_in_users_may_ask(client, ndl):
    response = ask(client, "isbn", KOKORO)
    assert response.status_code == 401 and response.json()["ok"] is False
    assert client.get(reverse("patron:catalogue_lookup"), {"kind": "isbn", "value": KOKORO}).status_code == 302
    assert client.post(reverse("patron:catalogue_lookup")).status_code in (302, 401, 403, 405)
    assert ndl.seen == []


def test_the_forms_offer_the_lookup_only_when_it_is_on(hanako_client, settings, ndl):
    settings.CATALOGUE_LOOKUP = ""
    page = hanako_client.get(reverse("patron:new", args=["loan"])).content.decode()
    assert "data-catalogue-lookup" not in page and "catalogue-lookup.js" not in page
    settings.CATALOGUE_LOOKUP = "ndl"
    page = hanako_client.get(reverse("patron:new", args=["loan"])).content.decode()
    assert 'data-kinds="isbn issn "' in page and "js/catalogue-lookup.js" in page
    copy_page = hanako_client.get(reverse("patron:new", args=["copy"])).content.decode()
    assert "data-catalogue-lookup" in copy_page
    assert ndl.seen == []  # rendering the form asks no one


# --- the desk's holders ----------------------------------------------------------------------------


@pytest.fixture
def desk_client(client, staff_user):
    client.force_login(staff_user)
    return client


def holders_of(client, ncid=KOKORO_NCID, kind="loan"):
    return client.get(reverse("desk:cinii_holders", args=[ncid]), {"kind": kind})


def test_holders_are_matched_to_our_lenders_by_participant_id_code_or_name(desk_client, cinii):
    serve_cinii(cinii)
    by_code = f.LendingInstitutionFactory(code="FA001007", name="九州大学附属図書館")
    by_name = f.LendingInstitutionFactory(code="SOPHIA", name="上智大学図書館")
    f.LendingInstitutionFactory(code="OLD", name="国立情報学研究所 図書室", active=False)
    response = holders_of(desk_client)
    assert response.status_code == 200
    page = response.content.decode()
    assert "data-holders-loaded" in page
    assert f'data-add-candidate="{by_code.code}"' in page and f'data-add-candidate="{by_name.code}"' in page
    assert 'data-add-candidate="OLD"' not in page  # an inactive lender is not offered
    assert "https://ci.nii.ac.jp/library/FA018360" in page  # an unmatched holder: listed, linked
    (_path, query) = cinii.seen[0]
    assert (query["ncid"], query["ill"], query["ill_stat"], query["ill_loans"], query["appid"]) == (
        KOKORO_NCID,
        "A",
        "A",
        "A",
        "test-appid",
    )
    holders_of(desk_client, kind="copy")
    assert cinii.seen[-1][1]["ill_copys"] == "A"


def test_holders_match_the_nacsis_participant_id_when_lenders_have_one(db, cinii, staff_user):
    serve_cinii(cinii)
    if not any(field.name == "nacsis_participant_id" for field in LendingInstitution._meta.get_fields()):
        pytest.skip("LendingInstitution.nacsis_participant_id is not there yet")
    lender = f.LendingInstitutionFactory(code="KYUSHU", name="Kyushu", nacsis_participant_id="FA001007")
    found = catalogue.holdings(KOKORO_NCID, kind="loan", user=staff_user)
    assert [h.lender_code for h in found.matched] == [lender.code]


def test_holders_failures_and_validation(desk_client, cinii, settings):
    cinii.add("/books/opensearch/holder", recorded("cinii_malformed.json"), query={"ncid": KOKORO_NCID})
    response = holders_of(desk_client)
    assert response.status_code == 502 and "data-holders-loaded" in response.content.decode()
    assert holders_of(desk_client, ncid="BN0321573X").status_code == 400  # wrong check character
    assert desk_client.get("/desk/catalogue/holders/%2E%2E%2Fetc%2Fpasswd/").status_code in (400, 404)
    assert holders_of(desk_client, ncid="BN03215734&fano=FA000001").status_code == 400
    settings.CATALOGUE_LOOKUP = ""
    assert holders_of(desk_client).status_code == 503
    assert len(cinii.seen) == 1


def test_only_the_desk_sees_holders(hanako_client, cinii):
    assert holders_of(hanako_client).status_code == 403
    assert cinii.seen == []


def test_the_request_page_loads_the_holders_after_itself(desk_client, cinii, undergraduate, settings):
    serve_cinii(cinii)
    item = f.RequestFactory(patron=undergraduate, ncid=KOKORO_NCID)
    page = desk_client.get(reverse("desk:request", args=[item.number])).content.decode()
    assert f'data-cinii-holders="/desk/catalogue/holders/{KOKORO_NCID}/?kind=loan"' in page
    assert cinii.seen == []  # the page itself waited for no one
    without = f.RequestFactory(patron=undergraduate, ncid="")
    assert "data-cinii-holders" not in desk_client.get(reverse("desk:request", args=[without.number])).content.decode()
    settings.CATALOGUE_LOOKUP = ""
    assert "data-cinii-holders" not in desk_client.get(reverse("desk:request", args=[item.number])).content.decode()


def test_recorded_json_answers_are_json():
    for path in DATA.glob("cinii_*.json"):
        if path.name != "cinii_malformed.json":
            json.loads(path.read_text(encoding="utf-8"))
