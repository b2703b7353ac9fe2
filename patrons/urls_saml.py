"""The campus sign-in's URLs under /saml2/ (config/urls.py mounts them only when SAML_ENABLED):
djangosaml2's names, with patrons.saml's views for sign-in start and assertion consumer. No SAML
single logout: signing out of the library ends the library's session only."""

from django.urls import path
from djangosaml2 import views as saml_views

from patrons import saml

urlpatterns = [
    path("login/", saml.SamlLoginView.as_view(), name="saml2_login"),
    path("acs/", saml.SamlAcsView.as_view(), name="saml2_acs"),
    path("metadata/", saml_views.MetadataView.as_view(), name="saml2_metadata"),
    path("refused/", saml.refused, name="saml_refused"),
]
