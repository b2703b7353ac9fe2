"""Reads about people: who gets the staff and admin e-mails, and in which language."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from patrons.roles import CIRCULATION_STAFF, ILL_ADMINS


def language_of(user) -> str:
    """A patron's chosen language; the site's language for staff who are not patrons."""
    patron = getattr(user, "patron", None) if hasattr(user, "patron") else None
    return patron.preferred_language if patron is not None else settings.LANGUAGE_CODE


def _with_language(users) -> list[tuple]:
    return [(user, language_of(user)) for user in users]


def admin_recipients() -> list[tuple]:
    """(user, language) of everyone who administers the ILL service and has an e-mail address."""
    users = (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=ILL_ADMINS), is_active=True)
        .exclude(email="")
        .distinct()
        .select_related("patron")
    )
    return _with_language(users)


def desk_staff() -> list[tuple]:
    """(user, language) of the circulation staff and administrators with an e-mail address."""
    users = (
        get_user_model()
        .objects.filter(groups__name__in=[CIRCULATION_STAFF, ILL_ADMINS], is_active=True)
        .exclude(email="")
        .distinct()
        .select_related("patron")
    )
    return _with_language(users)
