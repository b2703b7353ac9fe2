from django.urls import path

from reports import views, views_copyright, views_nacsis

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    # The accounting office's files (NACSIS helper).
    path("nacsis/", views_nacsis.nacsis_export, name="nacsis"),
    path("offset/", views_nacsis.offset_statements, name="offset"),
    # The copyright log and the annual survey (copyright helper).
    path("copyright/", views_copyright.copyright_log, name="copyright"),
    path("survey/", views_copyright.survey, name="survey"),
]
