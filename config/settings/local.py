"""Settings for `make run`: DEBUG on, SQLite, eager Celery, console e-mail unless told otherwise."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# runserver serves static files itself; whitenoise is for production.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405

# Eager tasks would log a line each; the e-mails themselves are printed by the console backend.
LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # noqa: F405

# One process (runserver): its memory cache is shared by every request it serves.
CACHE_PERMISSIONS = True
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Django's debug pages (the yellow error page, the URL list) are written with inline style and
# script: with DEBUG on, the policy is only reported (in the browser's console), not enforced.
# The tests and production enforce it.
if DEBUG:
    CONTENT_SECURITY_POLICY_REPORT_ONLY = CONTENT_SECURITY_POLICY or CONTENT_SECURITY_POLICY_REPORT_ONLY  # noqa: F405
    CONTENT_SECURITY_POLICY = None
