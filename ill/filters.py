"""The staff queue's filters (django-filter)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from core import bounds
from ill import search
from ill.forms_desk import LenderField
from ill.models import LendingInstitution, Request
from ill.widgets import DESK_RENDERER, LenderPicker
from ill.worklists import WORKLISTS, needs_attention_q, worklist_q
from patrons.models import Branch


class YesNoWidget(django_filters.widgets.BooleanWidget):
    """django-filter's yes/no select, its labels translated when shown (django-filter's own are
    fixed in the language active when the module was imported)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


def small_controls(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, LenderPicker):
            continue
        is_select = getattr(widget, "input_type", "") == "select"
        css = "form-select form-select-sm" if is_select else "form-control form-control-sm"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class LenderFilter(django_filters.ModelChoiceFilter):
    field_class = LenderField


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    worklist = django_filters.ChoiceFilter(choices=WORKLISTS, method="in_worklist", label=_("Worklist"))
    status = django_filters.ChoiceFilter(choices=Request.Status.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=Request.Kind.choices, label=_("Kind"))
    branch = django_filters.ModelChoiceFilter(
        field_name="pickup_branch",
        queryset=Branch.objects.filter(active=True),
        label=_("Pick-up branch"),
        empty_label=_("All branches"),
    )
    # A lender's code with the search-as-you-type picker (ill/widgets.py), not a <select> of them all.
    lender = LenderFilter(queryset=LendingInstitution.objects.all(), include_inactive=True, label=_("Lender"))
    expense_type = django_filters.ChoiceFilter(choices=Request.ExpenseType.choices, label=_("Expense"))
    patron = django_filters.CharFilter(method="by_patron", label=_("Patron (number or name)"))
    submitted = django_filters.DateFromToRangeFilter(
        field_name="submitted_at",
        label=_("Submitted between"),
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )
    overdue = django_filters.BooleanFilter(method="only_overdue", label=_("Overdue only"), widget=YesNoWidget())
    attention = django_filters.BooleanFilter(
        method="needing_attention", label=_("Needs attention"), widget=YesNoWidget()
    )

    class Meta:
        model = Request
        fields = []

    def get_form_class(self):
        """The filter form, its widgets written in Python (ill.widgets.DESK_RENDERER), with the
        small Bootstrap controls of the queue's filter bar."""

        class RequestFilterForm(super().get_form_class()):
            default_renderer = DESK_RENDERER

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                small_controls(self)
                # Dates the queue can hold: a date far out (0001-01-01 is out of range once moved
                # to UTC) gets a message naming the range, not an error page.
                for day in self.fields["submitted"].fields:
                    bounds.limit(day, bounds.EARLIEST_DESK_DATE, bounds.FILTER_AHEAD)
                # One label for two inputs: each says which end of the range it is.
                ends = self.fields["submitted"].widget.widgets
                ends[0].attrs["aria-label"] = _("Submitted from")
                ends[1].attrs["aria-label"] = _("Submitted until")

        return RequestFilterForm

    def search(self, queryset, name, value):
        q = search.request_q(value)
        return queryset.filter(q) if q else queryset

    def in_worklist(self, queryset, name, value):
        return queryset.filter(worklist_q(value))

    def by_patron(self, queryset, name, value):
        q = search.requests_of_patrons_q(value)
        return queryset.filter(q) if q else queryset

    def only_overdue(self, queryset, name, value):
        return queryset.filter(worklist_q("overdue")) if value else queryset

    def needing_attention(self, queryset, name, value):
        return queryset.filter(needs_attention_q()) if value else queryset
