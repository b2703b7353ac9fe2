"""Issue 9's points that cross the layers: compliance holes closed, the support budget right end
to end, one definition per meaning."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from core.errors import ServiceError
from fees import support
from fees.models import Charge, SupportUse
from ill import lifecycle, maintenance, rules, services
from ill.models import Request
from notifications.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db


def book_copy(patron, **fields):
    values = {"material_type": "chapter", "title": "A Book", "article_title": "Chapter 3", "page_count": 300}
    return Request(
        kind="copy",
        pickup_branch=patron.home_branch,
        copyright_accepted=True,
        purpose="research",
        **{**values, **fields},
    )


def test_a_book_copy_without_the_works_total_pages_is_refused_with_the_rule_named(undergraduate):
    with pytest.raises(rules.RulesRefused) as refused:
        services.submit_request(patron=undergraduate, request=book_copy(undergraduate), actor=undergraduate.user)
    assert refused.value.code == "copyright_total_pages"
    assert not Request.objects.exists()


def test_a_book_copy_with_its_total_pages_follows_the_half_rule(undergraduate):
    with pytest.raises(rules.RulesRefused) as refused:
        services.submit_request(
            patron=undergraduate, request=book_copy(undergraduate, work_total_pages=600), actor=undergraduate.user
        )
    assert refused.value.code == "copyright_half"
    created = services.submit_request(
        patron=undergraduate,
        request=book_copy(undergraduate, page_count=20, work_total_pages=600),
        actor=undergraduate.user,
    )
    assert created.status == "submitted"


def test_staff_can_override_the_missing_total_pages_with_a_reason(undergraduate, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    created = services.submit_request(
        patron=undergraduate,
        request=book_copy(undergraduate, page_count=20),
        actor=staff_user,
        overrides={"copyright": "checked the book at the counter: 412 pages"},
    )
    assert created.copyright_override_reason.startswith("checked")


def test_the_form_asks_for_the_total_pages_of_a_book(client, undergraduate):
    client.force_login(undergraduate.user)
    response = client.post(
        reverse("patron:new", args=["copy"]),
        {
            "material_type": "chapter",
            "title": "A Book",
            "article_title": "Chapter 3",
            "page_count": "20",
            "colour_pages": "0",
            "paper_size": "A4",
            "delivery_method": "mail",
            "purpose": "research",
            "periodical_frequency": "none",
            "copyright_accepted": "on",
            "expense_type": "private",
            "pickup_branch": str(undergraduate.home_branch_id),
            "scope": "domestic",
        },
    )
    assert response.status_code == 400
    assert "work_total_pages" in response.context["form"].errors


def test_an_unfilled_answer_after_the_not_needed_date_closes_instead_of_asking_the_next_lender(
    undergraduate, staff_user, lender, second_lender
):
    request = f.RequestFactory(patron=undergraduate, not_needed_after=f.future(3))
    services.order(request, actor=staff_user, lenders=[lender, second_lender])
    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(days=5)):
        services.mark_unfilled(request, actor=staff_user, note="not on shelf")
    request.refresh_from_db()
    assert (request.status, request.close_reason) == ("closed", "not_needed")
    assert request.candidates.get(position=2).state == "skipped"  # the next lender was never asked
    assert OutboxMessage.objects.filter(request=request, kind="unfilled").exists()  # the patron is told


def test_nothing_is_ordered_after_the_not_needed_date(undergraduate, staff_user, lender):
    request = f.RequestFactory(patron=undergraduate, not_needed_after=f.future(1))
    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(days=3)):
        with pytest.raises(ServiceError) as refused:
            services.order(request, actor=staff_user, lenders=[lender])
    assert refused.value.code == "not_needed_any_more"
    assert Request.objects.get(pk=request.pk).status == "submitted"


def test_the_daily_job_closes_unfilled_requests_past_the_date(undergraduate):
    waiting = f.RequestFactory(patron=undergraduate, status="unfilled", not_needed_after=f.future(1))
    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(days=3)):
        assert maintenance.close_no_longer_needed() == {"cancelled": 0, "closed": 1}
    waiting.refresh_from_db()
    assert (waiting.status, waiting.close_reason) == ("closed", "not_needed")


def test_a_request_closed_as_no_longer_needed_counts_as_failed(undergraduate):
    closed = f.RequestFactory(patron=undergraduate, status="closed", close_reason="not_needed")
    assert lifecycle.has_failed(closed)
    assert Request.objects.filter(lifecycle.failed_q()).get() == closed
    again = Request(kind="loan", patron=undergraduate, title=closed.title, author=closed.author)
    assert rules.duplicate(again, {}).outcome == rules.PASS  # asking again is allowed


def test_a_failed_supported_request_no_longer_counts_against_the_cap(undergraduate, staff_user):
    budget = f.SupportBudgetFactory(per_student_cap=1)
    request = services.submit_request(
        patron=undergraduate,
        request=Request(kind="loan", title="Book", author="A", pickup_branch=undergraduate.home_branch),
        actor=undergraduate.user,
    )
    assert request.support_budget == budget and support.supported_count(undergraduate, budget) == 1
    services.reject(request, actor=staff_user, reason="rare")
    assert SupportUse.objects.get(request=request).state == "released"
    assert support.supported_count(undergraduate, budget) == 0


def test_a_supported_loan_asks_nothing_for_the_return_and_the_patron_page_says_nothing_is_due(
    client, undergraduate, staff_user, lender
):
    budget = f.SupportBudgetFactory()
    request = services.submit_request(
        patron=undergraduate,
        request=Request(kind="loan", title="Book", author="A", pickup_branch=undergraduate.home_branch),
        actor=undergraduate.user,
    )
    services.order(request, actor=staff_user, lenders=[lender])
    services.record_shipment(
        lender=lender, actor=staff_user, items=[services.ArrivedItem(request=request, lender_due_date=f.future(14))]
    )
    charge = Charge.objects.get(request=request)
    assert charge.payment_class == "support" and charge.cash_due == 0
    assert support.spent(budget) == charge.total
    arrived = OutboxMessage.objects.get(request=request, kind="arrived")
    assert "stamp" not in arrived.body_text.lower() and "切手" not in arrived.body_text
    client.force_login(undergraduate.user)
    page = client.get(request.get_absolute_url()).content.decode()
    assert 'data-testid="nothing-due"' in page and 'data-testid="cash-due"' not in page


def test_the_charges_report_separates_paid_unpaid_and_supported(client, staff_user, undergraduate):
    f.ChargeFactory(request__patron=undergraduate, total=500, state="paid")
    f.ChargeFactory(request__patron=undergraduate, total=700, state="due")
    f.ChargeFactory(request__patron=undergraduate, total=900, payment_class="support", state="settled")
    client.force_login(staff_user)
    response = client.get(reverse("desk:charges_report"), HTTP_ACCEPT_LANGUAGE="en")
    totals = dict(response.context["by_class"])
    assert totals["Private expense, paid"] == 500
    assert totals["Private expense, not paid yet"] == 700
    assert totals["Student support budget"] == 900


def test_a_free_lender_needs_no_warning_but_still_takes_the_request_off_the_support_budget(undergraduate, staff_user):
    budget = f.SupportBudgetFactory()
    free = f.FeeScheduleFactory(lender__kind="regional", loan_fee_mode="free", loan_fee=0).lender
    request = services.submit_request(
        patron=undergraduate,
        request=Request(kind="loan", title="Book", author="A", pickup_branch=undergraduate.home_branch),
        actor=undergraduate.user,
    )
    assert services.support_warning(request, free) == ""
    services.order(request, actor=staff_user, lenders=[free])
    request.refresh_from_db()
    assert request.support_budget is None and support.supported_count(undergraduate, budget) == 0
