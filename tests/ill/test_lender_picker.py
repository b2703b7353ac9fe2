"""Choosing a lender without a 300-option select: the desk's lender search (JSON for the picker,
a page without JavaScript), the order form and the shipment page taking a lender's code, and the
request page's queries, which do not grow with the history or the number of lenders."""

import datetime
import re

import django_filters
import pytest
from django.core.cache import cache
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from fees import charges as fees_charges
from ill import lender_search, next_steps, services
from ill.forms_desk import LenderField, ShipmentLineForm
from ill.models import LendingInstitution, Request
from ill.templatetags import choice_labels
from ill.views import desk_request, desk_shipment
from ill.widgets import DESK_RENDERER
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

URL = "/desk/lenders/"


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    return client


def search(desk, **params):
    response = desk.get(URL, {"format": "json", **params})
    assert response.status_code == 200, response.content
    return response.json()


def codes(answer):
    return [row["code"] for row in answer["results"]]


def lender(code, name, **fields):
    schedule = fields.pop("schedule", {})
    return f.FeeScheduleFactory(
        lender__code=code, lender__name=name, **{f"lender__{k}": v for k, v in fields.items()}, **schedule
    ).lender


# --- the search ------------------------------------------------------------------------------


def test_fee_offset_participants_and_lenders_sending_as_asked_come_first(desk):
    outside = lender(
        "RK-OUT", "ランク研究所", is_offset_participant=False, accepts_public_expense=False, supports_fax=True
    )
    no_fax = lender("RK-MAIL", "ランク大学 郵送", supports_fax=False)
    fax = lender("RK-FAX", "ランク大学 FAX", supports_fax=True)
    assert codes(search(desk, q="ランク", delivery="fax")) == [fax.code, no_fax.code, outside.code]
    # By mail every lender sends as asked: the fee-offset still comes first, then the name.
    assert codes(search(desk, q="ランク", delivery="mail")) == [fax.code, no_fax.code, outside.code]
    answer = search(desk, q="ランク", delivery="fax")["results"]
    assert answer[0]["delivery_supported"] and answer[0]["offset"]
    assert not answer[1]["delivery_supported"] and answer[1]["delivery"] == "express"
    assert "sends by Express mail" in answer[1]["notes"]
    assert "outside the fee-offset" in answer[2]["notes"]


def test_an_exact_code_comes_first(desk):
    lender("RK-AAA", "ランク大学 A")
    exact = lender("RK", "ランク研究所", is_offset_participant=False, accepts_public_expense=False)
    assert codes(search(desk, q="rk"))[0] == exact.code


def test_found_by_code_name_english_name_kana_and_full_width(desk):
    network = lender("KLNET", "神奈川県図書館ネットワーク", name_en="KL-NET", kind="regional")
    assert codes(search(desk, q="klnet")) == [network.code]
    assert codes(search(desk, q="ＫＬＮＥＴ")) == [network.code]  # full-width, as an IME gives it
    assert codes(search(desk, q="kl-net")) == [network.code]
    assert codes(search(desk, q="神奈川")) == [network.code]
    assert codes(search(desk, q="ねっとわーく")) == [network.code]  # hiragana finds katakana
    assert codes(search(desk, q="ﾈｯﾄﾜｰｸ")) == [network.code]  # half-width katakana
    assert search(desk, q="no such lender")["results"] == []


def test_the_answer_is_bounded(desk):
    for n in range(25):
        lender(f"BND{n:02d}", f"境界大学 {n:02d}")
    answer = search(desk, q="境界")
    assert len(answer["results"]) == lender_search.LIMIT == 20
    assert answer["more"] is True
    answer = search(desk, q="境界", limit=5)
    assert (len(answer["results"]), answer["more"]) == (5, True)
    assert search(desk, q="境界大学 24")["more"] is False


def test_for_a_request_only_the_lenders_that_could_take_it_priced_for_it(desk, faculty, public_code):
    domestic = lender("RQ-JP", "候補大学", schedule={"loan_fee": 1600, "loan_fee_mode": "round_trip"})
    lender("RQ-OUT", "候補研究所", is_offset_participant=False, accepts_public_expense=False)
    lender("RQ-BL", "候補 海外", kind="overseas", country="GB")
    request = f.RequestFactory(patron=faculty, expense_type="public", budget_code=public_code)
    answer = search(desk, q="候補", request=request.number)
    assert codes(answer) == [domestic.code]  # public expense: no lender outside the fee-offset; Japan only
    row = answer["results"][0]
    assert (row["estimate"], row["estimate_text"]) == (1600, "¥1,600")
    assert row["time"] == "1 week or more"
    assert row["label"] == f"{domestic.name_en} ({domestic.code})"


