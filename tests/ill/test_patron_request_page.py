"""The patron's request page keeps the estimate after submission and says where, when and with
what to collect the item — the arrival e-mail is no longer the only place (issue 13)."""

import datetime

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}


@pytest.fixture
def hanako(client, undergraduate):
    f.OpeningHoursFactory(branch=undergraduate.home_branch, weekday=0)
    client.force_login(undergraduate.user)
    return client


def page(client, request):
    return client.get(f"/my/requests/{request.number}/", headers=EN).content.decode()


def test_a_submitted_copy_shows_the_estimates_the_hours_and_what_to_bring(hanako, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, expense_type="private")
    html = page(hanako, request)
    assert 'data-testid="estimate"' in html and "¥" in html.split('data-testid="estimate"')[1][:400]
    assert "3 days to 1 week" in html  # the time estimate for ordinary mail
    assert "When it arrives" in html
    assert "Weekdays between 08:45 and 17:00" in html  # a private-expense item: the cashier's window
    assert "Your student or staff ID card." in html
    assert "The charge in cash, the exact amount" in html


def test_an_ordered_request_shows_the_estimate_for_its_lender(hanako, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, estimate=1234)
    html = page(hanako, request)
    assert "¥1,234" in html and "at the lender it was sent to" in html


def test_an_arrived_private_loan_says_how_much_cash_and_the_return_stamps(hanako, undergraduate, lender):
    request = f.RequestFactory(
        patron=undergraduate, status="arrived", lender=lender, due_date=datetime.date.today() + datetime.timedelta(14)
    )
    f.ChargeFactory(request=request, total=1500, return_postage=520, state="due", payment_class="private")
    html = page(hanako, request)
    assert "Collecting it" in html and "Estimated cost" not in html
    bring = html.split('data-testid="what-to-bring"')[1][:800]
    assert "ID card" in bring and "in cash" in bring and "¥520" in bring


def test_a_budget_paid_request_asks_for_no_cash_and_a_finished_one_shows_no_card(hanako, undergraduate):
    paid = f.CopyRequestFactory(patron=undergraduate, expense_type="public", budget_code=f.BudgetCodeFactory())
    html = page(hanako, paid)
    assert (
        "you pay nothing at the counter" in html and "in cash" not in html.split('data-testid="what-to-bring"')[1][:600]
    )
    assert "Monday 08:45–21:00" in html  # the branch's opening hours
    done = f.CopyRequestFactory(patron=undergraduate, status="handed_over")
    assert 'data-testid="what-to-expect"' not in page(hanako, done)


@pytest.mark.parametrize("kind", ["loan", "copy"])
def test_what_to_read_before_applying_comes_before_the_button(hanako, kind):
    """At 390 px the columns stack in page order: the rules and the usual time and cost must come
    before "Check and continue" (they came after it)."""
    html = hanako.get(f"/my/requests/new/{kind}/", headers=EN).content.decode()
    button = html.index('data-testid="to-confirm"')
    assert html.index("Before you request") < button
    assert html.index("Usual time and cost") < button
    if kind == "loan":
        assert "Copyright law: for research" not in html
    else:
        assert "You may have up to" not in html


def test_a_form_with_problems_opens_with_a_summary_linking_each_field(hanako):
    response = hanako.post("/my/requests/new/loan/", {"step": "confirm", "title": "", "pub_year": "12"}, headers=EN)
    assert response.status_code == 400
    html = response.content.decode()
    summary = html[html.index("data-error-summary") : html.index("</div>", html.index("data-error-summary"))]
    assert "Please correct" in summary and 'tabindex="-1"' in html
    assert 'href="#id_title"' in summary and 'href="#id_pub_year"' in summary
    assert 'aria-describedby="error_1_id_title' in html or 'aria-invalid="true"' in html
