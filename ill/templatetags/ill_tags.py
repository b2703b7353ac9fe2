from django import template

from core.templatetags import money
from fees.labels import line_label
from ill import barcodes, selectors
from ill.models import Request

register = template.Library()


register.filter("yen", money.yen)


@register.simple_tag
def barcode(value, label=""):
    """A Code 128 bar code of `value` (a request number) as inline SVG."""
    return barcodes.code128_svg(str(value), label=str(label))


@register.filter
def status_style(status):
    return selectors.STATUS_STYLES.get(status, "secondary")


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (for pagination and sorting)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def patron_status(request_obj):
    """The few plain-language states a patron understands."""
    return selectors.patron_stage(request_obj)[1]


@register.filter
def dict_get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def status_label(value):
    """The translated name of a request status value."""
    try:
        return Request.Status(value).label
    except ValueError:
        return value


@register.filter
def charge_line_label(code):
    return line_label(code)


@register.filter
def event_label(event):
    return selectors.event_label(event)


@register.filter
def share_for(breakdown, key):
    try:
        return breakdown.share_for(key)
    except (KeyError, AttributeError):
        return None


@register.simple_tag(takes_context=True)
def sort_query(context, key):
    """The query string sorting by `key`, or by `-key` when already sorted by `key`."""
    current = context.get("sort") or context["request"].GET.get("sort", "")
    return query_with(context, sort=f"-{key}" if current == key else key, page="", cursor="")


@register.simple_tag(takes_context=True)
def sort_mark(context, key):
    current = context.get("sort") or context["request"].GET.get("sort", "")
    return "▲" if current == key else "▼" if current == f"-{key}" else ""
