"""Staff desk pages: home with counts, the queue, a request with one form per possible action."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fees import services as fees
from fees.models import Charge
from ill import lifecycle, selectors, services
from ill.errors import ServiceError
from ill.forms_desk import (
    ArrivalForm,
    HandOverForm,
    NoteForm,
    OrderForm,
    PaymentForm,
    RejectForm,
    ReturnForm,
    ShipmentForm,
    ShipmentLineFormSet,
)
from ill.models import Request


def desk_required(view):
    """Logged in and allowed to work the ILL desk; others get a 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm("ill.work_desk"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _request_or_404(number) -> Request:
    return get_object_or_404(
        Request.objects.select_related("patron__user", "patron__laboratory", "pickup_branch", "lender", "budget_code"),
        number=number,
    )


@desk_required
def home(request):
    return render(request, "ill/desk/home.html", {"counts": selectors.desk_counts()})


@desk_required
def queue(request):
    qs = Request.objects.select_related("patron", "pickup_branch", "lender").order_by("-submitted_at")
    status = request.GET.get("status", "")
    if status == "overdue":
        qs = qs.filter(selectors.overdue_q())
    elif status in Request.Status.values:
        qs = qs.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in Request.Kind.values:
        qs = qs.filter(kind=kind)
    q = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    if q:
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(article_title__icontains=q)
            | Q(patron__patron_number__iexact=q)
            | Q(patron__full_name__icontains=q)
            | Q(isbn=q.replace("-", ""))
        )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "ill/desk/queue.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "q": q,
            "statuses": Request.Status.choices,
            "kinds": Request.Kind.choices,
        },
    )


# action name -> (form class, extra form kwargs, service call, success message)
def _do_order(item, form, user):
    services.order(
        item,
        actor=user,
        lenders=form.lenders(),
        lender_reference=form.cleaned_data["lender_reference"],
        shipping_method=form.cleaned_data["shipping_method"],
        note=form.cleaned_data["note"],
    )


def _do_arrival(item, form, user):
    data = form.cleaned_data
    fees.record_shipment(
        lender=item.lender,
        delivery=item.shipping_method or item.delivery_method,
        actor=user,
        items=[
            fees.ArrivedItem(
                request=item,
                pages=data.get("pages"),
                colour_pages=data.get("colour_pages"),
                lender_due_date=data.get("lender_due_date"),
                use_restriction=data["use_restriction"],
                restriction_note=data["restriction_note"],
                adjusted_total=data.get("adjusted_total"),
                adjustment_reason=data.get("adjustment_reason", ""),
            )
        ],
    )


def _do_payment(item, form, user):
    charge = fees.charge_of(item)
    if charge is None:
        raise ServiceError(gettext_lazy("There is no charge to pay for this request."), code="no_charge")
    fees.record_payment(
        charge, amount=form.cleaned_data["amount"], receipt_number=form.cleaned_data["receipt_number"], actor=user
    )


@transaction.atomic
def _do_return(item, form, user):
    from fees.models import Payment

    data = form.cleaned_data
    if data.get("stamps_amount"):
        fees.record_return_postage(item, method=Payment.Method.STAMPS, amount=data["stamps_amount"], actor=user)
    if data.get("postal_barcode"):
        fees.record_return_postage(item, method=Payment.Method.POSTAL_BARCODE, actor=user)
    services.return_by_patron(item, actor=user, note=data.get("note", ""))


def _note_action(service):
    return lambda item, form, user: service(item, actor=user, note=form.cleaned_data.get("note", ""))


ACTIONS = {
    "order": (OrderForm, {}, _do_order, gettext_lazy("Ordered.")),
    "reject": (
        RejectForm,
        {},
        lambda item, form, user: services.reject(
            item, actor=user, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
        ),
        gettext_lazy("Rejected."),
    ),
    "cancel": (
        NoteForm,
        {"submit_label": gettext_lazy("Cancel request"), "submit_class": "btn-outline-danger"},
        lambda item, form, user: services.cancel(item, actor=user, reason=form.cleaned_data["note"]),
        gettext_lazy("Cancelled."),
    ),
    "mark_unfilled": (
        NoteForm,
        {"submit_label": gettext_lazy("Mark unfilled"), "submit_class": "btn-warning"},
        _note_action(services.mark_unfilled),
        gettext_lazy("Marked unfilled."),
    ),
    "record_arrival": (ArrivalForm, {}, _do_arrival, gettext_lazy("Arrival recorded; the patron is being e-mailed.")),
    "payment": (PaymentForm, {}, _do_payment, gettext_lazy("Payment recorded.")),
    "hand_over": (
        HandOverForm,
        {},
        lambda item, form, user: services.hand_over(
            item, actor=user, campus_mail=form.cleaned_data.get("campus_mail", False), note=form.cleaned_data["note"]
        ),
        gettext_lazy("Handed over."),
    ),
    "return_by_patron": (ReturnForm, {}, _do_return, gettext_lazy("Returned by the patron.")),
    "send_back": (
        NoteForm,
        {"submit_label": gettext_lazy("Sent back to the lender")},
        _note_action(services.send_back),
        gettext_lazy("Sent back and closed."),
    ),
    "close_not_collected": (
        NoteForm,
        {"submit_label": gettext_lazy("Close as not collected"), "submit_class": "btn-outline-secondary"},
        _note_action(services.close_not_collected),
        gettext_lazy("Closed as not collected."),
    ),
    "close_unfilled": (
        NoteForm,
        {"submit_label": gettext_lazy("Close as unfilled"), "submit_class": "btn-outline-secondary"},
        _note_action(services.close_unfilled),
        gettext_lazy("Closed as unfilled."),
    ),
}

