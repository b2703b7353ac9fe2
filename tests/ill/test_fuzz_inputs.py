"""Arbitrary input through the test client (issue 12): the OpenURL endpoint, both patron forms and
the desk's forms get strings with NULs, huge and negative numbers, unicode digits, dates out of
any range and very long values. Never a 500; when the answer is an error nothing is saved (every
table's row count and the request row itself unchanged); a success leaves rows that satisfy every
validator and constraint.

Each example runs in a savepoint that is rolled back, so examples do not see each other's rows.
Bounded for CI: a few dozen examples per test (about a minute in all), no example database, and
derandomized under CI=true so that a failure there is reproduced by running the test again.
"""

import datetime
import os
from urllib.parse import quote_from_bytes

import pytest
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fees.models import BudgetLedgerEntry, Charge, ChargeLine, Payment, Shipment, SupportUse
from ill import services
from ill.models import ExtensionRequest, LenderCandidate, Request, RequestEvent
from notifications.models import OutboxMessage
from patrons.models import Patron
from tests import factories as f

pytestmark = [pytest.mark.django_db]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def fuzz(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=IN_CI,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


EDGES = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "10000",
    "10001",
    "2147483647",
    "2147483648",
    "-2147483649",
    "99999999999",
    "9" * 40,
    "9" * 5000,  # past Python's int() digit limit
    "1e10",
    "1.5",
    "0x10",
    "１２",
    "٣",
    "²",
    "NaN",
    "\x00",
    "12\x00",
    "🙂" * 50,
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "2026-02-30",
    "10000-01-01",
    "1900-01-01",
    "2199-12-31",
    "on",
    "true",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 1000,
    "ILL-2026-000001",
]
NUMBERS = st.one_of(
    st.sampled_from([e for e in EDGES if e.lstrip("-").isdigit()]),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
DATES = st.dates().map(datetime.date.isoformat)
TEXT = st.text(max_size=40)
LONG = st.text(alphabet=st.characters(codec="utf-8"), min_size=300, max_size=3000)
NASTY = st.one_of(NUMBERS, st.sampled_from(EDGES), DATES, TEXT, LONG)

TABLES = [
    Request,
    RequestEvent,
    LenderCandidate,
    ExtensionRequest,
    Charge,
    ChargeLine,
    Shipment,
    BudgetLedgerEntry,
    Payment,
    SupportUse,
    OutboxMessage,
    Patron,
]


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in TABLES}


def snapshot(request: Request | None):
    if request is None:
        return None
    request = Request.objects.get(pk=request.pk)
    return {**model_to_dict(request), "status": request.status, "estimate": request.estimate}


def valid(obj) -> None:
    """A saved row with every number and date within its validators, and its constraints met."""
    obj.refresh_from_db()
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if isinstance(field, (models.IntegerField, models.DateField)) and value is not None:
            field.run_validators(value)
    obj.validate_constraints()


def check(send, request: Request | None = None, *, on_success=None):
    """Send within a rolled-back savepoint: no 500; an error changes nothing; a success is valid."""
    with transaction.atomic():
        before, row = counts(), snapshot(request)
        response = send()
        assert response.status_code < 500, response.status_code
        event(f"status {response.status_code}")
        if response.status_code != 302:  # an error, a form shown again, a page: nothing saved or changed
            assert counts() == before
            assert snapshot(request) == row
        elif on_success is not None:
            on_success()
        transaction.set_rollback(True)
    return response


def overrides(fields):
    """A few fields spoiled; often just one, so that the others do not stop the form first."""
    one = st.sampled_from(fields).flatmap(lambda name: NASTY.map(lambda value: {name: value}))
    return st.one_of(one, one, st.dictionaries(st.sampled_from(fields), NASTY, max_size=6))


# --- OpenURL --------------------------------------------------------------------------------

OPENURL_KEYS = [
    "genre",
    "title",
    "atitle",
    "jtitle",
    "btitle",
    "au",
    "aulast",
    "date",
    "volume",
    "issue",
    "spage",
    "epage",
    "isbn",
    "issn",
    "doi",
    "rft_id",
    "rft.atitle",
    "rft.date",
    "rft_val_fmt",
    "sid",
    "rfe_dat",
    "_relay",
    "saved",
]
RAW = st.binary(max_size=60)  # any bytes, invalid UTF-8 too
OPENURL_PAIRS = st.lists(
    st.tuples(st.one_of(st.sampled_from(OPENURL_KEYS), TEXT, RAW), st.one_of(NASTY, RAW)), max_size=12
)


@pytest.fixture
def patron_client(client, undergraduate):
    client.force_login(undergraduate.user)
    return client


FORM = "application/x-www-form-urlencoded"


