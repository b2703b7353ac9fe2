"""`{% fast_form form %}` and `{{ form.field|fast_field }}`: core.formrender in templates."""

from django import template

from core.formrender import render_field, render_form

register = template.Library()


@register.simple_tag(takes_context=True)
def fast_form(context, form, errors=True):
    return render_form(form, context, errors=errors)


@register.filter
def fast_field(field):
    return render_field(field)
