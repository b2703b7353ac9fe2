"""Every submission rule of DESIGN.md §3, passing and refused, through the intake service that
every entry point calls. A refusal names the rule, says what to do, and saves nothing."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from core.errors import ServiceError
from ill import rules, services
from ill.models import Request
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def loan(patron, **fields):
    values = {"material_type": "book", "title": "Pattern Recognition", **fields}
    return Request(kind="loan", pickup_branch=patron.home_branch, **values)


def copy(patron, **fields):
    values = {
        "material_type": "article",
        "title": "Journal of Examples",
        "article_title": "On examples",
        "page_count": 10,
        "copyright_accepted": True,
        "purpose": "research",
        "pub_year": 2019,  # a back issue; the latest-issue rule has its own tests
        **fields,
    }
    return Request(kind="copy", pickup_branch=patron.home_branch, **values)


def submit(patron, request, **kwargs):
    return services.submit_request(patron=patron, request=request, actor=patron.user, **kwargs)


def refused_codes(patron, request, **kwargs):
    with pytest.raises(rules.RulesRefused) as refused:
        submit(patron, request, **kwargs)
    return [r.code for r in refused.value.results]


# --- §3.1 five books at a time --------------------------------------------------------------


def test_a_fifth_loan_is_accepted(undergraduate):
    for n in range(4):
        f.RequestFactory(patron=undergraduate, status=["submitted", "ordered", "arrived", "on_loan"][n])
    assert submit(undergraduate, loan(undergraduate)).status == "submitted"


def test_a_sixth_loan_is_refused_with_what_to_do(undergraduate):
    for status in ["submitted", "ordered", "unfilled", "arrived", "on_loan"]:
        f.RequestFactory(patron=undergraduate, status=status)
    with pytest.raises(rules.RulesRefused) as refused:
        submit(undergraduate, loan(undergraduate))
    assert refused.value.code == "loan_limit"
    assert "5 of 5" in str(refused.value) and "Return one first" in str(refused.value)
    assert Request.objects.filter(patron=undergraduate).count() == 5


def test_returned_and_finished_loans_do_not_count(undergraduate):
    for status in ["returned", "closed", "rejected", "cancelled", "returned"]:
        f.RequestFactory(patron=undergraduate, status=status)
    assert submit(undergraduate, loan(undergraduate)).status == "submitted"


def test_copies_do_not_count_against_the_loan_limit(undergraduate):
    for _ in range(5):
        f.RequestFactory(patron=undergraduate, status="ordered")
    assert submit(undergraduate, copy(undergraduate)).status == "submitted"


def test_the_limit_is_a_setting(undergraduate, settings):
    settings.ILL_MAX_ACTIVE_LOANS = 2
    f.RequestFactory(patron=undergraduate)
    f.RequestFactory(patron=undergraduate)
    assert refused_codes(undergraduate, loan(undergraduate)) == ["loan_limit"]


# --- overdue --------------------------------------------------------------------------------


def test_an_overdue_book_blocks_new_loans_but_not_copies(undergraduate):
    late = f.RequestFactory(patron=undergraduate, status="on_loan", due_date=f.future(-1))
    with pytest.raises(rules.RulesRefused) as refused:
        submit(undergraduate, loan(undergraduate))
    assert refused.value.code == "overdue" and late.number in str(refused.value)
    assert submit(undergraduate, copy(undergraduate)).status == "submitted"


def test_a_book_due_today_is_not_overdue(undergraduate):
    f.RequestFactory(patron=undergraduate, status="on_loan", due_date=f.future(0))
    assert submit(undergraduate, loan(undergraduate)).status == "submitted"


# --- §3.2 same book only once ----------------------------------------------------------------


def test_the_same_isbn_is_refused(undergraduate):
    earlier = f.RequestFactory(patron=undergraduate, isbn="9784320123625", status="closed")
    with pytest.raises(rules.RulesRefused) as refused:
        submit(undergraduate, loan(undergraduate, isbn="9784320123625", title="Another title"))
    assert refused.value.code == "duplicate" and earlier.number in str(refused.value)


def test_the_same_ncid_is_refused(undergraduate):
    f.RequestFactory(patron=undergraduate, ncid="BA51293930")
    assert refused_codes(undergraduate, loan(undergraduate, ncid="BA51293930")) == ["duplicate"]


def test_without_identifiers_title_author_and_edition_decide(undergraduate):
    f.RequestFactory(patron=undergraduate, title="統計的 学習の基礎", author="Hastie, T.", edition="第2版")
    assert refused_codes(
        undergraduate, loan(undergraduate, title="統計的学習の基礎", author="hastie t", edition="第２版")
    ) == ["duplicate"]
    assert (
        submit(
            undergraduate, loan(undergraduate, title="統計的学習の基礎", author="Hastie, T.", edition="第3版")
        ).status
        == "submitted"
    )


def test_a_different_isbn_is_another_book(undergraduate):
    f.RequestFactory(patron=undergraduate, isbn="9784320123625", title="Same title")
    assert submit(undergraduate, loan(undergraduate, isbn="9780262046305", title="Same title")).status == "submitted"


@pytest.mark.parametrize("status,close_reason", [("rejected", ""), ("cancelled", ""), ("closed", "unfilled")])
def test_asking_again_is_allowed_after_a_failed_request(undergraduate, status, close_reason):
    f.RequestFactory(patron=undergraduate, isbn="9784320123625", status=status, close_reason=close_reason)
    assert submit(undergraduate, loan(undergraduate, isbn="9784320123625")).status == "submitted"


def test_another_patron_may_request_the_same_book(undergraduate, doctoral):
    f.RequestFactory(patron=doctoral, isbn="9784320123625")
    assert submit(undergraduate, loan(undergraduate, isbn="9784320123625")).status == "submitted"


def test_staff_override_the_duplicate_rule_with_a_recorded_reason(undergraduate, staff_user):
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(codename="override_rules"))
    staff_user = type(staff_user).objects.get(pk=staff_user.pk)
    f.RequestFactory(patron=undergraduate, isbn="9784320123625")
    created = services.submit_request(
        patron=undergraduate,
        request=loan(undergraduate, isbn="9784320123625"),
        actor=staff_user,
        overrides={"duplicate": "first copy lost in the post"},
    )
    assert created.duplicate_override_reason == "first copy lost in the post"


def test_patrons_cannot_override(undergraduate):
    f.RequestFactory(patron=undergraduate, isbn="9784320123625")
    with pytest.raises(ServiceError) as refused:
        submit(undergraduate, loan(undergraduate, isbn="9784320123625"), overrides={"duplicate": "please"})
    assert refused.value.code == "override_not_allowed"


# --- §3.3 held here ---------------------------------------------------------------------------


def test_a_book_held_here_is_refused_even_when_on_loan(undergraduate):
    held = f.LocalHoldingIdentifierFactory(
        value="9784320123625", holding__status="on_loan", holding__call_number="417/H"
    ).holding
    with pytest.raises(rules.RulesRefused) as refused:
        submit(undergraduate, loan(undergraduate, isbn="9784320123625"))
    assert refused.value.code == "held_here"
    assert held.call_number in str(refused.value)


def test_a_book_missing_from_the_shelves_can_be_ordered(undergraduate):
    f.LocalHoldingIdentifierFactory(value="9784320123625", holding__status="missing")
    assert submit(undergraduate, loan(undergraduate, isbn="9784320123625")).status == "submitted"


def test_a_book_held_here_by_ncid_is_refused(undergraduate):
    f.LocalHoldingIdentifierFactory(scheme="ncid", value="BA51293930")
    assert refused_codes(undergraduate, loan(undergraduate, ncid="BA51293930")) == ["held_here"]


def test_a_journal_held_electronically_gives_a_warning_not_a_refusal(undergraduate):
    f.LocalHoldingIdentifierFactory(
        scheme="issn", value="0028-0836", holding__title="Nature", holding__is_electronic=True
    )
    results = services.preview(patron=undergraduate, request=copy(undergraduate, issn="0028-0836"))
    held = next(r for r in results if r.code == "held_here")
    assert held.outcome == "warn" and "electronically" in str(held.message)
    assert submit(undergraduate, copy(undergraduate, issn="0028-0836")).status == "submitted"


# --- §3.4 not loanable ----------------------------------------------------------------------


def test_a_book_from_before_1945_is_refused_as_a_loan_but_may_be_copied(undergraduate):
    assert refused_codes(undergraduate, loan(undergraduate, pub_year=1944)) == ["not_loanable_pre_1945"]
    assert submit(undergraduate, loan(undergraduate, pub_year=1945)).status == "submitted"
    assert (
        submit(
            undergraduate,
            copy(undergraduate, material_type="chapter", title="Old book", pub_year=1930, work_total_pages=300),
        ).status
        == "submitted"
    )


def test_a_serial_is_refused_as_a_loan(undergraduate):
    assert refused_codes(undergraduate, loan(undergraduate, material_type="serial")) == ["not_loanable_serial"]


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC))
def test_a_new_publication_is_refused_by_the_window_setting(undergraduate, settings):
    settings.ILL_NEW_PUBLICATION_MONTHS = 6
    assert refused_codes(undergraduate, loan(undergraduate, pub_year=2026)) == ["not_loanable_new"]
    assert submit(undergraduate, loan(undergraduate, pub_year=2025, title="Last year")).status == "submitted"
    settings.ILL_NEW_PUBLICATION_MONTHS = 12
    assert refused_codes(undergraduate, loan(undergraduate, pub_year=2025, title="Last year 2")) == ["not_loanable_new"]


def test_rare_reference_large_and_japanese_bound_books_are_staff_reject_reasons():
    reasons = set(Request.RejectReason.values)
    assert {"rare", "reference", "large", "japanese_binding"} <= reasons


# --- §3.5 copyright -----------------------------------------------------------------------


def test_copies_are_for_research_or_study_only(undergraduate):
    assert refused_codes(undergraduate, copy(undergraduate, purpose="other")) == ["copyright_purpose"]
    assert submit(undergraduate, copy(undergraduate, purpose="study")).status == "submitted"


def test_the_patron_must_accept_copyright_responsibility(undergraduate):
    assert refused_codes(undergraduate, copy(undergraduate, copyright_accepted=False)) == ["copyright_accept"]


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC))
def test_the_latest_issue_of_a_monthly_cannot_be_copied_until_the_next_is_due(undergraduate):
    latest = copy(undergraduate, periodical_frequency="monthly", issue_date=datetime.date(2026, 11, 1))
    assert refused_codes(undergraduate, latest) == ["copyright_latest_issue"]
    older = copy(
        undergraduate,
        periodical_frequency="monthly",
        issue_date=datetime.date(2026, 10, 23),
        article_title="Older article",
    )
    assert submit(undergraduate, older).status == "submitted"


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC))
def test_a_quarterly_may_be_copied_three_months_after_publication(undergraduate):
    recent = copy(undergraduate, periodical_frequency="quarterly", issue_date=datetime.date(2026, 8, 24))
    assert refused_codes(undergraduate, recent) == ["copyright_latest_issue"]
    old_enough = copy(
        undergraduate,
        periodical_frequency="quarterly",
        issue_date=datetime.date(2026, 8, 23),
        article_title="Old enough",
    )
    assert submit(undergraduate, old_enough).status == "submitted"


def test_half_or_more_of_a_book_is_refused_49_of_100_allowed(undergraduate):
    half = copy(undergraduate, material_type="chapter", title="A book", page_count=50, work_total_pages=100)
    with pytest.raises(rules.RulesRefused) as refused:
        submit(undergraduate, half)
    assert refused.value.code == "copyright_half"
    assert "50 of 100" in str(refused.value)
    less = copy(
        undergraduate,
        material_type="chapter",
        title="A book",
        page_count=49,
        work_total_pages=100,
        article_title="Chapter 3",
    )
    assert submit(undergraduate, less).status == "submitted"


def test_a_whole_article_in_a_back_issue_is_exempt_from_the_half_rule(undergraduate):
    article = copy(
        undergraduate,
        page_count=40,
        work_total_pages=60,
        periodical_frequency="monthly",
        issue_date=datetime.date(2020, 1, 1),
    )
    assert submit(undergraduate, article).status == "submitted"


def test_one_copy_per_person_of_the_same_article(undergraduate, doctoral):
    first = submit(undergraduate, copy(undergraduate, doi="10.1038/171737a0", article_title="Molecular structure"))
    with pytest.raises(rules.RulesRefused) as refused:
        submit(undergraduate, copy(undergraduate, doi="10.1038/171737a0", article_title="Molecular Structure"))
    assert refused.value.code == "duplicate" and first.number in str(refused.value)
    assert refused_codes(undergraduate, copy(undergraduate, article_title="molecular  structure")) == ["duplicate"]
    assert submit(doctoral, copy(doctoral, doi="10.1038/171737a0")).status == "submitted"


def test_staff_override_the_copyright_rule_with_a_reason(undergraduate, staff_user):
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(codename="override_rules"))
    staff_user = type(staff_user).objects.get(pk=staff_user.pk)
    created = services.submit_request(
        patron=undergraduate,
        actor=staff_user,
        overrides={"copyright": "author's permission on file"},
        request=copy(undergraduate, material_type="chapter", page_count=80, work_total_pages=100),
    )
    assert created.copyright_override_reason == "author's permission on file"


# --- §3.6 budget code ---------------------------------------------------------------------


def test_public_expense_needs_a_budget_code(doctoral):
    assert refused_codes(doctoral, loan(doctoral, expense_type="public")) == ["budget_missing"]


def test_a_member_of_the_codes_lab_may_charge_it(doctoral, public_code):
    created = submit(doctoral, loan(doctoral, expense_type="public", budget_code=public_code))
    assert created.budget_code == public_code


def test_a_patron_outside_the_code_is_refused(undergraduate, public_code):
    assert refused_codes(undergraduate, loan(undergraduate, expense_type="public", budget_code=public_code)) == [
        "budget_not_open"
    ]


def test_a_named_member_may_charge_a_code_without_a_lab(undergraduate, faculty):
    grant = f.BudgetCodeFactory(kind="grant", responsible=faculty, members=[undergraduate])
    assert submit(undergraduate, loan(undergraduate, expense_type="grant", budget_code=grant)).budget_code == grant


@pytest.mark.parametrize("change", [{"fiscal_year": 2020}, {"active": False}, {"usable_for_ill": False}])
def test_a_code_of_another_year_inactive_or_not_for_ill_is_refused(doctoral, public_code, change):
    for name, value in change.items():
        setattr(public_code, name, value)
    public_code.save()
    assert refused_codes(doctoral, loan(doctoral, expense_type="public", budget_code=public_code)) == [
        "budget_not_open"
    ]


def test_a_request_estimated_above_what_is_left_is_refused_with_the_amount_left(doctoral, public_code, lender):
    public_code.limit = 1000
    public_code.save()
    with pytest.raises(rules.RulesRefused) as refused:
        submit(doctoral, loan(doctoral, expense_type="public", budget_code=public_code))
    assert refused.value.code == "budget_exceeded"
    assert "¥1,000" in str(refused.value)


# --- §3.8 hard to obtain, and the rest -----------------------------------------------------


@pytest.mark.parametrize("material", ["thesis", "proceedings", "audiovisual", "other"])
def test_hard_to_obtain_material_gets_a_warning_and_is_accepted(undergraduate, material):
    request = loan(undergraduate, material_type=material)
    results = {r.code: r for r in services.preview(patron=undergraduate, request=request)}
    assert results["hard_to_obtain"].outcome == "warn"
    assert submit(undergraduate, loan(undergraduate, material_type=material)).status == "submitted"


def test_a_blocked_patron_cannot_submit(undergraduate):
    undergraduate.blocked, undergraduate.block_reason = True, "unpaid charges"
    undergraduate.save()
    with pytest.raises(ServiceError) as refused:
        submit(undergraduate, loan(undergraduate))
    assert refused.value.code == "patron_blocked"


def test_every_refusal_is_reported_at_once_and_nothing_is_saved(undergraduate):
    for _ in range(5):
        f.RequestFactory(patron=undergraduate)
    codes = refused_codes(undergraduate, loan(undergraduate, pub_year=1900, material_type="serial"))
    assert codes == ["loan_limit", "not_loanable_serial"]
    assert Request.objects.filter(patron=undergraduate).count() == 5


def test_a_past_not_needed_after_date_is_refused(undergraduate):
    request = loan(undergraduate, not_needed_after=timezone.localdate() - datetime.timedelta(days=1))
    assert refused_codes(undergraduate, request) == ["not_needed_after"]


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC))
def test_a_recent_article_needs_the_frequency_and_the_issue_date(undergraduate):
    recent = {"pub_year": 2026}
    assert refused_codes(undergraduate, copy(undergraduate, **recent)) == ["copyright_frequency"]
    assert refused_codes(undergraduate, copy(undergraduate, periodical_frequency="monthly", **recent)) == [
        "copyright_issue_date"
    ]
    assert refused_codes(
        undergraduate,
        copy(undergraduate, periodical_frequency="weekly", pub_year=2026, issue_date=datetime.date(2026, 11, 21)),
    ) == ["copyright_latest_issue"]
    assert submit(undergraduate, copy(undergraduate, pub_year=2024)).status == "submitted"  # two years back


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC))
def test_a_serial_issue_is_a_periodical_whatever_frequency_is_chosen(undergraduate):
    """A journal volume or a newspaper issue (material "serial") is held to the latest-issue rule
    like an article: "not a periodical" does not let it past without its frequency and date."""
    serial = {"material_type": "serial", "pub_year": 2026, "work_total_pages": 100}
    assert refused_codes(undergraduate, copy(undergraduate, **serial)) == ["copyright_frequency"]
    assert refused_codes(undergraduate, copy(undergraduate, periodical_frequency="monthly", **serial)) == [
        "copyright_issue_date"
    ]


def test_each_kind_lists_only_the_rules_that_apply_to_it(undergraduate):
    """A copy's confirmation page does not list the five-book limit, the overdue-book rule or the
    loanable rule; a loan's does not list the copyright rule (issue 13)."""
    book, article = loan(undergraduate), copy(undergraduate)
    book.patron = article.patron = undergraduate
    loan_codes = [r.code for r in rules.evaluate(book)]
    copy_codes = [r.code for r in rules.evaluate(article)]
    assert {"loan_limit", "overdue", "loanable"} <= set(loan_codes) and "copyright" not in loan_codes
    assert "copyright" in copy_codes and not {"loan_limit", "overdue", "loanable"} & set(copy_codes)
    assert {"duplicate", "held_here", "budget_code"} <= set(loan_codes) & set(copy_codes)
