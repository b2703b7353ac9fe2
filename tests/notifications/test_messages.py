"""Every message of DESIGN.md §8, rendered in Japanese and English, carries the facts it must:
where, when, how much, what to bring, the due date, restrictions (seeds 000 and 004)."""

import datetime

import pytest

from fees.models import Charge
from ill.models import ExtensionRequest
from ill.notices import TEMPLATES, request_context
from notifications.services import render
from tests import factories as f

pytestmark = pytest.mark.django_db

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def ja_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def en_date(day: datetime.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def on(language, day):
    return ja_date(day) if language == "ja" else en_date(day)


def yen(language, amount):
    return f"{amount:,}円" if language == "ja" else f"¥{amount:,}"


@pytest.fixture
def branch_with_hours(branch):
    f.OpeningHoursFactory(branch=branch, weekday=0, opens=datetime.time(8, 45), closes=datetime.time(21, 0))
    f.OpeningHoursFactory(branch=branch, weekday=5, opens=datetime.time(10, 0), closes=datetime.time(17, 0))
    return branch


def messages(kind, request, language, **extra):
    context = {**request_context(request), **extra}
    subject, text, html = render(TEMPLATES, kind, language, context)
    return subject, text, html


def both(kind, request, language, *facts, **extra):
    subject, text, html = messages(kind, request, language, **extra)
    assert request.number in subject
    for fact in facts:
        assert fact in text, f"{kind}/{language}: {fact!r} missing from the text"
        assert fact in html, f"{kind}/{language}: {fact!r} missing from the HTML"
    return subject, text, html


LANGUAGES = pytest.mark.parametrize("language", ["ja", "en"])


@LANGUAGES
def test_received(language, undergraduate):
    request = f.RequestFactory(patron=undergraduate, title="統計的学習の基礎")
    both("received", request, language, "統計的学習の基礎")


@LANGUAGES
def test_rejected_gives_the_reason(language, undergraduate):
    request = f.RequestFactory(
        patron=undergraduate, status="rejected", reject_reason="japanese_binding", status_note="和装本のため"
    )
    reason = "和装本" if language == "ja" else "Japanese binding"
    both("rejected", request, language, reason, "和装本のため")


@LANGUAGES
def test_cancelled_gives_the_reason(language, undergraduate):
    request = f.RequestFactory(patron=undergraduate, status="cancelled", status_note="found it in the library")
    both("cancelled", request, language, "found it in the library")


@LANGUAGES
def test_ordered_and_unfilled(language, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    both("ordered", request, language, request.display_title)
    request.status, request.close_reason = "closed", "unfilled"
    both("unfilled", request, language, request.display_title)


def arrived_private_loan(patron, lender, **fields):
    request = f.RequestFactory(
        patron=patron, status="arrived", lender=lender, due_date=f.future(11), lender_due_date=f.future(14), **fields
    )
    f.ChargeFactory(request=request, total=1600, computed_total=1600, return_postage=800, state="due")
    return request


@LANGUAGES
def test_arrived_private_loan_says_where_when_how_much_and_what_to_bring(
    language, undergraduate, branch_with_hours, lender
):
    request = arrived_private_loan(undergraduate, lender, use_restriction="in_library", pickup_branch=branch_with_hours)
    counter = "資料サービスカウンター" if language == "ja" else "Circulation counter"
    branch_name = "中央図書館" if language == "ja" else "Central Library"
    restriction = "館内" if language == "ja" else "In-library use only"
    _s, text, _h = both(
        "arrived",
        request,
        language,
        branch_name,
        counter,
        "08:45",
        "17:00",
        yen(language, 800),
        on(language, request.due_date),
        restriction,
    )
    stamps = "切手" if language == "ja" else "stamps"
    assert stamps in text
    assert yen(language, 1600) not in text  # only the outbound half in cash; the rest in stamps


@LANGUAGES
def test_arrived_public_loan_asks_for_the_postal_bar_code_and_opening_hours(
    language, doctoral, branch_with_hours, lender, public_code
):
    request = f.RequestFactory(
        patron=doctoral,
        status="arrived",
        lender=lender,
        due_date=f.future(11),
        expense_type="public",
        budget_code=public_code,
        pickup_branch=branch_with_hours,
    )
    f.ChargeFactory(request=request, payment_class="public", budget_code=public_code, state="settled")
    barcode = "バーコード" if language == "ja" else "bar code"
    both("arrived", request, language, barcode, "21:00", public_code.code)


@LANGUAGES
def test_arrived_public_copy_goes_to_the_lab_by_campus_mail(language, doctoral, lender, public_code):
    request = f.CopyRequestFactory(
        patron=doctoral, status="arrived", lender=lender, expense_type="public", budget_code=public_code
    )
    lab = doctoral.laboratory.name if language == "ja" else doctoral.laboratory.name_en
    subject, text, _h = both("arrived", request, language, lab)
    assert ("学内便" if language == "ja" else "campus mail") in text


@LANGUAGES
def test_due_soon(language, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(3))
    f.ChargeFactory(request=request, total=1600, computed_total=1600, return_postage=800, state="paid")
    both("due_soon", request, language, on(language, request.due_date), yen(language, 800), days_left=3)


@LANGUAGES
def test_overdue_says_how_late_and_that_new_loans_wait(language, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(-5))
    subject, text, _h = both("overdue", request, language, on(language, request.due_date), days_overdue=5, reminder=2)
    assert "5" in text
    assert ("2回目" if language == "ja" else "Second") in subject


@LANGUAGES
def test_not_collected(language, undergraduate, lender):
    request = arrived_private_loan(undergraduate, lender)
    collect_by = f.future(7)
    both(
        "not_collected",
        request,
        language,
        on(language, collect_by),
        yen(language, 800),
        days_waiting=14,
        collect_by=collect_by,
    )


@LANGUAGES
def test_extension_granted_and_refused(language, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(5))
    granted = ExtensionRequest(request=request, state="granted", new_due_date=f.future(19))
    both("extension_granted", request, language, on(language, f.future(19)), extension=granted)
    refused = ExtensionRequest(request=request, state="refused", answer_note="予約者あり")
    both("extension_refused", request, language, on(language, request.due_date), "予約者あり", extension=refused)


@LANGUAGES
def test_charge_acceptance_gives_both_amounts(language, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="arrived", lender=lender, max_cost=500)
    f.ChargeFactory(request=request, total=1400, computed_total=1400, state=Charge.State.AWAITING_ACCEPTANCE)
    both("charge_acceptance", request, language, yen(language, 1400), yen(language, 500))


@LANGUAGES
def test_staff_digest_lists_the_new_requests(language, branch, undergraduate):
    new = [f.RequestFactory(patron=undergraduate), f.CopyRequestFactory(patron=undergraduate)]
    subject, text, html = render(
        TEMPLATES,
        "staff_digest",
        language,
        {
            "branch": branch,
            "requests": new,
            "count": 2,
            "day": datetime.date(2026, 11, 24),
            "desk_url": "http://127.0.0.1:8000/desk/",
        },
    )
    assert "2" in subject
    for request in new:
        assert request.number in text and request.number in html


@LANGUAGES
@pytest.mark.parametrize("level", ["80", "closed"])
def test_budget_alert(language, level):
    subject, text, html = render(
        "fees/email",
        "budget_alert",
        language,
        {
            "scope": "support",
            "level": level,
            "name": "FY2026",
            "spent": 240000,
            "total": 300000,
            "percent": 80,
            "responsible": "",
            "admin_url": "http://127.0.0.1:8000/admin/fees/supportbudget/1/change/",
        },
    )
    assert "FY2026" in subject + text
    assert yen(language, 300000) in text
    assert "/admin/fees/supportbudget/1/change/" in text
