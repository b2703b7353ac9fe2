"""`{{ obj|label:"field" }}`: what `obj.get_<field>_display()` says, from a table kept per model,
field and language. Django's `get_FOO_display` rebuilds the field's whole choice dictionary (and
translates every label) on each call, about 40 µs; the request page shows some thirty of them."""

from functools import lru_cache

from django import template
from django.utils.translation import get_language

register = template.Library()


@lru_cache(maxsize=256)
def _labels(model, field_name: str, language: str) -> dict:
    field = model._meta.get_field(field_name)
    return {str(value): str(label) for value, label in field.flatchoices}


@register.filter
def label(obj, field_name: str) -> str:
    """The display label of a choice field of `obj` (the stored value when it is not a choice)."""
    if obj is None:
        return ""
    field = obj._meta.get_field(field_name)
    value = getattr(obj, field.attname)
    if value is None:
        return ""
    return _labels(type(obj), field_name, get_language() or "").get(str(value), str(value))
