"""The lending figures (reports.lending) and the lending side of the annual survey, on a small data set
with known answers: the fiscal-year boundary (31 March 23:59 / 1 April 00:00 JST), received by kind,
borrower kind, domestic / overseas and source, the fill rate with cancellations apart, turnaround
median and 90th percentile, our loans now, money, the copyright lists; the page and both exports."""

import csv
import datetime
import io
import itertools

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from lending import services
from lending.models import Invoice, LendingCharge, LendingEvent, LendingRequest, Renewal
from reports import lending, survey
from reports.tables import Scope
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NUMBERS = itertools.count(1)
TODAY = (2026, 8, 1, 12, 0)  # the figures "now" are read on 1 August 2026 (JST)


def at(*args) -> datetime.datetime:
    """A time in the site's zone (Asia/Tokyo)."""
    return timezone.make_aware(datetime.datetime(*args))


def table(tables, slug):
    return next(t for t in tables if t.slug == slug)


def row(t, label):
    return next(r for r in t.rows if r[0] == label)


def lent(borrower, kind, received, status, *, shipped=None, source="nacsis", **fields):
    """An incoming request as the services leave it (written directly: the times are the test's)."""
    return LendingRequest.objects.create(
        number=f"L26-{next(NUMBERS):06d}",
        borrower=borrower,
        kind=kind,
        status=status,
        source=source,
        received_at=received,
        shipped_at=shipped,
        title=f"Title {kind}",
        material_type="article" if kind == "copy" else "book",
        **fields,
    )


@pytest.fixture
def borrowers(db):
    return {
        "jp": f.LendingInstitutionFactory(kind="jp_university", code="JP1", name="東都大学"),
        "ndl": f.LendingInstitutionFactory(kind="ndl", code="NDL"),
        "abroad": f.LendingInstitutionFactory(
            kind="overseas", code="BL", country="GB", is_offset_participant=False, accepts_public_expense=False
        ),
        "korea": f.LendingInstitutionFactory(
            kind="other", code="KR1", country="KR", is_offset_participant=False, accepts_public_expense=False
        ),
    }


