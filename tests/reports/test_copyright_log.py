"""The copyright log (/desk/reports/copyright/): each refusal of a submission rule is recorded once a
day per patron, rule and citation, outlives the refused submission's rollback, never names the
patron; staff rejections for copyright and every override are listed with who, when and why."""

import csv
import datetime
import hashlib
import io

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection
from django.utils import timezone

from ill import refusals, rules, services
from ill.models import Request, RuleRefusal
from reports import copyright as log
from reports.tables import Scope
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NOW = datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC)  # FY2026


def copy(patron, **fields):
    values = {
        "material_type": "article",
        "title": "Journal of Examples",
        "article_title": "On examples",
        "page_count": 10,
        "copyright_accepted": True,
        "purpose": "research",
        "pub_year": 2019,
        **fields,
    }
    return Request(kind="copy", pickup_branch=patron.home_branch, **values)


# One refused copy request per copyright rule (DESIGN.md §3.5), as at 2026-11-23.
BY_RULE = {
    "copyright_purpose": {"purpose": "other"},
    "copyright_accept": {"copyright_accepted": False},
    "copyright_frequency": {"pub_year": 2026},
    "copyright_issue_date": {"pub_year": 2026, "periodical_frequency": "monthly"},
    "copyright_latest_issue": {"periodical_frequency": "monthly", "issue_date": datetime.date(2026, 11, 1)},
    "copyright_total_pages": {"material_type": "chapter", "title": "A book"},
    "copyright_half": {"material_type": "chapter", "title": "A book", "page_count": 50, "work_total_pages": 100},
}


def refuse(patron, request, actor=None, **kwargs):
    with pytest.raises(rules.RulesRefused) as refused:
        services.submit_request(patron=patron, request=request, actor=actor or patron.user, **kwargs)
    return [r.code for r in refused.value.results]


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    return client


def overrider(staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="override_rules"))
    return type(staff_user).objects.get(pk=staff_user.pk)


# --- recording ---------------------------------------------------------------------------------


@time_machine.travel(NOW)
@pytest.mark.parametrize("code", list(BY_RULE))
def test_each_copyright_rule_is_recorded_once_a_day_per_patron_and_citation(code, undergraduate, doctoral):
    fields = BY_RULE[code]
    assert refuse(undergraduate, copy(undergraduate, **fields)) == [code]
    assert refuse(undergraduate, copy(undergraduate, **fields)) == [code]  # tried again: the same refusal
    row = RuleRefusal.objects.get()
    assert (row.rule, row.day, row.kind, row.material_type) == (
        code,
        datetime.date(2026, 11, 23),
        "copy",
        fields.get("material_type", "article"),
    )
    assert (row.branch, row.patron_category, row.staff_entry) == (undergraduate.home_branch, "undergraduate", False)
    # another citation, another patron: counted apart; the same one the next day: counted again
    refuse(undergraduate, copy(undergraduate, article_title="Another article", **fields))
    refuse(doctoral, copy(doctoral, **fields))
    with time_machine.travel(NOW + datetime.timedelta(days=1)):
        refuse(undergraduate, copy(undergraduate, **fields))
    assert RuleRefusal.objects.filter(rule=code).count() == 4
    assert log.copyright_tables(Scope(2026))[0].rows[list(BY_RULE).index(code)][1:] == [4, 0, 4]


@time_machine.travel(NOW)
def test_the_same_citation_typed_differently_is_the_same_citation(undergraduate):
    half = BY_RULE["copyright_half"]
    refuse(undergraduate, copy(undergraduate, **half))
    refuse(undergraduate, copy(undergraduate, **{**half, "title": "Ａ　ＢＯＯＫ", "pages": "1-50"}))
    assert RuleRefusal.objects.count() == 1


