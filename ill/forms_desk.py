"""Forms for the staff actions on a request; each feeds one lifecycle or fees service.

The action forms are rendered by `templates/ill/desk/_action_form.html` (Bootstrap markup written
by hand: crispy-forms' per-field templates cost most of the request page's time).
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core import bounds
from core.text import format_yen
from fees import charges
from ill import lender_search
from ill.models import (
    NACSIS_ILL_ID_INVALID,
    NACSIS_ILL_ID_PATTERN,
    LenderCandidate,
    LendingInstitution,
    Request,
    normalize_nacsis,
)
from ill.widgets import DESK_RENDERER, LenderPicker

UNKNOWN_LENDER = _(
    "No active lender has the code “%(value)s”. Enter the lender's code, or type part of its name and choose "
    "it from the list."
)
UNKNOWN_ANY_LENDER = _(
    "No lender has the code “%(value)s”. Enter the lender's code, or type part of its name and choose it from the list."
)
LENDER_HELP = _("Type the lender's code or part of its name, then choose it from the list.")

# Bootstrap's class for each kind of widget (what crispy-forms added).
_WIDGET_CLASSES = {
    forms.CheckboxInput: "form-check-input",
    forms.Select: "form-select",
    forms.SelectMultiple: "form-select",
}


class ActionForm(forms.Form):
    """Base: posts to the action's URL. The view gives each action its own ids (`auto_id`), as
    several action forms share a page and field names."""

    default_renderer = DESK_RENDERER
    submit_label = _("Save")
    submit_class = "btn-primary"

    def __init__(self, *args, request_obj: Request, action_url: str = "", charge=False, **kwargs):
        self.request_obj = request_obj
        self.action_url = action_url
        self._charge = charge  # False: not given, look it up when needed
        super().__init__(*args, **kwargs)
        self.setup()
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = next((c for kind, c in _WIDGET_CLASSES.items() if isinstance(widget, kind)), "form-control")
            if css not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            widget = self.fields[name].widget if name in self.fields else None
            if widget is not None and "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    def render_fields(self) -> SafeString:
        """Every field in Bootstrap markup, written here rather than by a template per field (the
        request page shows a dozen forms' worth): label, control, errors, help text, with the ids
        Django's `aria-describedby` points at (`<id>_error`, `<id>_helptext`)."""
        return mark_safe("".join(_field_html(field) for field in self))

    @property
    def charge(self):
        if self._charge is False:
            self._charge = charges.charge_of(self.request_obj)
        return self._charge

    def setup(self):
        """Adjust the fields to the request before the form is rendered."""


REQUIRED = mark_safe('<span class="asteriskField" aria-hidden="true">*</span>')


def _field_html(field) -> str:
    if field.is_hidden:
        return str(field)
    star = REQUIRED if field.field.required else ""
    errors = ""
    if field.errors:
        errors = format_html(
            '<div class="invalid-feedback d-block" id="{}_error">{}</div>',
            field.auto_id,
            format_html_join(mark_safe("<br>"), "<strong>{}</strong>", ((e,) for e in field.errors)),
        )
    help_text = (
        format_html('<div class="form-text" id="{}_helptext">{}</div>', field.auto_id, field.help_text)
        if field.help_text
        else ""
    )
    if field.widget_type == "checkbox":
        return format_html(
            '<div class="mb-3 form-check">{}<label class="form-check-label" for="{}">{}{}</label>{}{}</div>',
            field,
            field.id_for_label,
            field.label,
            star,
            errors,
            help_text,
        )
    return format_html(
        '<div class="mb-3"><label class="form-label" for="{}">{}{}</label>{}{}{}</div>',
        field.id_for_label,
        field.label,
        star,
        field,
        errors,
        help_text,
    )


class LenderField(forms.ModelChoiceField):
    """A lender given by its code, typed or chosen with the picker (`ill.widgets.LenderPicker`).
    Case and full-width characters do not matter; an unknown code gets a message that says what
    to do. Active lenders only, unless `include_inactive` (e.g. a filter over past requests) or
    another `queryset` is given; as a django-filter filter:

        class LenderFilter(django_filters.ModelChoiceFilter):
            field_class = LenderField

        lender = LenderFilter(queryset=LendingInstitution.objects.all(), include_inactive=True)
    """

    default_error_messages = {"invalid_choice": UNKNOWN_LENDER}

    def __init__(self, queryset=None, *, required=False, label=None, widget=None, include_inactive=False, **kwargs):
        if queryset is None:
            queryset = (
                LendingInstitution.objects.all() if include_inactive else LendingInstitution.objects.filter(active=True)
            )
        kwargs.pop("to_field_name", None)
        super().__init__(
            queryset=queryset,
            to_field_name="code",
            required=required,
            label=label,
            widget=widget or LenderPicker(include_inactive=include_inactive),
            **kwargs,
        )
        if include_inactive:
            self.error_messages["invalid_choice"] = UNKNOWN_ANY_LENDER

    def prepare_value(self, value):
        if isinstance(value, LendingInstitution) and isinstance(self.widget, LenderPicker):
            self.widget.labels[value.code] = f"{value.display_name} ({value.code})"
        return super().prepare_value(value)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, LendingInstitution):
            return value
        try:
            code = lender_search.normalize_query(value)
        except ValueError:
            code = ""
        lender = self.queryset.filter(code__iexact=code).first() if code else None
        if lender is None:
            shown = str(value)[:40]
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": shown})
        if isinstance(self.widget, LenderPicker):
            self.widget.labels[str(value)] = f"{lender.display_name} ({lender.code})"
        return lender


