"""The monthly rollup (reports.rollup): what it counts, its incremental refresh, and that it equals
the raw computation from the requests. Requests are made through the lifecycle services at set
times (time_machine)."""

import datetime
import io
import threading
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction

from config.schedules import BEAT_SCHEDULE
from ill import services
from ill.models import LenderCandidate, LendingInstitution, Request
from reports import percentiles, rollup, tasks
from reports.models import RequestMonth, RollupState
from tests import factories as f

JST = zoneinfo.ZoneInfo("Asia/Tokyo")


def at(year, month, day, hour=12, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=JST)


def make(kind, submitted, *, patron, lenders=(), steps=(), branch=None):
    """A request submitted at `submitted`, then moved by `steps`: (time, "order"|"unfilled"|"arrive")."""
    factory = f.RequestFactory if kind == "loan" else f.CopyRequestFactory
    staff = f.UserFactory(is_staff=True)
    with time_machine.travel(submitted, tick=False):
        request = factory(patron=patron, pickup_branch=branch or patron.home_branch, scope=Request.Scope.OVERSEAS)
    for moment, action, *rest in steps:
        with time_machine.travel(moment, tick=False):
            request.refresh_from_db()
            if action == "order":
                services.order(request, actor=staff, lenders=list(lenders))
            elif action == "unfilled":
                asked = request.candidates.get(state="ordered")
                services.mark_unfilled(request, actor=staff, note="not held")
                if rest:  # the reason as the desk records it (a raw write: mark_unfilled's reason is newer)
                    LenderCandidate.objects.filter(pk=asked.pk).update(unfilled_reason=rest[0])
            elif action == "arrive":
                due = (moment + datetime.timedelta(days=20)).date() if kind == "loan" else None
                services.record_arrival(request, actor=staff, lender_due_date=due)
    request.refresh_from_db()
    return request


def refreshed(**kwargs):
    result = rollup.refresh(**kwargs)
    assert result["done"]
    return result


@pytest.fixture
def overseas_lender(db):
    return f.FeeScheduleFactory(
        lender__name="British Library", lender__kind=LendingInstitution.Kind.OVERSEAS, lender__country="GB"
    ).lender


def test_percentiles_known_answers():
    assert percentiles.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentiles.percentile([4, 1, 3, 2], 0.9) == pytest.approx(3.7)
    assert percentiles.percentile([1, 2, 3, 4, 5], 0.5) == 3
    assert percentiles.percentile([1, 2, 3, 4, 5], 0.9) == pytest.approx(4.6)
    assert percentiles.percentile([7, 3, 10, 1, 5, 2, 9, 4, 8, 6], 0.9) == pytest.approx(9.1)
    assert percentiles.percentile([], 0.5) is None
    assert percentiles.percentile([42], 0.9) == 42


def test_histogram_percentiles_equal_the_list():
    values = [0, 3, 3, 3, 7, 8, 8, 20, 21, 21, 100]
    histogram = {}
    for v in values:
        histogram[str(v)] = histogram.get(str(v), 0) + 1
    for p in (0, 0.1, 0.25, 0.5, 0.75, 0.9, 1):
        assert percentiles.from_histogram(histogram, p) == pytest.approx(percentiles.percentile(values, p))
    assert percentiles.from_histogram({}, 0.5) is None
    assert percentiles.merge([{"1": 2}, {1: 1, "5": 1}]) == {1: 3, 5: 1}


@pytest.mark.django_db
def test_fiscal_year_boundary_31_march_and_1_april(undergraduate, lender):
    make("loan", at(2026, 3, 31, 23, 59), patron=undergraduate)
    make("loan", at(2026, 4, 1, 0, 0), patron=undergraduate)
    make("copy", at(2026, 4, 1, 0, 0), patron=undergraduate)
    refreshed(rebuild=True)
    old = {(r.month, r.kind): r.count for r in RequestMonth.objects.filter(basis="submitted")}
    assert old == {(datetime.date(2026, 3, 1), "loan"): 1, (datetime.date(2026, 4, 1), "loan"): 1,
                   (datetime.date(2026, 4, 1), "copy"): 1}  # fmt: skip
    assert rollup.fiscal_months(2025)[-1] == datetime.date(2026, 3, 1)
    assert rollup.fiscal_months(2026)[0] == datetime.date(2026, 4, 1)


