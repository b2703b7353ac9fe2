"""A lender's fee schedule as the calculator sees it, and what one request or shipment costs there.

The functions take the request and lender rows that the workflow passes down and read their fields
(kind of request, pages, delivery); they never move a request. Money is whole yen (DESIGN.md §5).
"""

from fees import calculator
from fees.models import Delivery, FeeSchedule

# The fields of a schedule that the calculator reads, under the calculator's names: one list, so the
# admin's preview, the seed examples and the estimates cannot drift apart.
SCHEDULE_FIELDS = (
    "mono_price",
    "colour_price",
    "handling_fee_per_item",
    "postage_per_shipment",
    "express_surcharge",
    "fax_fee_mode",
    "fax_fee_per_page",
    "fax_fee_fixed",
    "bank_transfer_fee",
    "tax_rate_percent",
    "tax_included",
    "overseas_flat_fee_per_item",
    "overseas_fax_surcharge",
    "loan_fee_mode",
    "loan_fee",
    "loan_express_surcharge",
)


def calculator_schedule(schedule: FeeSchedule, *, overseas: bool, paper_prices=None) -> calculator.FeeSchedule:
    """The calculator's view of a stored (or unsaved) schedule."""
    rows = schedule.paper_prices.all() if paper_prices is None else paper_prices
    return calculator.FeeSchedule(
        paper_prices={p.paper_size: calculator.PagePrice(mono=p.mono_price, colour=p.colour_price) for p in rows},
        overseas=overseas,
        **{name: getattr(schedule, name) for name in SCHEDULE_FIELDS},
    )


def schedule_of(lender) -> FeeSchedule | None:
    try:
        return lender.fee_schedule
    except FeeSchedule.DoesNotExist:
        return None


def schedule_for(lender) -> calculator.FeeSchedule | None:
    """The calculator's view of a lender's fee schedule, or None when the lender has none."""
    schedule = schedule_of(lender)
    if schedule is None:
        return None
    return calculator_schedule(schedule, overseas=not lender.is_domestic)


def copy_item_for(request, *, pages: int | None = None, colour_pages: int | None = None) -> calculator.CopyItem:
    pages = request.page_count or 0 if pages is None else pages
    colour = request.colour_pages if colour_pages is None else colour_pages
    colour = min(colour, pages)
    return calculator.CopyItem(
        key=request.pk, mono_pages=pages - colour, colour_pages=colour, paper_size=request.paper_size
    )


def estimate_or_none(request, lender) -> int | None:
    """The calculator's estimate for this request alone at this lender; None when it cannot be priced."""
    schedule = schedule_for(lender)
    if schedule is None:
        return None
    shipping = request.shipping_method or request.delivery_method
    try:
        if request.is_loan:
            breakdown = calculator.price_loans(schedule, [request.pk], express=shipping == Delivery.EXPRESS)
        else:
            breakdown = calculator.price_copies(schedule, [copy_item_for(request)], delivery=shipping)
    except ValueError:
        return None
    return breakdown.total


def return_postage_for(request, lender, total: int) -> int:
    """The part of a loan's charge that pays for sending it back: half of a round trip, all of a
    return-only fee (seed 000: the NDL charges the return only). At most the total."""
    if not request.is_loan:
        return 0
    schedule = schedule_of(lender)
    if schedule is None:
        return 0
    if schedule.loan_fee_mode == FeeSchedule.LoanFeeMode.ROUND_TRIP:
        part = schedule.loan_fee // 2
    elif schedule.loan_fee_mode == FeeSchedule.LoanFeeMode.RETURN_ONLY:
        part = schedule.loan_fee
    else:
        part = 0
    return min(part, total)


def price_items(lender, requests, pages: dict, delivery: str) -> calculator.Breakdown | None:
    """The breakdown of a shipment of `requests` (all loans or all copies); `pages` maps a request's
    pk to the (pages, colour pages) that came. FAX falls back to express when the lender cannot;
    None when the lender has no schedule or quotes case by case."""
    schedule = schedule_for(lender)
    if schedule is None:
        return None

    def price(how):
        if requests[0].is_loan:
            return calculator.price_loans(schedule, [r.pk for r in requests], express=how == Delivery.EXPRESS)
        items = [
            copy_item_for(r, pages=pages.get(r.pk, (None, None))[0], colour_pages=pages.get(r.pk, (None, None))[1])
            for r in requests
        ]
        return calculator.price_copies(schedule, items, delivery=how)

    try:
        return price(delivery)
    except calculator.FaxNotAvailable:
        return price(Delivery.EXPRESS)
    except calculator.NeedsQuote:
        return None
