"""Timings of the report figures (reports.figures) and of their monthly rollup (reports.rollup).

Run from the project root against the data set of `bench/generate.py` (PostgreSQL, 1,000,000 requests):

    DATABASE_URL=postgres://ill:ill@127.0.0.1:5439/ill_bench .venv/bin/python bench/reports.py [--runs 5] [--no-rebuild]

What it does (it writes nothing but the rollup's own tables):

1. Rebuilds the rollup from the requests (`rollup.refresh(rebuild=True)`), timed (skip with --no-rebuild).
2. Times the incremental refresh of one month (the latest complete month recomputed from the raw rows)
   and of each of its parts (a refresh recomputes the parts of the months a changed request is counted
   in), and a page's quick refresh when nothing changed (the check every report page makes first).
3. Times each figures function for the latest complete fiscal year, for every branch and for the
   branch with the most requests (median of --runs, after one warm-up), and, for comparison, the live
   charges query of the older charges report (fees.selectors.charge_totals) for that year.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import django
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(function, runs: int) -> float:
    """Median wall time in ms of `runs` calls, after one warm-up call."""
    function()
    times = []
    for _i in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-rebuild", action="store_true", help="time the figures on the rollup as it is")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()

    from fees.models import current_fiscal_year
    from fees.selectors import Period, charge_totals
    from ill.models import LenderCandidate, Request
    from reports import figures, rollup
    from reports.tables import Scope

    translation.activate("en")
    print(f"Requests: {Request.objects.count():,}")
    if not args.no_rebuild:
        started = time.perf_counter()
        outcome = rollup.refresh(rebuild=True)
        print(f"Full rebuild: {outcome['months']} months in {time.perf_counter() - started:.1f} s")
    rollup.refresh()  # nothing changed since the rebuild but the overlap

    fiscal_year = current_fiscal_year() - 1  # the latest complete fiscal year
    this_month = rollup.month_of(timezone.now())
    last_month = this_month.replace(year=this_month.year - 1, month=12) if this_month.month == 1 else None
    last_month = last_month or this_month.replace(month=this_month.month - 1)

    def one_month():
        with transaction.atomic():
            rollup.refresh_month(last_month)

    print(f"Incremental refresh of one whole month ({last_month:%Y-%m}): {timed(one_month, args.runs):.0f} ms")
    for part in rollup.PARTS:

        def one_part(part=part):
            with transaction.atomic():
                rollup.refresh_part(part, last_month)

        print(f"  of its part {part!r}: {timed(one_part, args.runs):.0f} ms")
    print(f"A page's check when nothing changed: {timed(rollup.refresh_for_page, args.runs):.1f} ms")

    # What a page does after one arrival was recorded: recompute the parts of the months the request is
    # counted in (by submission, first order, lenders asked) and add the arrival and its charge, for the
    # latest arrival of a complete month (full months to recompute), in a transaction rolled back (the
    # rollup is left as it was).
    latest = (
        Request.objects.filter(arrived_at__lt=rollup.month_bounds(this_month)[0])  # in a complete month
        .order_by("-arrived_at")
        .values("pk", "number", "submitted_at", "arrived_at")
        .first()
    )
    asked = LenderCandidate.objects.filter(request_id=latest["pk"], ordered_at__isnull=False)
    order_months = {rollup.month_of(moment) for moment in asked.values_list("ordered_at", flat=True)}
    arrival_month = rollup.month_of(latest["arrived_at"])

    def after_arrival():
        with transaction.atomic():
            rollup.refresh_part("submitted", rollup.month_of(latest["submitted_at"]))
            for month in order_months:
                rollup.refresh_part("ordered", month)
                rollup.refresh_part("candidates", month)
            rollup.add_part("arrived", arrival_month, [latest["pk"]])
            rollup.add_part("charges", arrival_month, [latest["pk"]])
            transaction.set_rollback(True)

    print(f"A page's refresh after one arrival ({latest['number']}): {timed(after_arrival, args.runs):.0f} ms")

    busiest = (
        Request.objects.values("pickup_branch_id").annotate(n=Count("*")).order_by("-n").first()["pickup_branch_id"]
    )
    functions = [
        figures.requests_tables,
        figures.fill_rate_tables,
        figures.turnaround_tables,
        figures.charges_tables,
        figures.support_tables,
    ]
    print(f"\nFigures for FY{fiscal_year} (median of {args.runs}, ms):\n")
    print(f"| function | every branch | one branch (id {busiest}) | one month (April) |")
    print("|---|---:|---:|---:|")
    for function in functions:
        every = timed(lambda f=function: f(Scope(fiscal_year)), args.runs)
        branch = timed(lambda f=function: f(Scope(fiscal_year, branch_id=busiest)), args.runs)
        april = timed(lambda f=function: f(Scope(fiscal_year, month=4)), args.runs)
        print(f"| {function.__name__} | {every:.0f} | {branch:.0f} | {april:.0f} |")
    for table in figures.fill_rate_tables(Scope(fiscal_year)):
        if table.all_rows is not None:
            print(f"\nall_rows of {table.slug}: {timed(lambda t=table: list(t.all_rows()), args.runs):.0f} ms")
    live = timed(lambda: charge_totals(Period(fiscal_year)), args.runs)
    print(f"For comparison, the live fees.selectors.charge_totals for FY{fiscal_year}: {live:.0f} ms")


if __name__ == "__main__":
    main()
