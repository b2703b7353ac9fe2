"""The staff report pages (DESIGN.md §10) and the two helpers every report page uses.

A report page (here, reports.views_nacsis, reports.views_copyright) is written like this:

    @desk_required
    def my_report(request):
        context = report_context(request)            # {"scope": Scope, "filters": {...}, "notices": [...]}
        tables = my_tables(context["scope"])         # [reports.tables.Table, ...]
        response = export_or_none(request, tables, "ill-my-report")
        if response is not None:                     # ?export=csv|xlsx&table=<slug>
            return response
        return render(request, "reports/my_report.html", {**context, "tables": tables})

and its template extends "reports/base.html" (nav, filters, notices) and includes
"reports/_table.html" with table=t for each Table (chart, table, CSV/XLSX links). The filters are
read from GET: `year` (fiscal year, April–March), `month` (1–12, one month of it), `branch` (a
branch code, or its id); a bad value falls back to the default with a notice on the page, never a
500. The exports' file names are `<stem>-fy2026[-04][-<branch>]-<table slug>.csv|xlsx`.
"""

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import register_converter, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import text
from core.text import format_yen, int_param
from fees.models import current_fiscal_year
from fees.selectors import FISCAL_MONTHS, Period
from patrons.models import Branch
from patrons.permissions import desk_required
from reports import exports, figures, lending
from reports.tables import PERCENT, Scope

FIRST_YEAR, LAST_YEAR = 2000, 2100  # fiscal years a report may ask for
YEARS_OFFERED = 6  # fiscal years in the filter's list, this one first
EXPORT_FORMATS = ("csv", "xlsx")
TEXT_PLAIN = "text/plain; charset=utf-8"

# The sections of /desk/reports/<section>/: slug -> (title, the reports.figures function's name).
SECTIONS = {
    "requests": (gettext_lazy("Requests"), "requests_tables"),
    "fill-rate": (gettext_lazy("Fill rate"), "fill_rate_tables"),
    "turnaround": (gettext_lazy("Turnaround"), "turnaround_tables"),
    # Not "charges": /desk/reports/charges/ is the older charges report (desk:charges_report).
    "charge-totals": (gettext_lazy("Charges"), "charges_tables"),
    "support": (gettext_lazy("Support budget"), "support_tables"),
}


class SectionConverter:
    """<report_section:…> in reports.urls: only the sections above, so that the route shadows no other
    page under /desk/reports/ (the older charges report is /desk/reports/charges/, in ill.urls_desk)."""

    regex = "|".join(re.escape(slug) for slug in SECTIONS)

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(SectionConverter, "report_section")


def section_tables(section: str, scope: Scope) -> list:
    """The Tables of a section, from its reports.figures function."""
    return getattr(figures, SECTIONS[section][1])(scope)


def _fiscal_year(raw, notices) -> int:
    default = current_fiscal_year()
    if raw in (None, ""):
        return default
    year = int_param(raw)
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        notices.append(
            _("“%(value)s” is not a fiscal year; showing %(year)s.")
            % {"value": raw[:20], "year": fiscal_year_label(default)}
        )
        return default
    return year


def _month(raw, notices) -> int | None:
    if raw in (None, ""):
        return None
    month = int_param(raw)
    if month not in FISCAL_MONTHS:
        notices.append(_("“%(value)s” is not a month; showing the whole year.") % {"value": raw[:20]})
        return None
    return month


def _branch(raw, notices) -> Branch | None:
    if raw in (None, ""):
        return None
    raw = raw.strip()[:40].replace("\x00", "")  # PostgreSQL refuses a NUL in a query: no 500
    pk = int_param(raw)
    branch = Branch.objects.filter(pk=pk).first() if pk is not None else Branch.objects.filter(code=raw).first()
    if branch is None:
        notices.append(_("There is no branch “%(value)s”; showing every branch.") % {"value": raw})
    return branch


