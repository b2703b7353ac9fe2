"""The admin cannot go around a service (DESIGN: the admin is for configuration; status, money
and history are read-only there or changed through a service)."""

import datetime

import pytest
from django.contrib.admin import site
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.admin_tools import BoundedCountPaginator
from fees.models import BudgetLedgerEntry, SupportUse
from ill.models import Request, RequestEvent
from patrons import services as patron_services
from patrons.models import PatronEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def _post_data(response):
    """What the browser would send back for the change form as it was shown."""
    data = {}

    def add(bound):
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)

    for bound in response.context["adminform"].form:
        add(bound)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            add(bound)
        for form in formset.forms:
            for bound in form:
                add(bound)
    return data


def _change_url(request):
    return f"/admin/ill/request/{request.pk}/change/"


def test_it_keeps_the_budget_code_of_an_ordered_request_read_only(admin_client, public_code):
    request = f.CopyRequestFactory(status=Request.Status.ORDERED, expense_type="public", budget_code=public_code)
    other = f.BudgetCodeFactory(code="2026-OTHER")
    response = admin_client.get(_change_url(request))
    assert "budget_code" not in response.context["adminform"].form.fields
    data = _post_data(response) | {"budget_code": str(other.pk), "comments": "checked"}
    response = admin_client.post(_change_url(request), data)
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.budget_code == public_code
    assert request.comments == "checked"


def test_it_lets_the_admin_edit_the_budget_code_of_a_submitted_request(admin_client):
    request = f.CopyRequestFactory()
    assert "budget_code" in admin_client.get(_change_url(request)).context["adminform"].form.fields


def test_it_writes_an_admin_change_event_with_the_actor(admin_client, admin_user):
    request = f.CopyRequestFactory()
    data = _post_data(admin_client.get(_change_url(request))) | {"comments": "fixed a typo"}
    assert admin_client.post(_change_url(request), data).status_code == 302
    event = RequestEvent.objects.get(request=request, action="admin_change")
    assert event.actor == admin_user
    assert event.data == {"changed": ["comments"]}
    assert (event.from_status, event.to_status) == ("submitted", "submitted")
    assert "comments" in event.note
    assert event.visible_to_patron is False


def test_it_refuses_to_delete_a_request(admin_client):
    request = f.CopyRequestFactory()
    assert admin_client.get(f"/admin/ill/request/{request.pk}/delete/").status_code == 403


def test_it_refuses_to_delete_or_change_a_request_event(admin_client):
    event = f.RequestEventFactory()
    assert admin_client.get(f"/admin/ill/requestevent/{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/ill/requestevent/{event.pk}/change/", {"note": "x"}).status_code == 403
    assert RequestEvent.objects.filter(pk=event.pk, note="").exists()


def test_it_keeps_the_state_of_an_extension_read_only(admin_client):
    extension = f.ExtensionRequestFactory()
    response = admin_client.get(f"/admin/ill/extensionrequest/{extension.pk}/change/")
    assert response.status_code == 200
    assert "state" not in response.context["adminform"].form.fields
    assert "new_due_date" not in response.context["adminform"].form.fields


@pytest.mark.parametrize("model", ["budgetledgerentry", "payment", "charge", "shipment", "supportuse"], ids=lambda m: m)
def test_it_refuses_to_add_money_records(admin_client, model):
    assert admin_client.get(f"/admin/fees/{model}/add/").status_code == 403


def test_it_refuses_to_delete_or_change_a_ledger_entry(admin_client):
    entry = f.BudgetLedgerEntryFactory()
    assert admin_client.get(f"/admin/fees/budgetledgerentry/{entry.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/fees/budgetledgerentry/{entry.pk}/change/", {"amount": 1}).status_code == 403
    entry.refresh_from_db()
    assert entry.amount == 1000


