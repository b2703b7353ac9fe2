"""The lending desk (DESIGN.md §11): the queue with its worklists, entering an incoming request, one
request with its next steps, the pull slips, and the money we are owed (charges and invoices).

Views stay thin: every change goes through `lending.services` (and `lending.money` through it); a
refusal (ServiceError) is shown once with a 4xx, and nothing is half-saved.
"""

import datetime
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import keyset
from core.errors import ServiceError
from core.text import localized
from ill import identifiers
from ill import search as desk_search
from ill.models import LendingInstitution, LocalHolding, LocalHoldingIdentifier
from lending import copyright, money, selectors, services, worklists
from lending.forms import (
    AskRenewalForm,
    CopyDetailsForm,
    GrantRenewalForm,
    HoldingForm,
    IncomingRequestForm,
    NoteActionForm,
    PaymentForm,
    PlainForm,
    QueueSearchForm,
    RecallForm,
    RefuseRenewalForm,
    RequiredNoteForm,
    ShipForm,
    StartCopyingForm,
    UnfilledForm,
    WaiveForm,
    WillSupplyForm,
)
from lending.lifecycle import LENDING, OPEN_STATES, OUT_ON_LOAN_STATES, allowed_actions
from lending.models import BorrowerTerms, Invoice, LendingCharge, LendingRequest, Renewal
from patrons.permissions import desk_required

S = LendingRequest.Status
PAGE_SIZE = 25
HOLDINGS_SHOWN = 20
STATUS_STYLES = {
    S.RECEIVED: "primary",
    S.SEARCHING: "info",
    S.WILL_SUPPLY: "info",
    S.COPYING: "warning",
    S.SHIPPED: "success",
    S.ON_LOAN: "success",
    S.RETURNED: "secondary",
    S.COMPLETED: "light",
    S.UNFILLED: "dark",
    S.CANCELLED: "dark",
}


def is_overdue(item, today: datetime.date) -> bool:
    return item.is_loan and item.status in OUT_ON_LOAN_STATES and item.due_date is not None and item.due_date < today


# --- the queue -----------------------------------------------------------------------------


def search_q(term: str) -> Q:
    """Requests whose lending number, their number, title (of the book, article or journal) or
    identifier matches: three characters or more anywhere (trigram indexes, lending 0003); one or
    two match the start of a title, and anywhere only among the open requests."""
    typed = unicodedata.normalize("NFKC", term)
    if desk_search.is_short(typed):
        number = Q(number__in={typed, typed.upper()})
        anywhere = Q(title__icontains=term) | Q(article_title__icontains=term) | Q(journal_title__icontains=term)
        title = Q(title__istartswith=term) | (Q(status__in=OPEN_STATES) & anywhere)
    else:
        number = Q(number__icontains=typed)
        title = Q(title__icontains=term) | Q(article_title__icontains=term) | Q(journal_title__icontains=term)
        number |= Q(their_reference__icontains=typed)
    return number | Q(their_reference__iexact=typed) | title | desk_search.identifier_q(term)


QUEUE_COLUMNS = (
    "number",
    "kind",
    "status",
    "title",
    "article_title",
    "journal_title",
    "call_number",
    "location",
    "due_date",
    "received_at",
    "recalled_at",
    "their_reference",
    "borrower__code",
    "borrower__name",
    "borrower__name_en",
)
# Sorted by due date where the due date is the point, else the newest first.
DUE_SORTED = {"out", "overdue", "renewals"}
SHELF_SORTED = {"pull"}


@dataclass(frozen=True)
class QueueRow:
    number: str
    url: str
    kind: str
    status: str
    status_label: str
    style: str
    overdue: bool
    recalled: bool
    renewal: bool
    title: str
    borrower: str
    their_reference: str
    shelf: str
    due: str
    received: str


