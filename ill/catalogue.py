"""Look-up from the national catalogues (issue 13): an ISBN, ISSN or NCID fills the request form
from NDL Search or CiNii Books, and the CiNii Books holdings of an NCID suggest lenders.

Which service: `settings.CATALOGUE_LOOKUP` = "" (off, the default: these machines have no
internet), "ndl" or "cinii". An ISBN or ISSN is asked of that service; an NCID (a NACSIS-CAT
record number) and the holdings are CiNii Books' own, asked of CiNii Books whenever the look-up
is on and `CINII_APPID` is set (CiNii Books requires an application ID).

The services and the formats read (their public documentation):

- NDL Search SRU, `{NDL_SEARCH_URL}/api/sru?operation=searchRetrieve&recordSchema=dcndl&...`:
  an SRU 1.2 `searchRetrieveResponse` (namespace http://www.loc.gov/zing/srw/) whose records
  carry DC-NDL RDF/XML (`dcndl:BibResource`), packed as XML or as an escaped string
  ("NDL Search API specifications", §3 SRU, and its Appendix 3, examples of returned data).
- NDL Search OpenSearch, `{NDL_SEARCH_URL}/api/opensearch?isbn=...`: RSS 2.0 with dc / dcterms /
  dcndl elements in each item (same documents, §5 OpenSearch). Chosen with NDL_API=opensearch.
- CiNii Books OpenSearch, `{CINII_BOOKS_URL}/books/opensearch/search?isbn=...&format=json`: JSON-LD,
  `@graph[0]` the channel with `opensearch:totalResults` and `items` (CiNii Books "OpenSearch for
  Books & Journals", JSON-LD response format).
- CiNii Books record, `{CINII_BOOKS_URL}/ncid/<NCID>.json`: JSON-LD, `@graph[0]` the record
  (`dc:title`, `dc:creator`, `dc:publisher`, `dc:date`, `prism:edition`, `dcterms:hasPart`).
- CiNii Books holdings, `{CINII_BOOKS_URL}/books/opensearch/holder?ncid=...&format=json`: JSON-LD,
  one item per holding library, its page https://ci.nii.ac.jp/library/FA…… ("OpenSearch for
  Holdings").

What is guaranteed: only the configured base URLs are ever called, with an identifier that was
validated and normalised first (`ill.identifiers`), so nothing the user types reaches the URL
but a checked ISBN / ISSN / NCID; redirects are not followed; each call has a deadline for the
whole answer (`CATALOGUE_TIMEOUT` seconds) and a size limit; XML is parsed with defusedxml (no
DTD, no entities); answers are cached (`CATALOGUE_CACHE_SECONDS`, a day by default, a miss for
an hour); each user may make `CATALOGUE_RATE_PER_MINUTE` calls to the services a minute (cached
answers do not count). Every failure is a
`LookupFailure` with a code and a calm message; nothing is ever written to a request here.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode, urlsplit

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import bounds
from ill import identifiers
from ill.models import LendingInstitution, Request

logger = logging.getLogger(__name__)

SERVICES = ("ndl", "cinii")
KINDS = ("isbn", "issn", "ncid")
MAX_BYTES = 2 * 1024 * 1024  # a record or a page of holdings is far smaller
MISS_SECONDS = 3600
USER_AGENT = "ill-desk catalogue look-up"
FANO = re.compile(r"FA[0-9]{6}")
CINII_LIBRARY = "https://ci.nii.ac.jp/library/{fano}"
CINII_RECORD = "https://ci.nii.ac.jp/ncid/{ncid}"
MAX_UNMATCHED_HOLDERS = 30

SERVICE_NAMES = {"ndl": _("NDL Search"), "cinii": _("CiNii Books")}

MESSAGES = {
    "off": _("Look-up from the national catalogues is not switched on. Please type the details in."),
    "unsupported": _("This number cannot be looked up here. Please type the details in."),
    "invalid": _("That does not look like a valid number."),
    "empty": _("Type the number first, then choose Look up."),
    "rate_limited": _("Too many look-ups in a short time. Please wait a minute and try again."),
    "not_found": _("Nothing was found for this number in %(service)s. Please check it or type the details in."),
    "timeout": _("%(service)s did not answer in time. Please try again later or type the details in."),
    "unavailable": _("%(service)s could not be reached just now. Please try again later or type the details in."),
    "malformed": _("%(service)s sent an answer that could not be read. Please type the details in."),
}

# Which failures are the user's to fix (4xx) and which the service's (5xx).
STATUS = {
    "off": 503,
    "unsupported": 400,
    "invalid": 400,
    "rate_limited": 429,
    "not_found": 404,
    "timeout": 504,
    "unavailable": 502,
    "malformed": 502,
}

NS = {
    "srw": "http://www.loc.gov/zing/srw/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "dcndl": "http://ndl.go.jp/dcndl/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
DCNDL_TYPES = "http://ndl.go.jp/dcndl/terms/"


class LookupFailure(Exception):
    """A look-up that gave nothing usable; `code` is a key of MESSAGES, `message` what to show."""

    def __init__(self, code: str, message=None, service: str = ""):
        self.code = code
        self.service = service
        name = SERVICE_NAMES.get(service, _("the catalogue"))
        self.message = message if message is not None else identifiers.lazy_format(MESSAGES[code], {"service": name})
        super().__init__(code)

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def __str__(self) -> str:
        return str(self.message)


class MalformedAnswer(ValueError):
    """The service answered, but not in its documented format."""


@dataclass
class Record:
    """What a catalogue says of one book or serial: the request form's fields, all optional."""

    title: str = ""
    author: str = ""
    publisher: str = ""
    pub_year: int | None = None
    edition: str = ""
    isbn: str = ""
    issn: str = ""
    ncid: str = ""
    link: str = ""

    def fields(self) -> dict:
        """The form's fields this record fills, cut to what the form accepts; empty ones left out."""
        values = {}
        for name in ("title", "author", "publisher", "edition", "isbn", "issn", "ncid"):
            text = " ".join(str(getattr(self, name) or "").split())
            if text:
                values[name] = text[: Request._meta.get_field(name).max_length]
        if self.pub_year is not None and bounds.MIN_YEAR <= self.pub_year <= timezone.localdate().year + 1:
            values["pub_year"] = self.pub_year
        return values


