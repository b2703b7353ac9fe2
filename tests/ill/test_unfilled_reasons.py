"""A lender's "cannot supply" answer carries its reason (NACSIS-ILL's refusal reasons): the desk asks
for it, the service keeps it on the candidate and in the event, the page shows it in the reader's
language; callers that give none keep working."""

import pytest
from django.utils import translation

from core.errors import ServiceError
from ill import services
from ill.models import LenderCandidate
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

R = LenderCandidate.UnfilledReason


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    return client


def act(desk, request, action, data=None):
    return desk.post(f"/desk/requests/{request.number}/{action}/", data or {})


def ordered_from_two(staff_user, lender, second_lender):
    request = f.RequestFactory()
    services.order(request, actor=staff_user, lenders=[lender, second_lender], shipping_method="mail")
    request.refresh_from_db()
    return request


def test_the_desk_form_stores_the_reason_on_the_candidate_and_the_event(desk, staff_user, lender, second_lender):
    request = ordered_from_two(staff_user, lender, second_lender)
    response = act(desk, request, "mark_unfilled", {"reason": R.ON_LOAN, "note": "貸出中"})
    assert response.status_code == 302
    first = request.candidates.get(position=1)
    assert (first.state, first.unfilled_reason, first.answer_note) == ("unfilled", "on_loan", "貸出中")
    event = request.events.get(action="mark_unfilled")
    assert event.data["reason"] == "on_loan"
    request.refresh_from_db()
    assert (request.status, request.lender) == ("ordered", second_lender)  # the cascade still runs


def test_a_new_answer_needs_a_reason(desk, staff_user, lender, second_lender):
    request = ordered_from_two(staff_user, lender, second_lender)
    response = act(desk, request, "mark_unfilled", {"note": "no reason given"})
    assert response.status_code == 400
    assert "Choose why the lender cannot supply it." in response.content.decode()
    request.refresh_from_db()
    assert (request.status, request.lender) == ("ordered", lender)  # nothing half-done
    assert not request.events.filter(action="mark_unfilled").exists()


def test_an_unknown_reason_is_a_400_not_a_500(desk, staff_user, lender, second_lender):
    request = ordered_from_two(staff_user, lender, second_lender)
    assert act(desk, request, "mark_unfilled", {"reason": "lost_in_space"}).status_code == 400
    with pytest.raises(ServiceError) as caught:
        services.mark_unfilled(request, actor=staff_user, reason="lost_in_space")
    assert caught.value.code == "unfilled_reason_unknown"
    request.refresh_from_db()
    assert request.status == "ordered"


def test_callers_without_a_reason_keep_working(staff_user, lender):
    request = f.RequestFactory()
    services.order(request, actor=staff_user, lenders=[lender], shipping_method="mail")
    services.mark_unfilled(request, actor=staff_user, note="not on shelf")
    request.refresh_from_db()
    assert request.status == "unfilled"
    candidate = request.candidates.get()
    assert (candidate.unfilled_reason, candidate.answer_note) == ("", "not on shelf")
    assert request.events.get(action="mark_unfilled").data["reason"] == ""


def test_the_request_page_shows_the_reason_in_the_readers_language(client, staff_user, lender, second_lender):
    request = ordered_from_two(staff_user, lender, second_lender)
    services.mark_unfilled(request, actor=staff_user, reason=R.AT_BINDERY, note="製本中")
    client.force_login(staff_user)
    for language in ("en", "ja"):
        client.cookies["django_language"] = language
        page = client.get(f"/desk/requests/{request.number}/").content.decode()
        with translation.override(language):
            label = str(R.AT_BINDERY.label)
        assert f'<span data-testid="unfilled-reason">{label}</span>' in page  # the candidate list
        assert f"{label}</div>" in page.split('data-testid="event-unfilled-reason"')[1]  # the history
    # the answer to the second lender: the form asks for the reason, every one offered, none chosen yet
    form = page.split('data-testid="form-mark_unfilled"')[1].split("</form>")[0]
    assert 'name="reason"' in form and "required" in form
    assert all(f'value="{value}"' in form for value in R.values)
    assert '<option value="" selected>' in form
