"""Load patrons from the registrar's list (issue 13): a CSV of students and staff, UTF-8 (with or
without BOM) or Shift_JIS (CP932).

An import is a job (`PatronImport`), run by a Celery task from the admin or synchronously by
`manage.py import_patrons`; both call `run_job`, in two steps:

1. **Preview** (mode "preview"): every line is read and checked and compared with the patrons on
   file; the job records what would happen — new, changed, unchanged, returning (a patron who had
   left is in the list again), leaving (only for a *complete* list: active patrons of the
   categories the file covers who are not in it) — and the bad lines with their numbers. Nothing
   is written to the patrons.
2. **Apply** (mode "apply", after an administrator confirms a preview without problems): the file
   is read and compared again (the patrons may have changed since) and the result written in ONE
   transaction: all or nothing. A line with a problem and nothing is applied.

Matching is by patron number (the student or staff number), compared without regard to case and
with full-width digits read as ASCII. New patrons get a login named after their number in lower
case with an unusable password (they will sign in through the campus sign-in; local passwords stay
for staff and the demo). A patron who leaves is marked inactive (`Patron.active`, `left_at`),
never deleted: their requests, charges and history stay, staff still see them, and they cannot
submit new requests (ill.services.intake). Each creation, change, departure and return is written
to the patron's history (PatronEvent). The import never changes a patron's language, block, phone
or login name.

Columns (header names in English or Japanese, any order, case and width ignored; see COLUMNS):
number, name and category are required; kana, e-mail, laboratory, branch and department are
optional — a column that is absent leaves that field as it is; a column that is present sets it,
except that an empty e-mail or branch cell keeps the one on file. Category, laboratory and branch
are given by code or by name (Japanese or English); an unknown or ambiguous one is a problem on
that line.
"""

import csv
import datetime
import json
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F, JSONField, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import csvfile
from core.csvfile import FileProblem, RecordError
from patrons.models import Branch, Laboratory, Patron, PatronEvent, PatronImport

logger = logging.getLogger(__name__)

CHUNK = 1000  # rows per progress report and per bulk statement
MAX_ERRORS = 200  # problems kept with their line (all are counted)
SAMPLES = 20  # examples of each kind kept for the preview
STALE_AFTER = datetime.timedelta(minutes=10)  # a running job silent this long has lost its worker
READY_KEPT = datetime.timedelta(days=1)  # a checked file not applied within this is discarded
# The retention's anonymised placeholders (ill.retention.PLACEHOLDER_PREFIX): never "leavers".
PLACEHOLDER_PREFIX = "ANON-"
NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")

S = PatronImport.State

# Accepted header names, compared after NFKC, case folding, and spaces or hyphens read as "_";
# when a file has several, the first in this order is taken.
COLUMNS = {
    "number": (
        "student_number",
        "number",
        "patron_number",
        "student_id",
        "staff_number",
        "学籍番号",
        "学生番号",
        "学生証番号",
        "職員番号",
        "教職員番号",
        "個人番号",
        "利用者番号",
        "利用者id",
        "id",  # last: a file with a row ID and a 学籍番号 means the latter
    ),
    "name": ("name", "full_name", "name_kanji", "氏名", "名前", "漢字氏名", "氏名(漢字)", "氏名漢字"),
    "kana": (
        "kana",
        "name_kana",
        "full_name_kana",
        "カナ",
        "カナ氏名",
        "氏名カナ",
        "氏名(カナ)",
        "フリガナ",
        "ふりがな",
        "よみ",
    ),
    "email": ("email", "e_mail", "mail", "email_address", "メール", "メールアドレス", "eメール", "電子メール"),
    "category": ("category", "身分", "区分", "利用者区分", "種別", "身分区分", "status"),
    "laboratory": ("laboratory", "lab", "lab_code", "研究室", "研究室コード", "研究室名"),
    "branch": ("branch", "home_branch", "library", "館", "所属館", "利用館", "図書館", "受取館"),
    "department": ("department", "faculty", "所属", "学部", "研究科", "学部・研究科", "所属学部"),
}
REQUIRED_COLUMNS = ("number", "name", "category")
# Words for the categories besides their codes and their labels (in either language).
CATEGORY_WORDS = {
    Patron.Category.UNDERGRADUATE: ("ug", "学部生", "学部学生", "学部1年", "学部2年", "学部3年", "学士課程"),
    Patron.Category.UNDERGRADUATE_FINAL: ("ug4", "学部4年", "学部4年生", "4年生"),
    Patron.Category.MASTERS: ("master", "m", "修士", "修士課程", "博士前期課程", "修士学生", "大学院修士課程"),
    Patron.Category.DOCTORAL: ("doctor", "d", "phd", "博士", "博士課程", "博士後期課程", "大学院博士課程"),
    Patron.Category.FACULTY: ("teacher", "f", "教員", "教授", "准教授", "講師", "助教"),
    Patron.Category.STAFF: ("s", "職員", "事務職員", "技術職員", "教職員"),
}
# What a change is compared on; the login's e-mail counts as the patron's.
FIELDS = ("full_name", "full_name_kana", "email", "category", "laboratory_id", "home_branch_id", "department")
PATRON_FIELDS = [name for name in FIELDS if name != "email"]
LIMITS = {"number": 30, "name": 150, "kana": 150, "email": 254, "department": 150}

