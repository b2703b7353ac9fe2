"""The desk's lender search: what the lender picker (`ill.widgets.LenderPicker`) asks as staff
type, as JSON, and the same list as a small page for a browser without JavaScript."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.text import int_param
from ill import lender_search
from ill.models import Request
from patrons.permissions import desk_required

KEPT = ("request", "delivery", "kind", "include_inactive", "waiting")  # what the page's search keeps


def _params(query) -> dict:
    """The search's parameters from the query string; ValueError for any that makes no sense."""
    params = {"q": lender_search.normalize_query(query.get("q", ""))}
    number = query.get("request", "")
    if number:
        number = lender_search.normalize_query(number)
        request_obj = Request.objects.filter(number=number).first() if len(number) <= 20 else None
        if request_obj is None:
            raise ValueError(_("No request has the number %(number)s.") % {"number": number[:20]})
        params["request"] = request_obj
    delivery = query.get("delivery", "")
    if delivery:
        if delivery not in Request.Delivery.values:
            raise ValueError(_("Unknown delivery: %(value)s.") % {"value": delivery[:20]})
        params["delivery"] = delivery
    kind = query.get("kind", "")
    if kind:
        if kind not in Request.Kind.values:
            raise ValueError(_("Unknown kind of request: %(value)s.") % {"value": kind[:20]})
        params["kind"] = kind
    for flag in ("include_inactive", "waiting"):
        value = query.get(flag, "")
        if value not in ("", "0", "1"):
            raise ValueError(_("%(name)s must be 0 or 1.") % {"name": flag})
        params[flag] = value == "1"
    limit = query.get("limit", "")
    if limit:
        value = int_param(limit)
        if value is None or not 1 <= value <= lender_search.LIMIT:
            raise ValueError(_("limit must be a number from 1 to %(max)d.") % {"max": lender_search.LIMIT})
        params["limit"] = value
    return params


@desk_required
def lenders(request):
    """`?q=` (code, name, kana), `request=` (a request number: only the lenders that could take it,
    priced for it), `delivery=`, `kind=`, `include_inactive=1`, `waiting=1` (lenders with orders
    waiting first), `limit=` (at most 20); `format=json` for the picker. Bad parameters are a 400,
    never a 500."""
    as_json = request.GET.get("format") == "json"
    try:
        params = _params(request.GET)
    except ValueError as exc:
        if as_json:
            return JsonResponse({"error": str(exc)}, status=400)
        return render(request, "ill/desk/lenders.html", {"error": str(exc), "q": ""}, status=400)
    options, more = lender_search.search(**params)
    if as_json:
        response = JsonResponse({"results": [o.as_json() for o in options], "more": more})
        response["Cache-Control"] = "private, max-age=30"
        return response
    return render(
        request,
        "ill/desk/lenders.html",
        {
            "options": options,
            "more": more,
            "q": params["q"],
            "for_request": params.get("request"),
            "keep": [(name, request.GET[name]) for name in KEPT if request.GET.get(name)],
        },
    )
