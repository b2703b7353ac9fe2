"""Import the library's own holdings (DESIGN.md §3.3) from a CSV or MARC export of the catalogue.

An import is a job (`HoldingsImport`), run by a Celery task in the admin or synchronously by
`manage.py import_holdings`; both call `run_job`:

1. **Read and check** (`stage`): every line (CSV) or record (MARC) is parsed and checked, the good
   ones written to the staging table `HoldingsImportRow`, the bad ones listed with their line or
   record number (the first MAX_ERRORS kept, all counted). A file that cannot be read further (not
   UTF-8 or Shift_JIS, a NUL byte, an over-long field, XML that is not well-formed, a truncated ISO
   2709 record, no records at all) stops there, with the line or record named.
2. **All or nothing**: if anything was wrong, nothing is applied — the office fixes the file and
   uploads it again. Otherwise `swap` writes the staged records into LocalHolding and
   LocalHoldingIdentifier in ONE transaction: matched by catalogue record ID (updated in place,
   created when new; holdings not in the file are kept), identifiers replaced. A record repeated in
   one file: the last line wins.

A crash, a time limit or a killed worker leaves the holdings as they were: the swap's transaction
is rolled back (or never began), the job is marked failed, and a job that stopped showing signs of
life (`heartbeat_at`) for STALE_AFTER is marked failed by `mark_stale_jobs`.

The file is not trusted: MARCXML is parsed by defusedxml's expat parser (no entity declarations, no
external references), each value is length-bounded, NUL characters are refused.
"""

import csv
import datetime
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from xml.sax import SAXParseException
from xml.sax.expatreader import ExpatLocator
from xml.sax.handler import feature_namespaces

import defusedxml.sax
import pymarc
from defusedxml import DefusedXmlException
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from pymarc.marcxml import MARC_XML_NS, XmlHandler

from core import csvfile
from core.csvfile import FileProblem, RecordError
from ill import identifiers
from ill.models import HoldingsImport, HoldingsImportRow, LocalHolding, LocalHoldingIdentifier
from patrons.models import Branch

logger = logging.getLogger(__name__)

CHUNK = 1000  # staged rows written, and rows swapped, per query
MAX_ERRORS = 200  # problems kept with their line (all are counted)
STALE_AFTER = datetime.timedelta(minutes=10)  # a running job silent this long has lost its worker
XML_FEED = 1 << 16

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
REQUIRED_COLUMNS = ("source_id", "title")
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

# The set-based statements of the staging and the swap (table names from the models).
STAGE = HoldingsImportRow._meta.db_table
HOLDING = LocalHolding._meta.db_table
IDENTIFIER = LocalHoldingIdentifier._meta.db_table
STAGED_COLUMNS = (
    "job_id, line, source_id, title, author, call_number, status, is_electronic, branch_id, location, identifiers"
)
STAGE_INSERT = f"INSERT INTO {STAGE} ({STAGED_COLUMNS}) VALUES ({', '.join(['%s'] * 11)})"
HOLDING_COLUMNS = ["title", "author", "call_number", "status", "is_electronic", "branch_id", "location"]
SWAP_UPSERT = (
    f"INSERT INTO {HOLDING} (source_id, {', '.join(HOLDING_COLUMNS)}, updated_at) "
    f"SELECT s.source_id, {', '.join('s.' + c for c in HOLDING_COLUMNS)}, %s FROM {STAGE} s WHERE s.job_id = %s "
    f"ON CONFLICT (source_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in [*HOLDING_COLUMNS, "updated_at"])
)
XML_RECORD = re.compile(rb"<(?:[\w.-]+:)?record[\s>/]")
FINISHED = (HoldingsImport.State.DONE, HoldingsImport.State.FAILED)


@dataclass
class HoldingRecord:
    line: int  # the CSV line, or the MARC record's number in the file
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


class Superseded(Exception):
    """The job is no longer running (marked failed as stale meanwhile): stop without applying."""


class Problems(csvfile.Problems):
    """The bad lines: all counted, the first MAX_ERRORS kept as [line or record, message]."""

    keep = MAX_ERRORS


