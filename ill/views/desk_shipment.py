"""Several requests a lender sent together, recorded as one priced shipment."""

from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.text import int_param
from ill import lender_search, services
from ill.forms_desk import (
    ShipmentForm,
    ShipmentLenderForm,
    ShipmentLineFormSet,
)
from ill.models import LendingInstitution, Request
from patrons.permissions import desk_required

# --- shipments -----------------------------------------------------------------------------

SHOWN = 100  # orders listed at once
MAX_LINES = 200  # what one post may carry (ShipmentLineFormSet's max_num)


def _chosen_lender(value: str) -> LendingInstitution | None:
    """The lender of `?lender=`: its code as the picker sends it, or (links, older bookmarks) its id."""
    try:
        lender = lender_search.find_by_code(value)
    except ValueError:
        return None
    if lender is None and int_param(value) is not None:
        lender = LendingInstitution.objects.filter(active=True, pk=int_param(value)).first()
    return lender


def _waiting(request, lender) -> tuple[list, int, str]:
    """The lender's orders waiting to arrive that the page lists: the SHOWN oldest (a parcel holds
    far fewer; the NDL may have hundreds out), or the one found by its request number or the
    lender's reference; on a POST, the ones posted. With how many more are waiting."""
    orders = Request.objects.filter(lender=lender, status=Request.Status.ORDERED)
    find = ""
    if request.method == "POST":
        ids = {int_param(v) for k, v in request.POST.items() if k.startswith("line-") and k.endswith("-request_id")}
        orders = orders.filter(pk__in=sorted(ids - {None})[:MAX_LINES])
    else:
        try:
            find = lender_search.normalize_query(request.GET.get("find", ""))[:100]
        except ValueError:
            find = ""
        if find:
            orders = orders.filter(Q(number=find.upper()) | Q(lender_reference=find))
    waiting = list(orders.select_related("patron").order_by("ordered_at", "pk")[: SHOWN + 1])
    more = 0
    if len(waiting) > SHOWN:
        waiting = waiting[:SHOWN]
        more = orders.count() - SHOWN
    return waiting, more, find


@desk_required
def shipment(request):
    """Record several requests a lender sent together as one priced shipment (DESIGN.md §5)."""
    lender = None
    if request.method == "POST":
        lender_id = request.POST.get("lender")
        form = ShipmentForm(request.POST, initial={"lender": lender_id, "delivery": "mail"})
        if int_param(lender_id) is not None:
            lender = LendingInstitution.objects.filter(active=True, pk=int_param(lender_id)).first()
        picker = ShipmentLenderForm(initial={"lender": lender})
    else:
        picked = request.GET.get("lender", "")
        lender = _chosen_lender(picked) if picked else None
        form = ShipmentForm(initial={"lender": lender.pk if lender else None, "delivery": "mail"})
        # An unknown code comes back with the field's message (English and Japanese).
        picker = ShipmentLenderForm(request.GET if picked and lender is None else None, initial={"lender": lender})
    waiting, more, find = [], 0, ""
    if lender is not None:
        waiting, more, find = _waiting(request, lender)
    by_id = {r.pk: r for r in waiting}
    step = request.POST.get("step", "")
    posted = request.method == "POST" and step in ("preview", "record")
    if posted:
        formset = ShipmentLineFormSet(request.POST, prefix="line")
    else:
        formset = ShipmentLineFormSet(
            prefix="line",
            initial=[
                {"request_id": r.pk, "pages": r.page_count, "colour_pages": r.colour_pages, "use_restriction": "none"}
                for r in waiting
            ],
        )
    preview = None
    status = 200
    if posted:
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            items = [
                services.ArrivedItem(
                    request=by_id[line["request_id"]],
                    pages=line.get("pages"),
                    colour_pages=line.get("colour_pages"),
                    lender_due_date=data.get("lender_due_date"),
                    use_restriction=line.get("use_restriction") or "none",
                )
                for line in formset.cleaned_data
                if line.get("arrived") and line.get("request_id") in by_id
            ]
            try:
                if not items:
                    raise ServiceError(services.SHIPMENT_EMPTY, code="shipment_empty")
                if step == "record":
                    services.record_shipment(
                        lender=data["lender"],
                        items=items,
                        delivery=data["delivery"],
                        actor=request.user,
                        lender_invoice=data["lender_invoice"],
                    )
                    messages.success(
                        request,
                        _("%(count)d arrival(s) recorded; the patrons are being e-mailed.") % {"count": len(items)},
                    )
                    return redirect(f"{reverse('desk:shipment')}?{urlencode({'lender': data['lender'].code})}")
                preview = {
                    "breakdown": services.preview_shipment(data["lender"], items, data["delivery"]),
                    "items": items,
                }
            except ServiceError as exc:
                form.add_error(None, str(exc))
                status = exc.status_code
        else:
            status = 400
    rows = [(line, by_id.get(_line_request_id(line))) for line in formset.forms]
    return render(
        request,
        "ill/desk/shipment.html",
        {
            "form": form,
            "picker": picker,
            "formset": formset,
            "rows": rows,
            "lender": lender,
            "more": more,
            "find": find,
            "preview": preview,
        },
        status=status,
    )


def _line_request_id(line_form):
    return int_param(line_form["request_id"].value())
