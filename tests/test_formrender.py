"""core.formrender writes the Bootstrap markup crispy wrote: labels tied to controls, errors and
help text announced through aria-describedby, the layout's rows and fieldsets."""

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms

from core.formrender import render_form


class Sample(forms.Form):
    title = forms.CharField(label="Title", help_text="As on the cover.")
    kind = forms.ChoiceField(label="Kind", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    urgent = forms.BooleanField(label="Urgent", required=False)
    size = forms.ChoiceField(label="Size", choices=[("s", "Small"), ("l", "Large")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.layout = Layout(
            Fieldset("The item", Row(Column("title", css_class="col-md-8"), Column("size", css_class="col-md-4"))),
            "kind",
            "urgent",
        )


def test_an_unbound_form_has_labels_help_and_the_layout():
    html = render_form(Sample())
    assert '<fieldset class=""><legend class="h6">The item</legend><div class="row ">' in html
    assert '<div class="col-md-8"><div id="div_id_title" class="mb-3"><label for="id_title"' in html
    assert 'aria-describedby="id_title_helptext"' in html and 'class="form-text">As on the cover.' in html
    assert 'class="form-select"' in html and 'class="form-check-input"' in html
    assert html.count('type="radio"') == 2


@pytest.mark.parametrize("data", [{"kind": "z", "size": "s"}])
def test_errors_are_tied_to_their_control(data):
    form = Sample(data)
    assert not form.is_valid()
    html = render_form(form)
    assert 'aria-invalid="true"' in html and "is-invalid" in html
    assert 'aria-describedby="id_title_helptext error_1_id_title"' in html
    assert 'id="error_1_id_title" class="invalid-feedback d-block"' in html


def test_non_field_errors_only_when_the_page_does_not_show_them():
    form = Sample({"title": "x", "kind": "a", "size": "s"})
    form.is_valid()
    form.add_error(None, "Something is wrong")
    assert "Something is wrong" in render_form(form)
    assert "Something is wrong" not in render_form(form, errors=False)
