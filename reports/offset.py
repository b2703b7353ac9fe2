"""The fee-offset statement (料金相殺 明細データ): read the CSV the office downloads, store it and
match its lines to our charges (issue 11, item 2).

The file (ILL料金相殺システム提供データフォーマット, 明細データ) is a comma-separated CSV of 19 columns
(18 before April 2007, without ISOGID), in UTF-8 with or without a BOM or in Shift_JIS (CP932), with
or without a header row. It covers the library both as requester (OMLID = our participant ID,
settings.NACSIS_PARTICIPANT_ID) and as lender (AMLID = ours): only the requesting side is matched;
the lending lines are stored apart and counted.

Each requesting line is matched by its ILL ID to the request carrying that NACSIS-ILL ID, then its
lender (AMLID against the lender's participant ID) and its amount (SUM against the charge's total)
are compared, postage (POSTG) and payment class (ACCT) as secondary checks. The outcomes:

- matched; lender differs; amount differs; postage or payment class differs;
- only in the statement (no request has the ID, or it has no charge yet);
- twice in the statements (a charge already matched by another line, here or in another statement);
- only here: a charge of ours, from a lender in the fee-offset, of at least 1 yen, recorded in the
  twelve months up to the end of the statement's month, that no statement matched — with its age
  (a loan is confirmed by NACSIS only once the lender books the return, often a month later, so the
  months are not required to agree). Once a later statement matches it, its "only here" lines are
  marked resolved by that statement.

A file is read whole and checked before anything is stored: a bad file stores nothing and is
answered with its line numbers and what is wrong. The same file twice is refused (its SHA-256).
"""

import csv
import datetime
import hashlib
import io
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import csvfile
from core.errors import ServiceError
from core.text import format_yen
from fees.models import Charge
from ill.models import Request
from reports.models import OffsetLine, OffsetStatement
from reports.nacsis import acct_code

MAX_BYTES = 20 * 1024 * 1024  # a month's detail of a large library is a few MB
MAX_PROBLEMS = 20  # problems listed before the rest are only counted
ONLY_HERE_MONTHS = 12  # how far back a charge is looked for when no statement has it
BATCH = 2_000
OUT = OffsetLine.Outcome

NO_PARTICIPANT_ID = gettext_lazy(
    "This library's NACSIS participant ID is not set (the setting NACSIS_PARTICIPANT_ID): without it the "
    "statement's lines cannot be told apart as ours or as lending. Ask the administrator to set it."
)
TOO_LARGE = gettext_lazy("The file is larger than %(mb)s MB, more than a month's statement: nothing was imported.")
EMPTY = gettext_lazy("The file is empty.")
NO_LINES = gettext_lazy("The file has no statement lines.")
NOT_TEXT = gettext_lazy("The file is neither UTF-8 nor Shift_JIS (CP932) text: is it the 明細 CSV?")
HAS_PROBLEMS = gettext_lazy(
    "The file has problems on %(count)s lines; nothing was imported. Correct them and upload it again."
)
ALREADY = gettext_lazy("This file was already imported on %(date)s (statement of %(month)s): it is not imported twice.")
NOT_OURS = gettext_lazy(
    "No line of this statement has our participant ID %(ours)s as requester or lender: is it another library's?"
)
NOT_A_MISMATCH = gettext_lazy("Only a line that does not match can be marked resolved.")
ALREADY_RESOLVED = gettext_lazy("This line was already marked resolved.")

# The 明細データ columns in order: (name, width in characters).
COLUMNS = (
    ("ID", 12),
    ("RNWDT", 8),
    ("ADATE", 8),
    ("STAT", 20),
    ("OMLID", 8),
    ("OMLID_MEMBER", 10),
    ("ONO", 10),
    ("AMLID", 8),
    ("AMLID_MEMBER", 10),
    ("ANO", 10),
    ("CLNT", 254),
    ("CLNTP", 254),
    ("SRVCE", 1),
    ("BIBNT", 1024),
    ("ACCT", 2),
    ("SUM", 8),
    ("POSTG", 6),
    ("OLDAF", 1024),
    ("ISOGID", 25),
)
ILL_ID = re.compile(r"[A-Z0-9]{12}")
PARTICIPANT = re.compile(r"[A-Z0-9]{1,8}")


