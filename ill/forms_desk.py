"""Forms for the staff actions on a request; each feeds one lifecycle or fees service."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import format_yen
from fees import charges
from ill.models import LenderCandidate, LendingInstitution, Request


class ActionSubmit(Submit):
    """A submit button whose whole style comes from `css_class` (crispy adds btn-primary otherwise)."""

    field_classes = "btn"


class ActionForm(forms.Form):
    """Base: a crispy helper that posts to the action's URL."""

    submit_label = _("Save")
    submit_class = "btn-primary"

    def __init__(self, *args, request_obj: Request, action_url: str = "", **kwargs):
        self.request_obj = request_obj
        super().__init__(*args, **kwargs)
        self.setup()
        self.helper = FormHelper(self)
        self.helper.form_action = action_url
        self.helper.form_tag = True
        self.helper.add_input(ActionSubmit("submit", self.submit_label, css_class=self.submit_class))

    def setup(self):
        """Adjust the fields to the request before the layout is built."""


def _lender_field(required: bool, label):
    return forms.ModelChoiceField(
        queryset=LendingInstitution.objects.filter(active=True),
        required=required,
        label=label,
    )


class OrderForm(ActionForm):
    submit_label = _("Order")
    lender_1 = _lender_field(False, _("Lender 1"))
    lender_2 = _lender_field(False, _("Lender 2"))
    lender_3 = _lender_field(False, _("Lender 3"))
    lender_4 = _lender_field(False, _("Lender 4"))
    lender_5 = _lender_field(False, _("Lender 5"))
    lender_reference = forms.CharField(label=_("Lender's reference"), max_length=100, required=False)
    shipping_method = forms.ChoiceField(label=_("Shipping method"), choices=Request.Delivery.choices)
    estimated_charge = forms.IntegerField(
        label=_("Estimated charge (yen)"),
        min_value=0,
        required=False,
        help_text=_("Needed for public expense when the lender has no fee schedule; otherwise computed."),
    )
    patron_accepted = forms.BooleanField(label=_("The patron accepted an estimate above their maximum"), required=False)
    patron_pays = forms.BooleanField(
        label=_("The patron pays: the lender does not qualify for the student support budget"),
        required=False,
        help_text=_("Only for a request paid by the student support budget, ordered from another kind of lender."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def setup(self):
        request_obj = self.request_obj
        if request_obj.support_budget_id is None:
            del self.fields["patron_pays"]
        self.fields["shipping_method"].initial = request_obj.delivery_method
        taken = request_obj.candidates.count() if request_obj.status == Request.Status.UNFILLED else 0
        free = LenderCandidate.MAX_CANDIDATES - taken
        for n in range(free + 1, LenderCandidate.MAX_CANDIDATES + 1):
            del self.fields[f"lender_{n}"]
        if request_obj.status == Request.Status.SUBMITTED:
            self.fields["lender_1"].required = True
            self.fields["lender_1"].help_text = _(
                "The first lender is asked now; the others in order if it cannot supply."
            )

    def lenders(self):
        return [self.cleaned_data[f"lender_{n}"] for n in range(1, 6) if self.cleaned_data.get(f"lender_{n}")]


class ArrivalForm(ActionForm):
    submit_label = _("Record arrival")
    lender_due_date = forms.DateField(
        label=_("Lender's due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    pages = forms.IntegerField(label=_("Pages received"), min_value=0, required=False)
    colour_pages = forms.IntegerField(label=_("of which in colour"), min_value=0, required=False)
    use_restriction = forms.ChoiceField(label=_("Use restriction"), choices=Request.UseRestriction.choices)
    restriction_note = forms.CharField(label=_("Restriction note"), max_length=300, required=False)
    adjusted_total = forms.IntegerField(label=_("Charge (yen), if it differs"), min_value=0, required=False)
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
    stamps_amount = forms.IntegerField(label=_("Stamps received (yen)"), min_value=0, required=False)
    postal_barcode = forms.BooleanField(label=_("Postal bar code received"), required=False)
    note = forms.CharField(label=_("Note"), required=False)

    def setup(self):
        r = self.request_obj
        charge = charges.charge_of(r)
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
    amount = forms.IntegerField(label=_("Cash received (yen)"), min_value=0)
    receipt_number = forms.CharField(label=_("Receipt number"), max_length=40)

    def setup(self):
        self.fields["amount"].help_text = _("Exact amount: no change is given.")


class ShipmentForm(forms.Form):
    """What came from one lender in one parcel (or one FAX / electronic delivery)."""

    lender = forms.ModelChoiceField(label=_("Lender"), queryset=LendingInstitution.objects.filter(active=True))
    delivery = forms.ChoiceField(label=_("Came by"), choices=Request.Delivery.choices)
    lender_invoice = forms.CharField(label=_("Lender's invoice number"), max_length=100, required=False)
    lender_due_date = forms.DateField(
        label=_("Lender's due date (loans)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ShipmentLineForm(forms.Form):
    """One ordered request of the lender: whether it came, and what came."""

    request_id = forms.IntegerField(widget=forms.HiddenInput)
    arrived = forms.BooleanField(label=_("Arrived"), required=False)
    pages = forms.IntegerField(label=_("Pages"), min_value=0, required=False)
    colour_pages = forms.IntegerField(label=_("Colour"), min_value=0, required=False)
    use_restriction = forms.ChoiceField(
        label=_("Use restriction"), choices=Request.UseRestriction.choices, required=False
    )

    def clean(self):
        data = super().clean()
        pages, colour = data.get("pages"), data.get("colour_pages")
        if pages is not None and colour is not None and colour > pages:
            self.add_error("colour_pages", _("Colour pages cannot be more than the pages received."))
        return data


ShipmentLineFormSet = forms.formset_factory(ShipmentLineForm, extra=0, max_num=200, validate_max=True)


class GrantExtensionForm(ActionForm):
    submit_label = _("Extension granted")
    new_lender_due_date = forms.DateField(
        label=_("Lender's new due date"), widget=forms.DateInput(attrs={"type": "date"})
    )
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