def test_a_copy_is_priced_for_its_pages_and_delivery(desk, undergraduate, lender):
    request = f.CopyRequestFactory(patron=undergraduate, page_count=10, delivery_method="fax")
    row = next(r for r in search(desk, request=request.number)["results"] if r["code"] == lender.code)
    assert row["delivery"] == "fax"
    assert row["estimate"] == 10 * 35 + 10 * 40  # per page, plus the FAX fee per page (no postage)
    assert row["time"].startswith("1 hour to 2 days")


def test_a_supported_request_ranks_the_lenders_the_budget_covers_first(desk, undergraduate):
    regional = lender("SP-REG", "支援 地域ネットワーク", kind="regional")
    university = lender("SP-UNI", "支援 大学", kind="jp_university")
    request = f.RequestFactory(patron=undergraduate, support_budget=f.SupportBudgetFactory())
    assert codes(search(desk, q="支援", request=request.number)) == [university.code, regional.code]


def test_lenders_with_orders_waiting_first_for_the_shipment_page(desk, undergraduate):
    idle = lender("WT-A", "待ち A")
    busy = lender("WT-B", "待ち B")
    f.RequestFactory(patron=undergraduate, status="ordered", lender=busy)
    assert codes(search(desk, q="待ち", waiting=1)) == [busy.code, idle.code]
    assert codes(search(desk, q="待ち")) == [idle.code, busy.code]


def test_inactive_lenders_only_when_asked(desk):
    gone = lender("OLD-1", "閉館図書館", active=False)
    assert search(desk, q="閉館")["results"] == []
    assert codes(search(desk, q="閉館", include_inactive=1)) == [gone.code]


def test_a_loan_without_a_request_is_priced_by_kind(desk):
    priced = lender("KD-1", "種別大学", schedule={"loan_fee": 2000, "loan_fee_mode": "round_trip"})
    row = search(desk, q="種別", kind="loan")["results"][0]
    assert (row["code"], row["estimate"]) == (priced.code, 2000)
    assert search(desk, q="種別")["results"][0]["estimate"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"delivery": "pigeon"},
        {"kind": "both"},
        {"q": "x" * 101},
        {"q": "a\x00b"},
        {"request": "ILL-2026-999999"},
        {"request": "x" * 300},
        {"limit": "0"},
        {"limit": "21"},
        {"limit": "²"},
        {"include_inactive": "yes"},
        {"waiting": "2"},
    ],
)
def test_bad_input_is_a_400_never_a_500(desk, params):
    response = desk.get(URL, {"format": "json", **params})
    assert response.status_code == 400
    assert response.json()["error"]
    assert desk.get(URL, params).status_code == 400  # the page too


def test_only_desk_staff_may_search(client, undergraduate):
    assert client.get(URL, {"format": "json"}).status_code == 302  # to the login
    client.force_login(undergraduate.user)
    assert client.get(URL, {"format": "json"}).status_code == 403


def test_without_javascript_the_search_is_a_page(desk, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate)
    page = desk.get(URL, {"q": "toto", "request": request.number})
    assert page.status_code == 200
    html = page.content.decode()
    assert f"<code>{lender.code}</code>" in html
    assert f'name="request" value="{request.number}"' in html  # a new search keeps the request


def test_the_search_runs_the_same_queries_whatever_the_number_of_lenders(desk, undergraduate):
    request = f.RequestFactory(patron=undergraduate)

    def queries():
        search(desk, q="大学", request=request.number)  # the session and permissions are cached now
        with CaptureQueriesContext(connection) as ctx:
            search(desk, q="大学", request=request.number)
        return len(ctx.captured_queries)

    for n in range(3):
        f.PaperSizePriceFactory(schedule=f.FeeScheduleFactory(lender__name=f"大学 {n}"))
    few = queries()
    for n in range(30):
        f.PaperSizePriceFactory(schedule=f.FeeScheduleFactory(lender__name=f"大学 {n + 3}"))
    assert queries() == few


# --- the order form without JavaScript ---------------------------------------------------------


