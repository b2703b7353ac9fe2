"""Ordering from candidate lenders, unfilled answers and the cascade to the next (DESIGN.md §4).

Public expense is committed on the budget code (`fees.budgets.commit`, which locks the code) and a
supported request's estimate held on the support budget (`fees.support.reserve`, which locks the
budget) in the order's transaction. Nothing is ordered after the patron's "not needed after" date.
"""

import re

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.text import format_date, format_yen
from fees import budgets, schedules, support
from ill import notices
from ill.models import (
    NACSIS_ILL_ID_INVALID,
    NACSIS_ILL_ID_PATTERN,
    LenderCandidate,
    LendingInstitution,
    Request,
    normalize_nacsis,
)
from ill.services.transitions import add_note, apply, can, ensure_can, lock, refuse
from ill.states import CANDIDATE

S = Request.Status
CS = LenderCandidate.State

NEED_LENDER = _("Choose at least one lender to order from.")
TOO_MANY_LENDERS = _("At most %(max)d candidate lenders can be listed.")
DUPLICATE_LENDER = _("%(lender)s is listed twice.")
LENDER_INACTIVE = _("%(lender)s is not an active lender.")
NO_WAITING_LENDER = _("No candidate lender is left for request %(number)s. Add a lender or close the request.")
LENDER_NO_PUBLIC_EXPENSE = _(
    "%(lender)s does not take part in the fee-offset and accepts no public expense: the request is paid by %(expense)s."
)
LENDER_OVERSEAS_NOT_ALLOWED = _("%(lender)s is overseas, but the patron asked for libraries in Japan only.")
LENDER_NO_EXPRESS = _("%(lender)s does not send by express mail.")
NEEDS_ESTIMATE = _(
    "%(lender)s has no fee schedule for this request: enter the estimated charge, so that it can be held on "
    "budget code %(code)s."
)
ABOVE_MAX_COST = _(
    "The estimate at %(lender)s is %(estimate)s, above the patron's maximum of %(max)s. Ask the patron; "
    "order only once they accept it (tick the box), or choose another lender."
)
SUPPORT_LENDER_NOT_QUALIFYING = _(
    "This request is paid by the student support budget, which covers orders from the NDL and Japanese university "
    "and research-institution libraries only. Ordered from %(lender)s, the patron pays it themselves "
    "(estimate %(estimate)s). Tell the patron, then tick “The patron pays” to order, or choose another lender."
)
PATRON_ACCEPTED = _("The patron accepted the estimate of %(estimate)s.")
NEXT_NOT_ORDERED = _("The next candidate lender could not be ordered automatically: %(reason)s")
NOT_NEEDED_ANY_MORE = _(
    "The patron no longer needs it after %(date)s: it is not ordered again. Close the request as no longer needed."
)
NOT_PAST_NOT_NEEDED = _(
    "The patron's date after which it is no longer needed has not passed: close it as unfilled instead."
)
UNKNOWN_UNFILLED_REASON = _("Choose why the lender cannot supply it from the list.")
CLOSED_NOT_NEEDED = _("Closed: no lender could supply it before %(date)s, after which you no longer needed it.")
NACSIS_ILL_ID_TAKEN = _("NACSIS-ILL ID %(value)s is already recorded on request %(number)s.")
NACSIS_ILL_ID_SET = _("NACSIS-ILL ID recorded: %(value)s.")
NACSIS_ILL_ID_CHANGED = _("NACSIS-ILL ID changed from %(old)s to %(value)s.")
NACSIS_ILL_ID_REMOVED = _("NACSIS-ILL ID %(old)s removed.")


def clean_nacsis_ill_id(value, request: Request | None = None) -> str:
    """The NACSIS-ILL ID as stored (upper case, ASCII; "" for none), or a ServiceError saying what is
    wrong: not 12 letters and digits, or already on another request."""
    cleaned = normalize_nacsis(value)
    if not cleaned:
        return ""
    if not re.fullmatch(NACSIS_ILL_ID_PATTERN, cleaned):
        raise ServiceError(
            NACSIS_ILL_ID_INVALID,
            code="nacsis_ill_id_invalid",
            field="nacsis_ill_id",
            params={"value": str(value)[:40]},
        )
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # Two staff entering the same ID on two requests at once: the second waits for the first
        # to commit and then finds it (the unique constraint is the backstop).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"nacsis-ill-id:{cleaned}"])
    others = Request.objects.filter(nacsis_ill_id=cleaned)
    other = (others.exclude(pk=request.pk) if request is not None else others).first()
    if other is not None:
        raise ServiceError(
            NACSIS_ILL_ID_TAKEN,
            code="nacsis_ill_id_taken",
            field="nacsis_ill_id",
            params={"value": cleaned, "number": other.number},
        )
    return cleaned


