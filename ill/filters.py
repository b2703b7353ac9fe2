"""The staff queue's filters (django-filter) and the counter's worklists."""

import datetime

import django_filters
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ill import identifiers
from ill.models import ExtensionRequest, LendingInstitution, Request
from patrons.models import Branch

S = Request.Status


def open_extension():
    return Exists(ExtensionRequest.objects.filter(request=OuterRef("pk"), state__in=ExtensionRequest.OPEN_STATES))


def worklist_q(name: str, today: datetime.date | None = None) -> Q:
    """The requests of one counter worklist (DESIGN.md §4), as a filter."""
    today = today or timezone.localdate()
    now = timezone.now()
    if name == "review":
        return Q(status=S.SUBMITTED, reviewed_at__isnull=True)
    if name == "order":
        return Q(status=S.SUBMITTED, reviewed_at__isnull=False)
    if name == "unfilled":
        return Q(status=S.UNFILLED)
    if name == "ordered":
        return Q(status=S.ORDERED)
    if name == "not_notified":
        return Q(status=S.ARRIVED, notified_at__isnull=True)
    if name == "pickup":
        return Q(status=S.ARRIVED, notified_at__isnull=False)
    if name == "not_collected":
        return Q(status=S.ARRIVED, arrived_at__lt=now - datetime.timedelta(days=settings.ILL_NOT_COLLECTED_DAYS))
    if name == "due_soon":
        return Q(
            status=S.ON_LOAN,
            due_date__gte=today,
            due_date__lte=today + datetime.timedelta(days=settings.ILL_DUE_SOON_DAYS),
        )
    if name == "overdue":
        return Q(status=S.ON_LOAN, due_date__lt=today)
    if name == "send_back":
        return Q(status=S.RETURNED)
    if name == "extensions":
        return Q(
            Exists(ExtensionRequest.objects.filter(request=OuterRef("pk"), state__in=ExtensionRequest.OPEN_STATES))
        )
    raise KeyError(name)


WORKLISTS = [
    ("review", _("To review")),
    ("order", _("Checked, to order")),
    ("unfilled", _("Unfilled: next lender or close")),
    ("ordered", _("Ordered, waiting for the lender")),
    ("not_notified", _("Arrived, patron not yet told")),
    ("pickup", _("Waiting for pick-up")),
    ("not_collected", _("Not collected")),
    ("due_soon", _("On loan, due soon")),
    ("overdue", _("Overdue")),
    ("send_back", _("Returned, to send back")),
    ("extensions", _("Extension requests")),
]
ATTENTION = ("unfilled", "not_notified", "not_collected", "overdue", "extensions")


def needs_attention_q() -> Q:
    q = Q()
    for name in ATTENTION:
        q |= worklist_q(name)
    return q


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
