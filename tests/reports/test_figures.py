"""The figures of DESIGN.md §10 (reports.figures) on small data sets with known answers, read
through the rollup, and checked against the raw computation from the requests."""

import datetime

import pytest
import time_machine
from django.utils import translation

from fees.models import Charge, SupportUse
from ill.models import LenderCandidate, LendingInstitution, Request
from reports import figures, percentiles, rollup
from reports.tables import Scope
from tests import factories as f
from tests.reports.test_rollup import at, make

FY = 2026


def table(tables, slug):
    return next(t for t in tables if t.slug == slug)


def row(t, label):
    return next(r for r in t.rows if r[0] == label)


def build(**kwargs):
    result = rollup.refresh(rebuild=True, **kwargs)
    assert result["done"]


@pytest.fixture
def overseas_lender(db):
    return f.FeeScheduleFactory(
        lender__name="Library of Congress", lender__kind=LendingInstitution.Kind.OVERSEAS, lender__country="US"
    ).lender


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_requests_by_kind_month_status_lender_kind_and_place(english, undergraduate, lender, overseas_lender):
    make("loan", at(2026, 3, 31, 23, 59), patron=undergraduate)  # FY2025
    make("loan", at(2026, 4, 1, 0, 0), patron=undergraduate)  # FY2026, April: never ordered
    make("copy", at(2026, 4, 15), patron=undergraduate, lenders=[lender], steps=[(at(2026, 4, 16), "order")])
    make("copy", at(2026, 5, 1), patron=undergraduate, lenders=[overseas_lender], steps=[(at(2026, 5, 2), "order")])
    make("copy", at(2027, 3, 31, 23, 59), patron=undergraduate)  # FY2026, March
    with time_machine.travel(at(2027, 4, 2), tick=False):
        build()
        tables = figures.requests_tables(Scope(FY))
    by_kind = table(tables, "by-kind")
    assert [r[0] for r in by_kind.rows] == ["Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan",
                                            "Feb", "Mar"]  # fmt: skip
    assert by_kind.rows[0][1:] == [1, 1, 2] and by_kind.rows[1][1:] == [0, 1, 1] and by_kind.rows[11][1:] == [0, 1, 1]
    assert by_kind.footer[1:] == [1, 3, 4]
    assert by_kind.chart.kind == "stacked" and by_kind.chart.series[0][1][0] == 1
    assert by_kind.extra["computed_at"] is not None and by_kind.extra["stale"] is False
    status = table(tables, "by-status")
    assert row(status, "Submitted")[1:] == [1, 1, 2] and row(status, "Ordered")[1:] == [0, 2, 2]
    lender_kind = table(tables, "by-lender-kind")
    assert row(lender_kind, "Not ordered yet")[3] == 2
    assert row(lender_kind, "Japanese university library")[3] == 1 and row(lender_kind, "Overseas library")[3] == 1
    place = table(tables, "domestic-overseas")
    assert [r[3] for r in place.rows] == [1, 1, 2]
    with time_machine.travel(at(2027, 4, 2), tick=False):
        april = figures.requests_tables(Scope(FY, month=4))
    assert table(april, "by-kind").rows == [["Apr", 1, 1, 2]]
    assert table(figures.requests_tables(Scope(2025)), "by-kind").footer[1:] == [1, 0, 1]


@pytest.mark.django_db
def test_month_labels_follow_the_language(undergraduate):
    build()
    with translation.override("ja"):
        labels = [r[0] for r in table(figures.requests_tables(Scope(FY)), "by-kind").rows]
    assert labels[0] == "4月" and labels[-1] == "3月"


@pytest.mark.django_db
def test_branch_filter(english, undergraduate, medical_branch, lender):
    make("loan", at(2026, 5, 1), patron=undergraduate, lenders=[lender], steps=[(at(2026, 5, 2), "order")])
    make("copy", at(2026, 5, 1), patron=undergraduate, branch=medical_branch)
    build()
    main = figures.requests_tables(Scope(FY, branch_id=undergraduate.home_branch_id))
    medical = figures.requests_tables(Scope(FY, branch_id=medical_branch.pk))
    assert table(main, "by-kind").footer[1:] == [1, 0, 1]
    assert table(medical, "by-kind").footer[1:] == [0, 1, 1]
    assert table(figures.fill_rate_tables(Scope(FY, branch_id=medical_branch.pk)), "fill-rate").footer[1] == 0