def test_the_order_form_is_text_inputs_for_codes_with_suggestions(desk, undergraduate, lender):
    for n in range(30):
        f.FeeScheduleFactory(lender__name=f"提案大学 {n}")
    request = f.RequestFactory(patron=undergraduate)
    html = desk.get(request.get_desk_url()).content.decode()
    assert 'name="lender_1"' in html and '<select name="lender_1"' not in html
    field = re.search(r'<input [^>]*name="lender_1"[^>]*>', html).group(0)
    assert 'type="text"' in field and f'list="lenders-for-{request.number}"' in field
    assert html.count(f'<datalist id="lenders-for-{request.number}">') == 1
    datalist = re.search(r"<datalist .*?</datalist>", html).group(0)
    assert datalist.count("<option ") == lender_search.LIMIT  # the best 20 of 31
    assert 'data-lender-picker="/desk/lenders/?request=' in html
    assert "/desk/lenders/?request=" in html and "<noscript>" in html  # a page to look a code up


def test_ordering_with_a_typed_code(desk, undergraduate, lender, second_lender):
    request = f.RequestFactory(patron=undergraduate)
    data = {"lender_1": f"  {lender.code.lower()} ", "lender_2": second_lender.code, "shipping_method": "mail"}
    assert desk.post(f"/desk/requests/{request.number}/order/", data).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.lender) == ("ordered", lender)
    assert list(request.candidates.values_list("lender", flat=True)) == [lender.pk, second_lender.pk]