@time_machine.travel(NOW)
def test_nothing_about_the_patron_is_stored(undergraduate):
    refuse(undergraduate, copy(undergraduate, **BY_RULE["copyright_half"]))
    row = RuleRefusal.objects.get()
    names = {field.name for field in RuleRefusal._meta.get_fields()}
    assert not names & {"patron", "patron_id", "user", "request", "title", "article_title"}
    stored = " ".join(str(value) for value in RuleRefusal.objects.values().get().values())
    for secret in (undergraduate.patron_number, undergraduate.user.username, undergraduate.full_name, "A book"):
        assert secret not in stored
    # a keyed hash: not the plain digest of what it is made from (which anyone could recompute)
    citation = refusals.citation_key("copy", {"title": "A book", "article_title": "On examples"})
    plain = f"{undergraduate.pk}\x1fcopyright_half\x1f2026-11-23\x1f{citation}"
    assert row.fingerprint != hashlib.sha256(plain.encode()).hexdigest()
    assert len(row.fingerprint) == 64


@pytest.mark.django_db(transaction=True)
@time_machine.travel(NOW)
def test_the_record_survives_the_refusals_rollback(undergraduate):
    refuse(undergraduate, copy(undergraduate, **BY_RULE["copyright_half"]))
    assert not Request.objects.exists()  # the refused submission saved nothing…
    assert RuleRefusal.objects.filter(rule="copyright_half").count() == 1  # …but its refusal is counted (committed)


@time_machine.travel(NOW)
def test_a_failure_to_record_never_turns_a_refusal_into_an_error(undergraduate, monkeypatch, client):
    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(RuleRefusal.objects, "bulk_create", broken)
    assert refuse(undergraduate, copy(undergraduate, **BY_RULE["copyright_half"])) == ["copyright_half"]
    client.force_login(undergraduate.user)
    response = client.post("/my/requests/new/copy/", {**patron_form(undergraduate), "step": "confirm"})
    assert response.status_code == 400
    assert [r.code for r in response.context["refusals"]] == ["copyright_half"]  # the refusal shown as ever
    assert not RuleRefusal.objects.exists()


@time_machine.travel(NOW)
def test_other_rules_are_recorded_too_and_staff_entries_marked(undergraduate, staff_user):
    f.RequestFactory(patron=undergraduate, title="Pattern Recognition", author="Bishop")
    again = Request(kind="loan", material_type="book", title="Pattern Recognition", author="Bishop")
    again.pickup_branch = undergraduate.home_branch
    assert refuse(undergraduate, again, actor=staff_user) == ["duplicate"]
    row = RuleRefusal.objects.get()
    assert (row.rule, row.kind, row.staff_entry) == ("duplicate", "loan", True)
    tables = {t.slug: t for t in log.copyright_tables(Scope(2026))}
    others = tables["other-refusals"]
    assert others.rows[refusals.OTHER_RULES.index("duplicate")][1:] == [0, 1, 1]
    assert tables["copyright-refusals"].footer[3] == 0


# --- where the patron meets a refusal ----------------------------------------------------------


def patron_form(patron, **fields):
    return {
        "material_type": "chapter",
        "title": "A book",
        "article_title": "Chapter 1",
        "page_count": "50",
        "work_total_pages": "100",
        "colour_pages": "0",
        "paper_size": "A4",
        "delivery_method": "mail",
        "purpose": "research",
        "periodical_frequency": "none",
        "copyright_accepted": "on",
        "pickup_branch": patron.home_branch.pk,
        "scope": "domestic",
        "expense_type": "private",
        **fields,
    }


@time_machine.travel(NOW)
def test_the_patrons_confirm_and_submit_steps_record_once_per_attempt(client, undergraduate):
    client.force_login(undergraduate.user)
    response = client.post("/my/requests/new/copy/", {**patron_form(undergraduate), "step": "confirm"})
    assert response.status_code == 400
    assert list(RuleRefusal.objects.values_list("rule", "staff_entry")) == [("copyright_half", False)]
    # the submit step (a form posted straight to it): refused again, the same refusal of the day
    response = client.post("/my/requests/new/copy/", {**patron_form(undergraduate), "step": "submit"})
    assert response.status_code == 400
    assert RuleRefusal.objects.count() == 1
    # a different book is a different citation
    client.post("/my/requests/new/copy/", {**patron_form(undergraduate, title="Another book"), "step": "confirm"})
    assert RuleRefusal.objects.count() == 2
    # the edit step shows the form again: no refusal
    client.post("/my/requests/new/copy/", {**patron_form(undergraduate, title="Third"), "step": "edit"})
    assert RuleRefusal.objects.count() == 2


