"""Daily housekeeping of requests, run by Celery beat."""

import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ill import services
from ill.errors import ServiceError
from ill.models import Request

NO_LONGER_NEEDED = _(
    "Cancelled by the library: it could not be ordered before the date after which you no longer needed it (%(date)s)."
)


def cancel_no_longer_needed(today: datetime.date | None = None) -> int:
    """Requests still waiting to be ordered after the patron's 'not needed after' date are
    cancelled (the form promises it). Ordered ones cannot be cancelled: the lender has them."""
    today = today or timezone.localdate()
    cancelled = 0
    for request in Request.objects.filter(status=Request.Status.SUBMITTED, not_needed_after__lt=today).select_related(
        "patron"
    ):
        with translation.override(request.patron.preferred_language):
            reason = str(NO_LONGER_NEEDED % {"date": request.not_needed_after.isoformat()})
        try:
            services.cancel(request, actor=None, reason=reason)
            cancelled += 1
        except ServiceError:  # ordered meanwhile
            continue
    return cancelled
