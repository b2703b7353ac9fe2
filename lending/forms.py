"""The lending desk's forms: entering an incoming request, and one form per next step of a request
(each feeds one `lending.services` function). They reuse the borrowing desk's action-form base
(`ill.forms_desk.ActionForm`: Bootstrap markup written in Python, each form's own ids)."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from core import bounds
from ill import search as desk_search
from ill.forms_desk import ActionForm, LenderField, NacsisIdField, _field_html, due_date_field, yen_field
from ill.models import LocalHolding, Request
from ill.widgets import DESK_RENDERER, LenderPicker
from lending.models import LendingRequest

# What staff type from a NACSIS-ILL / e-mail / FAX request (the ISO 18626 ones arrive by message).
MANUAL_SOURCES = [(value, label) for value, label in LendingRequest.Source.choices if value != "iso18626"]

CITATION_FIELDS = ["title", "author", "publisher", "pub_year", "edition", "isbn", "issn", "ncid", "doi"]
COPY_FIELDS = [
    "article_title",
    "article_author",
    "journal_title",
    "volume",
    "issue",
    "pages",
    "page_count",
    "colour_pages",
    "paper_size",
    "periodical_frequency",
    "issue_date",
    "work_total_pages",
    "purpose",
]
WISH_FIELDS = [
    "delivery_method",
    "their_reference",
    "nacsis_ill_id",
    "patron_reference",
    "need_by",
    "max_cost",
    "requester_note",
]


class IncomingRequestForm(forms.ModelForm):
    """A request another library sent us by NACSIS-ILL, e-mail or FAX, typed in at the desk. The
    borrowing library is picked by its code or name (the lender picker: most libraries both lend and
    borrow); `services.receive` checks the rest and saves it."""

    default_renderer = DESK_RENDERER

    borrower = LenderField(
        label=_("Borrowing library"),
        required=True,
        include_inactive=True,
        help_text=_("Type the library's code or part of its name, then choose it from the list."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=LendingRequest.Kind.choices)
    source = forms.ChoiceField(label=_("Received by"), choices=MANUAL_SOURCES, initial="nacsis")
    nacsis_ill_id = NacsisIdField(help_text=_("The ID NACSIS-ILL gave the request (12 characters), if it came so."))

    class Meta:
        model = LendingRequest
        fields = [*CITATION_FIELDS, "material_type", *COPY_FIELDS, *WISH_FIELDS]
        widgets = {
            "need_by": forms.DateInput(attrs={"type": "date"}),
            "issue_date": forms.DateInput(attrs={"type": "date"}),
            "requester_note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_%s")
        super().__init__(*args, **kwargs)
        bounds.limit_from_model(self)
        self.fields["borrower"].widget = LenderPicker(include_inactive=True, lookup_link=True)
        self.fields["kind"].widget.attrs["data-kind-switch"] = ""  # static/js/lending-request.js
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            if name in self.errors:
                widget.attrs["class"] += " is-invalid"

    def clean(self):
        data = super().clean()
        if data.get("kind") == LendingRequest.Kind.COPY and not (data.get("pages") or data.get("page_count")):
            self.add_error("pages", _("Give the pages to copy (or their number)."))
        pages, colour = data.get("page_count"), data.get("colour_pages")
        if pages is not None and colour and colour > pages:
            self.add_error("colour_pages", _("Colour pages cannot be more than the pages to copy."))
        return data

    def render_group(self, names) -> SafeString:
        return mark_safe("".join(_field_html(self[name]) for name in names if name in self.fields))

    def render_group_from(self) -> SafeString:
        return self.render_group(["borrower", "kind", "source", "their_reference", "nacsis_ill_id", "patron_reference"])

    def render_group_citation(self) -> SafeString:
        return self.render_group(["material_type", *CITATION_FIELDS])

    def render_group_copy(self) -> SafeString:
        return self.render_group(COPY_FIELDS)

    def render_group_wishes(self) -> SafeString:
        return self.render_group(["delivery_method", "need_by", "max_cost", "requester_note"])

    def service_fields(self) -> dict:
        """What `services.receive` takes besides borrower, kind and source."""
        data = self.cleaned_data
        return {name: data[name] for name in self._meta.fields if name in data and data[name] is not None}


# --- the next steps of one request --------------------------------------------------------------


class LendingActionForm(ActionForm):
    """An action on a lending request (`request_obj` is the LendingRequest)."""


class PlainForm(LendingActionForm):
    """An action without anything to fill in."""

    def __init__(self, *args, submit_label=None, submit_class=None, **kwargs):
        if submit_label:
            self.submit_label = submit_label
        if submit_class:
            self.submit_class = submit_class
        super().__init__(*args, **kwargs)


class NoteActionForm(PlainForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class WaiveForm(PlainForm):
    """We do not ask for our charge after all (the reason is kept with it)."""

    submit_label = _("Waive the charge")
    submit_class = "btn-outline-danger"
    reason = forms.CharField(label=_("Reason"), max_length=300)


class RequiredNoteForm(PlainForm):
    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


def holding_label(holding: LocalHolding) -> str:
    parts = [holding.title[:80], holding.call_number, holding.location, holding.get_status_display()]
    return " · ".join(p for p in parts if p)


class HoldingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return holding_label(obj)


class WillSupplyForm(PlainForm):
    """We will supply it, from one of our holdings: the one found on receipt, or one found by a search
    of our catalogue (title, ISBN, ISSN, NCID) made on the request page."""

    submit_label = _("We will supply it")
    holding = HoldingChoiceField(
        label=_("From our holding"),
        queryset=LocalHolding.objects.none(),
        required=False,
        empty_label=_("— none recorded —"),
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args, holdings=(), **kwargs):
        self.holdings = list(holdings)
        super().__init__(*args, **kwargs)

    def setup(self):
        item = self.request_obj
        shown = [h.pk for h in self.holdings]
        if item.holding_id and item.holding_id not in shown:
            shown.insert(0, item.holding_id)
        field = self.fields["holding"]
        # Rendered: the holdings on show; posted: any holding of ours.
        field.queryset = LocalHolding.objects.all() if self.is_bound else LocalHolding.objects.filter(pk__in=shown)
        field.initial = item.holding_id or (shown[0] if shown else None)
        field.widget.attrs["class"] = "form-check-input"

    def render_fields(self) -> SafeString:
        """The holdings as a group of radio buttons under a legend, then the note."""
        return mark_safe(self.holding_group() + _field_html(self["note"]))

    def holding_group(self) -> SafeString:
        field = self["holding"]
        options = format_html_join(
            "",
            '<div class="form-check"><input class="form-check-input" type="radio" name="{}" value="{}" id="{}"{}>'
            '<label class="form-check-label" for="{}">{}</label></div>',
            (
                (
                    field.html_name,
                    value,
                    f"{field.auto_id}_{index}",
                    mark_safe(" checked") if str(value) == str(field.value() or "") else "",
                    f"{field.auto_id}_{index}",
                    label,
                )
                for index, (value, label) in enumerate(field.field.choices)
            ),
        )
        errors = format_html_join("", '<div class="invalid-feedback d-block">{}</div>', ((e,) for e in field.errors))
        group = format_html(
            '<fieldset class="mb-3"><legend class="form-label fs-6">{}</legend>{}{}</fieldset>',
            field.label,
            options,
            errors,
        )
        return group


class HoldingForm(WillSupplyForm):
    """Supply from another of our holdings (the first one turned out missing, on loan, damaged)."""

    submit_label = _("Use this holding")
    submit_class = "btn-outline-primary"

    def setup(self):
        super().setup()
        del self.fields["note"]
        self.fields["holding"].label = _("Our holding")

    def render_fields(self) -> SafeString:
        return self.holding_group()


class CopyDetailsForm(PlainForm):
    """What the copyright check and the price need, completed from the item in hand."""

    submit_label = _("Save the details")
    submit_class = "btn-outline-primary"
    FIELDS = (
        "pages",
        "page_count",
        "colour_pages",
        "paper_size",
        "periodical_frequency",
        "issue_date",
        "work_total_pages",
    )

    def setup(self):
        item = self.request_obj
        model_fields = forms.fields_for_model(
            LendingRequest,
            fields=self.FIELDS,
            widgets={"issue_date": forms.DateInput(attrs={"type": "date"})},
        )
        for name in self.FIELDS:
            field = model_fields[name]
            field.initial = getattr(item, name)
            field.required = False
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
            self.fields[name] = field
        for name, model_field in ((n, LendingRequest._meta.get_field(n)) for n in self.FIELDS):
            for validator in model_field.validators:
                if isinstance(validator, bounds.InRange | bounds.DateInRange):
                    bounds.limit(self.fields[name], validator.low, validator.high)

    def details(self) -> dict:
        """The fields sent that differ from the request's (a field left out of the post stays as it
        is; an emptied one is cleared, colour pages to 0)."""
        item, data = self.request_obj, self.cleaned_data
        changed = {}
        for name in self.FIELDS:
            if name not in self.data:
                continue
            value = data.get(name)
            if name == "colour_pages":
                value = value or 0
            elif name in ("pages", "paper_size", "periodical_frequency"):
                value = value or ("" if name == "pages" else getattr(item, name))
            if value != getattr(item, name):
                changed[name] = value
        return changed


class UnfilledForm(PlainForm):
    submit_label = _("Cannot supply")
    submit_class = "btn-warning"
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[
            ("", _("— choose the reason —")),
            # "No answer from the lender" is the borrowing side's: here we are the lender and we answer.
            *[c for c in LendingRequest.UnfilledReason.choices if c[0] != LendingRequest.UnfilledReason.NO_ANSWER],
        ],
        error_messages={"required": _("Choose why we cannot supply it.")},
    )
    note = forms.CharField(
        label=_("Note to the borrowing library"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, refusal_note: str = "", **kwargs):
        self.refusal_note = refusal_note
        super().__init__(*args, **kwargs)

    def setup(self):
        if self.refusal_note:  # the copyright check refuses: offer its reasons as the answer
            self.fields["reason"].initial = "copyright"
            self.fields["note"].initial = self.refusal_note[:300]


class StartCopyingForm(PlainForm):
    """Start the copy. When the art. 31 check refuses, only a user with the override permission may go
    on, giving a reason that is recorded."""

    submit_label = _("Start copying")
    override_reason = forms.CharField(
        label=_("Override the copyright check — reason"),
        required=False,
        max_length=300,
        help_text=_("Recorded with your name. Leave empty to keep the refusal."),
    )

    def __init__(self, *args, refusals=(), may_override: bool = False, **kwargs):
        self.refusals = list(refusals)
        self.may_override = may_override
        super().__init__(*args, **kwargs)

    def setup(self):
        if not (self.refusals and self.may_override):
            del self.fields["override_reason"]
        else:
            self.fields["override_reason"].required = True


class ShipForm(PlainForm):
    submit_label = _("Record the shipment")
    shipping_method = forms.ChoiceField(label=_("Shipping method"), choices=Request.Delivery.choices)
    due_date = due_date_field(_("Due back"), required=False)
    charge = yen_field(_("Charge (yen), if it differs from the price shown"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args, preview=None, preview_error: str = "", default_due=None, **kwargs):
        self.preview = preview
        self.preview_error = preview_error
        self.default_due = default_due
        super().__init__(*args, **kwargs)

    def setup(self):
        item = self.request_obj
        self.fields["shipping_method"].initial = item.shipping_method or item.delivery_method
        if item.is_loan:
            self.fields["due_date"].required = True
            self.fields["due_date"].initial = self.default_due
        else:
            del self.fields["due_date"]


class RecallForm(PlainForm):
    submit_label = _("Recall")
    submit_class = "btn-outline-danger"
    new_due_date = due_date_field(_("New due date"), required=True)
    note = forms.CharField(label=_("Note to the borrowing library"), required=False, max_length=2000)

    def setup(self):
        self.fields["new_due_date"].initial = timezone.localdate() + datetime.timedelta(days=7)


class AskRenewalForm(PlainForm):
    """They asked (by e-mail, FAX or NACSIS-ILL) to keep the book longer."""

    submit_label = _("Record the renewal request")
    submit_class = "btn-outline-primary"
    wanted_until = due_date_field(_("Wanted until"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class GrantRenewalForm(PlainForm):
    submit_label = _("Grant the renewal")
    new_due_date = due_date_field(_("New due date"), required=True)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, renewal=None, **kwargs):
        self.renewal = renewal
        super().__init__(*args, **kwargs)

    def setup(self):
        item = self.request_obj
        wanted = self.renewal.wanted_until if self.renewal is not None else None
        if wanted is None and item.due_date:
            wanted = item.due_date + datetime.timedelta(days=14)
        self.fields["new_due_date"].initial = wanted


class RefuseRenewalForm(PlainForm):
    submit_label = _("Refuse the renewal")
    submit_class = "btn-outline-secondary"
    note = forms.CharField(label=_("Reason, for the borrowing library"), required=False, max_length=300)

    def __init__(self, *args, renewal=None, **kwargs):
        self.renewal = renewal
        super().__init__(*args, **kwargs)


# --- the queue's search and our holdings' search ----------------------------------------------


class QueueSearchForm(forms.Form):
    default_renderer = DESK_RENDERER
    q = forms.CharField(label=_("Lending number, their number or title"), required=False, max_length=100)

    def term(self) -> str:
        return desk_search.clean(self.cleaned_data.get("q", "")) if self.is_valid() else ""


class PaymentForm(forms.Form):
    """An invoice paid: when, and how much (the whole total; the service refuses a part payment)."""

    default_renderer = DESK_RENDERER
    paid_on = forms.DateField(
        label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    amount = yen_field(_("Amount received (yen)"), required=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_payment_%s")
        super().__init__(*args, **kwargs)
        bounds.limit(self.fields["paid_on"], bounds.EARLIEST_DESK_DATE, datetime.timedelta(days=0))
        self.fields["amount"].widget.attrs["class"] = "form-control"

    def render_fields(self) -> SafeString:
        return mark_safe("".join(_field_html(field) for field in self))
