"""Patron pages: dashboard, the loan and copy forms with a confirmation step, OpenURL links, a
request with its history, cancel, extension, accepting a charge, the profile."""

from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import TooManyFieldsSent
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core import keyset
from core.errors import ServiceError
from core.text import format_yen, localized
from fees import charges, support
from fees import selectors as fees_selectors
from fees.budgets import budget_codes_for, budget_positions
from ill import estimates, notices, openurl, refusals, rules, selectors, services
from ill.forms import FORMS, ExtensionForm
from ill.models import Request
from patrons.forms import ProfileForm


@login_required
def home(request):
    if request.user.has_perm("ill.work_desk"):
        return redirect("desk:home")
    if hasattr(request.user, "patron"):
        return redirect("patron:dashboard")
    if request.user.is_staff:
        return redirect("admin:index")
    raise Http404(_("This login is not linked to a library patron."))


def _patron_or_404(request):
    patron = getattr(request.user, "patron", None)
    if patron is None:
        raise Http404(_("This login is not linked to a library patron."))
    return patron


def _own_request_or_404(request, number) -> Request:
    """A patron sees only their own requests; anything else is a 404, not a 403."""
    patron = _patron_or_404(request)
    return get_object_or_404(
        Request.objects.select_related("pickup_branch", "lender", "budget_code", "patron__laboratory"),
        number=number,
        patron=patron,
    )


FINISHED_SHOWN = 20
FINISHED_PAGE = 50


@login_required
def dashboard(request):
    """What waits for the patron, what is in progress, what they have; the newest finished ones."""
    patron = _patron_or_404(request)
    groups = {key: [] for key in selectors.PATRON_GROUPS}
    show_all = request.GET.get("finished") == "all"
    mine = selectors.requests_for_patron(patron).only(*DASHBOARD_COLUMNS)
    open_requests = mine.filter(status__in=selectors.OPEN_FOR_PATRON)
    finished = mine.exclude(status__in=selectors.OPEN_FOR_PATRON)
    if show_all:  # every finished request, a page at a time (a patron may have years of them)
        finished_page = keyset.paginate(finished, "-submitted_at", FINISHED_PAGE, request.GET.get("cursor", ""))
        shown, finished_hidden = finished_page.rows, 0
    else:
        finished_page = None
        shown = list(finished[: FINISHED_SHOWN + 1])
        finished_hidden = len(shown) > FINISHED_SHOWN
        shown = shown[:FINISHED_SHOWN]
    items = [*open_requests, *shown]
    head, tail = reverse("patron:request", args=[items[0].number]).rsplit(items[0].number, 1) if items else ("", "")
    today, kinds = timezone.localdate(), dict(Request.Kind.choices)
    for item in items:
        group, label = selectors.patron_stage(item)
        charge = getattr(item, "charge", None) if hasattr(item, "charge") else None
        if charge is not None and charge.state in ("due", "awaiting"):
            group = selectors.ACTION_NEEDED
        groups[group].append(_dashboard_row(item, label, charge, f"{head}{item.number}{tail}", today, kinds))
    to_pay = fees_selectors.cash_to_pay(patron)
    return render(
        request,
        "ill/patron/dashboard.html",
        {
            "patron": patron,
            "groups": [(key, selectors.PATRON_GROUPS[key], groups[key]) for key in selectors.PATRON_GROUPS],
            "has_requests": any(groups.values()),
            "finished_hidden": finished_hidden,
            "finished_page": finished_page,
            "active_loans": selectors.active_loan_count(patron),
            "loan_limit": selectors.loan_limit(),
            "to_pay": to_pay,
        },
    )


# What a dashboard line needs, read and nothing more (wide rows cost more to fetch and to compile).
DASHBOARD_COLUMNS = (
    "number",
    "status",
    "kind",
    "title",
    "article_title",
    "author",
    "submitted_at",
    "due_date",
    "close_reason",
    "pickup_branch__name",
    "pickup_branch__name_en",
    "lender__name",
    "lender__name_en",
    "charge__state",
    "charge__payment_class",
    "charge__total",
    "charge__return_postage",
)