def queue_rows(items, today) -> list[QueueRow]:
    kinds, statuses = dict(LendingRequest.Kind.choices), dict(S.choices)
    rows = []
    for item in items:
        title = item.article_title or item.title
        if item.article_title and (item.journal_title or item.title):
            title = f"{item.article_title} / {item.journal_title or item.title}"
        rows.append(
            QueueRow(
                number=item.number,
                url=reverse("lending:request", args=[item.number]),
                kind=str(kinds.get(item.kind, item.kind)),
                status=item.status,
                status_label=str(statuses.get(item.status, item.status)),
                style=STATUS_STYLES.get(item.status, "secondary"),
                overdue=is_overdue(item, today),
                recalled=item.recalled_at is not None and item.status in OUT_ON_LOAN_STATES,
                renewal=bool(getattr(item, "has_pending_renewal", False)),
                title=Truncator(title).chars(70),
                borrower=f"{localized(item.borrower)} ({item.borrower.code})",
                their_reference=item.their_reference,
                shelf=" · ".join(p for p in (item.call_number, item.location) if p),
                due=date_format(item.due_date, "SHORT_DATE_FORMAT") if item.due_date else "",
                received=date_format(timezone.localtime(item.received_at), "SHORT_DATETIME_FORMAT"),
            )
        )
    return rows


@desk_required
def index(request):
    """The lending queue: each worklist with its count (one query over the open work), and the
    requests of one worklist, of a search, or all open ones, a page at a time (core.keyset)."""
    today = timezone.localdate()
    worklist = request.GET.get("worklist", "")
    search = QueueSearchForm(request.GET)
    status = 200
    if worklist and worklist not in worklists.NAMES:
        messages.error(request, _("There is no such worklist."))
        worklist, status = "", 400
    term = search.term()
    if not search.is_valid():
        for error in search.errors.get("q", []):
            messages.error(request, f"{search.fields['q'].label}: {error}")
        status = 400
    if worklist:
        rows = worklists.open_requests().filter(worklists.worklist_q(worklist, today))
    elif term:
        rows = LendingRequest.objects.filter(search_q(term))
    else:
        rows = worklists.open_requests()
    key = "-received_at"
    if worklist in DUE_SORTED:
        key = "due_date"
    elif worklist in SHELF_SORTED:
        key = "location"
    shown = (
        rows.select_related("borrower").only(*QUEUE_COLUMNS).annotate(has_pending_renewal=worklists.pending_renewal())
    )
    page = keyset.paginate(shown, key, PAGE_SIZE, request.GET.get("cursor", ""))
    count, more = keyset.bounded_count(rows)
    counts = worklists.count_worklists(today)
    return render(
        request,
        "lending/queue.html",
        {
            "tiles": [(name, label, counts[name]) for name, label in worklists.WORKLISTS],
            "attention": worklists.ATTENTION,
            "worklist": worklist,
            "worklist_label": dict(worklists.WORKLISTS).get(worklist, ""),
            "search": search,
            "term": term,
            "page": page,
            "rows": queue_rows(page.rows, today),
            "count": count,
            "count_more": more,
            "unpaid": money_counts(),
        },
        status=status,
    )


def money_counts() -> dict:
    """Unpaid invoices (and of them those past due), for the queue's money tiles: bounded counts."""
    return {
        "invoices": keyset.bounded_count(selectors.open_invoices())[0],
        "overdue_invoices": keyset.bounded_count(selectors.overdue_invoices())[0],
    }


# --- entering an incoming request ---------------------------------------------------------------