@pytest.mark.django_db
def test_survey_counts_first_order_and_arrival(undergraduate, lender, second_lender, overseas_lender):
    # Unfilled twice (by an overseas lender first), supplied by the third: one sent (overseas, the
    # first lender asked), one supplied (domestic, the supplier).
    make(
        "copy",
        at(2026, 3, 20),
        patron=undergraduate,
        lenders=[overseas_lender, lender, second_lender],
        steps=[(at(2026, 3, 25), "order"), (at(2026, 4, 2), "unfilled"), (at(2026, 4, 5), "unfilled"),
               (at(2026, 4, 9), "arrive")],
    )  # fmt: skip
    make("loan", at(2026, 5, 1), patron=undergraduate, lenders=[lender], steps=[(at(2026, 5, 2), "order")])
    make("loan", at(2026, 5, 1), patron=undergraduate)  # never ordered: never counted
    refreshed()
    fy2025 = rollup.survey_counts(2025)
    fy2026 = rollup.survey_counts(2026)
    assert fy2025["copy_sent"] == {"domestic": 0, "overseas": 1}
    assert fy2025["copy_supplied"] == {"domestic": 0, "overseas": 0}
    assert fy2026["copy_sent"] == {"domestic": 0, "overseas": 0}
    assert fy2026["copy_supplied"] == {"domestic": 1, "overseas": 0}
    assert fy2026["loan_sent"] == {"domestic": 1, "overseas": 0}
    assert fy2026["loan_supplied"] == {"domestic": 0, "overseas": 0}


@pytest.mark.django_db
def test_two_candidates_ordered_at_the_same_instant_count_one_request(undergraduate, lender, second_lender):
    """Bulk-made or imported data can give two candidates one order time: still one request sent."""
    request = make("copy", at(2026, 5, 1), patron=undergraduate, lenders=[lender, second_lender],
                   steps=[(at(2026, 5, 2), "order")])  # fmt: skip
    request.candidates.update(ordered_at=at(2026, 5, 2))
    refreshed()
    assert rollup.survey_counts(2026)["copy_sent"] == {"domestic": 1, "overseas": 0}


@pytest.mark.django_db
def test_survey_counts_branch_filter(undergraduate, lender, medical_branch):
    make("loan", at(2026, 5, 1), patron=undergraduate, lenders=[lender], steps=[(at(2026, 5, 2), "order")])
    make(
        "loan",
        at(2026, 5, 1),
        patron=undergraduate,
        branch=medical_branch,
        lenders=[lender],
        steps=[(at(2026, 5, 2), "order")],
    )
    refreshed()
    assert rollup.survey_counts(2026)["loan_sent"]["domestic"] == 2
    assert rollup.survey_counts(2026, medical_branch.pk)["loan_sent"]["domestic"] == 1
    assert rollup.survey_counts(2026, undergraduate.home_branch_id)["loan_sent"]["domestic"] == 1


@pytest.mark.django_db
def test_incremental_refresh_picks_up_an_arrival_recorded_after_it(undergraduate, lender):
    request = make("copy", at(2026, 5, 1), patron=undergraduate, lenders=[lender], steps=[(at(2026, 5, 2), "order")])
    with time_machine.travel(at(2026, 5, 3), tick=False):
        refreshed()
    assert rollup.survey_counts(2026)["copy_supplied"]["domestic"] == 0
    make_arrival = at(2026, 6, 10)
    with time_machine.travel(make_arrival, tick=False):
        services.record_arrival(Request.objects.get(pk=request.pk), actor=f.UserFactory(is_staff=True))
    # Only the months the request is counted in are dirty: May (submitted, ordered) and June (arrived).
    assert rollup.dirty_months(RollupState.objects.get().seen) == {datetime.date(2026, 5, 1), datetime.date(2026, 6, 1)}
    with time_machine.travel(at(2026, 6, 10, 13), tick=False):
        outcome = rollup.refresh_for_page()
    assert outcome["done"] and outcome["months"] == 2
    assert rollup.survey_counts(2026)["copy_supplied"]["domestic"] == 1
    # Nothing changed since: the page's quick refresh has nothing to do.
    with time_machine.travel(at(2026, 6, 10, 14), tick=False):
        assert rollup.refresh_for_page()["months"] == 0


def snapshot():
    """Every rollup row, without its id, sorted: to compare two ways of building the rollup."""
    rows = []
    for model in rollup.ROLLUP_MODELS:
        names = [f.name for f in model._meta.fields if f.name != "id"]
        rows += sorted((model.__name__, *[str(getattr(r, n)) for n in names]) for r in model.objects.all())
    return rows


