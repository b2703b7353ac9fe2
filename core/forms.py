"""Form helpers shared by the apps."""

from django import forms
from django.forms.models import ModelChoiceIterator


class ListedChoiceIterator(ModelChoiceIterator):
    """Reads a model choice field's few rows with one plain query.

    Django's iterator uses `QuerySet.iterator()`, which on PostgreSQL opens a server-side cursor
    (DECLARE, FETCH, CLOSE: three round trips) for a list of five branches."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


def list_model_choices(form: forms.BaseForm) -> None:
    """Give every model choice field of `form` the one-query iterator."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            field.iterator = ListedChoiceIterator
            field.widget.choices = field.choices  # the widget holds its own iterator
