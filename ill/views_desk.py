"""Staff desk pages: the worklists, the queue, a request with one form per possible action,
shipments, patrons (with requests on their behalf), and print-outs."""

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fees import services as fees
from fees.models import Charge
from fees.selectors import budget_codes_for, budget_positions
from ill import intake, lifecycle, rules, selectors, services
from ill.converters import RequestNumberConverter
from ill.errors import ServiceError
from ill.filters import ATTENTION, WORKLISTS, RequestFilter, open_extension
from ill.forms import FORMS
from ill.forms_desk import (
    ArrivalForm,
    BlockForm,
    BulkActionForm,
    GrantExtensionForm,
    HandOverForm,
    NoteForm,
    OrderForm,
    OverrideForm,
    PaymentForm,
    RejectForm,
    ReturnForm,
    ShipmentForm,
    ShipmentLineFormSet,
)
from ill.models import ExtensionRequest, Request
from ill.permissions import desk_required, staff_branch
from ill.utils import int_param
from patrons import services as patron_services
from patrons.models import Branch, Patron

__all__ = ["desk_required"]

PAGE_SIZES = (25, 50, 100)
REQUEST_NUMBER = re.compile(RequestNumberConverter.regex)


def _request_or_404(number) -> Request:
    return get_object_or_404(
        Request.objects.select_related("patron__user", "patron__laboratory", "pickup_branch", "lender", "budget_code"),
        number=number,
    )


@desk_required
def home(request):
    """The counter's day: how many requests wait in each worklist, for the staff member's branch."""
    branches = list(Branch.objects.filter(active=True))
    own = staff_branch(request.user)
    chosen = request.GET.get("branch")
    branch = next((b for b in branches if str(b.pk) == chosen), None) if chosen else (own if chosen is None else None)
    counts = selectors.desk_counts(branch)
    tiles = [(name, label, counts[name]) for name, label in WORKLISTS]
    return render(
        request,
        "ill/desk/home.html",
        {
            "tiles": tiles,
            "branches": branches,
            "branch": branch,
            "counts": counts,
            "attention": ATTENTION,
            "branch_param": branch.pk if branch else "",
        },
    )


@desk_required
def queue(request):
    data = request.GET.copy()
    own = staff_branch(request.user)
    if "branch" not in data and own is not None:
        data["branch"] = str(own.pk)  # staff see every branch but start with their own
    if not data.get("sort"):
        data["sort"] = "-submitted"
    base = Request.objects.select_related("patron", "pickup_branch", "lender").annotate(
        has_open_extension=open_extension()
    )
    filterset = RequestFilter(data, queryset=base)
    rows = filterset.qs if filterset.is_valid() else base.none()
    size = int_param(data.get("size"), 25)
    size = size if size in PAGE_SIZES else 25
    page = Paginator(rows, size).get_page(data.get("page"))
    return render(
        request,
        "ill/desk/queue.html",
        {
            "filter": filterset,
            "page": page,
            "size": size,
            "sizes": PAGE_SIZES,
            "worklists": WORKLISTS,
            "worklist": data.get("worklist", ""),
            "bulk_actions": BulkActionForm.ACTIONS,
        },
        status=200 if filterset.is_valid() else 400,
    )


BULK_SERVICES = {
    "mark_reviewed": lambda item, user: services.mark_reviewed(item, actor=user),
    "notify_arrival": lambda item, user: services.notify_arrival(item, actor=user),
    "send_back": lambda item, user: services.send_back(item, actor=user),
}


@desk_required
def bulk(request):
    """Apply one action to several requests; each succeeds or is refused on its own."""
    if request.method != "POST":
        return redirect("desk:queue")
    data = request.POST.copy()
    data.setlist("selected", [n for n in request.POST.getlist("selected") if REQUEST_NUMBER.fullmatch(n)])
    form = BulkActionForm(data)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("desk:queue")
    if not form.is_valid():
        messages.error(request, _("Choose an action and at least one request."))
        return redirect(back or "desk:queue")
    run = BULK_SERVICES[form.cleaned_data["action"]]
    done, refused = [], []
    for item in form.cleaned_data["selected"]:
        try:
            run(item, request.user)
            done.append(item.number)
        except ServiceError as exc:
            refused.append(f"{item.number}: {exc}")
    if done:
        messages.success(
            request, _("Done for %(count)d request(s): %(numbers)s") % {"count": len(done), "numbers": ", ".join(done)}
        )
    for line in refused:
        messages.error(request, line)
    return redirect(back)


