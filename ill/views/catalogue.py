"""The national catalogue look-up's endpoints (ill.catalogue): the request forms ask for an
ISBN / ISSN / NCID (JSON), the desk's request page for the CiNii Books holders of an NCID (an
HTML fragment loaded after the page, so the page itself waits for no outside service)."""

from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ill import catalogue
from ill.models import Request
from patrons.permissions import desk_required

MAX_INPUT = 100


def _no_store(response):
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def lookup(request):
    """GET ?kind=isbn|issn|ncid&value=… → {"ok": true, "service", "fields", "link", "message"} or
    {"ok": false, "code", "message"} with a 4xx (the input) or 5xx (the service) status."""
    if not request.user.is_authenticated:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"ok": False, "code": "login", "message": _("Please sign in again.")}, status=401)
        return redirect_to_login(request.get_full_path())
    kind = request.GET.get("kind", "")
    value = request.GET.get("value", "")
    if len(value) > MAX_INPUT:
        failure = catalogue.LookupFailure("invalid")
    else:
        try:
            service, found = catalogue.lookup(kind, value, user=request.user)
        except catalogue.LookupFailure as exc:
            failure = exc
        else:
            name = str(catalogue.SERVICE_NAMES[service])
            return _no_store(
                JsonResponse(
                    {
                        "ok": True,
                        "service": service,
                        "service_name": name,
                        "fields": found["fields"],
                        "link": found["link"],
                        "message": _("Found in %(service)s.") % {"service": name},
                    }
                )
            )
    return _no_store(
        JsonResponse({"ok": False, "code": failure.code, "message": str(failure.message)}, status=failure.status)
    )


@require_GET
@desk_required
def holders(request, ncid):
    """The "Libraries holding this (CiNii Books)" card's body for an NCID (?kind=loan|copy)."""
    kind = request.GET.get("kind", Request.Kind.LOAN)
    context = {"loaded": True, "ncid": ncid}
    status = 200
    try:
        context["holdings"] = catalogue.holdings(ncid[:MAX_INPUT], kind=kind, user=request.user)
    except catalogue.LookupFailure as exc:
        context["failure"] = exc
        status = exc.status
    return _no_store(render(request, "ill/desk/_cinii_holders.html", context, status=status))
