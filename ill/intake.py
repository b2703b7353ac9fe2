"""The one way a request enters the system (DESIGN.md §3): every entry point — the patron's forms,
staff entering a request on a patron's behalf, any later API — calls `submit_request`.

It locks the patron row first, so two submissions by the same patron at the same moment are
checked one after the other (the five-book limit holds across browser tabs), then checks every
submission rule and saves nothing when one refuses.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ill import rules, services
from ill.errors import ServiceError
from ill.models import Request
from patrons.models import Patron

PATRON_BLOCKED = _("Your account is blocked for interlibrary loan (%(reason)s). Please contact the library counter.")
OVERRIDE_NEEDS_PERMISSION = _("Only library staff may override a rule.")


def preview(*, patron: Patron, request: Request, overrides: dict | None = None) -> list[rules.RuleResult]:
    """The rules' results for an unsaved request, without saving or locking anything."""
    request.patron = patron
    return rules.evaluate(request, overrides=overrides or {})


@transaction.atomic
def submit_request(*, patron: Patron, request: Request, actor, overrides: dict | None = None) -> Request:
    """Check every submission rule for this unsaved request and submit it, or raise ServiceError.

    `overrides` lets staff pass the duplicate or copyright rule with a recorded reason, e.g.
    {"duplicate": "the first copy was lost in the post"}.
    """
    overrides = {k: v.strip() for k, v in (overrides or {}).items() if v and v.strip()}
    if overrides and not (actor is not None and actor.has_perm("ill.override_rules")):
        raise ServiceError(OVERRIDE_NEEDS_PERMISSION, code="override_not_allowed")
    patron = Patron.objects.select_for_update().get(pk=patron.pk)
    if patron.blocked:
        raise ServiceError(PATRON_BLOCKED, code="patron_blocked", params={"reason": patron.block_reason})
    request.patron = patron
    results = rules.check_submission(request, overrides=overrides)
    request.duplicate_override_reason = overrides.get("duplicate", "")[:300]
    request.copyright_override_reason = overrides.get("copyright", "")[:300]
    from fees import support

    support.assign(request)
    warnings = [str(r.message) for r in results if r.outcome == rules.WARN]
    return services.submit(request, actor=actor, note="\n".join(warnings))
