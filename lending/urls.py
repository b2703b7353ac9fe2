from django.urls import path, register_converter

from lending import views


class NumberConverter:
    """A lending or invoice number (L26-000123, INV-2026-0001): anything else, a NUL
    byte above all (PostgreSQL refuses it in a query), is a 404 before any query runs."""

    regex = r"[A-Za-z0-9._-]{1,40}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class CodeConverter(NumberConverter):
    """A library's code as typed by staff: any characters but a slash or a NUL byte."""

    regex = r"[^/\x00]{1,40}"


register_converter(NumberConverter, "lendingno")
register_converter(CodeConverter, "librarycode")

app_name = "lending"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new_request, name="new"),
    path("slips/pull/", views.pull_slips, name="pull_slips"),
    path("charges/", views.charges, name="charges"),
    path("charges/<librarycode:code>/", views.borrower_charges, name="borrower_charges"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<lendingno:number>/", views.invoice, name="invoice"),
    path("invoices/<lendingno:number>/payment/", views.invoice_payment, name="invoice_payment"),
    path("invoices/<lendingno:number>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path("<lendingno:number>/", views.request_detail, name="request"),
    path("<lendingno:number>/slip/", views.pull_slip, name="slip"),
    path("<lendingno:number>/<slug:action>/", views.request_action, name="action"),
]
