"""The lending figures (/desk/reports/lending/): what other libraries asked of us and what we supplied."""

from django.shortcuts import render

from patrons.permissions import desk_required
from reports import lending as lending_figures
from reports.views import export_or_none, report_context


@desk_required
def lending(request):
    """Requests received, fill rate, turnaround, our loans, money and copyright as a lender (a branch
    chosen in the filters is not used: a request from another library is not for a branch)."""
    context = report_context(request)
    tables = lending_figures.lending_tables(context["scope"])
    response = export_or_none(request, tables, "ill-lending", context)
    if response is not None:
        return response
    by_slug = {table.slug: table for table in tables}
    lists = [by_slug[slug] for slug in lending_figures.LIST_TABLES if slug in by_slug]
    return render(
        request,
        "reports/lending.html",
        {
            **context,
            "tables": [table for table in tables if table.slug not in lending_figures.LIST_TABLES],
            "lists": lists,
            "headlines": [table.extra["headline"] for table in tables if table.extra.get("headline")],
            "branch_ignored": context["scope"].branch_id is not None,
            "section": "lending",
        },
    )
