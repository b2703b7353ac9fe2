"""What the patron is told before applying: the likely cost (a range over the lenders that could
take the request, priced by `fees.estimates`) and how long it is likely to take (DESIGN.md §5, §7)."""

from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from fees import schedule_cache
from fees.estimates import cost_range, distinct_schedules
from ill.models import LendingInstitution, Request

K = LendingInstitution.Kind

COPY_TIMES = {
    Request.Delivery.MAIL: _("3 days to 1 week (sometimes 2 weeks or more)"),
    Request.Delivery.EXPRESS: _("2 to 5 days"),
    Request.Delivery.FAX: _("1 hour to 2 days (by express mail when the lender cannot send electronically)"),
}
OVERSEAS_COPY_TIME = _("5 days to 3 weeks (sometimes more than a month)")
LOAN_TIMES = {
    K.JAPANESE_UNIVERSITY: _("1 week or more"),
    K.NDL: _("1 week or more"),
    K.REGIONAL_NETWORK: _("1 to 2 weeks"),
    K.RESEARCH_INSTITUTION: _("1 to 2 weeks"),
    K.OVERSEAS: _("2 weeks to several months"),
    K.OTHER: _("2 weeks to several months"),
}
LOAN_PERIOD = _("Loan period: usually 1–2 weeks (about 2 weeks from the National Diet Library).")

# The same estimates as numbers of days (low, high; None = no upper bound), for the turnaround report
# (reports.figures) to set the library's own times against. "1 hour" is written as 0 days.
COPY_DAYS = {
    Request.Delivery.MAIL: (3, 7),
    Request.Delivery.EXPRESS: (2, 5),
    Request.Delivery.FAX: (0, 2),
}
OVERSEAS_COPY_DAYS = (5, 21)
LOAN_DAYS = {
    K.JAPANESE_UNIVERSITY: (7, None),
    K.NDL: (7, None),
    K.REGIONAL_NETWORK: (7, 14),
    K.RESEARCH_INSTITUTION: (7, 14),
    K.OVERSEAS: (14, None),
    K.OTHER: (14, None),
}


@dataclass(frozen=True)
class Estimate:
    low: int | None
    high: int | None
    lenders: int
    time: str

    @property
    def known(self) -> bool:
        return self.low is not None


def candidate_lenders(request: Request):
    """Active lenders that could take this request: overseas only if allowed, public expense only
    where accepted."""
    lenders = (
        LendingInstitution.objects.filter(active=True)
        .select_related("fee_schedule")
        .prefetch_related("fee_schedule__paper_prices")
    )
    if request.scope != Request.Scope.OVERSEAS:
        lenders = lenders.exclude(kind=K.OVERSEAS)
    if request.is_public_expense:
        lenders = lenders.filter(accepts_public_expense=True)
    return lenders


def delivery_time(request: Request) -> str:
    if request.is_copy:
        if request.scope == Request.Scope.OVERSEAS:
            return str(
                _("Japan: %(japan)s; overseas: %(overseas)s")
                % {
                    "japan": COPY_TIMES.get(request.delivery_method, COPY_TIMES[Request.Delivery.MAIL]),
                    "overseas": OVERSEAS_COPY_TIME,
                }
            )
        return str(COPY_TIMES.get(request.delivery_method, COPY_TIMES[Request.Delivery.MAIL]))
    return str(
        _("University libraries and the NDL: 1 week or more; regional network: 1–2 weeks; others: 2 weeks to months.")
    )


def lender_time(lender: LendingInstitution, *, loan: bool, delivery: str) -> str:
    """How long one lender usually takes: a loan by the lender's kind, a copy by how it is sent."""
    if loan:
        return str(LOAN_TIMES.get(lender.kind, LOAN_TIMES[K.OTHER]))
    if not lender.is_domestic:
        return str(OVERSEAS_COPY_TIME)
    return str(COPY_TIMES.get(delivery, COPY_TIMES[Request.Delivery.MAIL]))


SCHEDULES_TIMEOUT = 600  # seconds; any change to a lender or schedule moves the version on at once


def candidate_schedules(request: Request) -> tuple[list, int]:
    """The distinct fee schedules of the lenders that could take this request, and their number:
    read once per kind of request (overseas or not, public expense or not) and kept in the cache,
    not 300 lenders with their schedules and prices on every form."""
    key = (
        f"ill:candidate-schedules:{schedule_cache.version()}:"
        f"{request.scope == Request.Scope.OVERSEAS}:{request.is_public_expense}"
    )
    found = cache.get(key)
    if found is None:
        found = distinct_schedules(candidate_lenders(request))
        cache.set(key, found, SCHEDULES_TIMEOUT)
    return found


def estimate(request: Request, lenders=None) -> Estimate:
    """The cheapest and dearest total for this request alone at the candidate lenders, and the time."""
    if lenders is None:
        schedules, count = candidate_schedules(request)
        found = cost_range(request, schedules=schedules, lender_count=count)
    else:
        found = cost_range(request, list(lenders))
    return Estimate(low=found.low, high=found.high, lenders=found.lenders, time=delivery_time(request))
