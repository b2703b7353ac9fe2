"""`{{ amount|yen }}`: whole yen as ¥1,400 in English, 1,400円 in Japanese."""

from django import template

from core.text import format_yen

register = template.Library()


@register.filter
def yen(amount):
    if amount in (None, ""):
        return ""
    return format_yen(int(amount))
