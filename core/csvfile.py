"""CSV files that people upload (the holdings, the registrar's patrons, the fee-offset statement):
which encoding the file is in, the errors a reader raises, and rows numbered by their lines.

Japanese office systems export UTF-8 (with or without a byte-order mark) or Shift_JIS, which is
read as Microsoft's CP932 (Shift_JIS with the NEC and IBM extensions Excel writes). Nothing else
is guessed: a UTF-16 file or a NUL byte (a spreadsheet or binary file given by mistake) is named
as such, with its line.

    decode(data)               -> (text, label)      label "utf-8", "utf-8-bom" or "cp932"; NotText
    encoding_of(data)          -> "utf-8-sig" | "cp932"   FileProblem naming the line otherwise
    text_stream(data, enc)     -> a text file for csv.reader / csv.DictReader, read as a stream
    numbered(reader)           -> (first line, last line, row) of each row; CSVLineError
    require_columns(...)       a FileProblem on line 1 naming each required column not found
    Problems                   the bad lines: all counted, the first `keep` kept with their line
"""

import csv
import io
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

UTF8 = "utf-8-sig"  # reads UTF-8 with or without a BOM
CP932 = "cp932"
BOM = b"\xef\xbb\xbf"

UTF16 = _("the file is UTF-16 text: save it as UTF-8 (or Shift_JIS) CSV")
NUL_BYTE = _("the file contains a NUL byte on this line: is it a binary or UTF-16 file?")
NEITHER = _("the file is neither UTF-8 nor Shift_JIS text (line %(utf8)d is not UTF-8, line %(sjis)d is not Shift_JIS)")
FIELD_TOO_LONG = _("a field is longer than %(limit)s characters (is a quotation mark not closed?)")
NOT_CSV = _("the line cannot be read as CSV (%(error)s)")
NO_COLUMN = _("the header has no column for %(columns)s (accepted names — %(accepted)s)")


class RecordError(ValueError):
    """One line or record is bad; the others are still read (and checked)."""


class FileProblem(Exception):
    """The file cannot be read any further from here (`line`, 0 for the file as a whole)."""

    def __init__(self, line: int, message):
        super().__init__(str(message))
        self.line = line
        self.message = str(message)


class CSVLineError(FileProblem):
    """The csv module cannot read the row that starts on `line`; `error` is its csv.Error."""

    def __init__(self, line: int, error: csv.Error):
        super().__init__(line, csv_problem(error))
        self.error = error


class NotText(ValueError):
    """Neither UTF-8 nor CP932: `utf8_at` and `sjis_at` are the byte offsets where each failed."""

    def __init__(self, utf8_at: int, sjis_at: int):
        super().__init__(f"not UTF-8 at byte {utf8_at}, not Shift_JIS at byte {sjis_at}")
        self.utf8_at = utf8_at
        self.sjis_at = sjis_at


class Problems:
    """The bad lines: all counted, the first `keep` kept as [line, message]."""

    keep = 200

    def __init__(self):
        self.count = 0
        self.first: list[list] = []

    def add(self, line: int, message) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append([line, str(message)])


def line_of(data: bytes, offset: int) -> int:
    """The line (from 1) of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes) -> tuple[str, str]:
    """The text and what it was: "utf-8-bom" or "utf-8" (the BOM dropped), else "cp932"; NotText."""
    try:
        return data.decode(UTF8), "utf-8-bom" if data.startswith(BOM) else "utf-8"
    except UnicodeDecodeError as not_utf8:
        utf8_at = not_utf8.start
    try:
        return data.decode(CP932), "cp932"
    except UnicodeDecodeError as not_sjis:
        raise NotText(utf8_at, not_sjis.start) from None


def encoding_of(data: bytes, *, nul_message=NUL_BYTE) -> str:
    """The codec to read the file with, "utf-8-sig" or "cp932", checked on the whole file; a
    FileProblem with the line for UTF-16, a NUL byte (`nul_message`) or neither encoding."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise FileProblem(1, UTF16)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileProblem(line_of(data, nul), nul_message)
    try:
        _text, label = decode(data)
    except NotText as exc:
        utf8_line, sjis_line = line_of(data, exc.utf8_at), line_of(data, exc.sjis_at)
        raise FileProblem(utf8_line, NEITHER % {"utf8": utf8_line, "sjis": sjis_line}) from None
    return CP932 if label == "cp932" else UTF8


def text_stream(data: bytes, encoding: str) -> io.TextIOWrapper:
    """The file as text for the csv module, decoded as it is read (newline="" as csv wants)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def csv_problem(exc: csv.Error) -> str:
    """What a csv.Error means, for the person who made the file."""
    text = str(exc)
    if "field limit" in text:
        return str(FIELD_TOO_LONG % {"limit": f"{csv.field_size_limit():,}"})
    return str(NOT_CSV % {"error": text})


def require_columns(found, accepted: dict[str, tuple | list], required) -> None:
    """A FileProblem on the header line when a `required` column is not among those `found`,
    listing the names `accepted` for each missing one."""
    missing = [name for name in required if name not in found]
    if missing:
        names = "; ".join(f"{name}: {', '.join(accepted[name])}" for name in missing)
        raise FileProblem(1, NO_COLUMN % {"columns": ", ".join(missing), "accepted": names})


def numbered(reader) -> Iterator[tuple[int, int, list | dict]]:
    """(first line, last line, row) for each row a csv.reader or csv.DictReader gives from where
    it is now (a quoted line break makes a row span lines). A row the csv module cannot read is a
    CSVLineError on its first line, and ends the reading."""
    while True:
        first = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CSVLineError(first, exc) from None
        yield first, reader.line_num, row