def report_context(request) -> dict:
    """The scope of a report page from its GET parameters, and what the frame's filters show.

    Returns {"scope": Scope, "filters": dict, "notices": [str]}: `filters` has the chosen `year`,
    `month`, `branch` (a Branch or None), the choices (`years`, `months`, `branches`), `query` (the
    filters as a query string, for links that keep them), `period` (e.g. "FY2026" or "FY2026 · Apr
    2026", in the page's language) and `slug` (for file names: fy2026-04-main)."""
    notices = []
    year = _fiscal_year(request.GET.get("year"), notices)
    month = _month(request.GET.get("month"), notices)
    branch = _branch(request.GET.get("branch"), notices)
    scope = Scope(fiscal_year=year, month=month, branch_id=branch.pk if branch else None)
    period = Period(year, month)
    this_year = current_fiscal_year()
    years = sorted({*range(this_year, this_year - YEARS_OFFERED, -1), year}, reverse=True)
    params = {"year": year}
    if month:
        params["month"] = month
    if branch:
        params["branch"] = branch.code
    fiscal = fiscal_year_label(year)
    return {
        "scope": scope,
        "notices": notices,
        "filters": {
            "year": year,
            "month": month,
            "branch": branch,
            "years": [(y, fiscal_year_label(y)) for y in years],
            "months": [(m.month, date_format(m, "YEAR_MONTH_FORMAT")) for m in Period(year).months()],
            "branches": list(Branch.objects.filter(Q(active=True) | Q(pk=scope.branch_id)).order_by("code")),
            "query": urlencode(params),
            "period": fiscal + (f" · {date_format(period.month_start, 'YEAR_MONTH_FORMAT')}" if month else ""),
            "slug": "-".join(
                part for part in (f"fy{year}", f"{month:02d}" if month else "", branch.code if branch else "") if part
            ),
        },
    }


def fiscal_year_label(year: int) -> str:
    """2026年度（令和8年度） in Japanese, FY2026 in English (core.text, as the admin writes it)."""
    return text.fiscal_year_label(year)


def export_or_none(request, tables, stem: str = "ill-report", context: dict | None = None):
    """The download asked for by `?export=csv|xlsx&table=<slug>` (one of `tables`), or None when
    the request asks for none. An unknown format or table is a 400 with a message; an .xlsx of more
    than exports.XLSX_MAX_ROWS rows is a redirect back to the page with a message pointing to the
    CSV. `context` is report_context(request) when the caller has it (else it is read again)."""
    wanted = request.GET.get("export")
    if wanted is None:
        return None
    if wanted not in EXPORT_FORMATS:
        return HttpResponseBadRequest(_("Exports are CSV or XLSX."), content_type=TEXT_PLAIN)
    slug = request.GET.get("table", "")
    table = next((t for t in tables if t.slug == slug), None)
    if table is None:
        return HttpResponseBadRequest(_("There is no such table on this page."), content_type=TEXT_PLAIN)
    context = context or report_context(request)
    filename = f"{stem}-{context['filters']['slug']}-{table.slug}.{wanted}"
    if wanted == "csv":
        return exports.csv_response(table, filename)
    try:
        return exports.xlsx_response(table, filename)
    except exports.TooManyRows as too_many:
        messages.warning(
            request,
            _("“%(title)s” has more than %(limit)s rows, too many for an Excel file: download it as CSV.")
            % {"title": table.title, "limit": f"{too_many.limit:,}"},
        )
        query = request.GET.copy()
        query.pop("export", None)
        query.pop("table", None)
        return HttpResponseRedirect(f"{request.path}?{query.urlencode()}#table-{table.slug}")


# The index's headline figures: (section, table slug, column key, label), read from the table's
# totals row (its `footer`). A Table may instead carry its own: extra["headline"] = {"label",
# "value", "kind"} (or a list of them).
HEADLINES = (
    ("requests", "by-kind", "total", gettext_lazy("Requests submitted")),
    ("fill-rate", "fill-rate", "rate", gettext_lazy("Fill rate")),
    ("turnaround", "turnaround-months", "sub_median", gettext_lazy("Median days, submitted → arrived")),
    ("charge-totals", "charges-month", "total", gettext_lazy("Charges")),
)
# The table each section shows on the index (else its first table with a chart).
INDEX_TABLES = {"turnaround": "turnaround-months", "support": "support-months"}


