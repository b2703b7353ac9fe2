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
    path("requests/bulk/", views_desk.bulk, name="bulk"),
    path("requests/<reqno:number>/", views_desk.request_detail, name="request"),
    path("requests/<reqno:number>/slip/", views_desk.print_slip, name="slip"),
    path("requests/<reqno:number>/band/", views_desk.print_band, name="band"),
    path("requests/<reqno:number>/<slug:action>/", views_desk.request_action, name="action"),
    path("shipments/new/", views_desk.shipment, name="shipment"),
    path("patrons/", views_desk.patrons, name="patrons"),
    path("patrons/<patronno:number>/", views_desk.patron_detail, name="patron"),
    path("patrons/<patronno:number>/block/", views_desk.patron_block, name="patron_block"),
    path("patrons/<patronno:number>/new/<slug:kind>/", views_desk.patron_new_request, name="patron_new"),
    path("reports/charges/", fees_views.charges_report, name="charges_report"),
    path("emails/", views_desk.emails, name="emails"),
]