class StatementError(Exception):
    """The file cannot be imported: `message` says why, `problems` lists [(line, text)], `existing`
    is the statement already imported from the same file."""

    def __init__(self, message, problems=(), existing=None):
        super().__init__(str(message))
        self.message = str(message)
        self.problems = list(problems)
        self.existing = existing


@dataclass
class StatementLine:
    line: int
    ill_id: str
    renewed_on: datetime.date
    accepted_on: datetime.date | None
    state: str
    omlid: str
    omlid_member: str
    ono: str
    amlid: str
    amlid_member: str
    ano: str
    service: str
    bibliography: str
    acct: str
    total: int
    postage: int | None
    budget_item: str
    isogid: str
    problems: list = field(default_factory=list)


def our_participant_id() -> str:
    return (settings.NACSIS_PARTICIPANT_ID or "").strip().upper()


def decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (a BOM is dropped), else CP932."""
    try:
        return csvfile.decode(data)
    except csvfile.NotText as exc:
        raise StatementError(NOT_TEXT) from exc


def _date(value: str, name: str, problems: list, required: bool) -> datetime.date | None:
    value = value.strip()
    if not value:
        if required:
            problems.append(_("%(name)s is empty.") % {"name": name})
        return None
    digits = value.replace("-", "").replace("/", "")
    if len(digits) == 8 and digits.isascii() and digits.isdigit():
        try:
            return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            pass
    problems.append(_("%(name)s is not a date (YYYYMMDD): “%(value)s”.") % {"name": name, "value": value[:20]})
    return None


def _yen(value: str, name: str, width: int, problems: list, required: bool) -> int | None:
    value = value.strip().replace(",", "")
    if not value:
        if required:
            problems.append(_("%(name)s is empty.") % {"name": name})
        return None
    if value.isascii() and value.isdigit() and len(value) <= width:
        return int(value)
    problems.append(
        _("%(name)s is not a whole number of yen of at most %(width)s digits: “%(value)s”.")
        % {"name": name, "width": width, "value": value[:20]}
    )
    return None


def _is_header(row: list[str]) -> bool:
    """A header row: its first cell is not an ILL ID (12 letters and digits)."""
    return not ILL_ID.fullmatch(row[0].strip().upper()) if row else False


def parse_row(number: int, row: list[str]) -> StatementLine:
    """One data row, with what is wrong with it in `problems`."""
    problems = []
    if any("\x00" in cell for cell in row):  # PostgreSQL stores no NUL: a 400 naming the line, not a 500
        problems.append(_("The line contains a NUL character, which no statement has."))
        row = [cell.replace("\x00", "") for cell in row]
    if len(row) not in (len(COLUMNS), len(COLUMNS) - 1):
        problems.append(
            _("%(expected)s columns expected (18 in files before April 2007), found %(count)s.")
            % {"expected": len(COLUMNS), "count": len(row)}
        )
        row = (row + [""] * len(COLUMNS))[: len(COLUMNS)]
    values = dict(zip((name for name, _width in COLUMNS), (cell.strip() for cell in row), strict=False))
    values.setdefault("ISOGID", "")
    for name, width in COLUMNS:
        if len(values[name]) > width and name not in ("SUM", "POSTG"):
            problems.append(_("%(name)s is longer than %(width)s characters.") % {"name": name, "width": width})
    ill_id = values["ID"].upper()
    if not ILL_ID.fullmatch(ill_id):
        problems.append(_("ID must be 12 letters and digits, not “%(value)s”.") % {"value": values["ID"][:20]})
    for name in ("OMLID", "AMLID"):
        if not PARTICIPANT.fullmatch(values[name].upper()):
            problems.append(
                _("%(name)s must be a participant ID of at most 8 letters and digits, not “%(value)s”.")
                % {"name": name, "value": values[name][:20]}
            )
    return StatementLine(
        line=number,
        ill_id=ill_id,
        renewed_on=_date(values["RNWDT"], "RNWDT", problems, required=True),
        accepted_on=_date(values["ADATE"], "ADATE", problems, required=False),
        state=values["STAT"][:20],
        omlid=values["OMLID"].upper()[:8],
        omlid_member=values["OMLID_MEMBER"][:10],
        ono=values["ONO"][:10],
        amlid=values["AMLID"].upper()[:8],
        amlid_member=values["AMLID_MEMBER"][:10],
        ano=values["ANO"][:10],
        service=values["SRVCE"][:1],
        bibliography=values["BIBNT"][:1024],
        acct=values["ACCT"][:2],
        total=_yen(values["SUM"], "SUM", 8, problems, required=True),
        postage=_yen(values["POSTG"], "POSTG", 6, problems, required=False),
        budget_item=values["OLDAF"][:1024],
        isogid=values["ISOGID"][:25],
        problems=problems,
    )


def parse(data: bytes, ours: str) -> tuple[list[StatementLine], str]:
    """Every line of the file, checked; a StatementError lists the problems (with line numbers)."""
    if len(data) > MAX_BYTES:
        raise StatementError(TOO_LARGE % {"mb": MAX_BYTES // (1024 * 1024)})
    if not data.strip():
        raise StatementError(EMPTY)
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    lines, problems, bad, foreign = [], [], 0, 0
    first = True
    try:
        for number, _last, row in csvfile.numbered(reader):  # a line is numbered by its first line
            if not any(cell.strip() for cell in row):
                continue
            if first:
                first = False
                if _is_header(row):
                    continue
            line = parse_row(number, row)
            if not line.problems and ours not in (line.omlid, line.amlid):
                foreign += 1
                line.problems.append(
                    _("Neither OMLID (%(omlid)s) nor AMLID (%(amlid)s) is our participant ID %(ours)s.")
                    % {"omlid": line.omlid, "amlid": line.amlid, "ours": ours}
                )
            if line.problems:
                bad += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append((number, " ".join(line.problems)))
            lines.append(line)
    except csvfile.CSVLineError as exc:
        bad += 1
        problems.append((exc.line, _("The line cannot be read as CSV (%(error)s).") % {"error": str(exc.error)[:100]}))
    if problems:
        if foreign == bad == len(lines):  # well-formed, but none of its lines is ours
            raise StatementError(NOT_OURS % {"ours": ours}, problems[:3])
        raise StatementError(HAS_PROBLEMS % {"count": bad}, problems)
    if not lines:
        raise StatementError(NO_LINES)
    return lines, encoding


# --- matching -------------------------------------------------------------------------------


def _chunks(values, size=BATCH):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


REQUEST_FIELDS = (
    "id",
    "number",
    "nacsis_ill_id",
    "lender__name",
    "lender__nacsis_participant_id",
    "charge__id",
    "charge__total",
    "charge__postage",
    "charge__payment_class",
    "charge__created_at",
)


def _requests_by(field_name: str, values) -> dict:
    found = {}
    for chunk in _chunks(values):
        for row in Request.objects.filter(**{f"{field_name}__in": chunk}).values(*REQUEST_FIELDS):
            found[row[field_name]] = row
    return found


def _number_of_ono(ono: str) -> str | None:
    """Our request number for an ONO written as compact_number gives it (2026000123)."""
    if len(ono) == 10 and ono.isascii() and ono.isdigit():
        return f"ILL-{ono[:4]}-{ono[4:]}"
    return None


def _month_label(day: datetime.date) -> str:
    return date_format(day, "YEAR_MONTH_FORMAT")


def _compare(line: StatementLine, ours: dict) -> tuple[str, list[str]]:
    notes = []
    outcome = OUT.MATCHED
    our_amlid = ours["lender__nacsis_participant_id"] or ""
    if our_amlid != line.amlid:
        outcome = OUT.LENDER_DIFFERS
        if our_amlid:
            notes.append(
                _("Lender: %(theirs)s in the statement, %(ours)s (%(name)s) here.")
                % {"theirs": line.amlid, "ours": our_amlid, "name": ours["lender__name"]}
            )
        else:
            notes.append(
                _("Lender: %(theirs)s in the statement; %(name)s has no NACSIS participant ID recorded here.")
                % {"theirs": line.amlid, "name": ours["lender__name"]}
            )
    if ours["charge__total"] != line.total:
        outcome = OUT.AMOUNT_DIFFERS if outcome == OUT.MATCHED else outcome
        notes.append(
            _("SUM: %(theirs)s in the statement, %(ours)s here (%(diff)s).")
            % {
                "theirs": format_yen(line.total),
                "ours": format_yen(ours["charge__total"]),
                "diff": f"{line.total - ours['charge__total']:+,}",
            }
        )
    details = []
    if line.postage is not None and line.postage != ours["charge__postage"]:
        details.append(
            _("POSTG: %(theirs)s in the statement, %(ours)s here.")
            % {"theirs": format_yen(line.postage), "ours": format_yen(ours["charge__postage"])}
        )
    our_acct = acct_code(ours["charge__payment_class"])
    if line.acct and our_acct and line.acct.lower() != our_acct.lower():
        details.append(_("ACCT: %(theirs)s in the statement, %(ours)s here.") % {"theirs": line.acct, "ours": our_acct})
    if details:
        outcome = OUT.DETAILS_DIFFER if outcome == OUT.MATCHED else outcome
        notes.extend(details)
    return outcome, notes


LINE_FIELDS = [f for f in OffsetLine._meta.concrete_fields if not f.primary_key]
LINE_DEFAULTS = {f.attname: (None if f.null else f.get_default()) for f in LINE_FIELDS}


def _line_row(statement: OffsetStatement, line: StatementLine, outcome: str, notes, ours: dict | None) -> dict:
    """One line to store, as {attname: value} (save_lines: no model instance per line)."""
    row = {
        **LINE_DEFAULTS,
        "statement_id": statement.pk,
        "line": line.line,
        "outcome": str(outcome),
        "rank": OffsetLine.ORDER[outcome],
        "ill_id": line.ill_id,
        "renewed_on": line.renewed_on,
        "accepted_on": line.accepted_on,
        "state": line.state,
        "omlid": line.omlid,
        "omlid_member": line.omlid_member,
        "ono": line.ono,
        "amlid": line.amlid,
        "amlid_member": line.amlid_member,
        "ano": line.ano,
        "service": line.service,
        "bibliography": line.bibliography,
        "acct": line.acct,
        "total": line.total,
        "postage": line.postage,
        "budget_item": line.budget_item,
        "isogid": line.isogid,
        "note": " ".join(str(n) for n in notes)[:500],
    }
    if ours is not None:
        row["request_id"] = ours["id"]
        row["our_amlid"] = ours["lender__nacsis_participant_id"] or ""
        if ours["charge__id"] is not None and outcome != OUT.ONLY_STATEMENT:
            row["charge_id"] = ours["charge__id"]
            row["our_total"] = ours["charge__total"]
            row["our_postage"] = ours["charge__postage"]
            row["our_acct"] = acct_code(ours["charge__payment_class"])
            row["charged_on"] = timezone.localtime(ours["charge__created_at"]).date()
    return row


def match(statement: OffsetStatement, lines: list[StatementLine], ours_id: str) -> list[dict]:
    """The statement's lines with their outcomes, as _line_row dicts (not saved)."""
    requesting = [line for line in lines if line.omlid == ours_id]
    by_id = _requests_by("nacsis_ill_id", {line.ill_id for line in requesting})
    missing = [line for line in requesting if line.ill_id not in by_id]
    numbers = {_number_of_ono(line.ono) for line in missing} - {None}
    by_number = _requests_by("number", numbers) if numbers else {}
    charge_ids = [r["charge__id"] for r in by_id.values() if r["charge__id"] is not None]
    elsewhere = {}
    for chunk in _chunks(charge_ids):
        for charge_id, month in (
            OffsetLine.objects.filter(charge_id__in=chunk, outcome__in=OffsetLine.LINKED)
            .exclude(statement=statement)
            .values_list("charge_id", "statement__month")
        ):
            elsewhere[charge_id] = month
    seen = {}
    built = []
    for line in lines:
        if line.omlid != ours_id:
            built.append(_line_row(statement, line, OUT.LENDING, [], None))
            continue
        ours = by_id.get(line.ill_id)
        if ours is None:
            notes = [_("No request here has this NACSIS-ILL ID.")]
            by_ono = by_number.get(_number_of_ono(line.ono))
            if by_ono is not None:
                notes.append(
                    _("Request %(number)s has this ONO (%(ono)s): record the NACSIS-ILL ID on it if it is the same.")
                    % {"number": by_ono["number"], "ono": line.ono}
                )
            built.append(_line_row(statement, line, OUT.ONLY_STATEMENT, notes, by_ono))
            continue
        if ours["charge__id"] is None:
            notes = [_("Request %(number)s has no charge recorded yet.") % {"number": ours["number"]}]
            built.append(_line_row(statement, line, OUT.ONLY_STATEMENT, notes, ours))
            continue
        charge_id = ours["charge__id"]
        if charge_id in seen or charge_id in elsewhere:
            if charge_id in seen:
                notes = [_("The same request is on line %(line)s.") % {"line": seen[charge_id]}]
            else:
                notes = [_("Already in the statement of %(month)s.") % {"month": _month_label(elsewhere[charge_id])}]
            built.append(_line_row(statement, line, OUT.DUPLICATE, notes, ours))
            continue
        seen[charge_id] = line.line
        outcome, notes = _compare(line, ours)
        built.append(_line_row(statement, line, outcome, notes, ours))
    return built


