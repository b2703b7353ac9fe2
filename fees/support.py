"""The library's student support budget (DESIGN.md §6, seed 000).

Eligible: students who cannot use public expense — undergraduates in years 1–3 outside a lab
automatically when they choose private expense; 4th-year undergraduates, master's and doctoral
students only when they confirm "I cannot use a public expense" (the checkbox, or those words in
the comments, as the seed asks). Only orders from the NDL, Japanese university libraries and
Japanese research-institution libraries qualify. A supported request is charged to the budget,
not the patron. The budget closes itself when spent (see `check_budget`).

What a request takes from the budget is its `SupportUse` row, moved through `fees.states.SUPPORT`:
the per-student cap counts the uses that stand, "spent" sums the charged ones and "reserved" the
estimates held by orders on their way. The workflow calls `link`, `reserve`, `unreserve`,
`book_charge`, `release` and `unlink` as the request moves; nothing here reads a request's status.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.statemachine import NEW
from core.text import format_yen
from fees.models import ExpenseType, SupportBudget, SupportUse, current_fiscal_year
from fees.states import SUPPORT
from patrons.models import Patron

U = SupportUse.State

# The seed asks students to write this in the comments; the checkbox does the same.
_CONFIRMATIONS = (
    "i confirmed that i cannot use a public expense",
    "i cannot use a public expense",
    "cannot use public expense",
    "公費を使用できないことを確認しました",
    "公費を使用できないことを確認",
    "公費を使用できない",
    "公費が使用できない",
    "公費は使用できない",
    "公費を使えない",
    "公費が使えない",
)

NEEDS_CONFIRMATION = (Patron.Category.UNDERGRADUATE_FINAL, Patron.Category.MASTERS, Patron.Category.DOCTORAL)


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "").casefold()).strip()


def confirms_no_public_expense(request) -> bool:
    if request.cannot_use_public_expense:
        return True
    comments = _fold(request.comments)
    return any(phrase in comments for phrase in _CONFIRMATIONS)


def current_budget() -> SupportBudget | None:
    return SupportBudget.objects.filter(fiscal_year=current_fiscal_year()).first()


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    code: str
    message: str = ""


NOT_PRIVATE = _("Student support applies only to private-expense requests.")
NOT_STUDENT = _("Student support is for students only.")
NEEDS_CONFIRM = _(
    "Student support is for students who cannot use a public expense: ask your supervisor, then tick "
    "“I cannot use a public expense” (or write it in the comments). Otherwise you pay yourself."
)
NO_BUDGET = _("There is no student support budget this fiscal year.")
CLOSED = _("The student support budget for this fiscal year has been used up: the request is private expense.")
CAP_REACHED = _("You have used the %(cap)d supported requests allowed per student this fiscal year.")
ELIGIBLE = _("Supported by the library's student support budget: you do not pay for it.")
NOT_ENOUGH_SUPPORT = _(
    "The student support budget has %(left)s left, less than this order's estimate of %(estimate)s: "
    "the request is private expense."
)
LENDER_DOES_NOT_QUALIFY = _(
    "%(lender)s is not a Japanese university, research institution or the NDL: the student support budget does "
    "not cover an order from it, so the request is private expense."
)


def eligibility(request, budget: SupportBudget | None = None) -> Eligibility:
    patron = request.patron
    if request.expense_type != ExpenseType.PRIVATE:
        return Eligibility(False, "not_private", NOT_PRIVATE)
    if not patron.is_student:
        return Eligibility(False, "not_student", NOT_STUDENT)
    automatic = patron.category == Patron.Category.UNDERGRADUATE and patron.laboratory_id is None
    if not automatic and not confirms_no_public_expense(request):
        return Eligibility(False, "needs_confirmation", NEEDS_CONFIRM)
    budget = budget or current_budget()
    if budget is None:
        return Eligibility(False, "no_budget", NO_BUDGET)
    if not budget.is_open:
        return Eligibility(False, "closed", CLOSED)
    if budget.per_student_cap is not None and supported_count(patron, budget) >= budget.per_student_cap:
        return Eligibility(False, "cap_reached", CAP_REACHED % {"cap": budget.per_student_cap})
    return Eligibility(True, "eligible", ELIGIBLE)


def standing_uses(budget: SupportBudget):
    return SupportUse.objects.filter(budget=budget).exclude(state=U.RELEASED)


def supported_count(patron, budget: SupportBudget) -> int:
    """Requests of this patron counted against the per-student cap: those whose use stands."""
    return standing_uses(budget).filter(patron=patron).count()


def spent(budget: SupportBudget) -> int:
    return SupportUse.objects.filter(budget=budget, state=U.CHARGED).aggregate(total=Sum("amount"))["total"] or 0


def reserved(budget: SupportBudget, *, exclude=None) -> int:
    """Estimates held by supported orders that have not arrived yet."""
    held = SupportUse.objects.filter(budget=budget, state=U.RESERVED)
    if exclude is not None:
        held = held.exclude(request=exclude)
    return held.aggregate(total=Sum("amount"))["total"] or 0


@dataclass(frozen=True)
class Position:
    total: int
    spent: int
    reserved: int

    @property
    def left(self) -> int:
        return self.total - self.spent - self.reserved


def position(budget: SupportBudget) -> Position:
    return Position(total=budget.total, spent=spent(budget), reserved=reserved(budget))


# --- moves of a request's use, called by the workflow inside its transaction ------------------


def assign(request) -> Eligibility:
    """At submission, before the request is saved: link an eligible request to this year's budget."""
    budget = current_budget()
    result = eligibility(request, budget)
    request.support_budget = budget if result.eligible else None
    return result