@fuzz(60)
@given(pairs=OPENURL_PAIRS, method=st.sampled_from(["get", "post", "post-anonymous", "post-relayed"]))
def test_openurl_never_fails(patron_client, pairs, method):
    query = _query(pairs)
    if method == "get":
        response = check(lambda: patron_client.get(f"/openurl?{query}"))
    elif method == "post":
        response = check(lambda: patron_client.post("/openurl/", query, content_type=FORM))
    else:
        relay = "&_relay=1" if method == "post-relayed" else ""
        response = check(lambda: Client().post("/openurl/", query + relay, content_type=FORM))
    assert response.status_code in (200, 302, 400)


def _query(pairs) -> str:
    """The pairs percent-encoded as they are: text as UTF-8, bytes as bytes (invalid UTF-8 included)."""

    def encode(value):
        return quote_from_bytes(value if isinstance(value, bytes) else value.encode("utf-8"), safe="")

    return "&".join(f"{encode(key)}={encode(value)}" for key, value in pairs)


# --- the patron's forms ---------------------------------------------------------------------

LOAN = {
    "material_type": "book",
    "title": "統計的学習の基礎",
    "author": "Hastie",
    "pub_year": "2014",
    "scope": "domestic",
    "expense_type": "private",
}
COPY = {
    "material_type": "article",
    "article_title": "A study of interlibrary loan",
    "title": "Journal of Library Science",
    "pages": "1-10",
    "page_count": "10",
    "colour_pages": "0",
    "paper_size": "A4",
    "delivery_method": "mail",
    "purpose": "research",
    "periodical_frequency": "monthly",
    "issue_date": "2019-05-01",
    "pub_year": "2019",
    "scope": "domestic",
    "expense_type": "private",
    "copyright_accepted": "on",
}
PATRON_FIELDS = [
    *COPY,
    "step",
    "isbn",
    "issn",
    "ncid",
    "doi",
    "note",
    "not_needed_after",
    "max_cost",
    "work_total_pages",
    "budget_code",
    "pickup_branch",
    "comments",
    "edition",
    "publisher",
    "volume",
    "issue",
]


def _created_requests_valid(before_ids, staff=None, lender=None):
    """What was submitted is valid, and the desk can go on with it: ordering it is no 500 (a page
    count that fitted its column once made every order of the request fail)."""
    for request in Request.objects.exclude(pk__in=before_ids):
        valid(request)
        if staff is not None:
            order = {"lender_1": lender.code, "shipping_method": "mail"}
            response = staff.post(f"/desk/requests/{request.number}/order/", order)
            assert response.status_code < 500
            valid(request)


@pytest.fixture
def staff(staff_user):
    other = Client()
    other.force_login(staff_user)
    return other


@fuzz(80)
@given(
    kind=st.sampled_from(["loan", "copy"]),
    changes=overrides(PATRON_FIELDS),
    step=st.sampled_from(["confirm", "submit"]),
)
def test_the_patron_forms_never_fail_nor_half_save(patron_client, staff, lender, undergraduate, kind, changes, step):
    data = {**(LOAN if kind == "loan" else COPY), "pickup_branch": str(undergraduate.home_branch_id), "step": step}
    data.update(changes)
    before_ids = set(Request.objects.values_list("pk", flat=True))
    check(
        lambda: patron_client.post(f"/my/requests/new/{kind}/", data),
        on_success=lambda: _created_requests_valid(before_ids, staff, lender),
    )


@fuzz(15)
@given(changes=overrides(["preferred_language", "home_branch", "phone"]))
def test_the_profile_form_never_fails(patron_client, undergraduate, changes):
    data = {"preferred_language": "en", "home_branch": str(undergraduate.home_branch_id), "phone": "", **changes}
    check(lambda: patron_client.post("/my/profile/", data))


# --- the desk's forms -------------------------------------------------------------------------


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    return client


def _ordered(lender, kind, patron):
    if kind == "copy":
        return f.CopyRequestFactory(patron=patron, status="ordered", lender=lender, page_count=10)
    return f.RequestFactory(patron=patron, status="ordered", lender=lender)


def _arrived_with_charge(lender, patron):
    request = f.RequestFactory(patron=patron, status="arrived", lender=lender)
    f.ChargeFactory(request=request, total=1600)
    return request


def _on_loan_with_extension(lender, patron):
    request = f.RequestFactory(
        patron=patron, status="on_loan", lender=lender, lender_due_date=f.future(10), due_date=f.future(7)
    )
    services.request_extension(request, actor=patron.user, reason="still writing")
    return request


