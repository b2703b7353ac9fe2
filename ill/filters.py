"""The staff queue's filters (django-filter)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ill import identifiers
from ill.models import LendingInstitution, Request
from ill.worklists import WORKLISTS, needs_attention_q, worklist_q
from patrons.models import Branch


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
    lender = django_filters.ModelChoiceFilter(queryset=LendingInstitution.objects.all(), label=_("Lender"))
    expense_type = django_filters.ChoiceFilter(choices=Request.ExpenseType.choices, label=_("Expense"))
    patron = django_filters.CharFilter(method="by_patron", label=_("Patron (number or name)"))
    submitted = django_filters.DateFromToRangeFilter(
        field_name="submitted_at",
        label=_("Submitted between"),
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )
    overdue = django_filters.BooleanFilter(
        method="only_overdue", label=_("Overdue only"), widget=django_filters.widgets.BooleanWidget()
    )
    attention = django_filters.BooleanFilter(
        method="needing_attention", label=_("Needs attention"), widget=django_filters.widgets.BooleanWidget()
    )
    sort = django_filters.OrderingFilter(
        fields=(
            ("submitted_at", "submitted"),
            ("number", "number"),
            ("status", "status"),
            ("due_date", "due"),
            ("title", "title"),
            ("patron__patron_number", "patron"),
        ),
        label=_("Sort by"),
    )

    class Meta:
        model = Request
        fields = []

    def search(self, queryset, name, value):
        value = value.replace("\x00", "").strip()[:100]
        if not value:
            return queryset
        q = (
            Q(number__icontains=value)
            | Q(title__icontains=value)
            | Q(article_title__icontains=value)
            | Q(patron__patron_number__iexact=value)
            | Q(patron__full_name__icontains=value)
            | Q(lender_reference__iexact=value)
        )
        for kind, field in (("isbn", "isbn"), ("issn", "issn"), ("ncid", "ncid"), ("doi", "doi")):
            try:
                q |= Q(**{field: identifiers.normalize_identifier(kind, value)})
            except (identifiers.IdentifierError, ValueError):
                continue
        return queryset.filter(q)

    def in_worklist(self, queryset, name, value):
        return queryset.filter(worklist_q(value))

    def by_patron(self, queryset, name, value):
        value = value.replace("\x00", "").strip()[:100]
        if not value:
            return queryset
        return queryset.filter(
            Q(patron__patron_number__iexact=value)
            | Q(patron__full_name__icontains=value)
            | Q(patron__full_name_kana__icontains=value)
        )

    def only_overdue(self, queryset, name, value):
        return queryset.filter(worklist_q("overdue")) if value else queryset

    def needing_attention(self, queryset, name, value):
        return queryset.filter(needs_attention_q()) if value else queryset