def _lender_field(required: bool, label):
    return LenderField(required=required, label=label)


# Numbers and dates within what the desk's work allows (core.bounds), with a message naming the range.
def pages_field(label) -> forms.IntegerField:
    return bounds.limit(forms.IntegerField(label=label, required=False), 0, bounds.MAX_PAGES)


def yen_field(label, *, required: bool) -> forms.IntegerField:
    return bounds.limit(forms.IntegerField(label=label, required=required), 0, bounds.MAX_YEN)


def due_date_field(label, *, required: bool) -> forms.DateField:
    """A lender's due date: not before 2000 (the service refuses a past one with its own message),
    at most two years ahead."""
    field = forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))
    return bounds.limit(field, bounds.EARLIEST_DESK_DATE, bounds.DUE_DATE_AHEAD)


class NacsisIdField(forms.CharField):
    """A NACSIS-ILL ID as typed or pasted (full-width, spaces, lower case accepted), cleaned to 12
    upper-case letters and digits, or "" when left empty."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("NACSIS-ILL ID"))
        kwargs.setdefault("help_text", _("The ID NACSIS-ILL gave the request (12 characters); kept for every lender."))
        super().__init__(max_length=40, required=False, **kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false", "class": "font-monospace"})

    def clean(self, value):
        value = normalize_nacsis(super().clean(value))
        if value and not re.fullmatch(NACSIS_ILL_ID_PATTERN, value):
            raise ValidationError(NACSIS_ILL_ID_INVALID, code="invalid", params={"value": value[:40]})
        return value


class OrderForm(ActionForm):
    submit_label = _("Order")
    lender_1 = _lender_field(False, _("Lender 1"))
    lender_2 = _lender_field(False, _("Lender 2"))
    lender_3 = _lender_field(False, _("Lender 3"))
    lender_4 = _lender_field(False, _("Lender 4"))
    lender_5 = _lender_field(False, _("Lender 5"))
    lender_reference = forms.CharField(label=_("Lender's reference"), max_length=100, required=False)
    nacsis_ill_id = NacsisIdField()
    shipping_method = forms.ChoiceField(label=_("Shipping method"), choices=Request.Delivery.choices)
    estimated_charge = bounds.limit(
        forms.IntegerField(
            label=_("Estimated charge (yen)"),
            required=False,
            help_text=_("Needed for public expense when the lender has no fee schedule; otherwise computed."),
        ),
        0,
        bounds.MAX_YEN,
    )
    patron_accepted = forms.BooleanField(label=_("The patron accepted an estimate above their maximum"), required=False)
    patron_pays = forms.BooleanField(
        label=_("The patron pays: the lender does not qualify for the student support budget"),
        required=False,
        help_text=_("Only for a request paid by the student support budget, ordered from another kind of lender."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, candidates_taken: int | None = None, **kwargs):
        self.candidates_taken = candidates_taken  # the view passes it when it has the candidates
        self._suggestions = None
        super().__init__(*args, **kwargs)

    def setup(self):
        request_obj = self.request_obj
        if request_obj.support_budget_id is None:
            del self.fields["patron_pays"]
        self.fields["shipping_method"].initial = request_obj.shipping_method or request_obj.delivery_method
        self.fields["nacsis_ill_id"].initial = request_obj.nacsis_ill_id
        taken = 0
        if request_obj.status == Request.Status.UNFILLED:
            taken = request_obj.candidates.count() if self.candidates_taken is None else self.candidates_taken
        free = LenderCandidate.MAX_CANDIDATES - taken
        for n in range(free + 1, LenderCandidate.MAX_CANDIDATES + 1):
            del self.fields[f"lender_{n}"]
        list_id = f"lenders-for-{request_obj.number}"
        for n in range(1, free + 1):
            self.fields[f"lender_{n}"].widget = LenderPicker(
                params={"request": request_obj.number},
                delivery_field="shipping_method",
                suggestions=self.suggestions if n == 1 else None,
                list_id=list_id,
            )
        if free and request_obj.status == Request.Status.SUBMITTED:
            self.fields["lender_1"].required = True
            self.fields["lender_1"].help_text = format_lazy(
                "{} {}", _("The first lender is asked now; the others in order if it cannot supply."), LENDER_HELP
            )
        elif free:
            self.fields["lender_1"].help_text = LENDER_HELP

    def suggestions(self) -> list[tuple[str, str]]:
        """The best-ranked lenders for this request, offered without JavaScript (read when the
        form is rendered; cached for requests alike, see `lender_search.suggestions`)."""
        if self._suggestions is None:
            self._suggestions = lender_search.suggestions(self.request_obj)
        return self._suggestions

    def lenders(self):
        return [self.cleaned_data[f"lender_{n}"] for n in range(1, 6) if self.cleaned_data.get(f"lender_{n}")]


class ArrivalForm(ActionForm):
    submit_label = _("Record arrival")
    lender_due_date = due_date_field(_("Lender's due date"), required=False)
    pages = pages_field(_("Pages received"))
    colour_pages = pages_field(_("of which in colour"))
    use_restriction = forms.ChoiceField(label=_("Use restriction"), choices=Request.UseRestriction.choices)
    restriction_note = forms.CharField(label=_("Restriction note"), max_length=300, required=False)
    adjusted_total = yen_field(_("Charge (yen), if it differs"), required=False)
    adjustment_reason = forms.CharField(label=_("Reason for the different charge"), max_length=300, required=False)

    def setup(self):
        request_obj = self.request_obj
        if request_obj.is_loan:
            del self.fields["pages"], self.fields["colour_pages"]
            self.fields["lender_due_date"].required = True
            if request_obj.cancel_if_in_library_only:
                self.fields["use_restriction"].help_text = _(
                    "The patron asked to cancel if the book may only be used in the library: if so, close the "
                    "request as not collected and tell the patron."
                )
            if request_obj.lender:
                self.fields["lender_due_date"].initial = timezone.localdate() + timezone.timedelta(
                    days=request_obj.lender.loan_period_days
                )
        else:
            del self.fields["lender_due_date"]
            self.fields["pages"].initial = request_obj.page_count
            self.fields["colour_pages"].initial = request_obj.colour_pages

    def clean(self):
        data = super().clean()
        pages, colour = data.get("pages"), data.get("colour_pages")
        if pages is not None and colour is not None and colour > pages:
            self.add_error("colour_pages", _("Colour pages cannot be more than the pages received."))
        return data


class RejectForm(ActionForm):
    submit_label = _("Reject")
    submit_class = "btn-danger"
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "---------")] + list(Request.RejectReason.choices))
    note = forms.CharField(label=_("Message to the patron"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(ActionForm):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, submit_label=None, submit_class=None, note_label=None, **kwargs):
        if submit_label:
            self.submit_label = submit_label
        if submit_class:
            self.submit_class = submit_class
        self.note_label = note_label
        super().__init__(*args, **kwargs)

    def setup(self):
        if self.note_label:
            self.fields["note"].label = self.note_label


class UnfilledForm(NoteForm):
    """The lender cannot supply it: why (NACSIS-ILL's refusal reasons, for the fill-rate report), and a note."""

    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("— choose the lender's reason —")), *LenderCandidate.UnfilledReason.choices],
        error_messages={"required": _("Choose why the lender cannot supply it.")},
    )
    field_order = ["reason", "note"]