# --- one request ---------------------------------------------------------------------------


def _do_order(item, form, user):
    data = form.cleaned_data
    services.order(
        item,
        actor=user,
        lenders=form.lenders(),
        lender_reference=data["lender_reference"],
        shipping_method=data["shipping_method"],
        note=data["note"],
        estimated_charge=data.get("estimated_charge"),
        patron_accepted=data.get("patron_accepted", False),
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


def _do_return(item, form, user):
    data = form.cleaned_data
    fees.take_back(
        item,
        actor=user,
        stamps=data.get("stamps_amount") or 0,
        postal_barcode=data.get("postal_barcode", False),
        note=data.get("note", ""),
    )


def _open_extension_of(item):
    return item.extensions.filter(state__in=ExtensionRequest.OPEN_STATES).first()


def _extension_action(service, **fields):
    def run(item, form, user):
        extension = _open_extension_of(item)
        if extension is None:
            raise ServiceError(services.EXTENSION_NOT_OPEN, code="extension_answered")
        service(
            extension,
            actor=user,
            note=form.cleaned_data.get("note", ""),
            **{name: form.cleaned_data[name] for name in fields},
        )

    return run


def _note_action(service):
    return lambda item, form, user: service(item, actor=user, note=form.cleaned_data.get("note", ""))


def _note_form(label, style="btn-primary", to_patron=False):
    """Form options; `to_patron` when the note is e-mailed to the patron (and says so)."""
    options = {"submit_label": label, "submit_class": style}
    if to_patron:
        options["note_label"] = gettext_lazy("Message to the patron")
    return options


# action -> (form class, form kwargs, what it does, success message, title)
ACTIONS = {
    "review": (
        NoteForm,
        _note_form(gettext_lazy("Mark as checked"), "btn-outline-primary"),
        _note_action(services.mark_reviewed),
        gettext_lazy("Marked as checked."),
        gettext_lazy("Citation and rules checked"),
    ),
    "order": (OrderForm, {}, _do_order, gettext_lazy("Ordered."), gettext_lazy("Order from a lender")),
    "reject": (
        RejectForm,
        {},
        lambda item, form, user: services.reject(
            item, actor=user, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
        ),
        gettext_lazy("Rejected."),
        gettext_lazy("Reject"),
    ),
    "cancel": (
        NoteForm,
        _note_form(gettext_lazy("Cancel request"), "btn-outline-danger", to_patron=True),
        lambda item, form, user: services.cancel(item, actor=user, reason=form.cleaned_data["note"]),
        gettext_lazy("Cancelled."),
        gettext_lazy("Cancel on the patron's behalf"),
    ),
    "mark_unfilled": (
        NoteForm,
        _note_form(gettext_lazy("Mark unfilled"), "btn-warning"),
        _note_action(services.mark_unfilled),
        gettext_lazy("Marked unfilled."),
        gettext_lazy("The lender cannot supply it"),
    ),
    "record_arrival": (
        ArrivalForm,
        {},
        _do_arrival,
        gettext_lazy("Arrival recorded; the patron is being e-mailed."),
        gettext_lazy("Record arrival"),
    ),
    "notify": (
        NoteForm,
        _note_form(gettext_lazy("E-mail the arrival notice"), "btn-outline-primary"),
        lambda item, form, user: services.notify_arrival(item, actor=user),
        gettext_lazy("The arrival notice is being e-mailed."),
        gettext_lazy("Tell the patron"),
    ),
    "payment": (
        PaymentForm,
        {},
        _do_payment,
        gettext_lazy("Payment recorded."),
        gettext_lazy("Record payment at the counter"),
    ),
    "hand_over": (
        HandOverForm,
        {},
        lambda item, form, user: services.hand_over(
            item, actor=user, campus_mail=form.cleaned_data.get("campus_mail", False), note=form.cleaned_data["note"]
        ),
        gettext_lazy("Handed over."),
        gettext_lazy("Hand over to the patron"),
    ),
    "extension_forward": (
        NoteForm,
        _note_form(gettext_lazy("Asked the lender"), "btn-outline-primary"),
        _extension_action(services.forward_extension),
        gettext_lazy("Extension request sent to the lender."),
        gettext_lazy("Extension requested: ask the lender"),
    ),
    "extension_grant": (
        GrantExtensionForm,
        {},
        _extension_action(services.grant_extension, new_lender_due_date=True),
        gettext_lazy("Extension granted; the patron is being e-mailed."),
        gettext_lazy("The lender granted the extension"),
    ),
    "extension_refuse": (
        NoteForm,
        _note_form(gettext_lazy("Extension refused"), "btn-outline-secondary"),
        _extension_action(services.refuse_extension),
        gettext_lazy("Extension refused; the patron is being e-mailed."),
        gettext_lazy("The lender refused the extension"),
    ),
    "return_by_patron": (
        ReturnForm,
        {},
        _do_return,
        gettext_lazy("Returned by the patron."),
        gettext_lazy("Patron returned the book"),
    ),
    "send_back": (
        NoteForm,
        _note_form(gettext_lazy("Sent back to the lender")),
        _note_action(services.send_back),
        gettext_lazy("Sent back and closed."),
        gettext_lazy("Send back to the lender"),
    ),
    "close_not_collected": (
        NoteForm,
        _note_form(gettext_lazy("Close as not collected"), "btn-outline-secondary"),
        _note_action(services.close_not_collected),
        gettext_lazy("Closed as not collected."),
        gettext_lazy("Not collected"),
    ),
    "close_unfilled": (
        NoteForm,
        _note_form(gettext_lazy("Close as unfilled"), "btn-outline-secondary", to_patron=True),
        _note_action(services.close_unfilled),
        gettext_lazy("Closed as unfilled."),
        gettext_lazy("Close: no lender can supply it"),
    ),
}

# The counter's usual next step first; the rarer ones are folded away on the page.
ACTION_ORDER = [
    "review",
    "order",
    "record_arrival",
    "payment",
    "notify",
    "hand_over",
    "extension_forward",
    "extension_grant",
    "extension_refuse",
    "return_by_patron",
    "send_back",
    "mark_unfilled",
    "close_unfilled",
    "close_not_collected",
    "reject",
    "cancel",
]
SECONDARY_ACTIONS = {"review", "notify", "mark_unfilled", "close_not_collected", "reject", "cancel", "extension_refuse"}


def _available_actions(item: Request, charge: Charge | None) -> list[str]:
    actions = list(lifecycle.allowed_actions(item.kind, item.status))
    if item.status == Request.Status.SUBMITTED and item.reviewed_at is None:
        actions.append("review")
    if item.status == Request.Status.ARRIVED:
        actions.append("notify")
    if charge is not None and charge.state == Charge.State.DUE and charge.cash_due > 0:
        actions.append("payment")  # also after closing as not collected: the patron still owes it
    extension = _open_extension_of(item) if item.status == Request.Status.ON_LOAN else None
    if extension is not None:
        if extension.state == ExtensionRequest.State.REQUESTED:
            actions.append("extension_forward")
        actions += ["extension_grant", "extension_refuse"]
    return sorted(actions, key=ACTION_ORDER.index)


def _action_forms(item, charge, bound: dict | None = None):
    forms = []
    for action in _available_actions(item, charge):
        form_class, extra, _run, _msg, title = ACTIONS[action]
        if bound and bound["action"] == action:
            form = bound["form"]
        else:
            form = form_class(request_obj=item, action_url=reverse("desk:action", args=[item.number, action]), **extra)
        folded = action in SECONDARY_ACTIONS and not (bound and bound["action"] == action)
        forms.append((action, title, form, folded))
    return forms


def _detail_context(item, bound=None):
    charge = fees.charge_of(item)
    return {
        "item": item,
        "charge": charge,
        "charge_lines": charge.lines.all() if charge else [],
        "payments": item.payments.all(),
        "events": item.events.select_related("actor"),
        "candidates": item.candidates.select_related("lender"),
        "extensions": item.extensions.all(),
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
def request_action(request, number, action):
    if action not in ACTIONS:
        raise Http404
    if request.method != "POST":
        return redirect("desk:request", number=number)
    item = _request_or_404(number)
    form_class, extra, run, success, _title = ACTIONS[action]
    form = form_class(
        request.POST, request_obj=item, action_url=reverse("desk:action", args=[item.number, action]), **extra
    )
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
def print_slip(request, number):
    """The request slip for the lender (print-friendly)."""
    item = _request_or_404(number)
    return render(
        request, "ill/desk/print_slip.html", {"item": item, "candidates": item.candidates.select_related("lender")}
    )


@desk_required
def print_band(request, number):
    """The band put around a borrowed book: title, patron, due date, pick-up branch, restrictions."""
    item = _request_or_404(number)
    return render(request, "ill/desk/print_band.html", {"item": item})


# --- shipments -----------------------------------------------------------------------------


@desk_required
def shipment(request):
    """Record several requests a lender sent together as one priced shipment (DESIGN.md §5)."""
    lender_id = request.POST.get("lender") or request.GET.get("lender")
    form = ShipmentForm(request.POST or None, initial={"lender": lender_id, "delivery": "mail"})
    lender = None
    if int_param(lender_id) is not None:
        lender = form.fields["lender"].queryset.filter(pk=int_param(lender_id)).first()
    waiting = []
    if lender is not None:
        waiting = list(
            Request.objects.filter(lender=lender, status=Request.Status.ORDERED)
            .select_related("patron")
            .order_by("ordered_at")
        )
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
                if not items:
                    raise ServiceError(fees.SHIPMENT_EMPTY, code="shipment_empty")
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
                preview = {"breakdown": fees.preview_shipment(data["lender"], items, data["delivery"]), "items": items}
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
            "formset": formset,
            "rows": rows,
            "lender": lender,
            "preview": preview,
        },
        status=status,
    )


