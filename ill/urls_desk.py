from django.urls import path

from ill import (
    converters,  # noqa: F401  (registers <reqno:…>)
    views_desk,
)

app_name = "desk"
urlpatterns = [
    path("", views_desk.home, name="home"),
    path("requests/", views_desk.queue, name="queue"),
    path("shipments/new/", views_desk.shipment, name="shipment"),
    path("requests/<reqno:number>/", views_desk.request_detail, name="request"),
    path("requests/<reqno:number>/<slug:action>/", views_desk.request_action, name="action"),
]