class HandOverForm(ActionForm):
    submit_label = _("Hand over")
    campus_mail = forms.BooleanField(label=_("Sent to the laboratory by campus mail"), required=False)
    note = forms.CharField(label=_("Note"), required=False)

    def setup(self):
        r = self.request_obj
        if not (r.is_copy and r.is_public_expense):
            del self.fields["campus_mail"]


class ReturnForm(ActionForm):
    """The patron brings the book back, with the return postage: stamps (private) or the bar code."""

    submit_label = _("Take back")
    stamps_amount = yen_field(_("Stamps received (yen)"), required=False)
    postal_barcode = forms.BooleanField(label=_("Postal bar code received"), required=False)
    note = forms.CharField(label=_("Note"), required=False)

    def setup(self):
        r = self.request_obj
        charge = self.charge
        brings = charges.return_postage_due(r, charge)
        if brings != "barcode":
            del self.fields["postal_barcode"]
        if brings != "stamps":
            del self.fields["stamps_amount"]
        elif charge is not None and charge.return_postage:
            self.fields["stamps_amount"].help_text = _("Expected: %(amount)s in stamps.") % {
                "amount": format_yen(charge.return_postage)
            }


class PaymentForm(ActionForm):
    submit_label = _("Record payment")
    amount = yen_field(_("Cash received (yen)"), required=True)
    receipt_number = forms.CharField(label=_("Receipt number"), max_length=40)

    def setup(self):
        self.fields["amount"].help_text = _("Exact amount: no change is given.")