@transaction.atomic
def set_nacsis_ill_id(request: Request, value, *, actor) -> Request:
    """Record or correct the request's NACSIS-ILL ID after ordering (staff), with a line in its history."""
    request = lock(request)
    cleaned = clean_nacsis_ill_id(value, request)
    old = request.nacsis_ill_id
    if cleaned == old:
        return request
    request.nacsis_ill_id = cleaned
    request.save(update_fields=["nacsis_ill_id", "updated_at"])
    if not cleaned:
        note = NACSIS_ILL_ID_REMOVED % {"old": old}
    elif old:
        note = NACSIS_ILL_ID_CHANGED % {"old": old, "value": cleaned}
    else:
        note = NACSIS_ILL_ID_SET % {"value": cleaned}
    add_note(request, actor=actor, action="nacsis_ill_id", note=str(note), data={"old": old, "new": cleaned})
    return request


def past_not_needed(request: Request, today=None) -> bool:
    """The patron's "not needed after" date has passed (DESIGN.md §2)."""
    today = today or timezone.localdate()
    return request.not_needed_after is not None and request.not_needed_after < today


def check_lender(request: Request, lender: LendingInstitution):
    params = {"lender": lender.display_name}
    if not lender.active:
        raise ServiceError(LENDER_INACTIVE, code="lender_inactive", field="lenders", params=params)
    if request.is_public_expense and not lender.accepts_public_expense:
        raise ServiceError(
            LENDER_NO_PUBLIC_EXPENSE,
            code="lender_no_public_expense",
            field="lenders",
            params={**params, "expense": request.get_expense_type_display()},
        )
    if request.scope == Request.Scope.DOMESTIC and not lender.is_domestic:
        raise ServiceError(LENDER_OVERSEAS_NOT_ALLOWED, code="lender_overseas", field="lenders", params=params)


def shipping_for(request: Request, lender: LendingInstitution, wanted: str) -> tuple[str, str]:
    """The shipping method the lender can do, and a note when it differs from what was wanted.

    Seed 004: FAX / electronic delivery falls back to express when the lender cannot do it.
    """
    if wanted == Request.Delivery.FAX and not lender.supports_fax:
        if not lender.supports_express:
            return Request.Delivery.MAIL, str(_("%(lender)s sends by ordinary mail only.") % {"lender": lender})
        note = _("%(lender)s cannot send by FAX or electronically: ordered by express mail instead.")
        return Request.Delivery.EXPRESS, str(note % {"lender": lender})
    if wanted == Request.Delivery.EXPRESS and not lender.supports_express:
        raise ServiceError(
            LENDER_NO_EXPRESS, code="lender_no_express", field="shipping_method", params={"lender": lender.display_name}
        )
    return wanted, ""


def support_warning(request: Request, lender: LendingInstitution) -> str:
    """What staff must know before ordering a supported request from a lender that does not qualify
    (with what the patron will pay), or ""."""
    if request.support_budget_id is None or lender.qualifies_for_support:
        return ""
    estimate = schedules.estimate_or_none(request, lender)
    if estimate == 0:
        return ""  # e.g. a free loan from the regional network: the patron has nothing to pay
    return str(
        SUPPORT_LENDER_NOT_QUALIFYING
        % {"lender": lender.display_name, "estimate": format_yen(estimate) if estimate is not None else "?"}
    )


def _move_candidate(candidate: LenderCandidate, action: str, **fields) -> None:
    transition = CANDIDATE.find(action, candidate.state)
    if transition is None:
        return
    candidate.state = transition.target
    for name, value in fields.items():
        setattr(candidate, name, value)
    candidate.save()


