"""Import the library's own holdings (DESIGN.md §3.3) from a CSV or MARC export of the catalogue.

Idempotent: a record is keyed by its catalogue record ID and is updated in place when imported
again; its identifiers are replaced. Bad lines are reported with their line (or record) number
and do not stop the good ones. Records are written in chunks with bulk queries.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pymarc
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ill import identifiers
from ill.models import LocalHolding, LocalHoldingIdentifier
from patrons.models import Branch

CHUNK = 500

# Accepted CSV column names (lower-cased), English and as Japanese library systems export them.
COLUMNS = {
    "source_id": ("source_id", "record_id", "id", "bibid", "書誌id", "書誌番号", "レコードid", "資料id"),
    "title": ("title", "タイトル", "書名", "資料名"),
    "author": ("author", "著者", "著者名"),
    "call_number": ("call_number", "callno", "call number", "請求記号"),
    "status": ("status", "状態", "貸出状態"),
    "isbn": ("isbn",),
    "issn": ("issn",),
    "ncid": ("ncid",),
    "electronic": ("electronic", "is_electronic", "online", "電子"),
    "branch": ("branch", "館", "所在館"),
    "location": ("location", "配置場所", "所在"),
}
STATUS_WORDS = {
    "available": LocalHolding.Status.AVAILABLE,
    "貸出可": LocalHolding.Status.AVAILABLE,
    "在架": LocalHolding.Status.AVAILABLE,
    "on_loan": LocalHolding.Status.ON_LOAN,
    "on loan": LocalHolding.Status.ON_LOAN,
    "checked out": LocalHolding.Status.ON_LOAN,
    "貸出中": LocalHolding.Status.ON_LOAN,
    "in_process": LocalHolding.Status.IN_PROCESS,
    "整理中": LocalHolding.Status.IN_PROCESS,
    "missing": LocalHolding.Status.MISSING,
    "lost": LocalHolding.Status.MISSING,
    "不明": LocalHolding.Status.MISSING,
    "紛失": LocalHolding.Status.MISSING,
}
TRUE_WORDS = {"1", "true", "yes", "y", "on", "はい", "電子", "e"}


@dataclass
class HoldingRecord:
    line: int
    source_id: str
    title: str
    author: str = ""
    call_number: str = ""
    status: str = LocalHolding.Status.AVAILABLE
    is_electronic: bool = False
    branch_code: str = ""
    location: str = ""
    isbns: list[str] = field(default_factory=list)
    issns: list[str] = field(default_factory=list)
    ncids: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


class RecordError(ValueError):
    pass


def _split(value: str) -> list[str]:
    for sep in (";", "|", ",", "、"):
        value = value.replace(sep, " ")
    return [part for part in value.split() if part]


def _normalised(kind: str, values: Iterable[str], errors: list[str]) -> list[str]:
    found = []
    for value in values:
        try:
            normalised = identifiers.normalize_identifier(kind, value)
        except identifiers.IdentifierError as exc:
            errors.append(str(exc))
            continue
        if normalised and normalised not in found:
            found.append(normalised)
    return found


def _status(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return LocalHolding.Status.AVAILABLE
    status = STATUS_WORDS.get(value.casefold()) or STATUS_WORDS.get(value)
    if status is None:
        raise RecordError(_("unknown status “%(value)s”") % {"value": value})
    return status


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS (CP932) as Japanese systems often export."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RecordError(_("the file is neither UTF-8 nor Shift_JIS text"))


def read_csv(data: bytes, report: ImportReport) -> Iterator[HoldingRecord]:
    text = decode(data)
    reader = csv.DictReader(io.StringIO(text))
    headers = {(h or "").strip().casefold(): h for h in (reader.fieldnames or [])}
    column = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in headers:
                column[name] = headers[alias]
                break
    missing = [name for name in ("source_id", "title") if name not in column]
    if missing:
        report.errors.append((1, str(_("the header has no column for %(columns)s") % {"columns": ", ".join(missing)})))
        return
    for row in reader:
        line = reader.line_num

        def get(name, row=row):
            return (row.get(column[name]) or "").strip() if name in column else ""

        problems: list[str] = []
        try:
            source_id, title = get("source_id"), get("title")
            if not source_id:
                raise RecordError(_("no record ID"))
            if not title:
                raise RecordError(_("no title"))
            record = HoldingRecord(
                line=line,
                source_id=source_id[:64],
                title=title[:500],
                author=get("author")[:300],
                call_number=get("call_number")[:100],
                status=_status(get("status")),
                is_electronic=get("electronic").casefold() in TRUE_WORDS,
                branch_code=get("branch"),
                location=get("location")[:100],
                isbns=_normalised("isbn", _split(get("isbn")), problems),
                issns=_normalised("issn", _split(get("issn")), problems),
                ncids=_normalised("ncid", _split(get("ncid")), problems),
            )
        except RecordError as exc:
            report.errors.append((line, str(exc)))
            continue
        for problem in problems:
            report.errors.append((line, problem))
        yield record


def read_marc(data: bytes, report: ImportReport) -> Iterator[HoldingRecord]:
    """ISO 2709 (binary MARC) or MARCXML; MARC 21 tags: 001 ID, 020 ISBN, 022 ISSN, 035 (NCID),
    100/110/111 author, 245 title, 050/090/852 call number, 856 / 338 electronic."""
    if data.lstrip()[:1] == b"<":
        records = pymarc.parse_xml_to_array(io.BytesIO(data))
    else:
        records = pymarc.MARCReader(io.BytesIO(data), to_unicode=True, force_utf8=True, utf8_handling="replace")
    for number, record in enumerate(records, start=1):
        if record is None:
            report.errors.append((number, str(_("the record cannot be read"))))
            continue
        problems: list[str] = []
        try:
            ids = record.get_fields("001")
            source_id = ids[0].data.strip() if ids else ""
            if not source_id:
                raise RecordError(_("no record ID (001)"))
            title = " ".join(part for f in record.get_fields("245") for part in f.get_subfields("a", "b")).strip(" /:;")
            if not title:
                raise RecordError(_("no title (245)"))
            author = next(
                (f.get_subfields("a")[0] for f in record.get_fields("100", "110", "111") if f.get_subfields("a")), ""
            )
            call = next(
                (
                    " ".join(f.get_subfields("a", "b", "h", "i"))
                    for f in record.get_fields("090", "050", "852")
                    if f.get_subfields("a", "b", "h", "i")
                ),
                "",
            )
            ncids = [
                value.split(")", 1)[1]
                for f in record.get_fields("035")
                for value in f.get_subfields("a")
                if value.upper().startswith("(NCID)")
            ]
            electronic = bool(record.get_fields("856")) and (
                any("online" in v.casefold() for f in record.get_fields("338") for v in f.get_subfields("a"))
                or any("electronic" in v.casefold() for f in record.get_fields("245") for v in f.get_subfields("h"))
            )
            yield HoldingRecord(
                line=number,
                source_id=source_id[:64],
                title=title[:500],
                author=author.strip(" ,.")[:300],
                call_number=call.strip()[:100],
                is_electronic=electronic,
                isbns=_normalised(
                    "isbn",
                    [v.split()[0] for f in record.get_fields("020") for v in f.get_subfields("a") if v.split()],
                    problems,
                ),
                issns=_normalised(
                    "issn",
                    [v.split()[0] for f in record.get_fields("022") for v in f.get_subfields("a") if v.split()],
                    problems,
                ),
                ncids=_normalised("ncid", ncids, problems),
            )
        except RecordError as exc:
            report.errors.append((number, str(exc)))
            continue
        for problem in problems:
            report.errors.append((number, problem))


def _chunks(records: Iterable[HoldingRecord], size: int) -> Iterator[list[HoldingRecord]]:
    chunk = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@transaction.atomic
def _write(chunk: list[HoldingRecord], branches: dict, report: ImportReport) -> None:
    latest = {r.source_id: r for r in chunk}  # a record repeated in one file: the last line wins
    existing = LocalHolding.objects.in_bulk(list(latest), field_name="source_id")
    to_create, to_update = [], []
    for source_id, record in latest.items():
        values = {
            "title": record.title,
            "author": record.author,
            "call_number": record.call_number,
            "status": record.status,
            "is_electronic": record.is_electronic,
            "branch": branches.get(record.branch_code),
            "location": record.location,
        }
        holding = existing.get(source_id)
        if holding is None:
            to_create.append(LocalHolding(source_id=source_id, **values))
        else:
            for name, value in values.items():
                setattr(holding, name, value)
            to_update.append(holding)
    LocalHolding.objects.bulk_create(to_create)
    LocalHolding.objects.bulk_update(
        to_update, ["title", "author", "call_number", "status", "is_electronic", "branch", "location"]
    )
    report.created += len(to_create)
    report.updated += len(to_update)
    saved = LocalHolding.objects.in_bulk(list(latest), field_name="source_id")
    LocalHoldingIdentifier.objects.filter(holding__in=saved.values()).delete()
    LocalHoldingIdentifier.objects.bulk_create(
        [
            LocalHoldingIdentifier(holding=saved[source_id], scheme=scheme, value=value)
            for source_id, record in latest.items()
            for scheme, values in (("isbn", record.isbns), ("issn", record.issns), ("ncid", record.ncids))
            for value in values
        ]
    )


def import_holdings(data: bytes, fmt: str, *, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a CSV (`fmt="csv"`) or MARC (`fmt="marc"`) export; returns counts and errors."""
    report = ImportReport()
    branches = {b.code: b for b in Branch.objects.all()}
    try:
        records = read_csv(data, report) if fmt == "csv" else read_marc(data, report)
        for chunk in _chunks(records, CHUNK):
            _write(chunk, branches, report)
            if progress:
                progress(len(chunk))
    except RecordError as exc:
        report.errors.append((0, str(exc)))
    return report
