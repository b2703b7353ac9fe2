"""Settings for the test suite. The database and broker still come from the environment, so CI
runs the same tests on PostgreSQL and Redis."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A worker process started by a test may be pointed at a real SMTP server through TEST_EMAIL_URL.
if not env("TEST_EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
else:
    vars().update(env.email_url("TEST_EMAIL_URL"))
# Tests run tasks eagerly; the tests that need the real broker (CELERY_BROKER_URL, Redis in CI)
# start a worker process and switch eager mode off themselves.
REAL_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default=""))
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_BROKER_URL = EAGER_BROKER_URL if CELERY_TASK_ALWAYS_EAGER else REAL_BROKER_URL  # noqa: F405
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = False
# No idle limit, so no once-a-minute session write that would make query counts depend on how long
# a test takes; tests/test_sessions.py turns it on.
SESSION_IDLE_MINUTES = 0
LANGUAGE_CODE = "ja"

# The live server serves static files itself; whitenoise is for production.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405

# As in production with a shared cache (one process per test worker); tests/conftest.py clears it.
CACHE_PERMISSIONS = True
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
