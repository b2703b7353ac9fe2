"""Form widgets of the desk.

`LenderPicker` is a text input for a lender's code. Without JavaScript it is just that, with a
`<datalist>` of the best-ranked lenders when the form gives some (`suggestions`); with JavaScript,
`static/js/lender-picker.js` turns every `[data-lender-picker]` input into a Tom Select
search-as-you-type picker fed by the desk's lender search (`/desk/lenders/`, JSON). The server
validates the code either way (`ill.forms_desk.LenderField`, or a `ModelChoiceField` with
`to_field_name="code"`).

Use it in any desk form:

    lender = forms.ModelChoiceField(
        queryset=LendingInstitution.objects.all(), to_field_name="code", required=False,
        widget=LenderPicker(include_inactive=True),
    )

and render the form's media (`{{ form.media }}`) on the page. The HTML is built here, not from a
template: it is rendered up to five times on the order form, and cheaply.
"""

import json
from functools import lru_cache
from urllib.parse import urlencode

from django import forms
from django.forms.renderers import DjangoTemplates
from django.urls import reverse
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

PLACEHOLDER = _("Code or name of the lender")
NO_RESULTS = _("No lender found. Try part of the name or the code.")
LOADING = _("Searching…")
LOOKUP = _("Find a lender's code")
CLEAR = _("Remove this lender")
MORE = _("Only the best matches are shown: type more to narrow them down.")


@lru_cache(maxsize=16)
def _texts(language: str) -> dict:
    """The picker's words, translated once per language (five pickers on the order form)."""
    words = {"placeholder": PLACEHOLDER, "no-results": NO_RESULTS, "loading": LOADING, "clear": CLEAR, "more": MORE}
    return {key: str(text) for key, text in words.items()}


class LenderPicker(forms.TextInput):
    """A lender's code, typed or chosen from a search-as-you-type list (see the module's doc).

    `params` go to the search as query parameters (`request` = a request number to rank and price
    for, `delivery`, `kind`); `delivery_field` names a field of the same form whose value is sent
    as `delivery` when it changes; `value_field` is what the input holds: the lender's "code"
    (default) or its "id"; `suggestions` is a list of (value, label) shown without JavaScript (a
    datalist, rendered once with `list_id` and referred to by the other pickers of the page that
    are given the same `list_id` and no suggestions; a callable is called when rendering);
    `labels` maps values to the label shown for a value already chosen; `lookup_link` (by default
    with suggestions) adds, without JavaScript, a link to the search as a page."""

    class Media:
        css = {"all": ("vendor/tom-select/css/tom-select.bootstrap5.min.css", "css/lender-picker.css")}
        js = ("vendor/tom-select/js/tom-select.complete.min.js", "js/lender-picker.js")

    input_type = "text"

    def __init__(
        self,
        attrs=None,
        *,
        params=None,
        delivery_field: str = "",
        value_field: str = "code",
        include_inactive: bool = False,
        suggestions=None,
        list_id: str = "",
        labels=None,
        lookup_link: bool | None = None,
    ):
        super().__init__(attrs)
        self.params = dict(params or {})
        if include_inactive:
            self.params["include_inactive"] = "1"
        self.delivery_field = delivery_field
        self.value_field = value_field
        self.suggestions = suggestions
        self.list_id = list_id
        self.labels = dict(labels or {})
        self.lookup_link = suggestions is not None if lookup_link is None else lookup_link

    def source_url(self) -> str:
        query = urlencode({k: v for k, v in self.params.items() if v not in (None, "")})
        return reverse("desk:lenders") + (f"?{query}" if query else "")

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        value = self.format_value(value)
        css = final.get("class", "")
        texts = _texts(get_language() or "")
        final.update(
            {
                "type": self.input_type,
                "name": name,
                "class": css if "form-control" in css.split() else f"form-control {css}".strip(),
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": final.get("placeholder", texts["placeholder"]),
                "data-lender-picker": self.source_url(),
                "data-value-field": self.value_field,
                "data-text-no-results": texts["no-results"],
                "data-text-loading": texts["loading"],
                "data-text-clear": texts["clear"],
                "data-text-more": texts["more"],
            }
        )
        if self.delivery_field:
            final["data-delivery-field"] = self.delivery_field
        if value:
            final["value"] = value
            label = self.labels.get(value)
            if label:
                final["data-picker-selected"] = json.dumps([{self.value_field: value, "label": label}])
        suggestions = self.suggestions() if callable(self.suggestions) else self.suggestions
        datalist = ""
        list_id = self.list_id or (f"{final['id']}-suggestions" if final.get("id") else "")
        if list_id and (suggestions or self.list_id):
            final["list"] = list_id
        if suggestions and list_id:
            datalist = format_html(
                '<datalist id="{}">{}</datalist>',
                list_id,
                format_html_join("", '<option value="{}">{}</option>', suggestions),
            )
        lookup = ""
        if self.lookup_link:  # without JavaScript: a page to look a code up
            url = reverse("desk:lenders") + "?" + urlencode({k: v for k, v in self.params.items() if v})
            lookup = format_html('<noscript><a class="small" href="{}" target="_blank">{}</a></noscript>', url, LOOKUP)
        attributes = mark_safe(_attrs({key: v for key, v in final.items() if v is not None}))
        return format_html("<input{}>{}{}", attributes, datalist, lookup)


# --- a form renderer that writes the plain widgets in Python ----------------------------------


def _attrs(attrs) -> str:
    """Django's widgets/attrs.html: False left out, True as a bare name, anything else as text."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget) -> str:
    value = "" if widget["value"] is None else f' value="{conditional_escape(str(widget["value"]))}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _textarea(widget) -> str:
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _select(widget) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{conditional_escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>\n"  # the option's template ends with one
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


_IN_PYTHON = {
    **{
        f"django/forms/widgets/{kind}.html": _input
        for kind in ("text", "number", "date", "email", "checkbox", "hidden")
    },
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
}


class DeskFormRenderer(DjangoTemplates):
    """Django's form renderer, but the plain widgets (text, number, date, e-mail, check box, hidden,
    text area, select) are written in Python, to the character what Django's templates write
    (a test compares them): a widget template costs about 0.1 ms, a select 0.3 ms, and the request
    page renders a dozen of them. Anything else goes to the templates."""

    def render(self, template_name, context, request=None):
        write = _IN_PYTHON.get(template_name)
        if write is None or "widget" not in context:
            return super().render(template_name, context, request=request)
        return mark_safe(write(context["widget"]))


DESK_RENDERER = DeskFormRenderer()
