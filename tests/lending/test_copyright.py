"""Copyright on the supplying side (Copyright Act art. 31, DESIGN.md §3.5): we make the copy, so the same
rules refuse it — purpose, latest issue, half of a work, one copy per person — unless a user allowed to
override gives a reason, which is recorded; a refusal's reason goes back to the requester."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Permission
from django.utils import timezone

from core.errors import ServiceError
from lending import copyright, services
from lending.models import LendingRequest
from tests import factories as f
from tests.lending.test_services import receive_copy, receive_loan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(english):
    """The rules' messages are checked in English."""


@pytest.fixture
def borrower(db):
    return f.LendingInstitutionFactory()


@pytest.fixture
def staff(db):
    return f.UserFactory(username="lending-desk", is_staff=True)


@pytest.fixture
def supervisor(db):
    user = f.UserFactory(username="lending-head", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="override_copyright", content_type__app_label="lending"))
    return user


S = LendingRequest.Status


def ago(**delta) -> datetime.date:
    return timezone.localdate() - relativedelta(**delta)


def supplying(borrower, staff, **fields):
    return services.will_supply(receive_copy(borrower, **fields), actor=staff)


def codes(req):
    return [r.code for r in copyright.check(req)]


def test_an_ordinary_old_article_may_be_copied(borrower, staff):
    req = supplying(borrower, staff)
    assert copyright.check(req) == []
    services.start_copying(req, actor=staff)
    assert req.status == S.COPYING and req.copyright_override_reason == ""
    assert req.events.last().data == {}


def test_purpose_must_be_research_or_study(borrower, staff):
    assert codes(supplying(borrower, staff, purpose="other")) == ["copyright_purpose"]
    assert codes(supplying(borrower, staff, purpose="study")) == []


def test_not_from_the_latest_issue_of_a_monthly(borrower, staff):
    recent = supplying(borrower, staff, pub_year=timezone.localdate().year, issue_date=ago(days=10))
    assert codes(recent) == ["copyright_latest_issue"]
    older = supplying(borrower, staff, pub_year=ago(months=2).year, issue_date=ago(months=2))
    assert codes(older) == []


def test_a_quarterly_issue_waits_three_months(borrower, staff):
    fields = {"periodical_frequency": "quarterly"}
    assert codes(supplying(borrower, staff, pub_year=ago(months=2).year, issue_date=ago(months=2), **fields)) == [
        "copyright_latest_issue"
    ]
    assert codes(supplying(borrower, staff, pub_year=ago(months=4).year, issue_date=ago(months=4), **fields)) == []


def test_without_the_frequency_a_recent_article_cannot_be_checked(borrower, staff):
    req = supplying(borrower, staff, periodical_frequency="none", issue_date=None, pub_year=timezone.localdate().year)
    assert codes(req) == ["copyright_frequency"]
    # staff complete the facts from the journal in hand
    services.record_copy_details(req, actor=staff, periodical_frequency="monthly", issue_date=ago(months=3))
    assert codes(req) == []
    assert req.events.last().action == "details"


def _chapter(borrower, staff, **fields):
    fields = {
        "material_type": "chapter",
        "title": "大きな本",
        "journal_title": "",
        "periodical_frequency": "none",
        "issue_date": None,
        **fields,
    }
    return supplying(borrower, staff, **fields)


def test_half_or_more_of_a_book_is_refused(borrower, staff):
    assert codes(_chapter(borrower, staff, work_total_pages=100, page_count=50)) == ["copyright_half"]
    assert codes(_chapter(borrower, staff, work_total_pages=100, page_count=49)) == []


def test_a_book_copy_needs_the_works_total_pages(borrower, staff):
    req = _chapter(borrower, staff, work_total_pages=None, page_count=20)
    assert codes(req) == ["copyright_total_pages"]
    with pytest.raises(ServiceError) as exc:
        services.record_copy_details(req, actor=staff, work_total_pages=0)
    assert exc.value.field == "work_total_pages"
    services.record_copy_details(req, actor=staff, work_total_pages=300)
    assert codes(req) == []


def test_an_article_past_the_latest_issue_is_exempt_from_the_half_rule(borrower, staff):
    assert codes(supplying(borrower, staff, work_total_pages=20, page_count=15)) == []