@desk_required
def new_request(request):
    """Type in a request another library sent by NACSIS-ILL, e-mail or FAX."""
    status = 200
    if request.method == "POST":
        form = IncomingRequestForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            borrower, reference = data["borrower"], data.get("their_reference", "")
            existing = (
                LendingRequest.objects.filter(borrower=borrower, their_reference=reference).first()
                if reference
                else None
            )
            if existing is not None:
                messages.info(
                    request,
                    _("This request of %(library)s (their number %(reference)s) was already entered as %(number)s.")
                    % {"library": localized(borrower), "reference": reference, "number": existing.number},
                )
                return redirect("lending:request", number=existing.number)
            try:
                item = services.receive(
                    borrower=borrower,
                    kind=data["kind"],
                    source=data["source"],
                    actor=request.user,
                    **form.service_fields(),
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
                status = exc.status_code
            else:
                messages.success(request, _("Received as %(number)s.") % {"number": item.number})
                return redirect("lending:request", number=item.number)
        else:
            status = 400
    else:
        form = IncomingRequestForm(initial={"kind": request.GET.get("kind", "copy")})
    return render(request, "lending/new_request.html", {"form": form}, status=status)


# --- one request ---------------------------------------------------------------------------


def request_or_404(number) -> LendingRequest:
    return get_object_or_404(
        LendingRequest.objects.select_related("borrower", "holding", "entered_by", "copyright_override_by"),
        number=number,
    )


def terms_of(borrower) -> BorrowerTerms | None:
    try:
        return borrower.borrower_terms
    except BorrowerTerms.DoesNotExist:
        return None


def pending_renewal_of(item) -> Renewal | None:
    if not item.is_loan:
        return None
    return item.renewal_requests.filter(decision=Renewal.Decision.PENDING).first()


WAIVABLE = frozenset({LendingCharge.State.OPEN, LendingCharge.State.OFFSET_RECORDED})


def next_steps(item, renewal: Renewal | None, charge=None) -> list[str]:
    """What staff may do next: the lifecycle's moves for the request's kind and status, then the
    loan's own questions while it is out (a renewal to record or answer, a recall), waiving our
    charge while it is not paid nor on an invoice, then a note."""
    steps = list(allowed_actions(item.kind, item.status))
    if item.status in (S.WILL_SUPPLY, S.COPYING):
        steps.append("set_holding")
    if item.kind == LendingRequest.Kind.COPY and item.status in services.COPY_DETAIL_STATES:
        steps.append("copy_details")
    if item.is_loan and item.status in OUT_ON_LOAN_STATES:
        steps += ["renewal_grant", "renewal_refuse"] if renewal is not None else ["renewal_ask"]
        steps.append("recall")
    if charge is not None and charge.state in WAIVABLE and charge.total:
        steps.append("waive")
    steps.append("note")
    return steps


# Folded away under the main steps: what a day seldom needs.
SECONDARY = {"cancel", "mark_unfilled", "recall", "renewal_ask", "note", "set_holding", "copy_details", "waive"}


def _note(data):
    return data.get("note", "")


# action -> (form class, form options, what it does, success message)
ACTIONS = {
    "search": (
        PlainForm,
        {"submit_label": gettext_lazy("Look on our shelves"), "submit_class": "btn-outline-primary"},
        lambda item, d, user, renewal: services.search(item, actor=user),
        gettext_lazy("Marked as being searched for."),
    ),
    "will_supply": (
        WillSupplyForm,
        {},
        lambda item, d, user, renewal: services.will_supply(item, actor=user, holding=d.get("holding"), note=_note(d)),
        gettext_lazy("We will supply it."),
    ),
    "set_holding": (
        HoldingForm,
        {},
        lambda item, d, user, renewal: services.set_holding(item, actor=user, holding=d.get("holding")),
        gettext_lazy("Holding changed."),
    ),
    "copy_details": (
        CopyDetailsForm,
        {},
        lambda item, d, user, renewal: services.record_copy_details(item, actor=user, **d),
        gettext_lazy("Details saved."),
    ),
    "mark_unfilled": (
        UnfilledForm,
        {},
        lambda item, d, user, renewal: services.mark_unfilled(item, actor=user, reason=d["reason"], note=_note(d)),
        gettext_lazy("Marked unfilled; the reason goes back to them."),
    ),
    "cancel": (
        NoteActionForm,
        {"submit_label": gettext_lazy("Cancelled at their request"), "submit_class": "btn-outline-danger"},
        lambda item, d, user, renewal: services.cancel(item, actor=user, note=_note(d)),
        gettext_lazy("Cancelled."),
    ),
    "start_copying": (
        StartCopyingForm,
        {},
        lambda item, d, user, renewal: services.start_copying(
            item, actor=user, override_reason=d.get("override_reason", "")
        ),
        gettext_lazy("Copying."),
    ),
    "ship": (
        ShipForm,
        {},
        lambda item, d, user, renewal: services.ship(
            item,
            actor=user,
            shipping_method=d["shipping_method"],
            due_date=d.get("due_date"),
            charge=d.get("charge"),
            note=_note(d),
        ),
        gettext_lazy("Shipped."),
    ),
    "mark_received": (
        PlainForm,
        {"submit_label": gettext_lazy("They received it")},
        lambda item, d, user, renewal: services.mark_received(item, actor=user),
        gettext_lazy("Recorded: they received our book."),
    ),
    "record_return": (
        PlainForm,
        {"submit_label": gettext_lazy("Our book is back")},
        lambda item, d, user, renewal: services.record_return(item, actor=user),
        gettext_lazy("Return recorded."),
    ),
    "complete": (
        PlainForm,
        {"submit_label": gettext_lazy("Complete")},
        lambda item, d, user, renewal: services.complete(item, actor=user),
        gettext_lazy("Completed."),
    ),
    "recall": (
        RecallForm,
        {},
        lambda item, d, user, renewal: services.recall(item, actor=user, new_due_date=d["new_due_date"], note=_note(d)),
        gettext_lazy("Recalled."),
    ),
    "renewal_ask": (
        AskRenewalForm,
        {},
        lambda item, d, user, renewal: services.ask_renewal(
            item, wanted_until=d.get("wanted_until"), note=_note(d), actor=user
        ),
        gettext_lazy("Renewal request recorded."),
    ),
    "renewal_grant": (
        GrantRenewalForm,
        {},
        lambda item, d, user, renewal: services.decide_renewal(
            renewal, actor=user, grant=True, new_due_date=d["new_due_date"], note=_note(d)
        ),
        gettext_lazy("Renewal granted."),
    ),
    "renewal_refuse": (
        RefuseRenewalForm,
        {},
        lambda item, d, user, renewal: services.decide_renewal(renewal, actor=user, grant=False, note=_note(d)),
        gettext_lazy("Renewal refused."),
    ),
    "waive": (
        WaiveForm,
        {},
        lambda item, d, user, renewal: services.waive(item.charge, actor=user, reason=d["reason"]),
        gettext_lazy("Charge waived."),
    ),
    "note": (
        RequiredNoteForm,
        {"submit_label": gettext_lazy("Add the note"), "submit_class": "btn-outline-secondary"},
        lambda item, d, user, renewal: services.add_note(item, actor=user, note=d["note"]),
        gettext_lazy("Note added."),
    ),
}

TITLES = {
    "renewal_ask": gettext_lazy("They ask to renew"),
    "renewal_grant": gettext_lazy("Renewal asked: grant"),
    "renewal_refuse": gettext_lazy("Renewal asked: refuse"),
    "recall": gettext_lazy("Recall our book"),
    "note": gettext_lazy("Add a note"),
    "set_holding": gettext_lazy("Supply from another holding"),
    "copy_details": gettext_lazy("Pages and details of the copy"),
    "waive": gettext_lazy("Waive our charge"),
}


def action_title(action: str) -> str:
    if action in TITLES:
        return TITLES[action]
    label = str(LENDING.label(action))
    return label[:1].upper() + label[1:]


def find_holdings(term: str) -> list[LocalHolding]:
    """Our holdings matching an ISBN, ISSN or NCID exactly, or a title (three characters or more
    anywhere, through the trigram index of lending 0003; shorter, the start of the title)."""
    term = desk_search.clean(term)
    if not term:
        return []
    q = Q()
    for scheme in (
        LocalHoldingIdentifier.Scheme.ISBN,
        LocalHoldingIdentifier.Scheme.ISSN,
        LocalHoldingIdentifier.Scheme.NCID,
    ):
        try:
            value = identifiers.normalize_identifier(scheme, term)
        except (identifiers.IdentifierError, ValueError):
            continue
        if value:
            q |= Q(identifiers__scheme=scheme, identifiers__value=value)
    q |= Q(title__istartswith=term) if desk_search.is_short(term) else Q(title__icontains=term)
    ids = LocalHolding.objects.filter(q).order_by().values_list("pk", flat=True).distinct()[:HOLDINGS_SHOWN]
    return list(LocalHolding.objects.filter(pk__in=list(ids)).order_by("title", "pk"))


def found_holdings(item, term: str) -> list[LocalHolding]:
    """What the will-supply form offers: a search's results, or those matching the request's identifiers."""
    if term:
        return find_holdings(term)
    found = []
    for value in (item.isbn, item.issn, item.ncid):
        if value:
            found += [h for h in find_holdings(value) if h not in found]
    return found[:HOLDINGS_SHOWN]


def _form_options(item, action, context) -> dict:
    options = {"auto_id": f"id_{action}_%s"}
    if action in ("will_supply", "set_holding"):
        options["holdings"] = context["holdings"]
    elif action == "mark_unfilled" and context["refusals"]:
        options["refusal_note"] = context["refusal_note"]
    elif action == "start_copying":
        options["refusals"] = context["refusals"]
        options["may_override"] = context["may_override"]
    elif action == "ship":
        options["default_due"] = context["default_due"]
    elif action in ("renewal_grant", "renewal_refuse"):
        options["renewal"] = context["renewal"]
    return options


def _make_form(item, action, context, data=None):
    form_class, extra, _run, _msg = ACTIONS[action]
    return form_class(
        data,
        request_obj=item,
        action_url=reverse("lending:action", args=[item.number, action]),
        **_form_options(item, action, context),
        **extra,
    )


def _charge_preview(item, shipping_method: str):
    """The charge our fee schedule would ask for this shipment, or the reason it cannot price it."""
    try:
        breakdown = money.price_request(item, shipping_method=shipping_method)
    except ServiceError as exc:
        return None, 0, str(exc)
    return breakdown, money.included_tax(money.calculator_schedule_for(item.borrower), breakdown), ""


def _detail_context(request, item, bound: dict | None = None) -> dict:
    renewal = pending_renewal_of(item)
    charge = charge_of(item)
    steps = next_steps(item, renewal, charge)
    refusals = copyright.check(item) if "start_copying" in steps else []
    loan_days = getattr(settings, "LENDING_LOAN_DAYS", 30)
    context = {
        "item": item,
        "renewal": renewal,
        "refusals": refusals,
        "refusal_note": copyright.unfilled_note(refusals) if refusals else "",
        "may_override": request.user.has_perm("lending.override_copyright"),
        "default_due": timezone.localdate() + datetime.timedelta(days=loan_days),
        "holding_term": desk_search.clean(request.GET.get("holding_q", "")),
    }
    wants_holdings = "will_supply" in steps or "set_holding" in steps
    context["holdings"] = found_holdings(item, context["holding_term"]) if wants_holdings else []
    forms = []
    for action in steps:
        if bound and bound["action"] == action:
            form = bound["form"]
        else:
            form = _make_form(item, action, context)
        folded = action in SECONDARY and not (bound and bound["action"] == action)
        if action == "set_holding" and context["holding_term"]:
            folded = False  # staff searched our catalogue: show the choice
        forms.append((action, action_title(action), form, folded))
    if "ship" in steps:
        method = item.shipping_method or item.delivery_method
        if bound and bound["action"] == "ship" and bound["form"].is_bound:
            method = bound["form"].data.get("shipping_method", method)
        context["preview"], context["preview_tax"], context["preview_error"] = _charge_preview(item, method)
        context["preview_method"] = method
    context.update(
        {
            "action_forms": forms,
            "next_actions": steps,
            "has_main_step": any(not folded for _a, _t, _f, folded in forms),
            "terms": terms_of(item.borrower),
            "events": list(item.events.select_related("actor")),
            "renewals": list(item.renewal_requests.all()) if item.is_loan else [],
            "overdue": is_overdue(item, timezone.localdate()),
            "status_style": STATUS_STYLES.get(item.status, "secondary"),
            "charge": charge,
        }
    )
    return context


def charge_of(item):
    """The request's LendingCharge (one per shipped request), or None."""
    try:
        return item.charge
    except LendingCharge.DoesNotExist:
        return None


@desk_required
def request_detail(request, number):
    item = request_or_404(number)
    return render(request, "lending/request_detail.html", _detail_context(request, item))


@desk_required
def request_action(request, number, action):
    if action not in ACTIONS:
        raise Http404
    if request.method != "POST":
        return redirect("lending:request", number=number)
    item = request_or_404(number)
    renewal = pending_renewal_of(item)
    _form_class, _extra, run, success = ACTIONS[action]
    context = {
        "holdings": [],
        "refusals": copyright.check(item) if action == "start_copying" else [],
        "refusal_note": "",
        "may_override": request.user.has_perm("lending.override_copyright"),
        "default_due": None,
        "renewal": renewal,
    }
    form = _make_form(item, action, context, request.POST)
    status = 400
    if action not in next_steps(item, renewal, charge_of(item)):
        messages.error(request, _("This action is not possible in the request's current state."))
        status = 409
    elif form.is_valid():
        try:
            run(item, form.details() if action == "copy_details" else form.cleaned_data, request.user, renewal)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            status = exc.status_code
        else:
            messages.success(request, success)
            return redirect("lending:request", number=item.number)
    item = request_or_404(number)  # as it is now: the failed attempt changed nothing
    form.request_obj = item
    bound = {"action": action, "form": form}
    return render(request, "lending/request_detail.html", _detail_context(request, item, bound), status=status)


# --- print-outs ------------------------------------------------------------------------------

PULL_SLIPS_AT_ONCE = 200


@desk_required
def pull_slip(request, number):
    """The slip that goes to the shelves and then with the item: our call number and location, the
    lending number as a bar code, the borrower, the citation, the due date of a loan."""
    item = request_or_404(number)
    return render(request, "lending/pull_slips.html", {"items": [item], "single": item})


@desk_required
def pull_slips(request):
    """Every request of the "to pull" worklist, one slip a page, in shelf order."""
    items = list(
        worklists.open_requests()
        .filter(worklists.worklist_q("pull"))
        .select_related("borrower")
        .order_by("location", "call_number", "received_at", "pk")[:PULL_SLIPS_AT_ONCE]
    )
    return render(request, "lending/pull_slips.html", {"items": items, "single": None})


# --- money: charges to invoice, invoices, payments ----------------------------------------------


@desk_required
def charges(request):
    """The borrowing libraries with charges waiting for an invoice (open, settled by invoice), with
    how many and how much: one grouped query over the unsettled charges (index lending_charge_unsettled)."""
    groups = list(
        LendingCharge.objects.filter(state=LendingCharge.State.OPEN, settlement=LendingCharge.Settlement.INVOICE)
        .values("borrower")
        .annotate(n=Count("pk"), total=Sum("total"))
        .order_by()
    )
    libraries = LendingInstitution.objects.in_bulk([g["borrower"] for g in groups])
    rows = sorted(
        ({"library": libraries[g["borrower"]], "n": g["n"], "total": g["total"]} for g in groups),
        key=lambda row: row["library"].code,
    )
    status = 200
    if request.method == "POST":  # the fee-offset charges were entered on the statement
        chosen = [int(v) for v in request.POST.getlist("charge") if v.isascii() and v.isdigit() and len(v) < 12]
        reference = request.POST.get("statement_ref", "").strip()[:100]
        try:
            done = services.record_offset(chosen, actor=request.user, statement_ref=reference)
        except ServiceError as exc:
            messages.error(request, str(exc))
            status = exc.status_code
        else:
            messages.success(request, _("%(count)d charge(s) entered for fee-offset.") % {"count": len(done)})
            return redirect("lending:charges")
    offset = list(selectors.offsettable_charges()[:OFFSET_SHOWN])
    return render(
        request,
        "lending/charges.html",
        {"rows": rows, "offset": offset, "offset_total": sum(c.total for c in offset), "offset_shown": OFFSET_SHOWN},
        status=status,
    )


OFFSET_SHOWN = 300


def _borrower_or_404(code) -> LendingInstitution:
    return get_object_or_404(LendingInstitution, code=code)


@desk_required
def borrower_charges(request, code):
    """One library's charges waiting for an invoice; "issue invoice" puts the chosen ones on one."""
    borrower = _borrower_or_404(code)
    status = 200
    if request.method == "POST":
        chosen = [int(v) for v in request.POST.getlist("charge") if v.isascii() and v.isdigit() and len(v) < 12]
        try:
            invoice = services.issue_invoice(borrower, chosen, actor=request.user)
        except ServiceError as exc:
            messages.error(request, str(exc))
            status = exc.status_code
        else:
            messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
            return redirect("lending:invoice", number=invoice.number)
    items = list(selectors.invoiceable_charges(borrower)[:500])
    return render(
        request,
        "lending/borrower_charges.html",
        {
            "borrower": borrower,
            "terms": terms_of(borrower),
            "items": items,
            "total": sum(c.total for c in items),
            "open_invoices": list(selectors.open_invoices(borrower)[:50]),
        },
        status=status,
    )


INVOICE_STATES = {
    "unpaid": Q(cancelled=False, paid_on__isnull=True),
    "paid": Q(paid_on__isnull=False),
    "cancelled": Q(cancelled=True),
    "all": Q(),
}


@desk_required
def invoices(request):
    """Our invoices, unpaid first by due date, or paid / cancelled / all by date, a page at a time."""
    state = request.GET.get("state", "unpaid")
    status = 200
    if state not in INVOICE_STATES:
        messages.error(request, _("Unknown invoice state."))
        state, status = "unpaid", 400
    rows = Invoice.objects.filter(INVOICE_STATES[state]).select_related("borrower")
    key = "due_on" if state == "unpaid" else "-issued_on"
    page = keyset.paginate(rows, key, PAGE_SIZE, request.GET.get("cursor", ""))
    count, more = keyset.bounded_count(rows)
    return render(
        request,
        "lending/invoices.html",
        {
            "page": page,
            "state": state,
            "states": [
                ("unpaid", _("Unpaid")),
                ("paid", _("Paid")),
                ("cancelled", _("Cancelled")),
                ("all", _("All")),
            ],
            "count": count,
            "count_more": more,
            "today": timezone.localdate(),
        },
        status=status,
    )


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    their_reference: str
    what: str
    shipped: datetime.datetime | None
    total: int


def invoice_lines(invoice) -> list[InvoiceLine]:
    """The invoice's lines: from its charges while they are on it; a cancelled invoice's charges went
    back to be invoiced again, so its lines are those kept as issued (`Invoice.lines`)."""
    charges = list(invoice.charges.select_related("request").order_by("request__number"))
    kinds = dict(LendingRequest.Kind.choices)
    if charges:
        return [
            InvoiceLine(
                number=c.request.number,
                their_reference=c.request.their_reference,
                what=f"{kinds.get(c.request.kind, c.request.kind)}: "
                + " / ".join(p for p in (c.request.article_title, Truncator(c.request.title).chars(80)) if p),
                shipped=c.request.shipped_at,
                total=c.total,
            )
            for c in charges
        ]
    kept = getattr(invoice, "lines", None) or []
    return [
        InvoiceLine(
            number=str(line.get("request", "")),
            their_reference="",
            what=str(line.get("title", "")),
            shipped=None,
            total=int(line.get("total") or 0),
        )
        for line in kept
        if isinstance(line, dict)
    ]


def _invoice_context(invoice, payment_form) -> dict:
    terms = terms_of(invoice.borrower)
    rate = getattr(invoice, "tax_rate_percent", None)  # as issued; older invoices: our schedule's
    return {
        "invoice": invoice,
        "terms": terms,
        "lines": invoice_lines(invoice),
        "issuer": invoice.issuer or money.issuer_details(),
        "bank": invoice.bank_details or money.bank_details(),
        "tax_rate": rate or money.current_schedule().tax_rate_percent,
        "payment_form": payment_form,
        "overdue": invoice.is_open and invoice.due_on < timezone.localdate(),
    }


def _invoice_or_404(number) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("borrower"), number=number)


