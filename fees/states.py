"""The life of a charge, declared once (DESIGN.md §2, §4, §5).

    (arrival) ──► awaiting ──accept──► due ──pay──► paid
         │           └───────accept──► settled
         ├──────────────────────────► due        (the patron pays cash at the counter)
         └──────────────────────────► settled    (a budget code, a grant or the support budget pays)

A charge above the patron's maximum waits for their acceptance; a private charge with cash to pay
is due until paid; the rest is settled by a budget. Before arrival the money is an estimate held
on the budget code's ledger (`fees.budgets`) or the support budget (`fees.support`), not a charge.
"""

from django.utils.translation import gettext_lazy as _

from core.statemachine import NEW, StateMachine, t
from fees.models import Charge, SupportUse

C = Charge.State

CHARGE = StateMachine(
    "charge",
    (
        t("record", {NEW}, {C.AWAITING_ACCEPTANCE, C.DUE, C.SETTLED}),
        t("accept", {C.AWAITING_ACCEPTANCE}, {C.DUE, C.SETTLED}),
        t("pay", {C.DUE}, C.PAID),
    ),
    {"record": _("record the charge"), "accept": _("accept the charge"), "pay": _("pay")},
)


SU = SupportUse.State

# A request's claim on the student support budget (DESIGN.md §6):
#   linked (at submission) ──reserve──► reserved (ordered) ──charge──► charged (arrived)
#     ▲                                    │
#     └──────────── unreserve (unfilled) ──┘
#   linked | reserved ──release──► released (failed, or ordered from a lender that does not qualify)
SUPPORT = StateMachine(
    "support_use",
    (
        t("link", {NEW}, SU.LINKED),
        t("reserve", {SU.LINKED, SU.RESERVED}, SU.RESERVED),
        t("unreserve", {SU.RESERVED}, SU.LINKED),
        t("charge", {SU.LINKED, SU.RESERVED}, SU.CHARGED),
        t("release", {SU.LINKED, SU.RESERVED}, SU.RELEASED),
    ),
)