# --- reading ------------------------------------------------------------------------------


def _split(value: str) -> list[str]:
    for sep in (";", "|", ",", "、"):
        value = value.replace(sep, " ")
    return [part for part in value.split() if part]


def _normalised(kind: str, values: Iterable[str], errors: list[str]) -> list[str]:
    found = []
    for value in values:
        try:
            normalised = identifiers.normalize_identifier(kind, value)
        except (identifiers.IdentifierError, ValueError) as exc:
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
        raise RecordError(_("unknown status “%(value)s”") % {"value": value[:50]})
    return status


def read_csv(data: bytes, problems: Problems) -> Iterator[HoldingRecord | int]:
    encoding = csvfile.encoding_of(data)  # UTF-8 (with or without BOM), else Shift_JIS (CP932)
    if is_xml(data):
        raise FileProblem(1, _("this is an XML file, not CSV: choose the MARC format for a MARCXML export"))
    reader = csv.DictReader(csvfile.text_stream(data, encoding))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise FileProblem(reader.line_num or 1, csvfile.csv_problem(exc)) from None
    headers = {(h or "").strip().casefold(): h for h in fieldnames}
    column = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in headers:
                column[name] = headers[alias]
                break
    csvfile.require_columns(column, COLUMNS, REQUIRED_COLUMNS)
    seen_any = False
    for _first, line, row in csvfile.numbered(reader):  # a record is numbered by its last line
        seen_any = True

        def get(name, row=row):
            value = row.get(column[name]) if name in column else ""
            return (value if isinstance(value, str) else "").strip()

        problems_here: list[str] = []
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
                isbns=_normalised("isbn", _split(get("isbn")), problems_here),
                issns=_normalised("issn", _split(get("issn")), problems_here),
                ncids=_normalised("ncid", _split(get("ncid")), problems_here),
            )
        except RecordError as exc:
            problems.add(line, exc)
            yield line
            continue
        for problem in problems_here:
            problems.add(line, problem)
        yield line if problems_here else record
    if not seen_any:
        raise FileProblem(0, _("the file has a header but no lines of holdings"))


def _marc_record(number: int, record: pymarc.Record, problems: Problems, xml_line: int = 0) -> HoldingRecord | None:
    """MARC 21 tags: 001 ID, 020 ISBN, 022 ISSN, 035 (NCID), 100/110/111 author, 245 title,
    050/090/852 call number, 856 / 338 electronic."""
    problems_here: list[str] = []
    try:
        ids = record.get_fields("001")
        source_id = (ids[0].data or "").strip() if ids else ""
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
        if "\x00" in source_id + title + author + call:
            raise RecordError(_("the record contains a NUL character"))
        holding = HoldingRecord(
            line=number,
            source_id=source_id[:64],
            title=title[:500],
            author=author.strip(" ,.")[:300],
            call_number=call.strip()[:100],
            is_electronic=electronic,
            isbns=_normalised(
                "isbn",
                [v.split()[0] for f in record.get_fields("020") for v in f.get_subfields("a") if v.split()],
                problems_here,
            ),
            issns=_normalised(
                "issn",
                [v.split()[0] for f in record.get_fields("022") for v in f.get_subfields("a") if v.split()],
                problems_here,
            ),
            ncids=_normalised("ncid", ncids, problems_here),
        )
    except RecordError as exc:
        problems_here = [str(exc)]
        holding = None
    for problem in problems_here:
        problems.add(
            number, _("%(problem)s (line %(line)d)") % {"problem": problem, "line": xml_line} if xml_line else problem
        )
    return None if problems_here else holding