def _line_request_id(line_form):
    return int_param(line_form["request_id"].value())


# --- patrons -------------------------------------------------------------------------------


@desk_required
def patrons(request):
    q = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    found = Patron.objects.select_related("laboratory", "home_branch").order_by("patron_number")
    if q:
        from django.db.models import Q

        found = found.filter(
            Q(patron_number__iexact=q)
            | Q(full_name__icontains=q)
            | Q(full_name_kana__icontains=q)
            | Q(user__email__iexact=q)
        )
        if found.count() == 1:
            return redirect("desk:patron", number=found.get().patron_number)
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    return render(request, "ill/desk/patrons.html", {"page": page, "q": q})


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
        **extra,
    }


@desk_required
def patron_block(request, number):
    patron = _patron_or_404(number)
    if request.method != "POST":
        return redirect("desk:patron", number=number)
    if request.POST.get("unblock"):
        patron_services.unblock(patron)
        messages.success(request, _("The block is lifted."))
        return redirect("desk:patron", number=number)
    form = BlockForm(request.POST)
    if form.is_valid():
        patron_services.block(patron, reason=form.cleaned_data["reason"])
        messages.success(request, _("The patron is blocked."))
        return redirect("desk:patron", number=number)
    return render(request, "ill/desk/patron.html", _patron_context(patron, block_form=form), status=400)


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
                created = intake.submit_request(
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


# --- e-mail problems -----------------------------------------------------------------------


@desk_required
def emails(request):
    """Messages that could not be sent (and those still waiting), with a retry button."""
    from notifications import services as notifications
    from notifications.models import OutboxMessage

    if request.method == "POST":
        message_id = int_param(request.POST.get("message"))
        if message_id is None:
            raise Http404
        message = get_object_or_404(OutboxMessage, pk=message_id)
        with transaction.atomic():
            queued = notifications.retry(message)
        if queued:
            messages.success(request, _("The message will be sent again."))
        else:
            messages.info(request, _("This message is not waiting for a retry (it was sent or is being sent)."))
        return redirect("desk:emails")
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).select_related("request")[:200]
    waiting = (
        OutboxMessage.objects.filter(status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING])
        .select_related("request")
        .order_by("created_at")[:200]
    )
    return render(request, "ill/desk/emails.html", {"failed": failed, "waiting": waiting})