def test_one_copy_per_person(borrower, staff):
    first = supplying(borrower, staff, patron_reference="P-1")
    second = supplying(borrower, staff, patron_reference="P-1", article_title="ON  THINGS")  # same, normalised
    other_person = supplying(borrower, staff, patron_reference="P-2")
    assert codes(second) == []  # nothing copied for them yet
    services.start_copying(first, actor=staff)
    assert codes(second) == [copyright.ONE_COPY_CODE]
    assert first.number in copyright.check(second)[0].message
    assert codes(other_person) == []
    # another library's patron with the same reference is another person
    assert codes(supplying(f.LendingInstitutionFactory(), staff, patron_reference="P-1")) == []
    # a different article from the same journal is another copy
    assert codes(supplying(borrower, staff, patron_reference="P-1", article_title="On other things")) == []


def test_one_copy_per_person_matches_by_doi(borrower, staff):
    first = supplying(borrower, staff, patron_reference="P-9", doi="10.1000/ABC")
    services.start_copying(first, actor=staff)
    again = supplying(borrower, staff, patron_reference="P-9", doi="10.1000/abc", article_title="Retitled")
    assert codes(again) == [copyright.ONE_COPY_CODE]


def test_loans_are_not_copyright_checked(borrower, staff):
    assert copyright.check(receive_loan(borrower, purpose="other")) == []


def test_start_copying_refuses_with_every_reason_and_moves_nothing(borrower, staff):
    req = _chapter(borrower, staff, purpose="other", work_total_pages=100, page_count=80)
    with pytest.raises(copyright.CopyrightRefused) as exc:
        services.start_copying(req, actor=staff)
    assert exc.value.code == "copyright" and [r.code for r in exc.value.refusals] == ["copyright_purpose"]
    assert "research or study" in str(exc.value)
    req.refresh_from_db()
    assert req.status == S.WILL_SUPPLY


def test_override_needs_the_permission(borrower, staff):
    req = supplying(borrower, staff, purpose="other")
    with pytest.raises(copyright.OverrideNotPermitted) as exc:
        services.start_copying(req, actor=staff, override_reason="the author agreed")
    assert exc.value.status_code == 403
    req.refresh_from_db()
    assert req.status == S.WILL_SUPPLY and req.copyright_override_reason == ""


def test_an_override_is_recorded(borrower, staff, supervisor):
    req = supplying(borrower, staff, purpose="other")
    services.start_copying(req, actor=supervisor, override_reason="  the author agreed in writing  ")
    req.refresh_from_db()
    assert req.status == S.COPYING
    assert (req.copyright_override_reason, req.copyright_override_by) == ("the author agreed in writing", supervisor)
    assert req.events.last().data == {
        "copyright_override": "the author agreed in writing",
        "refusals": ["copyright_purpose"],
    }


def test_an_override_reason_when_nothing_refuses_is_not_recorded(borrower, supervisor):
    req = supplying(borrower, supervisor)
    services.start_copying(req, actor=supervisor, override_reason="just in case")
    assert req.copyright_override_reason == "" and req.events.last().data == {}


def test_the_refusal_goes_back_with_mark_unfilled(borrower, staff):
    req = supplying(borrower, staff, purpose="other")
    refusals = copyright.check(req)
    services.mark_unfilled(req, actor=staff, reason="copyright", note=copyright.unfilled_note(refusals))
    req.refresh_from_db()
    assert req.status == S.UNFILLED and req.unfilled_reason == "copyright"
    assert "research or study" in req.unfilled_note


def test_details_changed_while_copying_must_still_pass_the_rules(borrower, staff):
    """The check ran when copying began: recording afterwards that 200 of the book's 300 pages are copied
    would make it more than half of the work, so it is refused and nothing changes."""
    req = _chapter(borrower, staff, work_total_pages=300, page_count=20)
    services.start_copying(req, actor=staff)
    with pytest.raises(copyright.CopyrightRefused) as exc:
        services.record_copy_details(req, actor=staff, page_count=200)
    assert [r.code for r in exc.value.refusals] == ["copyright_half"]
    req.refresh_from_db()
    assert (req.status, req.page_count) == (S.COPYING, 20)
    assert not req.events.filter(action="details").exists()
    services.record_copy_details(req, actor=staff, page_count=40)  # still less than half: recorded
    req.refresh_from_db()
    assert req.page_count == 40


def test_details_changed_while_copying_keep_the_override_of_the_rules_it_covered(borrower, supervisor):
    req = _chapter(borrower, supervisor, work_total_pages=300, page_count=200)
    services.start_copying(req, actor=supervisor, override_reason="the publisher allowed it in writing")
    services.record_copy_details(req, actor=supervisor, page_count=210)  # the half rule was overridden
    with pytest.raises(copyright.CopyrightRefused) as exc:  # but not the purpose
        services.record_copy_details(req, actor=supervisor, work_total_pages=None)
    assert [r.code for r in exc.value.refusals] == ["copyright_total_pages"]
