from django.contrib import admin
from django.urls import include, path

from ill import views as ill_views

urlpatterns = [
    path("", ill_views.home, name="home"),
    path("accounts/", include("patrons.urls")),
    path("my/", include("ill.urls_patron")),
    path("openurl", ill_views.openurl_link, name="openurl"),
    path("openurl/", ill_views.openurl_link),
    path("desk/", include("ill.urls_desk")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
