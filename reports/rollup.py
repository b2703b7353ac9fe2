"""The monthly rollup the report pages read (reports.models.rollup), and the survey's counts.

Why: with 1,000,000 requests a fiscal year grouped straight from the requests is a sequential scan
(200–700 ms a query), so the figures are kept per month and a page adds up at most twelve months of
small rows.

How it stays right:
- A month's figures are in five parts (PARTS: by submission, by first order, by arrival with the
  turnaround histograms, the lenders asked, the charges); a part of a month is always recomputed
  whole from the raw rows (`refresh_part`), never edited row by row, so every figure equals the raw
  computation as of the last refresh.
- A request is counted in the months of its dates: submitted, first ordered (the earliest order to
  any of its candidate lenders), arrived, and the months its lenders were asked and its charge was
  recorded. Those dates never move once set, so a change to a request only ever touches the parts
  of months it is already in: `dirty_parts` finds them from the requests whose `updated_at` is after
  the watermark (every lifecycle service saves the request, which moves `updated_at`).
- What is counted of an arrival and of a charge never changes once recorded, so a page adds new
  ones to their parts (`add_part`) instead of recomputing those months; the task recomputes them.
- The watermark is the start of the last full refresh less `LAG`, so a transaction that saved a
  request before a refresh began but committed after it is still read by the next one. A page's
  quick refresh reads only what changed after the newest `updated_at` already read (`seen`), so it
  does not redo that overlap on every view.
- One refresher at a time: the state row is locked (SELECT … FOR UPDATE); a page that finds it
  locked shows the figures it has, with their time.
- A change of a lender's kind or country (copied into the rollup) marks it for a full rebuild.
"""

import datetime
import math
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncMonth
from django.utils import timezone

from fees.models import Charge
from fees.selectors import FISCAL_MONTHS
from ill.models import LenderCandidate, LendingInstitution, Request
from reports import percentiles
from reports.models import CandidateMonth, ChargeMonth, DurationMonth, RequestMonth, RollupState
from reports.models.rollup import STATE_PK

LAG = datetime.timedelta(minutes=2)  # longer than any transaction that saves a request
# A page refreshes at most this many parts of months itself (an arrival: its submission, order and
# arrival months' parts, typically 4–6); more waits for the task.
SYNC_PARTS = 8

Basis = RequestMonth.Basis
Measure = DurationMonth.Measure


# Months ---------------------------------------------------------------------------------------


def month_of(moment: datetime.datetime) -> datetime.date:
    """The first day of the month of an aware time, in the site's time zone."""
    local = timezone.localtime(moment)
    return datetime.date(local.year, local.month, 1)


def next_month(month: datetime.date) -> datetime.date:
    return datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    following = next_month(month)
    return (
        timezone.make_aware(datetime.datetime(month.year, month.month, 1)),
        timezone.make_aware(datetime.datetime(following.year, following.month, 1)),
    )


def fiscal_months(fiscal_year: int, month: int | None = None) -> list[datetime.date]:
    """First days of the fiscal year's months, April first (or of its one calendar month)."""
    months = [datetime.date(fiscal_year if m >= 4 else fiscal_year + 1, m, 1) for m in FISCAL_MONTHS]
    if month is not None:
        return [m for m in months if m.month == month]
    return months


def is_overseas(kind: str | None, country: str | None) -> bool | None:
    """A lender abroad: of the overseas kind or outside Japan; None for no lender."""
    if kind is None:
        return None
    return kind == LendingInstitution.Kind.OVERSEAS or (country or "JP").upper() != "JP"


def hours_between(start: datetime.datetime, end: datetime.datetime) -> int:
    """Whole hours from start to end, rounded down (never below 0)."""
    return max(0, math.floor((end - start).total_seconds() / 3600))


# Recomputing one month ------------------------------------------------------------------------


def _request_groups(queryset, prefix: str = ""):
    """Group requests (or candidates, with prefix "request__") by what RequestMonth keeps; the
    lender is the request's own (the one that has it now or supplied it) or the candidate's."""
    supplied = ExpressionWrapper(Q(**{f"{prefix}arrived_at__isnull": False}), output_field=BooleanField())
    return (
        queryset.annotate(supplied_=supplied)
        .values(
            f"{prefix}pickup_branch_id",
            f"{prefix}kind",
            f"{prefix}status",
            "lender__kind",
            "lender__country",
            "supplied_",
        )
        .annotate(n=Count("*"))
        .order_by()
    )