@pytest.mark.django_db
def test_a_page_adds_new_arrivals_and_charges_exactly(undergraduate, lender, second_lender):
    """A page adds arrivals and charges to the counts (no recompute of their month); the result is
    the same as a rebuild from the raw rows, for new rows and for rows added to."""
    staff = f.UserFactory(is_staff=True)
    first, second, third = (
        make("copy", at(2026, 5, day), patron=undergraduate, lenders=[lender], steps=[(at(2026, 5, day, 13), "order")])
        for day in (1, 2, 3)
    )
    with time_machine.travel(at(2026, 5, 4), tick=False):
        refreshed()
    for request, moment in ((first, at(2026, 6, 10)), (second, at(2026, 6, 12)), (third, at(2026, 7, 1))):
        with time_machine.travel(moment, tick=False):
            services.record_shipment(
                lender=lender, items=[services.ArrivedItem(request=Request.objects.get(pk=request.pk))], actor=staff
            )
        with time_machine.travel(moment + datetime.timedelta(minutes=5), tick=False):
            outcome = rollup.refresh_for_page()
        assert outcome["done"]
    # Strictly after: an arrival at the time already read is not new.
    assert {ids for _part, _month, ids in rollup.new_additions(at(2026, 6, 12))} == {(third.pk,)}
    quick = snapshot()
    assert rollup.survey_counts(2026)["copy_supplied"]["domestic"] == 3
    with time_machine.travel(at(2026, 7, 2), tick=False):
        refreshed(rebuild=True)
    assert snapshot() == quick


@pytest.mark.django_db
def test_page_leaves_many_dirty_months_to_the_task(undergraduate, lender):
    months = range(4, 4 + rollup.SYNC_PARTS + 1)
    for month in months:
        make("loan", at(2026, month, 3), patron=undergraduate)
    with time_machine.travel(at(2027, 1, 1), tick=False):
        refreshed()
    with time_machine.travel(at(2027, 1, 2), tick=False):
        for request in Request.objects.all():
            request.save()  # touched: the submission part of every month dirty
        outcome = rollup.refresh_for_page()
    assert not outcome["done"] and outcome["months"] == outcome["parts"] == len(months)
    with time_machine.travel(at(2027, 1, 2, 13), tick=False):
        assert refreshed()["parts"] == len(months)


@pytest.mark.django_db
def test_an_order_recomputes_only_the_parts_it_is_counted_in(undergraduate, lender):
    request = make("copy", at(2026, 5, 30), patron=undergraduate, lenders=[lender])
    with time_machine.travel(at(2026, 5, 31), tick=False):
        refreshed()
        since = RollupState.objects.get().seen
    with time_machine.travel(at(2026, 6, 1), tick=False):
        services.order(request, actor=f.UserFactory(is_staff=True), lenders=[lender])
    may, june = datetime.date(2026, 5, 1), datetime.date(2026, 6, 1)
    assert rollup.dirty_parts(since) == {("submitted", may), ("ordered", june), ("candidates", june)}


@pytest.mark.django_db
def test_a_lender_changing_kind_marks_a_rebuild(undergraduate, lender):
    make("loan", at(2026, 5, 1), patron=undergraduate, lenders=[lender], steps=[(at(2026, 5, 2), "order")])
    refreshed()
    assert not RollupState.objects.get().rebuild_needed
    lender.country = "US"
    lender.save()
    assert RollupState.objects.get().rebuild_needed
    refreshed()
    assert rollup.survey_counts(2026)["loan_sent"] == {"domestic": 0, "overseas": 1}


def raw_survey(fiscal_year):
    """The survey's counts straight from the requests and their candidates."""
    start = datetime.datetime(fiscal_year, 4, 1, tzinfo=JST)
    end = datetime.datetime(fiscal_year + 1, 4, 1, tzinfo=JST)
    result = {f"{k}_{w}": {"domestic": 0, "overseas": 0} for k in ("copy", "loan") for w in ("sent", "supplied")}
    for request in Request.objects.all():
        asked = sorted(
            LenderCandidate.objects.filter(request=request, ordered_at__isnull=False), key=lambda c: c.ordered_at
        )
        if asked and start <= asked[0].ordered_at < end:
            first = asked[0].lender
            place = "overseas" if rollup.is_overseas(first.kind, first.country) else "domestic"
            result[f"{request.kind}_sent"][place] += 1
        if request.arrived_at and start <= request.arrived_at < end:
            place = "overseas" if rollup.is_overseas(request.lender.kind, request.lender.country) else "domestic"
            result[f"{request.kind}_supplied"][place] += 1
    return result


