"""Validation and normalisation of ISBN, ISSN, NCID and DOI (DESIGN.md §2).

Pure functions, no database. Each `normalize_*` returns the canonical form we store and compare,
or raises `IdentifierError` with a message that names the identifier and says what is wrong.
Input may be typed with a Japanese IME (full-width digits and letters, long-vowel marks and other
dashes, ideographic spaces) or pasted from a catalogue or a link ("ISBN 4-00-310101-4",
"https://doi.org/10.1038/171737a0").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import unquote

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

__all__ = [
    "IdentifierError",
    "IdentifierKind",
    "blank_or",
    "is_blank",
    "isbn10_to_13",
    "isbn13_to_10",
    "lazy_format",
    "normalize_doi",
    "normalize_identifier",
    "normalize_isbn",
    "normalize_issn",
    "normalize_ncid",
]

IdentifierKind = Literal["isbn", "issn", "ncid", "doi"]

# Dashes that NFKC leaves alone. U+30FC (ー) is what an IME gives for "-" in kana mode; the others
# come from word processors and web pages. Soft hyphen is invisible, so it is dropped.
_DASHES = "\u2010\u2012\u2013\u2014\u2015\u2043\u2212\u2500\u2501\u2e3a\u2e3b\u30fc\ufe58"
_FOLD_TABLE = {ord(ch): "-" for ch in _DASHES} | {0x00AD: None}

_ISBN_LABEL = re.compile(r"^ISBN(?:-?1[03](?![0-9])|\s+1[03](?=\s*:))?\s*:?\s*")
_ISSN_LABEL = re.compile(r"^(?:[EP]-?|ONLINE\s*|PRINT\s*)?ISSN(?:-?L)?\s*:?\s*")
_NCID_LABEL = re.compile(r"^(?:(?:HTTPS?://)?CI\.NII\.AC\.JP/NCID/|INFO:NCID/|NCID\s*[:/=]?\s*)")
_DOI_LABELS = re.compile(
    r"^(?:https?://(?:dx\.|www\.)?doi\.org/|(?:dx\.)?doi\.org/|info:doi/|urn:doi:|doi\s*:\s*|doi\s+)",
    re.IGNORECASE,
)
_TRAILING_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")  # "4-00-310101-4 (pbk.)"
_SEPARATORS = re.compile(r"[\s\-]+")
_DOI = re.compile(r"10\.[0-9]{4,}(?:\.[0-9]+)*/\S+")
_NCID = re.compile(r"[A-Z]{2}[0-9]{7}[0-9X]")
_MAX_SHOWN = 40


def _format(template: Any, params: dict[str, Any]) -> str:
    return str(template) % params


_lazy_format = lazy(_format, str)


def lazy_format(template: Any, params: dict[str, Any]) -> Promise:
    """`template % params`, translated and interpolated only when rendered."""
    # `gettext_lazy(...) % params` would translate at once, in the wrong language (or fail
    # without settings); this keeps the message lazy until the reader's language is known.
    return _lazy_format(template, params)


class IdentifierError(ValueError):
    """An identifier that cannot be accepted.

    `kind` is "isbn", "issn", "ncid" or "doi"; `code` is a machine code ("empty", "characters",
    "length", "prefix", "checksum", "format"); `message` is lazy translatable text.
    """

    def __init__(self, kind: IdentifierKind, code: str, message: Promise | str, value: str = "") -> None:
        super().__init__(kind, code, message, value)
        self.kind = kind
        self.code = code
        self.message = message
        self.value = value

    def __str__(self) -> str:
        return str(self.message)


def _shown(value: str) -> str:
    """The input as the patron typed it, shortened and without invisible characters."""
    text = "".join(ch for ch in value.strip() if unicodedata.category(ch)[0] != "C")
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _error(kind: IdentifierKind, code: str, template: Any, value: str, **params: Any) -> IdentifierError:
    return IdentifierError(kind, code, lazy_format(template, {"value": _shown(value), **params}), value)


def _fold(value: str) -> str:
    """NFKC (full-width → ASCII), the remaining dashes to "-", invisible format characters removed."""
    text = unicodedata.normalize("NFKC", value).translate(_FOLD_TABLE)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def is_blank(value: object) -> bool:
    """None, "" or only whitespace (including the ideographic space)."""
    return value is None or (isinstance(value, str) and not value.strip())


# --- ISBN -------------------------------------------------------------------------------------


def _isbn10_check(first9: str) -> str:
    remainder = sum((10 - i) * int(d) for i, d in enumerate(first9)) % 11
    check = (11 - remainder) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def _clean_isbn(value: str) -> str:
    """Digits and X only, or IdentifierError; validates length, prefix and check digit."""
    text = _fold(value).upper()
    text = _TRAILING_QUALIFIER.sub("", _ISBN_LABEL.sub("", text))
    digits = _SEPARATORS.sub("", text)
    if not digits:
        raise _error("isbn", "empty", _("ISBN: nothing was entered."), value)
    if not re.fullmatch(r"[0-9]*X?", digits):
        raise _error(
            "isbn",
            "characters",
            _("ISBN %(value)s: only digits, hyphens and a final X are allowed."),
            value,
        )
    if len(digits) not in (10, 13):
        raise _error(
            "isbn",
            "length",
            _("ISBN %(value)s: an ISBN has 10 or 13 digits, but this one has %(count)s."),
            value,
            count=len(digits),
        )
    if len(digits) == 13:
        if digits.endswith("X"):
            raise _error(
                "isbn",
                "characters",
                _("ISBN %(value)s: a 13-digit ISBN ends with a digit, not X."),
                value,
            )
        if digits[:3] not in ("978", "979"):
            raise _error(
                "isbn",
                "prefix",
                _("ISBN %(value)s: a 13-digit ISBN starts with 978 or 979; this looks like another kind of number."),
                value,
            )
        expected = _isbn13_check(digits[:12])
    else:
        expected = _isbn10_check(digits[:9])
    if digits[-1] != expected:
        raise _error(
            "isbn",
            "checksum",
            _(
                "ISBN %(value)s: the check digit is wrong (expected %(expected)s). "
                "Please copy the ISBN again from the book or the catalogue."
            ),
            value,
            expected=expected,
        )
    return digits


def normalize_isbn(value: str) -> str:
    """The ISBN as 13 digits without hyphens (an ISBN-10 is converted)."""
    digits = _clean_isbn(value)
    return digits if len(digits) == 13 else "978" + digits[:9] + _isbn13_check("978" + digits[:9])


def isbn10_to_13(isbn10: str) -> str:
    """A valid ISBN-10 (hyphens allowed) as a 13-digit ISBN."""
    digits = _clean_isbn(isbn10)
    if len(digits) != 10:
        raise _error(
            "isbn",
            "length",
            _("ISBN %(value)s: an ISBN has 10 or 13 digits, but this one has %(count)s."),
            isbn10,
            count=len(digits),
        )
    return normalize_isbn(digits)


def isbn13_to_10(isbn13: str) -> str | None:
    """The ISBN-10 of a valid 978 ISBN-13; None for 979 ISBNs, which have no 10-digit form."""
    digits = normalize_isbn(isbn13)
    if digits.startswith("979"):
        return None
    return digits[3:12] + _isbn10_check(digits[3:12])


# --- ISSN -------------------------------------------------------------------------------------


def _issn_check(first7: str) -> str:
    remainder = sum((8 - i) * int(d) for i, d in enumerate(first7)) % 11
    check = (11 - remainder) % 11
    return "X" if check == 10 else str(check)


def normalize_issn(value: str) -> str:
    """The ISSN as "1234-567X" (upper-case X)."""
    text = _ISSN_LABEL.sub("", _fold(value).upper())
    digits = _SEPARATORS.sub("", text)
    if not digits:
        raise _error("issn", "empty", _("ISSN: nothing was entered."), value)
    if not re.fullmatch(r"[0-9]*X?", digits):
        raise _error(
            "issn",
            "characters",
            _("ISSN %(value)s: only digits, a hyphen and a final X are allowed."),
            value,
        )
    if len(digits) != 8:
        raise _error(
            "issn",
            "length",
            _("ISSN %(value)s: an ISSN has 8 characters (for example 0028-0836), but this one has %(count)s."),
            value,
            count=len(digits),
        )
    expected = _issn_check(digits[:7])
    if digits[-1] != expected:
        raise _error(
            "issn",
            "checksum",
            _(
                "ISSN %(value)s: the check digit is wrong (expected %(expected)s). "
                "Please copy the ISSN again from the journal or the catalogue."
            ),
            value,
            expected=expected,
        )
    return f"{digits[:4]}-{digits[4:]}"


# --- NCID (NACSIS-CAT / CiNii Books record ID) ------------------------------------------------

# NII's info-URI registration for "info:ncid" says the tenth character "is a check sum (0-9, X)"
# but does not publish the algorithm. The one below was derived from, and matches, 49 real record
# IDs with the prefixes AA AB AN BA BB BC BD BN DB EB (four of them ending in X): mod 11 with
# weights 9..1 over the first nine characters, a letter counting as its alphabet position mod 10.
# Letters J and T are unverified (position mod 10 is 0; could be 10), so they are not checked.
_NCID_UNCHECKED_LETTERS = frozenset("JT")


def _ncid_value(ch: str) -> int:
    return (ord(ch) - ord("A") + 1) % 10 if ch.isalpha() else int(ch)


def _ncid_check(first9: str) -> str:
    check = sum((9 - i) * _ncid_value(ch) for i, ch in enumerate(first9)) % 11
    return "X" if check == 10 else str(check)


def normalize_ncid(value: str) -> str:
    """The NCID in upper case, e.g. "BA51293930" (books start with B, serials with A)."""
    text = _NCID_LABEL.sub("", _fold(value).upper())
    text = re.sub(r"[?#].*$", "", text).rstrip("/")  # a pasted CiNii URL: ".../ncid/BB1234567X?l=en"
    ncid = _SEPARATORS.sub("", text)
    if not ncid:
        raise _error("ncid", "empty", _("NCID: nothing was entered."), value)
    if not _NCID.fullmatch(ncid):
        raise _error(
            "ncid",
            "format",
            _(
                "NCID %(value)s: an NCID is two letters followed by eight digits, the last of which may be X "
                "(for example BA51293930, as shown in CiNii Books)."
            ),
            value,
        )
    if not _NCID_UNCHECKED_LETTERS.intersection(ncid[:2]):
        expected = _ncid_check(ncid[:9])
        if ncid[-1] != expected:
            raise _error(
                "ncid",
                "checksum",
                _(
                    "NCID %(value)s: the last character is wrong (expected %(expected)s). "
                    "Please copy the NCID again from CiNii Books."
                ),
                value,
                expected=expected,
            )
    return ncid


# --- DOI --------------------------------------------------------------------------------------


def normalize_doi(value: str) -> str:
    """The bare DOI in lower case ("10.1038/171737a0"); DOIs are case-insensitive."""
    text = value.strip()
    previous = None
    # Until nothing changes: links come doubly encoded or doubly prefixed ("https://doi.org/doi:10…"),
    # and a stored DOI must come out unchanged when normalised again.
    while previous != text:
        previous = text
        text = unquote(text, errors="replace")
        text = _DOI_LABELS.sub("", text).strip().strip("\"'<>“”「」").rstrip(".,;:")
    if not text:
        raise _error("doi", "empty", _("DOI: nothing was entered."), value)
    if "\ufffd" in text or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise _error(
            "doi",
            "characters",
            _("DOI %(value)s: it contains characters that cannot be part of a DOI."),
            value,
        )
    if not _DOI.fullmatch(text):
        raise _error(
            "doi",
            "format",
            _(
                "DOI %(value)s: a DOI starts with 10., a number of at least four digits, a slash and a suffix "
                "(for example 10.1038/171737a0)."
            ),
            value,
        )
    return text.lower()


# --- dispatch ---------------------------------------------------------------------------------

_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "isbn": normalize_isbn,
    "issn": normalize_issn,
    "ncid": normalize_ncid,
    "doi": normalize_doi,
}


def blank_or(normalize: Callable[[str], str]) -> Callable[[str | None], str]:
    """Wrap a normaliser so that a blank input gives "" instead of an error (optional form fields)."""

    def wrapper(value: str | None) -> str:
        return "" if is_blank(value) else normalize(value)  # type: ignore[arg-type]

    wrapper.__name__ = f"blank_or_{getattr(normalize, '__name__', 'normalize')}"
    wrapper.__doc__ = normalize.__doc__
    return wrapper


def normalize_identifier(kind: IdentifierKind, value: str | None) -> str:
    """Normalise `value` as `kind`; blank input gives ""."""
    try:
        normalize = _NORMALIZERS[kind]
    except KeyError:
        raise ValueError(f"unknown identifier kind {kind!r}") from None
    return blank_or(normalize)(value)
