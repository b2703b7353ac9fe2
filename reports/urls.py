from django.urls import path

from reports import views, views_copyright, views_lending, views_nacsis, views_offset_lending

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    # The accounting office's files (NACSIS helper).
    path("nacsis/", views_nacsis.nacsis_export, name="nacsis"),
    path("offset/", views_nacsis.offset_statements, name="offset"),
    path("offset/<int:pk>/", views_nacsis.offset_statement, name="offset_statement"),
    path("offset/line/<int:pk>/resolve/", views_nacsis.resolve_line, name="offset_resolve"),
    path("offset/<int:pk>/lending/", views_offset_lending.lending_side, name="offset_lending"),
    path("offset/<int:pk>/lending/settle/", views_offset_lending.lending_settle, name="offset_lending_settle"),
    path("nacsis/id/<str:number>/", views_nacsis.request_nacsis_id, name="nacsis_id"),
    # The copyright log and the annual survey (copyright helper).
    path("copyright/", views_copyright.copyright_log, name="copyright"),
    path("survey/", views_copyright.survey, name="survey"),
    # The lending figures (DESIGN.md §11; lending reports helper).
    path("lending/", views_lending.lending, name="lending"),
    # The sections of DESIGN.md §10 (pages helper): requests, fill-rate, turnaround, charge-totals, support
    # (only those: /desk/reports/charges/ is the older charges report, desk:charges_report).
    path("<report_section:section>/", views.section, name="section"),
]