KEEP = object()  # a column absent from the file: the field stays as it is


class Superseded(Exception):
    """The job is no longer running (marked failed as stale meanwhile): stop without applying."""


class Problems(csvfile.Problems):
    """The bad lines: all counted, the first MAX_ERRORS kept as [line, message]."""

    keep = MAX_ERRORS


@dataclass
class Row:
    line: int
    number: str
    full_name: str
    category: str
    full_name_kana: object = KEEP
    email: object = KEEP
    laboratory_id: object = KEEP
    home_branch_id: object = KEEP
    department: object = KEEP


@dataclass
class Plan:
    """What the file would do to the patrons on file."""

    new: list[Row] = field(default_factory=list)
    changed: list[tuple[Row, dict, list[str]]] = field(default_factory=list)  # (row, patron on file, fields)
    returning: list[tuple[Row, dict, list[str]]] = field(default_factory=list)
    leaving: list[dict] = field(default_factory=list)
    unchanged: int = 0
    categories: set[str] = field(default_factory=set)

    def counts(self) -> dict:
        return {
            "new_count": len(self.new),
            "changed_count": len(self.changed),
            "unchanged_count": self.unchanged,
            "leaving_count": len(self.leaving),
            "returning_count": len(self.returning),
        }


# --- reading ------------------------------------------------------------------------------


def _key(text: str) -> str:
    """A header or a code as compared: NFKC (full-width letters and digits), case-folded, with
    spaces and hyphens read as underscores."""
    text = unicodedata.normalize("NFKC", text or "").strip().casefold()
    return re.sub(r"[\s\-]+", "_", text)


def _name(text: str) -> str:
    """A name as written (no NFKC: it would change compatibility kanji such as 﨑), with the
    ideographic space read as a space and runs of spaces collapsed."""
    return " ".join((text or "").replace("\u3000", " ").split())


NUL_BYTE = _("the file contains a NUL byte on this line: is it a spreadsheet or UTF-16 file?")


