"""The charge-line export in the fields of a NACSIS-ILL record (issue 11, item 2).

One NACSIS-ILL record carries up to ten groups ITEM / UPRCE / QNT / CHRGE (the copy fee's lines),
then FEE (the basic fee and every other cost), POSTG (postage and the like) and SUM, the total:
SUM = ΣCHRGE + FEE + POSTG (ILLシステム操作マニュアル §6.3). Our charges map onto it:

- the A lines (copy fee) → ITEM / UPRCE / QNT / CHRGE, one row each, at most ten per record; the
  eleventh and later are added to FEE, with a note;
- B (postage, FAX or communication fee, a loan's postage) → POSTG;
- C (handling, bank transfer, express, the consumption tax) and staff's adjustment → FEE;
- SUM = the charge's total; the identity ΣCHRGE + FEE + POSTG = SUM is checked for every record.

A record is one charge: its first row carries the record's fields (FEE, POSTG, SUM, ACCT, OLDAF),
further rows only their A line, so that summing SUM adds each charge once. A charge without A lines
(a loan) is one row. ACCT comes from settings.NACSIS_ACCT_CODES; OLDAF is the budget code.

A charge counts in the month it was recorded (Charge.created_at, the arrival), in Japan time.
"""

import datetime
from collections import defaultdict

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import current_language, format_yen
from fees.labels import line_label
from fees.models import Charge, ChargeLine, fiscal_year_of
from fees.selectors import Period
from reports.tables import COUNT, DATE, TEXT, YEN, Column, Table

MAX_GROUPS = 10  # ITEM / UPRCE / QNT / CHRGE groups in one NACSIS-ILL record
BATCH = 2_000  # charges read per query while the export streams

# Which lenders' charges: those in the fee-offset (what the statement will list), or every lender
# (the accounting office's month, including lenders paid by invoice or in advance).
OFFSET, ALL = "offset", "all"
LENDER_SCOPES = {OFFSET: gettext_lazy("Fee-offset lenders"), ALL: gettext_lazy("All lenders")}

NOTE = gettext_lazy(
    "One NACSIS-ILL record per charge. A charge counts in the month it was recorded (on arrival), in Japan "
    "time. ITEM, UPRCE, QNT and CHRGE are the copy fee's lines, at most ten per record (more are added to FEE); "
    "FEE is the other fees (handling, bank transfer, express, consumption tax) and staff's adjustment; POSTG "
    "is postage or the FAX fee; SUM = ΣCHRGE + FEE + POSTG = the charge. FEE, POSTG and SUM are on the "
    "record's first row only. ONO is our request number in 10 characters; OLDAF is the budget code."
)
NOTE_OFFSET = gettext_lazy(
    "Only charges of lenders in the fee-offset (料金相殺); choose “All lenders” for every charge."
)
NOTE_ALL = gettext_lazy("Every lender's charges, in the fee-offset or not.")


class ExportMismatch(Exception):
    """A charge whose parts do not add up to its total (the database's CHECK should make it impossible)."""


def acct_code(payment_class: str) -> str:
    """NACSIS's ACCT (支払区分) for a payment class: pb (公費) or pr (私費), per settings."""
    return settings.NACSIS_ACCT_CODES.get(payment_class, "")


def compact_number(number: str) -> str:
    """ONO (at most 10 characters) for ILL-2026-000123: 2026000123; past 999,999 a year, 26 + 8 digits."""
    parts = number.split("-")
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        year, serial = parts[1], int(parts[2])
        if serial < 1_000_000:
            return f"{year}{serial:06d}"
        return f"{year[-2:]}{serial:08d}"[:10]
    return "".join(ch for ch in number if ch.isalnum())[-10:]


def month_period(year: int, month: int) -> Period:
    """The calendar month as a fees.selectors.Period (fiscal year + month)."""
    return Period(fiscal_year_of(datetime.date(year, month, 1)), month)