def month_end(month: datetime.date) -> datetime.datetime:
    following = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1, day=1)
    return timezone.make_aware(datetime.datetime(following.year, following.month, 1))


def _only_here_charges(statement: OffsetStatement):
    """Our charges no statement has (see the module's docstring), for `statement`'s month."""
    end = month_end(statement.month)
    first = statement.month
    for _n in range(ONLY_HERE_MONTHS - 1):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    start = timezone.make_aware(datetime.datetime(first.year, first.month, 1))
    linked = OffsetLine.objects.filter(charge__isnull=False, outcome__in=OffsetLine.LINKED).values("charge_id")
    settled = OffsetLine.objects.filter(charge__isnull=False, outcome=OUT.ONLY_HERE, resolved_at__isnull=False)
    return (
        Charge.objects.filter(
            created_at__gte=start, created_at__lt=end, total__gte=1, request__lender__is_offset_participant=True
        )
        .exclude(id__in=linked)
        .exclude(id__in=settled.values("charge_id"))
    )


def add_only_here(statement: OffsetStatement) -> int:
    """Store our charges no statement has as "only here" lines of `statement`, in one
    INSERT … SELECT (no row passes through Python: a first import may list a year of charges).
    Returns how many."""
    acct = Case(
        *(When(payment_class=key, then=Value(code)) for key, code in settings.NACSIS_ACCT_CODES.items()),
        default=Value(""),
        output_field=CharField(),
    )
    no_id = str(_("No NACSIS-ILL ID recorded."))
    # NULLs typed (Cast), or PostgreSQL takes the subquery's bare NULLs for text.
    blank, no_int, no_date = Value(""), Cast(Value(None), IntegerField()), Cast(Value(None), DateField())
    columns = {
        "statement_id": Value(statement.pk),
        "line": no_int,
        "outcome": Value(OUT.ONLY_HERE.value),
        "rank": Value(OffsetLine.ORDER[OUT.ONLY_HERE]),
        "ill_id": F("request__nacsis_ill_id"),
        **{name: no_date for name in ("renewed_on", "accepted_on")},
        **{name: blank for name in ("state", "omlid", "omlid_member", "ono", "amlid", "amlid_member", "ano")},
        **{name: blank for name in ("service", "bibliography", "acct", "budget_item", "isogid")},
        "total": no_int,
        "postage": no_int,
        "request_id": F("request_id"),
        "charge_id": F("id"),
        "our_total": F("total"),
        "our_postage": F("postage"),
        "our_amlid": Coalesce(F("request__lender__nacsis_participant_id"), blank),
        "our_acct": acct,
        "charged_on": TruncDate("created_at"),
        "note": Case(When(request__nacsis_ill_id="", then=Value(no_id)), default=blank, output_field=CharField()),
        "resolved_at": Cast(Value(None), DateTimeField()),
        "resolved_by_id": no_int,
        "resolution": blank,
    }
    aliases = {f"h3_{name}": expression for name, expression in columns.items()}
    select = _only_here_charges(statement).order_by().annotate(**aliases).values(*aliases)
    sql, params = select.query.sql_with_params()
    table = connection.ops.quote_name(OffsetLine._meta.db_table)
    names = ", ".join(connection.ops.quote_name(OffsetLine._meta.get_field(n).column) for n in columns)
    picked = ", ".join(f"h3_rows.{connection.ops.quote_name(alias)}" for alias in aliases)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {picked} FROM ({sql}) h3_rows", params)  # noqa: S608
        return cursor.rowcount