def _request_rows(basis: str, month: datetime.date, groups, prefix: str = ""):
    rows = defaultdict(int)
    for g in groups:
        kind, country = g["lender__kind"], g["lender__country"]
        key = (
            g[f"{prefix}pickup_branch_id"],
            g[f"{prefix}kind"],
            # By arrival the status is not kept: what is counted of an arrival never changes after it,
            # so a page can add new arrivals to the counts without recomputing the month.
            "" if basis == Basis.ARRIVED else g[f"{prefix}status"],
            kind or "",
            is_overseas(kind, country),
            g["supplied_"],
        )
        rows[key] += g["n"]
    return [
        RequestMonth(
            basis=basis,
            month=month,
            branch_id=branch,
            kind=kind,
            status=status,
            lender_kind=lender_kind,
            overseas=overseas,
            supplied=supplied,
            count=n,
        )
        for (branch, kind, status, lender_kind, overseas, supplied), n in rows.items()
    ]


def first_orders():
    """The candidates that were a request's first order to a lender."""
    # Two candidates ordered at the same instant (imported or bulk-made data) count once: the
    # one earlier in the list is the first.
    before = Q(ordered_at__lt=OuterRef("ordered_at"))
    tied_and_before = Q(ordered_at=OuterRef("ordered_at"), position__lt=OuterRef("position"))
    earlier = LenderCandidate.objects.filter(request=OuterRef("request"), ordered_at__isnull=False).filter(
        before | tied_and_before
    )
    return LenderCandidate.objects.filter(ordered_at__isnull=False).exclude(Exists(earlier))


def delivery_expression():
    """How it came: the shipment's delivery recorded at arrival, else the shipping method of the
    order, else what the patron asked for."""
    # A correlated subquery (one index lookup per request), not a join: PostgreSQL hashed the whole
    # charge table for the join (3 s a month at 1M requests).
    shipment = Charge.objects.filter(request=OuterRef("pk")).order_by().values("shipment__delivery_method")[:1]
    return Coalesce(Subquery(shipment), NullIf(F("shipping_method"), Value("")), F("delivery_method"))


class WholeHours(Func):
    """Whole hours from `start` to `end`, rounded down (PostgreSQL; NULL when either is): with the
    clamp at 0 in `add`, the same as `hours_between`, computed by the database so that no time has to
    be read into Python."""

    template = "FLOOR(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600)::integer"
    arg_joiner = " - "
    output_field = IntegerField()


DURATION_DIMS = ("pickup_branch_id", "kind", "lender__kind", "lender__country", "delivery_")


def _duration_histograms(arrived) -> dict:
    """{(branch, kind, lender kind, overseas, delivery, measure): {hours: count}} of arrived requests."""
    histograms = defaultdict(lambda: defaultdict(int))
    arrived = arrived.annotate(delivery_=delivery_expression())

    def add(branch, kind, lender_kind, country, delivery, sub_hours, ord_hours, n=1):
        group = (branch, kind, lender_kind or "", bool(is_overseas(lender_kind, country)), delivery)
        histograms[(*group, Measure.SUBMITTED)][sub_hours] += n
        if ord_hours is not None:
            histograms[(*group, Measure.ORDERED)][ord_hours] += n

    if connection.vendor == "postgresql":  # grouped by the database: integers, not 10,000 times, come back
        grouped = (
            arrived.annotate(
                sub_=WholeHours(F("arrived_at"), F("submitted_at")), ord_=WholeHours(F("arrived_at"), F("ordered_at"))
            )
            .values(*DURATION_DIMS, "sub_", "ord_")
            .annotate(n=Count("*"))
            .order_by()
        )
        for g in grouped:
            ord_hours = max(0, g["ord_"]) if g["ord_"] is not None else None
            add(*(g[d] for d in DURATION_DIMS), max(0, g["sub_"]), ord_hours, g["n"])
    else:
        for *dims, submitted_at, ordered_at, arrived_at in arrived.values_list(
            *DURATION_DIMS, "submitted_at", "ordered_at", "arrived_at"
        ).order_by():
            ord_hours = hours_between(ordered_at, arrived_at) if ordered_at is not None else None
            add(*dims, hours_between(submitted_at, arrived_at), ord_hours)
    return histograms