@pytest.fixture
def year_of_lending(borrowers, staff_user):
    jp, ndl, abroad, korea = borrowers["jp"], borrowers["ndl"], borrowers["abroad"], borrowers["korea"]
    staff_user.first_name, staff_user.last_name = "Hanako", "Desk"
    staff_user.save()
    r = {}
    # Received on 31 March at 23:59 (FY2025), shipped on 2 April (FY2026) after 34 hours.
    r[1] = lent(jp, "copy", at(2026, 3, 31, 23, 59), "completed", shipped=at(2026, 4, 2, 9, 59))
    # Received on 1 April at 00:00 (FY2026), shipped 48 hours later.
    r[2] = lent(jp, "copy", at(2026, 4, 1, 0, 0), "completed", shipped=at(2026, 4, 3, 0, 0), source="email")
    # From abroad by ISO 18626, lent after 24 hours, overdue since 10 May.
    r[3] = lent(
        abroad, "loan", at(2026, 4, 10, 9), "on_loan", shipped=at(2026, 4, 11, 9), source="iso18626",
        due_date=datetime.date(2026, 5, 10),
    )  # fmt: skip
    # From Korea by FAX: unfilled, on loan here.
    r[4] = lent(korea, "loan", at(2026, 5, 1, 9), "unfilled", source="fax", unfilled_reason="on_loan")
    # A copy refused for copyright, with the reason sent back.
    r[5] = lent(
        ndl, "copy", at(2026, 5, 2, 9), "unfilled", unfilled_reason="copyright",
        unfilled_note="More than half of the work.",
    )  # fmt: skip
    LendingEvent.objects.create(
        request=r[5], action="mark_unfilled", from_status="searching", to_status="unfilled", actor=staff_user,
        created_at=at(2026, 5, 2, 10),
    )  # fmt: skip
    # Cancelled by them.
    r[6] = lent(jp, "copy", at(2026, 5, 3, 9), "cancelled")
    # Being copied past the copyright rule, with who and why.
    r[7] = lent(
        jp, "copy", at(2026, 5, 4, 9), "copying", copyright_override_reason="Out of print; the author agreed.",
        copyright_override_by=staff_user,
    )  # fmt: skip
    LendingEvent.objects.create(
        request=r[7], action="start_copying", from_status="will_supply", to_status="copying", actor=staff_user,
        created_at=at(2026, 5, 4, 11),
    )  # fmt: skip
    # Two loans in June: one back and completed (96 hours), one shipped, recalled, due in September.
    r[8] = lent(jp, "loan", at(2026, 6, 1, 9), "completed", shipped=at(2026, 6, 5, 9))
    r[9] = lent(
        jp, "loan", at(2026, 6, 9, 9), "shipped", shipped=at(2026, 6, 10, 9), due_date=datetime.date(2026, 9, 1),
        recalled_at=at(2026, 7, 1, 9),
    )  # fmt: skip
    # Renewals: refused on 31 March 23:59 (FY2025), granted on 1 April 00:00 (FY2026), one waiting.
    Renewal.objects.create(request=r[3], decision="refused", decided_at=at(2026, 3, 31, 23, 59))
    Renewal.objects.create(request=r[3], decision="granted", decided_at=at(2026, 4, 1, 0, 0))
    Renewal.objects.create(request=r[9], decision="pending")
    # Money: invoices (one issued in FY2025 and paid on 1 April, one overdue, one not yet due, one cancelled).
    paid = Invoice.objects.create(
        number="INV-2025-0001", borrower=abroad, fiscal_year=2025, issued_on=datetime.date(2026, 3, 31),
        due_on=datetime.date(2026, 4, 30), total=3000, paid_on=datetime.date(2026, 4, 1), paid_amount=3000,
    )  # fmt: skip
    overdue = Invoice.objects.create(
        number="INV-2026-0001", borrower=jp, fiscal_year=2026, issued_on=datetime.date(2026, 4, 5),
        due_on=datetime.date(2026, 5, 5), total=800,
    )  # fmt: skip
    Invoice.objects.create(
        number="INV-2026-0002", borrower=abroad, fiscal_year=2026, issued_on=datetime.date(2026, 7, 1),
        due_on=datetime.date(2026, 8, 31), total=1500,
    )  # fmt: skip
    Invoice.objects.create(
        number="INV-2026-0003", borrower=abroad, fiscal_year=2026, issued_on=datetime.date(2026, 5, 1),
        due_on=datetime.date(2026, 5, 31), total=999, cancelled=True, cancelled_reason="Typed twice.",
    )  # fmt: skip
    assert paid.is_paid
    charge = LendingCharge.objects.create
    charge(request=r[1], borrower=jp, settlement="offset", state="paid", total=1200)
    charge(request=r[2], borrower=jp, settlement="invoice", state="invoiced", total=800, invoice=overdue)
    charge(request=r[3], borrower=abroad, settlement="invoice", state="open", total=2000)
    charge(request=r[8], borrower=jp, settlement="free", state="open", total=0)
    charge(request=r[9], borrower=jp, settlement="offset", state="waived", total=500, waived_reason="Our delay.")
    return r


def tables_of(year, month=None):
    with time_machine.travel(at(*TODAY), tick=False):
        return lending.lending_tables(Scope(year, month))


