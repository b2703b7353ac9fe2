"""The copyright log: refusals by rule and staff overrides (stub: being written)."""

from django.http import HttpResponse

from patrons.permissions import desk_required


@desk_required
def copyright_log(request):
    return HttpResponse("")


@desk_required
def survey(request):
    return HttpResponse("")
