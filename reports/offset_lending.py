"""The lending side of a fee-offset statement: the lines where we are the lender (AMLID = our
participant ID, stored by `reports.offset` with the outcome "lending") compared with the charges we
recorded when we shipped (`lending.LendingCharge`), and, when staff confirm, those charges settled.

Each lending line is matched to our charge by its ILL ID (the NACSIS-ILL ID on the lending request);
a line whose ID no lending request of ours carries is then matched to a fee-offset charge of ours from
the same borrowing library (OMLID against the library's NACSIS participant ID) with the same amount
(SUM against the charge's total), on a request without a NACSIS-ILL ID, the oldest first. The outcomes:

- matched; borrowing library differs; amount differs; not a fee-offset charge here (we invoice it);
- twice in the statement (a charge already matched by another line of it);
- only in the statement (no lending request of ours has the ID and no charge fits, or the request has
  no charge yet: not shipped);
- only here: a fee-offset charge of ours not yet settled, recorded in the twelve months up to the end
  of the statement's month, that no line of this statement has.

Nothing here is stored: the comparison is made when the page is shown, from the statement's stored
lines and our charges as they are now. A charge becomes settled ("paid" through the fee-offset) only
when staff confirm the matched lines (`settle`), never by the import itself.
"""

import datetime
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError, TransitionNotAllowed
from core.text import format_yen
from lending import money
from lending.models import LendingCharge, LendingRequest
from reports.models import OffsetLine, OffsetStatement
from reports.offset import BATCH, ONLY_HERE_MONTHS, month_end

State = LendingCharge.State
Settlement = LendingCharge.Settlement
SETTLEABLE_STATES = (State.OPEN, State.OFFSET_RECORDED)

NOTHING_CHOSEN = gettext_lazy("Choose at least one matched line to settle.")
NOT_SETTLEABLE = gettext_lazy(
    "These charges are no longer matched, unsettled lines of this statement: %(numbers)s. Nothing was settled; "
    "reload the page and check them again."
)


class Outcome(models.TextChoices):
    DUPLICATE = "duplicate", gettext_lazy("Twice in the statement")
    BORROWER_DIFFERS = "borrower", gettext_lazy("Borrowing library differs")
    AMOUNT_DIFFERS = "amount", gettext_lazy("Amount differs")
    NOT_OFFSET = "not_offset", gettext_lazy("Not a fee-offset charge here")
    ONLY_STATEMENT = "only_statement", gettext_lazy("Only in the statement")
    ONLY_HERE = "only_here", gettext_lazy("Only here")
    MATCHED = "matched", gettext_lazy("Matched")


ORDER = {outcome: n for n, outcome in enumerate(Outcome.values)}
MISMATCHES = frozenset(Outcome.values) - {Outcome.MATCHED}


@dataclass
class LendingLine:
    """One row of the comparison: a statement line, our charge, or both."""

    outcome: str
    line: OffsetLine | None = None
    charge: LendingCharge | None = None
    request: LendingRequest | None = None
    notes: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return Outcome(self.outcome).label

    @property
    def is_mismatch(self) -> bool:
        return self.outcome in MISMATCHES

    @property
    def settleable(self) -> bool:
        """Matched, fee-offset, and not yet paid or waived: staff may confirm it settled."""
        return (
            self.outcome == Outcome.MATCHED
            and self.charge is not None
            and self.charge.settlement == Settlement.OFFSET
            and self.charge.state in SETTLEABLE_STATES
        )

    @property
    def note(self) -> str:
        return " ".join(str(n) for n in self.notes)


def _window(statement: OffsetStatement) -> tuple[datetime.datetime, datetime.datetime]:
    """The twelve months up to the end of the statement's month (as reports.offset's "only here")."""
    end = month_end(statement.month)
    first = statement.month
    for _n in range(ONLY_HERE_MONTHS - 1):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return timezone.make_aware(datetime.datetime(first.year, first.month, 1)), end


def _chunks(values, size=BATCH):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _requests_by_ill_id(ids) -> dict[str, list[LendingRequest]]:
    found: dict[str, list[LendingRequest]] = {}
    for chunk in _chunks(ids):
        for req in (
            LendingRequest.objects.filter(nacsis_ill_id__in=chunk)
            .select_related("borrower", "charge")
            .order_by("received_at", "pk")
        ):
            found.setdefault(req.nacsis_ill_id, []).append(req)
    return found


def _charge_of(req: LendingRequest) -> LendingCharge | None:
    try:
        return req.charge
    except LendingCharge.DoesNotExist:
        return None


def _participant(req: LendingRequest) -> str:
    return (req.borrower.nacsis_participant_id or "").upper()


def _compare(line: OffsetLine, req: LendingRequest, charge: LendingCharge) -> LendingLine:
    notes = []
    outcome = Outcome.MATCHED
    theirs = _participant(req)
    if theirs != line.omlid:
        outcome = Outcome.BORROWER_DIFFERS
        notes.append(
            _("Borrowing library: %(theirs)s in the statement, %(ours)s (%(name)s) here.")
            % {"theirs": line.omlid, "ours": theirs or "—", "name": req.borrower.display_name}
        )
    if charge.total != line.total:
        outcome = Outcome.AMOUNT_DIFFERS if outcome == Outcome.MATCHED else outcome
        notes.append(
            _("SUM: %(theirs)s in the statement, %(ours)s here (%(diff)s).")
            % {
                "theirs": format_yen(line.total),
                "ours": format_yen(charge.total),
                "diff": f"{line.total - charge.total:+,}",
            }
        )
    if charge.settlement == Settlement.INVOICE:  # a free loan (0 yen both sides) matches as it is
        outcome = Outcome.NOT_OFFSET if outcome == Outcome.MATCHED else outcome
        notes.append(
            _("Here the charge is settled as “%(settlement)s”, not through the fee-offset.")
            % {"settlement": charge.get_settlement_display()}
        )
    return LendingLine(outcome, line=line, charge=charge, request=req, notes=notes)


