"""What a patron's e-mail about a request needs to say, gathered in one place (DESIGN.md §8, §9).

The arrival notice must tell where to collect the item, when (the hours that apply to this
expense type), the exact cash to bring, what to bring for the return, the due date and any use
restriction — or, for public-expense copies, that they go to the laboratory by campus mail.
"""

from django.conf import settings

from fees.models import Charge
from fees.services import campus_mail_allowed
from ill.models import Request


def pickup_hours(request: Request) -> dict:
    """Private-expense pick-up is on weekdays in a fixed window; others during opening hours."""
    branch = request.pickup_branch
    if request.expense_type == Request.ExpenseType.PRIVATE and request.support_budget_id is None:
        opens, closes = settings.ILL_PRIVATE_PICKUP_HOURS
        return {"private_window": True, "opens": opens, "closes": closes, "rows": []}
    rows = list(branch.opening_hours.all())
    return {"private_window": False, "rows": rows, "note": branch.display_hours_note}


def return_postage(request: Request, charge: Charge | None) -> str:
    """What the patron brings when returning a loan: stamps (private) or the postal bar code
    (public); nothing when the lender charges nothing for the return (e.g. KL-NET)."""
    if not request.is_loan:
        return ""
    if request.is_public_expense:
        return "barcode"
    if charge is not None and charge.return_postage == 0:
        return ""
    return "stamps"


def request_context(request: Request, *, event=None) -> dict:
    charge = Charge.objects.filter(request=request).first()
    cash_due = charge.cash_due if charge is not None and charge.state == Charge.State.DUE else 0
    stamps = charge.return_postage if charge is not None and charge.payment_class == Charge.PaymentClass.PRIVATE else 0
    campus_mail = campus_mail_allowed(request) and request.patron.laboratory_id is not None
    return {
        "request": request,
        "patron": request.patron,
        "branch": request.pickup_branch,
        "event": event,
        "charge": charge,
        "cash_due": cash_due,
        "stamps": stamps,
        "hours": pickup_hours(request),
        "return_postage": return_postage(request, charge),
        "campus_mail": campus_mail,
        "laboratory": request.patron.laboratory,
        "url": request.get_absolute_url(),
    }
