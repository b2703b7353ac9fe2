"""The app's URLs plus `/bench/bare/`, the trivial view every page of `bench/pages.py` is compared
with. Only `bench/settings.py` uses this module: the bare view is not in the production URLs."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def bare(request):
    """The least a Django view can do: what the framework and the middleware cost by themselves."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *app_urlpatterns]
