"""What a patron's e-mail about a request says, and sending it through the outbox (DESIGN.md §8, §9).

The arrival notice must tell where to collect the item, when (the hours that apply to whoever
pays), the exact cash to bring, what to bring for the return, the due date and any use
restriction — or, for public-expense copies, that they go to the laboratory by campus mail.
The templates are `templates/ill/email/<language>/<kind>.*`.
"""

from django.conf import settings

from fees import charges
from fees.models import Charge
from ill.models import Request
from notifications.services import queue_message

TEMPLATES = "ill/email"


def payer(request: Request, charge: Charge | None = None) -> str:
    """Who pays for the request (a `Charge.PaymentClass`): the charge says once it exists."""
    return charge.payment_class if charge is not None else charges.payment_class_for(request)


def pickup_hours(request: Request, charge: Charge | None = None) -> dict:
    """A patron who pays collects on weekdays in a fixed window; the rest during opening hours."""
    if payer(request, charge) == Charge.PaymentClass.PRIVATE:
        opens, closes = settings.ILL_PRIVATE_PICKUP_HOURS
        return {"private_window": True, "opens": opens, "closes": closes, "rows": []}
    branch = request.pickup_branch
    return {"private_window": False, "rows": list(branch.opening_hours.all()), "note": branch.display_hours_note}


def request_context(request: Request, *, event=None) -> dict:
    charge = charges.charge_of(request)
    cash_due = charge.cash_due if charge is not None and charge.state == Charge.State.DUE else 0
    stamps = charge.return_postage if charge is not None and charge.payment_class == Charge.PaymentClass.PRIVATE else 0
    campus_mail = charges.campus_mail_allowed(request) and request.patron.laboratory_id is not None
    return {
        "request": request,
        "patron": request.patron,
        "branch": request.pickup_branch,
        "event": event,
        "charge": charge,
        "payer": payer(request, charge),
        "cash_due": cash_due,
        "stamps": stamps,
        "hours": pickup_hours(request, charge),
        "return_postage": charges.return_postage_due(request, charge),
        "campus_mail": campus_mail,
        "laboratory": request.patron.laboratory,
        "url": request.get_absolute_url(),
    }


def notify_patron(request: Request, kind: str, *, event=None, key: str | None = None, extra: dict | None = None):
    """The patron's e-mail about their request, in their language. One per event (or per `key`
    for reminders, which have no event)."""
    patron = request.patron
    return queue_message(
        template=TEMPLATES,
        kind=kind,
        idempotency_key=key or f"{kind}:event:{event.pk}",
        recipient=patron.user.email,
        language=patron.preferred_language,
        context={**request_context(request, event=event), **(extra or {})},
        request=request,
        user=patron.user,
    )