class ShipmentLenderForm(forms.Form):
    """Which lender's orders to show on the shipment page (a GET form): lenders with orders
    waiting come first in the picker."""

    default_renderer = DESK_RENDERER
    lender = LenderField(label=_("Lender"), required=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "shipment-%s")
        super().__init__(*args, **kwargs)
        self.fields["lender"].widget = LenderPicker(params={"waiting": "1"}, suggestions=self.suggestions)

    def suggestions(self) -> list[tuple[str, str]]:
        """Without JavaScript: the lenders with orders waiting first (one query, when rendered)."""
        options, _more = lender_search.search("", waiting=True)
        return [(o.lender.code, o.label) for o in options]


class ShipmentForm(forms.Form):
    """What came from one lender in one parcel (or one FAX / electronic delivery)."""

    default_renderer = DESK_RENDERER
    lender = forms.ModelChoiceField(
        label=_("Lender"), queryset=LendingInstitution.objects.filter(active=True), widget=forms.HiddenInput
    )
    delivery = forms.ChoiceField(label=_("Came by"), choices=Request.Delivery.choices)
    lender_invoice = forms.CharField(label=_("Lender's invoice number"), max_length=100, required=False)
    lender_due_date = due_date_field(_("Lender's due date (loans)"), required=False)


class ShipmentLineForm(forms.Form):
    """One ordered request of the lender: whether it came, and what came."""

    default_renderer = DESK_RENDERER
    request_id = bounds.limit(forms.IntegerField(widget=forms.HiddenInput), 1, bounds.BIGINT_MAX)
    arrived = forms.BooleanField(label=_("Arrived"), required=False)
    pages = pages_field(_("Pages"))
    colour_pages = pages_field(_("Colour"))
    use_restriction = forms.ChoiceField(
        label=_("Use restriction"),
        choices=Request.UseRestriction.choices,
        required=False,
        widget=forms.Select(attrs={"aria-label": _("Use restriction")}),  # a table cell: no <label>
    )

    def clean(self):
        data = super().clean()
        pages, colour = data.get("pages"), data.get("colour_pages")
        if pages is not None and colour is not None and colour > pages:
            self.add_error("colour_pages", _("Colour pages cannot be more than the pages received."))
        return data


ShipmentLineFormSet = forms.formset_factory(
    ShipmentLineForm, extra=0, max_num=200, validate_max=True, renderer=DESK_RENDERER
)


class GrantExtensionForm(ActionForm):
    submit_label = _("Extension granted")
    new_lender_due_date = due_date_field(_("Lender's new due date"), required=True)
    note = forms.CharField(label=_("Note"), required=False)


class BulkActionForm(forms.Form):
    """Several requests at once, where the counter needs it."""

    ACTIONS = [
        ("mark_reviewed", _("Mark as checked")),
        ("notify_arrival", _("E-mail the arrival notice")),
        ("send_back", _("Sent back to the lender")),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    selected = forms.ModelMultipleChoiceField(queryset=Request.objects.all(), to_field_name="number")


class BlockForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the block"), max_length=200)


class OverrideForm(forms.Form):
    """Staff entering a request for a patron may pass two rules with a recorded reason (§3.2, §3.5)."""

    override_duplicate = forms.CharField(
        label=_("Override “same book only once” — reason"), max_length=300, required=False
    )
    override_copyright = forms.CharField(
        label=_("Override the copyright check — reason"), max_length=300, required=False
    )

    def overrides(self) -> dict:
        data = self.cleaned_data
        return {"duplicate": data.get("override_duplicate", ""), "copyright": data.get("override_copyright", "")}
