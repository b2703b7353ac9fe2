"""{% catalogue_state as catalogue %}: which look-ups from the national catalogues are on (ill.catalogue)."""

from django import template

from ill import catalogue

register = template.Library()


@register.simple_tag
def catalogue_state() -> dict:
    return {
        "on": catalogue.enabled(),
        "isbn": bool(catalogue.service_for("isbn")),
        "issn": bool(catalogue.service_for("issn")),
        "ncid": bool(catalogue.service_for("ncid")),
        "holdings": catalogue.holdings_enabled(),
        "service_name": catalogue.SERVICE_NAMES.get(catalogue.service(), ""),
    }
