"""What a request is likely to cost and how long it is likely to take (DESIGN.md §5, §7).

Not knowing the cost in advance is the most common complaint about ILL, so the form shows a
range computed with the calculator over the lenders that could take the request, and the
seeds' delivery times.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from fees import calculator
from fees.services import copy_item_for, schedule_for
from ill.models import LendingInstitution, Request

K = LendingInstitution.Kind

COPY_TIMES = {
    Request.Delivery.MAIL: _("3 days to 1 week (sometimes 2 weeks or more)"),
    Request.Delivery.EXPRESS: _("2 to 5 days"),
    Request.Delivery.FAX: _("1 hour to 2 days (by express mail when the lender cannot send electronically)"),
}
OVERSEAS_COPY_TIME = _("5 days to 3 weeks (sometimes more than a month)")
LOAN_TIMES = {
    K.JAPANESE_UNIVERSITY: _("1 week or more"),
    K.NDL: _("1 week or more"),
    K.REGIONAL_NETWORK: _("1 to 2 weeks"),
    K.RESEARCH_INSTITUTION: _("1 to 2 weeks"),
    K.OVERSEAS: _("2 weeks to several months"),
    K.OTHER: _("2 weeks to several months"),
}
LOAN_PERIOD = _("Loan period: usually 1–2 weeks (about 2 weeks from the National Diet Library).")


@dataclass(frozen=True)
class Estimate:
    low: int | None
    high: int | None
    lenders: int
    time: str

    @property
    def known(self) -> bool:
        return self.low is not None


def candidate_lenders(request: Request):
    """Active lenders that could take this request: overseas only if allowed, public expense only
    where accepted."""
    lenders = (
        LendingInstitution.objects.filter(active=True)
        .select_related("fee_schedule")
        .prefetch_related("fee_schedule__paper_prices")
    )
    if request.scope != Request.Scope.OVERSEAS:
        lenders = lenders.exclude(kind=K.OVERSEAS)
    if request.is_public_expense:
        lenders = lenders.filter(accepts_public_expense=True)
    return lenders


def delivery_time(request: Request) -> str:
    if request.is_copy:
        if request.scope == Request.Scope.OVERSEAS:
            return str(
                _("Japan: %(japan)s; overseas: %(overseas)s")
                % {
                    "japan": COPY_TIMES.get(request.delivery_method, COPY_TIMES[Request.Delivery.MAIL]),
                    "overseas": OVERSEAS_COPY_TIME,
                }
            )
        return str(COPY_TIMES.get(request.delivery_method, COPY_TIMES[Request.Delivery.MAIL]))
    return str(
        _("University libraries and the NDL: 1 week or more; regional network: 1–2 weeks; others: 2 weeks to months.")
    )


def estimate(request: Request, lenders=None) -> Estimate:
    """The cheapest and dearest total for this request alone at the candidate lenders."""
    lenders = list(candidate_lenders(request) if lenders is None else lenders)
    schedules = [s for s in (schedule_for(lender) for lender in lenders) if s is not None]
    low = high = None
    if schedules:
        try:
            if request.is_loan:
                found = calculator.estimate_loan_range(
                    schedules, express=request.delivery_method == Request.Delivery.EXPRESS
                )
                if found is not None:
                    low, high = found
            elif request.page_count:
                low, high = calculator.estimate_copy_range(
                    schedules, copy_item_for(request), delivery=request.delivery_method
                )
        except ValueError:
            low = high = None
    return Estimate(low=low, high=high, lenders=len(schedules), time=delivery_time(request))
