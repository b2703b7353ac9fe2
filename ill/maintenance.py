"""Daily housekeeping of requests, run by Celery beat in batches (see `ill.reminders`)."""

import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.text import format_date
from ill import services
from ill.models import Request
from ill.reminders import Batch, next_rows, run_all

NO_LONGER_NEEDED = _(
    "Cancelled by the library: it could not be ordered before the date after which you no longer needed it (%(date)s)."
)


def close_no_longer_needed_batch(
    today: datetime.date | None = None, *, after: list | None = None, size: int | None = None
) -> Batch:
    """Requests past the patron's 'not needed after' date are not ordered any more (the form
    promises it): those still waiting to be ordered are cancelled, unfilled ones closed as no
    longer needed; each patron is told. Ordered ones are with a lender: their arrival is recorded.
    At most `size` requests, by that date, after the cursor `after`."""
    today = today or timezone.localdate()
    done = {"cancelled": 0, "closed": 0}
    waiting = Request.objects.filter(
        status__in=[Request.Status.SUBMITTED, Request.Status.UNFILLED], not_needed_after__lt=today
    ).select_related("patron")
    rows, after = next_rows(waiting, "not_needed_after", after, size)
    for request in rows:
        try:
            if request.status == Request.Status.SUBMITTED:
                with translation.override(request.patron.preferred_language):
                    reason = str(NO_LONGER_NEEDED % {"date": format_date(request.not_needed_after)})
                services.cancel(request, actor=None, reason=reason)
                done["cancelled"] += 1
            else:
                with translation.override(request.patron.preferred_language):
                    services.close_not_needed(request, actor=None)
                done["closed"] += 1
        except ServiceError:  # ordered meanwhile
            continue
    return Batch(after=after, done=done)


def close_no_longer_needed(today: datetime.date | None = None) -> dict:
    return {"cancelled": 0, "closed": 0, **run_all(close_no_longer_needed_batch, today=today).done}