def estimate_total(data: bytes) -> int:
    """Lines in the file (the header included), for the progress bar."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


class Lookups:
    """Categories, laboratories and branches by code or name, read once per file."""

    def __init__(self):
        self.categories: dict[str, str] = {}
        for value, label in Patron.Category.choices:
            words = [value, str(label), *CATEGORY_WORDS.get(value, ())]
            for language in ("ja", "en"):
                with translation.override(language):
                    words.append(str(label))
            for word in words:
                self.categories.setdefault(_key(word), value)
        self.labs = self._index(Laboratory.objects.values_list("pk", "code", "name", "name_en"))
        self.branches = self._index(Branch.objects.values_list("pk", "code", "name", "name_en"))

    @staticmethod
    def _index(rows) -> dict[str, set[int]]:
        """{key: {pk, …}} over codes first, then names: a code wins over a name that reads the same."""
        by_code: dict[str, set[int]] = {}
        by_name: dict[str, set[int]] = {}
        for pk, code, *names in rows:
            if code:
                by_code.setdefault(_key(code), set()).add(pk)
            for name in names:
                if name:
                    by_name.setdefault(_key(name), set()).add(pk)
        return {**by_name, **by_code}

    def category(self, value: str) -> str:
        found = self.categories.get(_key(value))
        if found is None:
            raise RecordError(
                _("unknown category “%(value)s” (accepted: %(codes)s, or their names)")
                % {"value": value[:50], "codes": ", ".join(Patron.Category.values)}
            )
        return found

    def _one(self, index, value: str, unknown, ambiguous) -> int:
        found = index.get(_key(value), set())
        if not found:
            raise RecordError(unknown % {"value": value[:80]})
        if len(found) > 1:
            raise RecordError(ambiguous % {"value": value[:80]})
        return next(iter(found))

    def lab(self, value: str) -> int | None:
        if not value:
            return None
        return self._one(
            self.labs,
            value,
            _("unknown laboratory “%(value)s” (give its code or name as in Laboratories)"),
            _("more than one laboratory is named “%(value)s”: give its code (Laboratories)"),
        )

    def branch(self, value: str) -> int:
        return self._one(
            self.branches,
            value,
            _("unknown branch “%(value)s” (give its code or name as in Branches)"),
            _("more than one branch is named “%(value)s”: give its code"),
        )


def _bounded(name: str, value: str) -> str:
    if len(value) > LIMITS[name]:
        raise RecordError(
            _("the %(column)s is longer than %(limit)d characters")
            % {"column": COLUMN_LABELS[name], "limit": LIMITS[name]}
        )
    return value


COLUMN_LABELS = {
    "number": _("number"),
    "name": _("name"),
    "kana": _("kana"),
    "email": _("e-mail"),
    "department": _("department"),
}


def read(data: bytes, problems: Problems, on_line: Callable[[int], None] | None = None) -> Iterator[Row]:
    """The file's good rows; each bad one is listed in `problems` with its line. A repeated number
    is a problem on its second line."""
    if not data or data.isspace():
        raise FileProblem(0, _("the file is empty"))
    # UTF-8 (with or without BOM), else Shift_JIS (CP932) as Japanese office systems export
    encoding = csvfile.encoding_of(data, nul_message=NUL_BYTE)
    reader = csv.reader(csvfile.text_stream(data, encoding))
    try:
        header = next(reader, None) or []
    except csv.Error as exc:
        raise FileProblem(1, csvfile.csv_problem(exc)) from None
    keys = [_key(name) for name in header]
    column: dict[str, int] = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if _key(alias) in keys:
                column[name] = keys.index(_key(alias))
                break
    csvfile.require_columns(column, COLUMNS, REQUIRED_COLUMNS)
    lookups = Lookups()
    seen: dict[str, int] = {}
    any_row = False
    for starts, last, cells in csvfile.numbered(reader):  # a row is numbered by its first line
        if on_line is not None:
            on_line(last)
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (spreadsheets add them at the end)
        any_row = True

        def get(name, cells=cells):
            index = column.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        try:
            if any("\x00" in cell for cell in cells):
                raise RecordError(_("the line contains a NUL character"))
            number = _bounded("number", unicodedata.normalize("NFKC", get("number")).strip().upper())
            if not number:
                raise RecordError(_("no number"))
            if not NUMBER.match(number):
                raise RecordError(
                    _("the number “%(value)s” may only contain letters, digits, “.”, “_” and “-”")
                    % {"value": number[:40]}
                )
            if number in seen:
                raise RecordError(
                    _("the number %(number)s is also on line %(line)d") % {"number": number, "line": seen[number]}
                )
            seen[number] = starts
            name = _bounded("name", _name(get("name")))
            if not name:
                raise RecordError(_("no name"))
            category = get("category")
            if not category:
                raise RecordError(_("no category"))
            row = Row(line=starts, number=number, full_name=name, category=lookups.category(category))
            if "kana" in column:
                row.full_name_kana = _bounded("kana", _name(unicodedata.normalize("NFKC", get("kana"))))
            if "email" in column and get("email"):
                email = _bounded("email", unicodedata.normalize("NFKC", get("email")).strip())
                try:
                    validate_email(email)
                except ValidationError:
                    raise RecordError(_("“%(value)s” is not an e-mail address") % {"value": email[:80]}) from None
                row.email = email
            if "laboratory" in column:
                row.laboratory_id = lookups.lab(get("laboratory"))
            if "branch" in column and get("branch"):
                row.home_branch_id = lookups.branch(get("branch"))
            if "department" in column:
                row.department = _bounded("department", _name(get("department")))
        except RecordError as exc:
            problems.add(starts, exc)
            continue
        yield row
    if not any_row:
        raise FileProblem(0, _("the file has a header but no patrons"))


# --- comparing ------------------------------------------------------------------------------


def patrons_on_file() -> dict[str, dict]:
    """Every patron (placeholders aside) by upper-cased number, as plain values: one query."""
    found = {}
    rows = Patron.objects.exclude(patron_number__startswith=PLACEHOLDER_PREFIX).values(
        "id", "patron_number", "active", "user_id", *PATRON_FIELDS, email=F("user__email")
    )
    for row in rows.iterator(chunk_size=5000):
        found[row["patron_number"].upper()] = row
    return found


def _changes(row: Row, patron: dict) -> list[str]:
    return [name for name in FIELDS if (value := getattr(row, name)) is not KEEP and value != patron[name]]


def make_plan(rows: Iterator[Row], problems: Problems, *, complete: bool) -> Plan:
    """Compare the file's rows with the patrons on file (reads, never writes)."""
    plan = Plan()
    on_file = patrons_on_file()
    in_file: set[str] = set()
    new_rows: list[Row] = []
    for row in rows:
        in_file.add(row.number)
        plan.categories.add(row.category)
        patron = on_file.get(row.number)
        if patron is None:
            if row.home_branch_id is KEEP:
                problems.add(row.line, _("no branch: a new patron needs a home branch"))
                continue
            new_rows.append(row)
            continue
        changes = _changes(row, patron)
        if not patron["active"]:
            plan.returning.append((row, patron, changes))
        elif changes:
            plan.changed.append((row, patron, changes))
        else:
            plan.unchanged += 1
    # A new patron's login is named after their number: one that is taken is a problem.
    taken = set()
    usernames = [row.number.lower() for row in new_rows]
    for start in range(0, len(usernames), CHUNK):
        taken.update(
            get_user_model()
            .objects.filter(username__in=usernames[start : start + CHUNK])
            .values_list("username", flat=True)
        )
    for row in new_rows:
        if row.number.lower() in taken:
            problems.add(
                row.line,
                _("a login named “%(username)s” already exists without this patron number: link it in the admin")
                % {"username": row.number.lower()},
            )
        else:
            plan.new.append(row)
    if complete and plan.categories:
        plan.leaving = [
            patron
            for number, patron in on_file.items()
            if patron["active"] and patron["category"] in plan.categories and number not in in_file
        ]
        plan.leaving.sort(key=lambda patron: patron["patron_number"])
    return plan