@pytest.mark.django_db
def test_unfilled_twice_then_supplied(english, undergraduate, lender, second_lender, overseas_lender):
    request = make(
        "copy",
        at(2026, 6, 1, 9),
        patron=undergraduate,
        lenders=[lender, second_lender, overseas_lender],
        steps=[(at(2026, 6, 2, 9), "order"), (at(2026, 6, 4, 9), "unfilled", "not_held"),
               (at(2026, 6, 7, 9), "unfilled"), (at(2026, 6, 10, 21), "arrive")],
    )  # fmt: skip
    assert request.status == Request.Status.ARRIVED
    assert LenderCandidate.objects.filter(request=request).count() == 3
    build()
    fill = figures.fill_rate_tables(Scope(FY))
    june = row(table(fill, "fill-rate"), "Jun")
    assert june[1:] == [1, 1, 0, 0, 100.0]  # one ordered, one supplied
    lenders = table(fill, "fill-rate-lenders")
    assert sorted(r[2:] for r in lenders.rows) == [[1, 0, 1, 0, 0.0], [1, 0, 1, 0, 0.0], [1, 1, 0, 0, 100.0]]
    assert lenders.footer[2:] == [3, 1, 2, 0, pytest.approx(33.3)]
    assert list(lenders.all_rows()) == lenders.rows
    reasons = table(fill, "unfilled-reasons")
    assert row(reasons, "Not held")[1] == 1 and row(reasons, "Not recorded")[1] == 1
    assert reasons.footer[1] == 2
    kinds = [c.key for c in reasons.columns]
    assert row(reasons, "Not held")[kinds.index("jp_university")] == 1
    # Turnaround: submitted → arrived 9 days 12 hours; ordered → arrived from the last (supplying) order.
    turnaround = figures.turnaround_tables(Scope(FY))
    months = table(turnaround, "turnaround-months")
    assert row(months, "Jun")[1:] == [1, 9.5, 9.5, 3.5, 3.5]
    overseas = row(table(turnaround, "turnaround-lender-kind"), "Copy")
    assert overseas[1] == "Overseas library" and overseas[7] == str(figures.estimates.OVERSEAS_COPY_TIME)
    assert overseas[8] == "Slower than the estimate" or overseas[8] == ""  # 9.5 days is within 5 days–3 weeks
    assert overseas[8] == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "days, median, p90", [((1, 2, 3, 4), 2.5, 3.7), ((1, 2, 3, 4, 5), 3.0, 4.6), ((12, 2, 9), 9.0, 11.4)]
)
def test_turnaround_median_and_p90_even_and_odd(english, undergraduate, lender, days, median, p90):
    for i, d in enumerate(days):
        start = at(2026, 7, 1 + i, 10)
        make(
            "copy",
            start,
            patron=undergraduate,
            lenders=[lender],
            steps=[(start + datetime.timedelta(hours=1), "order"), (start + datetime.timedelta(days=d), "arrive")],
        )
    build()
    tables = figures.turnaround_tables(Scope(FY))
    months = table(tables, "turnaround-months")
    assert months.footer[1:4] == [len(days), median, p90]
    assert percentiles.percentile(days, 0.5) == pytest.approx(median)
    mail = row(table(tables, "turnaround-delivery"), "Copy")
    assert mail[1:3] == ["Domestic", "Ordinary mail"] and mail[4:6] == [median, p90]
    assert mail[8] == str(figures.estimates.COPY_TIMES["mail"])
    expected = "Slower than the estimate" if p90 > 7 else ("Faster than the estimate" if p90 < 3 else "")
    assert mail[9] == expected


def test_estimate_flags(english):
    assert figures.estimate_flag(8.0, (3, 7)) == "Slower than the estimate"
    assert figures.estimate_flag(7.0, (3, 7)) == ""
    assert figures.estimate_flag(2.9, (3, 7)) == "Faster than the estimate"
    assert figures.estimate_flag(0.1, (0, 2)) == ""
    assert figures.estimate_flag(400.0, (7, None)) == ""
    assert figures.estimate_flag(None, (3, 7)) == ""


@pytest.mark.django_db
def test_top_lenders_and_all_others(english, undergraduate):
    lenders = f.LendingInstitutionFactory.create_batch(27)
    for i, lender in enumerate(lenders):
        for _j in range(1 + i):
            request = f.RequestFactory(patron=undergraduate, status="ordered", lender=lender)
            f.LenderCandidateFactory(request=request, lender=lender, state="filled", ordered_at=at(2026, 8, 1))
    build()
    t = table(figures.fill_rate_tables(Scope(FY)), "fill-rate-lenders")
    assert len(t.rows) == 26 and t.rows[0][2] == 27 and t.rows[24][2] == 3
    assert t.rows[25][0] == "All other lenders (2)" and t.rows[25][2] == 2 + 1
    assert len(list(t.all_rows())) == 27
    assert t.footer[2] == sum(range(1, 28))


