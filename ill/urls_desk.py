from django.urls import path

from fees import views as fees_views
from ill import converters  # noqa: F401  (registers <reqno:…>)
from ill.views import catalogue as catalogue_views
from ill.views import desk_emails, desk_lenders, desk_patrons, desk_queue, desk_request, desk_shipment

app_name = "desk"
urlpatterns = [
    path("", desk_queue.home, name="home"),
    path("requests/", desk_queue.queue, name="queue"),
    path("requests/bulk/", desk_queue.bulk, name="bulk"),
    path("requests/<reqno:number>/", desk_request.request_detail, name="request"),
    path("requests/<reqno:number>/slip/", desk_request.print_slip, name="slip"),
    path("requests/<reqno:number>/band/", desk_request.print_band, name="band"),
    path("requests/<reqno:number>/<slug:action>/", desk_request.request_action, name="action"),
    path("shipments/new/", desk_shipment.shipment, name="shipment"),
    path("lenders/", desk_lenders.lenders, name="lenders"),
    path("catalogue/holders/<str:ncid>/", catalogue_views.holders, name="cinii_holders"),
    path("patrons/", desk_patrons.patrons, name="patrons"),
    path("patrons/<patronno:number>/", desk_patrons.patron_detail, name="patron"),
    path("patrons/<patronno:number>/block/", desk_patrons.patron_block, name="patron_block"),
    path("patrons/<patronno:number>/unlock-sign-in/", desk_patrons.patron_unlock_sign_in, name="patron_unlock_sign_in"),
    path("patrons/<patronno:number>/new/<slug:kind>/", desk_patrons.patron_new_request, name="patron_new"),
    path("reports/charges/", fees_views.charges_report, name="charges_report"),
    path("emails/", desk_emails.emails, name="emails"),
]
