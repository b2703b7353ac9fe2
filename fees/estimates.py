"""What a request is likely to cost (DESIGN.md §5).

Not knowing the cost in advance is the most common complaint about ILL, so the form shows a range
computed with the calculator over the lenders that could take the request (the workflow chooses
them: `ill.estimates`).
"""

from dataclasses import dataclass

from fees import calculator
from fees.models import Delivery
from fees.schedules import copy_item_for, schedule_for


@dataclass(frozen=True)
class CostRange:
    low: int | None
    high: int | None
    lenders: int

    @property
    def known(self) -> bool:
        return self.low is not None


def distinct_schedules(lenders) -> tuple[list[calculator.FeeSchedule], int]:
    """The lenders' different fee schedules (many lenders charge alike, and the range over the
    schedules is the range over the lenders) and how many of the lenders have one."""
    found, count = {}, 0
    for lender in lenders:
        schedule = schedule_for(lender)
        if schedule is not None:
            count += 1
            found.setdefault(repr(schedule), schedule)
    return list(found.values()), count


def cost_range(request, lenders=None, *, schedules=None, lender_count=None) -> CostRange:
    """The cheapest and dearest total for this request alone at these lenders (or over these
    schedules, from `distinct_schedules`, for `lender_count` lenders)."""
    if schedules is None:
        schedules, lender_count = distinct_schedules(lenders)
    low = high = None
    if schedules:
        try:
            if request.is_loan:
                found = calculator.estimate_loan_range(schedules, express=request.delivery_method == Delivery.EXPRESS)
                if found is not None:
                    low, high = found
            elif request.page_count:
                low, high = calculator.estimate_copy_range(
                    schedules, copy_item_for(request), delivery=request.delivery_method
                )
        except ValueError:
            low = high = None
    return CostRange(low=low, high=high, lenders=lender_count)
