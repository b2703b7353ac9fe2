"""Bootstrap 5 form markup written in Python, for the forms the patrons and the desk fill in all day.

crispy-forms renders each field through a dozen nested templates: ~50 ms for the request form,
nine tenths of the page. The layouts stay declared with crispy's objects (Layout, Fieldset, Row,
Column, Div, HTML) on `form.helper.layout`; this module walks them and writes the same Bootstrap
structure — label, control, help text, errors with `aria-describedby` and `aria-invalid` — with
`format_html`, leaving only the widget itself to Django's (cached) widget templates.
"""

from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row
from django import forms
from django.forms.boundfield import BoundField
from django.template import Context, Template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

CHECKBOXES = (forms.CheckboxInput,)
CHOICE_LISTS = (forms.RadioSelect, forms.CheckboxSelectMultiple)
SELECTS = (forms.Select, forms.SelectMultiple)


def _control_class(widget) -> str:
    if isinstance(widget, CHECKBOXES):
        return "form-check-input"
    if isinstance(widget, SELECTS) and not isinstance(widget, CHOICE_LISTS):
        return "form-select"
    if isinstance(widget, forms.FileInput):
        return "form-control"
    return "form-control"


def _errors(field: BoundField) -> SafeString:
    return format_html_join(
        "",
        '<div id="error_{}_{}" class="invalid-feedback d-block"><strong>{}</strong></div>',
        ((i, field.auto_id, e) for i, e in enumerate(field.errors, start=1)),
    )


def _help(field: BoundField) -> SafeString:
    if not field.help_text:
        return mark_safe("")
    return format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text)


def _label(field: BoundField, css: str) -> SafeString:
    if not field.label:
        return mark_safe("")
    star = mark_safe('<span class="asteriskField">*</span>') if field.field.required else ""
    return format_html('<label for="{}" class="{}">{}{}</label>', field.id_for_label, css, field.label, star)


def _widget(field: BoundField, extra_class: str = "") -> SafeString:
    widget = field.field.widget
    css = " ".join(filter(None, [_control_class(widget), widget.attrs.get("class", ""), extra_class]))
    attrs = {"class": css}
    described = [f"{field.auto_id}_helptext"] if field.help_text else []
    if field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-invalid"] = "true"
        described += [f"error_{i}_{field.auto_id}" for i in range(1, len(field.errors) + 1)]
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


def render_field(field: BoundField, wrapper_class: str = "mb-3") -> SafeString:
    """One field with its label, help text and errors."""
    widget = field.field.widget
    if field.is_hidden:
        return field.as_widget()
    if isinstance(widget, CHECKBOXES):
        return format_html(
            '<div id="div_{}" class="{}"><div class="form-check">{}{}</div>{}{}</div>',
            field.auto_id,
            wrapper_class,
            _widget(field),
            _label(field, "form-check-label"),
            _errors(field),
            _help(field),
        )
    if isinstance(widget, CHOICE_LISTS):
        kind = "radio" if isinstance(widget, forms.RadioSelect) else "checkbox"
        options = format_html_join(
            "",
            '<div class="form-check"><input type="{}" class="form-check-input{}" name="{}" value="{}" id="{}"{}{}>'
            '<label class="form-check-label" for="{}">{}</label></div>',
            (
                (
                    kind,
                    " is-invalid" if field.errors else "",
                    field.html_name,
                    option.data["value"],
                    option.id_for_label,
                    mark_safe(" checked") if option.data["selected"] else "",
                    mark_safe(" required") if field.field.required and kind == "radio" else "",
                    option.id_for_label,
                    option.choice_label,
                )
                for option in field.subwidgets
            ),
        )
        return format_html(
            '<fieldset id="div_{}" class="{}"><legend class="form-label fs-6">{}{}</legend>{}{}{}</fieldset>',
            field.auto_id,
            wrapper_class,
            field.label,
            mark_safe('<span class="asteriskField">*</span>') if field.field.required else "",
            options,
            _errors(field),
            _help(field),
        )
    return format_html(
        '<div id="div_{}" class="{}">{}{}{}{}</div>',
        field.auto_id,
        wrapper_class,
        _label(field, "form-label"),
        _widget(field),
        _errors(field),
        _help(field),
    )


def _render(item, form: forms.BaseForm, context) -> str:
    if isinstance(item, str):
        return render_field(form[item]) if item in form.fields else ""
    if isinstance(item, HTML):
        return Template(item.html).render(context if isinstance(context, Context) else Context(context or {}))
    inner = "".join(_render(child, form, context) for child in item.fields)
    css = conditional_escape(getattr(item, "css_class", None) or "")
    if isinstance(item, Fieldset):
        legend = conditional_escape(item.legend) if item.legend else ""
        return f'<fieldset class="{css}"><legend class="h6">{legend}</legend>{inner}</fieldset>'
    if isinstance(item, Row):
        return f'<div class="row {css}">{inner}</div>'
    if isinstance(item, Column):
        return f'<div class="{css or "col-md"}">{inner}</div>'
    if isinstance(item, Div):
        return f'<div class="{css}">{inner}</div>'
    if isinstance(item, Layout):
        return inner
    raise TypeError(f"no fast rendering for {type(item).__name__}")


def render_form(form: forms.BaseForm, context=None, errors: bool = True) -> SafeString:
    """The form's non-field errors (unless the page shows them itself), then its crispy layout
    (or every field in order)."""
    errors = (
        format_html_join(
            "", '<div class="alert alert-danger" role="alert">{}</div>', ((e,) for e in form.non_field_errors())
        )
        if errors
        else ""
    )
    helper = getattr(form, "helper", None)
    layout = getattr(helper, "layout", None)
    if layout is None:
        body = "".join(render_field(form[name]) for name in form.fields)
    else:
        body = _render(layout, form, context)  # as crispy: only the fields the layout names
    return mark_safe(errors + body)