def test_requests_received_by_kind_month_borrower_place_and_source(year_of_lending):
    tables = tables_of(2026)
    by_kind = table(tables, "lending-received")
    assert [r[0] for r in by_kind.rows][:3] == ["Apr", "May", "Jun"] and len(by_kind.rows) == 12
    assert by_kind.rows[0][1:] == [1, 1, 2]  # 1 April 00:00 is FY2026's April
    assert by_kind.rows[1][1:] == [1, 3, 4] and by_kind.rows[2][1:] == [2, 0, 2]
    assert by_kind.footer[1:] == [4, 4, 8]
    assert by_kind.extra["headline"]["value"] == 8
    borrower = table(tables, "lending-borrower-kind")
    assert row(borrower, "Japanese university library")[1:] == [2, 3, 5]
    assert row(borrower, "National Diet Library")[1:] == [0, 1, 1]
    assert row(borrower, "Overseas library")[1:] == [1, 0, 1]
    assert row(borrower, "Other institution")[1:] == [1, 0, 1]
    place = table(tables, "lending-domestic-overseas")
    assert row(place, "Domestic")[1:] == [2, 4, 6]
    assert row(place, "Overseas")[1:] == [2, 0, 2]  # the Korean library of kind "other" is abroad
    source = table(tables, "lending-source")
    assert row(source, "NACSIS-ILL")[1:] == [2, 3, 5]
    assert row(source, "E-mail")[1:] == [0, 1, 1]
    assert row(source, "FAX")[1:] == [1, 0, 1]
    assert row(source, "ISO 18626 message")[1:] == [1, 0, 1]
    # 31 March 23:59 belongs to FY2025's March
    previous = table(tables_of(2025), "lending-received")
    assert previous.footer[1:] == [0, 1, 1] and previous.rows[11][1:] == [0, 1, 1]
    # one month
    april = tables_of(2026, month=4)
    assert table(april, "lending-received").rows == [["Apr", 1, 1, 2]]


def test_fill_rate_as_a_lender_with_cancellations_apart(year_of_lending):
    tables = tables_of(2026)
    fill = table(tables, "lending-fill-rate")
    # received, supplied, unfilled, cancelled, not decided, rate = supplied / (supplied + unfilled)
    assert fill.footer[1:] == [8, 4, 2, 1, 1, 66.7]
    assert fill.rows[0][1:] == [2, 2, 0, 0, 0, 100.0]
    assert fill.rows[1][1:] == [4, 0, 2, 1, 1, 0.0]
    assert fill.rows[3][1:] == [0, 0, 0, 0, 0, None]  # July: nothing received, no rate
    per_kind = table(tables, "lending-fill-rate-kind")
    assert row(per_kind, "Loan")[1:] == [4, 3, 1, 0, 0, 75.0]
    assert row(per_kind, "Copy")[1:] == [4, 1, 1, 1, 1, 50.0]
    reasons = table(tables, "lending-unfilled-reasons")
    assert row(reasons, "On loan or in use")[1:] == [1, 0, 1]
    assert row(reasons, "Copyright does not allow it")[1:] == [0, 1, 1]
    assert reasons.footer[1:] == [1, 1, 2]
    assert "Cancellations" in reasons.note


def test_turnaround_received_to_shipped_median_and_90th_percentile(year_of_lending):
    tables = tables_of(2026)
    turnaround = table(tables, "lending-turnaround")
    # copies: 34 h (received in FY2025, shipped in FY2026) and 48 h → median 41 h, p90 46.6 h
    assert row(turnaround, "Copy")[1:] == [2, 1.7, 1.9]
    # loans: 24, 24, 96 h → median 24 h, p90 81.6 h
    assert row(turnaround, "Loan")[1:] == [3, 1.0, 3.4]
    assert turnaround.footer[1:] == [5, 1.4, 3.2]  # 24, 24, 34, 48, 96 h
    months = table(tables, "lending-turnaround-months")
    assert months.rows[0][1:] == [1, 1.0, 1.0, 2, 1.7, 1.9]  # April: the loan from abroad, two copies
    assert months.rows[2][1:4] == [2, 2.5, 3.7]  # June: 24 and 96 h
    assert months.rows[1][1:] == [0, None, None, 0, None, None]
    # FY2025 shipped nothing
    assert table(tables_of(2025), "lending-turnaround").footer[1:] == [0, None, None]


