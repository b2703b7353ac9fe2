"""Patrons at the desk: search, a patron's page, blocks, requests entered on their behalf."""

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from core import keyset
from core.errors import ServiceError
from fees.budgets import budget_codes_for, budget_positions
from ill import lifecycle, retention, rules, search, selectors, services
from ill.forms import FORMS
from ill.forms_desk import (
    BlockForm,
    OverrideForm,
)
from ill.models import Request
from patrons import services as patron_services
from patrons.models import Patron
from patrons.permissions import desk_required
from patrons.signin import sign_in_lock

# --- patrons -------------------------------------------------------------------------------


@desk_required
def patrons(request):
    """Patrons by number, name, kana or e-mail (ill.search), a page at a time after a cursor."""
    q = search.clean(request.GET.get("q", ""))
    # The placeholders that anonymised requests stand under (ill.retention) are nobody to look up.
    found = Patron.objects.select_related("laboratory", "home_branch").exclude(
        patron_number__startswith=retention.PLACEHOLDER_PREFIX
    )
    if q:
        found = found.filter(search.patron_q(q) | Q(user__email__iexact=q))
        first_two = list(found.order_by()[:2])
        if len(first_two) == 1:
            return redirect("desk:patron", number=first_two[0].patron_number)
    page = keyset.paginate(found, "patron_number", 25, request.GET.get("cursor", ""))
    count, more = keyset.bounded_count(found)
    return render(
        request,
        "ill/desk/patrons.html",
        {"page": page, "q": q, "count": count, "count_more": more, "short_term": search.is_short(q)},
    )


def _patron_or_404(number) -> Patron:
    return get_object_or_404(Patron.objects.select_related("user", "laboratory", "home_branch"), patron_number=number)


@desk_required
def patron_detail(request, number):
    patron = _patron_or_404(number)
    return render(request, "ill/desk/patron.html", _patron_context(patron))


def _patron_context(patron, **extra):
    history = Request.objects.filter(patron=patron).select_related("lender", "pickup_branch").order_by("-submitted_at")
    codes = list(budget_codes_for(patron))
    positions = budget_positions(codes)
    return {
        "patron": patron,
        "active_loans": selectors.active_loan_count(patron),
        "loan_limit": selectors.loan_limit(),
        "active": history.exclude(status__in=lifecycle.FINAL_STATES),
        "history": history[:100],
        "codes": [(code, positions[code.pk]) for code in codes],
        "block_form": BlockForm(),
        "sign_in_lock": sign_in_lock(patron.user.get_username()),
        **extra,
    }


@desk_required
def patron_block(request, number):
    patron = _patron_or_404(number)
    if request.method != "POST":
        return redirect("desk:patron", number=number)
    if request.POST.get("unblock"):
        patron_services.unblock(patron, actor=request.user)
        messages.success(request, _("The block is lifted."))
        return redirect("desk:patron", number=number)
    form = BlockForm(request.POST)
    if form.is_valid():
        patron_services.block(patron, reason=form.cleaned_data["reason"], actor=request.user)
        messages.success(request, _("The patron is blocked."))
        return redirect("desk:patron", number=number)
    return render(request, "ill/desk/patron.html", _patron_context(patron, block_form=form), status=400)


@desk_required
def patron_unlock_sign_in(request, number):
    """Lift the patron's sign-in lockout (too many wrong passwords), on every device."""
    patron = _patron_or_404(number)
    if request.method != "POST":
        return redirect("desk:patron", number=number)
    if patron_services.unlock_sign_in(patron.user, actor=request.user):
        messages.success(request, _("Sign-in is unlocked: the patron can log in again now."))
    else:
        messages.info(request, _("Sign-in was not locked."))
    return redirect("desk:patron", number=number)


@desk_required
def patron_new_request(request, number, kind):
    """Staff enter a request for a patron (at the counter, by phone): the same intake service, with
    the option to pass the duplicate or copyright rule with a recorded reason."""
    if kind not in FORMS:
        raise Http404
    patron = _patron_or_404(number)
    form = FORMS[kind](request.POST or None, patron=patron)
    overrides = OverrideForm(request.POST or None)
    can_override = request.user.has_perm("ill.override_rules")
    refusals, status = [], 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and overrides.is_valid():
            try:
                created = services.submit_request(
                    patron=patron,
                    request=form.build(),
                    actor=request.user,
                    overrides=overrides.overrides() if can_override else None,
                )
            except rules.RulesRefused as exc:
                refusals = exc.results
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("Request %(number)s has been submitted for %(patron)s.")
                    % {"number": created.number, "patron": patron.full_name},
                )
                return redirect(created.get_desk_url())
    return render(
        request,
        "ill/desk/patron_request_form.html",
        {
            "patron": patron,
            "form": form,
            "kind": kind,
            "overrides": overrides,
            "can_override": can_override,
            "refusals": refusals,
        },
        status=status,
    )
