"""Money through a request's life (DESIGN.md §5, §6): the budget ledger, charges at arrival,
payments at the counter, hand-over rules, the student support budget and its monitors."""

import pytest

from core.errors import ServiceError
from fees import alerts, budgets, charges, support
from fees.models import BudgetLedgerEntry, Charge, Payment
from ill import services as ill_services
from ill.models import Request
from notifications.models import OutboxMessage
from patrons.models import Patron
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def ledger(request):
    return list(BudgetLedgerEntry.objects.filter(request=request).values_list("entry_type", "amount"))


def public_copy(patron, code, pages=10, **fields):
    return f.CopyRequestFactory(patron=patron, expense_type="public", budget_code=code, page_count=pages, **fields)


# --- the budget ledger ---------------------------------------------------------------------


def test_the_ledger_through_a_request_life(staff_user, doctoral, public_code, lender, second_lender):
    request = public_copy(doctoral, public_code, pages=10)  # 10 × 35 + 140 = 490 at `lender`
    ill_services.order(request, actor=staff_user, lenders=[lender, second_lender])
    assert ledger(request) == [("commitment", 490)]
    assert budgets.budget_position(public_code).left == 50000 - 490

    ill_services.mark_unfilled(request, actor=staff_user)  # released, then committed at the next lender
    assert ledger(request) == [("commitment", 490), ("release", -490), ("commitment", 490)]

    ill_services.record_shipment(
        lender=second_lender, items=[ill_services.ArrivedItem(request=request, pages=8)], actor=staff_user
    )
    charge = Charge.objects.get(request=request)
    assert (charge.total, charge.payment_class, charge.budget_code, charge.state) == (
        420,
        "public",
        public_code,
        "settled",
    )
    assert ledger(request)[-2:] == [("release", -490), ("charge", 420)]
    position = budgets.budget_position(public_code)
    assert (position.committed, position.charged, position.left) == (0, 420, 50000 - 420)


def test_ordering_is_refused_with_the_amount_left_when_it_would_overspend(staff_user, doctoral, public_code, lender):
    public_code.limit = 400
    public_code.save()
    request = public_copy(doctoral, public_code, pages=10)  # estimated 490
    with pytest.raises(ServiceError) as refused:
        ill_services.order(request, actor=staff_user, lenders=[lender])
    assert refused.value.code == "budget_exceeded"
    assert "¥400" in str(refused.value) and "¥490" in str(refused.value)
    request.refresh_from_db()
    assert request.status == "submitted" and ledger(request) == []


def test_private_expense_touches_no_budget(staff_user, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate)
    ill_services.order(request, actor=staff_user, lenders=[lender])
    assert ledger(request) == []


def test_a_grant_marked_not_usable_for_ill_cannot_be_chosen(doctoral, faculty):
    grant = f.BudgetCodeFactory(kind="grant", responsible=faculty, members=[doctoral], usable_for_ill=False)
    from fees.budgets import budget_codes_for

    assert grant not in budget_codes_for(doctoral)


# --- charges at arrival --------------------------------------------------------------------


def test_staff_may_adjust_a_charge_with_a_recorded_reason(staff_user, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=10)
    with pytest.raises(ServiceError) as refused:
        ill_services.record_shipment(
            lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request, adjusted_total=300)]
        )
    assert refused.value.code == "adjustment_reason"
    assert not Charge.objects.exists()
    ill_services.record_shipment(
        lender=lender,
        actor=staff_user,
        items=[
            ill_services.ArrivedItem(request=request, adjusted_total=300, adjustment_reason="lender's invoice says 300")
        ],
    )
    charge = Charge.objects.get()
    assert (charge.computed_total, charge.total, charge.adjustment_reason) == (490, 300, "lender's invoice says 300")


def test_a_charge_above_the_patrons_maximum_waits_for_acceptance(staff_user, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=10, max_cost=400)
    ill_services.record_shipment(lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    charge = Charge.objects.get()
    assert charge.state == "awaiting"
    with pytest.raises(ServiceError) as refused:
        ill_services.hand_over(request, actor=staff_user)
    assert refused.value.code == "charge_not_accepted"
    ill_services.accept_charge(request, actor=undergraduate.user)
    charge.refresh_from_db()
    assert (charge.state, charge.accepted_at is not None) == ("due", True)


def test_a_loan_charge_splits_cash_now_and_stamps_for_the_return(staff_user, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)  # round trip 1,600
    ill_services.record_shipment(
        lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request, lender_due_date=f.future(14))]
    )
    charge = Charge.objects.get()
    assert (charge.total, charge.return_postage, charge.cash_due) == (1600, 800, 800)


