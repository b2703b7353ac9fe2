"""The one way a request enters the system (DESIGN.md §3): every entry point — the patron's forms,
staff entering a request on a patron's behalf, any later API — calls `submit_request`.

It locks the patron row first, so two submissions by the same patron at the same moment are
checked one after the other (the five-book limit holds across browser tabs), then checks every
submission rule and saves nothing when one refuses.
"""

import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from fees import support
from ill import lifecycle, notices, refusals, rules
from ill.models import Request, RequestEvent, RequestNumberCounter
from ill.services.transitions import refuse
from patrons.models import Patron

PATRON_BLOCKED = _("Your account is blocked for interlibrary loan (%(reason)s). Please contact the library counter.")
PATRON_LEFT = _(
    "Your registration at the university has ended, so no new requests can be made. "
    "Please contact the library counter if this is wrong."
)
OVERRIDE_NEEDS_PERMISSION = _("Only library staff may override a rule.")
RELATIONS = [field.name for field in Request._meta.concrete_fields if field.is_relation]


def preview(
    *, patron: Patron, request: Request, overrides: dict | None = None, record: bool = False
) -> list[rules.RuleResult]:
    """The rules' results for an unsaved request, without saving or locking anything; with `record`
    (the patron's confirm step), its refusals are counted in the copyright log (ill.refusals)."""
    request.patron = patron
    results = rules.evaluate(request, overrides=overrides or {})
    if record:
        refusals.record(patron=patron, request=request, results=results)
    return results


def submit_request(*, patron: Patron, request: Request, actor, overrides: dict | None = None) -> Request:
    """Check every submission rule for this unsaved request and submit it, or raise ServiceError.

    `overrides` lets staff pass the duplicate or copyright rule with a recorded reason, e.g.
    {"duplicate": "the first copy was lost in the post"}. A refusal is counted in the copyright log
    (ill.refusals) after the transaction has been rolled back, so that the count stays.
    """
    try:
        return _submit_request(patron=patron, request=request, actor=actor, overrides=overrides)
    except rules.RulesRefused as refused:
        staff_entry = actor is not None and actor.pk != patron.user_id
        refusals.record(patron=patron, request=request, results=refused.results, staff_entry=staff_entry)
        raise


@transaction.atomic
def _submit_request(*, patron: Patron, request: Request, actor, overrides: dict | None) -> Request:
    overrides = {k: v.strip() for k, v in (overrides or {}).items() if v and v.strip()}
    if overrides and not (actor is not None and actor.has_perm("ill.override_rules")):
        raise ServiceError(OVERRIDE_NEEDS_PERMISSION, code="override_not_allowed")
    patron = Patron.objects.select_for_update().get(pk=patron.pk)
    if not patron.active:  # left the university (the registrar import); their history stays
        raise ServiceError(PATRON_LEFT, code="patron_left")
    if patron.blocked:
        raise ServiceError(PATRON_BLOCKED, code="patron_blocked", params={"reason": patron.block_reason})
    request.patron = patron
    results = rules.check_submission(request, overrides=overrides)
    request.duplicate_override_reason = overrides.get("duplicate", "")[:300]
    request.copyright_override_reason = overrides.get("copyright", "")[:300]
    support.assign(request)
    warnings = [str(r.message) for r in results if r.outcome == rules.WARN]
    return submit(request, actor=actor, note="\n".join(warnings))


def next_request_number(today: datetime.date | None = None) -> str:
    """ILL-<year>-<6 digits>, counted per calendar year. Holds the counter row until commit."""
    year = (today or timezone.localdate()).year
    if not RequestNumberCounter.objects.filter(year=year).update(last=F("last") + 1):
        RequestNumberCounter.objects.get_or_create(year=year)  # the first request of the year
        RequestNumberCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = RequestNumberCounter.objects.get(year=year).last
    return f"ILL-{year}-{last:06d}"


@transaction.atomic
def submit(request: Request, *, actor, note: str = "") -> Request:
    """Save a new, already validated request as submitted (`submit_request` checks the rules and
    calls this inside the same transaction while it holds the lock on the patron)."""
    if request.pk is not None:
        refuse(request, "submit")
    request.number = next_request_number()
    request.status = lifecycle.NEW
    request.submitted_at = timezone.now()
    if actor is not None and request.created_by_id is None:
        request.created_by = actor
    # The related rows (patron, branch, budget code, lender…) were read from the database by the
    # form or the caller; checking again that each exists would cost a query apiece.
    request.full_clean(exclude=["number", "status", *RELATIONS])
    request.status = lifecycle.REQUEST.find("submit", lifecycle.NEW, request.kind).target
    request.save()
    support.link(request)
    event = RequestEvent.objects.create(
        request=request, action="submit", from_status="", to_status=request.status, actor=actor, note=note
    )
    notices.notify_patron(request, "received", event=event)
    return request