ACTION_TITLES = {
    "order": gettext_lazy("Order from a lender"),
    "reject": gettext_lazy("Reject"),
    "cancel": gettext_lazy("Cancel on the patron's behalf"),
    "mark_unfilled": gettext_lazy("The lender cannot supply it"),
    "record_arrival": gettext_lazy("Record arrival"),
    "payment": gettext_lazy("Record payment at the counter"),
    "hand_over": gettext_lazy("Hand over to the patron"),
    "return_by_patron": gettext_lazy("Patron returned the book"),
    "send_back": gettext_lazy("Send back to the lender"),
    "close_not_collected": gettext_lazy("Not collected"),
    "close_unfilled": gettext_lazy("Close: no lender can supply it"),
}


# The counter's usual next step first; the rarer ones are folded away on the page.
ACTION_ORDER = [
    "order",
    "record_arrival",
    "payment",
    "hand_over",
    "return_by_patron",
    "send_back",
    "mark_unfilled",
    "close_unfilled",
    "close_not_collected",
    "reject",
    "cancel",
]
SECONDARY_ACTIONS = {"mark_unfilled", "close_not_collected", "reject", "cancel"}


def _available_actions(item: Request, charge: Charge | None) -> list[str]:
    actions = lifecycle.allowed_actions(item.kind, item.status)
    if charge is not None and charge.state == Charge.State.DUE and item.status == Request.Status.ARRIVED:
        actions.append("payment")
    return sorted(actions, key=ACTION_ORDER.index)


def _action_forms(item, charge, bound: dict | None = None):
    forms = []
    for action in _available_actions(item, charge):
        form_class, extra, _run, _msg = ACTIONS[action]
        url = reverse("desk:action", args=[item.number, action])
        if bound and bound["action"] == action:
            form = bound["form"]
        else:
            form = form_class(request_obj=item, action_url=url, **extra)
        forms.append(
            (action, ACTION_TITLES[action], form, action in SECONDARY_ACTIONS and not bound_here(bound, action))
        )
    return forms


def bound_here(bound, action) -> bool:
    return bool(bound and bound["action"] == action)


def _detail_context(item, bound=None):
    charge = fees.charge_of(item)
    return {
        "item": item,
        "charge": charge,
        "charge_lines": charge.lines.all() if charge else [],
        "events": item.events.select_related("actor"),
        "candidates": item.candidates.select_related("lender"),
        "action_forms": _action_forms(item, charge, bound),
        "patron_active_loans": selectors.active_loan_count(item.patron),
        "loan_limit": selectors.loan_limit(),
        "messages_sent": item.messages.order_by("-created_at")[:10],
    }


@desk_required
def request_detail(request, number):
    item = _request_or_404(number)
    return render(request, "ill/desk/request_detail.html", _detail_context(item))


@desk_required
@require_POST
def request_action(request, number, action):
    if action not in ACTIONS:
        raise Http404
    item = _request_or_404(number)
    form_class, extra, run, success = ACTIONS[action]
    url = reverse("desk:action", args=[item.number, action])
    form = form_class(request.POST, request_obj=item, action_url=url, **extra)
    status = 400
    if action not in _available_actions(item, fees.charge_of(item)):
        messages.error(request, _("This action is not possible in the request's current state."))
        status = 409
    elif form.is_valid():
        try:
            run(item, form, request.user)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            status = exc.status_code
        else:
            messages.success(request, success)
            return redirect(item.get_desk_url())
    item.refresh_from_db()
    return render(
        request, "ill/desk/request_detail.html", _detail_context(item, {"action": action, "form": form}), status=status
    )


@desk_required
def shipment(request):
    """Record several requests a lender sent together as one priced shipment (DESIGN.md §5)."""
    lender_id = request.POST.get("lender") or request.GET.get("lender")
    form = ShipmentForm(request.POST or None, initial={"lender": lender_id, "delivery": "mail"})
    lender = None
    if lender_id and str(lender_id).isdigit():
        lender = form.fields["lender"].queryset.filter(pk=lender_id).first()
    waiting = (
        list(
            Request.objects.filter(lender=lender, status=Request.Status.ORDERED)
            .select_related("patron")
            .order_by("ordered_at")
        )
        if lender
        else []
    )
    by_id = {r.pk: r for r in waiting}
    step = request.POST.get("step", "")
    if request.method == "POST" and step in ("preview", "record"):
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
    if request.method == "POST" and step in ("preview", "record"):
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            items = [
                fees.ArrivedItem(
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
                if step == "record":
                    fees.record_shipment(
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
                    return redirect(f"{reverse('desk:shipment')}?lender={data['lender'].pk}")
                if not items:
                    raise ServiceError(fees.SHIPMENT_EMPTY, code="shipment_empty")
                preview = {"breakdown": fees.preview_shipment(data["lender"], items, data["delivery"]), "items": items}
            except ServiceError as exc:
                form.add_error(None, str(exc))
                status = exc.status_code
        else:
            status = 400
    rows = list(zip(formset.forms, [by_id.get(_line_request_id(f)) for f in formset.forms], strict=True))
    return render(
        request,
        "ill/desk/shipment.html",
        {
            "form": form,
            "formset": formset,
            "rows": rows,
            "lender": lender,
            "preview": preview,
        },
        status=status,
    )


def _line_request_id(line_form):
    value = line_form["request_id"].value()
    return int(value) if str(value).isdigit() else None