def _samples(plan: Plan, lookups: dict) -> dict:
    """The first examples of each kind, as the preview shows them."""

    def shown(name, value):
        if value is KEEP or value is None or value == "":
            return "—"
        if name == "laboratory_id":
            return lookups["labs"].get(value, str(value))
        if name == "home_branch_id":
            return lookups["branches"].get(value, str(value))
        if name == "category":
            return str(Patron.Category(value).label)
        return str(value)

    def diff(row, patron, changes):
        return [[name, shown(name, patron[name]), shown(name, getattr(row, name))] for name in changes]

    return {
        "new": [[row.line, row.number, row.full_name, shown("category", row.category)] for row in plan.new[:SAMPLES]],
        "changed": [
            [row.line, patron["patron_number"], row.full_name, diff(row, patron, changes)]
            for row, patron, changes in plan.changed[:SAMPLES]
        ],
        "returning": [
            [row.line, patron["patron_number"], row.full_name, diff(row, patron, changes)]
            for row, patron, changes in plan.returning[:SAMPLES]
        ],
        "leaving": [
            [0, patron["patron_number"], patron["full_name"], shown("category", patron["category"])]
            for patron in plan.leaving[:SAMPLES]
        ],
    }


# --- applying -------------------------------------------------------------------------------


def unusable_password() -> str:
    """What make_password(None) stores ("!" and 40 random characters, so no two are alike), from
    os.urandom at once rather than 40 draws of random.choice: 30,000 of them cost 5 s otherwise."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def insert_rows(model, rows: list[dict]) -> None:
    """Insert plain rows ({attname: value}; any other field takes its default, auto_now fields the
    time now). On PostgreSQL through COPY: 30,000 patrons with their logins and history in a few
    seconds, where bulk_create spends most of a minute building model instances and arrays."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=CHUNK)
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default() and not callable(f.default):
            defaults[f.attname] = f.get_default()
    json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]

    def value(row, name, field):
        if name in row:
            found = row[name]
        elif name in defaults:
            found = defaults[name]
        else:
            found = field.get_default()
        return json.dumps(found) if name in json_fields and found is not None else found

    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([value(row, name, field) for name, field in zip(names, fields, strict=True)])


