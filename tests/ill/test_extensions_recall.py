"""A lender's recall (ill.services.extensions.apply_recall): the due dates only ever come forward, and a patron
who has the book is told."""

import pytest

from core.errors import ServiceError
from ill import services
from ill.models import Request
from ill.services.extensions import apply_recall
from notifications.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db
S = Request.Status


def _on_loan(staff_user, patron, lender_due=30):
    request = f.RequestFactory(patron=patron, status=S.ORDERED, lender=f.LendingInstitutionFactory())
    services.record_arrival(request, actor=staff_user, lender_due_date=f.future(lender_due))
    Request.objects.filter(pk=request.pk).update(status=S.ON_LOAN)
    request.refresh_from_db()
    return request


def test_a_recall_brings_both_due_dates_forward_and_tells_the_patron(staff_user, undergraduate):
    request = _on_loan(staff_user, undergraduate)
    event = apply_recall(request, lender_due_date=f.future(10), actor=staff_user, note="Needed for a class.")
    request.refresh_from_db()
    assert request.lender_due_date == f.future(10)
    assert request.due_date == services.patron_due_date(f.future(10))
    assert event.visible_to_patron and event.action == "recalled"
    message = OutboxMessage.objects.get(request=request, kind="recalled")
    assert "Needed for a class." in message.body_text


def test_a_later_date_is_not_a_recall_and_changes_nothing(staff_user, undergraduate):
    request = _on_loan(staff_user, undergraduate, lender_due=10)
    before = (request.lender_due_date, request.due_date)
    assert apply_recall(request, lender_due_date=f.future(20), actor=staff_user) is None
    request.refresh_from_db()
    assert (request.lender_due_date, request.due_date) == before
    assert not OutboxMessage.objects.filter(request=request, kind="recalled").exists()


def test_a_recall_of_a_request_not_here_is_refused(staff_user, undergraduate):
    request = f.RequestFactory(patron=undergraduate, status=S.ORDERED, lender=f.LendingInstitutionFactory())
    with pytest.raises(ServiceError):
        apply_recall(request, lender_due_date=f.future(5), actor=staff_user)