def save_lines(rows: list[dict]) -> None:
    """Store the statement's lines (_line_row dicts): PostgreSQL's COPY, else bulk_create. The
    values are plain str, int, date and None: nothing needs Django's conversion."""
    if connection.vendor != "postgresql":
        OffsetLine.objects.bulk_create([OffsetLine(**row) for row in rows], batch_size=BATCH)
        return
    names = ", ".join(connection.ops.quote_name(f.column) for f in LINE_FIELDS)
    attnames = [f.attname for f in LINE_FIELDS]
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {OffsetLine._meta.db_table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in attnames])


def import_statement(data: bytes, *, file_name: str = "", month: datetime.date | None = None, user=None):
    """Check, store and match one statement file, all or nothing. Returns the OffsetStatement;
    raises StatementError (nothing stored) when the file cannot be imported."""
    ours = our_participant_id()
    if not ours:
        raise StatementError(NO_PARTICIPANT_ID)
    digest = hashlib.sha256(data).hexdigest()
    existing = OffsetStatement.objects.filter(file_sha256=digest).first()
    if existing is not None:
        raise StatementError(_already(existing), existing=existing)
    lines, encoding = parse(data, ours)
    month = (month or max(line.renewed_on for line in lines)).replace(day=1)
    try:
        with transaction.atomic():
            # One import at a time: "already in another statement" and "only here" are read from
            # the statements stored so far, so two at once could both claim one charge.
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reports.offset.import'))")
            statement = OffsetStatement.objects.create(
                month=month,
                file_name=(file_name or "")[:255],
                file_size=len(data),
                file_sha256=digest,
                encoding=encoding,
                participant_id=ours,
                imported_by=user,
            )
            rows = match(statement, lines, ours)
            save_lines(rows)
            here = add_only_here(statement)
            _resolve_found(statement, user)
            counts = {}
            for row in rows:
                counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
            if here:
                counts[OUT.ONLY_HERE.value] = here
            statement.line_count = len(rows)
            statement.counts = counts
            statement.save(update_fields=["line_count", "counts"])
    except IntegrityError as exc:  # the same file imported at the same moment by someone else
        existing = OffsetStatement.objects.filter(file_sha256=digest).first()
        if existing is None:
            raise
        raise StatementError(_already(existing), existing=existing) from exc
    return statement