def update_rows(model, rows: list[dict], names: list[str]) -> None:
    """Set `names` (attnames) on the rows with these "id"s. On PostgreSQL the values are copied into
    a temporary table and set by one UPDATE … FROM (bulk_update's CASE per row costs seconds a
    thousand)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update([model(pk=row["id"], **{n: row[n] for n in names}) for row in rows], names, CHUNK)
        return
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    columns = [model._meta.get_field(name).column for name in names]
    scratch = q(f"registrar_{model._meta.db_table}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS "
            f"SELECT id, {', '.join(q(c) for c in columns)} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY {scratch} (id, {', '.join(q(c) for c in columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row["id"], *(row[name] for name in names)])
        assignments = ", ".join(f"{q(c)} = s.{q(c)}" for c in columns)
        cursor.execute(f"UPDATE {table} t SET {assignments} FROM {scratch} s WHERE t.id = s.id")
        cursor.execute(f"DROP TABLE {scratch}")


def _ids(model, key: str, values: list[str]) -> dict[str, int]:
    found = {}
    for start in range(0, len(values), CHUNK * 10):
        found.update(model.objects.filter(**{f"{key}__in": values[start : start + CHUNK * 10]}).values_list(key, "pk"))
    return found


def _event(patron_id: int, action: str, actor_id, note: str, data: dict, now) -> dict:
    return {
        "patron_id": patron_id,
        "action": action,
        "actor_id": actor_id,
        "note": note,
        "data": data,
        "created_at": now,
    }


def apply_plan(plan: Plan, *, job: PatronImport, actor_id: int | None) -> None:
    """Write the plan; the caller holds the transaction (all or nothing)."""
    User = get_user_model()
    now = timezone.now()
    source = {"job": job.pk, "file": job.file_name}
    with translation.override(settings.LANGUAGE_CODE):
        note = str(_("Registrar import: %(file)s") % {"file": job.file_name or job.pk})
    events: list[dict] = []

    # New patrons and their logins (an unusable password: they sign in through the campus sign-in).
    insert_rows(
        User,
        [
            {
                "username": row.number.lower(),
                "email": "" if row.email is KEEP else row.email,
                "password": unusable_password(),
                "date_joined": now,
            }
            for row in plan.new
        ],
    )
    user_ids = _ids(User, "username", [row.number.lower() for row in plan.new])
    insert_rows(
        Patron,
        [
            {
                "user_id": user_ids[row.number.lower()],
                "patron_number": row.number,
                "full_name": row.full_name,
                "full_name_kana": "" if row.full_name_kana is KEEP else row.full_name_kana,
                "category": row.category,
                "laboratory_id": None if row.laboratory_id is KEEP else row.laboratory_id,
                "home_branch_id": row.home_branch_id,
                "department": "" if row.department is KEEP else row.department,
            }
            for row in plan.new
        ],
    )
    patron_ids = _ids(Patron, "patron_number", [row.number for row in plan.new])
    events += [_event(patron_ids[row.number], "registrar_created", actor_id, note, source, now) for row in plan.new]

    # Changes and returns.
    updated: list[dict] = []
    emails: list[dict] = []
    fields_touched: set[str] = set()
    for rows, returning in ((plan.changed, False), (plan.returning, True)):
        for row, on_file, changes in rows:
            patron = {"id": on_file["id"], "updated_at": now, "active": True, "left_at": None}
            for name in PATRON_FIELDS:
                patron[name] = getattr(row, name) if name in changes else on_file[name]
            updated.append(patron)
            fields_touched.update(name for name in changes if name != "email")
            if "email" in changes:
                emails.append({"id": on_file["user_id"], "email": row.email})
            data = {**source, "changed": changes}
            if returning:
                events.append(_event(on_file["id"], "registrar_returned", actor_id, note, data, now))
            elif changes:
                events.append(_event(on_file["id"], "registrar_changed", actor_id, note, data, now))
    if plan.returning:
        fields_touched.update({"active", "left_at"})
    update_rows(Patron, updated, sorted(fields_touched | {"updated_at"}))
    update_rows(User, emails, ["email"])

    # Leavers: inactive, never deleted.
    leaving = [patron["id"] for patron in plan.leaving]
    for start in range(0, len(leaving), CHUNK):
        Patron.objects.filter(pk__in=leaving[start : start + CHUNK], active=True).update(
            active=False, left_at=now, updated_at=now
        )
    events += [_event(pk, "registrar_left", actor_id, note, source, now) for pk in leaving]
    insert_rows(PatronEvent, events)


# --- the job ------------------------------------------------------------------------------


class TooLarge(ValueError):
    pass


def limit_bytes() -> int:
    return int(settings.PATRON_IMPORT_MAX_MB * 1024 * 1024)


def too_large_message():
    return _("The file is larger than %(limit)s MB, the most an import accepts (PATRON_IMPORT_MAX_MB).") % {
        "limit": settings.PATRON_IMPORT_MAX_MB
    }


def create_job(data: bytes, *, complete: bool, file_name: str = "", user=None, keep_data: bool = True) -> PatronImport:
    """A queued preview; with keep_data the file is stored in the job for a worker (the admin),
    else the caller hands the bytes to run_job itself (the command)."""
    if len(data) > limit_bytes():
        raise TooLarge(str(too_large_message()))
    return PatronImport.objects.create(
        file_name=file_name[:255],
        file_size=len(data),
        data=data if keep_data else b"",
        complete=complete,
        lines_total=estimate_total(data),
        started_by=user,
    )


def _alive(job_id: int, **values) -> None:
    """Record progress and a sign of life; a job no longer running (marked stale) stops here."""
    if not PatronImport.objects.filter(pk=job_id, state=S.RUNNING).update(heartbeat_at=timezone.now(), **values):
        raise Superseded


def _finish(job_id: int, state: str, message, *, keep_data: bool = False, **values) -> None:
    now = timezone.now()
    extra = {} if keep_data else {"data": b""}
    PatronImport.objects.filter(pk=job_id).update(
        state=state,
        step=PatronImport.Step.FINISHED,
        message=str(message),
        finished_at=now,
        heartbeat_at=now,
        **extra,
        **values,
    )


def _lookup_names() -> dict:
    return {
        "labs": {pk: str(lab) for pk, lab in Laboratory.objects.in_bulk().items()},
        "branches": {pk: str(branch) for pk, branch in Branch.objects.in_bulk().items()},
    }


def _read_all(job: PatronImport, data: bytes, problems: Problems, on_progress) -> list[Row]:
    """Read and check the whole file (a sign of life and the progress every CHUNK lines)."""
    last = [0]

    def on_line(line: int) -> None:
        if line - last[0] >= CHUNK:
            last[0] = line
            _alive(job.pk, lines_read=line, error_count=problems.count)
            if on_progress:
                on_progress(line)

    try:
        return list(read(data, problems, on_line))
    except FileProblem as exc:
        problems.add(exc.line, exc.message)
        return []


def _summary(plan: Plan):
    counts = plan.counts()
    return _(
        "%(new)d new, %(changed)d changed, %(unchanged)d unchanged, %(returning)d returning, %(leaving)d leaving."
    ) % {
        "new": counts["new_count"],
        "changed": counts["changed_count"],
        "unchanged": counts["unchanged_count"],
        "returning": counts["returning_count"],
        "leaving": counts["leaving_count"],
    }


def _apply(job: PatronImport, rows: list[Row], problems: Problems) -> None:
    """Compare with the patrons on file now and write, in ONE transaction, holding the job's row
    (the stale check skips it meanwhile) and, on PostgreSQL, the one lock every apply takes (two
    applies at once: the second compares after the first)."""
    with transaction.atomic():
        locked = PatronImport.objects.select_for_update().only("state").get(pk=job.pk)
        if locked.state != S.RUNNING:
            raise Superseded
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('patrons.registrar.apply'))")
        plan = make_plan(iter(rows), problems, complete=job.complete)
        if problems.count:
            return
        apply_plan(plan, job=job, actor_id=job.applied_by_id or job.started_by_id)
        _finish(
            job.pk,
            S.DONE,
            _summary(plan),
            **plan.counts(),
            samples=_samples(plan, _lookup_names()),
            lines_read=max(job.lines_total, 1),
            error_count=0,
            errors=[],
        )


def run_job(
    job_id: int, *, data: bytes | None = None, on_progress: Callable[[int], None] | None = None
) -> PatronImport:
    """Run a queued job (its preview, or its apply) to its end. Only a queued job is started: a task
    delivered again after its worker died finds the job running and leaves it to mark_stale_jobs."""
    now = timezone.now()
    claimed = PatronImport.objects.filter(pk=job_id, state=S.QUEUED).update(
        state=S.RUNNING, step=PatronImport.Step.READING, started_at=now, heartbeat_at=now, lines_read=0
    )
    if not claimed:
        logger.warning("patron import %s is not queued any more; not started again", job_id)
        return PatronImport.objects.defer("data").get(pk=job_id)
    job = PatronImport.objects.get(pk=job_id)
    if data is None:
        data = bytes(job.data)
    problems = Problems()
    try:
        rows = _read_all(job, data, problems, on_progress)
        if job.mode == PatronImport.Mode.APPLY and not problems.count:
            _alive(job.pk, step=PatronImport.Step.APPLYING, lines_read=max(job.lines_total, 1))
            _apply(job, rows, problems)
        else:
            # Compared even when some lines are bad, so that every problem is listed at once.
            plan = make_plan(iter(rows), problems, complete=job.complete)
            if not problems.count:  # a preview: the file stays in the job for the apply
                _finish(
                    job.pk,
                    S.READY,
                    _summary(plan),
                    keep_data=True,
                    **plan.counts(),
                    samples=_samples(plan, _lookup_names()),
                    lines_read=max(job.lines_total, 1),
                )
        if problems.count:
            _finish(
                job.pk,
                S.FAILED,
                ngettext(
                    "%(count)d problem: nothing was changed. Correct the file and upload it again.",
                    "%(count)d problems: nothing was changed. Correct the file and upload it again.",
                    problems.count,
                )
                % {"count": problems.count},
                error_count=problems.count,
                errors=sorted(problems.first, key=lambda problem: problem[0]),
            )
    except Superseded:
        logger.warning("patron import %s was marked failed while it ran; nothing applied", job_id)
    except Exception as exc:  # incl. the task's soft time limit: the patrons stay as they were
        logger.exception("patron import %s failed", job_id)
        _finish(
            job.pk,
            S.FAILED,
            _("The import stopped (%(error)s). The patrons were not changed.")
            % {"error": f"{type(exc).__name__}: {exc}"[:300]},
            error_count=problems.count,
            errors=problems.first,
        )
    return PatronImport.objects.defer("data").get(pk=job_id)


NOT_READY = _("This import is not waiting for confirmation any more.")


def request_apply(job_id: int, *, user=None) -> bool:
    """Queue the apply of a checked job (state READY); False when it is not ready (any more)."""
    return bool(
        PatronImport.objects.filter(pk=job_id, state=S.READY, error_count=0).update(
            state=S.QUEUED,
            mode=PatronImport.Mode.APPLY,
            step=PatronImport.Step.WAITING,
            applied_by=user,
            heartbeat_at=timezone.now(),  # the stale check counts a queued job's wait from here
            finished_at=None,
        )
    )


def discard(job_id: int) -> bool:
    """Drop a checked job and its file without applying it."""
    return bool(
        PatronImport.objects.filter(pk=job_id, state=S.READY).update(
            state=S.DISCARDED, step=PatronImport.Step.FINISHED, data=b"", finished_at=timezone.now()
        )
    )


NOT_QUEUED = _(
    "The import could not be handed to a worker (the task queue did not answer). "
    "The patrons were not changed: upload the file again."
)


def fail_unqueued(job_id: int) -> None:
    """The job's task could not be queued (broker down): failed at once, its file dropped."""
    PatronImport.objects.filter(pk=job_id, state=S.QUEUED).update(
        state=S.FAILED,
        step=PatronImport.Step.FINISHED,
        message=str(NOT_QUEUED),
        finished_at=timezone.now(),
        data=b"",
    )