def test_our_loans_now_and_renewals_in_the_period(year_of_lending):
    loans = table(tables_of(2026), "lending-loans")
    figures = {r[0]: r[1] for r in loans.rows}
    assert figures["Books lent (shipped) in the period"] == 3
    assert figures["Renewals granted in the period"] == 1  # 1 April 00:00
    assert figures["Renewals refused in the period"] == 0  # 31 March 23:59 is FY2025
    assert figures["On loan to other libraries now"] == 2
    assert figures["Overdue now"] == 1  # due 10 May; the other is due in September
    assert figures["Recalled now"] == 1
    assert figures["Renewal requests waiting for our answer now"] == 1
    previous = {r[0]: r[1] for r in table(tables_of(2025), "lending-loans").rows}
    assert previous["Renewals refused in the period"] == 1 and previous["Books lent (shipped) in the period"] == 0


def test_money_charged_by_settlement_and_invoices(year_of_lending):
    tables = tables_of(2026)
    charges = table(tables, "lending-charges")
    # charges, charged, paid, waived, not settled yet
    assert row(charges, "Fee-offset (料金相殺)")[1:] == [2, 1700, 1200, 500, 0]
    assert row(charges, "Invoice")[1:] == [2, 2800, 0, 0, 2800]
    assert row(charges, "No charge")[1:] == [1, 0, 0, 0, 0]
    assert charges.footer[1:] == [5, 4500, 1200, 500, 2800]
    assert all(isinstance(v, int) for v in charges.footer[1:])  # whole yen
    invoices = {r[0]: r[1:] for r in table(tables, "lending-invoices").rows}
    assert invoices["Invoices issued in the period"] == [2, 2300]  # the cancelled one is not counted
    assert invoices["Invoices paid in the period"] == [1, 3000]  # issued 31 March, paid 1 April
    assert invoices["Unpaid now"] == [2, 2300]
    assert invoices["Overdue now (past the payment due date)"] == [1, 800]
    previous = {r[0]: r[1:] for r in table(tables_of(2025), "lending-invoices").rows}
    assert previous["Invoices issued in the period"] == [1, 3000] and previous["Invoices paid in the period"] == [0, 0]


def test_the_copyright_side_with_who_when_and_why(year_of_lending):
    tables = tables_of(2026)
    refused = table(tables, "lending-copyright-refused")
    assert refused.rows == [
        [year_of_lending[5].number, "Title copy", year_of_lending[5].borrower.name, "Hanako Desk",
         at(2026, 5, 2, 10), "More than half of the work."]
    ]  # fmt: skip
    overrides = table(tables, "lending-copyright-overrides")
    assert overrides.rows == [
        [year_of_lending[7].number, "Title copy", "東都大学", "Hanako Desk", at(2026, 5, 4, 11),
         "Out of print; the author agreed."]
    ]  # fmt: skip
    assert overrides.extra["total"] == 1 and list(overrides.all_rows()) == overrides.rows
    assert table(tables_of(2025), "lending-copyright-overrides").rows == []


def test_the_list_shows_the_newest_and_the_export_every_one(borrowers, monkeypatch):
    monkeypatch.setattr(lending, "NEWEST", 2)
    for day in (1, 2, 3):
        lent(borrowers["jp"], "copy", at(2026, 5, day, 9), "copying", copyright_override_reason=f"Reason {day}")
    overrides = table(lending.lending_tables(Scope(2026)), "lending-copyright-overrides")
    assert [r[5] for r in overrides.rows] == ["Reason 3", "Reason 2"]
    assert len(list(overrides.all_rows())) == 3 and "newest 2 of 3" in overrides.note


def test_the_cost_follows_the_period(year_of_lending):
    """A fixed number of queries, each a range on an indexed time column or a read of open work only."""
    with time_machine.travel(at(*TODAY), tick=False), CaptureQueriesContext(connection) as queries:
        lending.lending_tables(Scope(2026))
    assert len(queries) <= 15, [q["sql"] for q in queries]
    lending_reads = [q["sql"] for q in queries if 'FROM "lending_lendingrequest"' in q["sql"]]
    for sql in lending_reads:
        assert '"received_at" >=' in sql or '"shipped_at" >=' in sql or '"status" IN' in sql, sql


