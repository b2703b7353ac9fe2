"""Template helpers of the report pages: cells written in the page's language, the chart's data for
reports.js, the export links."""

import datetime
from decimal import Decimal

from django import template
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import date_format

from core.text import format_yen
from reports.tables import COUNT, DAYS, PERCENT, TEXT, YEN

register = template.Library()

NUMERIC = (COUNT, YEN, PERCENT, DAYS)
FILTER_KEYS = ("year", "month", "branch")


def format_value(value, kind: str = TEXT) -> str:
    """A cell as the page shows it: 1,234 · ¥1,400 / 1,400円 · 45.3% · 3.5 (days) · a date."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float) and kind in NUMERIC:
        if kind == YEN:
            return format_yen(round(value))
        if kind == PERCENT:
            return f"{value:,.1f}%"
        if kind == DAYS:
            return f"{value:,.1f}"
        return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


@register.filter
def cells(row, columns):
    """[(text, is_number), …] of one row, aligned with the table's columns."""
    kinds = [column.kind for column in columns]
    out = []
    for index, value in enumerate(row or []):
        kind = kinds[index] if index < len(kinds) else TEXT
        out.append((format_value(value, kind), kind in NUMERIC))
    return out


@register.filter
def is_number(column) -> bool:
    return column.kind in NUMERIC


@register.filter
def chart_data(table) -> dict:
    """What reports.js draws: {"kind", "unit", "labels", "series": [{"label", "data"}]}."""
    chart = table.chart
    return {
        "kind": chart.kind,
        "unit": chart.unit,
        "labels": [str(label) for label in chart.labels],
        "series": [{"label": str(label), "data": [_number(v) for v in values]} for label, values in chart.series],
    }


def _number(value):
    """A chart value: a number, or None (a gap) for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


@register.simple_tag(takes_context=True)
def export_url(context, table, fmt):
    """The current page's query string with export=<fmt>&table=<slug> (other parameters kept)."""
    params = context["request"].GET.copy()
    params.pop("page", None)
    filters = context.get("filters")
    if filters:  # the filters as understood (a bad year or branch replaced by the default)
        for key in FILTER_KEYS:
            params.pop(key, None)
        params.update(QueryDict(filters["query"]))
    params["export"] = fmt
    params["table"] = table.slug
    return f"?{params.urlencode()}"


@register.filter
def cell_text(value, kind):
    return format_value(value, kind)
