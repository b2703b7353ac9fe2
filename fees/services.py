"""Money services: estimates, budget commitments, charges at arrival, payments (DESIGN.md §5, §6).

The arithmetic is `fees.calculator` (pure, integer yen); these functions feed it from the models,
store what it returns and keep the budget ledger. Budget rows are locked (`SELECT … FOR UPDATE`)
whenever money is committed against them, so two concurrent orders cannot overspend a code.
"""

import datetime
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fees import calculator
from fees.models import BudgetCode, BudgetLedgerEntry, Charge, FeeSchedule, Payment
from ill.errors import ServiceError
from ill.models import LendingInstitution, Request
from ill.utils import format_yen

log = logging.getLogger(__name__)

BUDGET_EXCEEDED = _(
    "Budget code %(code)s has %(left)s left, but this order is estimated at %(estimate)s. "
    "Ask the budget holder to raise the limit or choose another code."
)
NOT_PAID = _("The charge of %(amount)s for request %(number)s has not been paid yet: record the payment first.")
NOT_ACCEPTED = _(
    "The charge of %(amount)s is above the patron's maximum of %(max)s and the patron has not accepted it yet."
)
CAMPUS_MAIL_NOT_POSSIBLE = _("Only public-expense copies from fee-offset lenders go to the laboratory by campus mail.")
CAMPUS_MAIL_NO_LAB = _("The patron belongs to no laboratory to send the copy to.")


# --- schedules and estimates ----------------------------------------------------------------


def schedule_for(lender: LendingInstitution) -> calculator.FeeSchedule | None:
    """The calculator's view of a lender's fee schedule, or None when the lender has none."""
    try:
        schedule = lender.fee_schedule
    except FeeSchedule.DoesNotExist:
        return None
    return calculator.FeeSchedule(
        mono_price=schedule.mono_price,
        colour_price=schedule.colour_price,
        paper_prices={
            p.paper_size: calculator.PagePrice(mono=p.mono_price, colour=p.colour_price)
            for p in schedule.paper_prices.all()
        },
        handling_fee_per_item=schedule.handling_fee_per_item,
        postage_per_shipment=schedule.postage_per_shipment,
        express_surcharge=schedule.express_surcharge,
        fax_fee_mode=schedule.fax_fee_mode,
        fax_fee_per_page=schedule.fax_fee_per_page,
        fax_fee_fixed=schedule.fax_fee_fixed,
        bank_transfer_fee=schedule.bank_transfer_fee,
        tax_rate_percent=schedule.tax_rate_percent,
        tax_included=schedule.tax_included,
        overseas=lender.kind == LendingInstitution.Kind.OVERSEAS,
        overseas_flat_fee_per_item=schedule.overseas_flat_fee_per_item,
        overseas_fax_surcharge=schedule.overseas_fax_surcharge,
        loan_fee_mode=schedule.loan_fee_mode,
        loan_fee=schedule.loan_fee,
        loan_express_surcharge=schedule.loan_express_surcharge,
    )


def copy_item_for(request: Request, *, pages: int | None = None, colour_pages: int | None = None):
    pages = request.page_count or 0 if pages is None else pages
    colour = request.colour_pages if colour_pages is None else colour_pages
    colour = min(colour, pages)
    return calculator.CopyItem(
        key=request.pk, mono_pages=pages - colour, colour_pages=colour, paper_size=request.paper_size
    )


def estimate_for(request: Request, lender: LendingInstitution) -> int:
    """What this request alone is expected to cost at this lender (0 when it cannot be priced)."""
    return estimate_or_none(request, lender) or 0


# --- budget codes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetPosition:
    limit: int | None
    committed: int
    charged: int

    @property
    def left(self) -> int | None:
        return None if self.limit is None else self.limit - self.committed - self.charged