def test_the_survey_lending_side(year_of_lending, branch):
    with translation.override("en"):
        copy_item, loan_item = str(survey.ITEMS["copy_received"]), str(survey.ITEMS["loan_lent"])
        received = str(survey.LENDING_COUNTED[survey.RECEIVED])
        shipped = str(survey.LENDING_COUNTED[survey.SHIPPED])
    assert lending.survey_counts(2026) == {
        "copy_received": {"domestic": 4, "overseas": 0},
        "copy_supplied": {"domestic": 2, "overseas": 0},
        "loan_received": {"domestic": 2, "overseas": 2},
        "loan_supplied": {"domestic": 2, "overseas": 1},
    }
    lending_table = survey.survey_tables(2026)[1]
    figures = {(r[0], r[1]): r[2:5] for r in lending_table.rows}
    assert figures == {
        (copy_item, received): [4, 0, 4],
        (copy_item, shipped): [2, 0, 2],  # the copy received on 31 March was shipped in FY2026
        (loan_item, received): [2, 2, 4],
        (loan_item, shipped): [2, 1, 3],
    }
    for r in lending_table.rows:
        assert r[5] in {str(text) for text in survey.DEFINITIONS.values()}
    assert "each request once" in lending_table.rows[0][5]
    previous = {(r[0], r[1]): r[2:5] for r in survey.survey_tables(2025)[1].rows}
    assert previous[(copy_item, received)] == [1, 0, 1] and previous[(copy_item, shipped)] == [0, 0, 0]
    assert lending_table.chart.series[0][1] == [2, 2]  # supplied, domestic: copies, loans
    # for the whole library: a branch does not change them, and the note says so
    per_branch = survey.survey_tables(2026, branch_id=branch.pk)[1]
    assert per_branch.rows == lending_table.rows
    assert "whole library" in per_branch.note and "whole library" not in lending_table.note


def test_the_page_and_its_exports(client, staff_user, year_of_lending, branch):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    url = reverse("reports:lending")
    with time_machine.travel(at(*TODAY), tick=False):
        page = client.get(url + "?year=2026")
        html = page.content.decode()
        assert page.status_code == 200
        for t in page.context["tables"] + page.context["lists"]:
            assert f'data-table="{t.slug}"' in html
        assert html.count('data-testid="report-chart"') >= 8
        assert "Out of print; the author agreed." in html and "Hanako Desk" in html
        assert f'href="{reverse("lending:request", args=[year_of_lending[7].number])}"' in html
        assert f'class="nav-link text-nowrap active" aria-current="page" href="{url}' in html
        assert 'data-testid="lending-branch-ignored"' not in html
        assert 'data-testid="lending-branch-ignored"' in client.get(url + f"?branch={branch.code}").content.decode()

        response = client.get(url + "?year=2026&export=csv&table=lending-charges")
        assert response.status_code == 200
        assert response["Content-Disposition"].endswith('ill-lending-fy2026-lending-charges.csv"')
        lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert lines[0] == ["Settlement", "Charges", "Charged", "Paid", "Waived", "Not settled yet"]
        assert lines[-1] == ["Total", "5", "4500", "1200", "500", "2800"]  # whole yen, no separators

        response = client.get(url + "?year=2026&export=xlsx&table=lending-fill-rate")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        values = [[cell for cell in r] for r in sheet.iter_rows(values_only=True)]
        assert list(values[0][:2]) == ["Month", "Received"]
        assert any(r[0] == "Total" and r[1] == 8 for r in values)

        response = client.get(url + "?year=2026&export=csv&table=lending-copyright-overrides")
        lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert lines[1][5] == "Out of print; the author agreed."