def _pool(statement: OffsetStatement):
    """Our fee-offset charges not yet settled, of the statement's twelve months (oldest first)."""
    start, end = _window(statement)
    return (
        LendingCharge.objects.filter(
            settlement=Settlement.OFFSET, state__in=SETTLEABLE_STATES, created_at__gte=start, created_at__lt=end
        )
        .select_related("request", "borrower")
        .order_by("created_at", "pk")
    )


def compare(statement: OffsetStatement) -> list[LendingLine]:
    """The statement's lending lines beside our lending charges, what does not match first."""
    lines = list(OffsetLine.objects.filter(statement=statement, outcome=OffsetLine.Outcome.LENDING).order_by("line"))
    by_id = _requests_by_ill_id({line.ill_id for line in lines if line.ill_id})
    pool = list(_pool(statement))
    used: dict[int, int | None] = {}  # charge id -> the statement line that matched it
    rows: list[LendingLine | None] = [None] * len(lines)
    later = []
    for n, line in enumerate(lines):
        candidates = by_id.get(line.ill_id)
        if not candidates:
            later.append(n)
            continue
        req = next((r for r in candidates if _participant(r) == line.omlid), candidates[0])
        charge = _charge_of(req)
        if charge is None:
            note = _("Lending request %(number)s has no charge yet (not shipped).") % {"number": req.number}
            rows[n] = LendingLine(Outcome.ONLY_STATEMENT, line=line, request=req, notes=[note])
        elif charge.pk in used:
            note = _("The same charge is on line %(line)s.") % {"line": used[charge.pk]}
            rows[n] = LendingLine(Outcome.DUPLICATE, line=line, charge=charge, request=req, notes=[note])
        else:
            used[charge.pk] = line.line
            rows[n] = _compare(line, req, charge)
    fitting: dict[tuple[str, int], list[LendingCharge]] = {}  # (their participant ID, total) -> oldest first
    for c in pool:
        if not c.request.nacsis_ill_id:
            fitting.setdefault(((c.borrower.nacsis_participant_id or "").upper(), c.total), []).append(c)
    for n in later:  # no request has the ID: the borrowing library and the amount, the oldest charge first
        line = lines[n]
        charge = next((c for c in fitting.get((line.omlid, line.total), ()) if c.pk not in used), None)
        if charge is None:
            note = _("No lending request here has this NACSIS-ILL ID, and no charge of ours fits it.")
            rows[n] = LendingLine(Outcome.ONLY_STATEMENT, line=line, notes=[note])
            continue
        used[charge.pk] = line.line
        charge.request.borrower = charge.borrower
        row = _compare(line, charge.request, charge)
        row.notes.insert(
            0,
            _("Matched by the borrowing library and the amount: lending request %(number)s has no NACSIS-ILL ID.")
            % {"number": charge.request.number},
        )
        rows[n] = row
    only_here = [
        LendingLine(
            Outcome.ONLY_HERE,
            charge=c,
            request=c.request,
            notes=[_("No NACSIS-ILL ID recorded.")] if not c.request.nacsis_ill_id else [],
        )
        for c in pool
        if c.pk not in used
    ]
    result = [row for row in rows if row is not None] + only_here
    result.sort(key=lambda row: (ORDER[row.outcome], row.line.line if row.line else 0))
    return result


def counts(rows: list[LendingLine]) -> dict[str, int]:
    found = {}
    for row in rows:
        found[row.outcome] = found.get(row.outcome, 0) + 1
    return found


def statement_ref(statement: OffsetStatement) -> str:
    return f"{statement.month:%Y-%m} {statement.file_name}".strip()[:100]


@transaction.atomic
def settle(statement: OffsetStatement, charge_ids, *, user, paid_on: datetime.date) -> list[LendingCharge]:
    """Staff confirm that the chosen matched lines were settled through the fee-offset on `paid_on`:
    their charges become "paid" (through `lending.money.record_offset`, when not yet entered, then
    `record_offset_settled`). Every chosen charge must still be a matched, unsettled line of the
    statement, or nothing is settled (two members of staff confirming at once settle each charge once)."""
    wanted = {int(c) for c in charge_ids}
    if not wanted:
        raise ServiceError(NOTHING_CHOSEN, code="nothing_chosen")
    # Lock first, then compare: a second confirmation waits here and then finds them settled.
    locked = list(LendingCharge.objects.select_for_update(of=("self",)).filter(pk__in=wanted).order_by("pk"))
    settleable = {row.charge.pk: row.charge for row in compare(statement) if row.settleable}
    refused = sorted(wanted - set(settleable))
    if refused or len(locked) != len(wanted):
        numbers = ", ".join(
            LendingCharge.objects.filter(pk__in=refused).order_by("pk").values_list("request__number", flat=True)
        )
        raise TransitionNotAllowed(NOT_SETTLEABLE, code="offset_not_settleable", params={"numbers": numbers or "—"})
    chosen = [settleable[pk] for pk in sorted(wanted)]
    ref = statement_ref(statement)
    entered = [c for c in chosen if c.state == State.OPEN]
    if entered:
        money.record_offset(entered, actor=user, statement_ref=ref)
    return money.record_offset_settled(chosen, actor=user, paid_on=paid_on, statement_ref=ref)
