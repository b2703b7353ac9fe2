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


def cost_range(request, lenders) -> CostRange:
    """The cheapest and dearest total for this request alone at these lenders."""
    schedules = [s for s in (schedule_for(lender) for lender in lenders) if s is not None]
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
    return CostRange(low=low, high=high, lenders=len(schedules))
