"""Issue 12, finding 4: numbers and dates that gave a 500 (or broke a request for good) are refused
with a message naming the allowed range, and the database refuses them too (core.bounds)."""

import datetime
import http.client
import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from core import bounds
from fees import calculator
from fees.models import BudgetLedgerEntry, Charge, Shipment
from ill import rules
from ill.models import Request
from tests import factories as f
from tests.workers import ROOT, database_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MAX_INT = 2**31 - 1
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def patron_client(client, undergraduate):
    client.force_login(undergraduate.user)
    client.cookies["django_language"] = "en"
    return client


def copy_post(patron, **changes):
    data = {
        "step": "submit",
        "material_type": "article",
        "article_title": "Deep learning for cataloguing",
        "title": "Journal of Library Science",
        "pages": "1-10",
        "page_count": "10",
        "colour_pages": "0",
        "paper_size": "A4",
        "delivery_method": "mail",
        "purpose": "research",
        "periodical_frequency": "monthly",
        "issue_date": "2020-01-01",
        "pub_year": "2020",
        "pickup_branch": patron.home_branch.pk,
        "scope": "domestic",
        "expense_type": "private",
        "copyright_accepted": "on",
    }
    data.update(changes)
    return data


def act(desk, request, action, data):
    return desk.post(f"/desk/requests/{request.number}/{action}/", data)


# --- the patron's copy form ---------------------------------------------------------------------


@pytest.mark.parametrize("step", ["confirm", "submit"])
def test_a_monthly_issue_dated_9999_12_31_is_refused_with_the_allowed_dates(patron_client, undergraduate, step):
    """It was a 500: the next issue's date, 9999-12-31 + 1 month, is past year 9999 (ill/rules.py)."""
    data = copy_post(undergraduate, step=step, issue_date="9999-12-31", pub_year="")
    response = patron_client.post("/my/requests/new/copy/", data)
    assert response.status_code == 400
    assert "Enter a date from 1400-01-01 to" in response.content.decode()
    assert not Request.objects.exists()


def test_the_latest_issue_rule_never_overflows_a_date():
    assert rules.copyable_from(Request.Frequency.MONTHLY, datetime.date(9999, 12, 31)) == datetime.date.max
    assert rules.copyable_from(Request.Frequency.DAILY, datetime.date.max) == datetime.date.max
    late = Request(
        kind="copy",
        material_type="article",
        purpose="research",
        copyright_accepted=True,
        periodical_frequency=Request.Frequency.QUARTERLY_OR_LESS,
        issue_date=datetime.date(9999, 11, 30),
    )
    result = rules.copyright_rule(late, {})
    assert (result.refused, result.code) == (True, "copyright_latest_issue")


def test_a_page_count_of_2_31_minus_1_is_refused_with_the_range(patron_client, undergraduate):
    """It was accepted, and then every order of the request failed on `integer out of range`."""
    response = patron_client.post("/my/requests/new/copy/", copy_post(undergraduate, page_count=str(MAX_INT)))
    assert response.status_code == 400
    assert "Enter a whole number from 1 to 10,000." in response.content.decode()
    assert not Request.objects.exists()


def test_the_largest_page_count_is_accepted(patron_client, undergraduate):
    response = patron_client.post(
        "/my/requests/new/copy/", copy_post(undergraduate, page_count="10000", colour_pages="10000")
    )
    assert response.status_code == 302
    assert Request.objects.get().page_count == bounds.MAX_PAGES


@pytest.mark.parametrize(
    "field, value",
    [("max_cost", "99999999999"), ("max_cost", "-1"), ("pub_year", "99999"), ("work_total_pages", "100001")],
)
def test_other_numbers_of_the_patron_forms_are_bounded(patron_client, undergraduate, field, value):
    response = patron_client.post("/my/requests/new/copy/", copy_post(undergraduate, **{field: value}))
    assert response.status_code == 400
    assert "Enter a whole number from" in response.content.decode()
    assert not Request.objects.exists()