def test_bad_input_is_never_a_500_and_only_staff(client, staff_user, undergraduate):
    url = reverse("reports:lending")
    client.force_login(staff_user)
    assert client.get(f"{url}?export=doc").status_code == 400
    for query in ("year=1999x", "year=99999", "month=13", "branch=nowhere"):
        assert client.get(f"{url}?{query}").status_code == 200, query
    assert client.get(f"{url}?export=csv&table=nope").status_code == 400
    assert client.get(f"{url}?export=xlsx&table=lending-loans").status_code == 200
    client.force_login(undergraduate.user)
    assert client.get(url).status_code == 403


def test_the_index_and_the_nav_list_lending(client, staff_user, year_of_lending):
    client.force_login(staff_user)
    client.cookies["django_language"] = "en"
    with time_machine.travel(at(*TODAY), tick=False):
        html = client.get(reverse("reports:index") + "?year=2026").content.decode()
    assert f'href="{reverse("reports:lending")}?year=2026"' in html  # the nav and the index's link
    assert 'data-table="lending-received"' in html
    headlines = html[html.index('data-testid="headlines"') : html.index('<div class="row g-4">')]
    assert "Lending requests received" in headlines and "Fill rate as a lender" in headlines


def test_the_figures_follow_what_the_lending_services_record(borrowers, staff_user):
    """Through lending.services (not written by hand): the actions and times the figures read."""
    jp = borrowers["jp"]
    with time_machine.travel(at(2026, 5, 11, 10), tick=False):
        copy = services.receive(
            borrower=jp, kind="copy", source="email", actor=staff_user, title="Journal", article_title="Article",
            material_type="article", page_count=10, pages="1-10", journal_title="Journal",
            periodical_frequency="monthly", issue_date=datetime.date(2020, 1, 1),
        )  # fmt: skip
        refused = services.receive(borrower=jp, kind="copy", source="nacsis", actor=staff_user, title="Refused")
        loan = services.receive(
            borrower=borrowers["abroad"], kind="loan", source="iso18626", actor=staff_user, title="Book"
        )
        services.will_supply(copy, actor=staff_user)
        services.will_supply(loan, actor=staff_user)
    with time_machine.travel(at(2026, 5, 11, 13), tick=False):
        services.mark_unfilled(refused, actor=staff_user, reason="copyright", note="The latest issue.")
        services.start_copying(copy, actor=staff_user)
    with time_machine.travel(at(2026, 5, 12, 10), tick=False):
        services.ship(copy, actor=staff_user, shipping_method="mail", charge=500)
        services.ship(loan, actor=staff_user, shipping_method="mail", charge=0)
        renewal = services.ask_renewal(loan, actor=staff_user)
        services.decide_renewal(
            renewal, actor=staff_user, grant=True, new_due_date=loan.due_date + datetime.timedelta(days=14)
        )
    with time_machine.travel(at(2026, 5, 13, 10), tick=False):
        tables = lending.lending_tables(Scope(2026, 5))
    assert table(tables, "lending-received").rows == [["May", 1, 2, 3]]
    assert table(tables, "lending-fill-rate").footer[1:] == [3, 2, 1, 0, 0, 66.7]
    assert table(tables, "lending-turnaround").footer[1:] == [2, 1.0, 1.0]  # 24 hours each
    loans = {r[0]: r[1] for r in table(tables, "lending-loans").rows}
    assert loans["Books lent (shipped) in the period"] == 1 and loans["Renewals granted in the period"] == 1
    assert loans["On loan to other libraries now"] == 1 and loans["Overdue now"] == 0
    charges = table(tables, "lending-charges")
    assert row(charges, "Fee-offset (料金相殺)")[1:3] == [1, 500] and row(charges, "No charge")[1:3] == [1, 0]
    refusals = table(tables, "lending-copyright-refused")
    assert [r[3:] for r in refusals.rows] == [[staff_user.get_username(), at(2026, 5, 11, 13), "The latest issue."]]
