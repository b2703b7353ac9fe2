"""Sessions for shared library PCs: signed out after an idle time and after a maximum length, and
a language cookie with the same flags wherever it is set.

Django ends a session when the browser closes (SESSION_EXPIRE_AT_BROWSER_CLOSE), but browsers that
restore the last session bring the cookie back, and a browser on a counter PC may never be closed.
So the session records when the user was last seen and when they signed in:

- idle: a request more than SESSION_IDLE_MINUTES after the last one signs the user out;
- maximum: a request more than SESSION_COOKIE_AGE seconds after sign-in does too, however active
  (the session's own expiry moves on with each write, so it cannot be the bound by itself).

Both clocks start at sign-in (stamp_sign_in). The last-seen stamp is then written at most once a
minute (TOUCH_SECONDS), not on every request, so a busy page costs no session write; the idle
time is therefore exact to within that minute. With SESSION_IDLE_MINUTES=0 it is never written.
After a sign-out the next page (the login page, for a page that needs login) says why.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.utils.translation import ngettext

LAST_SEEN = "_last_seen"
SIGNED_IN = "_signed_in_at"
TOUCH_SECONDS = 60


def stamp_sign_in(sender, request, user, **kwargs):
    """On sign-in (the user_logged_in signal, connected in patrons.apps): the session starts its
    clocks with the write that login makes anyway, so the next page writes nothing."""
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[SIGNED_IN] = now
        session[LAST_SEEN] = now


class SessionLimitsMiddleware:
    """After SessionMiddleware, AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            self._check(request, session)
        response = self.get_response(request)
        _secure_language_cookie(response)
        return response

    def _check(self, request, session):
        now = int(time.time())
        last_seen, signed_in = session.get(LAST_SEEN), session.get(SIGNED_IN)
        idle_minutes = getattr(settings, "SESSION_IDLE_MINUTES", 0)
        if idle_minutes and last_seen is not None and now - last_seen > idle_minutes * 60:
            logout(request)
            messages.info(
                request,
                ngettext(
                    "You were signed out after %(minutes)d minute without activity. Please log in again.",
                    "You were signed out after %(minutes)d minutes without activity. Please log in again.",
                    idle_minutes,
                )
                % {"minutes": idle_minutes},
            )
            return
        if signed_in is not None and now - signed_in > settings.SESSION_COOKIE_AGE:
            logout(request)
            hours = max(1, settings.SESSION_COOKIE_AGE // 3600)
            messages.info(
                request,
                ngettext(
                    "You were signed out because a session lasts at most %(hours)d hour. Please log in again.",
                    "You were signed out because a session lasts at most %(hours)d hours. Please log in again.",
                    hours,
                )
                % {"hours": hours},
            )
            return
        if signed_in is None:  # a session from before this middleware
            session[SIGNED_IN] = now
        if idle_minutes and (last_seen is None or now - last_seen >= TOUCH_SECONDS):
            session[LAST_SEEN] = now


def _secure_language_cookie(response):
    """Give the language cookie the LANGUAGE_COOKIE_* flags whoever set it (Django's set_language
    does; the views that set it after a login or a profile change may not)."""
    morsel = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    if morsel is None or not morsel.value:
        return
    morsel["secure"] = bool(settings.LANGUAGE_COOKIE_SECURE)
    morsel["httponly"] = bool(settings.LANGUAGE_COOKIE_HTTPONLY)
    if settings.LANGUAGE_COOKIE_SAMESITE:
        morsel["samesite"] = settings.LANGUAGE_COOKIE_SAMESITE
