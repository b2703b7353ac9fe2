"""The lending lifecycle of DESIGN.md §11, declared once.

    received ──► searching ──► will_supply ──► copying ──► shipped ──► completed            (copy)
        │            │              └────────► shipped ──► on_loan ──► returned ──► completed (loan)
        │            │                            └──────────────────► returned  (back before they confirmed)
        ├────────────┴─► unfilled (reason code, sent back to them)
        └─► cancelled (by them, any time before we ship)

Overdue and recalled are not states: a loan is overdue when its due date has passed while it is with
them, and recalled when `recalled_at` is set (the due date is then brought forward).
`LENDING` is the only place that says which status may follow which; `lending.services` looks its move
up here and is the only code that assigns a status.
"""

from django.utils.translation import gettext_lazy as _

from core.statemachine import NEW, StateMachine, t
from lending.models import LendingRequest

S = LendingRequest.Status
LOAN, COPY = LendingRequest.Kind.LOAN, LendingRequest.Kind.COPY

TRANSITIONS = (
    t("receive", {NEW}, S.RECEIVED),
    t("search", {S.RECEIVED}, S.SEARCHING),
    t("will_supply", {S.RECEIVED, S.SEARCHING}, S.WILL_SUPPLY),
    t("mark_unfilled", {S.RECEIVED, S.SEARCHING, S.WILL_SUPPLY, S.COPYING}, S.UNFILLED),
    t("cancel", {S.RECEIVED, S.SEARCHING, S.WILL_SUPPLY, S.COPYING}, S.CANCELLED),
    t("start_copying", {S.WILL_SUPPLY}, S.COPYING, {COPY}),
    t("ship", {S.COPYING}, S.SHIPPED, {COPY}),
    t("ship", {S.WILL_SUPPLY}, S.SHIPPED, {LOAN}),
    t("complete", {S.SHIPPED}, S.COMPLETED, {COPY}),
    t("mark_received", {S.SHIPPED}, S.ON_LOAN, {LOAN}),
    t("record_return", {S.SHIPPED, S.ON_LOAN}, S.RETURNED, {LOAN}),
    t("complete", {S.RETURNED}, S.COMPLETED, {LOAN}),
)

ACTION_LABELS = {
    "receive": _("receive"),
    "search": _("search our holdings"),
    "will_supply": _("will supply"),
    "mark_unfilled": _("cannot supply (unfilled)"),
    "cancel": _("cancel at their request"),
    "start_copying": _("start copying"),
    "ship": _("ship"),
    "complete": _("complete"),
    "mark_received": _("received by them"),
    "record_return": _("record the return"),
}

LENDING = StateMachine("lending", TRANSITIONS, ACTION_LABELS)

FINAL_STATES = frozenset({S.COMPLETED, S.UNFILLED, S.CANCELLED})
OPEN_STATES = frozenset(LENDING.states() - FINAL_STATES)
# A loan of ours is out of the building in these states (overdue and recall are derived from them).
OUT_ON_LOAN_STATES = frozenset({S.SHIPPED, S.ON_LOAN})


def allowed_actions(kind: str, status: str) -> list[str]:
    return LENDING.allowed(status, kind)
