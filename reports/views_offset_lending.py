"""The lending side of a fee-offset statement (reports.offset_lending):

- /desk/reports/offset/<id>/lending/          the statement's lending lines beside our lending charges
- /desk/reports/offset/<id>/lending/settle/   staff confirm matched lines settled (POST; nothing is settled
                                              by the import or by showing the page)
"""

import datetime

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import bounds
from core.errors import ServiceError
from patrons.permissions import desk_required
from reports import offset_lending
from reports.models import OffsetStatement

BAD_CHOICE = gettext_lazy("The lines chosen are not charges of ours: reload the page and choose again.")


class SettleForm(forms.Form):
    paid_on = forms.DateField(
        label=gettext_lazy("Settled on"),
        help_text=gettext_lazy("The day the fee-offset was settled (as the statement or the accounting office says)."),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"paid_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        bounds.limit(self.fields["paid_on"], bounds.EARLIEST_DESK_DATE, datetime.timedelta(days=0))


def _statement_or_404(pk) -> OffsetStatement:
    return get_object_or_404(OffsetStatement.objects.select_related("imported_by"), pk=pk)


def _render(request, statement, form, *, status=200, chosen=None):
    rows = offset_lending.compare(statement)
    found = offset_lending.counts(rows)
    return render(
        request,
        "reports/offset_lending.html",
        {
            "statement": statement,
            "rows": rows,
            "outcomes": [(value, label, found.get(value, 0)) for value, label in offset_lending.Outcome.choices],
            "settleable": sum(1 for row in rows if row.settleable),
            "chosen": chosen,
            "form": form,
        },
        status=status,
    )


@desk_required
def lending_side(request, pk):
    """The statement's lending lines: what does not match first, then the matched ones to confirm."""
    return _render(request, _statement_or_404(pk), SettleForm())


@desk_required
def lending_settle(request, pk):
    """Settle the chosen matched lines' charges (a 400 with the message when the form or the choice is
    wrong, a 409 when they no longer match; nothing is settled then)."""
    statement = _statement_or_404(pk)
    if request.method != "POST":
        return redirect("reports:offset_lending", statement.pk)
    form = SettleForm(request.POST)
    values = request.POST.getlist("charge")
    chosen = {int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 10}
    if len(chosen) != len(set(values)):
        form.is_valid()
        form.add_error(None, BAD_CHOICE)
        return _render(request, statement, form, status=400)
    if not form.is_valid():
        return _render(request, statement, form, status=400, chosen=chosen)
    try:
        settled = offset_lending.settle(statement, chosen, user=request.user, paid_on=form.cleaned_data["paid_on"])
    except ServiceError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return _render(request, statement, form, status=exc.status_code, chosen=chosen)
    messages.success(
        request,
        _("%(count)s lending charges settled through the fee-offset.") % {"count": len(settled)},
    )
    return redirect("reports:offset_lending", statement.pk)