def last_month(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def columns() -> list[Column]:
    return [
        Column("date", _("Date"), DATE),
        Column("ill_id", "ID (NACSIS-ILL)", TEXT),
        Column("number", _("Request number"), TEXT),
        Column("ono", "ONO", TEXT),
        Column("kind", _("Kind"), TEXT),
        Column("lender", _("Lender"), TEXT),
        Column("amlid", "AMLID", TEXT),
        Column("group", _("Line"), COUNT),
        Column("item", "ITEM", TEXT),
        Column("uprce", "UPRCE", YEN),
        Column("qnt", "QNT", COUNT),
        Column("chrge", "CHRGE", YEN),
        Column("fee", "FEE", YEN),
        Column("postg", "POSTG", YEN),
        Column("sum", "SUM", YEN),
        Column("acct", "ACCT", TEXT),
        Column("oldaf", "OLDAF", TEXT),
        Column("note", _("Note"), TEXT),
    ]


FIELDS = (
    "id",
    "created_at",
    "total",
    "copy_fee",
    "postage",
    "other_fees",
    "adjustment",
    "payment_class",
    "budget_code__code",
    "request__number",
    "request__nacsis_ill_id",
    "request__kind",
    "request__paper_size",
    "request__lender__name",
    "request__lender__name_en",
    "request__lender__nacsis_participant_id",
)


def charges_of(period: Period, lenders: str = OFFSET):
    """The period's charges, oldest first (Charge.created_at; the index charge_period)."""
    start, end = period.bounds
    charges = Charge.objects.filter(created_at__gte=start, created_at__lt=end)
    if lenders != ALL:
        charges = charges.filter(request__lender__is_offset_participant=True)
    return charges.order_by("created_at", "id")


def _item(code: str, paper_size: str) -> str:
    if code == "copy_mono":
        return paper_size or str(line_label(code))
    if code == "copy_colour":
        return _("%(size)s colour") % {"size": paper_size} if paper_size else str(line_label(code))
    return str(line_label(code))


def record_rows(charge: dict, a_lines: list[tuple], *, kinds: dict, english: bool) -> list[list]:
    """The rows of one charge's record (see the module's docstring). `charge` is a FIELDS dict,
    `a_lines` its A lines as (code, unit price, quantity, amount) in position order."""
    shown, folded = a_lines[:MAX_GROUPS], a_lines[MAX_GROUPS:]
    chrge = sum(line[3] for line in shown)
    unlisted = charge["copy_fee"] - sum(line[3] for line in a_lines)  # 0 unless the lines were lost
    fee = charge["other_fees"] + charge["adjustment"] + sum(line[3] for line in folded) + unlisted
    postg = charge["postage"]
    if chrge + fee + postg != charge["total"]:
        raise ExportMismatch(charge["request__number"])
    notes = []
    if folded:
        notes.append(
            _("%(count)s more copy-fee lines (%(amount)s) are in FEE.")
            % {"count": len(folded), "amount": format_yen(sum(line[3] for line in folded))}
        )
    if charge["adjustment"]:
        notes.append(_("Adjustment of %(amount)s is in FEE.") % {"amount": format_yen(charge["adjustment"])})
    if unlisted:
        notes.append(_("Copy fee without lines (%(amount)s) is in FEE.") % {"amount": format_yen(unlisted)})
    if not charge["request__nacsis_ill_id"]:
        notes.append(_("No NACSIS-ILL ID recorded."))
    lender = (english and charge["request__lender__name_en"]) or charge["request__lender__name"] or ""
    head = [
        timezone.localtime(charge["created_at"]).date(),
        charge["request__nacsis_ill_id"],
        charge["request__number"],
        compact_number(charge["request__number"]),
        kinds.get(charge["request__kind"], charge["request__kind"]),
        lender,
        charge["request__lender__nacsis_participant_id"] or "",
    ]
    record = [fee, postg, charge["total"], acct_code(charge["payment_class"]), charge["budget_code__code"] or ""]
    blank_record = [None, None, None, None, None]
    if not shown:
        return [[*head, None, "", None, None, None, *record, " ".join(notes)]]
    rows = []
    for n, (code, unit_price, quantity, amount) in enumerate(shown, start=1):
        item = _item(code, charge["request__paper_size"])
        rows.append(
            [
                *head,
                n,
                item,
                unit_price,
                quantity,
                amount,
                *(record if n == 1 else blank_record),
                " ".join(notes) if n == 1 else "",
            ]
        )
    return rows


def _a_lines(charge_ids) -> dict[int, list[tuple]]:
    lines = defaultdict(list)
    for charge_id, code, unit_price, quantity, amount in (
        ChargeLine.objects.filter(charge_id__in=charge_ids, section="A")
        .order_by("charge_id", "position")
        .values_list("charge_id", "code", "unit_price", "quantity", "amount")
    ):
        lines[charge_id].append((code, unit_price, quantity, amount))
    return lines


def rows_of(charges) -> list[list]:
    """The rows of the charges (a list of FIELDS dicts), their A lines read in one query."""
    kinds = {"loan": _("Loan"), "copy": _("Copy")}
    english = current_language() == "en"
    lines = _a_lines([c["id"] for c in charges])
    rows = []
    for charge in charges:
        rows.extend(record_rows(charge, lines.get(charge["id"], []), kinds=kinds, english=english))
    return rows


def iter_rows(period: Period, lenders: str = OFFSET, batch: int = BATCH):
    """Every row of the period, BATCH charges per query (keyset on created_at, id): constant memory
    however long the month, for the streamed CSV. The rows are written in the language of the
    request that asked for them, even when the stream is sent after its view returned."""
    language = translation.get_language()

    def rows():
        with translation.override(language):
            yield from _iter_rows(period, lenders, batch)

    return rows()


def _iter_rows(period: Period, lenders: str, batch: int):
    base = charges_of(period, lenders)
    after = None
    while True:
        page = (
            base if after is None else base.filter(Q(created_at__gt=after[0]) | Q(created_at=after[0], id__gt=after[1]))
        )
        charges = list(page.values(*FIELDS)[:batch])
        if not charges:
            return
        yield from rows_of(charges)
        if len(charges) < batch:
            return
        after = (charges[-1]["created_at"], charges[-1]["id"])


def page_of(period: Period, lenders: str, page: int, size: int) -> tuple[list[list], bool]:
    """One page of `size` charges (their rows) and whether there is another: no count of the month."""
    start = (page - 1) * size
    charges = list(charges_of(period, lenders).values(*FIELDS)[start : start + size + 1])
    return rows_of(charges[:size]), len(charges) > size


def table(period: Period, lenders: str = OFFSET, *, rows=None, all_rows=True) -> Table:
    """The export as a reports.tables.Table: `rows` the page shows, every row of the period streamed."""
    return Table(
        slug="nacsis",
        title=_("NACSIS-ILL charge lines"),
        columns=columns(),
        rows=rows or [],
        note=f"{NOTE} {NOTE_ALL if lenders == ALL else NOTE_OFFSET}",
        all_rows=(lambda: iter_rows(period, lenders)) if all_rows else None,
    )