@dataclass
class Holder:
    """One library that holds the title, as CiNii Books lists it, and our lender for it if any."""

    fano: str
    name: str
    link: str = ""
    lender_id: int | None = None
    lender_code: str = ""
    lender_name: str = ""


@dataclass
class Holdings:
    ncid: str
    total: int
    holders: list[Holder] = field(default_factory=list)

    @property
    def matched(self) -> list[Holder]:
        return [h for h in self.holders if h.lender_id]

    @property
    def unmatched(self) -> list[Holder]:
        return [h for h in self.holders if not h.lender_id][:MAX_UNMATCHED_HOLDERS]

    @property
    def more(self) -> int:
        return max(self.total - len(self.matched) - len(self.unmatched), 0)

    @property
    def link(self) -> str:
        return CINII_RECORD.format(ncid=self.ncid)


# --- settings ---------------------------------------------------------------------------------


def service() -> str:
    """The configured service for ISBN / ISSN, or "" when the look-up is off."""
    name = (getattr(settings, "CATALOGUE_LOOKUP", "") or "").strip().lower()
    if name not in SERVICES:
        if name:
            logger.warning("CATALOGUE_LOOKUP=%r is not one of %s: the look-up stays off", name, SERVICES)
        return ""
    if name == "cinii" and not cinii_on():
        return ""
    return name


def cinii_on() -> bool:
    """CiNii Books can be asked: the look-up is on and an application ID is set."""
    name = (getattr(settings, "CATALOGUE_LOOKUP", "") or "").strip().lower()
    return name in SERVICES and bool(getattr(settings, "CINII_APPID", ""))


def enabled() -> bool:
    return bool(service()) or cinii_on()


def holdings_enabled() -> bool:
    return cinii_on()


def service_for(kind: str) -> str:
    """Which service answers this kind of number, or "" (then the look-up is off for it)."""
    if kind == "ncid":
        return "cinii" if cinii_on() else ""
    return service()