def test_a_return_only_lender_takes_no_cash_at_pick_up(staff_user, undergraduate):
    ndl = f.FeeScheduleFactory(lender__kind="ndl", loan_fee_mode="return_only", loan_fee=800).lender
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=ndl)
    ill_services.record_shipment(
        lender=ndl, actor=staff_user, items=[ill_services.ArrivedItem(request=request, lender_due_date=f.future(14))]
    )
    charge = Charge.objects.get()
    assert (charge.cash_due, charge.return_postage, charge.state) == (0, 800, "settled")
    ill_services.hand_over(request, actor=staff_user)


def test_a_shipment_refuses_a_request_of_another_lender(staff_user, undergraduate, lender, second_lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=second_lender)
    with pytest.raises(ServiceError) as refused:
        ill_services.record_shipment(lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    assert refused.value.code == "shipment_other_lender"


def test_a_lender_without_a_schedule_needs_the_amount_from_staff(staff_user, undergraduate):
    lender = f.LendingInstitutionFactory()
    request = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender)
    with pytest.raises(ServiceError):
        ill_services.record_shipment(lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    ill_services.record_shipment(
        lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request, adjusted_total=620)]
    )
    assert Charge.objects.get().total == 620


# --- payments and hand-over ---------------------------------------------------------------


