"""The lifecycle of DESIGN.md §4: each transition allowed from exactly the states the diagram
shows, refused (nothing changed, no event) from every other, through the service functions."""

import datetime

import pytest
from django.core import mail

from core.errors import ServiceError, TransitionNotAllowed
from ill import lifecycle, services
from ill.models import LenderCandidate, Request, RequestEvent
from tests import factories as f

S = Request.Status
LOAN, COPY = "loan", "copy"

# The diagram of DESIGN.md §4, written out independently of ill.lifecycle.TRANSITIONS.
EXPECTED = {
    ("cancel", LOAN, "submitted"): "cancelled",
    ("cancel", COPY, "submitted"): "cancelled",
    ("reject", LOAN, "submitted"): "rejected",
    ("reject", COPY, "submitted"): "rejected",
    ("order", LOAN, "submitted"): "ordered",
    ("order", COPY, "submitted"): "ordered",
    ("order", LOAN, "unfilled"): "ordered",
    ("order", COPY, "unfilled"): "ordered",
    ("mark_unfilled", LOAN, "ordered"): "unfilled",
    ("mark_unfilled", COPY, "ordered"): "unfilled",
    ("record_arrival", LOAN, "ordered"): "arrived",
    ("record_arrival", COPY, "ordered"): "arrived",
    ("hand_over", LOAN, "arrived"): "on_loan",
    ("hand_over", COPY, "arrived"): "handed_over",
    ("return_by_patron", LOAN, "on_loan"): "returned",
    ("send_back", LOAN, "returned"): "closed",
    ("close_not_collected", LOAN, "arrived"): "closed",
    ("close_not_collected", COPY, "arrived"): "closed",
    ("close_unfilled", LOAN, "unfilled"): "closed",
    ("close_unfilled", COPY, "unfilled"): "closed",
    ("close_not_needed", LOAN, "unfilled"): "closed",
    ("close_not_needed", COPY, "unfilled"): "closed",
}
ACTIONS = sorted({action for action, _k, _s in EXPECTED})


def test_the_table_is_the_diagram():
    table = {}
    for t in lifecycle.TRANSITIONS:
        for kind in t.kinds or (lifecycle.LOAN, lifecycle.COPY):
            for source in t.sources:
                if t.action != "submit":
                    table[(t.action, kind, source)] = t.target
    assert table == EXPECTED


def run(action, request, actor, lender):
    if action == "reject":
        return services.reject(request, actor=actor, reason="rare")
    if action == "order":
        return services.order(request, actor=actor, lenders=[lender])
    if action == "record_arrival":
        return services.record_arrival(request, actor=actor, lender_due_date=f.future(14))
    if action == "close_not_needed":  # only once the patron's date has passed
        Request.objects.filter(pk=request.pk).update(not_needed_after=f.future(-1))
    return getattr(services, action)(request, actor=actor)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [LOAN, COPY])
@pytest.mark.parametrize("status", [s.value for s in S])
@pytest.mark.parametrize("action", ACTIONS)
def test_each_transition_is_allowed_only_where_the_diagram_says(action, status, kind, staff_user, lender):
    factory = f.RequestFactory if kind == LOAN else f.CopyRequestFactory
    request = factory(status=status, lender=lender if status != "submitted" else None)
    expected = EXPECTED.get((action, kind, status))
    events_before = RequestEvent.objects.count()
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            run(action, request, staff_user, lender)
        request.refresh_from_db()
        assert request.status == status
        assert RequestEvent.objects.count() == events_before
    else:
        run(action, request, staff_user, lender)
        request.refresh_from_db()
        assert request.status == expected
        event = RequestEvent.objects.filter(request=request, action=action).latest("id")
        assert (event.from_status, event.to_status, event.actor) == (status, expected, staff_user)