def _base(name: str) -> str:
    base = str(getattr(settings, name, "") or "").rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LookupFailure("off")
    return base


# --- HTTP -------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: only the configured host is ever called."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, service_name: str) -> bytes:
    """GET `url` (built here from a configured base and a validated identifier) within
    CATALOGUE_TIMEOUT seconds for the whole answer, at most MAX_BYTES; LookupFailure otherwise."""
    timeout = float(getattr(settings, "CATALOGUE_TIMEOUT", 4))
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            if response.status != 200:
                raise LookupFailure("unavailable", service=service_name)
            chunks, size = [], 0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LookupFailure("timeout", service=service_name)
                _set_timeout(response, remaining)
                chunk = response.read1(64 * 1024)  # what has come, not "wait for 64 KiB"
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BYTES:
                    raise LookupFailure("malformed", service=service_name)
                chunks.append(chunk)
            return b"".join(chunks)
    except LookupFailure:
        raise
    except urllib.error.HTTPError as exc:
        logger.info("catalogue %s answered HTTP %s", service_name, exc.code)
        raise LookupFailure("unavailable", service=service_name) from exc
    except urllib.error.URLError as exc:
        code = "timeout" if isinstance(exc.reason, TimeoutError) else "unavailable"
        logger.info("catalogue %s not reached: %s", service_name, exc.reason)
        raise LookupFailure(code, service=service_name) from exc
    except TimeoutError as exc:  # socket.timeout is TimeoutError
        raise LookupFailure("timeout", service=service_name) from exc
    except (OSError, ValueError) as exc:  # connection reset, a bad status line, …
        logger.info("catalogue %s failed: %r", service_name, exc)
        raise LookupFailure("unavailable", service=service_name) from exc


