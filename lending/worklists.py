"""The lending desk's worklists (DESIGN.md §11): each a filter derived from the lifecycle
(`lending.lifecycle.LENDING`) and the loans' due dates; overdue is derived, never a status.

Every worklist lies within the open requests, which the partial index `lending_open_work` holds (the
out-on-loan ones also in `lending_due`): the counts are one query over the open work, whatever the
length of the history.
"""

import datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lending import selectors
from lending.lifecycle import OPEN_STATES, OUT_ON_LOAN_STATES
from lending.models import LendingRequest, Renewal

S = LendingRequest.Status
LOAN, COPY = LendingRequest.Kind.LOAN, LendingRequest.Kind.COPY


def pending_renewal():
    """An annotation: the request has a renewal request waiting for our answer."""
    return Exists(Renewal.objects.filter(request=OuterRef("pk"), decision=Renewal.Decision.PENDING))


def worklist_q(name: str, today: datetime.date | None = None) -> Q:
    """The requests of one lending worklist, as a filter (KeyError for an unknown name)."""
    today = today or timezone.localdate()
    if name == "new":
        return Q(status=S.RECEIVED)
    if name == "pull":  # to fetch from the shelves: being searched, or promised and not yet sent
        return Q(status__in=[S.SEARCHING, S.WILL_SUPPLY])
    if name == "copy":
        return Q(status=S.COPYING)
    if name == "ship":
        # a loan once promised; a copy once it is being made (the copy is shipped from "copying")
        return Q(kind=LOAN, status=S.WILL_SUPPLY) | Q(kind=COPY, status=S.COPYING)
    if name == "sent":  # copies sent, to close once they are done with
        return Q(kind=COPY, status=S.SHIPPED)
    if name == "out":
        return Q(kind=LOAN, status__in=OUT_ON_LOAN_STATES)
    if name == "overdue":
        return selectors.overdue_q(today)
    if name == "renewals":
        return Q(kind=LOAN, status__in=OUT_ON_LOAN_STATES) & Q(pending_renewal())
    if name == "returned":
        return Q(status=S.RETURNED)
    raise KeyError(name)


WORKLISTS = [
    ("new", _("New, to look at")),
    ("pull", _("To pull from the shelves")),
    ("copy", _("To copy")),
    ("ship", _("To ship")),
    ("sent", _("Copies sent, to complete")),
    ("out", _("Out on loan")),
    ("overdue", _("Overdue with them")),
    ("renewals", _("Renewal requests to answer")),
    ("returned", _("Returned, to check in")),
]
NAMES = frozenset(name for name, _label in WORKLISTS)
ATTENTION = ("new", "overdue", "renewals", "returned")


def open_requests():
    """The open requests: every worklist lies within them."""
    return LendingRequest.objects.filter(status__in=OPEN_STATES)


def count_worklists(today: datetime.date | None = None) -> dict:
    """The number of requests in each worklist, in one query over the open requests only."""
    today = today or timezone.localdate()
    return open_requests().aggregate(
        **{name: Count("pk", filter=worklist_q(name, today)) for name, _label in WORKLISTS}
    )
