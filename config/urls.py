from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.cache import never_cache

from ill.views import patron as ill_views
from notifications.health import report
from patrons import views as patron_views


@never_cache
def health(request):
    """For load balancers and monitoring: 200 when the database, broker and outbox are fine."""
    staff = request.user.is_authenticated and request.user.has_perm("ill.work_desk")
    result = report(check_workers=staff and request.GET.get("workers") == "1")
    body = result if staff else {"ok": result["ok"]}  # no hosts, worker names or errors for strangers
    return JsonResponse(body, status=200 if result["ok"] else 503)


urlpatterns = [
    path("health/", health, name="health"),
    path("", ill_views.home, name="home"),
    path("accounts/", include("patrons.urls")),
    path("my/", include("ill.urls_patron")),
    path("openurl", ill_views.openurl_link, name="openurl"),
    path("openurl/", ill_views.openurl_link),
    path("desk/reports/", include("reports.urls")),
    path("desk/lending/", include("lending.urls")),
    path("iso18626/", include("iso18626.urls")),
    path("desk/", include("ill.urls_desk")),
    path("i18n/setlang/", patron_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
]
if settings.SAML_ENABLED:  # the campus sign-in (djangosaml2's views and the refusal page), off by default
    urlpatterns.append(path("saml2/", include("patrons.urls_saml")))
