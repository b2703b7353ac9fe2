"""Pages: who may see what, and bad input answered with a 4xx and a message, never a 500."""

import pytest
from django.urls import reverse

from ill.models import Request
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanako_client(client, undergraduate):
    client.force_login(undergraduate.user)
    return client


@pytest.fixture
def desk_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    for url in ("/", "/my/", "/desk/", "/my/requests/new/loan/", "/openurl?isbn=9784320123625"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_patron_cannot_open_the_desk(hanako_client):
    assert hanako_client.get("/desk/").status_code == 403
    assert hanako_client.get("/desk/requests/").status_code == 403


def test_a_patron_sees_only_their_own_requests(hanako_client, doctoral):
    theirs = f.RequestFactory(patron=doctoral)
    assert hanako_client.get(f"/my/requests/{theirs.number}/").status_code == 404
    assert hanako_client.post(f"/my/requests/{theirs.number}/cancel/").status_code == 404


def test_a_patron_submits_a_loan_and_the_isbn_is_normalised(hanako_client, undergraduate):
    response = hanako_client.post(
        "/my/requests/new/loan/",
        {
            "step": "submit",
            "material_type": "book",
            "title": "統計的学習の基礎",
            "author": "Hastie",
            "isbn": "４－３２０－１２３６２－Ｘ",
            "pickup_branch": undergraduate.home_branch.pk,
            "scope": "domestic",
            "expense_type": "private",
        },
    )
    request = Request.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/my/requests/{request.number}/"
    assert request.isbn == "9784320123625"
    assert (request.kind, request.status, request.patron) == ("loan", "submitted", undergraduate)


def test_a_bad_isbn_is_refused_with_the_form_kept(hanako_client, undergraduate):
    response = hanako_client.post(
        "/my/requests/new/loan/",
        {
            "step": "submit",
            "material_type": "book",
            "title": "統計的学習の基礎",
            "isbn": "978-4-320-12362-0",
            "pickup_branch": undergraduate.home_branch.pk,
            "scope": "domestic",
            "expense_type": "private",
        },
    )
    assert response.status_code == 400
    assert "統計的学習の基礎" in response.content.decode()
    assert not Request.objects.exists()


def test_public_expense_needs_a_budget_code(hanako_client, undergraduate):
    response = hanako_client.post(
        "/my/requests/new/loan/",
        {
            "step": "submit",
            "material_type": "book",
            "title": "Book",
            "pickup_branch": undergraduate.home_branch.pk,
            "scope": "domestic",
            "expense_type": "public",
        },
    )
    assert response.status_code == 400
    assert not Request.objects.exists()


def test_a_patron_cancels_before_ordering(hanako_client, undergraduate):
    request = f.RequestFactory(patron=undergraduate)
    response = hanako_client.post(f"/my/requests/{request.number}/cancel/", {"reason": "found it"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "cancelled"


def test_a_patron_cannot_cancel_once_ordered(hanako_client, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    response = hanako_client.post(f"/my/requests/{request.number}/cancel/")
    assert response.status_code == 409
    request.refresh_from_db()
    assert request.status == "ordered"


def test_cancel_needs_post(hanako_client, undergraduate):
    request = f.RequestFactory(patron=undergraduate)
    assert hanako_client.get(f"/my/requests/{request.number}/cancel/").status_code == 405


def test_the_desk_pages_load(desk_client, lender):
    request = f.RequestFactory()
    assert desk_client.get("/desk/").status_code == 200
    assert desk_client.get("/desk/requests/?status=submitted&q=Book&page=abc").status_code == 200
    assert desk_client.get(f"/desk/requests/{request.number}/").status_code == 200


def test_an_unknown_action_is_a_404(desk_client):
    request = f.RequestFactory()
    assert desk_client.post(f"/desk/requests/{request.number}/explode/").status_code == 404


def test_an_action_the_state_does_not_allow_is_a_409(desk_client, lender):
    request = f.RequestFactory()
    response = desk_client.post(f"/desk/requests/{request.number}/hand_over/", {})
    assert response.status_code == 409
    request.refresh_from_db()
    assert request.status == "submitted"


def test_an_invalid_action_form_is_a_400_and_changes_nothing(desk_client):
    request = f.RequestFactory()
    response = desk_client.post(
        f"/desk/requests/{request.number}/order/", {"lender_1": "999999", "shipping_method": "mail"}
    )
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == "submitted"


def test_a_refused_service_call_shows_its_message(desk_client, faculty, public_code):
    outside = f.LendingInstitutionFactory(is_offset_participant=False, accepts_public_expense=False, name="海洋研")
    request = f.RequestFactory(patron=faculty, expense_type="public", budget_code=public_code)
    response = desk_client.post(
        f"/desk/requests/{request.number}/order/", {"lender_1": outside.code, "shipping_method": "mail"}
    )
    assert response.status_code == 400
    assert "海洋研" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "submitted"


def test_staff_order_through_the_desk(desk_client, lender, staff_user):
    request = f.RequestFactory()
    response = desk_client.post(
        f"/desk/requests/{request.number}/order/",
        {"lender_1": lender.code, "shipping_method": "mail", "lender_reference": "X-1"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.lender, request.lender_reference) == ("ordered", lender, "X-1")
    assert request.events.get(action="order").actor == staff_user


def test_login_switches_to_the_patrons_language(client, doctoral):
    response = client.post("/accounts/login/", {"username": "wei", "password": "pw"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


@pytest.mark.parametrize("number", ["%00", "ILL-%FF", "9" * 500, "ILL-2026-000001%20OR%201=1"])
def test_garbage_request_numbers_are_404(client, undergraduate, staff_user, number):
    client.force_login(undergraduate.user)
    assert client.get(f"/my/requests/{number}/").status_code == 404
    client.force_login(staff_user)
    assert client.get(f"/desk/requests/{number}/").status_code == 404


def test_every_admin_page_loads(admin_client, lender):
    from django.contrib import admin

    f.RequestFactory()
    for model in admin.site._registry:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change


def test_the_status_cannot_be_edited_in_the_admin(admin_client):
    request = f.RequestFactory()
    response = admin_client.get(reverse("admin:ill_request_change", args=[request.pk]))
    assert 'name="status"' not in response.content.decode()


def test_a_nul_byte_in_the_desk_search_is_refused_not_a_500(desk_client):
    assert desk_client.get("/desk/requests/?q=%00abc").status_code == 400


def test_the_dashboard_shows_open_requests_and_the_newest_finished_ones(hanako_client, undergraduate):
    open_one = f.RequestFactory(patron=undergraduate, status="ordered")
    finished = [f.RequestFactory(patron=undergraduate, status="closed") for _ in range(25)]
    page = hanako_client.get("/my/").content.decode()
    assert open_one.number in page
    assert sum(r.number in page for r in finished) == 20
    assert "?finished=all" in page
    page = hanako_client.get("/my/?finished=all").content.decode()
    assert all(r.number in page for r in finished)
