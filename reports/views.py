"""The staff report pages (DESIGN.md §10)."""

from django.shortcuts import render

from patrons.permissions import desk_required


@desk_required
def index(request):
    return render(request, "reports/index.html", {})
