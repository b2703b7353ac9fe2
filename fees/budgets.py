"""Budget codes and their ledger (DESIGN.md §3.6, §6).

The ledger is append-only: a commitment holds an order's estimate, a release (negative) gives it
back, a charge records what arrival cost. "Left" = limit − committed − charged, computed here only.
Budget rows are locked (`SELECT … FOR UPDATE`) whenever money is committed against them, so two
concurrent orders cannot overspend a code.
"""

from dataclasses import dataclass

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.text import format_yen
from fees.models import BudgetCode, BudgetLedgerEntry, current_fiscal_year

E = BudgetLedgerEntry.EntryType

BUDGET_EXCEEDED = _(
    "Budget code %(code)s has %(left)s left, but this order is estimated at %(estimate)s. "
    "Ask the budget holder to raise the limit or choose another code."
)
CHARGE_ABOVE_BUDGET = _(
    "The charge of %(amount)s is more than budget code %(code)s has left (%(left)s, counting what this order held). "
    "Ask the budget holder to raise the limit, or record the charge as private expense."
)


@dataclass(frozen=True)
class BudgetPosition:
    limit: int | None
    committed: int
    charged: int

    @property
    def used(self) -> int:
        return self.committed + self.charged

    @property
    def left(self) -> int | None:
        """The one definition of what a budget code has left; None for a code without a limit."""
        return None if self.limit is None else self.limit - self.used


def _position(code: BudgetCode, totals: dict) -> BudgetPosition:
    return BudgetPosition(
        limit=code.limit,
        committed=totals.get(E.COMMITMENT, 0) + totals.get(E.RELEASE, 0),
        charged=totals.get(E.CHARGE, 0),
    )


def budget_positions(codes) -> dict:
    """The position of several budget codes in one query: {code pk: BudgetPosition}."""
    codes = list(codes)
    totals = {}
    rows = (
        BudgetLedgerEntry.objects.filter(budget_code__in=codes)
        .values("budget_code", "entry_type")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        totals.setdefault(row["budget_code"], {})[row["entry_type"]] = row["total"] or 0
    return {code.pk: _position(code, totals.get(code.pk, {})) for code in codes}


def with_positions(codes):
    """Budget codes with their ledger totals in the same query (read them with `position_of`)."""
    return codes.annotate(
        ledger_committed=Coalesce(Sum("ledger__amount", filter=Q(ledger__entry_type__in=[E.COMMITMENT, E.RELEASE])), 0),
        ledger_charged=Coalesce(Sum("ledger__amount", filter=Q(ledger__entry_type=E.CHARGE)), 0),
    )


def position_of(code: BudgetCode) -> BudgetPosition:
    """The position of a code read through `with_positions`."""
    return BudgetPosition(limit=code.limit, committed=code.ledger_committed, charged=code.ledger_charged)


def budget_position(code: BudgetCode) -> BudgetPosition:
    return budget_positions([code])[code.pk]


def budget_codes_for(patron, fiscal_year: int | None = None):
    """Codes this patron may charge: registered for this fiscal year, active, usable for ILL, and
    the patron is a member of the code or of the laboratory it belongs to (DESIGN.md §3.6)."""
    fiscal_year = fiscal_year or current_fiscal_year()
    membership = Q(members=patron)
    if patron.laboratory_id:
        membership |= Q(laboratory_id=patron.laboratory_id)
    return (
        BudgetCode.objects.filter(membership, fiscal_year=fiscal_year, active=True, usable_for_ill=True)
        .distinct()
        .order_by("code")
    )


def may_charge(patron, code: BudgetCode) -> bool:
    return budget_codes_for(patron).filter(pk=code.pk).exists()


def open_commitment(request, code: BudgetCode) -> int:
    return (
        BudgetLedgerEntry.objects.filter(
            request=request, budget_code=code, entry_type__in=[E.COMMITMENT, E.RELEASE]
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )


def _lock(code_id: int) -> BudgetCode:
    return BudgetCode.objects.select_for_update().get(pk=code_id)


def commit(request, *, code_id: int, estimate: int, actor, note: str = "") -> int:
    """Hold an order's estimate on a budget code; refuse when it would overspend.

    Locks the budget code row so that concurrent orders against one code are counted one after
    the other. Call inside the order's transaction.
    """
    code = _lock(code_id)
    left = budget_position(code).left
    if left is not None and estimate > left:
        raise ServiceError(
            BUDGET_EXCEEDED,
            code="budget_exceeded",
            field="budget_code",
            params={"code": code.code, "left": format_yen(left), "estimate": format_yen(estimate)},
        )
    BudgetLedgerEntry.objects.create(
        budget_code=code, request=request, entry_type=E.COMMITMENT, amount=estimate, created_by=actor, note=note[:200]
    )
    return estimate


def release(request, *, code_id: int | None, actor, note: str = "") -> int:
    """Give back what an order still holds on its budget code (unfilled, cancelled, charged)."""
    if code_id is None:
        return 0
    code = _lock(code_id)
    held = open_commitment(request, code)
    if held:
        BudgetLedgerEntry.objects.create(
            budget_code=code, request=request, entry_type=E.RELEASE, amount=-held, created_by=actor, note=note[:200]
        )
    return held


def book_charge(request, *, code_id: int, amount: int, actor) -> None:
    """Replace the order's commitment on the budget code by the actual charge (never overspending)."""
    code = _lock(code_id)
    held = open_commitment(request, code)
    left = budget_position(code).left
    if left is not None and amount > left + held:
        raise ServiceError(
            CHARGE_ABOVE_BUDGET,
            code="charge_above_budget",
            field="adjusted_total",
            params={"amount": format_yen(amount), "code": code.code, "left": format_yen(left + held)},
        )
    release(request, code_id=code_id, actor=actor, note="arrival")
    BudgetLedgerEntry.objects.create(
        budget_code_id=code_id, request=request, entry_type=E.CHARGE, amount=amount, created_by=actor
    )
