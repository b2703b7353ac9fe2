from django.conf import settings
from django.contrib.auth import views as auth_views
from django.utils import translation


class LoginView(auth_views.LoginView):
    """Log in, then switch the interface to the patron's preferred language."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        patron = getattr(form.get_user(), "patron", None)
        if patron is not None and patron.preferred_language:
            translation.activate(patron.preferred_language)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, patron.preferred_language, max_age=365 * 24 * 3600, samesite="Lax"
            )
        return response
