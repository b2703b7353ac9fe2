"""The library's student support budget (DESIGN.md §6, seed 000).

Eligible: students who cannot use public expense — undergraduates in years 1–3 outside a lab
automatically when they choose private expense; 4th-year undergraduates, master's and doctoral
students only when they confirm "I cannot use a public expense" (the checkbox, or those words in
the comments, as the seed asks). Only orders from the NDL, Japanese university libraries and
Japanese research-institution libraries qualify. A supported request is charged to the budget,
not the patron. The budget closes itself when spent (see `check_budget`).
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fees.models import Charge, SupportBudget, current_fiscal_year
from ill.models import LendingInstitution, Request
from patrons.models import Patron

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


def confirms_no_public_expense(request: Request) -> bool:
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


def eligibility(request: Request, budget: SupportBudget | None = None) -> Eligibility:
    patron = request.patron
    if request.expense_type != Request.ExpenseType.PRIVATE:
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


def supported_count(patron: Patron, budget: SupportBudget) -> int:
    """Requests of this patron counted against the per-student cap (those that did not fail)."""
    return (
        Request.objects.filter(patron=patron, support_budget=budget)
        .exclude(
            Q(status__in=[Request.Status.REJECTED, Request.Status.CANCELLED])
            | Q(close_reason=Request.CloseReason.UNFILLED)
        )
        .count()
    )


def assign(request: Request) -> Eligibility:
    """At submission: charge an eligible request to this year's support budget."""
    budget = current_budget()
    result = eligibility(request, budget)
    request.support_budget = budget if result.eligible else None
    return result


def lender_qualifies(lender: LendingInstitution) -> bool:
    return lender.kind in LendingInstitution.SUPPORT_ELIGIBLE_KINDS


def spent(budget: SupportBudget) -> int:
    return (
        Charge.objects.filter(request__support_budget=budget, payment_class=Charge.PaymentClass.SUPPORT).aggregate(
            total=Sum("total")
        )["total"]
        or 0
    )


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


NOT_ENOUGH_SUPPORT = _(
    "The student support budget has %(left)s left, less than this order's estimate of %(estimate)s: "
    "the request is private expense."
)


def reserved(budget: SupportBudget, *, exclude: Request | None = None) -> int:
    """Estimates held by supported orders that have not arrived yet."""
    held = Request.objects.filter(
        support_budget=budget,
        status=Request.Status.ORDERED,
        estimate__isnull=False,
        charge__isnull=True,
        lender__kind__in=LendingInstitution.SUPPORT_ELIGIBLE_KINDS,
    )
    if exclude is not None:
        held = held.exclude(pk=exclude.pk)
    return held.aggregate(total=Sum("estimate"))["total"] or 0


def reserve(request: Request, estimate: int) -> str:
    """At ordering from a qualifying lender: hold the estimate on the support budget, under a lock
    on the budget row. When it does not fit (or the budget closed), the request becomes private
    expense; returns the note that says so, or ""."""
    from ill.utils import format_yen

    budget = SupportBudget.objects.select_for_update().get(pk=request.support_budget_id)
    left = budget.total - spent(budget) - reserved(budget, exclude=request)
    if budget.is_open and estimate <= left:
        return ""
    request.support_budget = None
    return str(NOT_ENOUGH_SUPPORT % {"left": format_yen(max(left, 0)), "estimate": format_yen(estimate)})