def _without_jit() -> None:
    """PostgreSQL's JIT compiles these small queries for about a second each (their estimated cost
    is high, their real one low): off for the rest of the refresh's transaction."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _submitted_part(month, start, end, ids=None) -> list:
    submitted = Request.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    return _request_rows(Basis.SUBMITTED, month, _request_groups(submitted))


def _ordered_part(month, start, end, ids=None) -> list:
    ordered = first_orders().filter(ordered_at__gte=start, ordered_at__lt=end)
    return _request_rows(Basis.ORDERED, month, _request_groups(ordered, "request__"), "request__")


def _arrived_part(month, start, end, ids=None) -> list:
    """The month's arrivals (of only the requests `ids` when given): counts and histograms."""
    arrived = Request.objects.filter(arrived_at__gte=start, arrived_at__lt=end)
    if ids is not None:
        arrived = arrived.filter(pk__in=ids)
    rows = _request_rows(Basis.ARRIVED, month, _request_groups(arrived))
    histograms = _duration_histograms(arrived)
    return rows + [
        DurationMonth(
            month=month,
            branch_id=branch,
            kind=kind,
            lender_kind=lender_kind,
            overseas=overseas,
            delivery=delivery,
            measure=measure,
            count=sum(hist.values()),
            hours={str(h): n for h, n in sorted(hist.items())},
        )
        for (branch, kind, lender_kind, overseas, delivery, measure), hist in histograms.items()
    ]


def _candidates_part(month, start, end, ids=None) -> list:
    return [
        CandidateMonth(
            month=month,
            branch_id=g["request__pickup_branch_id"],
            lender_id=g["lender_id"],
            state=g["state"],
            unfilled_reason=g["unfilled_reason"],
            count=g["n"],
        )
        for g in LenderCandidate.objects.filter(ordered_at__gte=start, ordered_at__lt=end)
        .values("request__pickup_branch_id", "lender_id", "state", "unfilled_reason")
        .annotate(n=Count("*"))
        .order_by()
    ]


def _charges_part(month, start, end, ids=None) -> list:
    """The month's charges (of only the requests `ids` when given)."""
    charges = Charge.objects.filter(created_at__gte=start, created_at__lt=end)
    if ids is not None:
        charges = charges.filter(request_id__in=ids)
    return [
        ChargeMonth(
            month=month,
            branch_id=g["request__pickup_branch_id"],
            payment_class=g["payment_class"],
            budget_code_id=g["budget_code_id"],
            count=g["n"],
            total=g["total"] or 0,
        )
        for g in charges.values("request__pickup_branch_id", "payment_class", "budget_code_id")
        .annotate(n=Count("*"), total=Sum("total"))
        .order_by()
    ]


# A month's figures in five parts, each rewritten on its own: (compute, the rows it owns). A change to a
# request rewrites only the parts of the months it is counted in by that date (an order does not
# recompute the month's turnaround histograms, the costliest part).
PARTS = {
    "submitted": (_submitted_part, lambda month: [RequestMonth.objects.filter(month=month, basis=Basis.SUBMITTED)]),
    "ordered": (_ordered_part, lambda month: [RequestMonth.objects.filter(month=month, basis=Basis.ORDERED)]),
    "arrived": (
        _arrived_part,
        lambda month: [
            RequestMonth.objects.filter(month=month, basis=Basis.ARRIVED),
            DurationMonth.objects.filter(month=month),
        ],
    ),
    "candidates": (_candidates_part, lambda month: [CandidateMonth.objects.filter(month=month)]),
    "charges": (_charges_part, lambda month: [ChargeMonth.objects.filter(month=month)]),
}
ROLLUP_MODELS = (RequestMonth, CandidateMonth, DurationMonth, ChargeMonth)


def compute_part(part: str, month: datetime.date) -> list:
    """The rollup rows of one part of one month, from the raw rows."""
    _without_jit()
    start, end = month_bounds(month)
    return PARTS[part][0](month, start, end)


def refresh_part(part: str, month: datetime.date) -> None:
    rows = compute_part(part, month)
    for queryset in PARTS[part][1](month):
        queryset.delete()
    by_model = defaultdict(list)
    for row in rows:
        by_model[type(row)].append(row)
    for model, objects in by_model.items():
        model.objects.bulk_create(objects, batch_size=2000)


def refresh_month(month: datetime.date) -> None:
    """Rewrite every part of one month from the raw rows."""
    for part in PARTS:
        refresh_part(part, month)