def _use_of(request, *, lock: bool = True) -> SupportUse | None:
    uses = SupportUse.objects.select_for_update() if lock else SupportUse.objects
    return uses.filter(request=request).first()


def _move(use: SupportUse, action: str, *, amount: int = 0, note: str = "") -> None:
    transition = SUPPORT.find(action, use.state)
    if transition is None:
        return  # e.g. releasing a use already released: nothing more to give back
    use.state = transition.target
    use.amount = amount if use.state in (U.RESERVED, U.CHARGED) else 0
    if note:
        use.note = note[:300]
    use.save()


def link(request) -> SupportUse | None:
    """Once the submitted request is saved: record its claim on the budget it was assigned."""
    if request.support_budget_id is None:
        return None
    return SupportUse.objects.create(
        budget_id=request.support_budget_id,
        request=request,
        patron_id=request.patron_id,
        state=SUPPORT.find("link", NEW).target,
    )


def reserve(request, *, lender, estimate: int) -> str:
    """At ordering: hold the estimate on the support budget, under a lock on the budget row.

    When the lender does not qualify, the budget has closed or the estimate does not fit, the link
    is removed (the request is private expense from now on); returns the note that says why, or "".
    """
    if request.support_budget_id is None:
        return ""
    if not lender.qualifies_for_support:
        return unlink(request, note=str(LENDER_DOES_NOT_QUALIFY % {"lender": lender.display_name}))
    budget = SupportBudget.objects.select_for_update().get(pk=request.support_budget_id)
    left = budget.total - spent(budget) - reserved(budget, exclude=request)
    if not budget.is_open or estimate > left:
        note = str(NOT_ENOUGH_SUPPORT % {"left": format_yen(max(left, 0)), "estimate": format_yen(estimate)})
        return unlink(request, note=note)
    use = _use_of(request)
    if use is None:  # a request linked before uses were recorded
        use = SupportUse.objects.create(budget=budget, request=request, patron_id=request.patron_id)
    _move(use, "reserve", amount=estimate)
    return ""


def unreserve(request) -> None:
    """The lender could not supply it: the estimate is no longer held; the claim stands."""
    use = _use_of(request)
    if use is not None:
        _move(use, "unreserve")


def book_charge(request, *, amount: int) -> None:
    """At arrival: what the support budget pays for this request."""
    use = _use_of(request)
    if use is None:
        use = SupportUse.objects.create(
            budget_id=request.support_budget_id, request=request, patron_id=request.patron_id
        )
    _move(use, "charge", amount=amount)


def release(request, *, note: str = "") -> None:
    """The request failed (rejected, cancelled, closed unfilled or no longer needed): it no longer
    counts against the cap and holds nothing."""
    use = _use_of(request)
    if use is not None:
        _move(use, "release", note=note)


def unlink(request, *, note: str) -> str:
    """Take the request off the support budget: the patron pays. Returns `note`."""
    release(request, note=note)
    request.support_budget = None
    type(request).objects.filter(pk=request.pk).update(support_budget=None)
    return note


ALERT_AT_PERCENT = 80


@transaction.atomic
def check_budget(budget: SupportBudget) -> str | None:
    """Close the budget when spent and say which alert is due ("80" or "closed"), once each.

    Locks the budget row so that two monitors running at once cannot both alert.
    """
    budget = SupportBudget.objects.select_for_update().get(pk=budget.pk)
    used = spent(budget)
    now = timezone.now()
    if budget.is_open and used >= budget.total:
        budget.is_open = False
        budget.closed_at = now
        budget.alert_80_sent_at = budget.alert_80_sent_at or now  # past 80 % too: one alert, the closing one
    if not budget.is_open and budget.closing_alert_sent_at is None and budget.closed_at is not None:
        budget.closing_alert_sent_at = now
        budget.save()
        return "closed"
    if budget.alert_80_sent_at is None and used * 100 >= budget.total * ALERT_AT_PERCENT:
        budget.alert_80_sent_at = now
        budget.save()
        return "80"
    budget.save()
    return None