def _already(existing: OffsetStatement) -> str:
    return str(
        ALREADY
        % {
            "date": date_format(timezone.localtime(existing.imported_at), "SHORT_DATETIME_FORMAT"),
            "month": _month_label(existing.month),
        }
    )


def _resolve_found(statement: OffsetStatement, user) -> int:
    """Earlier statements' "only here" lines of charges this statement has: resolved by it."""
    found = OffsetLine.objects.filter(statement=statement, outcome__in=OffsetLine.LINKED).values("charge_id")
    note = _("Found in the statement of %(month)s.") % {"month": _month_label(statement.month)}
    return (
        OffsetLine.objects.filter(outcome=OUT.ONLY_HERE, resolved_at__isnull=True, charge_id__in=found)
        .exclude(statement=statement)
        .update(resolved_at=timezone.now(), resolved_by=user, resolution=note[:500])
    )


# --- the pages ------------------------------------------------------------------------------


def counts_of(statement: OffsetStatement) -> dict:
    return dict(statement.counts or {})


def mismatch_count(statement: OffsetStatement) -> int:
    counts = counts_of(statement)
    return sum(counts.get(outcome, 0) for outcome in OffsetLine.MISMATCHES)


def open_count(statement: OffsetStatement) -> int:
    return OffsetLine.objects.filter(
        statement=statement, outcome__in=OffsetLine.MISMATCHES, resolved_at__isnull=True
    ).count()