# What is counted of an arrival and of a charge never changes once recorded (the dates, the lender,
# the amounts), so a page adds new ones to these parts instead of recomputing their months; the task
# recomputes the months later all the same (which also catches a rare edit, such as a branch).
ADDITIVE = ("arrived", "charges")


def new_additions(since: datetime.datetime) -> set[tuple[str, datetime.date, tuple]]:
    """(part, month, request ids) of the arrivals and charges recorded after `since`: none of them can
    be counted yet (`seen` is read after a refresh's queries, and an arrival's time is at most its
    request's `updated_at`)."""
    found = defaultdict(set)
    arrivals = Request.objects.filter(updated_at__gt=since, arrived_at__gt=since).values_list("pk", "arrived_at")
    for pk, moment in arrivals:
        found[("arrived", month_of(moment))].add(pk)
    charges = Charge.objects.filter(request__updated_at__gt=since, created_at__gt=since)
    for pk, moment in charges.values_list("request_id", "created_at"):
        found[("charges", month_of(moment))].add(pk)
    return {(part, month, tuple(sorted(ids))) for (part, month), ids in found.items()}


ADD_KEYS = {
    RequestMonth: ("basis", "month", "branch_id", "kind", "status", "lender_kind", "overseas", "supplied"),
    DurationMonth: ("month", "branch_id", "kind", "lender_kind", "overseas", "delivery", "measure"),
    ChargeMonth: ("month", "branch_id", "payment_class", "budget_code_id"),
}


def add_part(part: str, month: datetime.date, ids) -> None:
    """Add the rows of just these requests to a part of a month."""
    _without_jit()
    start, end = month_bounds(month)
    for row in PARTS[part][0](month, start, end, ids=list(ids)):
        model = type(row)
        key = {name: getattr(row, name) for name in ADD_KEYS[model]}
        existing = model.objects.select_for_update().filter(**key).first()
        if existing is None:
            row.save()
            continue
        existing.count += row.count
        if model is ChargeMonth:
            existing.total += row.total
        if model is DurationMonth:
            existing.hours = {str(h): n for h, n in sorted(percentiles.merge([existing.hours, row.hours]).items())}
        existing.save()


# What changed ---------------------------------------------------------------------------------


def dirty_parts(since: datetime.datetime) -> set[tuple[str, datetime.date]]:
    """(part, month) for the parts of months the requests changed after `since` are counted in."""
    changed = Request.objects.filter(updated_at__gt=since)
    asked = LenderCandidate.objects.filter(request__updated_at__gt=since, ordered_at__isnull=False)
    sources = [
        (("submitted",), changed, "submitted_at"),
        (("arrived",), changed.filter(arrived_at__isnull=False), "arrived_at"),
        (("ordered", "candidates"), asked, "ordered_at"),  # the first order is one of the orders
        (("charges",), Charge.objects.filter(request__updated_at__gt=since), "created_at"),
    ]
    dirty = set()
    for parts, queryset, field in sources:
        for moment in queryset.annotate(m=TruncMonth(field)).values_list("m", flat=True).distinct().order_by():
            dirty.update((part, _as_month(moment)) for part in parts)
    return dirty


def dirty_months(since: datetime.datetime | None) -> set[datetime.date]:
    """The months the requests changed after `since` are counted in (every month if None)."""
    if since is None:
        return all_months()
    return {month for _part, month in dirty_parts(since)}