def _set_candidates(request: Request, lenders) -> None:
    lenders = list(lenders or [])
    existing = list(request.candidates.select_related("lender"))
    if len(lenders) != len({lender.pk for lender in lenders}):
        duplicate = next(lender for i, lender in enumerate(lenders) if lender in lenders[:i])
        raise ServiceError(DUPLICATE_LENDER, code="duplicate_lender", field="lenders", params={"lender": duplicate})
    if request.status == S.SUBMITTED:
        if not lenders:
            raise ServiceError(NEED_LENDER, code="no_lender", field="lenders")
        request.candidates.all().delete()
        existing = []
    if len(existing) + len(lenders) > LenderCandidate.MAX_CANDIDATES:
        raise ServiceError(
            TOO_MANY_LENDERS, code="too_many_lenders", field="lenders", params={"max": LenderCandidate.MAX_CANDIDATES}
        )
    for lender in lenders:
        check_lender(request, lender)
    position = max((c.position for c in existing), default=0)
    for lender in lenders:
        position += 1
        LenderCandidate.objects.create(request=request, position=position, lender=lender, state=CS.WAITING)


@transaction.atomic
def order(
    request: Request,
    *,
    actor,
    lenders=None,
    lender_reference: str = "",
    shipping_method: str | None = None,
    note: str = "",
    automatic: bool = False,
    estimated_charge: int | None = None,
    patron_accepted: bool = False,
    patron_pays: bool = False,
    nacsis_ill_id: str = "",
) -> Request:
    """Send the request to its next candidate lender.

    From `submitted`, `lenders` (1–5, in order) become the candidate list. From `unfilled`, the
    next waiting candidate is asked; new lenders may be appended. `patron_pays` confirms that staff
    told the patron a supported request becomes private expense at a lender that does not qualify.
    `nacsis_ill_id`, when given, is recorded (or corrected); the next hops keep it (one NACSIS-ILL
    record goes to every candidate in turn).
    """
    request = lock(request)
    new_nacsis_id = clean_nacsis_ill_id(nacsis_ill_id, request) if nacsis_ill_id else ""
    if not can(request, "order"):
        refuse(request, "order")
    if past_not_needed(request):
        raise ServiceError(
            NOT_NEEDED_ANY_MORE, code="not_needed_any_more", params={"date": format_date(request.not_needed_after)}
        )
    _set_candidates(request, lenders)
    candidate = request.candidates.filter(state=CS.WAITING).select_related("lender").first()
    if candidate is None:
        raise ServiceError(
            NO_WAITING_LENDER, code="no_candidate_left", field="lenders", params={"number": request.number}
        )
    lender = candidate.lender
    check_lender(request, lender)
    wanted = shipping_method or request.shipping_method or request.delivery_method
    shipping, fallback_note = shipping_for(request, lender, wanted)
    request.lender, request.shipping_method = lender, shipping  # what the estimate depends on
    estimate = estimated_charge if estimated_charge is not None else schedules.estimate_or_none(request, lender)
    if estimate is None and request.is_public_expense:
        raise ServiceError(
            NEEDS_ESTIMATE,
            code="estimate_required",
            field="estimated_charge",
            params={"lender": lender.display_name, "code": request.budget_code.code},
        )
    if request.max_cost is not None and estimate is not None and estimate > request.max_cost and not patron_accepted:
        raise ServiceError(
            ABOVE_MAX_COST,
            code="above_max_cost",
            field="patron_accepted",
            params={
                "estimate": format_yen(estimate),
                "max": format_yen(request.max_cost),
                "lender": lender.display_name,
            },
        )
    warning = support_warning(request, lender)
    if warning and not patron_pays:
        raise ServiceError(warning, code="support_lender_not_qualifying", field="patron_pays")
    support_note = support.reserve(request, lender=lender, estimate=estimate or 0)

    now = timezone.now()
    _move_candidate(candidate, "order", ordered_at=now, lender_reference=lender_reference)
    request.lender_reference = lender_reference
    if new_nacsis_id:
        request.nacsis_ill_id = new_nacsis_id
    request.ordered_at = now
    request.estimate = estimate
    accepted_note = str(PATRON_ACCEPTED % {"estimate": format_yen(estimate)}) if patron_accepted else ""
    event = apply(
        request,
        "order",
        actor=actor,
        note=" ".join(filter(None, [note, fallback_note, support_note, accepted_note])),
        data={
            "lender": lender.pk,
            "lender_name": str(lender),
            "candidate": candidate.position,
            "shipping_method": shipping,
            "reference": lender_reference,
            "automatic": automatic,
            "estimate": estimate,
            "support_removed": bool(support_note),
            "nacsis_ill_id": request.nacsis_ill_id,
        },
    )
    if request.is_public_expense and request.budget_code_id is not None:
        budgets.commit(request, code_id=request.budget_code_id, estimate=estimate or 0, actor=actor, note=str(lender))
    notices.notify_patron(request, "ordered", event=event, extra={"support_removed": support_note})
    return request