@time_machine.travel(NOW)
def test_the_form_step_records_the_copyright_facts_it_asks_for(client, undergraduate):
    client.force_login(undergraduate.user)
    data = patron_form(undergraduate, work_total_pages="", page_count="10")
    assert client.post("/my/requests/new/copy/", {**data, "step": "confirm"}).status_code == 400
    article = patron_form(
        undergraduate, material_type="article", title="Journal", pub_year="2026", periodical_frequency="monthly"
    )
    assert client.post("/my/requests/new/copy/", {**article, "step": "confirm"}).status_code == 400
    assert sorted(RuleRefusal.objects.values_list("rule", flat=True)) == [
        "copyright_issue_date",
        "copyright_total_pages",
    ]
    # a form refused for something else (a bad ISBN) is not a rule's refusal
    client.post("/my/requests/new/copy/", {**patron_form(undergraduate, isbn="978-0"), "step": "confirm"})
    assert RuleRefusal.objects.count() == 2


@time_machine.travel(NOW)
def test_a_request_that_passes_records_nothing(client, undergraduate):
    client.force_login(undergraduate.user)
    data = patron_form(undergraduate, page_count="49")
    assert client.post("/my/requests/new/copy/", {**data, "step": "confirm"}).status_code == 200
    assert client.post("/my/requests/new/copy/", {**data, "step": "submit"}).status_code == 302
    assert not RuleRefusal.objects.exists()


# --- the page: refusals, staff rejections, overrides ------------------------------------------


def test_refusals_are_counted_per_fiscal_year_and_month_and_branch(undergraduate, medical_branch):
    for day, branch in [
        (datetime.date(2026, 3, 31), undergraduate.home_branch),  # FY2025
        (datetime.date(2026, 4, 1), undergraduate.home_branch),  # FY2026, April
        (datetime.date(2026, 4, 30), medical_branch),
        (datetime.date(2027, 3, 31), undergraduate.home_branch),  # FY2026, March
    ]:
        RuleRefusal.objects.create(
            day=day, rule="copyright_half", kind="copy", material_type="chapter", branch=branch, fingerprint=str(day)
        )
    half = list(refusals.COPYRIGHT_RULES).index("copyright_half")
    assert log.copyright_tables(Scope(2025))[0].rows[half][3] == 1
    assert log.copyright_tables(Scope(2026))[0].rows[half][3] == 3
    assert log.copyright_tables(Scope(2026, month=4))[0].rows[half][3] == 2
    assert log.copyright_tables(Scope(2026, branch_id=medical_branch.pk))[0].rows[half][3] == 1
    by_month = {t.slug: t for t in log.copyright_tables(Scope(2026))}["copyright-by-month"]
    assert [row[1] for row in by_month.rows] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert by_month.chart.kind == "bar"
    assert {t.slug: t for t in log.copyright_tables(Scope(2026))}["copyright-refusals"].chart.kind == "hbar"


