"""The request lifecycle of DESIGN.md §4, declared once.

    submitted ──► ordered ──► arrived ──► on_loan ──► returned ──► closed        (loan)
        │            │           └──────► handed_over (= closed for a copy)       (copy)
        │            ├─► unfilled ──► ordered (next lender) | closed
        ├─► rejected (reason)         arrived ──► closed (not collected, sent back)
        └─► cancelled (only before ordered: once sent to a lender it cannot be cancelled)

`TRANSITIONS` is the only place that says which status may follow which; the service functions
in `ill.services` look their transition up here and are the only code that assigns a status.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ill.models import Request

S = Request.Status
LOAN, COPY = Request.Kind.LOAN, Request.Kind.COPY
NEW = ""  # a request that does not exist yet
BOTH = frozenset({LOAN, COPY})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    target: str
    kinds: frozenset = BOTH


def _t(action, sources, target, kinds=BOTH):
    return Transition(action, frozenset(sources), target, frozenset(kinds))


TRANSITIONS = (
    _t("submit", {NEW}, S.SUBMITTED),
    _t("cancel", {S.SUBMITTED}, S.CANCELLED),
    _t("reject", {S.SUBMITTED}, S.REJECTED),
    _t("order", {S.SUBMITTED, S.UNFILLED}, S.ORDERED),
    _t("mark_unfilled", {S.ORDERED}, S.UNFILLED),
    _t("record_arrival", {S.ORDERED}, S.ARRIVED),
    _t("hand_over", {S.ARRIVED}, S.ON_LOAN, {LOAN}),
    _t("hand_over", {S.ARRIVED}, S.HANDED_OVER, {COPY}),
    _t("return_by_patron", {S.ON_LOAN}, S.RETURNED, {LOAN}),
    _t("send_back", {S.RETURNED}, S.CLOSED, {LOAN}),
    _t("close_not_collected", {S.ARRIVED}, S.CLOSED),
    _t("close_unfilled", {S.UNFILLED}, S.CLOSED),
)

ACTION_LABELS = {
    "submit": _("submit"),
    "cancel": _("cancel"),
    "reject": _("reject"),
    "order": _("order"),
    "mark_unfilled": _("mark as unfilled"),
    "record_arrival": _("record the arrival"),
    "hand_over": _("hand over"),
    "return_by_patron": _("take back from the patron"),
    "send_back": _("send back to the lender"),
    "close_not_collected": _("close as not collected"),
    "close_unfilled": _("close as unfilled"),
}

# States in which nothing more happens to a request.
FINAL_STATES = frozenset({S.CLOSED, S.HANDED_OVER, S.REJECTED, S.CANCELLED})
# DESIGN.md §3.1: a loan counts against the limit from submission until it is back at the counter.
ACTIVE_LOAN_STATES = frozenset({S.SUBMITTED, S.ORDERED, S.UNFILLED, S.ARRIVED, S.ON_LOAN})


def find_transition(action: str, kind: str, status: str) -> Transition | None:
    for transition in TRANSITIONS:
        if transition.action == action and kind in transition.kinds and status in transition.sources:
            return transition
    return None


def allowed_actions(kind: str, status: str) -> list[str]:
    """The actions possible from this state, in the table's order, without duplicates."""
    seen = []
    for transition in TRANSITIONS:
        if kind in transition.kinds and status in transition.sources and transition.action not in seen:
            seen.append(transition.action)
    return seen


def is_known_action(action: str) -> bool:
    return any(t.action == action for t in TRANSITIONS)
