"""Read an OpenURL link (0.1 or 1.0 KEV) into request-form fields (DESIGN.md §2).

Link resolvers, Google Scholar, CiNii, PubMed and publisher sites send the citation of what the
patron wants as query parameters. `parse_openurl` turns them into the names of the request form's
fields and decides whether it is a loan or a copy. It never raises: what it cannot use is listed
in `ignored` (unknown keys) and `problems` (lazy translatable messages for the patron).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from urllib.parse import parse_qsl

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core import bounds
from ill.identifiers import (
    IdentifierError,
    lazy_format,
    normalize_doi,
    normalize_isbn,
    normalize_issn,
    normalize_ncid,
)

__all__ = ["MAX_PARAMS", "MAX_VALUE_LENGTH", "OpenURLResult", "keep", "parse_openurl"]

Kind = Literal["loan", "copy"]
Message = str | Promise

MAX_PARAMS = 200
MAX_VALUE_LENGTH = 500
_MAX_KEY_SHOWN = 40
_MIN_YEAR = 1400

# Bibliographic keys, as 0.1 names them and 1.0 does after "rft.". CiNii documents "publisher"
# next to "pub"; "ncid", "doi" and "year" are not standard but are sent by some local tools.
_BIB_KEYS = frozenset(
    {
        "genre",
        "title",
        "atitle",
        "jtitle",
        "stitle",
        "btitle",
        "au",
        "aulast",
        "aufirst",
        "auinit",
        "auinit1",
        "auinitm",
        "aucorp",
        "date",
        "year",
        "volume",
        "issue",
        "spage",
        "epage",
        "pages",
        "isbn",
        "issn",
        "eissn",
        "ncid",
        "doi",
        "pub",
        "publisher",
        "place",
        "edition",
        "inst",
        "degree",
    }
)
# Understood but not bibliographic fields. CiNii puts the NCID in rft_id=info:ncid/…,
# rfe_dat=ncid/… or (0.1) pid=ncid:…; CiNii Articles sends rfr_id=info:sid/ci.nii.ac.jp:CiNii.
_CONTEXT_KEYS = frozenset(
    {
        "url_ver",
        "url_tim",
        "url_ctx_fmt",
        "ctx_ver",
        "ctx_enc",
        "ctx_tim",
        "ctx_id",
        "rft_val_fmt",
        "rft_id",
        "id",
        "rfr_id",
        "sid",
        "rfe_dat",
        "pid",
    }
)
# Keys whose repetitions are all kept (several authors, several identifiers).
_MULTI_KEYS = frozenset({"au", "rft_id", "id", "rfe_dat", "pid"})

# genre -> (kind, material_type). A whole conference proceedings volume is borrowed; a paper in
# it ("proceeding") is copied. A journal or issue is never lent (DESIGN.md §3.4), only copied.
_GENRES: dict[str, tuple[Kind, str]] = {
    "book": ("loan", "book"),
    "bookitem": ("copy", "chapter"),
    "article": ("copy", "article"),
    "journal": ("copy", "serial"),
    "issue": ("copy", "serial"),
    "proceeding": ("copy", "proceedings"),
    "conference": ("loan", "proceedings"),
    "dissertation": ("loan", "thesis"),
    "report": ("loan", "other"),
    "document": ("loan", "other"),
    "preprint": ("copy", "article"),
    "unknown": ("loan", "other"),
}
_PAGE_RANGE = re.compile(r"(\d+)\s*[-–—~〜]\s*(\d+)")
_GENRE_ALIASES = {"thesis": "dissertation", "chapter": "bookitem", "proceedings": "conference"}

_SOURCES = (  # substring of sid / rfr_id (lower case) -> name shown in the note
    ("google", "Google Scholar"),
    ("cir.nii.ac.jp", "CiNii Research"),
    ("cinii", "CiNii"),
    ("ci.nii.ac.jp", "CiNii"),
    ("pubmed", "PubMed"),
    ("ncbi", "PubMed"),
    ("jstage", "J-STAGE"),
    ("ndlsearch", "NDL Search"),
    ("ndl.go.jp", "NDL Search"),
    ("scopus", "Scopus"),
    ("webofscience", "Web of Science"),
    ("isi:", "Web of Science"),
    ("crossref", "Crossref"),
    ("worldcat", "WorldCat"),
    ("oclc", "WorldCat"),
    ("zotero", "Zotero"),
    ("mendeley", "Mendeley"),
    ("ebsco", "EBSCO"),
    ("proquest", "ProQuest"),
    ("primo", "Primo"),
    ("summon", "Summon"),
)

_WHITESPACE = re.compile(r"\s+")
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")
_ERA = re.compile(r"(明治|大正|昭和|平成|令和)\s*([0-9]{1,2}|元)")
_ERA_OFFSETS = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}
_NCID_IN_DATA = re.compile(r"ncid\s*[:/=]\s*([0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+)", re.IGNORECASE)
_ID_PREFIXES: tuple[tuple[str, str], ...] = (
    ("info:doi/", "doi"),
    ("doi:", "doi"),
    ("urn:doi:", "doi"),
    ("https://doi.org/", "doi"),
    ("http://doi.org/", "doi"),
    ("https://dx.doi.org/", "doi"),
    ("http://dx.doi.org/", "doi"),
    ("info:pmid/", "pmid"),
    ("pmid:", "pmid"),
    ("info:ncid/", "ncid"),
    ("ncid:", "ncid"),
    ("urn:isbn:", "isbn"),
    ("info:isbn/", "isbn"),
    ("urn:issn:", "issn"),
    ("info:issn/", "issn"),
)


@dataclass(frozen=True)
class OpenURLResult:
    """What a link asks for, as request-form field names.

    `fields` has only keys among: title, author, publisher, pub_year (int), edition, isbn, issn,
    ncid, doi, article_title, journal_title, volume, issue, pages, place, note.
    `problems` are lazy translatable messages (render them with str() in the patron's language).
    """

    kind: Kind
    material_type: str
    fields: dict[str, str | int]
    ignored: tuple[str, ...]
    problems: tuple[Message, ...]

    @property
    def is_empty(self) -> bool:
        """True when the link gave nothing that identifies a work (a note alone does not)."""
        return not any(name != "note" for name in self.fields)


def parse_openurl(
    params: Iterable[tuple[Any, Any]] | Mapping[Any, Any] | str | bytes | None,
    *,
    today: date | None = None,
) -> OpenURLResult:
    """Parse OpenURL parameters: (key, value) pairs, a mapping of key -> value(s), or a query string."""
    reader = _Reader()
    reader.read(params)
    return reader.result(today or date.today())


def keep(params: Any) -> list[list[str]]:
    """The parameters `parse_openurl` would read, small enough to keep (in the session while the
    patron logs in, or in a page that posts them again): known keys only, at most MAX_PARAMS of
    them, each value cleaned and cut one character past MAX_VALUE_LENGTH (so that the shortening
    is still reported). Any input: it never raises."""
    kept: list[list[str]] = []
    for count, (raw_key, raw_value) in enumerate(_iter_pairs(params)):
        if count >= MAX_PARAMS:
            break
        key = _clean(_text(raw_key))[:100]
        if key and _Reader.canonical(key.lower()) is not None:
            kept.append([key, _clean(_text(raw_value))[: MAX_VALUE_LENGTH + 1]])
    return kept


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _is_junk(ch: str) -> bool:
    """Control, format (zero-width, bidi), surrogate and replacement characters; not whitespace."""
    return ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Cf", "Cs") and not ch.isspace())


def _collapse(match: re.Match[str]) -> str:
    # A run of ideographic spaces stays one ideographic space: Japanese titles use it as typed.
    return "\u3000" if set(match.group()) == {"\u3000"} else " "


def _clean(text: str) -> str:
    text = "".join(ch for ch in text if not _is_junk(ch))
    return _WHITESPACE.sub(_collapse, text).strip()


def _shorten(text: str, limit: int = _MAX_KEY_SHOWN) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iter_pairs(params: Any) -> Iterator[tuple[Any, Any]]:
    if params is None:
        return
    if isinstance(params, (str, bytes, bytearray)):
        yield from parse_qsl(_text(params).lstrip("?"), keep_blank_values=True)
    elif callable(getattr(params, "lists", None)):  # Django QueryDict / MultiValueDict
        for key, values in params.lists():
            for value in values:
                yield key, value
    elif isinstance(params, Mapping):
        for key, values in params.items():
            if isinstance(values, (list, tuple)):
                for value in values:
                    yield key, value
            else:
                yield key, values
    elif isinstance(params, Iterable):
        for item in params:
            if isinstance(item, (tuple, list)) and len(item) == 2:
                yield item[0], item[1]


class _Reader:
    """Collects cleaned values per key, then builds the result."""

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}
        self.raw_keys: dict[str, str] = {}
        self.ignored: set[str] = set()
        self.problems: list[Message] = []
        self._problem_keys: set[tuple[str, ...]] = set()

    # -- problems: lazy messages must not be compared (that would render them), so dedupe by key

    def problem(self, dedupe_key: tuple[str, ...], message: Message) -> None:
        if dedupe_key not in self._problem_keys:
            self._problem_keys.add(dedupe_key)
            self.problems.append(message)

    # -- reading

    def read(self, params: Any) -> None:
        for count, (raw_key, raw_value) in enumerate(_iter_pairs(params)):
            if count >= MAX_PARAMS:
                self.problem(
                    ("too_many",),
                    lazy_format(
                        _("The link had more than %(limit)s parameters; only the first %(limit)s were read."),
                        {"limit": MAX_PARAMS},
                    ),
                )
                break
            self.add(_text(raw_key), _text(raw_value))

    def add(self, raw_key: str, raw_value: str) -> None:
        key_text = _clean(raw_key)
        if not key_text:
            return
        key = self.canonical(key_text.lower())
        if key is None:
            self.ignored.add(_shorten(key_text, 100))
            return
        shown_key = _shorten(key_text)
        if "\ufffd" in raw_value:
            self.problem(
                ("unreadable", key),
                lazy_format(
                    _("Some characters in %(key)s could not be read and were left out."),
                    {"key": shown_key},
                ),
            )
        value = _clean(raw_value)
        if len(value) > MAX_VALUE_LENGTH:
            value = value[:MAX_VALUE_LENGTH].rstrip()
            self.problem(
                ("too_long", key),
                lazy_format(
                    _("The value of %(key)s was longer than %(limit)s characters and was shortened."),
                    {"key": shown_key, "limit": MAX_VALUE_LENGTH},
                ),
            )
        if not value:
            return
        known = self.values.setdefault(key, [])
        self.raw_keys.setdefault(key, shown_key)
        if value in known:
            return
        if known and key not in _MULTI_KEYS:
            self.problem(
                ("repeated", key),
                lazy_format(
                    _("%(key)s was given more than once with different values; the first one was used."),
                    {"key": self.raw_keys[key]},
                ),
            )
            return
        known.append(value)

    @staticmethod
    def canonical(key: str) -> str | None:
        if key.startswith("rft."):
            name = key[4:]
            return name if name in _BIB_KEYS else None
        if key in _BIB_KEYS or key in _CONTEXT_KEYS:
            return key
        return None

    def first(self, *keys: str) -> str:
        for key in keys:
            if self.values.get(key):
                return self.values[key][0]
        return ""

    def has(self, *keys: str) -> bool:
        return any(self.values.get(key) for key in keys)

    # -- building the result

    def result(self, today: date) -> OpenURLResult:
        ids = self.identifiers()
        fmt = self.first("rft_val_fmt").lower().rsplit(":", 1)[-1]
        genre = self.genre(fmt, ids)
        kind, material = _GENRES[genre]
        if material == "serial" and self.has("atitle"):
            material = "article"

        fields: dict[str, str | int] = {}

        def put(name: str, value: str) -> None:
            if name != "note":  # "spage-epage" is built from two values that may each be 500 long
                value = value[:MAX_VALUE_LENGTH].rstrip()
            if value:
                fields[name] = value

        if kind == "loan":
            put("title", self.first("btitle", "title", "jtitle"))
        else:
            in_a_book = material == "chapter" or (
                material == "proceedings" and (self.has("btitle") or fmt == "book" or not self.has("jtitle"))
            )
            if in_a_book:
                put("title", self.first("btitle", "title", "jtitle"))
            else:
                put("journal_title", self.first("jtitle", "title", "stitle", "btitle"))
            put("article_title", self.first("atitle"))
        put("author", self.authors())
        put("publisher", self.first("pub", "publisher"))
        year = self.year(today)
        if year:
            fields["pub_year"] = year
        put("edition", self.first("edition"))
        for name in ("isbn", "issn", "ncid", "doi"):
            put(name, ids.get(name, ""))
        put("volume", self.first("volume"))
        if kind == "copy":
            put("issue", self.first("issue"))
            put("pages", self.pages())
            count = self.page_count()
            if count:
                fields["page_count"] = count
        put("place", self.first("place"))
        put("note", self.note(ids.get("pmid", "")))
        return OpenURLResult(
            kind=kind,
            material_type=material,
            fields=fields,
            ignored=tuple(sorted(self.ignored)),
            problems=tuple(self.problems),
        )

    def genre(self, fmt: str, ids: dict[str, str]) -> str:
        genre = self.first("genre").lower()
        genre = _GENRE_ALIASES.get(genre, genre)
        if genre in _GENRES and genre != "unknown":
            return genre
        if fmt == "dissertation":
            return "dissertation"
        serial_hint = self.has("jtitle", "issn", "eissn") or fmt == "journal"
        if self.has("atitle"):
            if serial_hint:
                return "article"
            if self.has("btitle", "isbn") or fmt == "book":
                return "bookitem"
            return "article"
        if self.has("isbn") or self.has("btitle"):
            return "book"
        if serial_hint:
            return "article"
        ncid = ids.get("ncid", "")
        if ncid:  # NACSIS-CAT: A… are serials, B… books
            return "journal" if ncid.startswith("A") else "book"
        if fmt == "book" or self.has("title"):
            return "book"
        if ids.get("doi"):
            return "article"
        return "unknown"

    def identifiers(self) -> dict[str, str]:
        candidates: dict[str, list[str]] = {
            "isbn": list(self.values.get("isbn", [])),
            "issn": list(self.values.get("issn", [])) + list(self.values.get("eissn", [])),
            "ncid": list(self.values.get("ncid", [])),
            "doi": list(self.values.get("doi", [])),
            "pmid": [],
        }
        for value in self.values.get("rft_id", []) + self.values.get("id", []):
            lowered = value.lower()
            for prefix, name in _ID_PREFIXES:
                if lowered.startswith(prefix):
                    candidates[name].append(value[len(prefix) :] if name != "doi" else value)
                    break
            else:
                if lowered.startswith("10."):
                    candidates["doi"].append(value)
        for value in self.values.get("rfe_dat", []) + self.values.get("pid", []):
            candidates["ncid"].extend(match.group(1) for match in _NCID_IN_DATA.finditer(value))

        normalizers = {"isbn": normalize_isbn, "issn": normalize_issn, "ncid": normalize_ncid, "doi": normalize_doi}
        found: dict[str, str] = {}
        for name, normalize in normalizers.items():
            errors: list[IdentifierError] = []
            for candidate in candidates[name]:
                try:
                    found[name] = normalize(candidate)
                    break
                except IdentifierError as error:
                    errors.append(error)
            else:
                # Only said when no good one was found: a bad duplicate of a good one is noise.
                for error in errors:
                    self.problem(("identifier", name, error.value), error.message)
        pmid = next((p.strip() for p in candidates["pmid"] if p.strip().isascii() and p.strip().isdigit()), "")
        if pmid:
            found["pmid"] = pmid
        return found

    def authors(self) -> str:
        names = list(self.values.get("au", []))
        last = self.first("aulast")
        if last:
            given = self.first("aufirst") or (self.first("auinit1") + self.first("auinitm")) or self.first("auinit")
            first_author = f"{last}, {given}" if given else last
            # 1.0 links often repeat the first author in rft.au; 0.1 ones only give aulast.
            if not any(last.casefold() in name.casefold() for name in names):
                names.insert(0, first_author)
        elif self.first("aufirst") and not names:
            names.append(self.first("aufirst"))
        if not names and self.first("aucorp"):
            names.append(self.first("aucorp"))
        author = "; ".join(names)
        if len(author) > MAX_VALUE_LENGTH:
            author = author[:MAX_VALUE_LENGTH].rstrip()
            self.problem(
                ("too_long", "authors"),
                lazy_format(
                    _("The list of authors was longer than %(limit)s characters and was shortened."),
                    {"limit": MAX_VALUE_LENGTH},
                ),
            )
        return author

    def year(self, today: date) -> int | None:
        key = "date" if self.has("date") else "year"
        raw = self.first(key)
        if not raw:
            return None
        text = unicodedata.normalize("NFKC", raw)
        shown = {"key": self.raw_keys[key], "value": _shorten(raw)}
        match = _YEAR.search(text)
        if match:
            year = int(match.group(1))
        elif era := _ERA.search(text):
            year = _ERA_OFFSETS[era.group(1)] + (1 if era.group(2) == "元" else int(era.group(2)))
        else:
            self.problem(("no_year",), lazy_format(_("No year could be read from %(key)s (%(value)s)."), shown))
            return None
        if not _MIN_YEAR <= year <= today.year + 1:
            self.problem(
                ("bad_year",),
                lazy_format(
                    _("The year %(year)s in %(key)s is not plausible and was left out."),
                    {**shown, "year": year},
                ),
            )
            return None
        return year

    def pages(self) -> str:
        start, end = self.first("spage"), self.first("epage")
        if start:
            return f"{start}-{end}" if end and end != start else start
        return self.first("pages")

    def page_count(self) -> int | None:
        """Pages 10 to 25 are 16 pages to copy; None unless both ends are plain page numbers in order
        (roman numerals, "e123" article numbers or a reversed range say nothing reliable)."""
        start, end = self.first("spage"), self.first("epage")
        if not (start and end):
            match = _PAGE_RANGE.fullmatch(unicodedata.normalize("NFKC", self.first("pages")).strip())
            if not match:
                return None
            start, end = match.group(1), match.group(2)
        start, end = unicodedata.normalize("NFKC", start).strip(), unicodedata.normalize("NFKC", end).strip()
        if not (start.isascii() and start.isdigit() and end.isascii() and end.isdigit()):
            return None
        count = int(end) - int(start) + 1
        return count if bounds.PAGES.low <= count <= bounds.PAGES.high else None

    def note(self, pmid: str) -> str:
        lines = []
        source = self.source()
        if source:
            lines.append(f"Source: {source}")
        if self.has("degree"):
            lines.append(f"Degree: {self.first('degree')}")
        if self.has("inst"):
            lines.append(f"Institution: {self.first('inst')}")
        if pmid:
            lines.append(f"PMID: {pmid}")
        return "\n".join(lines)

    def source(self) -> str:
        raw = self.first("rfr_id", "sid")
        if raw.lower().startswith("info:sid/"):
            raw = raw[len("info:sid/") :]
        lowered = raw.lower()
        for needle, name in _SOURCES:
            if needle in lowered:
                return name
        return _shorten(raw, 100)
