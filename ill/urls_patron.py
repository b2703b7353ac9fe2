from django.urls import path

from ill import converters  # noqa: F401  (registers <reqno:…>)
from ill.views import catalogue as catalogue_views
from ill.views import patron as views

app_name = "patron"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("lookup/", catalogue_views.lookup, name="catalogue_lookup"),
    path("requests/new/<slug:kind>/", views.new_request, name="new"),
    path("requests/<reqno:number>/", views.request_detail, name="request"),
    path("requests/<reqno:number>/cancel/", views.cancel, name="cancel"),
    path("requests/<reqno:number>/extend/", views.extend, name="extend"),
    path("requests/<reqno:number>/accept-charge/", views.accept_charge, name="accept_charge"),
]
