from django.urls import path

from fees import views as fees_views
from ill import (
    converters,  # noqa: F401  (registers <reqno:…>)
    views_desk,
)

app_name = "desk"
urlpatterns = [
    path("", views_desk.home, name="home"),
    path("requests/", views_desk.queue, name="queue"),
    path("shipments/new/", views_desk.shipment, name="shipment"),
    path("reports/charges/", fees_views.charges_report, name="charges_report"),
    path("requests/<reqno:number>/", views_desk.request_detail, name="request"),
    path("requests/<reqno:number>/<slug:action>/", views_desk.request_action, name="action"),
]