def mark_stale_jobs() -> int:
    """Queued jobs no worker took and running jobs silent for STALE_AFTER are failed; checked files
    nobody applied within READY_KEPT are discarded (the file holds personal data). An apply under
    way holds its job's row lock and is skipped."""
    now = timezone.now()
    cutoff = now - STALE_AFTER
    waiting = PatronImport.objects.filter(state=S.QUEUED).filter(  # since the upload, or the confirmation
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    for pk in waiting.values_list("pk", flat=True)[:100]:
        fail_unqueued(pk)
    PatronImport.objects.filter(state=S.READY, finished_at__lt=now - READY_KEPT).update(
        state=S.DISCARDED, data=b"", message=str(_("Not applied within a day: discarded."))
    )
    with transaction.atomic():
        stale = list(
            PatronImport.objects.select_for_update(skip_locked=True)
            .filter(state=S.RUNNING, heartbeat_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        for pk in stale:
            _finish(
                pk,
                S.FAILED,
                _(
                    "The worker stopped during the import (no sign of life for %(minutes)d minutes). "
                    "The patrons were not changed: upload the file again."
                )
                % {"minutes": STALE_AFTER.total_seconds() // 60},
            )
    return len(stale)


FINISHED = (S.READY, S.DONE, S.FAILED, S.DISCARDED)


def status(job: PatronImport) -> dict:
    """What the progress bar polls (plain JSON)."""
    total = max(job.lines_total, job.lines_read, 1)
    finished = job.state in FINISHED
    percent = 100 if finished and job.state != S.FAILED else min(99, job.lines_read * 100 // total)
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "mode": job.mode,
        "step": job.step,
        "step_label": str(job.get_step_display()),
        "lines_read": job.lines_read,
        "lines_total": total,
        "percent": percent,
        "new": job.new_count,
        "changed": job.changed_count,
        "unchanged": job.unchanged_count,
        "leaving": job.leaving_count,
        "returning": job.returning_count,
        "problems": job.error_count,
        "message": job.message,
        "finished": finished,
    }


def import_patrons(
    data: bytes,
    *,
    complete: bool = False,
    dry_run: bool = False,
    file_name: str = "",
    on_progress: Callable[[int], None] | None = None,
) -> PatronImport:
    """Check (and unless dry_run, apply) a registrar file now, in this process: the command's way."""
    job = create_job(data, complete=complete, file_name=file_name, keep_data=False)
    if not dry_run:
        PatronImport.objects.filter(pk=job.pk).update(mode=PatronImport.Mode.APPLY)
    return run_job(job.pk, data=data, on_progress=on_progress)
