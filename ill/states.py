"""The smaller state machines of a request, declared once like the lifecycle (`ill.lifecycle`).

Candidate lenders (NACSIS-ILL asks up to five in turn):

    waiting ──order──► ordered ──unfilled──► unfilled
       │                  └─────arrived────► filled
       └──skip──► skipped   (the request closed before this lender was asked)

Extension requests (the lender decides, DESIGN.md §4):

    requested ──forward──► forwarded ──grant──► granted
        │                      └──────refuse──► refused
        └──grant | refuse (answered at once, e.g. by telephone)
"""

from django.utils.translation import gettext_lazy as _

from core.statemachine import NEW, StateMachine, t
from ill.models import ExtensionRequest, LenderCandidate

CS = LenderCandidate.State
CANDIDATE = StateMachine(
    "candidate",
    (
        t("add", {NEW}, CS.WAITING),
        t("order", {CS.WAITING}, CS.ORDERED),
        t("unfilled", {CS.ORDERED}, CS.UNFILLED),
        t("arrived", {CS.ORDERED}, CS.FILLED),
        t("skip", {CS.WAITING}, CS.SKIPPED),
    ),
)

ES = ExtensionRequest.State
EXTENSION = StateMachine(
    "extension",
    (
        t("request", {NEW}, ES.REQUESTED),
        t("forward", {ES.REQUESTED}, ES.FORWARDED),
        t("grant", {ES.REQUESTED, ES.FORWARDED}, ES.GRANTED),
        t("refuse", {ES.REQUESTED, ES.FORWARDED}, ES.REFUSED),
    ),
    {"forward": _("forward"), "grant": _("grant"), "refuse": _("refuse")},
)
# An extension is open while the lender may still answer it.
OPEN_EXTENSION_STATES = tuple(sorted(EXTENSION.sources("grant")))