def test_a_not_needed_after_date_far_ahead_is_refused(patron_client, undergraduate):
    response = patron_client.post("/my/requests/new/copy/", copy_post(undergraduate, not_needed_after="9999-12-31"))
    assert response.status_code == 400
    assert "Enter a date from" in response.content.decode()


# --- ordering after the largest page count: no overflow on the way -------------------------------


def expensive_lender():
    """Every price at its bound: 10,000 pages cost more than any charge may (calculator.MAX_TOTAL)."""
    return f.FeeScheduleFactory(
        mono_price=bounds.MAX_PAGE_PRICE,
        colour_price=bounds.MAX_PAGE_PRICE,
        handling_fee_per_item=bounds.MAX_FEE,
        postage_per_shipment=bounds.MAX_FEE,
        tax_included=False,
        tax_rate_percent=100,
    ).lender


@pytest.mark.parametrize("pricing", ["seed", "every price at its bound"])
def test_a_request_of_the_largest_page_count_can_be_ordered_and_received(desk, lender, pricing):
    lender = lender if pricing == "seed" else expensive_lender()
    request = f.CopyRequestFactory(page_count=bounds.MAX_PAGES, colour_pages=bounds.MAX_PAGES)
    assert act(desk, request, "order", {"lender_1": lender.code, "shipping_method": "mail"}).status_code == 302
    request.refresh_from_db()
    assert request.status == "ordered"
    assert request.estimate is None or request.estimate <= bounds.MAX_YEN
    arrival = {"pages": str(bounds.MAX_PAGES), "colour_pages": "0", "use_restriction": "none"}
    response = act(desk, request, "record_arrival", arrival)
    if pricing == "seed":  # 10,000 pages at 35 yen
        assert response.status_code == 302
        assert request.charge.total == 350_140
        return
    # ¥100,000,000 and more: refused with a message, nothing saved; what the lender asks goes in.
    assert response.status_code == 400
    assert "above the most a shipment may cost" in response.content.decode()
    assert not Charge.objects.exists() and not Shipment.objects.exists()
    arrival.update(adjusted_total="250000", adjustment_reason="The lender's invoice")
    assert act(desk, request, "record_arrival", arrival).status_code == 302
    assert Charge.objects.get().total == 250_000


def test_the_calculator_refuses_a_total_above_the_bound_of_every_stored_amount():
    assert calculator.MAX_TOTAL == bounds.MAX_YEN
    schedule = calculator.FeeSchedule(mono_price=bounds.MAX_PAGE_PRICE)
    with pytest.raises(calculator.TooExpensive):
        calculator.price_copies(schedule, [calculator.CopyItem(key=1, mono_pages=bounds.MAX_PAGES)])
    assert calculator.price_copies(schedule, [calculator.CopyItem(key=1, mono_pages=1000)]).total == bounds.MAX_YEN


# --- the desk's forms ------------------------------------------------------------------------


def test_a_staff_estimate_of_99_999_999_999_is_refused(desk):
    """It was a 500 (integer out of range) on the estimate and the budget's ledger."""
    lender = f.LendingInstitutionFactory()  # no fee schedule: the estimate is typed
    request = f.CopyRequestFactory(page_count=10)
    data = {"lender_1": lender.code, "shipping_method": "mail", "estimated_charge": "99999999999"}
    response = act(desk, request, "order", data)
    assert response.status_code == 400
    assert "Enter a whole number from 0 to 10,000,000." in response.content.decode()
    request.refresh_from_db()
    assert (request.status, request.estimate) == ("submitted", None)
    assert not BudgetLedgerEntry.objects.exists() and not request.candidates.exists()


@pytest.mark.parametrize("field", ["pages", "colour_pages", "adjusted_total"])
def test_received_pages_or_a_charge_of_2_31_minus_1_are_refused(desk, lender, field):
    request = f.CopyRequestFactory(page_count=10)
    assert act(desk, request, "order", {"lender_1": lender.code, "shipping_method": "mail"}).status_code == 302
    data = {"pages": "10", "colour_pages": "0", "use_restriction": "none", field: str(MAX_INT)}
    response = act(desk, request, "record_arrival", data)
    assert response.status_code == 400
    assert "Enter a whole number from 0 to" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "ordered"
    assert not Charge.objects.exists()