def _set_timeout(response, seconds: float) -> None:
    """Shorten the socket's timeout to what is left of the deadline (a slow drip must not last)."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.01))


# --- parsing: XML -----------------------------------------------------------------------------


def _xml(data: bytes):
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedAnswer(f"not XML: {exc}") from exc


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _year(text: str) -> int | None:
    match = re.search(r"(?<![0-9])([0-9]{4})(?![0-9])", text or "")
    return int(match.group(1)) if match else None


def _join(values) -> str:
    seen = []
    for value in values:
        value = " ".join(str(value).split())
        if value and value not in seen:
            seen.append(value)
    return " ; ".join(seen)


def _clean_isbn(value: str) -> str:
    try:
        return identifiers.normalize_isbn(value)
    except identifiers.IdentifierError:
        return ""


def _clean_issn(value: str) -> str:
    try:
        return identifiers.normalize_issn(value)
    except identifiers.IdentifierError:
        return ""


def _clean_ncid(value: str) -> str:
    try:
        return identifiers.normalize_ncid(value)
    except identifiers.IdentifierError:
        return ""


def parse_ndl_sru(data: bytes) -> list[Record]:
    """The records of an NDL Search SRU answer in the dcndl schema (XML or string packing)."""
    root = _xml(data)
    if _local(root.tag) != "searchRetrieveResponse":
        raise MalformedAnswer(f"SRU root is {root.tag!r}")
    diagnostics = [e for e in root.iter() if _local(e.tag) == "diagnostic"]
    if diagnostics:
        raise MalformedAnswer("SRU diagnostic: " + _text(diagnostics[0]))
    count = next((e for e in root if _local(e.tag) == "numberOfRecords"), None)
    if count is None or not _text(count).isdigit():
        raise MalformedAnswer("SRU answer without numberOfRecords")
    records = []
    for record_data in (e for e in root.iter() if _local(e.tag) == "recordData"):
        rdf = next((e for e in record_data if _local(e.tag) == "RDF"), None)
        if rdf is None and (record_data.text or "").strip():
            rdf = _xml(record_data.text.strip().encode("utf-8"))  # recordPacking=string
        if rdf is None:
            raise MalformedAnswer("SRU record without RDF")
        resource = rdf.find("dcndl:BibResource", NS)
        if resource is not None:
            records.append(_dcndl_record(resource))
    if int(_text(count)) and not records:
        raise MalformedAnswer("SRU answer counts records but has none")
    return records


def _dcndl_record(resource) -> Record:
    identifiers_by_type: dict[str, list[str]] = {}
    for ident in resource.findall("dcterms:identifier", NS):
        kind = (ident.get(f"{{{NS['rdf']}}}datatype") or "").replace(DCNDL_TYPES, "")
        identifiers_by_type.setdefault(kind, []).append(_text(ident))
    title = _text(resource.find("dcterms:title", NS)) or _text(resource.find("dc:title/rdf:Description/rdf:value", NS))
    volume = _text(resource.find("dcndl:volume/rdf:Description/rdf:value", NS))
    creators = [_text(e) for e in resource.findall("dc:creator", NS)]
    if not creators:
        creators = [_text(e) for e in resource.findall("dcterms:creator/foaf:Agent/foaf:name", NS)]
    publishers = [_text(e) for e in resource.findall("dcterms:publisher/foaf:Agent/foaf:name", NS)]
    issued = _text(resource.find("dcterms:issued", NS)) or _text(resource.find("dcterms:date", NS))
    about = resource.get(f"{{{NS['rdf']}}}about") or ""
    return Record(
        title=f"{title} {volume}".strip() if volume and volume not in title else title,
        author=_join(creators),
        publisher=_join(publishers) or _join(_text(e) for e in resource.findall("dc:publisher", NS)),
        pub_year=_year(issued),
        edition=_text(resource.find("dcndl:edition", NS)),
        isbn=next(filter(None, map(_clean_isbn, identifiers_by_type.get("ISBN", []))), ""),
        issn=next(filter(None, map(_clean_issn, identifiers_by_type.get("ISSN", []))), ""),
        link=about.split("#", 1)[0] if about.startswith("https://") else "",
    )


def parse_ndl_opensearch(data: bytes) -> list[Record]:
    """The items of an NDL Search OpenSearch answer (RSS 2.0)."""
    root = _xml(data)
    channel = root.find("channel")
    if _local(root.tag) != "rss" or channel is None:
        raise MalformedAnswer("not an RSS channel")
    records = []
    for item in channel.findall("item"):
        isbns = [_text(e) for e in item.findall("dc:identifier", NS) if "ISBN" in (e.get(f"{{{NS['xsi']}}}type") or "")]
        issns = [_text(e) for e in item.findall("dc:identifier", NS) if "ISSN" in (e.get(f"{{{NS['xsi']}}}type") or "")]
        link = _text(item.find("link"))
        records.append(
            Record(
                title=_text(item.find("dc:title", NS)) or _text(item.find("title")),
                author=_join(_text(e) for e in item.findall("dc:creator", NS)),
                publisher=_join(_text(e) for e in item.findall("dc:publisher", NS)),
                pub_year=_year(_text(item.find("dcterms:issued", NS)) or _text(item.find("dc:date", NS))),
                edition=_text(item.find("dcndl:edition", NS)),
                isbn=next(filter(None, map(_clean_isbn, isbns)), ""),
                issn=next(filter(None, map(_clean_issn, issns)), ""),
                link=link if link.startswith("https://") else "",
            )
        )
    return records


# --- parsing: JSON-LD -------------------------------------------------------------------------


def _json(data: bytes):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedAnswer(f"not JSON: {exc}") from exc


def _graph_first(document) -> dict:
    """`@graph[0]` of a CiNii JSON-LD answer (or the document itself when it has no @graph)."""
    if not isinstance(document, dict):
        raise MalformedAnswer("JSON answer is not an object")
    graph = document.get("@graph", [document])
    if not isinstance(graph, list) or not graph or not isinstance(graph[0], dict):
        raise MalformedAnswer("JSON-LD without @graph")
    return graph[0]


def _values(value) -> list[str]:
    """Plain strings of a JSON-LD value: a string, {"@value": …}, or a list of those."""
    if value is None:
        return []
    if isinstance(value, list):
        return [text for item in value for text in _values(item)]
    if isinstance(value, dict):
        if "@value" in value:
            return _values(value["@value"])
        return []
    if isinstance(value, (str, int, float)):
        return [str(value)]
    return []


def _first(value) -> str:
    values = _values(value)
    return values[0] if values else ""


def _main_title(value) -> str:
    """The title without its reading: CiNii gives the reading as a second value with @language ja-Kana/ja-hrkt."""
    if isinstance(value, list):
        plain = [
            v for v in value if not (isinstance(v, dict) and str(v.get("@language", "")).lower().startswith("ja-"))
        ]
        return _first(plain or value)
    return _first(value)


def _link_id(value) -> str:
    if isinstance(value, dict):
        return str(value.get("@id", ""))
    if isinstance(value, list) and value:
        return _link_id(value[0])
    return value if isinstance(value, str) else ""


def _total(channel) -> int:
    try:
        return int(_first(channel.get("opensearch:totalResults")))
    except ValueError as exc:
        raise MalformedAnswer("no opensearch:totalResults") from exc


def _items(channel) -> list[dict]:
    items = channel.get("items", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MalformedAnswer("items is not a list of objects")
    return items


def _isbns_of(item) -> list[str]:
    found = _values(item.get("dc:isbn"))
    for part in item.get("dcterms:hasPart", []) if isinstance(item.get("dcterms:hasPart"), list) else []:
        ident = _link_id(part)
        if ident.startswith("urn:isbn:"):
            found.append(ident[len("urn:isbn:") :])
    return found


def _ncid_of(item) -> str:
    for candidate in (_first(item.get("cinii:ncid")), _link_id(item.get("link")), str(item.get("@id", ""))):
        match = re.search(r"/ncid/([A-Z]{2}[0-9]{7}[0-9X])", candidate) or re.fullmatch(
            r"([A-Z]{2}[0-9]{7}[0-9X])", candidate
        )
        if match:
            return _clean_ncid(match.group(1))
    return ""


def _cinii_record(item) -> Record:
    ncid = _ncid_of(item)
    return Record(
        title=_main_title(item.get("dc:title")) or _main_title(item.get("title")),
        author=_join(_values(item.get("dc:creator"))),
        publisher=_join(_values(item.get("dc:publisher"))),
        pub_year=_year(_first(item.get("dc:pubDate")) or _first(item.get("dc:date"))),
        edition=_first(item.get("prism:edition")),
        isbn=next(filter(None, map(_clean_isbn, _isbns_of(item))), ""),
        issn=next(filter(None, map(_clean_issn, _values(item.get("prism:issn")) + _values(item.get("dc:issn")))), ""),
        ncid=ncid,
        link=CINII_RECORD.format(ncid=ncid) if ncid else "",
    )


def parse_cinii_search(data: bytes) -> list[Record]:
    """The items of a CiNii Books OpenSearch answer (format=json)."""
    channel = _graph_first(_json(data))
    total = _total(channel)
    items = _items(channel)
    if total and not items:
        raise MalformedAnswer("totalResults without items")
    return [_cinii_record(item) for item in items]


def parse_cinii_record(data: bytes) -> Record:
    """A CiNii Books record (/ncid/<NCID>.json)."""
    entity = _graph_first(_json(data))
    if entity.get("@type") == "channel":
        raise MalformedAnswer("a search answer, not a record")
    record = _cinii_record(entity)
    if not record.title:
        raise MalformedAnswer("CiNii record without a title")
    return record


def parse_cinii_holders(data: bytes) -> tuple[int, list[Holder]]:
    """The holding libraries of a CiNii Books holdings answer (format=json): (total, holders)."""
    channel = _graph_first(_json(data))
    total = _total(channel)
    holders = []
    for item in _items(channel):
        where = " ".join((str(item.get("@id", "")), _link_id(item.get("link")), _link_id(item.get("rdfs:seeAlso"))))
        match = FANO.search(where)
        name = _main_title(item.get("title")) or _main_title(item.get("dc:title"))
        if not match or not name:
            raise MalformedAnswer("a holder without a library ID or a name")
        fano = match.group(0)
        holders.append(Holder(fano=fano, name=" ".join(name.split()), link=CINII_LIBRARY.format(fano=fano)))
    return max(total, len(holders)), holders


# --- the look-up ------------------------------------------------------------------------------


def normalize(kind: str, value: str) -> str:
    """The identifier as sent to the service, or LookupFailure("invalid") naming what is wrong."""
    if kind not in KINDS:
        raise LookupFailure("unsupported")
    try:
        normalized = identifiers.normalize_identifier(kind, value)
    except identifiers.IdentifierError as exc:
        raise LookupFailure("invalid", message=exc.message) from exc
    if not normalized:
        raise LookupFailure("invalid", message=MESSAGES["empty"])
    return normalized


def check_rate(user) -> None:
    """At most CATALOGUE_RATE_PER_MINUTE look-ups a minute for one user (shared cache: all workers)."""
    limit = int(getattr(settings, "CATALOGUE_RATE_PER_MINUTE", 20))
    if limit <= 0:
        return
    key = f"catalogue:rate:{user.pk}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=90)
        count = 1
    if count > limit:
        raise LookupFailure("rate_limited")


def _cache_seconds() -> int:
    return int(getattr(settings, "CATALOGUE_CACHE_SECONDS", 86400))


def _cached(key: str, compute):
    """compute() cached for a day; a miss (LookupFailure "not_found") cached for an hour."""
    hit = cache.get(key)
    if hit is not None:
        if hit.get("miss"):
            raise LookupFailure("not_found", service=hit["service"])
        return hit["value"]
    try:
        value = compute()
    except LookupFailure as exc:
        if exc.code == "not_found":
            cache.set(key, {"miss": True, "service": exc.service}, timeout=min(MISS_SECONDS, _cache_seconds()))
        raise
    cache.set(key, {"value": value}, timeout=_cache_seconds())
    return value


def _parsed(parse, data: bytes, service_name: str):
    try:
        return parse(data)
    except MalformedAnswer as exc:
        logger.warning("catalogue %s: unreadable answer (%s)", service_name, exc)
        raise LookupFailure("malformed", service=service_name) from exc


def _ndl(kind: str, value: str) -> Record:
    base = _base("NDL_SEARCH_URL")
    api = str(getattr(settings, "NDL_API", "sru")).lower()
    if api == "opensearch":
        if kind != "isbn":
            raise LookupFailure("unsupported")
        url = f"{base}/api/opensearch?" + urlencode({"isbn": value, "cnt": 5})
        records = _parsed(parse_ndl_opensearch, fetch(url, "ndl"), "ndl")
    else:
        query = f'{kind}="{value}"'  # value: 13 digits or NNNN-NNNN, nothing to escape
        params = {
            "operation": "searchRetrieve",
            "version": "1.2",
            "recordSchema": "dcndl",
            "recordPacking": "xml",
            "onlyBib": "true",
            "maximumRecords": 5,
            "query": query,
        }
        records = _parsed(parse_ndl_sru, fetch(f"{base}/api/sru?" + urlencode(params), "ndl"), "ndl")
    records = [r for r in records if r.title]
    if not records:
        raise LookupFailure("not_found", service="ndl")
    return records[0]


def _cinii_params(**params) -> str:
    return urlencode({**params, "appid": settings.CINII_APPID})


def _cinii_ncid(ncid: str) -> Record:
    base = _base("CINII_BOOKS_URL")
    try:
        data = fetch(f"{base}/ncid/{ncid}.json?" + _cinii_params(), "cinii")
    except LookupFailure as exc:
        if exc.code == "unavailable":  # CiNii answers 404 for an NCID it does not have
            raise LookupFailure("not_found", service="cinii") from exc
        raise
    record = _parsed(parse_cinii_record, data, "cinii")
    record.ncid = record.ncid or ncid
    record.link = CINII_RECORD.format(ncid=record.ncid)
    return record


def _cinii(kind: str, value: str) -> Record:
    if kind == "ncid":
        return _cinii_ncid(value)
    base = _base("CINII_BOOKS_URL")
    term = value.replace("-", "")  # CiNii: ISSN "without hyphen"
    url = f"{base}/books/opensearch/search?" + _cinii_params(**{kind: term}, format="json", count=5)
    records = [r for r in _parsed(parse_cinii_search, fetch(url, "cinii"), "cinii") if r.title]
    if not records:
        raise LookupFailure("not_found", service="cinii")
    found = records[0]
    if found.ncid:
        # The record has what the search's item lacks (the edition, an ISSN); the item is enough without it.
        try:
            full = _cinii_ncid(found.ncid)
        except LookupFailure:
            return found
        for name, known in asdict(full).items():
            if known and not getattr(found, name):
                setattr(found, name, known)
    return found


def lookup(kind: str, value: str, *, user) -> tuple[str, dict]:
    """(service, the form's fields) for an ISBN / ISSN / NCID, or LookupFailure. A call to the
    service counts against the user's rate; answers are cached for everyone."""
    name = service_for(kind)
    if not name:
        raise LookupFailure("off" if not enabled() else "unsupported")
    normalized = normalize(kind, value)
    fetcher = _ndl if name == "ndl" else _cinii

    def ask() -> dict:
        check_rate(user)  # only what reaches the service counts: a cached answer is free
        return asdict(fetcher(kind, normalized))

    record = _cached(f"catalogue:{name}:{kind}:{normalized}", ask)
    return name, {"fields": Record(**record).fields(), "link": record.get("link", "")}


# --- holdings ---------------------------------------------------------------------------------


def _fetch_holders(ncid: str, kind: str) -> dict:
    base = _base("CINII_BOOKS_URL")
    params = {"ncid": ncid, "ill": "A", "ill_stat": "A", "format": "json"}
    params["ill_loans" if kind == Request.Kind.LOAN else "ill_copys"] = "A"
    total, holders = _parsed(
        parse_cinii_holders, fetch(f"{base}/books/opensearch/holder?" + _cinii_params(**params), "cinii"), "cinii"
    )
    return {"total": total, "holders": [asdict(h) for h in holders]}


def _match(holders: list[Holder]) -> None:
    """Our active lenders for the holders: by NACSIS participant ID (the fano) when lenders have
    one, by code equal to the fano, else by exactly the same name (spaces ignored)."""
    fanos = {h.fano for h in holders}
    lenders = LendingInstitution.objects.filter(active=True)
    by_fano: dict[str, LendingInstitution] = {}
    if _has_field(LendingInstitution, "nacsis_participant_id"):
        for lender in lenders.filter(nacsis_participant_id__in=fanos):
            by_fano[lender.nacsis_participant_id.upper()] = lender
    for lender in lenders.filter(code__in=fanos):
        by_fano.setdefault(lender.code.upper(), lender)
    names = {_name_key(h.name) for h in holders if h.fano not in by_fano}
    by_name = {}
    if names:
        for lender in lenders.only("id", "code", "name", "name_en"):
            for key in (_name_key(lender.name), _name_key(lender.name_en)):
                if key in names:
                    by_name.setdefault(key, lender)
    for holder in holders:
        lender = by_fano.get(holder.fano) or by_name.get(_name_key(holder.name))
        if lender is not None:
            holder.lender_id, holder.lender_code, holder.lender_name = lender.pk, lender.code, str(lender.name)


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def _name_key(name: str) -> str:
    return "".join(str(name or "").split()).casefold()


def holdings(ncid: str, *, kind: str, user) -> Holdings:
    """The libraries CiNii Books lists as holding `ncid` and taking ILL requests of this kind,
    with our lenders matched; LookupFailure when CiNii is off or fails."""
    if not holdings_enabled():
        raise LookupFailure("off")
    normalized = normalize("ncid", ncid)
    kind = kind if kind in (Request.Kind.LOAN, Request.Kind.COPY) else Request.Kind.LOAN

    def ask() -> dict:
        check_rate(user)
        return _fetch_holders(normalized, kind)

    data = _cached(f"catalogue:cinii:holders:{kind}:{normalized}", ask)
    holders = [Holder(**h) for h in data["holders"]]
    _match(holders)
    holders.sort(key=lambda h: (h.lender_id is None, h.name))
    return Holdings(ncid=normalized, total=data["total"], holders=holders)
