"""The counter's worklists (DESIGN.md §4): each is a query derived from the state tables
(`ill.lifecycle.REQUEST`, `ill.states.EXTENSION`) and the one definitions in `ill.selectors`."""

import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ill import countcache, selectors
from ill.lifecycle import REQUEST
from ill.models import OPEN_STATUSES, Request

S = Request.Status


def worklist_q(name: str, today: datetime.date | None = None) -> Q:
    """The requests of one counter worklist, as a filter."""
    today = today or timezone.localdate()
    if name == "review":
        return Q(status__in=REQUEST.sources("reject"), reviewed_at__isnull=True)
    if name == "order":
        return Q(status=S.SUBMITTED, reviewed_at__isnull=False)
    if name == "unfilled":
        return Q(status__in=REQUEST.sources("close_unfilled"))
    if name == "ordered":
        return Q(status__in=REQUEST.sources("record_arrival"))
    if name == "not_notified":
        return Q(status__in=REQUEST.sources("hand_over"), notified_at__isnull=True)
    if name == "pickup":
        return Q(status__in=REQUEST.sources("hand_over"), notified_at__isnull=False)
    if name == "not_collected":
        since = timezone.now() - datetime.timedelta(days=settings.ILL_NOT_COLLECTED_DAYS)
        return Q(status__in=REQUEST.sources("close_not_collected"), arrived_at__lt=since)
    if name == "due_soon":
        return selectors.due_soon_q(today)
    if name == "overdue":
        return selectors.overdue_q(today)
    if name == "send_back":
        return Q(status__in=REQUEST.sources("send_back"))
    if name == "extensions":
        return selectors.with_open_extension_q()
    raise KeyError(name)


WORKLISTS = [
    ("review", _("To review")),
    ("order", _("Checked, to order")),
    ("unfilled", _("Unfilled: next lender or close")),
    ("ordered", _("Ordered, waiting for the lender")),
    ("not_notified", _("Arrived, patron not yet told")),
    ("pickup", _("Waiting for pick-up")),
    ("not_collected", _("Not collected")),
    ("due_soon", _("On loan, due soon")),
    ("overdue", _("Overdue")),
    ("send_back", _("Returned, to send back")),
    ("extensions", _("Extension requests")),
]
ATTENTION = ("unfilled", "not_notified", "not_collected", "overdue", "extensions")


def needs_attention_q() -> Q:
    """Any of the ATTENTION worklists; all lie within the open requests (the partial index)."""
    q = Q()
    for name in ATTENTION:
        q |= worklist_q(name)
    return Q(status__in=OPEN_STATUSES) & q


COUNTS_TIMEOUT = 60  # seconds: bounds the drift of the time-based lists (not collected, due soon)


def count_worklists(branch=None, today: datetime.date | None = None) -> dict:
    """The number of requests in each counter worklist, in one query over the open requests only
    (every worklist lies within them; the partial index `request_open_work` holds just those)."""
    qs = Request.objects.filter(status__in=OPEN_STATUSES)
    if branch is not None:
        qs = qs.filter(pickup_branch=branch)
    return qs.aggregate(**{name: Count("pk", filter=worklist_q(name, today)) for name, _label in WORKLISTS})


def desk_counts(branch=None) -> dict:
    """`count_worklists`, kept in the cache until a request or extension changes (`ill.countcache`)
    or a minute passes. Without a shared cache (CACHE_URL) another web process may show counts up
    to a minute old; the lists themselves are always read live."""
    today = timezone.localdate()
    key = f"desk:counts:{branch.pk if branch is not None else 'all'}:{today.isoformat()}"
    found = cache.get_many([countcache.VERSION_KEY, key])  # one round trip for both
    current = found.get(countcache.VERSION_KEY) or countcache.version()
    stored_version, counts = found.get(key) or (None, None)
    if stored_version != current:
        counts = count_worklists(branch, today)
        cache.set(key, (current, counts), COUNTS_TIMEOUT)
    return counts
