"""Production settings: PostgreSQL with persistent connections, Redis broker, whitenoise, HTTPS.

Refuses to start without a real DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, DATABASES, env

DEBUG = False

# Values that were ever shown as an example (.env.example, the README, the development default):
# public, so never a secret. .env.example itself is read too when it is there (not in the image).
EXAMPLE_SECRET_KEYS = frozenset(
    {
        "change-me-to-50-random-characters-python-c-secrets-token-urlsafe",
        "change-me-generate-with-python-c-import-secrets-print-secrets-token-urlsafe-50",
        "insecure-dev-only-key-change-me",
    }
)
PLACEHOLDER_PREFIXES = ("insecure", "django-insecure", "change-me", "changeme", "change_me")
GENERATE_SECRET_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def weak_secret_key_reason(key: str) -> str:
    """Why `key` must not sign sessions and password resets in production ("" when it may)."""
    if not key:
        return "is not set"
    if len(key) < 50:
        return f"has {len(key)} characters; at least 50 are needed"
    if len(set(key)) < 5:
        return "has fewer than 5 different characters"
    if key.lower().startswith(PLACEHOLDER_PREFIXES):
        return "is a placeholder"
    example = BASE_DIR / ".env.example"
    if key in EXAMPLE_SECRET_KEYS or (example.exists() and key in example.read_text(encoding="utf-8")):
        return "is a published example value"
    return ""


SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if reason := weak_secret_key_reason(SECRET_KEY):
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY {reason}. Production needs a random key of its own, at least 50 characters: "
        f"generate one with  {GENERATE_SECRET_KEY}  and put it in .env or the environment."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names this site answers to.")

# A console, memory or dummy e-mail back-end marks every message sent and delivers none: refused,
# unless a staging box says so explicitly (ALLOW_CONSOLE_EMAIL=true).
NON_DELIVERING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}
if EMAIL_BACKEND in NON_DELIVERING_EMAIL_BACKENDS and not env.bool("ALLOW_CONSOLE_EMAIL", default=False):  # noqa: F405
    raise ImproperlyConfigured(
        "EMAIL_URL must name the mail server in production (e.g. smtp://user:pw@mail.example.ac.jp:587/?tls=True): "
        "it is unset or names a back-end that delivers nothing. Set ALLOW_CONSOLE_EMAIL=true only on a staging box."
    )

DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The campus sign-in's own session cookie (djangosaml2) must come back with the IdP's cross-site POST:
# SameSite=None, which browsers accept only with Secure. The site's session and CSRF cookies stay Lax.
SAML_SESSION_COOKIE_SAMESITE = "None" if SESSION_COOKIE_SECURE else "Lax"
# HSTS: once a browser has seen it, it refuses plain HTTP to this host for that long. One year by
# default; stage it with DJANGO_SECURE_HSTS_SECONDS=300 (then 86400, ...) while HTTPS is proven.
# includeSubDomains covers only names *below* this host; "preload" is consent for the preload
# list, which takes effect only if someone submits the registrable domain (hstspreload.org).
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
ADMINS = [("ILL admin", a) for a in env.list("DJANGO_ADMINS", default=[])]