def test_the_shipment_page_refuses_pages_of_2_31_minus_1(desk, lender):
    request = f.CopyRequestFactory(page_count=10)
    act(desk, request, "order", {"lender_1": lender.code, "shipping_method": "mail"})
    data = {
        "lender": lender.pk,
        "delivery": "mail",
        "step": "record",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "1",
        "line-0-request_id": str(request.pk),
        "line-0-arrived": "on",
        "line-0-pages": str(MAX_INT),
        "line-0-colour_pages": "0",
        "line-0-use_restriction": "none",
    }
    response = desk.post(f"/desk/shipments/new/?lender={lender.code}", data)
    assert response.status_code == 400
    assert not Charge.objects.exists()
    data["line-0-request_id"] = "99999999999999999999"
    assert desk.post(f"/desk/shipments/new/?lender={lender.code}", data).status_code == 400


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_the_queue_refuses_a_date_out_of_range_with_a_message(desk, value):
    response = desk.get("/desk/requests/", {"submitted_min": value, "submitted_max": value})
    assert response.status_code == 400
    assert "Enter a date from 2000-01-01 to" in response.content.decode()


def test_a_due_date_far_ahead_is_refused_on_arrival(desk, lender):
    request = f.RequestFactory()
    act(desk, request, "order", {"lender_1": lender.code, "shipping_method": "mail"})
    response = act(desk, request, "record_arrival", {"lender_due_date": "9999-12-31", "use_restriction": "none"})
    assert response.status_code == 400
    assert "Enter a date from 2000-01-01 to" in response.content.decode()


# --- the database refuses them too -------------------------------------------------------------

# Integer and date fields not typed by anyone, each with the reason.
UNBOUNDED = {
    ("ill", "RequestNumberCounter", "year"): "set from today's year by the numbering",
    ("ill", "RequestNumberCounter", "last"): "a counter (a million a year at the national network)",
    ("ill", "LenderCandidate", "position"): "bounded 1..5 since before (candidate_position_range)",
    ("patrons", "OpeningHours", "weekday"): "bounded 0..6 since before (opening_hours_weekday_range)",
    ("fees", "FeeSchedule", "tax_rate_percent"): "bounded 0..100 since before (fee_schedule_tax_rate_range)",
    ("ill", "RuleRefusal", "day"): "today's date, written by ill.refusals when a rule refuses",
}


def bounded_fields():
    for app in ("ill", "fees", "patrons"):
        for model in apps.get_app_config(app).get_models():
            if model.__name__.startswith(("HoldingsImport", "PatronImport")):
                continue  # counters of an import job, written by the job
            for field in model._meta.concrete_fields:
                if field.primary_key or isinstance(field, (models.ForeignKey, models.DateTimeField)):
                    continue
                if isinstance(field, (models.IntegerField, models.DateField)):
                    yield app, model, field