@dataclass(frozen=True)
class DashboardRow:
    number: str
    url: str
    status: str
    style: str
    stage: str
    kind: str
    title: str
    submitted: str
    author: str
    due: str
    overdue: bool
    to_pay: str
    awaiting: bool
    pickup: str


def _dashboard_row(item, stage, charge, url, today, kinds) -> DashboardRow:
    """A dashboard line with its texts formatted once (template lookups cost ~1 ms a line)."""
    on_loan = item.status == Request.Status.ON_LOAN and item.due_date is not None
    due_cash = charge is not None and charge.state == "due" and charge.cash_due
    return DashboardRow(
        number=item.number,
        url=url,
        status=item.status,
        style=selectors.STATUS_STYLES.get(item.status, "secondary"),
        stage=str(stage),
        kind=str(kinds.get(item.kind, item.kind)),
        title=item.display_title,
        submitted=date_format(timezone.localtime(item.submitted_at), "SHORT_DATE_FORMAT"),
        author=item.author,
        due=date_format(item.due_date, "SHORT_DATE_FORMAT") if on_loan else "",
        overdue=on_loan and item.due_date < today,
        to_pay=format_yen(charge.cash_due) if due_cash else "",
        awaiting=charge is not None and charge.state == "awaiting",
        pickup=localized(item.pickup_branch) if item.status == Request.Status.ARRIVED else "",
    )


def _form_page(request, form, kind, *, status=200, refusals=(), prefill=None):
    patron = form.patron
    support_budget = support.current_budget()
    return render(
        request,
        "ill/patron/request_form.html",
        {
            "form": form,
            "kind": kind,
            "refusals": refusals,
            "prefill": prefill,
            "active_loans": selectors.active_loan_count(patron),
            "loan_limit": selectors.loan_limit(),
            "support_open": bool(support_budget and support_budget.is_open),
        },
        status=status,
    )


@login_required
def new_request(request, kind):
    """Fill in, confirm (rules passed, cost and time estimates), then submit."""
    if kind not in FORMS:
        raise Http404
    patron = _patron_or_404(request)
    form_class = FORMS[kind]
    if request.method != "POST":
        return _form_page(request, form_class(patron=patron), kind)
    step = request.POST.get("step", "confirm")
    if step == "edit":
        return _form_page(request, form_class(patron=patron, initial=request.POST.dict()), kind)
    form = form_class(request.POST, patron=patron)
    if not form.is_valid():
        refusals.record_form(patron=patron, form=form)  # the copyright facts the form asks for, for the log
        return _form_page(request, form, kind, status=400)
    candidate = form.build()
    if step == "submit":
        try:
            created = services.submit_request(patron=patron, request=candidate, actor=request.user)
        except rules.RulesRefused as exc:
            return _form_page(request, form, kind, status=400, refusals=exc.results)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            return _form_page(request, form, kind, status=exc.status_code)
        messages.success(request, _("Request %(number)s has been submitted.") % {"number": created.number})
        return redirect(created.get_absolute_url())
    results = services.preview(patron=patron, request=candidate, record=True)
    refused = [r for r in results if r.refused]
    if refused:
        return _form_page(request, form, kind, status=400, refusals=refused)
    return render(
        request,
        "ill/patron/request_confirm.html",
        {
            "form": form,
            "kind": kind,
            "item": candidate,
            "results": results,
            "warnings": [r for r in results if r.outcome == rules.WARN],
            "estimate": estimates.estimate(candidate),
            "support": support.eligibility(candidate),
        },
    )


OPENURL_SAVED = "ill:openurl"  # session key: a posted citation, kept while the patron logs in
OPENURL_RELAY = "_relay"  # marks a post from this site's own pages (the relay page, the 414 page)


