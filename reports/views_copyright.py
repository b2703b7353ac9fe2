"""The copyright log (/desk/reports/copyright/) and the annual survey (/desk/reports/survey/)."""

from django.shortcuts import render

from patrons.permissions import desk_required
from reports import copyright as copyright_log_figures
from reports import survey as survey_figures
from reports.views import export_or_none, report_context


@desk_required
def copyright_log(request):
    """Refusals by rule and per month, staff rejections for copyright, every staff override."""
    context = report_context(request)
    tables = copyright_log_figures.copyright_tables(context["scope"])
    response = export_or_none(request, tables, "ill-copyright", context)
    if response is not None:
        return response
    by_slug = {table.slug: table for table in tables}
    return render(
        request,
        "reports/copyright.html",
        {
            **context,
            "tables": tables,
            "charts": [by_slug["copyright-refusals"], by_slug["copyright-by-month"]],
            "lists": [by_slug["copyright-rejections"], by_slug["copyright-overrides"], by_slug["duplicate-overrides"]],
            "others": by_slug["other-refusals"],
            "section": "copyright",
        },
    )


@desk_required
def survey(request):
    """The fiscal year's borrowing counts for MEXT's and the JLA's annual surveys (the month is ignored)."""
    month_ignored = bool(request.GET.get("month"))
    if month_ignored:  # per fiscal year only: the figures, the filters and the file names without it
        query = request.GET.copy()
        query.pop("month")
        request.GET = query
    context = report_context(request)
    scope = context["scope"]
    tables = survey_figures.survey_tables(scope.fiscal_year, branch_id=scope.branch_id)
    response = export_or_none(request, tables, "ill-survey", context)
    if response is not None:
        return response
    return render(
        request,
        "reports/survey.html",
        {
            **context,
            "tables": tables,
            "borrowing": tables[0],
            "lending": tables[1],
            "definitions": tables[2],
            "month_ignored": month_ignored,
            "section": "survey",
        },
    )