@transaction.atomic
def mark_unfilled(request: Request, *, actor, note: str = "", reason: str = "") -> Request:
    """The lender cannot supply it. The next waiting candidate is ordered at once, keeping the hop
    in the history; with none left the request waits as unfilled for staff to decide. Past the
    patron's "not needed after" date nothing is ordered again: the request is closed and the
    patron told. `reason` is the lender's answer (LenderCandidate.UnfilledReason, as NACSIS-ILL
    writes refusals), kept on the candidate and in the event; the desk form asks for it, older
    callers may leave it empty."""
    if reason and reason not in LenderCandidate.UnfilledReason.values:
        raise ServiceError(UNKNOWN_UNFILLED_REASON, code="unfilled_reason_unknown", field="reason")
    request = lock(request)
    if not can(request, "mark_unfilled"):
        refuse(request, "mark_unfilled")
    now = timezone.now()
    current = request.candidates.filter(state=CS.ORDERED).first()
    if current is not None:
        _move_candidate(current, "unfilled", answered_at=now, answer_note=note[:300], unfilled_reason=reason)
    budgets.release(request, code_id=request.budget_code_id, actor=actor)
    support.unreserve(request)
    lender_name = str(request.lender) if request.lender else ""
    apply(
        request,
        "mark_unfilled",
        actor=actor,
        note=note,
        data={
            "lender": request.lender_id,
            "lender_name": lender_name,
            "candidate": current.position if current else None,
            "reason": reason,
        },
    )
    if past_not_needed(request):
        return close_not_needed(request, actor=actor)
    if request.candidates.filter(state=CS.WAITING).exists():
        try:
            with transaction.atomic():  # a savepoint: a refusal leaves the request unfilled, not stuck
                return order(
                    request,
                    actor=actor,
                    automatic=True,
                    note=str(_("Unfilled by %(lender)s; asked the next candidate.") % {"lender": lender_name}),
                )
        except ServiceError as exc:
            request.refresh_from_db()
            add_note(
                request,
                actor=actor,
                action="note",
                data={"automatic_order_refused": exc.code},
                note=str(NEXT_NOT_ORDERED % {"reason": exc}),
            )
    return request


def _skip_waiting(request: Request) -> None:
    for candidate in request.candidates.filter(state=CS.WAITING):
        _move_candidate(candidate, "skip")


def _close(request: Request, action: str, reason: str, *, actor, note: str) -> Request:
    """Close a locked unfilled request: the lenders not asked are skipped, its claim on the support
    budget released, the patron told."""
    request.close_reason = reason
    request.closed_at = timezone.now()
    request.status_note = note
    event = apply(request, action, actor=actor, note=note)
    _skip_waiting(request)
    support.release(request, note=note)
    notices.notify_patron(request, "unfilled", event=event)
    return request


@transaction.atomic
def close_unfilled(request: Request, *, actor, note: str = "") -> Request:
    """No lender could supply it: close and tell the patron."""
    return _close(lock(request), "close_unfilled", Request.CloseReason.UNFILLED, actor=actor, note=note)


@transaction.atomic
def close_not_needed(request: Request, *, actor, note: str = "") -> Request:
    """Unfilled past the patron's "not needed after" date: close it as no longer needed and tell the
    patron; nothing more is ordered. (An ordered request is with a lender: its arrival is recorded.)"""
    request = lock(request)
    ensure_can(request, "close_not_needed")
    if not past_not_needed(request):
        raise ServiceError(NOT_PAST_NOT_NEEDED, code="still_needed")
    date = format_date(request.not_needed_after)
    message = note or str(CLOSED_NOT_NEEDED % {"date": date})
    return _close(request, "close_not_needed", Request.CloseReason.NOT_NEEDED, actor=actor, note=message)