@pytest.mark.django_db
def test_submit_numbers_requests_per_year_and_records_the_event(undergraduate):
    first = services.submit(
        f.RequestFactory.build(patron=undergraduate, pickup_branch=undergraduate.home_branch, number="", status=""),
        actor=undergraduate.user,
    )
    second = services.submit(
        f.RequestFactory.build(patron=undergraduate, pickup_branch=undergraduate.home_branch, number="", status=""),
        actor=undergraduate.user,
    )
    year = datetime.date.today().year
    assert first.number == f"ILL-{year}-000001"
    assert second.number == f"ILL-{year}-000002"
    assert first.status == "submitted"
    event = first.events.get()
    assert (event.action, event.from_status, event.to_status) == ("submit", "", "submitted")


@pytest.mark.django_db
def test_a_saved_request_cannot_be_submitted_again(undergraduate):
    request = f.RequestFactory(patron=undergraduate)
    with pytest.raises(TransitionNotAllowed):
        services.submit(request, actor=None)


@pytest.mark.django_db
def test_cancel_after_ordering_says_it_was_sent_to_a_lender(undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.cancel(request, actor=undergraduate.user)
    assert refused.value.code == "cannot_cancel"
    assert request.number in str(refused.value)


@pytest.mark.django_db
def test_reject_needs_a_reason_code(staff_user):
    request = f.RequestFactory()
    with pytest.raises(ServiceError):
        services.reject(request, actor=staff_user, reason="because")
    request.refresh_from_db()
    assert request.status == "submitted"


@pytest.mark.django_db
def test_order_lists_candidates_and_asks_the_first(staff_user, lender, second_lender):
    request = f.RequestFactory()
    services.order(request, actor=staff_user, lenders=[lender, second_lender], lender_reference="REF-1")
    request.refresh_from_db()
    assert request.lender == lender
    assert request.lender_reference == "REF-1"
    states = list(request.candidates.values_list("position", "lender", "state"))
    assert states == [(1, lender.pk, "ordered"), (2, second_lender.pk, "waiting")]


@pytest.mark.django_db
def test_unfilled_moves_on_to_the_next_candidate_keeping_the_hop(staff_user, lender, second_lender):
    request = f.RequestFactory()
    services.order(request, actor=staff_user, lenders=[lender, second_lender])
    services.mark_unfilled(request, actor=staff_user, note="貸出不可")
    request.refresh_from_db()
    assert request.status == "ordered"
    assert request.lender == second_lender
    assert list(request.events.values_list("action", "to_status")) == [
        ("order", "ordered"),
        ("mark_unfilled", "unfilled"),
        ("order", "ordered"),
    ]
    first = request.candidates.get(position=1)
    assert (first.state, first.answer_note) == ("unfilled", "貸出不可")


@pytest.mark.django_db
def test_unfilled_with_no_candidate_left_waits_for_staff(staff_user, lender):
    request = f.RequestFactory()
    services.order(request, actor=staff_user, lenders=[lender])
    services.mark_unfilled(request, actor=staff_user)
    request.refresh_from_db()
    assert request.status == "unfilled"
    with pytest.raises(ServiceError) as refused:
        services.order(request, actor=staff_user)
    assert refused.value.code == "no_candidate_left"


@pytest.mark.django_db
def test_at_most_five_candidate_lenders(staff_user):
    lenders = [f.LendingInstitutionFactory() for _ in range(6)]
    request = f.RequestFactory()
    with pytest.raises(ServiceError) as refused:
        services.order(request, actor=staff_user, lenders=lenders)
    assert refused.value.code == "too_many_lenders"
    assert not LenderCandidate.objects.exists()


@pytest.mark.django_db
def test_public_expense_is_not_ordered_from_a_lender_outside_the_fee_offset(staff_user, faculty, public_code):
    outside = f.LendingInstitutionFactory(is_offset_participant=False, accepts_public_expense=False)
    request = f.RequestFactory(patron=faculty, expense_type="public", budget_code=public_code)
    with pytest.raises(ServiceError) as refused:
        services.order(request, actor=staff_user, lenders=[outside])
    assert refused.value.code == "lender_no_public_expense"


@pytest.mark.django_db
def test_fax_falls_back_to_express_when_the_lender_cannot(staff_user, second_lender, english):
    request = f.CopyRequestFactory(delivery_method="fax")
    services.order(request, actor=staff_user, lenders=[second_lender])
    request.refresh_from_db()
    assert request.shipping_method == "express"
    assert "express" in request.events.get(action="order").note


@pytest.mark.django_db
def test_arrival_sets_the_patron_due_date_before_the_lenders(staff_user, lender, settings):
    settings.ILL_DUE_DATE_MARGIN_DAYS = 3
    request = f.RequestFactory(status="ordered", lender=lender)
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(14), use_restriction="in_library")
    request.refresh_from_db()
    assert request.lender_due_date == f.future(14)
    assert request.due_date == f.future(11)
    assert request.use_restriction == "in_library"


