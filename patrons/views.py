from django.conf import settings
from django.contrib.auth import views as auth_views
from django.utils import translation
from django.views.i18n import set_language as django_set_language

from patrons import services


class LoginView(auth_views.LoginView):
    """Log in, then switch the interface to the patron's preferred language."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # The campus sign-in's button above the form (patrons.saml; only when SAML_ENABLED).
        return {**super().get_context_data(**kwargs), "saml_enabled": settings.SAML_ENABLED}

    def form_valid(self, form):
        response = super().form_valid(form)
        patron = getattr(form.get_user(), "patron", None)
        if patron is not None and patron.preferred_language:
            translation.activate(patron.preferred_language)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, patron.preferred_language, max_age=365 * 24 * 3600, samesite="Lax"
            )
        return response


def set_language(request):
    """Django's language switcher, and for a signed-in patron the profile's language too: the
    e-mails are written in the profile's language, so the choice must follow the patron."""
    response = django_set_language(request)
    language = request.POST.get("language", "") if request.method == "POST" else ""
    patron = getattr(request.user, "patron", None) if request.user.is_authenticated else None
    if patron is not None and language:
        services.set_preferred_language(patron, language, actor=request.user)
    return response