def test_an_unknown_code_is_refused_with_a_message_and_the_form_kept(desk, undergraduate, lender):
    request = f.RequestFactory(patron=undergraduate)
    data = {"lender_1": lender.code, "lender_2": "NO-SUCH", "lender_reference": "R-1", "shipping_method": "mail"}
    response = desk.post(f"/desk/requests/{request.number}/order/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "No active lender has the code “NO-SUCH”" in html
    assert 'aria-invalid="true"' in html and "is-invalid" in html
    assert f'value="{lender.code}"' in html and 'value="R-1"' in html  # what was typed stays
    assert f"{lender.name_en} ({lender.code})" in html  # the chosen lender keeps its label for the picker
    request.refresh_from_db()
    assert request.status == "submitted"


def test_an_inactive_lender_cannot_be_ordered_by_code(desk, undergraduate):
    gone = f.LendingInstitutionFactory(active=False)
    request = f.RequestFactory(patron=undergraduate)
    response = desk.post(f"/desk/requests/{request.number}/order/", {"lender_1": gone.code, "shipping_method": "mail"})
    assert response.status_code == 400
    assert f"No active lender has the code “{gone.code}”" in response.content.decode()


def test_the_first_lender_is_required_when_submitted(desk, undergraduate):
    request = f.RequestFactory(patron=undergraduate)
    response = desk.post(f"/desk/requests/{request.number}/order/", {"lender_1": "", "shipping_method": "mail"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


# --- the shipment page -------------------------------------------------------------------------


def test_the_shipment_page_takes_a_code_an_id_or_tells_what_is_wrong(desk, undergraduate, lender):
    ordered = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    for value in (lender.code, lender.code.lower(), str(lender.pk)):
        html = desk.get("/desk/shipments/new/", {"lender": value}).content.decode()
        assert f'data-number="{ordered.number}"' in html, value
        assert '<select class="form-select" id="lender-pick"' not in html
    html = desk.get("/desk/shipments/new/", {"lender": "NO-SUCH"}).content.decode()
    assert "No active lender has the code “NO-SUCH”" in html
    assert f'data-number="{ordered.number}"' not in html
    html = desk.get("/desk/shipments/new/").content.decode()
    assert f'<option value="{lender.code}">' in html  # without JavaScript: lenders with orders waiting


# --- the request page: the same queries whatever the history ----------------------------------


def _in_every_state(patron, lender, staff):
    """One request in each state the desk shows, moved there by the services."""
    loans = {}

    def new(**fields):
        return f.RequestFactory(patron=patron, **fields)

    loans["submitted"] = new()
    loans["reviewed"] = services.mark_reviewed(new(), actor=staff)
    loans["ordered"] = services.order(new(), actor=staff, lenders=[lender], shipping_method="mail")
    unfilled = services.order(new(), actor=staff, lenders=[lender], shipping_method="mail")
    loans["unfilled"] = services.mark_unfilled(unfilled, actor=staff)
    for state in ("arrived", "on_loan", "returned", "closed"):
        request = services.order(new(), actor=staff, lenders=[lender], shipping_method="mail")
        services.record_shipment(
            lender=lender, actor=staff, items=[services.ArrivedItem(request=request, lender_due_date=f.future(21))]
        )
        if state != "arrived":
            request.refresh_from_db()
            services.record_payment(request, amount=800, receipt_number=f"R-{request.pk}", actor=staff)
            services.hand_over(request, actor=staff)
        if state in ("returned", "closed"):
            services.take_back(request, actor=staff, stamps=800)
        if state == "closed":
            services.send_back(request, actor=staff)
        loans[state] = request
    f.ExtensionRequestFactory(request=loans["on_loan"], requested_by=patron.user)
    for state, request in loans.items():
        request.refresh_from_db()
        assert request.status == (state if state != "reviewed" else "submitted"), state
    return loans


def _more_history(patron, staff, n):
    """n more requests of the same patron (some on loan, some closed), n more lenders."""
    for i in range(n):
        other = f.FeeScheduleFactory(lender__name=f"追加大学 {i}").lender
        request = f.RequestFactory(patron=patron, status="ordered" if i % 2 else "closed", lender=other)
        f.RequestEventFactory(request=request, actor=staff)
        f.LenderCandidateFactory(request=request, lender=other, position=1)


def _queries(desk, request):
    url = request.get_desk_url()
    desk.get(url)  # the session and the permissions are cached after the first page
    cache.delete(lender_search._suggestion_key(request))  # the order form's suggestions: not cached
    with CaptureQueriesContext(connection) as ctx:
        response = desk.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_request_page_runs_the_same_queries_with_10_or_100_more_requests_and_lenders(
    desk, undergraduate, lender, staff_user
):
    loans = _in_every_state(undergraduate, lender, staff_user)
    _more_history(undergraduate, staff_user, 10)
    small = {state: _queries(desk, r) for state, r in loans.items()}
    _more_history(undergraduate, staff_user, 90)
    for request in loans.values():  # more e-mails too: each listed one must not cost a query
        for _ in range(4):
            f.OutboxMessageFactory(request=request)
    large = {state: _queries(desk, r) for state, r in loans.items()}
    assert large == small
    assert max(small.values()) <= 16, small


def test_every_state_of_the_request_page_shows_its_forms(desk, undergraduate, lender, staff_user):
    loans = _in_every_state(undergraduate, lender, staff_user)
    expected = {
        "submitted": ["order", "review", "reject", "cancel"],
        "reviewed": ["order", "reject", "cancel"],
        "ordered": ["record_arrival", "mark_unfilled"],
        "unfilled": ["order", "close_unfilled"],
        "arrived": ["payment", "notify", "close_not_collected"],
        "on_loan": ["extension_forward", "return_by_patron"],
        "returned": ["send_back"],
        "closed": [],
    }
    for state, actions in expected.items():
        html = desk.get(loans[state].get_desk_url()).content.decode()
        for action in actions:
            assert f'data-action="{action}"' in html, (state, action)
        assert ("lender-picker.js" in html) == ("order" in actions), state
        if not actions:
            assert "Nothing more to do" in html
        ids = re.findall(r' id="([^"]+)"', html)
        assert len(ids) == len(set(ids)), (state, sorted(i for i in ids if ids.count(i) > 1))
    html = desk.get(loans["submitted"].get_desk_url()).content.decode()
    assert 'id="id_order_lender_1"' in html and 'id="id_cancel_note"' in html and 'id="id_review_note"' in html
    assert Request.objects.filter(pk=loans["closed"].pk, status="closed").exists()


# --- the desk's form renderer ------------------------------------------------------------------


def _each_widget_both_ways(form):
    plain = DjangoTemplates()
    for field in form:
        form.renderer = DESK_RENDERER
        fast = str(field)
        form.renderer = plain
        assert fast == str(field), field.name


def test_the_desk_renderer_writes_what_djangos_templates_write(undergraduate, lender, staff_user):
    loans = _in_every_state(undergraduate, lender, staff_user)
    seen = set()
    for request in loans.values():
        for action in next_steps.available(request, fees_charges.charge_of(request)):
            form_class, extra, _run, _msg, _title = desk_request.ACTIONS[action]
            blank = form_class(request_obj=request, auto_id=f"id_{action}_%s", **extra)
            data = {name: 'A & "B" <c>' for name in blank.fields}
            data.update({"shipping_method": "fax", "reason": "rare", "use_restriction": "in_library", "amount": "x"})
            for form in (blank, form_class(data, request_obj=request, auto_id=f"id_{action}_%s", **extra)):
                form.is_valid()
                _each_widget_both_ways(form)
                seen.update(type(field.field.widget).__name__ for field in form)
    line = ShipmentLineForm({"request_id": "7", "arrived": "on", "pages": "3", "use_restriction": "no_copying"})
    line.is_valid()
    _each_widget_both_ways(line)
    assert {"Textarea", "Select", "CheckboxInput", "NumberInput", "DateInput", "TextInput"} <= seen


# --- the picker elsewhere: a django-filter filter, as the queue's lender filter would use it --------


class LenderFilter(django_filters.ModelChoiceFilter):
    field_class = LenderField


class ByLender(django_filters.FilterSet):
    lender = LenderFilter(queryset=LendingInstitution.objects.all(), include_inactive=True, label="Lender")

    class Meta:
        model = Request
        fields = []


def test_the_picker_as_a_filter_of_requests(undergraduate, lender, second_lender):
    gone = f.LendingInstitutionFactory(active=False)
    mine = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
    old = f.RequestFactory(patron=undergraduate, status="closed", lender=gone)
    f.RequestFactory(patron=undergraduate, status="ordered", lender=second_lender)
    assert list(ByLender({"lender": lender.code.lower()}, queryset=Request.objects.all()).qs) == [mine]
    assert list(ByLender({"lender": gone.code}, queryset=Request.objects.all()).qs) == [old]
    unknown = ByLender({"lender": "NO-SUCH"}, queryset=Request.objects.all())
    assert not unknown.is_valid()
    assert "No lender has the code “NO-SUCH”" in str(unknown.errors["lender"])
    html = str(ByLender({"lender": lender.code}, queryset=Request.objects.all()).form["lender"])
    assert 'data-lender-picker="/desk/lenders/?include_inactive=1"' in html and "<option" not in html
    assert "lender-picker.js" in str(ByLender().form.media)


def test_the_label_filter_says_what_get_display_says(undergraduate, lender, staff_user):
    loans = _in_every_state(undergraduate, lender, staff_user)
    for language in ("ja", "en"):
        with translation.override(language):
            for request in loans.values():
                for obj in [request, request.patron, *request.candidates.all(), *request.messages.all()]:
                    for field in obj._meta.fields:
                        if field.choices:
                            expected = getattr(obj, f"get_{field.name}_display")()
                            assert choice_labels.label(obj, field.name) == expected, (obj, field.name)


def test_the_shipment_page_lists_the_oldest_orders_and_finds_the_others(desk, undergraduate, lender, monkeypatch):
    monkeypatch.setattr(desk_shipment, "SHOWN", 3)
    orders = [
        f.CopyRequestFactory(
            patron=undergraduate,
            status="ordered",
            lender=lender,
            ordered_at=timezone.now() - datetime.timedelta(days=10 - n),
        )
        for n in range(5)
    ]
    orders[4].lender_reference = "NDL-77"
    orders[4].save()
    html = desk.get("/desk/shipments/new/", {"lender": lender.code}).content.decode()
    assert [o.number for o in orders if f'data-number="{o.number}"' in html] == [o.number for o in orders[:3]]
    assert "2 more are waiting from this lender" in html
    for find in (orders[4].number.lower(), "NDL-77"):
        html = desk.get("/desk/shipments/new/", {"lender": lender.code, "find": find}).content.decode()
        assert [o.number for o in orders if f'data-number="{o.number}"' in html] == [orders[4].number], find
    # What is posted is what is recorded, listed or not.
    data = {"lender": lender.pk, "delivery": "mail", "step": "record", "line-TOTAL_FORMS": 1, "line-INITIAL_FORMS": 1}
    data.update(
        {
            "line-0-request_id": orders[4].pk,
            "line-0-arrived": "on",
            "line-0-pages": 10,
            "line-0-use_restriction": "none",
        }
    )
    assert desk.post("/desk/shipments/new/", data).status_code == 302
    orders[4].refresh_from_db()
    assert orders[4].status == "arrived"
