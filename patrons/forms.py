from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from patrons.models import Branch, Patron


class ProfileForm(forms.ModelForm):
    """What a patron may change themselves. Category, laboratory and budget codes are the
    library's records and change only through the administrators."""

    class Meta:
        model = Patron
        fields = ["preferred_language", "home_branch", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_branch"].queryset = Branch.objects.filter(active=True)
        self.fields["home_branch"].empty_label = None
        self.fields["preferred_language"].help_text = _("The language of the pages and of our e-mails to you.")
        self.helper = FormHelper(self)
        self.helper.add_input(Submit("submit", _("Save")))
