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

# The demo's invoices (lending): obviously-demo issuer and bank details where the environment gives
# none, so the print view looks like the real thing. Production's defaults stay empty.
_DEMO_ISSUER = {
    "name": "デモ大学附属図書館",
    "address": "〒680-0000 鳥取県鳥取市デモ町1-1",
    "phone": "0857-00-0000",
    "email": "ill-lending@library.example.ac.jp",
    "registration_number": "T0000000000000",
}
_DEMO_BANK = {
    "bank": "デモ銀行",
    "branch": "本店",
    "account_type": "普通",
    "account_number": "0000000",
    "account_holder_kana": "ﾃﾞﾓﾀﾞｲｶﾞｸ",
}
LENDING_INVOICE_ISSUER = {k: v or _DEMO_ISSUER.get(k, "") for k, v in LENDING_INVOICE_ISSUER.items()}  # noqa: F405
LENDING_BANK_DETAILS = {k: v or _DEMO_BANK.get(k, "") for k, v in LENDING_BANK_DETAILS.items()}  # noqa: F405
