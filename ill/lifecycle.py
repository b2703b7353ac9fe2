"""The request lifecycle of DESIGN.md §4, declared once.

    submitted ──► ordered ──► arrived ──► on_loan ──► returned ──► closed        (loan)
        │            │           └──────► handed_over (= closed for a copy)       (copy)
        │            ├─► unfilled ──► ordered (next lender) | closed
        ├─► rejected (reason)         arrived ──► closed (not collected, sent back)
        └─► cancelled (only before ordered: once sent to a lender it cannot be cancelled)

`REQUEST` is the only place that says which status may follow which; the service functions in
`ill.services` look their transition up here and are the only code that assigns a status.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.statemachine import NEW, StateMachine, t
from ill.models import Request

S = Request.Status
LOAN, COPY = Request.Kind.LOAN, Request.Kind.COPY

TRANSITIONS = (
    t("submit", {NEW}, S.SUBMITTED),
    t("cancel", {S.SUBMITTED}, S.CANCELLED),
    t("reject", {S.SUBMITTED}, S.REJECTED),
    t("order", {S.SUBMITTED, S.UNFILLED}, S.ORDERED),
    t("mark_unfilled", {S.ORDERED}, S.UNFILLED),
    t("record_arrival", {S.ORDERED}, S.ARRIVED),
    t("hand_over", {S.ARRIVED}, S.ON_LOAN, {LOAN}),
    t("hand_over", {S.ARRIVED}, S.HANDED_OVER, {COPY}),
    t("return_by_patron", {S.ON_LOAN}, S.RETURNED, {LOAN}),
    t("send_back", {S.RETURNED}, S.CLOSED, {LOAN}),
    t("close_not_collected", {S.ARRIVED}, S.CLOSED),
    t("close_unfilled", {S.UNFILLED}, S.CLOSED),
    # DESIGN.md §2: past the patron's "not needed after" date nothing more is ordered.
    t("close_not_needed", {S.UNFILLED}, S.CLOSED),
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
    "close_not_needed": _("close as no longer needed"),
}

REQUEST = StateMachine("request", TRANSITIONS, ACTION_LABELS)

# States in which nothing more happens to a request.
FINAL_STATES = frozenset({S.CLOSED, S.HANDED_OVER, S.REJECTED, S.CANCELLED})
OPEN_STATES = frozenset(REQUEST.states() - FINAL_STATES)
# DESIGN.md §3.1: a loan counts against the limit from submission until it is back at the counter.
ACTIVE_LOAN_STATES = frozenset({S.SUBMITTED, S.ORDERED, S.UNFILLED, S.ARRIVED, S.ON_LOAN})
# Requests that never brought the item: they do not stop the patron asking again (§3.2) and do
# not count against the support budget's per-student cap (§6).
FAILED_CLOSE_REASONS = (Request.CloseReason.UNFILLED, Request.CloseReason.NOT_NEEDED)
FAILED_STATES = (S.REJECTED, S.CANCELLED)


def failed_q(prefix: str = "") -> Q:
    """The one definition of "an earlier request that failed", as a query."""
    return Q(**{f"{prefix}status__in": FAILED_STATES}) | Q(**{f"{prefix}close_reason__in": FAILED_CLOSE_REASONS})


def has_failed(request: Request) -> bool:
    return request.status in FAILED_STATES or request.close_reason in FAILED_CLOSE_REASONS


def find_transition(action: str, kind: str, status: str):
    return REQUEST.find(action, status, kind)


def allowed_actions(kind: str, status: str) -> list[str]:
    """The actions possible from this state, in the table's order, without duplicates."""
    return REQUEST.allowed(status, kind)


def is_known_action(action: str) -> bool:
    return REQUEST.knows(action)
