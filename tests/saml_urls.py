"""The site's URLs with the campus sign-in mounted, as config/urls.py has them with SAML_ENABLED=true
(config/urls.py is read once per process, with the test settings' SAML_ENABLED=false)."""

from django.urls import include, path

from config.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("saml2/", include("patrons.urls_saml"))]