def read_iso2709(data: bytes, problems: Problems) -> Iterator[HoldingRecord | int]:
    """Binary MARC: each record starts with its 5-digit length and ends with the record terminator."""
    pos, number, size = 0, 0, len(data)
    while True:
        while pos < size and data[pos] in b" \t\r\n":  # some exports put a line break between records
            pos += 1
        if pos >= size:
            break
        number += 1
        head = data[pos : pos + 5]
        if len(head) < 5 or not head.isdigit() or int(head) < 25:
            if number == 1:
                raise FileProblem(
                    1,
                    _(
                        "this is not an ISO 2709 MARC file (a record starts with its 5-digit length): "
                        "is it a CSV, or MARCXML that does not start with “<”?"
                    ),
                )
            raise FileProblem(
                number,
                _("the file is damaged here (byte %(offset)s): this record does not start with its length")
                % {"offset": f"{pos:,}"},
            )
        length = int(head)
        chunk = data[pos : pos + length]
        if len(chunk) < length:
            raise FileProblem(
                number,
                _("the file ends in the middle of this record (%(have)s of its %(length)s bytes): it is truncated")
                % {"have": f"{len(chunk):,}", "length": f"{length:,}"},
            )
        if chunk[-1:] != pymarc.END_OF_RECORD.encode():
            raise FileProblem(
                number, _("this record does not end where its length says (no record terminator): the file is damaged")
            )
        pos += length
        try:
            record = pymarc.Record(chunk, to_unicode=True, force_utf8=True, utf8_handling="replace")
        except Exception as exc:  # a third-party parser on untrusted bytes: any failure is this record's
            problems.add(number, _("the record cannot be read (%(error)s)") % {"error": str(exc)[:200] or type(exc)})
            yield number
            continue
        holding = _marc_record(number, record, problems)
        yield number if holding is None else holding
    if number == 0:
        raise FileProblem(0, _("no MARC records found — is this an ISO 2709 or MARCXML export?"))


class _MarcXmlHandler(XmlHandler):
    """pymarc's SAX handler, reading MARC elements (MARC 21 slim namespace, or none) and skipping
    any wrapper (e.g. OAI-PMH's own <record>); remembers the line each record starts on."""

    def __init__(self):
        super().__init__(strict=False)
        self._locator = None
        self.count = 0
        self.record_line = 0
        self.ready: list[tuple[int, int, pymarc.Record]] = []

    def setDocumentLocator(self, locator):  # noqa: N802 (SAX's name)
        self._locator = locator

    def line(self) -> int:
        return self._locator.getLineNumber() if self._locator else 0

    def startElementNS(self, name, qname, attrs):  # noqa: N802
        if name[0] not in (None, MARC_XML_NS):
            return
        if name[1] == "record":
            self.record_line = self.line()
        super().startElementNS(name, qname, attrs)

    def endElementNS(self, name, qname):  # noqa: N802
        if name[0] not in (None, MARC_XML_NS):
            return
        super().endElementNS(name, qname)

    def process_record(self, record):
        self.count += 1
        self.ready.append((self.count, self.record_line, record))

    @property
    def in_record(self) -> bool:
        return self._record is not None


def read_marcxml(data: bytes, problems: Problems) -> Iterator[HoldingRecord | int]:
    handler = _MarcXmlHandler()
    parser = defusedxml.sax.make_parser()  # forbids entity declarations and external references
    parser.setContentHandler(handler)
    parser.setFeature(feature_namespaces, True)
    handler.setDocumentLocator(ExpatLocator(parser))  # feed() does not set it, parse() would

    def where() -> int:
        return handler.count + 1 if handler.in_record else 0

    def drained() -> Iterator[HoldingRecord | int]:
        for number, line, record in handler.ready:
            holding = _marc_record(number, record, problems, xml_line=line)
            yield number if holding is None else holding
        handler.ready.clear()

    try:
        for start in range(0, len(data), XML_FEED):
            parser.feed(data[start : start + XML_FEED])
            yield from drained()
        parser.close()
    except SAXParseException as exc:
        raise FileProblem(
            where(),
            _("line %(line)s, column %(column)s: the XML is not well-formed (%(error)s)")
            % {"line": exc.getLineNumber(), "column": exc.getColumnNumber(), "error": exc.getMessage()},
        ) from None
    except DefusedXmlException:
        raise FileProblem(
            where(),
            _("line %(line)s: the XML declares entities or refers to other files, which an import does not accept")
            % {"line": handler.line()},
        ) from None
    except (KeyError, ValueError, TypeError, IndexError) as exc:  # pymarc's handler on an odd element
        raise FileProblem(
            where(),
            _("line %(line)s: this is not valid MARCXML (%(error)s; a tag or code attribute missing?)")
            % {"line": handler.line(), "error": str(exc)[:200]},
        ) from None
    yield from drained()
    if handler.count == 0:
        raise FileProblem(0, _("no MARC records found — is this a MARCXML export?"))