@pytest.mark.parametrize(("entry_type", "amount"), [("release", 5), ("commitment", -5), ("charge", -5), ("refund", 5)])
def test_it_refuses_a_ledger_entry_with_the_wrong_sign_or_type(entry_type, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.BudgetLedgerEntryFactory(entry_type=entry_type, amount=amount)


def test_it_accepts_a_release_as_a_negative_amount():
    assert f.BudgetLedgerEntryFactory(entry_type=BudgetLedgerEntry.EntryType.RELEASE, amount=-1000).pk


def test_it_refuses_a_payment_with_an_unknown_method():
    with pytest.raises(IntegrityError), transaction.atomic():
        f.PaymentFactory(method="cheque")


def test_it_logs_a_block_and_an_unblock(undergraduate, staff_user):
    patron_services.block(undergraduate, reason="Lost book", actor=staff_user)
    patron_services.unblock(undergraduate)
    events = list(PatronEvent.objects.filter(patron=undergraduate))
    assert [e.action for e in events] == ["blocked", "unblocked"]
    assert events[0].actor == staff_user
    assert events[0].note == "Lost book"


def test_it_keeps_the_block_read_only_in_the_patron_admin(admin_client, admin_user, undergraduate):
    url = f"/admin/patrons/patron/{undergraduate.pk}/change/"
    response = admin_client.get(url)
    assert "blocked" not in response.context["adminform"].form.fields
    data = _post_data(response) | {"blocked": "on", "block_reason": "sneaky", "phone": "0123"}
    assert admin_client.post(url, data).status_code == 302
    undergraduate.refresh_from_db()
    assert (undergraduate.blocked, undergraduate.phone) == (False, "0123")
    event = PatronEvent.objects.get(patron=undergraduate, action="admin_change")
    assert event.actor == admin_user
    assert event.data == {"changed": ["phone"]}


def test_it_refuses_to_change_or_delete_a_patron_event(admin_client, undergraduate):
    event = patron_services.block(undergraduate, reason="Lost book").events.get()
    assert admin_client.get(f"/admin/patrons/patronevent/{event.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/patrons/patronevent/add/").status_code == 403


# --- The admin at a million rows: bounded counts, indexed orderings and searches, no N+1 --------

BIG_CHANGELISTS = [
    "/admin/ill/request/",
    "/admin/ill/requestevent/",
    "/admin/ill/extensionrequest/",
    "/admin/fees/charge/",
    "/admin/fees/budgetledgerentry/",
    "/admin/fees/payment/",
    "/admin/fees/shipment/",
    "/admin/fees/supportuse/",
    "/admin/fees/budgetcode/",
    "/admin/patrons/patron/",
    "/admin/patrons/patronevent/",
    "/admin/notifications/outboxmessage/",
]
# Small tables (lenders' schedules, laboratories), still without a query per row.
SMALL_CHANGELISTS = ["/admin/fees/feeschedule/", "/admin/patrons/laboratory/"]


def _history(n: int):
    """n requests with a bit of everything the big tables hold."""
    support = f.SupportBudgetFactory()
    for _ in range(n):
        lender = f.FeeScheduleFactory().lender
        request = f.CopyRequestFactory(status=Request.Status.ARRIVED, lender=lender)
        f.RequestEventFactory(request=request, actor=f.UserFactory())
        f.LenderCandidateFactory(request=request, lender=lender)
        charge = f.ChargeFactory(request=request, shipment=f.ShipmentFactory(lender=lender))
        f.PaymentFactory(charge=charge, received_by=f.UserFactory())
        code = f.BudgetCodeFactory(laboratory=f.LaboratoryFactory(supervisor=f.PatronFactory()))
        f.BudgetLedgerEntryFactory(budget_code=code, request=request)
        f.ExtensionRequestFactory(request=f.RequestFactory(status=Request.Status.ON_LOAN))
        SupportUse.objects.create(budget=support, request=f.RequestFactory(), patron=f.PatronFactory())
        f.OutboxMessageFactory(request=request)
        patron_services.block(request.patron, reason="Lost book", actor=f.UserFactory())


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_no_changelist_reads_more_queries_with_more_rows(admin_client):
    urls = BIG_CHANGELISTS + SMALL_CHANGELISTS
    _history(2)
    few = {url: _queries(admin_client, url) for url in urls}
    _history(6)
    assert {url: _queries(admin_client, url) for url in urls} == few


@pytest.mark.parametrize("url", BIG_CHANGELISTS, ids=lambda u: u.split("/")[3])
def test_no_changelist_counts_the_whole_table_or_lists_distinct_values(admin_client, url):
    _history(2)
    with CaptureQueriesContext(connection) as ctx:
        assert admin_client.get(url).status_code == 200
    for query in ctx.captured_queries:
        sql = query["sql"].upper()
        assert "DISTINCT" not in sql, sql
        if "COUNT(" in sql and "GROUP BY" not in sql:
            assert "LIMIT" in sql, sql  # a bounded count: SELECT COUNT(*) FROM (… LIMIT n)


def test_the_big_admins_have_no_date_hierarchy_nor_full_count():
    for model, model_admin in site._registry.items():
        if f"/admin/{model._meta.app_label}/{model._meta.model_name}/" in BIG_CHANGELISTS:
            assert model_admin.date_hierarchy is None, model
            assert model_admin.show_full_result_count is False, model
            assert model_admin.paginator is BoundedCountPaginator, model


def test_a_long_list_says_more_than_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "cap", 3)
    f.RequestFactory.create_batch(5)
    response = admin_client.get("/admin/ill/request/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["cl"].result_count == 3
    assert "More than 3 requests" in response.content.decode()
    assert "More than 3 results" in response.content.decode()  # the search bar's count too
    f.RequestFactory.create_batch(1)
    few = admin_client.get("/admin/ill/request/?kind__exact=copy", HTTP_ACCEPT_LANGUAGE="en")
    assert few.context["cl"].result_count == 0 and "More than" not in few.content.decode()


def _found(client, url, term=None):
    response = client.get(url, {"q": term} if term is not None else None)
    assert response.status_code == 200
    return {str(obj.pk) for obj in response.context["cl"].result_list}


def test_the_request_search_finds_numbers_titles_identifiers_and_patrons(admin_client, undergraduate):
    book = f.RequestFactory(title="Deep Learning for Libraries", isbn="9784000000000", number="ILL-2026-000123")
    article = f.CopyRequestFactory(article_title="Trigram indexes in practice", patron=undergraduate)
    f.RequestFactory(title="Other")
    url = "/admin/ill/request/"
    assert _found(admin_client, url, "learning") == {str(book.pk)}
    assert _found(admin_client, url, "000123") == {str(book.pk)}
    assert _found(admin_client, url, "ill-2026-00012") == {str(book.pk)}  # the start of a number: its B-tree
    assert _found(admin_client, url, "978-4-00-000000-0") == {str(book.pk)}
    assert _found(admin_client, url, "佐藤") == {str(article.pk)}  # two characters: the patron's name
    assert _found(admin_client, url, undergraduate.patron_number) == {str(article.pk)}
    assert _found(admin_client, url, "trigram practice") == {str(article.pk)}
    assert _found(admin_client, url, "De") == {str(book.pk)}  # too short for trigrams: the title's start
    assert _found(admin_client, url, "ea") == set()


def test_the_history_searches_by_request_number(admin_client):
    event = f.RequestEventFactory(request__number="ILL-2026-004567")
    f.RequestEventFactory()
    assert _found(admin_client, "/admin/ill/requestevent/", "4567") == {str(event.pk)}
    assert _found(admin_client, "/admin/ill/requestevent/", "ILL-2026-0045") == {str(event.pk)}
    payment = f.PaymentFactory(receipt_number="R-777")
    assert _found(admin_client, "/admin/fees/payment/", "R-777") == {str(payment.pk)}
    assert _found(admin_client, "/admin/fees/payment/", payment.request.number) == {str(payment.pk)}


def test_the_patron_search_serves_names_kana_and_logins(admin_client, undergraduate):
    other = f.PatronFactory(full_name="山田 太郎", full_name_kana="ヤマダ タロウ")
    url = "/admin/patrons/patron/"
    assert _found(admin_client, url, "佐藤") == {str(undergraduate.pk)}
    assert _found(admin_client, url, "ヤマダ") == {str(other.pk)}
    assert _found(admin_client, url, undergraduate.user.email) == {str(undergraduate.pk)}
    response = admin_client.get(
        "/admin/autocomplete/", {"app_label": "ill", "model_name": "request", "field_name": "patron", "term": "山田"}
    )
    assert [r["id"] for r in response.json()["results"]] == [str(other.pk)]


def test_the_lists_filter_by_typed_codes_and_known_choices(admin_client, lender):
    ordered = f.RequestFactory(status=Request.Status.ORDERED, lender=lender)
    f.RequestFactory(status=Request.Status.ORDERED, lender=f.LendingInstitutionFactory())
    assert _found(admin_client, f"/admin/ill/request/?lender_code={lender.code}") == {str(ordered.pk)}
    response = admin_client.get("/admin/ill/request/")
    assert 'name="lender_code"' in response.content.decode()
    shipment = f.ShipmentFactory(lender=lender)
    f.ShipmentFactory()
    assert _found(admin_client, f"/admin/fees/shipment/?lender_code={lender.code}") == {str(shipment.pk)}
    note = f.RequestEventFactory(action="payment")
    f.RequestEventFactory(action="note")
    assert _found(admin_client, "/admin/ill/requestevent/?action=payment") == {str(note.pk)}
    english = f.OutboxMessageFactory(language="en")
    f.OutboxMessageFactory(language="ja")
    assert _found(admin_client, "/admin/notifications/outboxmessage/?language=en") == {str(english.pk)}
    response = admin_client.get("/admin/ill/request/?submitted_at__gte=2000-01-01")
    assert response.status_code == 200


def test_the_request_form_lists_no_patrons_or_logins(admin_client):
    f.UserFactory.create_batch(3)
    request = f.CopyRequestFactory()
    response = admin_client.get(_change_url(request))
    form = response.context["adminform"].form
    assert "created_by" not in form.fields  # who entered it is history
    assert form.fields["patron"].widget.widget.__class__.__name__ == "AutocompleteSelect"
    assert form.fields["budget_code"].widget.widget.__class__.__name__ == "AutocompleteSelect"
    assert "<option" not in response.content.decode().split('name="patron"')[1].split("</select>")[0]


def test_a_big_list_sorts_only_by_indexed_columns(admin_client):
    f.RequestFactory.create_batch(2)
    kind = admin_client.get("/admin/ill/request/?o=1")  # list_display[1] is the kind: no index
    assert kind.status_code == 200
    assert "kind" not in str(kind.context["cl"].queryset.query).split("ORDER BY")[1]
    newest = admin_client.get("/admin/ill/request/?o=7")  # submitted_at
    assert '"submitted_at" ASC' in str(newest.context["cl"].queryset.query).split("ORDER BY")[1]


def test_the_support_budget_list_reads_no_query_per_budget(admin_client):
    def queries():
        return _queries(admin_client, "/admin/fees/supportbudget/")

    f.SupportBudgetFactory(fiscal_year=2024)
    few = queries()
    for year in (2020, 2021, 2022, 2023):
        budget = f.SupportBudgetFactory(fiscal_year=year)
        f.RequestFactory(support_budget=budget)
    assert queries() == few
    response = admin_client.get("/admin/fees/supportbudget/")
    assert [obj.supported_requests for obj in response.context["cl"].result_list][:2] == [0, 1]


def test_the_money_lists_filter_by_the_fiscal_year_recorded(admin_client):
    april = timezone.make_aware(datetime.datetime(2024, 4, 1, 9))
    march = timezone.make_aware(datetime.datetime(2024, 3, 31, 23))
    in_year = f.BudgetLedgerEntryFactory(created_at=april)
    f.BudgetLedgerEntryFactory(created_at=march)
    assert _found(admin_client, "/admin/fees/budgetledgerentry/?fiscal_year=2024") == {str(in_year.pk)}
    use = SupportUse.objects.create(
        budget=f.SupportBudgetFactory(fiscal_year=2024), request=f.RequestFactory(), patron=f.PatronFactory()
    )
    SupportUse.objects.filter(pk=use.pk).update(created_at=april)
    assert _found(admin_client, "/admin/fees/supportuse/?fiscal_year=2024") == {str(use.pk)}
    assert _found(admin_client, "/admin/fees/supportuse/?fiscal_year=2023") == set()