def arrived_private_copy(staff_user, patron, lender, pages=10):
    request = f.CopyRequestFactory(patron=patron, status="ordered", lender=lender, page_count=pages)
    ill_services.record_shipment(lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    return request, Charge.objects.get(request=request)


def test_hand_over_of_a_private_item_waits_for_the_payment(staff_user, undergraduate, lender):
    request, charge = arrived_private_copy(staff_user, undergraduate, lender)
    with pytest.raises(ServiceError) as refused:
        ill_services.hand_over(request, actor=staff_user)
    assert refused.value.code == "charge_not_paid" and "¥490" in str(refused.value)
    ill_services.record_payment(charge.request, amount=490, receipt_number="R-1", actor=staff_user)
    ill_services.hand_over(request, actor=staff_user)
    request.refresh_from_db()
    assert request.status == "handed_over"


def test_cash_must_be_the_exact_amount_with_a_receipt(staff_user, undergraduate, lender):
    _request, charge = arrived_private_copy(staff_user, undergraduate, lender)
    with pytest.raises(ServiceError) as refused:
        ill_services.record_payment(charge.request, amount=500, receipt_number="R-1", actor=staff_user)
    assert refused.value.code == "wrong_amount"
    with pytest.raises(ServiceError):
        ill_services.record_payment(charge.request, amount=490, receipt_number=" ", actor=staff_user)
    ill_services.record_payment(charge.request, amount=490, receipt_number="R-1", actor=staff_user)
    with pytest.raises(ServiceError) as again:
        ill_services.record_payment(charge.request, amount=490, receipt_number="R-2", actor=staff_user)
    assert again.value.code in ("already_paid", "nothing_due")
    assert Payment.objects.filter(method="cash").count() == 1


def test_a_non_offset_lenders_document_is_released_only_after_payment(staff_user, undergraduate):
    outside = f.FeeScheduleFactory(
        lender__is_offset_participant=False,
        lender__accepts_public_expense=False,
        handling_fee_per_item=200,
        bank_transfer_fee=210,
    ).lender
    request, charge = arrived_private_copy(staff_user, undergraduate, outside)
    with pytest.raises(ServiceError):
        ill_services.hand_over(request, actor=staff_user)
    ill_services.record_payment(charge.request, amount=charge.cash_due, receipt_number="R-9", actor=staff_user)
    ill_services.hand_over(request, actor=staff_user)


def test_public_copies_go_to_the_lab_by_campus_mail(staff_user, doctoral, public_code, lender):
    request = public_copy(doctoral, public_code, status="ordered", lender=lender)
    ill_services.record_shipment(lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    ill_services.hand_over(request, actor=staff_user, campus_mail=True)
    assert request.events.get(action="hand_over").data == {"campus_mail": True}


def test_campus_mail_is_refused_for_private_expense(staff_user, undergraduate, lender):
    request, charge = arrived_private_copy(staff_user, undergraduate, lender)
    ill_services.record_payment(charge.request, amount=490, receipt_number="R-1", actor=staff_user)
    with pytest.raises(ServiceError) as refused:
        ill_services.hand_over(request, actor=staff_user, campus_mail=True)
    assert refused.value.code == "campus_mail_not_possible"


def test_stamps_for_the_return_must_match_the_return_postage(staff_user, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    ill_services.record_shipment(
        lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request, lender_due_date=f.future(14))]
    )
    with pytest.raises(ServiceError):
        charges.record_return_postage(request, method="stamps", amount=500, actor=staff_user)
    payment = charges.record_return_postage(request, method="stamps", amount=800, actor=staff_user)
    assert (payment.method, payment.amount, payment.charge.request) == ("stamps", 800, request)


# --- the student support budget (§6) -------------------------------------------------------


def patron_of(category, lab):
    return f.PatronFactory(category=category, laboratory=lab)


@pytest.mark.parametrize(
    "category,in_lab,confirmed,eligible",
    [
        ("undergraduate", False, False, True),  # years 1–3, no lab: automatically
        ("undergraduate", True, False, False),  # in a lab: must confirm
        ("undergraduate", True, True, True),
        ("undergraduate_final", True, False, False),
        ("undergraduate_final", True, True, True),
        ("undergraduate_final", False, True, True),
        ("masters", True, False, False),
        ("masters", True, True, True),
        ("doctoral", True, False, False),
        ("doctoral", True, True, True),
        ("faculty", True, True, False),
        ("staff", False, True, False),
    ],
)
def test_the_eligibility_matrix(category, in_lab, confirmed, eligible, lab, branch):
    f.SupportBudgetFactory()
    patron = patron_of(category, lab if in_lab else None)
    request = Request(kind="loan", patron=patron, expense_type="private", cannot_use_public_expense=confirmed)
    assert support.eligibility(request).eligible is eligible


@pytest.mark.parametrize(
    "comment",
    [
        "I confirmed that I cannot use a public expense",
        "指導教員に確認し、公費を使用できないことを確認しました。",
        "i  cannot use a PUBLIC expense",
    ],
)
def test_the_confirmation_is_recognised_in_the_comments(comment, lab):
    f.SupportBudgetFactory()
    request = Request(kind="loan", patron=patron_of("masters", lab), expense_type="private", comments=comment)
    assert support.eligibility(request).eligible


def test_public_expense_is_never_supported(lab):
    f.SupportBudgetFactory()
    request = Request(kind="loan", patron=patron_of("undergraduate", None), expense_type="public")
    assert support.eligibility(request).code == "not_private"


def test_no_support_when_the_budget_is_closed_or_the_cap_reached(lab):
    budget = f.SupportBudgetFactory(per_student_cap=1)
    patron = patron_of("undergraduate", None)
    f.RequestFactory(patron=patron, support_budget=budget)
    assert support.eligibility(Request(kind="loan", patron=patron, expense_type="private")).code == "cap_reached"
    budget.per_student_cap, budget.is_open = None, False
    budget.save()
    assert support.eligibility(Request(kind="loan", patron=patron, expense_type="private")).code == "closed"


def test_a_supported_request_is_charged_to_the_budget_not_the_patron(staff_user, undergraduate, lender):
    budget = f.SupportBudgetFactory()
    request = ill_services.submit_request(
        patron=undergraduate,
        actor=undergraduate.user,
        request=Request(
            kind="copy",
            material_type="article",
            title="J",
            article_title="A",
            page_count=10,
            work_total_pages=300,
            copyright_accepted=True,
            pub_year=2019,
            pickup_branch=undergraduate.home_branch,
        ),
    )
    assert request.support_budget == budget
    ill_services.order(request, actor=staff_user, lenders=[lender])
    ill_services.record_shipment(lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    charge = Charge.objects.get()
    assert (charge.payment_class, charge.state, charge.cash_due) == ("support", "settled", 0)
    ill_services.hand_over(request, actor=staff_user)  # nothing to pay
    assert support.spent(budget) == 490


def _supported_overseas_copy(undergraduate):
    return ill_services.submit_request(
        patron=undergraduate,
        actor=undergraduate.user,
        request=Request(
            kind="copy",
            material_type="chapter",
            title="J",
            article_title="A",
            page_count=10,
            work_total_pages=300,
            copyright_accepted=True,
            scope="overseas",
            pickup_branch=undergraduate.home_branch,
        ),
    )


def test_staff_are_warned_before_ordering_a_supported_request_from_a_lender_that_does_not_qualify(
    staff_user, undergraduate, lender
):
    budget = f.SupportBudgetFactory(per_student_cap=1)
    overseas = f.FeeScheduleFactory(lender__kind="overseas", overseas_flat_fee_per_item=1800).lender
    request = _supported_overseas_copy(undergraduate)
    assert request.support_budget == budget and support.supported_count(undergraduate, budget) == 1
    with pytest.raises(ServiceError) as refused:
        ill_services.order(request, actor=staff_user, lenders=[overseas, lender])
    assert refused.value.code == "support_lender_not_qualifying" and "1,800" in str(refused.value)
    request.refresh_from_db()
    assert request.status == "submitted" and not request.candidates.exists()  # nothing half-saved

    ill_services.order(request, actor=staff_user, lenders=[overseas, lender], patron_pays=True)
    request.refresh_from_db()
    assert request.support_budget is None  # the link is removed …
    assert support.supported_count(undergraduate, budget) == 0  # … it no longer counts against the cap
    assert support.reserved(budget) == 0
    assert "student support" in request.events.get(action="order").note
    ordered = OutboxMessage.objects.get(kind="ordered", request=request)
    assert "1,800" in ordered.body_text or "1800" in ordered.body_text or "support" in ordered.body_text.lower()
    ill_services.mark_unfilled(request, actor=staff_user)  # the Japanese university supplies it after all
    ill_services.record_shipment(lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    assert Charge.objects.get().payment_class == "private"  # who pays was decided at the overseas order


def test_only_ndl_and_japanese_university_or_research_lenders_qualify(staff_user, undergraduate, lender):
    budget = f.SupportBudgetFactory()
    request = _supported_overseas_copy(undergraduate)
    ill_services.order(request, actor=staff_user, lenders=[lender])
    assert support.reserved(budget) == 490
    ill_services.record_shipment(lender=lender, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    assert Charge.objects.get().payment_class == "support"
    assert (support.spent(budget), support.reserved(budget)) == (490, 0)


def test_a_charge_from_a_lender_that_does_not_qualify_is_private(staff_user, undergraduate):
    f.SupportBudgetFactory()
    overseas = f.FeeScheduleFactory(lender__kind="overseas", overseas_flat_fee_per_item=1800).lender
    request = ill_services.submit_request(
        patron=undergraduate,
        actor=undergraduate.user,
        request=Request(
            kind="copy",
            material_type="chapter",
            title="J",
            article_title="A",
            page_count=10,
            work_total_pages=300,
            copyright_accepted=True,
            scope="overseas",
            pickup_branch=undergraduate.home_branch,
        ),
    )
    ill_services.order(request, actor=staff_user, lenders=[overseas], patron_pays=True)
    ill_services.record_shipment(lender=overseas, actor=staff_user, items=[ill_services.ArrivedItem(request=request)])
    charge = Charge.objects.get()
    assert (charge.payment_class, charge.state, charge.cash_due) == ("private", "due", 1800)
    request.refresh_from_db()
    assert request.support_budget is None
    arrived = OutboxMessage.objects.get(kind="arrived", request=request)
    assert "17:00" in arrived.body_text  # the private-expense pick-up window, not the full opening hours


def test_the_support_budget_is_reserved_at_ordering_and_never_overspent(staff_user, lender, branch):
    budget = f.SupportBudgetFactory(total=1000)
    requests = []
    for _ in range(3):
        patron = f.PatronFactory(home_branch=branch)
        requests.append(
            ill_services.submit_request(
                patron=patron,
                actor=patron.user,
                request=Request(
                    kind="copy",
                    material_type="chapter",
                    title="J",
                    article_title="A",
                    page_count=10,
                    work_total_pages=300,
                    copyright_accepted=True,
                    pickup_branch=branch,
                ),
            )
        )
    for request in requests:  # 490 each: two fit in 1,000
        ill_services.order(request, actor=staff_user, lenders=[lender])
    supported = [Request.objects.get(pk=r.pk).support_budget_id for r in requests]
    assert supported == [budget.pk, budget.pk, None]
    assert "student support budget has" in requests[2].events.get(action="order").note
    assert support.reserved(budget) == 980


# --- the review's cases ---------------------------------------------------------------------


def test_an_unpriced_lender_needs_an_estimate_for_public_expense(staff_user, doctoral, public_code):
    quoting = f.LendingInstitutionFactory()  # no fee schedule
    request = f.RequestFactory(patron=doctoral, expense_type="public", budget_code=public_code)
    with pytest.raises(ServiceError) as refused:
        ill_services.order(request, actor=staff_user, lenders=[quoting])
    assert refused.value.code == "estimate_required"
    ill_services.order(request, actor=staff_user, lenders=[quoting], estimated_charge=3000)
    assert ledger(request) == [("commitment", 3000)]


def test_an_arrival_never_overspends_a_budget_code(staff_user, doctoral, public_code):
    public_code.limit = 2000
    public_code.save()
    quoting = f.LendingInstitutionFactory()
    request = f.RequestFactory(patron=doctoral, expense_type="public", budget_code=public_code)
    ill_services.order(request, actor=staff_user, lenders=[quoting], estimated_charge=1500)
    with pytest.raises(ServiceError) as refused:
        ill_services.record_shipment(
            lender=quoting,
            actor=staff_user,
            items=[ill_services.ArrivedItem(request=request, lender_due_date=f.future(14), adjusted_total=9000)],
        )
    assert refused.value.code == "charge_above_budget"
    assert budgets.budget_position(public_code).left == 500  # nothing changed
    ill_services.record_shipment(
        lender=quoting,
        actor=staff_user,
        items=[ill_services.ArrivedItem(request=request, lender_due_date=f.future(14), adjusted_total=1900)],
    )
    assert budgets.budget_position(public_code).left == 100


def test_an_estimate_above_the_patrons_maximum_waits_for_the_patron(staff_user, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, page_count=10, max_cost=400)  # estimated 490
    with pytest.raises(ServiceError) as refused:
        ill_services.order(request, actor=staff_user, lenders=[lender])
    assert refused.value.code == "above_max_cost" and "¥490" in str(refused.value)
    ill_services.order(request, actor=staff_user, lenders=[lender], patron_accepted=True)
    assert "accepted" in request.events.get(action="order").note


def test_a_receipt_number_cannot_be_used_twice(staff_user, undergraduate, lender):
    _first, charge = arrived_private_copy(staff_user, undergraduate, lender)
    ill_services.record_payment(charge.request, amount=490, receipt_number="R-1", actor=staff_user)
    _second, other = arrived_private_copy(staff_user, f.PatronFactory(), lender)
    with pytest.raises(ServiceError) as refused:
        ill_services.record_payment(other.request, amount=490, receipt_number="R-1", actor=staff_user)
    assert refused.value.code == "receipt_used"


def test_an_adjusted_charge_still_adds_up(staff_user, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=10)
    ill_services.record_shipment(
        lender=lender,
        actor=staff_user,
        items=[ill_services.ArrivedItem(request=request, adjusted_total=300, adjustment_reason="invoice")],
    )
    charge = Charge.objects.get()
    assert charge.copy_fee + charge.postage + charge.other_fees + charge.adjustment == charge.total == 300
    assert charge.adjustment == -190


def test_a_shipment_refuses_a_request_listed_twice(staff_user, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender)
    item = ill_services.ArrivedItem(request=request)
    with pytest.raises(ServiceError) as refused:
        ill_services.record_shipment(lender=lender, actor=staff_user, items=[item, item])
    assert refused.value.code == "shipment_duplicate"
    with pytest.raises(ServiceError):
        ill_services.preview_shipment(lender, [item, item], "mail")


# --- monitors -------------------------------------------------------------------------------


@pytest.fixture
def admin_user(db):
    return f.UserFactory(username="ill-admin", is_superuser=True, is_staff=True)


def spend(budget, patron, amount):
    request = f.RequestFactory(patron=patron, support_budget=budget, status="arrived")
    f.ChargeFactory(request=request, payment_class="support", total=amount, computed_total=amount, state="settled")


def test_the_support_budget_alerts_at_80_percent_then_closes_when_spent(admin_user, undergraduate):
    budget = f.SupportBudgetFactory(total=10000)
    spend(budget, undergraduate, 7900)
    assert alerts.check_support_budget() is None
    spend(budget, undergraduate, 100)
    assert alerts.check_support_budget() == "80"
    assert alerts.check_support_budget() is None  # once
    spend(budget, undergraduate, 2000)
    assert alerts.check_support_budget() == "closed"
    budget.refresh_from_db()
    assert not budget.is_open and budget.closed_at is not None
    assert alerts.check_support_budget() is None
    sent = OutboxMessage.objects.filter(kind="budget_alert", recipient=admin_user.email)
    assert sent.count() == 2


def test_a_budget_spent_in_one_step_sends_only_the_closing_alert(admin_user, undergraduate):
    budget = f.SupportBudgetFactory(total=1000)
    spend(budget, undergraduate, 1000)
    assert alerts.check_support_budget() == "closed"
    assert alerts.check_support_budget() is None


def test_a_closed_support_budget_makes_requests_private(undergraduate):
    f.SupportBudgetFactory(is_open=False)
    request = ill_services.submit_request(
        patron=undergraduate,
        actor=undergraduate.user,
        request=Request(kind="loan", material_type="book", title="B", pickup_branch=undergraduate.home_branch),
    )
    assert request.support_budget is None


def test_budget_codes_alert_at_80_percent_and_at_the_limit(admin_user, doctoral, public_code):
    public_code.limit = 1000
    public_code.save()
    first = f.RequestFactory(patron=doctoral, expense_type="public", budget_code=public_code)
    BudgetLedgerEntry.objects.create(budget_code=public_code, request=first, entry_type="charge", amount=800)
    assert alerts.check_budget_codes() == [(public_code.code, "80")]
    assert alerts.check_budget_codes() == []
    BudgetLedgerEntry.objects.create(budget_code=public_code, request=first, entry_type="charge", amount=200)
    assert alerts.check_budget_codes() == [(public_code.code, "closed")]


def test_admin_alerts_go_to_administrators_only(admin_user, staff_user, undergraduate):
    budget = f.SupportBudgetFactory(total=100)
    spend(budget, undergraduate, 100)
    alerts.check_support_budget()
    recipients = set(OutboxMessage.objects.filter(kind="budget_alert").values_list("recipient", flat=True))
    assert recipients == {admin_user.email}


# --- admin and report ----------------------------------------------------------------------


def test_the_fee_schedule_admin_previews_seed_example_2(admin_client):
    schedule = f.FeeScheduleFactory(
        mono_price=50, colour_price=200, handling_fee_per_item=200, bank_transfer_fee=210, postage_per_shipment=140
    )
    response = admin_client.get(f"/admin/fees/feeschedule/{schedule.pk}/change/")
    assert response.status_code == 200
    assert "1,400" in response.content.decode()


def test_the_fee_schedule_admin_refuses_bad_values(admin_client):
    schedule = f.FeeScheduleFactory()
    data = {
        "lender": schedule.lender_id,
        "mono_price": -1,
        "colour_price": 0,
        "handling_fee_per_item": 0,
        "postage_per_shipment": 0,
        "express_surcharge": 0,
        "bank_transfer_fee": 0,
        "fax_fee_mode": "per_page",
        "fax_fee_per_page": 0,
        "fax_fee_fixed": 0,
        "tax_rate_percent": 101,
        "overseas_flat_fee_per_item": 0,
        "overseas_fax_surcharge": 0,
        "loan_fee_mode": "round_trip",
        "loan_fee": 0,
        "loan_express_surcharge": 0,
        "paper_prices-TOTAL_FORMS": 0,
        "paper_prices-INITIAL_FORMS": 0,
    }
    response = admin_client.post(f"/admin/fees/feeschedule/{schedule.pk}/change/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"mono_price", "tax_rate_percent"} <= set(errors)
    schedule.refresh_from_db()
    assert schedule.mono_price == 35


def test_the_charges_csv_opens_in_excel(client, staff_user, undergraduate, lender):
    arrived_private_copy(staff_user, undergraduate, lender)
    client.force_login(staff_user)
    response = client.get("/desk/reports/charges/?format=csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert body.startswith("\ufeff")
    assert "490" in body.splitlines()[1]
    detail = b"".join(client.get("/desk/reports/charges/?format=detail").streaming_content).decode("utf-8")
    assert undergraduate.patron_number in detail
    assert client.get("/desk/reports/charges/?year=abc").status_code == 200


def test_patrons_cannot_see_the_charges_report(client, undergraduate):
    client.force_login(undergraduate.user)
    assert client.get("/desk/reports/charges/").status_code == 403


def test_patron_categories_are_the_designs():
    assert {c.value for c in Patron.Category} == {
        "undergraduate",
        "undergraduate_final",
        "masters",
        "doctoral",
        "faculty",
        "staff",
    }


def test_the_budget_code_monitor_reads_every_position_in_one_query(django_assert_max_num_queries, faculty, lab):
    for n in range(12):
        f.BudgetCodeFactory(responsible=faculty, laboratory=lab, limit=1000, code=f"M-{n}")
    with django_assert_max_num_queries(3):  # the codes, their positions; no alert, no recipients
        assert alerts.check_budget_codes() == []