def budget_position(code: BudgetCode) -> BudgetPosition:
    totals = {
        row["entry_type"]: row["total"] or 0
        for row in BudgetLedgerEntry.objects.filter(budget_code=code).values("entry_type").annotate(total=Sum("amount"))
    }
    committed = totals.get(BudgetLedgerEntry.EntryType.COMMITMENT, 0) + totals.get(
        BudgetLedgerEntry.EntryType.RELEASE, 0
    )
    return BudgetPosition(
        limit=code.limit, committed=committed, charged=totals.get(BudgetLedgerEntry.EntryType.CHARGE, 0)
    )


def open_commitment(request: Request, code: BudgetCode) -> int:
    return (
        BudgetLedgerEntry.objects.filter(
            request=request,
            budget_code=code,
            entry_type__in=[BudgetLedgerEntry.EntryType.COMMITMENT, BudgetLedgerEntry.EntryType.RELEASE],
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )


NEEDS_ESTIMATE = _(
    "%(lender)s has no fee schedule for this request: enter the estimated charge, so that it can be held on "
    "budget code %(code)s."
)


def estimate_or_none(request: Request, lender: LendingInstitution) -> int | None:
    """The calculator's estimate for this request at this lender; None when it cannot be priced."""
    schedule = schedule_for(lender)
    if schedule is None:
        return None
    shipping = request.shipping_method or request.delivery_method
    try:
        if request.is_loan:
            breakdown = calculator.price_loans(schedule, [request.pk], express=shipping == Request.Delivery.EXPRESS)
        else:
            breakdown = calculator.price_copies(schedule, [copy_item_for(request)], delivery=shipping)
    except ValueError:
        return None
    return breakdown.total


def commit_budget(request: Request, *, actor, estimate: int | None = None) -> int:
    """Hold the estimate of an order on the request's budget code; refuse when it would overspend.

    Locks the budget code row so that concurrent orders against one code are counted one after
    the other. Returns the amount committed (0 for private expense).
    """
    if not request.is_public_expense or request.budget_code_id is None or request.lender is None:
        return 0
    code = BudgetCode.objects.select_for_update().get(pk=request.budget_code_id)
    if estimate is None:
        estimate = estimate_for(request, request.lender)
    position = budget_position(code)
    if position.left is not None and estimate > position.left:
        raise ServiceError(
            BUDGET_EXCEEDED,
            code="budget_exceeded",
            field="budget_code",
            params={"code": code.code, "left": format_yen(position.left), "estimate": format_yen(estimate)},
        )
    BudgetLedgerEntry.objects.create(
        budget_code=code,
        request=request,
        entry_type=BudgetLedgerEntry.EntryType.COMMITMENT,
        amount=estimate,
        created_by=actor,
        note=str(request.lender)[:200],
    )
    return estimate


def release_budget(request: Request, *, actor, note: str = "") -> int:
    """Give back what an order still holds on its budget code (unfilled, cancelled, charged)."""
    if request.budget_code_id is None:
        return 0
    code = BudgetCode.objects.select_for_update().get(pk=request.budget_code_id)
    held = open_commitment(request, code)
    if held:
        BudgetLedgerEntry.objects.create(
            budget_code=code,
            request=request,
            entry_type=BudgetLedgerEntry.EntryType.RELEASE,
            amount=-held,
            created_by=actor,
            note=note[:200],
        )
    return held


# --- hand-over ------------------------------------------------------------------------------


def charge_of(request: Request) -> Charge | None:
    return Charge.objects.filter(request=request).first()


def campus_mail_allowed(request: Request) -> bool:
    """Seed 004: public-expense copies from fee-offset lenders go to the lab by campus mail."""
    lender = request.lender
    return bool(request.is_copy and request.is_public_expense and lender and lender.is_offset_participant)


def check_ready_for_hand_over(request: Request, *, campus_mail: bool = False) -> None:
    """Refuse a hand-over that the money rules do not allow yet (DESIGN.md §4, §5)."""
    charge = charge_of(request)
    if charge is not None:
        amounts = {"amount": format_yen(charge.total), "number": request.number, "max": format_yen(request.max_cost)}
        if charge.state == Charge.State.AWAITING_ACCEPTANCE:
            raise ServiceError(NOT_ACCEPTED, code="charge_not_accepted", params=amounts)
        if charge.state == Charge.State.DUE and charge.cash_due > 0:
            raise ServiceError(
                NOT_PAID, code="charge_not_paid", params={**amounts, "amount": format_yen(charge.cash_due)}
            )
    if campus_mail:
        if not campus_mail_allowed(request):
            raise ServiceError(CAMPUS_MAIL_NOT_POSSIBLE, code="campus_mail_not_possible")
        if request.patron.laboratory_id is None:
            raise ServiceError(CAMPUS_MAIL_NO_LAB, code="campus_mail_no_lab")


WRONG_AMOUNT = _("The charge is %(due)s; cash must be the exact amount (no change is given), not %(amount)s.")
ALREADY_PAID = _("This charge has already been paid.")
NOTHING_DUE = _("Nothing is to be paid in cash for this request.")
NEED_RECEIPT = _("Enter the receipt number.")
RECEIPT_USED = _("Receipt number %(receipt)s has already been used for another payment.")


@transaction.atomic
def record_payment(charge: Charge, *, amount: int, receipt_number: str, actor) -> Payment:
    """Cash received at the counter: the exact amount, with a receipt number (seed 004)."""
    charge = Charge.objects.select_for_update().get(pk=charge.pk)
    if charge.state == Charge.State.PAID:
        raise ServiceError(ALREADY_PAID, code="already_paid")
    if charge.state != Charge.State.DUE:
        raise ServiceError(NOTHING_DUE, code="nothing_due")
    if amount != charge.cash_due:
        raise ServiceError(
            WRONG_AMOUNT,
            code="wrong_amount",
            field="amount",
            params={"due": format_yen(charge.cash_due), "amount": format_yen(amount)},
        )
    if not receipt_number.strip():
        raise ServiceError(NEED_RECEIPT, code="receipt_required", field="receipt_number")
    if Payment.objects.filter(receipt_number=receipt_number.strip()).exists():
        raise ServiceError(
            RECEIPT_USED, code="receipt_used", field="receipt_number", params={"receipt": receipt_number.strip()}
        )
    payment = Payment.objects.create(
        request=charge.request,
        charge=charge,
        method=Payment.Method.CASH,
        amount=amount,
        receipt_number=receipt_number.strip(),
        received_by=actor,
    )
    charge.state = Charge.State.PAID
    charge.save(update_fields=["state"])
    from ill.services import add_note

    add_note(
        charge.request,
        actor=actor,
        action="payment",
        visible_to_patron=True,
        note=str(
            _("Paid %(amount)s in cash, receipt %(receipt)s.")
            % {"amount": format_yen(amount), "receipt": payment.receipt_number}
        ),
        data={"amount": amount, "receipt": payment.receipt_number},
    )
    return payment


# --- arrival: shipments and charges ---------------------------------------------------------


@dataclass(frozen=True)
class ArrivedItem:
    """One request in a shipment, with what actually came (copies: pages received)."""

    request: Request
    pages: int | None = None
    colour_pages: int | None = None
    lender_due_date: datetime.date | None = None
    use_restriction: str = Request.UseRestriction.NONE
    restriction_note: str = ""
    adjusted_total: int | None = None
    adjustment_reason: str = ""


SHIPMENT_EMPTY = _("Choose at least one request that arrived.")
SHIPMENT_OTHER_LENDER = _("Request %(number)s was not ordered from %(lender)s.")
SHIPMENT_MIXED = _("Loans and copies cannot be recorded as one shipment.")
SHIPMENT_DUPLICATE = _("A request is listed twice in this shipment.")
ADJUSTMENT_NEEDS_REASON = _("Give a reason when the charge differs from the computed amount.")
NO_SCHEDULE_NEEDS_TOTAL = _("%(lender)s has no fee schedule: enter the charge for request %(number)s.")


def payment_class_for(request: Request) -> str:
    from fees.support import lender_qualifies

    if request.support_budget_id is not None and request.lender and lender_qualifies(request.lender):
        return Charge.PaymentClass.SUPPORT
    return {
        Request.ExpenseType.PUBLIC: Charge.PaymentClass.PUBLIC,
        Request.ExpenseType.GRANT: Charge.PaymentClass.GRANT,
    }.get(request.expense_type, Charge.PaymentClass.PRIVATE)


def _charge_state(request: Request, charge: Charge) -> str:
    if request.max_cost is not None and charge.total > request.max_cost:
        return Charge.State.AWAITING_ACCEPTANCE
    return _state_after_acceptance(charge)


def _state_after_acceptance(charge: Charge) -> str:
    return Charge.State.DUE if charge.cash_due > 0 else Charge.State.SETTLED


def return_postage_for(request: Request, lender: LendingInstitution, total: int) -> int:
    """The part of a loan's charge that pays for sending it back: half of a round trip, all of a
    return-only fee (seed 000: the NDL charges the return only). At most the total."""
    if not request.is_loan:
        return 0
    try:
        schedule = lender.fee_schedule
    except FeeSchedule.DoesNotExist:
        return 0
    if schedule.loan_fee_mode == FeeSchedule.LoanFeeMode.ROUND_TRIP:
        part = schedule.loan_fee // 2
    elif schedule.loan_fee_mode == FeeSchedule.LoanFeeMode.RETURN_ONLY:
        part = schedule.loan_fee
    else:
        part = 0
    return min(part, total)


def price_shipment(lender: LendingInstitution, items: list[ArrivedItem], delivery: str) -> calculator.Breakdown | None:
    schedule = schedule_for(lender)
    if schedule is None:
        return None
    requests = [item.request for item in items]
    if requests[0].is_loan:
        return calculator.price_loans(schedule, [r.pk for r in requests], express=delivery == Request.Delivery.EXPRESS)
    copy_items = [copy_item_for(i.request, pages=i.pages, colour_pages=i.colour_pages) for i in items]
    return calculator.price_copies(schedule, copy_items, delivery=delivery)


@transaction.atomic
def record_shipment(
    *,
    lender: LendingInstitution,
    items: list[ArrivedItem],
    delivery: str = Request.Delivery.MAIL,
    actor,
    lender_invoice: str = "",
    notify: bool = True,
):
    """Record that `lender` sent these requests together: price the shipment with the lender's
    schedule, store each request's share as its charge (with payment class and budget ledger),
    then record each arrival (which e-mails the patron)."""
    from fees.models import ChargeLine, Shipment
    from ill import services as ill_services

    if not items:
        raise ServiceError(SHIPMENT_EMPTY, code="shipment_empty")
    if len({item.request.pk for item in items}) != len(items):
        raise ServiceError(SHIPMENT_DUPLICATE, code="shipment_duplicate")
    locked = {r.pk: r for r in Request.objects.select_for_update().filter(pk__in=[i.request.pk for i in items])}
    items = [ArrivedItem(**{**item.__dict__, "request": locked[item.request.pk]}) for item in items]
    for item in items:
        if item.request.lender_id != lender.pk:
            raise ServiceError(
                SHIPMENT_OTHER_LENDER,
                code="shipment_other_lender",
                params={"number": item.request.number, "lender": lender.display_name},
            )
    for item in items:
        ill_services.ensure_can(item.request, "record_arrival")
    if len({item.request.kind for item in items}) > 1:
        raise ServiceError(SHIPMENT_MIXED, code="shipment_mixed")
    try:
        breakdown = price_shipment(lender, items, delivery)
    except calculator.FaxNotAvailable:
        breakdown = price_shipment(lender, items, Request.Delivery.EXPRESS)
    except calculator.NeedsQuote:
        breakdown = None
    if breakdown is None:
        for item in items:
            if item.adjusted_total is None:
                raise ServiceError(
                    NO_SCHEDULE_NEEDS_TOTAL,
                    code="charge_required",
                    field="adjusted_total",
                    params={"lender": lender.display_name, "number": item.request.number},
                )

    shipment_total = 0
    charges = []
    for item in items:
        request = item.request
        share = breakdown.share_for(request.pk) if breakdown else None
        computed = share.total if share else 0
        total = computed if item.adjusted_total is None else item.adjusted_total
        reason = item.adjustment_reason.strip()
        if total != computed and not reason:
            if share is None:
                reason = str(_("Amount entered by staff (no fee schedule)."))
            else:
                raise ServiceError(ADJUSTMENT_NEEDS_REASON, code="adjustment_reason", field="adjustment_reason")
        payment_class = payment_class_for(request)
        charge = Charge(
            request=request,
            payment_class=payment_class,
            budget_code=request.budget_code
            if payment_class in (Charge.PaymentClass.PUBLIC, Charge.PaymentClass.GRANT)
            else None,
            copy_fee=share.copy_fee if share else 0,
            postage=share.postage if share else 0,
            other_fees=share.other_fees if share else 0,
            tax=share.tax if share else 0,
            computed_total=computed,
            total=total,
            adjustment_reason=reason,
            adjustment=total - computed,
            return_postage=return_postage_for(request, lender, total),
            created_by=actor,
        )
        charge.state = _charge_state(request, charge)
        charges.append((item, charge, share))
        shipment_total += total

    shipment = Shipment.objects.create(
        lender=lender, delivery_method=delivery, lender_invoice=lender_invoice, total=shipment_total, recorded_by=actor
    )
    for item, charge, share in charges:
        charge.shipment = shipment
        charge.save()
        if share is not None:
            ChargeLine.objects.bulk_create(
                [
                    ChargeLine(
                        charge=charge,
                        position=n,
                        code=line.code,
                        section=line.section,
                        unit_price=line.unit_price,
                        quantity=line.quantity,
                        amount=line.amount,
                    )
                    for n, line in enumerate(share.lines, start=1)
                ]
            )
        _book_charge(charge, actor=actor)
        ill_services.record_arrival(
            item.request,
            actor=actor,
            lender_due_date=item.lender_due_date,
            use_restriction=item.use_restriction,
            restriction_note=item.restriction_note,
            notify=notify,
            note=str(_("Charge %(amount)s.") % {"amount": format_yen(charge.total)}),
        )
    transaction.on_commit(_queue_budget_monitor)
    return shipment


def _queue_budget_monitor():
    from fees.tasks import monitor_budgets_task

    try:
        monitor_budgets_task.delay()
    except Exception:  # the broker is down: beat runs the monitor again soon
        log.warning("could not queue the budget monitor", exc_info=True)


CHARGE_ABOVE_BUDGET = _(
    "The charge of %(amount)s is more than budget code %(code)s has left (%(left)s, counting what this order held). "
    "Ask the budget holder to raise the limit, or record the charge as private expense."
)


def _book_charge(charge: Charge, *, actor) -> None:
    """Replace the order's commitment on the budget code by the actual charge (never overspending)."""
    if charge.budget_code_id is None:
        return
    code = BudgetCode.objects.select_for_update().get(pk=charge.budget_code_id)
    held = open_commitment(charge.request, code)
    left = budget_position(code).left
    if left is not None and charge.total > left + held:
        raise ServiceError(
            CHARGE_ABOVE_BUDGET,
            code="charge_above_budget",
            field="adjusted_total",
            params={"amount": format_yen(charge.total), "code": code.code, "left": format_yen(left + held)},
        )
    release_budget(charge.request, actor=actor, note="arrival")
    BudgetLedgerEntry.objects.create(
        budget_code_id=charge.budget_code_id,
        request=charge.request,
        entry_type=BudgetLedgerEntry.EntryType.CHARGE,
        amount=charge.total,
        created_by=actor,
    )


NOTHING_TO_ACCEPT = _("There is no charge waiting for your acceptance.")


@transaction.atomic
def accept_charge(request: Request, *, actor) -> Charge:
    """The patron accepts a charge above the maximum they set (DESIGN.md §2)."""
    from ill.services import add_note

    charge = Charge.objects.select_for_update().filter(request=request).first()
    if charge is None or charge.state != Charge.State.AWAITING_ACCEPTANCE:
        raise ServiceError(NOTHING_TO_ACCEPT, code="nothing_to_accept")
    charge.state = _state_after_acceptance(charge)
    charge.accepted_at = timezone.now()
    charge.save(update_fields=["state", "accepted_at"])
    event = add_note(
        request,
        actor=actor,
        action="charge_accepted",
        visible_to_patron=True,
        note=str(_("Charge of %(amount)s accepted.") % {"amount": format_yen(charge.total)}),
        data={"amount": charge.total},
    )
    if request.status == Request.Status.ARRIVED:  # now tell the patron where, when and how much
        from ill.services import send_arrival_notice

        send_arrival_notice(request, event)
    return charge


@transaction.atomic
def take_back(request: Request, *, actor, stamps: int = 0, postal_barcode: bool = False, note: str = "") -> Request:
    """The patron returns the book at the counter, with what pays for sending it back."""
    from ill import services as ill_services

    if stamps:
        record_return_postage(request, method=Payment.Method.STAMPS, amount=stamps, actor=actor)
    if postal_barcode:
        record_return_postage(request, method=Payment.Method.POSTAL_BARCODE, actor=actor)
    return ill_services.return_by_patron(request, actor=actor, note=note)


RETURN_POSTAGE_NOT_A_LOAN = _("Return postage is only for loans.")
WRONG_STAMPS = _("The return postage is %(due)s in stamps, not %(amount)s.")


@transaction.atomic
def record_return_postage(request: Request, *, method: str, amount: int = 0, actor) -> Payment:
    """The patron brought what pays for sending the book back: stamps (private expense) or the
    postal bar code (public expense)."""
    from ill.services import add_note

    if not request.is_loan:
        raise ServiceError(RETURN_POSTAGE_NOT_A_LOAN, code="not_a_loan")
    charge = Charge.objects.select_for_update().filter(request=request).first()
    if (
        method == Payment.Method.STAMPS
        and charge is not None
        and charge.return_postage
        and amount != charge.return_postage
    ):
        raise ServiceError(
            WRONG_STAMPS,
            code="wrong_stamps",
            field="stamps_amount",
            params={"due": format_yen(charge.return_postage), "amount": format_yen(amount)},
        )
    payment = Payment.objects.create(
        request=request,
        charge=charge,
        method=method,
        amount=amount if method == Payment.Method.STAMPS else 0,
        received_by=actor,
    )
    add_note(
        request,
        actor=actor,
        action="return_postage",
        visible_to_patron=True,
        note="",
        data={"method": method, "amount": payment.amount},
    )
    return payment


def preview_shipment(lender: LendingInstitution, items: list[ArrivedItem], delivery: str):
    """The breakdown a shipment would get, without saving anything (None when it cannot be priced)."""
    if not items:
        return None
    if len({item.request.pk for item in items}) != len(items):
        raise ServiceError(SHIPMENT_DUPLICATE, code="shipment_duplicate")
    try:
        return price_shipment(lender, items, delivery)
    except calculator.FaxNotAvailable:
        return price_shipment(lender, items, Request.Delivery.EXPRESS)
    except calculator.NeedsQuote:
        return None