@pytest.mark.django_db
def test_a_loan_arrival_needs_the_lenders_due_date(staff_user, lender):
    request = f.RequestFactory(status="ordered", lender=lender)
    with pytest.raises(ServiceError) as refused:
        services.record_arrival(request, actor=staff_user)
    assert refused.value.field == "lender_due_date"


@pytest.mark.django_db
def test_overdue_is_derived_from_the_due_date():
    assert f.RequestFactory(status="on_loan", due_date=f.future(-1)).is_overdue
    assert not f.RequestFactory(status="on_loan", due_date=f.future(0)).is_overdue
    assert not f.RequestFactory(status="returned", due_date=f.future(-5)).is_overdue


@pytest.mark.django_db(transaction=True)
def test_arrival_email_is_sent_after_commit_in_the_patrons_language(staff_user, lender, doctoral):
    request = f.RequestFactory(patron=doctoral, status="ordered", lender=lender)
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(14))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [doctoral.user.email]
    assert "has arrived" in message.subject
    assert request.number in message.body
    assert request.messages.get().status == "sent"


@pytest.mark.django_db
def test_nothing_is_sent_when_the_transaction_rolls_back(staff_user, lender, django_capture_on_commit_callbacks):
    from django.db import transaction

    request = f.RequestFactory(status="ordered", lender=lender)
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                services.record_arrival(request, actor=staff_user, lender_due_date=f.future(14))
                raise RuntimeError("boom")
    assert callbacks == []
    request.refresh_from_db()
    assert request.status == "ordered"
    assert not request.messages.exists()


@pytest.mark.django_db
def test_when_the_next_candidate_cannot_be_ordered_the_request_waits_as_unfilled(staff_user, english):
    express = f.FeeScheduleFactory(lender__supports_express=True).lender
    no_express = f.FeeScheduleFactory(lender__supports_express=False).lender
    request = f.RequestFactory(delivery_method="express")
    services.order(request, actor=staff_user, lenders=[express, no_express], shipping_method="express")
    services.mark_unfilled(request, actor=staff_user, note="not available")
    request.refresh_from_db()
    assert (request.status, request.lender) == ("unfilled", express)  # not stuck at the lender that said no
    note = request.events.filter(action="note").get()
    assert note.data == {"automatic_order_refused": "lender_no_express"}
    services.order(request, actor=staff_user, shipping_method="mail")
    request.refresh_from_db()
    assert (request.status, request.lender) == ("ordered", no_express)


@pytest.mark.django_db
def test_the_candidates_not_asked_are_skipped_once_an_earlier_one_supplied(staff_user, lender, second_lender):
    third = f.LendingInstitutionFactory()
    request = f.RequestFactory(kind="loan")
    services.order(request, actor=staff_user, lenders=[lender, second_lender, third])
    services.mark_unfilled(request, actor=staff_user, note="貸出中")
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(14), notify=False)
    states = list(request.candidates.order_by("position").values_list("position", "state", "answered_at"))
    assert [(position, state) for position, state, _at in states] == [(1, "unfilled"), (2, "filled"), (3, "skipped")]
    assert states[2][2] is None  # never asked, never answered