def test_every_number_and_date_of_the_apps_has_a_validator_and_a_check():
    missing = []
    for app, model, field in bounded_fields():
        if (app, model.__name__, field.name) in UNBOUNDED:
            continue
        has_validator = any(isinstance(v, (bounds.InRange, bounds.DateInRange)) for v in field.validators)
        names = [c.name for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
        has_check = any(name.endswith(f"_{field.name}_range") for name in names)
        if not (has_validator and has_check):
            missing.append(f"{model.__name__}.{field.name}")
    assert missing == []


@pytest.mark.parametrize(
    "changes",
    [
        {"page_count": bounds.MAX_PAGES + 1},
        {"page_count": 0},
        {"colour_pages": -1},
        {"estimate": MAX_INT},
        {"max_cost": bounds.MAX_YEN + 1},
        {"pub_year": 3000},
        {"issue_date": datetime.date(9999, 12, 31)},
        {"due_date": datetime.date(1999, 12, 31)},
    ],
)
def test_the_database_refuses_out_of_range_values(changes):
    request = f.CopyRequestFactory(page_count=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(**changes)


def test_the_database_refuses_a_charge_above_the_bound(lender):
    request = f.CopyRequestFactory(page_count=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        f.ChargeFactory(
            request=request, copy_fee=bounds.MAX_YEN + 1, computed_total=bounds.MAX_YEN + 1, total=bounds.MAX_YEN + 1
        )


# --- OpenURL links of any length, through gunicorn with gunicorn.conf.py -------------------------


def long_openurl(size: int) -> str:
    """An OpenURL 1.0 query of about `size` bytes: an article with a long list of authors."""
    head = [
        ("url_ver", "Z39.88-2004"),
        ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
        ("rft.genre", "article"),
        ("rft.atitle", "Interlibrary loan at scale"),
        ("rft.jtitle", "Journal of Library Science"),
        ("rft.date", "2019"),
        ("rft.issn", "0022-2232"),
    ]
    query = urlencode(head)
    n = 0
    while len(query) < size:
        n += 1
        query += "&" + urlencode([("rft.au", f"著者{n:05d}, 名前 {'x' * 100}")])
    return query


@pytest.fixture
def gunicorn_url(transactional_db, tmp_path):
    """gunicorn as production runs it (gunicorn.conf.py), one worker, on the test database."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}"]
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                send(port, "GET", "/accounts/login/")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "gunicorn.log").read_text()) from None
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


def send(port, method, path, body=None, cookie="", origin=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if origin:
        headers["Origin"] = origin
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.mark.postgres
def test_openurl_links_of_10_and_100_kb_get_a_page_that_carries_them_over(gunicorn_url, client, undergraduate):
    port = gunicorn_url
    client.force_login(undergraduate.user)
    cookie = f"sessionid={client.cookies['sessionid'].value}; django_language=en"

    # Up to gunicorn's limit a link works as a link.
    status, headers, page = send(port, "GET", "/openurl?" + long_openurl(4_000), cookie=cookie)
    assert status == 200
    assert "Interlibrary loan at scale" in page and "著者00001" in page

    for size in (10_000, 100_000):
        query = long_openurl(size)
        # Longer, it gets the 414 page, not gunicorn's bare one: what to do, and the script that
        # posts the citation again as a form.
        status, headers, page = send(port, "GET", "/openurl?" + query, cookie=cookie)
        assert status == 414
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "This link is too long" in page and "/static/js/openurl-repost.js" in page
        assert "/my/requests/new/copy/" in page
        # What the script posts (the same parameters and _relay=1): the form, prefilled.
        status, headers, page = send(port, "POST", "/openurl/", body=query + "&_relay=1", cookie=cookie)
        assert status == 200
        assert "Interlibrary loan at scale" in page and "Journal of Library Science" in page

    # A link resolver's form posted from another site comes without the session cookie: the
    # citation is posted again from this site (then with the cookie).
    status, headers, page = send(port, "POST", "/openurl/", body=long_openurl(100_000))
    assert status == 200
    assert "data-openurl-relay" in page and 'name="rft.atitle" value="Interlibrary loan at scale"' in page
    # Not logged in at all: the citation waits in the session while the patron logs in.
    status, headers, page = send(
        port, "POST", "/openurl/", body=long_openurl(10_000) + "&_relay=1", origin=f"http://127.0.0.1:{port}"
    )
    assert status == 302
    assert headers["Location"].startswith("/accounts/login/?next=/openurl%3Fsaved%3D1")


def test_a_posted_citation_waits_for_the_login(client, undergraduate):
    response = client.post(
        "/openurl/", long_openurl(20_000) + "&_relay=1", content_type=FORM, headers={"origin": "http://testserver"}
    )
    assert response.status_code == 302
    client.force_login(undergraduate.user)  # the session's data survive the login
    response = client.get("/openurl?saved=1")
    assert response.status_code == 200
    assert "Interlibrary loan at scale" in response.content.decode()
    assert "ill:openurl" not in client.session  # used once


def test_the_openurl_view_copes_with_any_length_and_any_bytes(patron_client):
    for query in (long_openurl(100_000), "atitle=%00%FF%FE%C3" + "%FF" * 50_000, "au=" + "x" * 200_000):
        assert patron_client.get("/openurl?" + query).status_code == 200
        assert patron_client.post("/openurl/", query, content_type=FORM).status_code == 200
    # More parameters than Django parses (DATA_UPLOAD_MAX_NUMBER_FIELDS): the first ones are read.
    many = "atitle=First+things&jtitle=Journal&" + "&".join(f"au=Author+{n}" for n in range(5_000))
    for response in (
        patron_client.get("/openurl?" + many),
        patron_client.post("/openurl/", many, content_type=FORM),
        patron_client.post("/openurl/", many + "&_relay=1", content_type=FORM),
    ):
        assert response.status_code == 200
        assert "First things" in response.content.decode()


def test_the_admin_forms_refuse_out_of_range_numbers(admin_client, faculty):
    response = admin_client.post(
        "/admin/fees/budgetcode/add/",
        {
            "code": "X-1",
            "name": "Too much",
            "kind": "public",
            "fiscal_year": "99999",
            "responsible": faculty.pk,
            "limit": "99999999999",
            "usable_for_ill": "on",
            "active": "on",
        },
        headers={"accept-language": "en"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a whole number from 2000 to 2200." in page
    assert "Enter a whole number from 0 to 1,000,000,000." in page


def range_checks():
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, bounds.RangeCheck):
                yield model, constraint


def test_every_range_check_is_validated_in_python_without_a_query(django_assert_num_queries):
    """Django validates a CheckConstraint by asking the database (one query each, eleven on a copy
    request's confirm step); a RangeCheck compares in Python and gives the same verdict."""
    checks = list(range_checks())
    assert len(checks) >= 40
    for model, constraint in checks:
        field = model._meta.get_field(constraint.field)
        low, high = constraint.bound.low, constraint.bound.high
        step = datetime.timedelta(days=1) if isinstance(low, datetime.date) else 1
        instance = model()
        with django_assert_num_queries(0):
            for value in (low, high, None):
                setattr(instance, field.attname, value)
                constraint.validate(model, instance)
            for value in (low - step, high + step):
                setattr(instance, field.attname, value)
                with pytest.raises(ValidationError):
                    constraint.validate(model, instance)
            constraint.validate(model, instance, exclude={constraint.field})  # excluded: not checked


def test_a_range_check_is_the_same_check_in_the_database_and_in_the_migrations():
    constraint = next(c for c in Request._meta.constraints if c.name == "request_page_count_range")
    path, _args, kwargs = constraint.deconstruct()
    assert path == "django.db.models.CheckConstraint"
    condition = models.Q(page_count__gte=1, page_count__lte=10_000)
    assert kwargs == {"condition": condition, "name": "request_page_count_range"}
    assert isinstance(constraint.clone(), bounds.RangeCheck)


def test_another_site_cannot_post_the_relay_marker_to_sign_a_patron_out(client, undergraduate):
    """The marker says "posted by this site's own relay page"; from another site (its Origin, or no
    Origin and a cross-site Sec-Fetch-Site) it is not believed: the relay page, and no new session
    whose cookie would replace the patron's."""
    for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}, {}):
        response = client.post("/openurl/", long_openurl(1_000) + "&_relay=1", content_type=FORM, headers=headers)
        assert response.status_code == 200
        assert "data-openurl-relay" in response.content.decode()
        assert "sessionid" not in response.cookies
    same_site = client.post(
        "/openurl/", long_openurl(1_000) + "&_relay=1", content_type=FORM, headers={"sec-fetch-site": "same-origin"}
    )
    assert same_site.status_code == 302


def test_a_multipart_post_with_too_many_fields_is_a_400(patron_client):
    fields = {f"au{n}": "x" for n in range(1_500)}
    assert patron_client.post("/openurl/", fields).status_code == 400
