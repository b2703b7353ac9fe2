"""The NACSIS-ILL charge-line export and the fee-offset statement import (stub: being written)."""

from django.http import HttpResponse

from patrons.permissions import desk_required


@desk_required
def nacsis_export(request):
    return HttpResponse("")


@desk_required
def offset_statements(request):
    return HttpResponse("")
