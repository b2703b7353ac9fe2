from django.urls import path

from lending import views

app_name = "lending"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new_request, name="new"),
    path("slips/pull/", views.pull_slips, name="pull_slips"),
    path("charges/", views.charges, name="charges"),
    path("charges/<str:code>/", views.borrower_charges, name="borrower_charges"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<str:number>/", views.invoice, name="invoice"),
    path("invoices/<str:number>/payment/", views.invoice_payment, name="invoice_payment"),
    path("invoices/<str:number>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path("<str:number>/", views.request_detail, name="request"),
    path("<str:number>/slip/", views.pull_slip, name="slip"),
    path("<str:number>/<slug:action>/", views.request_action, name="action"),
]