@pytest.mark.django_db
def test_rollup_equals_the_raw_computation(undergraduate, lender, second_lender, overseas_lender, medical_branch):
    plans = [
        ("loan", at(2026, 3, 30), [lender], [(at(2026, 3, 31, 23, 59), "order"), (at(2026, 4, 8), "arrive")]),
        ("copy", at(2026, 4, 1, 0, 0), [overseas_lender], [(at(2026, 4, 1, 9), "order"), (at(2026, 4, 20), "arrive")]),
        ("copy", at(2026, 4, 2), [lender, second_lender], [(at(2026, 4, 3), "order"), (at(2026, 4, 6), "unfilled")]),
        ("copy", at(2026, 6, 2), [second_lender, overseas_lender], [(at(2026, 6, 3), "order"),
                                                                     (at(2026, 6, 6), "unfilled"),
                                                                     (at(2026, 7, 1), "arrive")]),
        ("loan", at(2027, 3, 31, 23, 59), [lender], [(at(2027, 4, 1, 0, 1), "order")]),
    ]  # fmt: skip
    for i, (kind, submitted, lenders, steps) in enumerate(plans):
        branch = medical_branch if i % 2 else None
        make(kind, submitted, patron=undergraduate, lenders=lenders, steps=steps, branch=branch)
    with time_machine.travel(at(2027, 5, 1), tick=False):
        refreshed(rebuild=True)
    for year in (2025, 2026, 2027):
        assert rollup.survey_counts(year) == raw_survey(year)


@pytest.mark.django_db
def test_command_and_task(undergraduate, lender):
    make("loan", at(2026, 5, 1), patron=undergraduate, lenders=[lender], steps=[(at(2026, 5, 2), "order")])
    out = io.StringIO()
    call_command("rollup_reports", "--rebuild", stdout=out)
    assert "month(s) recomputed" in out.getvalue()
    assert rollup.survey_counts(2026)["loan_sent"]["domestic"] == 1
    assert tasks.refresh_rollup_task() >= 0
    assert "reports.tasks.refresh_rollup_task" in {e["task"] for e in BEAT_SCHEDULE.values()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_refresher_at_a_time(undergraduate):
    rollup.refresh()
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                RollupState.objects.select_for_update().get(pk=1)
                held.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        assert rollup.refresh_for_page()["done"] is False  # the page does not wait: it shows what it has
        assert rollup.refresh(wait=False)["done"] is False
    finally:
        release.set()
        holder.join()
    assert rollup.refresh(wait=False)["done"] is True


@pytest.mark.django_db
def test_every_lifecycle_service_moves_updated_at(undergraduate, lender, second_lender, staff_user):
    """The rollup finds what changed by `Request.updated_at`: each service that changes a figure
    must move it (a service writing with QuerySet.update() would be missed)."""
    moves = {}

    def step(name, moment, action):
        with time_machine.travel(moment, tick=False):
            request = action()
        request = Request.objects.get(pk=request.pk)
        moves[name] = request.updated_at == moment

    loan = make("loan", at(2026, 5, 1), patron=undergraduate, lenders=[lender, second_lender])
    step("order", at(2026, 5, 2), lambda: services.order(loan, actor=staff_user, lenders=[lender, second_lender]))
    step("mark_unfilled", at(2026, 5, 3), lambda: services.mark_unfilled(loan, actor=staff_user))
    due = datetime.date(2026, 6, 1)
    step("record_arrival", at(2026, 5, 4), lambda: services.record_arrival(loan, actor=staff_user, lender_due_date=due))
    step("hand_over", at(2026, 5, 5), lambda: services.hand_over(loan, actor=staff_user))
    copy = make("copy", at(2026, 5, 1), patron=undergraduate)
    step("cancel", at(2026, 5, 6), lambda: services.cancel(copy, actor=staff_user))
    other = make("copy", at(2026, 5, 1), patron=undergraduate)
    step("reject", at(2026, 5, 7), lambda: services.reject(other, actor=staff_user, reason="rare"))
    unfilled = make("copy", at(2026, 5, 1), patron=undergraduate, lenders=[lender], steps=[(at(2026, 5, 2), "order")])
    step("mark_unfilled_last", at(2026, 5, 8), lambda: services.mark_unfilled(unfilled, actor=staff_user))
    step("close_unfilled", at(2026, 5, 9), lambda: services.close_unfilled(unfilled, actor=staff_user))
    assert all(moves.values()), moves