@desk_required
def index(request):
    """The year at a glance: the headline figures and one chart of each section."""
    context = report_context(request)
    sections, headlines, shown_tables, every_table = [], [], [], []
    with figures.one_refresh():  # five sections, one refresh of the rollup
        computed = {slug: section_tables(slug, context["scope"]) for slug in SECTIONS}
    for slug, (title, _name) in SECTIONS.items():
        tables = computed[slug]
        every_table.extend(tables)
        headlines.extend(_headlines(slug, tables))
        shown = next((t for t in tables if t.slug == INDEX_TABLES.get(slug)), None)
        shown = shown or next((t for t in tables if t.chart), tables[0] if tables else None)
        sections.append({"slug": slug, "title": title, "table": shown})
        if shown is not None:
            shown_tables.append(shown)
    # Lending (reports.lending, its own page): requests received per month; the received count and
    # the fill rate as a lender among the headlines.
    lending_tables = lending.index_tables(context["scope"])
    headlines.extend(_headlines("lending", lending_tables))
    sections.append(
        {
            "slug": "lending",
            "title": gettext_lazy("Lending"),
            "table": lending_tables[0],
            "url": reverse("reports:lending"),
        }
    )
    shown_tables.append(lending_tables[0])
    response = export_or_none(request, shown_tables, "ill-report", context)
    if response is not None:
        return response
    return render(
        request,
        "reports/index.html",
        {**context, **freshness(every_table), "sections": sections, "headlines": headlines, "section": "index"},
    )


def _headlines(section: str, tables) -> list[dict]:
    found = []
    for table in tables:
        own = table.extra.get("headline")
        if own:
            found.extend(own if isinstance(own, list | tuple) else [own])
    for wanted, slug, key, label in HEADLINES:
        table = next((t for t in tables if t.slug == slug), None) if wanted == section else None
        keys = [column.key for column in table.columns] if table else []
        if table and table.footer and key in keys and keys.index(key) < len(table.footer):
            column = table.columns[keys.index(key)]
            found.append({"label": label, "value": table.footer[keys.index(key)], "kind": column.kind})
    if section == "support":
        found.extend(_support_headline(tables))
    return found


def _support_headline(tables) -> list[dict]:
    """The support budget used: spent and reserved against the total (rows "total", "spent",
    "reserved" of the "support" table, in that order)."""
    table = next((t for t in tables if t.slug == "support"), None)
    if table is None or len(table.rows) < 3 or not all(len(row) > 1 for row in table.rows[:3]):
        return []
    total, spent, reserved = (row[1] for row in table.rows[:3])
    if not all(isinstance(v, int) for v in (total, spent, reserved)) or total <= 0:
        return []
    return [
        {
            "label": _("Support budget used"),
            "value": round(100 * (spent + reserved) / total, 1),
            "kind": PERCENT,
            "detail": _("%(used)s of %(total)s") % {"used": format_yen(spent + reserved), "total": format_yen(total)},
        }
    ]


def freshness(tables) -> dict:
    """When the figures were computed (the figures functions put `computed_at` and `stale` in each
    Table's extra): the oldest time, and whether the page could not bring them up to date."""
    times = [t.extra["computed_at"] for t in tables if t.extra.get("computed_at")]
    return {
        "computed_at": min(times) if times else None,
        "stale": any(t.extra.get("stale") for t in tables),
    }


@desk_required
def section(request, section):
    """All the Tables of one section, with their exports."""
    if section not in SECTIONS:
        raise Http404
    title = SECTIONS[section][0]
    context = report_context(request)
    tables = section_tables(section, context["scope"])
    response = export_or_none(request, tables, "ill-report", context)
    if response is not None:
        return response
    return render(
        request,
        "reports/section.html",
        {**context, **freshness(tables), "tables": tables, "section": section, "section_title": title},
    )
