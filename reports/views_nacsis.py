"""The NACSIS-ILL charge-line export and the fee-offset statements (issue 11, item 2):

- /desk/reports/nacsis/                     one month's charge lines (page), CSV streamed, XLSX (one month)
- /desk/reports/offset/                     the imported statements; upload a new one
- /desk/reports/offset/<id>/                one statement: what does not match first, by outcome
- /desk/reports/offset/line/<id>/resolve/   staff mark a mismatch resolved (who, when, note)
- /desk/reports/nacsis/id/<number>/         staff correct a request's NACSIS-ILL ID (from the request page)
"""

import datetime

from django import forms
from django.contrib import messages
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError
from core.text import int_param
from ill.forms_desk import NacsisIdField
from ill.services.ordering import set_nacsis_ill_id
from ill.views.desk_request import _detail_context, request_or_404
from patrons.permissions import desk_required
from reports import nacsis, offset
from reports.models import OffsetLine, OffsetStatement
from reports.views import export_or_none, report_context

PAGE_SIZE = 100
MAX_PAGE = 10_000


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Statement file (明細 CSV)"),
        help_text=gettext_lazy("The detail CSV downloaded from the NACSIS-ILL fee-offset service; UTF-8 or Shift_JIS."),
    )
    month = forms.CharField(
        label=gettext_lazy("Month"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=gettext_lazy("The month the statement covers; leave empty to take it from its update dates."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > offset.MAX_BYTES:
            raise forms.ValidationError(offset.TOO_LARGE, params={"mb": offset.MAX_BYTES // (1024 * 1024)})
        return upload

    def clean_month(self):
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return None
        try:
            month = datetime.datetime.strptime(value[:7], "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("Enter the month as YYYY-MM.")) from None
        if not 2000 <= month.year <= 2100:
            raise forms.ValidationError(_("Enter a month from 2000 to 2100."))
        return month


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("How it was resolved"), max_length=500, widget=forms.TextInput(attrs={"maxlength": 500})
    )


class NacsisIdForm(forms.Form):
    nacsis_ill_id = NacsisIdField()


def _page(request) -> int:
    return min(max(int_param(request.GET.get("page"), 1), 1), MAX_PAGE)


def _query_without(request, *names) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@desk_required
def nacsis_export(request):
    """One month's charges as NACSIS-ILL records (the page a page at a time, no count), the CSV of
    the month (or of the fiscal year, streamed) and the XLSX of one month."""
    if "year" not in request.GET and "month" not in request.GET:
        month = nacsis.last_month()
        fiscal_year = nacsis.fiscal_year_of(month)
        query = request.GET.copy()
        query.update({"year": fiscal_year, "month": month.month})
        return redirect(f"{request.path}?{query.urlencode()}")
    context = report_context(request)
    scope = context["scope"]
    filters = {**context["filters"], "branches": []}  # a charge is the library's, not a branch's
    lenders = nacsis.ALL if request.GET.get("lenders") == nacsis.ALL else nacsis.OFFSET
    period = nacsis.Period(scope.fiscal_year, scope.month)
    if request.GET.get("export") == "xlsx" and scope.month is None:
        messages.warning(request, _("The Excel file covers one month: choose a month, or download the year as CSV."))
        return HttpResponseRedirect(f"{request.path}?{_query_without(request, 'export', 'table')}")
    response = export_or_none(request, [nacsis.table(period, lenders)], "ill-nacsis", context)
    if response is not None:
        return response
    page = _page(request)
    rows, has_next = nacsis.page_of(period, lenders, page, PAGE_SIZE)
    shown = nacsis.table(period, lenders, rows=rows, all_rows=False)
    base_query = _query_without(request, "page")
    return render(
        request,
        "reports/nacsis.html",
        {
            **context,
            "filters": filters,
            "table": shown,
            "lenders": lenders,
            "lender_scopes": list(nacsis.LENDER_SCOPES.items()),
            "page": page,
            "has_next": has_next and page < MAX_PAGE,
            "base_query": base_query,
            "participant_id": offset.our_participant_id(),
        },
    )


@desk_required
def offset_statements(request):
    """The imported statements, newest first, and the form to import one."""
    form = StatementUploadForm()
    status = 200
    problems = []
    if request.method == "POST":
        form = StatementUploadForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                statement = offset.import_statement(
                    upload.read(),
                    file_name=upload.name,
                    month=form.cleaned_data.get("month"),
                    user=request.user,
                )
            except offset.StatementError as exc:
                problems = exc.problems
                form.add_error(None, exc.message)
                if exc.existing is not None:
                    status = 409
            else:
                messages.success(
                    request,
                    _("Statement imported: %(count)s lines, %(mismatches)s to look at.")
                    % {"count": statement.line_count, "mismatches": offset.mismatch_count(statement)},
                )
                return redirect("reports:offset_statement", statement.pk)
    statements = offset.statements_with_open()
    return render(
        request,
        "reports/offset.html",
        {
            "form": form,
            "problems": problems,
            "statements": [(s, offset.mismatch_count(s)) for s in statements],
            "participant_id": offset.our_participant_id(),
            "max_mb": offset.MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


@desk_required
def offset_statement(request, pk):
    """One statement's lines: the mismatches first (or one outcome), a page at a time."""
    statement = get_object_or_404(OffsetStatement.objects.select_related("imported_by"), pk=pk)
    wanted = request.GET.get("outcome", "")
    if wanted and wanted not in OffsetLine.Outcome.values and wanted not in ("mismatches", "open"):
        return HttpResponseBadRequest(_("There is no such outcome."), content_type="text/plain; charset=utf-8")
    page = _page(request)
    lines, has_next = offset.lines_page(statement, wanted, page, PAGE_SIZE)
    counts = offset.counts_of(statement)
    return render(
        request,
        "reports/offset_statement.html",
        {
            "statement": statement,
            "lines": lines,
            "outcome": wanted,
            "outcomes": [(value, label, counts.get(value, 0)) for value, label in OffsetLine.Outcome.choices],
            "mismatches": offset.mismatch_count(statement),
            "open": offset.open_count(statement),
            "page": page,
            "has_next": has_next and page < MAX_PAGE,
            "base_query": _query_without(request, "page"),
            "resolve_form": ResolveForm(),
            "mismatch_outcomes": OffsetLine.MISMATCHES,
        },
    )


@desk_required
def resolve_line(request, pk):
    """Mark one mismatch resolved, with a note (a charge only here: its rows in every statement)."""
    line = get_object_or_404(OffsetLine.objects.select_related("statement"), pk=pk)
    back = reverse("reports:offset_statement", args=[line.statement_id])
    if request.method != "POST":
        return redirect(back)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return HttpResponseRedirect(f"{back}#line-{line.pk}")
    try:
        offset.resolve(line, user=request.user, note=form.cleaned_data["note"])
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Marked resolved."))
    next_query = request.POST.get("next", "")
    return HttpResponseRedirect(f"{back}?{next_query}#line-{line.pk}" if next_query else f"{back}#line-{line.pk}")


@desk_required
def request_nacsis_id(request, number):
    """Record or correct a request's NACSIS-ILL ID (the form on the request page). A bad ID: the
    request page again, with the message under the field (400)."""
    item = request_or_404(number)
    if request.method != "POST":
        return redirect(item.get_desk_url())
    form = NacsisIdForm(request.POST)
    error = None
    if form.is_valid():
        try:
            set_nacsis_ill_id(item, form.cleaned_data["nacsis_ill_id"], actor=request.user)
        except ServiceError as exc:
            error = str(exc)
        else:
            messages.success(request, _("NACSIS-ILL ID saved."))
            return redirect(item.get_desk_url())
    else:
        error = " ".join(str(e) for e in form.errors.get("nacsis_ill_id", []))
    context = {**_detail_context(request_or_404(number)), "nacsis_error": error}
    context["nacsis_value"] = request.POST.get("nacsis_ill_id", "")[:40]
    return render(request, "ill/desk/request_detail.html", context, status=400)