@time_machine.travel(NOW)
def test_staff_rejections_and_overrides_are_listed_with_who_when_and_why(desk, staff_user, undergraduate):
    staff_user.first_name, staff_user.last_name = "Yuki", "Mori"
    staff_user.save()
    staff = overrider(staff_user)
    overridden = services.submit_request(
        patron=undergraduate,
        actor=staff,
        overrides={"copyright": "author's permission on file"},
        request=copy(undergraduate, **BY_RULE["copyright_half"]),
    )
    f.RequestFactory(patron=undergraduate, title="Pattern Recognition", author="Bishop")
    duplicate = services.submit_request(
        patron=undergraduate,
        actor=staff,
        overrides={"duplicate": "the first copy was lost in the post"},
        request=Request(
            kind="loan",
            material_type="book",
            title="Pattern Recognition",
            author="Bishop",
            pickup_branch=undergraduate.home_branch,
        ),
    )
    rejected = services.submit_request(patron=undergraduate, actor=undergraduate.user, request=copy(undergraduate))
    services.reject(rejected, actor=staff, reason="copyright", note="the whole score")
    services.reject(
        services.submit_request(
            patron=undergraduate, actor=undergraduate.user, request=copy(undergraduate, article_title="Other")
        ),
        actor=staff,
        reason="rare",
    )
    tables = {t.slug: t for t in log.copyright_tables(Scope(2026))}
    when = timezone.localtime(overridden.submitted_at)
    assert tables["copyright-overrides"].rows == [
        [overridden.number, "On examples", "Yuki Mori", when, "author's permission on file"]
    ]
    assert tables["duplicate-overrides"].rows[0][0::2] == [
        duplicate.number,
        "Yuki Mori",
        "the first copy was lost in the post",
    ]
    rejected.refresh_from_db()
    assert tables["copyright-rejections"].rows == [
        [rejected.number, "On examples", "Yuki Mori", timezone.localtime(rejected.closed_at), "the whole score"]
    ]
    assert [row[1:] for row in tables["copyright-by-month"].rows if row[0] == "Nov"] == [[0, 1, 1]]
    page = desk.get("/desk/reports/copyright/?year=2026")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<a href="/desk/requests/{overridden.number}/">{overridden.number}</a>' in html
    assert "author&#x27;s permission on file" in html and "Yuki Mori" in html
    assert f'<a href="/desk/requests/{rejected.number}/">{rejected.number}</a>' in html


def test_the_lists_show_the_newest_and_the_export_has_every_one(desk, staff_user, undergraduate):
    staff = overrider(staff_user)
    numbers = []
    for n in range(4):
        with time_machine.travel(NOW + datetime.timedelta(hours=n)):
            numbers.append(
                services.submit_request(
                    patron=undergraduate,
                    actor=staff,
                    overrides={"copyright": f"reason {n}"},
                    request=copy(undergraduate, article_title=f"Chapter {n}", **BY_RULE["copyright_half"]),
                ).number
            )
    table = {t.slug: t for t in log.copyright_tables(Scope(2026), newest=2)}["copyright-overrides"]
    assert [row[0] for row in table.rows] == numbers[:1:-1]  # the newest two
    assert "The newest 2 of 4" in table.note
    assert [row[0] for row in table.all_rows()] == numbers[::-1]
    response = desk.get("/desk/reports/copyright/?year=2026&export=csv&table=copyright-overrides")
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == ["Request", "Title", "Who", "Submitted", "Reason"]
    assert [line[0] for line in lines[1:]] == numbers[::-1]
    assert [line[4] for line in lines[1:]] == ["reason 3", "reason 2", "reason 1", "reason 0"]


def test_the_page_answers_bad_filters_and_exports_without_a_500(desk):
    for query in ("year=abc", "month=13", "branch=nowhere", "export=pdf&table=copyright-refusals", "export=csv"):
        response = desk.get(f"/desk/reports/copyright/?{query}")
        assert response.status_code in (200, 400), query
    assert desk.get("/desk/reports/copyright/?export=xlsx&table=copyright-refusals").status_code == 200


def test_only_staff_open_the_log(client, undergraduate):
    client.force_login(undergraduate.user)
    assert client.get("/desk/reports/copyright/").status_code == 403


def test_the_override_lists_read_their_partial_indexes():
    """On PostgreSQL the lists are read from the partial indexes, not a scan of every request."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner")
    start, end = timezone.now() - datetime.timedelta(days=30), timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for condition, field, index in [
            (log.COPYRIGHT_OVERRIDDEN, "submitted_at", "request_copyright_override"),
            (log.DUPLICATE_OVERRIDDEN, "submitted_at", "request_duplicate_override"),
            (log.COPYRIGHT_REJECTED, "closed_at", "request_copyright_rejected"),
        ]:
            queryset = Request.objects.filter(condition, **{f"{field}__gte": start, f"{field}__lt": end})
            assert index in queryset.order_by(f"-{field}").explain(), index