@pytest.mark.django_db
def test_charges_by_payment_class_and_budget_code(english, undergraduate, public_code, medical_branch):
    def charge(when, total, pc, code=None, branch=None):
        request = f.RequestFactory(
            patron=undergraduate,
            status="arrived",
            pickup_branch=branch or undergraduate.home_branch,
            expense_type="public" if code else "private",
            budget_code=code,
        )
        return f.ChargeFactory(request=request, total=total, payment_class=pc, budget_code=code, created_at=when)

    charge(at(2026, 4, 1, 0, 0), 1000, Charge.PaymentClass.PUBLIC, public_code)
    charge(at(2026, 3, 31, 23, 59), 5000, Charge.PaymentClass.PUBLIC, public_code)  # FY2025
    charge(at(2026, 4, 30), 600, Charge.PaymentClass.PRIVATE)
    charge(at(2026, 9, 9), 700, Charge.PaymentClass.PRIVATE, branch=medical_branch)
    build()
    tables = figures.charges_tables(Scope(FY))
    months = table(tables, "charges-month")
    assert row(months, "Apr")[1:] == [2, 1000, 0, 600, 0, 1600]
    assert months.footer[1:] == [3, 1000, 0, 1300, 0, 2300]
    codes = table(tables, "charges-budget-codes")
    assert codes.rows[0] == [public_code.code, public_code.name, 1, 1000]
    assert codes.rows[-1][2:] == [2, 1300] and codes.footer[2:] == [3, 2300]
    assert list(codes.all_rows()) == [[public_code.code, public_code.name, 1, 1000]]
    medical = table(figures.charges_tables(Scope(FY, branch_id=medical_branch.pk)), "charges-month")
    assert medical.footer[-1] == 700


@pytest.mark.django_db
def test_support_budget(english, undergraduate, doctoral):
    budget = f.SupportBudgetFactory(fiscal_year=FY, total=10000, per_student_cap=3)
    charged = f.RequestFactory(patron=doctoral, support_budget=budget, status="arrived")
    reserved = f.RequestFactory(patron=doctoral, support_budget=budget, status="ordered")
    SupportUse.objects.filter(request=reserved).update(state=SupportUse.State.RESERVED, amount=900)
    f.ChargeFactory(request=charged, total=1500, payment_class=Charge.PaymentClass.SUPPORT, created_at=at(2026, 5, 5))
    build()
    position, counts, use = figures.support_tables(Scope(FY))
    assert [r[1] for r in position.rows] == [10000, 1500, 900, 7600]
    assert [r[1] for r in counts.rows] == [2, 1, 3]
    assert row(use, "May")[1:] == [1500, 1500] and row(use, "Mar")[1:] == [0, 1500]
    (none,) = figures.support_tables(Scope(2030))
    assert none.rows == [] and "no student support budget" in none.note


def raw_turnaround(fiscal_year):
    """Median and p90 of whole hours submitted → arrived, straight from the requests, in days."""
    start = datetime.datetime(fiscal_year, 4, 1, tzinfo=at(2026, 1, 1).tzinfo)
    end = start.replace(year=fiscal_year + 1)
    hours = [
        rollup.hours_between(r.submitted_at, r.arrived_at)
        for r in Request.objects.filter(arrived_at__gte=start, arrived_at__lt=end)
    ]
    return [round(percentiles.percentile(hours, p) / 24, 1) if hours else None for p in (0.5, 0.9)]


@pytest.mark.django_db
def test_figures_equal_the_raw_computation(english, undergraduate, lender, second_lender, medical_branch):
    plans = [
        (at(2026, 4, 1, 0, 0), [lender], [(at(2026, 4, 2), "order"), (at(2026, 4, 9, 17), "arrive")]),
        (at(2026, 4, 3), [second_lender, lender], [(at(2026, 4, 4), "order"), (at(2026, 4, 8), "unfilled"),
                                                   (at(2026, 5, 2, 3), "arrive")]),
        (at(2026, 5, 10), [lender], [(at(2026, 5, 11), "order"), (at(2026, 5, 29, 8), "arrive")]),
        (at(2026, 6, 1), [lender], [(at(2026, 6, 2), "order")]),
        (at(2026, 6, 1), [], []),
    ]  # fmt: skip
    for i, (submitted, lenders, steps) in enumerate(plans):
        make(
            "copy",
            submitted,
            patron=undergraduate,
            lenders=lenders,
            steps=steps,
            branch=medical_branch if i % 2 else None,
        )
    build()
    months = table(figures.turnaround_tables(Scope(FY)), "turnaround-months")
    assert months.footer[2:4] == raw_turnaround(FY)
    fill = table(figures.fill_rate_tables(Scope(FY)), "fill-rate")
    ordered = Request.objects.filter(candidates__ordered_at__isnull=False).distinct()
    assert fill.footer[1] == ordered.count() and fill.footer[2] == ordered.filter(arrived_at__isnull=False).count()
    by_kind = table(figures.requests_tables(Scope(FY)), "by-kind")
    assert by_kind.footer[3] == Request.objects.count()