def _openurl_pairs(request) -> tuple[list[tuple[str, str]], bool]:
    """The link's parameters (query or form) and whether this site's own page posted them. More
    parameters than Django parses (DATA_UPLOAD_MAX_NUMBER_FIELDS) are read from the raw query: the
    OpenURL reader uses the first few hundred anyway."""
    try:
        data = request.POST if request.method == "POST" else request.GET
        pairs = [(key, value) for key, values in data.lists() for value in values]
    except TooManyFieldsSent:
        if request.method == "POST" and request.content_type != "application/x-www-form-urlencoded":
            raise  # a multipart body is consumed already: a 400, as Django answers any such post
        raw = request.body if request.method == "POST" else request.META.get("QUERY_STRING", "")
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=None)[: openurl.MAX_PARAMS + 1]
    relayed = any(key == OPENURL_RELAY and value for key, value in pairs) and _from_this_site(request)
    return [(key, value) for key, value in pairs if key != OPENURL_RELAY], relayed


def _from_this_site(request) -> bool:
    """Whether the browser says this post comes from one of this site's own pages (Origin, or
    Sec-Fetch-Site). Another site could post the relay marker itself; taken at its word, that post
    (without the session cookie) would start a new session and sign the patron out."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        return origin == f"{request.scheme}://{request.get_host()}"
    return request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"


@csrf_exempt  # it only fills in a form (nothing is saved), and link resolvers post from other sites
def openurl_link(request):
    """A link from a link resolver, Google Scholar or a publisher: the right form, prefilled.

    The citation comes as a query (a link) or as a POST form (OpenURL's form transport, for links
    too long for a URL; templates/414.html posts one again). A post from another site comes without
    the session cookie (SameSite=Lax): it is posted again from this site first, so that a patron
    who is logged in stays logged in; one who is not finds the citation again after logging in."""
    if request.method == "POST":
        pairs, relayed = _openurl_pairs(request)
        if not request.user.is_authenticated:
            if not relayed:
                return render(request, "ill/patron/openurl_relay.html", {"pairs": openurl.keep(pairs)})
            request.session[OPENURL_SAVED] = openurl.keep(pairs)
            return redirect_to_login(f"{reverse('openurl')}?saved=1")
    elif not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    else:
        pairs, _relayed = _openurl_pairs(request)
        if pairs == [("saved", "1")] and OPENURL_SAVED in request.session:
            pairs = request.session.pop(OPENURL_SAVED)
    patron = _patron_or_404(request)
    result = openurl.parse_openurl(pairs)
    kind = result.kind if result.kind in FORMS else Request.Kind.COPY
    initial = dict(result.fields)
    if kind == Request.Kind.COPY and not initial.get("title") and initial.get("journal_title"):
        initial["title"] = initial["journal_title"]  # the copy form's title is the journal or book
    if initial.get("place"):
        initial["note"] = "\n".join(filter(None, [str(initial.get("note", "")), str(initial.pop("place"))]))
    initial["material_type"] = result.material_type
    if initial.get("issn") and result.material_type in rules.PERIODICAL_MATERIALS:
        initial["periodical_frequency"] = ""  # the link cannot say how often it appears: the patron chooses
    form = FORMS[kind](patron=patron, initial=initial)
    for name, value in list(initial.items()):
        limit = getattr(form.fields.get(name), "max_length", None)
        if limit and isinstance(value, str) and len(value) > limit:
            form.initial[name] = value[:limit]  # links may carry longer text than the record keeps
    if result.is_empty:
        # Not also "filled in from the link": nothing was. What could not be read is still said.
        messages.warning(request, _("The link carried no usable citation: please fill in the form."))
        for problem in result.problems:
            messages.warning(request, problem)
        return _form_page(request, form, kind)
    return _form_page(request, form, kind, prefill=result)


@login_required
def request_detail(request, number):
    item = _own_request_or_404(request, number)
    return render(request, "ill/patron/request_detail.html", _detail_context(item))


# Where the request is on its way to the patron: its estimate is still worth showing.
ON_ITS_WAY = {Request.Status.SUBMITTED, Request.Status.ORDERED, Request.Status.UNFILLED}
TO_COLLECT = ON_ITS_WAY | {Request.Status.ARRIVED}


def what_to_expect(item: Request) -> dict | None:
    """The estimate of cost and time while the request is on its way (it used to vanish after the
    confirm step), and where, when and with what to collect it (it used to be only in the e-mail)."""
    if item.status not in TO_COLLECT:
        return None
    context = notices.request_context(item)
    expect = {
        "arrived": item.status == Request.Status.ARRIVED,
        "show_estimate": item.status in ON_ITS_WAY,
        "payer": context["payer"],
        "branch": item.pickup_branch,
        "hours": context["hours"],
        "campus_mail": context["campus_mail"] and item.status != Request.Status.SUBMITTED,
        "laboratory": context["laboratory"],
        "cash_due": context["cash_due"],
        "stamps": context["stamps"],
        "return_postage": context["return_postage"],
        "amount": None,
    }
    if expect["show_estimate"]:
        if item.lender_id is not None and item.status == Request.Status.ORDERED:
            expect["amount"] = item.estimate  # what the order to this lender was estimated at
            expect["time"] = estimates.lender_time(
                item.lender, loan=item.is_loan, delivery=item.shipping_method or item.delivery_method
            )
        else:
            expect["estimate"] = estimates.estimate(item)
            expect["time"] = expect["estimate"].time
    return expect


def _detail_context(item: Request, **extra):
    charge = charges.charge_of(item)
    return {
        "expect": what_to_expect(item),
        "item": item,
        "stage": selectors.patron_stage(item)[1],
        "events": item.events.filter(visible_to_patron=True),
        "can_cancel": services.can(item, "cancel"),
        "can_extend": services.can_extend(item),
        "extensions": item.extensions.all(),
        "charge": charge,
        "charge_lines": charge.lines.all() if charge else [],
        "private_hours": settings.ILL_PRIVATE_PICKUP_HOURS,
        "extension_form": ExtensionForm(),
        **extra,
    }


@login_required
@require_POST
def cancel(request, number):
    item = _own_request_or_404(request, number)
    try:
        services.cancel(item, actor=request.user, reason=request.POST.get("reason", "")[:300])
    except ServiceError as exc:
        messages.error(request, str(exc))
        item.refresh_from_db()
        return render(request, "ill/patron/request_detail.html", _detail_context(item), status=exc.status_code)
    messages.success(request, _("Request %(number)s has been cancelled.") % {"number": item.number})
    return redirect(item.get_absolute_url())


@login_required
@require_POST
def extend(request, number):
    item = _own_request_or_404(request, number)
    form = ExtensionForm(request.POST)
    if form.is_valid():
        try:
            services.request_extension(item, actor=request.user, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            messages.error(request, str(exc))
            return render(request, "ill/patron/request_detail.html", _detail_context(item), status=exc.status_code)
        messages.success(
            request, _("Your extension request has been sent. The lending library decides; we will e-mail you.")
        )
        return redirect(item.get_absolute_url())
    return render(request, "ill/patron/request_detail.html", _detail_context(item, extension_form=form), status=400)


@login_required
@require_POST
def accept_charge(request, number):
    item = _own_request_or_404(request, number)
    try:
        services.accept_charge(item, actor=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return render(request, "ill/patron/request_detail.html", _detail_context(item), status=exc.status_code)
    messages.success(request, _("Thank you: the charge is accepted."))
    return redirect(item.get_absolute_url())


@login_required
def profile(request):
    patron = _patron_or_404(request)
    form = ProfileForm(request.POST or None, instance=patron)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            translation.activate(patron.preferred_language)
            messages.success(request, _("Your profile has been saved."))
            response = redirect("patron:profile")
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, patron.preferred_language, max_age=365 * 24 * 3600, samesite="Lax"
            )
            return response
        status = 400
    else:
        status = 200
    codes = list(budget_codes_for(patron).select_related("responsible"))
    positions = budget_positions(codes)
    codes = [(code, positions[code.pk]) for code in codes]
    return render(
        request,
        "ill/patron/profile.html",
        {
            "form": form,
            "patron": patron,
            "codes": codes,
            "active_loans": selectors.active_loan_count(patron),
            "loan_limit": selectors.loan_limit(),
        },
        status=status,
    )