def is_xml(data: bytes) -> bool:
    return data[:4096].removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<"


def read_marc(data: bytes, problems: Problems) -> Iterator[HoldingRecord | int]:
    """ISO 2709 (binary MARC) or MARCXML."""
    return read_marcxml(data, problems) if is_xml(data) else read_iso2709(data, problems)


def read(data: bytes, fmt: str, problems: Problems) -> Iterator[HoldingRecord | int]:
    """The file's good records; for a bad one (listed in `problems`) its line or record number, so
    that the progress moves on a file full of bad lines too."""
    if not data or data.isspace():
        raise FileProblem(0, _("the file is empty"))
    return read_csv(data, problems) if fmt == HoldingsImport.Format.CSV else read_marc(data, problems)


def estimate_total(data: bytes, fmt: str) -> int:
    """Lines (CSV) or records (MARC) in the file, for the progress bar."""
    if fmt == HoldingsImport.Format.CSV:
        return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if is_xml(data):
        return len(XML_RECORD.findall(data))
    return data.count(pymarc.END_OF_RECORD.encode())


# --- the job ------------------------------------------------------------------------------


def create_job(data: bytes, fmt: str, *, file_name: str = "", user=None, keep_data: bool = True) -> HoldingsImport:
    """A queued job; with keep_data the file is stored in it for a worker (the admin), else the
    caller hands the bytes to run_job itself (the command)."""
    return HoldingsImport.objects.create(
        fmt=fmt,
        file_name=file_name[:255],
        file_size=len(data),
        data=data if keep_data else b"",
        lines_total=estimate_total(data, fmt),
        started_by=user,
    )


def _alive(job_id: int, **values) -> None:
    """Record progress and a sign of life; a job no longer running (marked stale) stops here."""
    if not HoldingsImport.objects.filter(pk=job_id, state=HoldingsImport.State.RUNNING).update(
        heartbeat_at=timezone.now(), **values
    ):
        raise Superseded


def stage(
    job: HoldingsImport, data: bytes, problems: Problems, on_progress: Callable[[int], None] | None = None
) -> int:
    """Read and check the whole file into the staging table; returns the rows staged. After the
    first problem nothing more is staged (nothing will be applied) but every line is still checked."""
    branches = {b.code.casefold(): b.pk for b in Branch.objects.all()}
    pending: list[tuple] = []
    seen: set[str] = set()
    duplicates = False
    staged = read_so_far = processed = 0

    def flush():
        nonlocal staged
        if pending and not problems.count:
            with connection.cursor() as cursor:  # plain tuples: no model instance per row
                cursor.executemany(STAGE_INSERT, pending)
            staged += len(pending)
        pending.clear()
        _alive(job.pk, lines_read=read_so_far, error_count=problems.count)
        if on_progress:
            on_progress(read_so_far)

    try:
        for record in read(data, job.fmt, problems):
            read_so_far, processed = getattr(record, "line", record), processed + 1
            if processed % CHUNK == 0:
                flush()
            if isinstance(record, int):
                continue  # a bad line, already listed
            branch_id = None
            if record.branch_code:
                branch_id = branches.get(record.branch_code.casefold())
                if branch_id is None:
                    problems.add(
                        record.line, _("unknown branch “%(code)s” (see Branches)") % {"code": record.branch_code[:50]}
                    )
                    continue
            if problems.count:
                continue  # only checking from here on
            duplicates = duplicates or record.source_id in seen
            seen.add(record.source_id)
            pending.append(
                (
                    job.pk,
                    record.line,
                    record.source_id,
                    record.title,
                    record.author,
                    record.call_number,
                    record.status,
                    record.is_electronic,
                    branch_id,
                    record.location,
                    " ".join(
                        f"{scheme}:{value}"
                        for scheme, values in (("isbn", record.isbns), ("issn", record.issns), ("ncid", record.ncids))
                        for value in values
                    ),
                )
            )
    except FileProblem as exc:
        problems.add(exc.line, exc.message)
    if problems.count:
        return 0
    flush()
    if duplicates:  # a record repeated in one file: the last line wins
        rows = HoldingsImportRow.objects.filter(job_id=job.pk)
        last = rows.values("source_id").annotate(last=Max("pk")).values("last")
        rows.exclude(pk__in=last).delete()
    return staged