def statements_with_open(limit: int = 60):
    """The newest statements, each with `open` (its mismatches not resolved yet)."""
    open_lines = (
        OffsetLine.objects.filter(statement=OuterRef("pk"), outcome__in=OffsetLine.MISMATCHES, resolved_at__isnull=True)
        .values("statement")
        .annotate(n=Count("id"))
        .values("n")
    )
    return list(OffsetStatement.objects.select_related("imported_by").annotate(open=Subquery(open_lines))[:limit])


def lines_page(statement: OffsetStatement, wanted: str, page: int, size: int) -> tuple[list[OffsetLine], bool]:
    """A page of the statement's lines: every line (mismatches first), "mismatches", "open" (not
    resolved) or one outcome; whether there is a next page (no count)."""
    lines = OffsetLine.objects.filter(statement=statement).select_related("request", "resolved_by")
    if wanted == "mismatches":
        lines = lines.filter(outcome__in=OffsetLine.MISMATCHES)
    elif wanted == "open":
        lines = lines.filter(outcome__in=OffsetLine.MISMATCHES, resolved_at__isnull=True)
    elif wanted:
        lines = lines.filter(outcome=wanted)
    start = (page - 1) * size
    found = list(lines.order_by("rank", "line", "id")[start : start + size + 1])
    for line in found:
        line.statement = statement  # age_days reads the month without a query per line
    return found[:size], len(found) > size


@transaction.atomic
def resolve(line: OffsetLine, *, user, note: str) -> int:
    """Staff mark a mismatch resolved (who, when, why). A charge only here is resolved in every
    statement that lists it, and is not listed again. Returns the number of lines marked."""
    line = OffsetLine.objects.select_for_update().get(pk=line.pk)
    if line.outcome not in OffsetLine.MISMATCHES:
        raise ServiceError(NOT_A_MISMATCH, code="offset_not_mismatch")
    if line.resolved_at is not None:
        raise ServiceError(ALREADY_RESOLVED, code="offset_already_resolved")
    now = timezone.now()
    lines = OffsetLine.objects.filter(pk=line.pk)
    if line.outcome == OUT.ONLY_HERE and line.charge_id is not None:
        lines = OffsetLine.objects.filter(outcome=OUT.ONLY_HERE, charge_id=line.charge_id, resolved_at__isnull=True)
    return lines.update(resolved_at=now, resolved_by=user, resolution=note.strip()[:500])
