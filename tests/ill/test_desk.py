"""The circulation desk: every staff action allowed and refused, the lender cascade, worklists,
the queue's query count, bulk actions, patrons, requests on a patron's behalf, print-outs."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import ServiceError
from fees import charges as fees_charges
from ill import services, worklists
from ill.models import ExtensionRequest, Request
from patrons.models import StaffMember
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    return client


def act(desk, request, action, data=None):
    return desk.post(f"/desk/requests/{request.number}/{action}/", data or {})


def status_of(request):
    request.refresh_from_db()
    return request.status


# --- each action, allowed and refused -------------------------------------------------------


def test_review_then_order(desk, lender, staff_user):
    request = f.RequestFactory()
    assert act(desk, request, "review", {"note": "citation checked in CiNii"}).status_code == 302
    request.refresh_from_db()
    assert request.reviewed_at is not None
    assert act(desk, request, "review").status_code == 409  # once
    assert act(desk, request, "order", {"lender_1": lender.code, "shipping_method": "mail"}).status_code == 302
    assert status_of(request) == "ordered"
    assert act(desk, request, "order", {"lender_1": lender.code, "shipping_method": "mail"}).status_code == 409


@pytest.mark.parametrize("reason", ["rare", "reference", "large", "japanese_binding"])
def test_reject_with_the_reasons_staff_find_on_review(desk, reason):
    request = f.RequestFactory()
    assert act(desk, request, "reject", {"reason": reason, "note": ""}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.reject_reason) == ("rejected", reason)
    assert act(desk, request, "reject", {"reason": reason}).status_code == 409


def test_reject_needs_a_reason(desk):
    request = f.RequestFactory()
    assert act(desk, request, "reject", {"reason": ""}).status_code == 400
    assert status_of(request) == "submitted"


def test_the_cascade_through_three_lenders_to_none_left(desk, staff_user):
    lenders = [f.FeeScheduleFactory().lender for _ in range(3)]
    request = f.RequestFactory()
    act(
        desk,
        request,
        "order",
        {
            "lender_1": lenders[0].code,
            "lender_2": lenders[1].code,
            "lender_3": lenders[2].code,
            "shipping_method": "mail",
        },
    )
    for n in range(3):
        request.refresh_from_db()
        assert (request.status, request.lender) == ("ordered", lenders[n])
        assert act(desk, request, "mark_unfilled", {"reason": "not_held", "note": f"no {n}"}).status_code == 302
    request.refresh_from_db()
    assert request.status == "unfilled"
    assert list(request.candidates.values_list("state", flat=True)) == ["unfilled"] * 3
    hops = list(request.events.filter(action__in=["order", "mark_unfilled"]).values_list("action", "data__lender"))
    assert hops == [
        ("order", lenders[0].pk),
        ("mark_unfilled", lenders[0].pk),
        ("order", lenders[1].pk),
        ("mark_unfilled", lenders[1].pk),
        ("order", lenders[2].pk),
        ("mark_unfilled", lenders[2].pk),
    ]
    page = desk.get(f"/desk/requests/{request.number}/")
    assert 'data-action="close_unfilled"' in page.content.decode()
    assert act(desk, request, "close_unfilled", {"note": "none left"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.close_reason) == ("closed", "unfilled")


def test_unfilled_may_be_ordered_from_a_new_lender(desk, lender, second_lender):
    request = f.RequestFactory()
    act(desk, request, "order", {"lender_1": lender.code, "shipping_method": "mail"})
    act(desk, request, "mark_unfilled", {"reason": "on_loan"})
    assert act(desk, request, "order", {"lender_1": second_lender.code, "shipping_method": "mail"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.lender) == ("ordered", second_lender)
    assert request.candidates.count() == 2


def test_arrival_payment_hand_over_return_send_back(desk, lender, undergraduate):
    request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    assert act(desk, request, "hand_over").status_code == 409
    assert (
        act(
            desk,
            request,
            "record_arrival",
            {"lender_due_date": f.future(21).isoformat(), "use_restriction": "in_library"},
        ).status_code
        == 302
    )
    assert status_of(request) == "arrived"
    assert act(desk, request, "hand_over").status_code == 400  # not paid yet
    assert act(desk, request, "payment", {"amount": 799, "receipt_number": "R1"}).status_code == 400
    assert act(desk, request, "payment", {"amount": 800, "receipt_number": "R1"}).status_code == 302
    assert act(desk, request, "hand_over").status_code == 302
    assert status_of(request) == "on_loan"
    assert act(desk, request, "send_back").status_code == 409
    assert act(desk, request, "return_by_patron", {"stamps_amount": 800}).status_code == 302
    assert status_of(request) == "returned"
    assert act(desk, request, "send_back").status_code == 302
    assert status_of(request) == "closed"


def test_notify_sends_the_arrival_notice_again(desk, lender, undergraduate, django_capture_on_commit_callbacks):
    request = f.RequestFactory(patron=undergraduate, status="arrived", lender=lender)
    with django_capture_on_commit_callbacks(execute=True):
        assert act(desk, request, "notify").status_code == 302
    request.refresh_from_db()
    assert request.notified_at is not None
    assert request.messages.filter(kind="arrived").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert act(desk, request, "notify").status_code == 400  # a double click sends nothing more
    assert request.messages.filter(kind="arrived").count() == 1
    with time_machine.travel(datetime.timedelta(minutes=11)):
        with django_capture_on_commit_callbacks(execute=True):
            assert act(desk, request, "notify").status_code == 302
    assert request.messages.filter(kind="arrived").count() == 2
    assert act(desk, f.RequestFactory(), "notify").status_code == 409


def test_close_as_not_collected(desk, lender):
    request = f.RequestFactory(status="arrived", lender=lender)
    assert act(desk, request, "close_not_collected").status_code == 302
    request.refresh_from_db()
    assert (request.status, request.close_reason) == ("closed", "not_collected")


def test_extension_requested_forwarded_granted(desk, undergraduate, lender, settings):
    settings.ILL_DUE_DATE_MARGIN_DAYS = 3
    request = f.RequestFactory(
        patron=undergraduate, status="on_loan", lender=lender, lender_due_date=f.future(10), due_date=f.future(7)
    )
    services.request_extension(request, actor=undergraduate.user, reason="still writing")
    assert act(desk, request, "extension_forward", {"note": "asked by NACSIS-ILL"}).status_code == 302
    assert act(desk, request, "extension_forward").status_code == 409  # already forwarded
    assert act(desk, request, "extension_grant", {"new_lender_due_date": f.future(5).isoformat()}).status_code == 400
    assert act(desk, request, "extension_grant", {"new_lender_due_date": f.future(24).isoformat()}).status_code == 302
    request.refresh_from_db()
    assert (request.lender_due_date, request.due_date) == (f.future(24), f.future(21))
    extension = request.extensions.get()
    assert (extension.state, extension.new_due_date) == ("granted", f.future(21))
    assert request.messages.filter(kind="extension_granted").exists()
    assert act(desk, request, "extension_refuse").status_code == 409


def test_extension_refused_keeps_the_due_date(desk, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(7))
    services.request_extension(request, actor=undergraduate.user)
    assert act(desk, request, "extension_refuse", {"note": "reserved by another reader"}).status_code == 302
    request.refresh_from_db()
    assert request.due_date == f.future(7)
    assert request.extensions.get().state == ExtensionRequest.State.REFUSED
    assert request.messages.filter(kind="extension_refused").exists()


def test_a_patron_cannot_ask_twice_for_an_extension(undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate, status="on_loan", lender=lender, due_date=f.future(7))
    services.request_extension(request, actor=undergraduate.user)
    with pytest.raises(ServiceError):
        services.request_extension(request, actor=undergraduate.user)


def test_a_shipment_records_several_arrivals_from_one_lender(desk, lender, undergraduate):
    requests = [
        f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=5) for _ in range(3)
    ]
    data = {"lender": lender.pk, "delivery": "mail", "step": "record", "line-TOTAL_FORMS": 3, "line-INITIAL_FORMS": 3}
    for n, request in enumerate(requests):
        data[f"line-{n}-request_id"] = request.pk
        data[f"line-{n}-pages"] = 5
        data[f"line-{n}-colour_pages"] = 0
        data[f"line-{n}-use_restriction"] = "none"
        if n < 2:
            data[f"line-{n}-arrived"] = "on"
    assert desk.post("/desk/shipments/new/", data).status_code == 302
    assert [status_of(r) for r in requests] == ["arrived", "arrived", "ordered"]
    charges = [fees_charges.charge_of(r).total for r in requests[:2]]
    assert sum(charges) == 35 * 10 + 140


# --- bulk -----------------------------------------------------------------------------------


def test_bulk_send_back_reports_each_request(desk, lender):
    returned = [f.RequestFactory(status="returned", lender=lender) for _ in range(2)]
    on_loan = f.RequestFactory(status="on_loan", lender=lender)
    response = desk.post(
        "/desk/requests/bulk/",
        {"action": "send_back", "selected": [r.number for r in returned + [on_loan]], "next": "/desk/requests/"},
    )
    assert response.status_code == 302 and response["Location"] == "/desk/requests/"
    assert [status_of(r) for r in returned] == ["closed", "closed"]
    assert status_of(on_loan) == "on_loan"


def test_bulk_refuses_an_outside_redirect(desk):
    response = desk.post(
        "/desk/requests/bulk/",
        {"action": "mark_reviewed", "selected": [f.RequestFactory().number], "next": "https://evil.example/"},
    )
    assert response["Location"] == "/desk/requests/"


# --- worklists and the queue ----------------------------------------------------------------


def test_worklists_count_what_waits_at_the_counter(lender, settings):
    settings.ILL_DUE_SOON_DAYS = 3
    f.RequestFactory()
    f.RequestFactory(reviewed_at="2026-11-20T10:00:00+09:00")
    f.RequestFactory(status="unfilled", lender=lender)
    f.RequestFactory(status="arrived", lender=lender)
    f.RequestFactory(status="on_loan", due_date=f.future(2), lender=lender)
    f.RequestFactory(status="on_loan", due_date=f.future(-2), lender=lender)
    f.RequestFactory(status="returned", lender=lender)
    counts = worklists.desk_counts()
    assert (
        counts["review"],
        counts["order"],
        counts["unfilled"],
        counts["not_notified"],
        counts["due_soon"],
        counts["overdue"],
        counts["send_back"],
    ) == (1, 1, 1, 1, 1, 1, 1)


def test_staff_start_with_their_branch_but_see_every_branch(desk, staff_user, branch, medical_branch):
    StaffMember.objects.create(user=staff_user, branch=medical_branch)
    here = f.RequestFactory(pickup_branch=medical_branch, patron__home_branch=medical_branch)
    there = f.RequestFactory(pickup_branch=branch)
    page = desk.get("/desk/requests/").content.decode()
    assert here.number in page and there.number not in page
    page = desk.get("/desk/requests/?branch=").content.decode()
    assert here.number in page and there.number in page


@pytest.mark.parametrize(
    "query",
    [
        "worklist=overdue",
        "status=ordered&kind=loan",
        "q=ILL-2026",
        "patron=P0",
        "submitted_min=2026-01-01&submitted_max=2026-12-31",
        "submitted_min=9999-12-31&submitted_max=0001-01-01",
        "sort=-due",
        "attention=true",
        "q=978-4-320-12362-5",
        "lender=999999",
        "worklist=nope",
    ],
)
def test_queue_filters_never_fail(desk, query):
    f.RequestFactory()
    assert desk.get(f"/desk/requests/?{query}").status_code in (200, 400)


def test_search_by_isbn_finds_any_spelling(desk):
    request = f.RequestFactory(isbn="9784320123625")
    page = desk.get("/desk/requests/?branch=&q=4-320-12362-X").content.decode()
    assert request.number in page


def _queue_queries(desk):
    desk.get("/desk/")  # the session and permissions are cached from the first page on
    with CaptureQueriesContext(connection) as queries:
        response = desk.get("/desk/requests/?branch=&size=100")
    assert response.status_code == 200
    return len(queries)


def test_the_queue_runs_the_same_number_of_queries_for_10_and_1000_requests(desk, lender, undergraduate):
    def make(n):
        Request.objects.bulk_create(
            [
                Request(
                    number=f"ILL-2025-{len(Request.objects.all()) + i:06d}",
                    patron=undergraduate,
                    kind="loan",
                    status=["submitted", "ordered", "on_loan"][i % 3],
                    title=f"Book {i}",
                    material_type="book",
                    pickup_branch=undergraduate.home_branch,
                    lender=lender if i % 3 else None,
                    due_date=f.future(i % 20 - 10) if i % 3 == 2 else None,
                )
                for i in range(n)
            ]
        )

    make(10)
    with_10 = _queue_queries(desk)
    make(990)
    with_1000 = _queue_queries(desk)
    assert with_10 == with_1000


# --- patrons --------------------------------------------------------------------------------


def test_the_patron_page_shows_loans_history_codes_and_blocks(desk, doctoral, public_code):
    f.RequestFactory(patron=doctoral, status="on_loan", due_date=f.future(-1))
    page = desk.get(f"/desk/patrons/{doctoral.patron_number}/").content.decode()
    assert "1 of 5" in page and public_code.code in page
    assert desk.post(f"/desk/patrons/{doctoral.patron_number}/block/", {"reason": ""}).status_code == 400
    assert desk.post(f"/desk/patrons/{doctoral.patron_number}/block/", {"reason": "lost a book"}).status_code == 302
    doctoral.refresh_from_db()
    assert doctoral.blocked and doctoral.block_reason == "lost a book"
    desk.post(f"/desk/patrons/{doctoral.patron_number}/block/", {"unblock": "1"})
    doctoral.refresh_from_db()
    assert not doctoral.blocked


def test_patron_search_goes_straight_to_a_single_match(desk, doctoral):
    response = desk.get(f"/desk/patrons/?q={doctoral.patron_number}")
    assert response["Location"] == f"/desk/patrons/{doctoral.patron_number}/"


def staff_form(patron, **extra):
    return {
        "material_type": "book",
        "title": "統計的学習の基礎",
        "isbn": "9784320123625",
        "pickup_branch": patron.home_branch_id,
        "scope": "domestic",
        "expense_type": "private",
        **extra,
    }


def test_staff_submit_a_request_on_a_patrons_behalf(desk, undergraduate, staff_user):
    response = desk.post(f"/desk/patrons/{undergraduate.patron_number}/new/loan/", staff_form(undergraduate))
    request = Request.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/desk/requests/{request.number}/"
    assert (request.patron, request.created_by) == (undergraduate, staff_user)


def test_the_same_rules_apply_and_staff_may_override_the_duplicate_rule(desk, undergraduate, staff_user):
    f.RequestFactory(patron=undergraduate, isbn="9784320123625")
    response = desk.post(f"/desk/patrons/{undergraduate.patron_number}/new/loan/", staff_form(undergraduate))
    assert response.status_code == 400 and b'data-rule="duplicate"' in response.content
    staff_user.user_permissions.add(Permission.objects.get(codename="override_rules"))
    response = desk.post(
        f"/desk/patrons/{undergraduate.patron_number}/new/loan/",
        staff_form(undergraduate, override_duplicate="the first copy was damaged in the post"),
    )
    assert response.status_code == 302
    assert Request.objects.latest("pk").duplicate_override_reason == "the first copy was damaged in the post"


def test_an_override_without_the_permission_is_ignored(desk, undergraduate):
    f.RequestFactory(patron=undergraduate, isbn="9784320123625")
    response = desk.post(
        f"/desk/patrons/{undergraduate.patron_number}/new/loan/", staff_form(undergraduate, override_duplicate="please")
    )
    assert response.status_code == 400
    assert Request.objects.count() == 1


# --- print-outs and roles -------------------------------------------------------------------


def test_the_slip_and_the_book_band_print(desk, lender):
    request = f.RequestFactory(status="on_loan", lender=lender, due_date=f.future(7), use_restriction="in_library")
    slip = desk.get(f"/desk/requests/{request.number}/slip/").content.decode()
    assert request.number in slip and request.title in slip and "print.css" in slip
    band = desk.get(f"/desk/requests/{request.number}/band/").content.decode()
    due = f.future(7)
    assert (
        f"{due.day} {due:%b} {due.year}" in band and "In-library use only" in band and request.patron.full_name in band
    )


def test_patrons_cannot_reach_any_desk_page(client, undergraduate):
    request = f.RequestFactory(patron=undergraduate)
    client.force_login(undergraduate.user)
    for url in (
        "/desk/",
        "/desk/requests/",
        f"/desk/requests/{request.number}/slip/",
        "/desk/patrons/",
        f"/desk/patrons/{undergraduate.patron_number}/",
        "/desk/shipments/new/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/desk/requests/{request.number}/cancel/").status_code == 403
    assert client.post("/desk/requests/bulk/", {"action": "send_back"}).status_code == 403


def test_administrators_work_the_desk_too(client):
    from django.contrib.auth.models import Group

    from patrons.roles import ILL_ADMINS, ensure_roles

    ensure_roles()
    admin = f.UserFactory(username="boss", is_staff=True)
    admin.groups.add(Group.objects.get(name=ILL_ADMINS))
    client.force_login(admin)
    assert client.get("/desk/").status_code == 200
    assert client.get("/admin/fees/feeschedule/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/desk/requests/?size=²",
        "/desk/shipments/new/?lender=²",
        "/desk/reports/charges/?year=²",
        "/desk/requests/?size=99999999999999999999",
        "/desk/patrons/%00/",
        "/desk/patrons/P%00X/block/",
    ],
)
def test_odd_numbers_in_urls_are_never_a_500(desk, url):
    assert desk.get(url).status_code in (200, 302, 400, 404)


def test_odd_values_in_posts_are_never_a_500(desk, lender):
    request = f.RequestFactory(status="returned", lender=lender)
    assert desk.post("/desk/emails/", {"message": "²"}).status_code == 404
    response = desk.post("/desk/requests/bulk/", {"action": "send_back", "selected": ["ILL-%00", request.number]})
    assert response.status_code == 302 and status_of(request) == "closed"
    data = {
        "lender": lender.pk,
        "delivery": "mail",
        "step": "preview",
        "line-TOTAL_FORMS": 2,
        "line-INITIAL_FORMS": 2,
        "line-0-request_id": request.pk,
        "line-0-arrived": "on",
        "line-1-request_id": request.pk,
        "line-1-arrived": "on",
        "line-0-use_restriction": "none",
        "line-1-use_restriction": "none",
    }
    assert desk.post("/desk/shipments/new/", data).status_code in (200, 400)


def test_health_tells_strangers_only_whether_all_is_well(desk):
    from django.test import Client

    assert Client().get("/health/").json() == {"ok": True}
    assert "database" in desk.get("/health/").json()


def test_a_debt_can_be_paid_after_closing_as_not_collected(desk, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, status="ordered", lender=lender, page_count=10)
    services.record_shipment(lender=lender, actor=None, items=[services.ArrivedItem(request=request)])
    assert act(desk, request, "close_not_collected").status_code == 302
    assert act(desk, request, "payment", {"amount": 490, "receipt_number": "R-77"}).status_code == 302
    assert fees_charges.charge_of(request).state == "paid"


def test_the_order_form_warns_before_a_supported_request_goes_to_a_lender_that_does_not_qualify(desk, undergraduate):
    budget = f.SupportBudgetFactory()
    overseas = f.FeeScheduleFactory(lender__kind="overseas", overseas_flat_fee_per_item=1800).lender
    request = f.CopyRequestFactory(patron=undergraduate, support_budget=budget, scope="overseas")
    page = desk.get(request.get_desk_url()).content.decode()
    assert 'name="patron_pays"' in page  # the box is there for a supported request only
    refused = act(desk, request, "order", {"lender_1": overseas.code, "shipping_method": "mail"})
    assert refused.status_code == 400
    assert "¥1,800" in refused.content.decode()
    assert status_of(request) == "submitted"
    assert (
        act(
            desk, request, "order", {"lender_1": overseas.code, "shipping_method": "mail", "patron_pays": "on"}
        ).status_code
        == 302
    )
    request.refresh_from_db()
    assert (request.status, request.support_budget) == ("ordered", None)


def test_an_unsupported_request_has_no_patron_pays_box(desk, undergraduate):
    request = f.RequestFactory(patron=undergraduate)
    assert 'name="patron_pays"' not in desk.get(request.get_desk_url()).content.decode()


def test_closing_as_no_longer_needed_waits_for_the_patrons_date(desk, undergraduate, staff_user):
    request = f.RequestFactory(patron=undergraduate, status="unfilled", not_needed_after=f.future(5))
    assert "close_not_needed" not in desk.get(request.get_desk_url()).content.decode()
    with pytest.raises(ServiceError) as refused:
        services.close_not_needed(request, actor=staff_user)
    assert refused.value.code == "still_needed"
    assert status_of(request) == "unfilled"