def swap(job: HoldingsImport) -> tuple[int, int]:
    """Write the staged rows into the holdings in ONE transaction, set-based (INSERT … SELECT … ON
    CONFLICT on PostgreSQL and SQLite alike); returns (created, updated)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        locked = HoldingsImport.objects.select_for_update().only("state").get(pk=job.pk)
        if locked.state != HoldingsImport.State.RUNNING:
            raise Superseded
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One swap at a time: two imports with the same records would deadlock in the upsert
                # and count each other's rows as created or updated.
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('ill.holdings.swap'))")
                # Fresh statistics first: on a new installation (or with autovacuum behind) the planner
                # takes the staged rows and the holdings for one row each and joins 50,000 × 50,000
                # in a nested loop (minutes, not seconds). ANALYZE samples and takes no blocking lock.
                cursor.execute(f"ANALYZE {STAGE}")
                cursor.execute(f"ANALYZE {HOLDING}")
                cursor.execute(f"ANALYZE {IDENTIFIER}")
            cursor.execute(f"SELECT COUNT(*) FROM {STAGE} s WHERE s.job_id = %s", [job.pk])
            staged = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT COUNT(*) FROM {STAGE} s JOIN {HOLDING} h ON h.source_id = s.source_id WHERE s.job_id = %s",
                [job.pk],
            )
            updated = cursor.fetchone()[0]
            cursor.execute(SWAP_UPSERT, [now, job.pk])
            cursor.execute(
                f"DELETE FROM {IDENTIFIER} WHERE holding_id IN "
                f"(SELECT h.id FROM {HOLDING} h JOIN {STAGE} s ON s.source_id = h.source_id WHERE s.job_id = %s)",
                [job.pk],
            )
            after = 0
            while True:
                cursor.execute(
                    f"SELECT s.id, h.id, s.identifiers FROM {STAGE} s JOIN {HOLDING} h ON h.source_id = s.source_id "
                    f"WHERE s.job_id = %s AND s.id > %s AND s.identifiers <> '' ORDER BY s.id LIMIT %s",
                    [job.pk, after, CHUNK * 5],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                after = rows[-1][0]
                cursor.executemany(
                    f"INSERT INTO {IDENTIFIER} (holding_id, scheme, value) VALUES (%s, %s, %s)",
                    [(holding_id, *item.split(":", 1)) for _row, holding_id, text in rows for item in text.split()],
                )
        created = staged - updated
        _finish(
            job.pk,
            HoldingsImport.State.DONE,
            _("%(created)d created, %(updated)d updated.") % {"created": created, "updated": updated},
            created_count=created,
            updated_count=updated,
        )
    return created, updated


def _finish(job_id: int, state: str, message, **values) -> None:
    HoldingsImport.objects.filter(pk=job_id).update(
        state=state,
        step=HoldingsImport.Step.FINISHED,
        message=str(message),
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        data=b"",
        **values,
    )


def run_job(
    job_id: int, *, data: bytes | None = None, on_progress: Callable[[int], None] | None = None
) -> HoldingsImport:
    """Run a queued job to its end (done or failed). Only a queued job is started: a task delivered
    again after its worker died finds the job running and leaves it to mark_stale_jobs."""
    now = timezone.now()
    claimed = HoldingsImport.objects.filter(pk=job_id, state=HoldingsImport.State.QUEUED).update(
        state=HoldingsImport.State.RUNNING, step=HoldingsImport.Step.READING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        logger.warning("holdings import %s is not queued any more; not started again", job_id)
        return HoldingsImport.objects.defer("data").get(pk=job_id)
    job = HoldingsImport.objects.get(pk=job_id)
    if data is None:
        data, job.data = bytes(job.data), b""
    problems = Problems()
    try:
        staged = stage(job, data, problems, on_progress)
        if problems.count:
            _finish(
                job.pk,
                HoldingsImport.State.FAILED,
                ngettext(
                    "%(count)d problem: nothing was imported. Correct the file and upload it again.",
                    "%(count)d problems: nothing was imported. Correct the file and upload it again.",
                    problems.count,
                )
                % {"count": problems.count},
                error_count=problems.count,
                errors=problems.first,
            )
        else:
            _alive(job.pk, step=HoldingsImport.Step.APPLYING, lines_read=max(job.lines_total, staged))
            swap(job)
    except Superseded:
        logger.warning("holdings import %s was marked failed while it ran; nothing applied", job_id)
    except Exception as exc:  # incl. the task's soft time limit: the holdings stay as they were
        logger.exception("holdings import %s failed", job_id)
        _finish(
            job.pk,
            HoldingsImport.State.FAILED,
            _("The import stopped (%(error)s). The holdings were not changed.")
            % {"error": f"{type(exc).__name__}: {exc}"[:300]},
            error_count=problems.count,
            errors=problems.first,
        )
    finally:
        HoldingsImportRow.objects.filter(job_id=job_id).delete()
    return HoldingsImport.objects.defer("data").get(pk=job_id)


NOT_QUEUED = _(
    "The import could not be handed to a worker (the task queue did not answer). "
    "The holdings were not changed: upload the file again."
)


def fail_unqueued(job_id: int) -> None:
    """The job's task could not be queued (broker down): failed at once, its file dropped."""
    HoldingsImport.objects.filter(pk=job_id, state=HoldingsImport.State.QUEUED).update(
        state=HoldingsImport.State.FAILED,
        step=HoldingsImport.Step.FINISHED,
        message=str(NOT_QUEUED),
        finished_at=timezone.now(),
        data=b"",
    )