def _as_month(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return datetime.date(value.year, value.month, 1)
    return datetime.date(value.year, value.month, 1)


def all_months() -> set[datetime.date]:
    """Every month from the first date the rollup counts (a submission, an order, a charge) to this one."""
    firsts = [
        Request.objects.order_by("submitted_at").values_list("submitted_at", flat=True).first(),
        LenderCandidate.objects.filter(ordered_at__isnull=False)
        .order_by("ordered_at")
        .values_list("ordered_at", flat=True)
        .first(),
        Charge.objects.order_by("created_at").values_list("created_at", flat=True).first(),
    ]
    firsts = [moment for moment in firsts if moment is not None]
    if not firsts:
        return set()
    month, last = month_of(min(firsts)), month_of(timezone.now())
    months = set()
    while month <= last:
        months.add(month)
        month = next_month(month)
    return months


# Refreshing -----------------------------------------------------------------------------------


def state() -> RollupState:
    found, _created = RollupState.objects.get_or_create(pk=STATE_PK)
    return found


def _locked_state(wait: bool) -> RollupState | None:
    state()  # make sure the row exists before locking it
    queryset = RollupState.objects.select_for_update(skip_locked=not wait)
    return queryset.filter(pk=STATE_PK).first()


def _newest_update():
    return Request.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()


def refresh(*, rebuild: bool = False, wait: bool = True, max_parts: int | None = None, quick: bool = False) -> dict:
    """Bring the rollup up to date. `rebuild` recomputes every month; `max_parts` gives up (and
    changes nothing) when more parts of months than that are dirty; `quick` (a page) reads only what
    changed after the newest change already read, without the overlap of LAG; `wait=False` gives up
    when another refresher holds the lock.
    Returns {"months": n, "parts": n, "done": bool, "computed_at": time}."""
    started = timezone.now()
    with transaction.atomic():
        current = _locked_state(wait)
        if current is None:
            return {"months": 0, "parts": 0, "done": False, "computed_at": None}
        full = rebuild or current.rebuild_needed or current.watermark is None
        additions = set()
        if full:
            dirty = {(part, month) for month in all_months() for part in PARTS}
        elif quick:
            since = max(current.seen or current.watermark, current.watermark)
            dirty = {(part, month) for part, month in dirty_parts(since) if part not in ADDITIVE}
            additions = new_additions(since)
        else:
            dirty = dirty_parts(current.watermark)
        outcome = {
            "months": len({month for _part, month in dirty} | {month for _part, month, _ids in additions}),
            "parts": len(dirty) + len(additions),
        }
        if max_parts is not None and outcome["parts"] > max_parts:
            return {**outcome, "done": False, "computed_at": current.computed_at}
        if full:
            for model in ROLLUP_MODELS:
                model.objects.all().delete()
        for part, month in sorted(dirty, key=lambda pair: (pair[1], pair[0])):
            refresh_part(part, month)
        for part, month, ids in sorted(additions):
            add_part(part, month, ids)
        # Read after the queries above: whatever they counted has `updated_at` at most this, so a new
        # arrival after it cannot have been counted (no arrival is added twice).
        newest = _newest_update()
        seen = max(filter(None, [current.seen, newest]), default=None)
        dirty = dirty or additions
        if quick and not full and not dirty and seen == current.seen:
            # A page found nothing new: no write (every report page view would write this row).
            return {**outcome, "done": True, "computed_at": current.computed_at}
        if not quick or full:
            current.watermark = started - LAG
            current.rebuild_needed = False
        current.seen = seen
        if dirty or not quick:
            current.computed_at = timezone.now()
        current.save()
        return {**outcome, "done": True, "computed_at": current.computed_at}


def refresh_for_page() -> dict:
    """What a report page calls before reading: refresh here and now when only a few months changed
    (so a librarian sees the arrival just recorded), else leave it to the task and say how old the
    figures are. Never waits for another refresher."""
    return refresh(wait=False, max_parts=SYNC_PARTS, quick=True)


def computed_at():
    return RollupState.objects.filter(pk=STATE_PK).values_list("computed_at", flat=True).first()


# Reading --------------------------------------------------------------------------------------


def months_q(months, branch_id: int | None = None) -> Q:
    q = Q(month__in=list(months))
    if branch_id is not None:
        q &= Q(branch_id=branch_id)
    return q


def survey_counts(fiscal_year: int, branch_id: int | None = None) -> dict:
    """The annual survey's borrowing counts for a fiscal year (April–March):

    - *sent*: requests whose first order to an outside lender falls in the year, counted once however
      many lenders it passed; domestic / overseas by the first lender asked;
    - *supplied*: requests that arrived in the year; domestic / overseas by the supplying lender.

    {"copy_sent": {"domestic": n, "overseas": n}, "copy_supplied": {…}, "loan_sent": {…}, "loan_supplied": {…}}
    """
    result = {
        f"{kind}_{what}": {"domestic": 0, "overseas": 0}
        for kind in (Request.Kind.COPY, Request.Kind.LOAN)
        for what in ("sent", "supplied")
    }
    groups = (
        RequestMonth.objects.filter(
            months_q(fiscal_months(fiscal_year), branch_id), basis__in=[Basis.ORDERED, Basis.ARRIVED]
        )
        .values("basis", "kind", "overseas")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for g in groups:
        what = "sent" if g["basis"] == Basis.ORDERED else "supplied"
        key = f"{g['kind']}_{what}"
        if key in result:
            result[key]["overseas" if g["overseas"] else "domestic"] += g["n"]
    return result