LENDER = "__lender__"  # replaced by the lender's code
ACTIONS = {
    # action: (how to make a request it applies to, a valid post, the fields to spoil)
    "order": (
        lambda lender, patron: f.CopyRequestFactory(patron=patron, page_count=10),
        {"lender_1": LENDER, "shipping_method": "mail"},
        ["lender_1", "lender_2", "shipping_method", "estimated_charge", "patron_accepted", "lender_reference", "note"],
    ),
    "record_arrival": (
        lambda lender, patron: _ordered(lender, "copy", patron),
        {"pages": "10", "colour_pages": "0", "use_restriction": "none"},
        ["pages", "colour_pages", "adjusted_total", "adjustment_reason", "use_restriction", "restriction_note"],
    ),
    "record_arrival_loan": (
        lambda lender, patron: _ordered(lender, "loan", patron),
        {"lender_due_date": f.future(21).isoformat(), "use_restriction": "none"},
        ["lender_due_date", "adjusted_total", "adjustment_reason", "use_restriction"],
    ),
    "payment": (
        _arrived_with_charge,
        {"amount": "1600", "receipt_number": "R-1"},
        ["amount", "receipt_number"],
    ),
    "extension_grant": (
        _on_loan_with_extension,
        {"new_lender_due_date": f.future(30).isoformat()},
        ["new_lender_due_date", "note"],
    ),
    "reject": (
        lambda lender, patron: f.RequestFactory(patron=patron),
        {"reason": "rare"},
        ["reason", "note"],
    ),
    "review": (lambda lender, patron: f.RequestFactory(patron=patron), {}, ["note"]),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@fuzz(20)
@given(data=st.data())
def test_the_desk_actions_never_fail_nor_half_save(desk, lender, undergraduate, action, data):
    make, post, fields = ACTIONS[action]
    changes = data.draw(overrides(fields))
    with transaction.atomic():
        request = make(lender, undergraduate)
        body = {k: (lender.code if v == LENDER else v) for k, v in {**post, **changes}.items()}
        url_action = "record_arrival" if action == "record_arrival_loan" else action
        check(
            lambda: desk.post(f"/desk/requests/{request.number}/{url_action}/", body),
            request,
            on_success=lambda: _action_valid(request),
        )
        transaction.set_rollback(True)


def _action_valid(request):
    valid(request)
    for model in (Charge, ChargeLine, Shipment, BudgetLedgerEntry, Payment, LenderCandidate, ExtensionRequest):
        for row in model.objects.all():
            valid(row)


@fuzz(25)
@given(lines=st.lists(overrides(["arrived", "pages", "colour_pages", "use_restriction", "request_id"]), max_size=3))
def test_the_shipment_page_never_fails_nor_half_saves(desk, lender, undergraduate, lines):
    with transaction.atomic():
        requests = [_ordered(lender, "copy", undergraduate) for _ in range(max(1, len(lines)))]
        body = {
            "lender": str(lender.pk),
            "delivery": "mail",
            "step": "record",
            "line-TOTAL_FORMS": str(len(requests)),
            "line-INITIAL_FORMS": str(len(requests)),
        }
        for n, request in enumerate(requests):
            line = {"request_id": str(request.pk), "arrived": "on", "pages": "10", "colour_pages": "0"}
            line.update(lines[n] if n < len(lines) else {})
            body.update({f"line-{n}-{k}": v for k, v in line.items()})
        check(
            lambda: desk.post(f"/desk/shipments/new/?lender={lender.code}", body),
            requests[0],
            on_success=lambda: _action_valid(requests[0]),
        )
        transaction.set_rollback(True)


QUEUE_FIELDS = [
    "q",
    "worklist",
    "status",
    "kind",
    "branch",
    "lender",
    "expense_type",
    "patron",
    "submitted_min",
    "submitted_max",
    "overdue",
    "attention",
    "sort",
    "size",
    "cursor",
]


@fuzz(30)
@given(params=overrides(QUEUE_FIELDS))
def test_the_queue_filters_never_fail(desk, params):
    check(lambda: desk.get("/desk/requests/", params))


@fuzz(20)
@given(kind=st.sampled_from(["loan", "copy"]), changes=overrides([*PATRON_FIELDS, "override_duplicate"]))
def test_requests_entered_at_the_desk_never_fail_nor_half_save(desk, undergraduate, kind, changes):
    data = {**(LOAN if kind == "loan" else COPY), "pickup_branch": str(undergraduate.home_branch_id), "step": "submit"}
    data.update(changes)
    before_ids = set(Request.objects.values_list("pk", flat=True))
    check(
        lambda: desk.post(f"/desk/patrons/{undergraduate.patron_number}/new/{kind}/", data),
        on_success=lambda: _created_requests_valid(before_ids),
    )