@desk_required
def invoice(request, number):
    """The invoice as printed (our issuer and bank details, the lines, the total and its consumption
    tax) with, on screen only, the form to record its payment."""
    item = _invoice_or_404(number)
    form = PaymentForm(initial={"amount": item.total, "paid_on": timezone.localdate()}) if item.is_open else None
    return render(request, "lending/invoice.html", _invoice_context(item, form))


@desk_required
def invoice_cancel(request, number):
    """Cancel an unpaid invoice made by mistake: its charges can be invoiced again."""
    item = _invoice_or_404(number)
    if request.method != "POST":
        return redirect("lending:invoice", number=number)
    try:
        services.cancel_invoice(item, actor=request.user, reason=request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, str(exc))
        item = _invoice_or_404(number)
        form = PaymentForm(initial={"amount": item.total, "paid_on": timezone.localdate()}) if item.is_open else None
        return render(request, "lending/invoice.html", _invoice_context(item, form), status=exc.status_code)
    messages.success(request, _("Invoice %(number)s cancelled.") % {"number": item.number})
    return redirect("lending:invoice", number=number)


@desk_required
def invoice_payment(request, number):
    item = _invoice_or_404(number)
    if request.method != "POST":
        return redirect("lending:invoice", number=number)
    form = PaymentForm(request.POST)
    status = 400
    if not item.is_open:
        messages.error(request, _("This invoice is not open for payment."))
        status = 409
    elif form.is_valid():
        try:
            services.record_payment(
                item, actor=request.user, paid_on=form.cleaned_data["paid_on"], amount=form.cleaned_data["amount"]
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            status = exc.status_code
        else:
            messages.success(request, _("Payment of invoice %(number)s recorded.") % {"number": item.number})
            return redirect("lending:invoice", number=item.number)
    item = _invoice_or_404(number)
    return render(
        request, "lending/invoice.html", _invoice_context(item, form if item.is_open else None), status=status
    )