def mark_stale_jobs() -> int:
    """Running jobs that showed no sign of life for STALE_AFTER lost their worker, and queued jobs
    no worker took within STALE_AFTER lost their task: marked failed (a swap under way holds its
    job's row lock and is skipped)."""
    cutoff = timezone.now() - STALE_AFTER
    lost = HoldingsImport.objects.filter(state=HoldingsImport.State.QUEUED, created_at__lt=cutoff)
    for pk in lost.values_list("pk", flat=True)[:100]:
        fail_unqueued(pk)
    with transaction.atomic():
        stale = list(
            HoldingsImport.objects.select_for_update(skip_locked=True)
            .filter(state=HoldingsImport.State.RUNNING, heartbeat_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        for pk in stale:
            _finish(
                pk,
                HoldingsImport.State.FAILED,
                _(
                    "The worker stopped during the import (no sign of life for %(minutes)d minutes). "
                    "The holdings were not changed: upload the file again."
                )
                % {"minutes": STALE_AFTER.total_seconds() // 60},
            )
    if stale:
        HoldingsImportRow.objects.filter(job_id__in=stale).delete()
    return len(stale)


def status(job: HoldingsImport) -> dict:
    """What the progress bar polls (plain JSON)."""
    total = max(job.lines_total, job.lines_read, 1)
    finished = job.state in FINISHED
    percent = 100 if job.state == HoldingsImport.State.DONE else min(99, job.lines_read * 100 // total)
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "step": job.step,
        "step_label": str(job.get_step_display()),
        "lines_read": job.lines_read,
        "lines_total": total,
        "percent": percent,
        "created": job.created_count,
        "updated": job.updated_count,
        "problems": job.error_count,
        "message": job.message,
        "finished": finished,
    }


def import_holdings(
    data: bytes, fmt: str, *, file_name: str = "", on_progress: Callable[[int], None] | None = None
) -> HoldingsImport:
    """Import a CSV (`fmt="csv"`) or MARC (`fmt="marc"`) export now, in this process."""
    job = create_job(data, fmt, file_name=file_name, keep_data=False)
    return run_job(job.pk, data=data, on_progress=on_progress)
