"""Settings shared by every environment, read from the environment with django-environ.

With no environment at all this gives the embedded defaults `make run` relies on: SQLite in the
project folder, Celery tasks run eagerly in the web process, e-mail printed on the console.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from config.saml import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-only-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "axes",
    "csp",
    "core",
    "ill",
    "patrons",
    "fees",
    "notifications",
    "reports",
    "lending",
    "iso18626",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "patrons.sessions.SessionLimitsMiddleware",  # idle and maximum session time (after auth and messages)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ill.context_processors.desk",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite when DATABASE_URL is unset; PostgreSQL (psycopg 3) in production and CI.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ---------------------------------------------------------------------
# CACHE_URL, e.g. redis://127.0.0.1:6379/1: a cache every web worker shares. With it, sessions are
# read from the cache (written through to the database) and permission sets are cached, so a page
# pays no query for who is asking. Without it (the embedded default) each process has its own
# memory cache, which may only hold what cannot go stale between processes.
SHARED_CACHE = bool(env("CACHE_URL", default=""))
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://ill-desk")}
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if SHARED_CACHE else "db")
CACHE_PERMISSIONS = SHARED_CACHE

# --- Content-Security-Policy and Permissions-Policy (every environment) ----------------------
# No page needs inline script or style: JS is in static/js (deferred files), CSS in static/css,
# values reach scripts through data-* attributes. DJANGO_CSP_REPORT_ONLY=true sends the same
# policy as Content-Security-Policy-Report-Only (the browser reports, blocks nothing) to stage
# it; DJANGO_CSP_REPORT_URI names where browsers POST their reports.
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        **({"report-uri": env("DJANGO_CSP_REPORT_URI")} if env("DJANGO_CSP_REPORT_URI", default="") else {}),
    }
}
_CSP_STAGED = env.bool("DJANGO_CSP_REPORT_ONLY", default=False)  # not CSP_*: django-csp 3's names
CONTENT_SECURITY_POLICY = None if _CSP_STAGED else _CSP_POLICY
CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY if _CSP_STAGED else None
# Browser features no page uses, denied to the site and to anything it might embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture",
        "encrypted-media", "geolocation", "gyroscope", "hid", "idle-detection", "magnetometer",
        "microphone", "midi", "payment", "publickey-credentials-get", "screen-wake-lock", "serial",
        "usb", "xr-spatial-tracking",
    )
}  # fmt: skip

# --- Authentication -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "patrons.backends.DeskBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Sign-in lockout (django-axes, patrons/signin.py): AXES_FAILURE_LIMIT wrong passwords for one user
# from one client address lock that user on that address for AXES_COOLOFF_MINUTES. Other users and
# other addresses are not affected (the combination [["username", "ip_address"]]), so nobody can
# lock out the admin or everyone behind a proxy. Failures while locked do not prolong the lock, so
# the time the page gives holds; a successful sign-in clears the user's count on that address.
# Staff lift a lock from the desk's patron page or the admin (patrons.services.unlock_sign_in).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "patrons.signin.lockout_response"
# The client address: TRUSTED_PROXY_COUNT is how many reverse proxies stand in front of the app
# (each appending to X-Forwarded-For); 0 = none, only REMOTE_ADDR is read. Taken by
# patrons.signin.client_ip: exactly the entry that many places from the right, else REMOTE_ADDR.
# Set it to exactly the number of proxies: one too many lets a client choose its address, one too
# few makes every client the proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "patrons.signin.client_ip"

# Campus sign-in (SAML 2.0 with the university's identity provider, Shibboleth / GakuNin: djangosaml2
# and pysaml2, which needs the xmlsec1 program; patrons/saml.py). Off by default; local passwords stay
# for staff and the demo either way. SAML_IDP_METADATA: a file path (recommended; refreshed by a job
# of your own) or a URL (checked against SAML_IDP_METADATA_CERT). SAML_IDP_ENTITY_ID picks the
# university's IdP when the metadata holds several (a federation's). The SAML_ATTR_* name the
# attributes (friendly names as pysaml2 knows them, or urn:oid:… names); SAML_ATTR_STUDENT_NUMBER is
# blank (no look-up by number) until the IdP's operators say which attribute carries it.
SAML_ENABLED = env.bool("SAML_ENABLED", default=False)
SAML_IDP_METADATA = env("SAML_IDP_METADATA", default="")
SAML_IDP_METADATA_CERT = env("SAML_IDP_METADATA_CERT", default="")
SAML_IDP_ENTITY_ID = env("SAML_IDP_ENTITY_ID", default="")
SAML_SP_ENTITY_ID = env("SAML_SP_ENTITY_ID", default="")  # default: SITE_URL + /saml2/metadata/
SAML_SP_KEY_FILE = env("SAML_SP_KEY_FILE", default="")
SAML_SP_CERT_FILE = env("SAML_SP_CERT_FILE", default="")
SAML_ATTR_EPPN = env("SAML_ATTR_EPPN", default="eduPersonPrincipalName")
SAML_ATTR_AFFILIATION = env.list(
    "SAML_ATTR_AFFILIATION", default=["eduPersonAffiliation", "eduPersonScopedAffiliation"]
)
SAML_ATTR_STUDENT_NUMBER = env("SAML_ATTR_STUDENT_NUMBER", default="")
SAML_ATTR_NAME = env.list("SAML_ATTR_NAME", default=["jaDisplayName", "displayName"])
SAML_ATTR_EMAIL = env("SAML_ATTR_EMAIL", default="mail")
# An unknown person (no patron with that ePPN or student number) is refused unless this is on; then
# a patron is created from the attributes (category from the affiliation, SAML_NEW_PATRON_BRANCH's
# code as the home branch, else the first active branch). Needs the student-number attribute.
SAML_CREATE_PATRONS = env.bool("SAML_CREATE_PATRONS", default=False)
SAML_NEW_PATRON_BRANCH = env("SAML_NEW_PATRON_BRANCH", default="")
# Affiliation → patron category, first match wins (a faculty member who also studies is faculty).
SAML_AFFILIATION_CATEGORIES = [("faculty", "faculty"), ("student", "undergraduate"), ("staff", "staff")]
SAML_AUTHN_BINDING = env("SAML_AUTHN_BINDING", default="post")  # "post" or "redirect"
SAML_METADATA_REFRESH_MINUTES = env.int("SAML_METADATA_REFRESH_MINUTES", default=60)

# Sessions for shared library PCs (patrons/sessions.py): a session ends when the browser closes,
# after SESSION_IDLE_MINUTES without a request (0 = no idle limit) and SESSION_MAX_HOURS after
# sign-in however active. Cookies HttpOnly and SameSite=Lax; Secure in production.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = env.int("SESSION_MAX_HOURS", default=12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the language only, kept as the login and profile pages did
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = False  # production.py: with the session cookie's

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
# Unambiguous dates in both languages (config/formats: 1 Dec 2026 / 2026-12-01, 2026年12月1日).
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Django's form renderer, with the plain widgets written in Python (the same HTML, a tenth of the time).
FORM_RENDERER = "ill.widgets.DeskFormRenderer"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail ---------------------------------------------------------------------------------
# EMAIL_URL, e.g. smtp://user:pass@mail.example.ac.jp:587/?tls=True; console by default.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ILL Desk <ill@library.example.ac.jp>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds the SMTP socket waits for any one answer. Keep it well below the e-mail task's own soft
# time limit (45 s, hard 60 s: notifications.delivery), which bounds a whole attempt and so the
# time after which a message left "sending" by a dead worker is sent again (STALE_CLAIM, 90 s).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_SUBJECT_PREFIX = "[ILL] "

# --- Celery ---------------------------------------------------------------------------------
# With no broker the tasks run eagerly in the calling process (still after commit).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default=""))
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Celery still takes a producer from the broker's connection pool for an eager task (to read its
# serializer): an in-process memory transport, named with a host, since kombu warns "No hostname
# was supplied" once a process for a URL without one.
EAGER_BROKER_URL = "memory://localhost/"
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = EAGER_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / "celerybeat-schedule"))
# Two queues, two workers: e-mail (`worker -Q email`) is never stuck behind a job (budget
# monitors, reminders, the digest, housekeeping: the default queue, `worker -Q celery`). Within
# the e-mail queue a patron's message overtakes reminders and the sweep: on Redis the lower
# priority number is taken first (notifications.tasks).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"notifications.tasks.*": {"queue": "email"}}
# Each run of a periodic job handles at most this many rows, in index order, then queues the
# next run from where it stopped: no job holds a worker for minutes or reads the whole history.
JOB_BATCH_SIZE = env.int("JOB_BATCH_SIZE", default=500)
# The admin's holdings import (ill.holdings): the largest upload accepted (a larger one is refused with
# a form error, 400), and how long its Celery task may run (its own limit, not CELERY_TASK_TIME_LIMIT's).
HOLDINGS_IMPORT_MAX_MB = env.int("HOLDINGS_IMPORT_MAX_MB", default=100)
HOLDINGS_IMPORT_TIME_LIMIT = env.int("HOLDINGS_IMPORT_TIME_LIMIT", default=1800)
# NACSIS-ILL (reports.nacsis, reports.offset): this library's participant organisation ID (参加組織ID,
# 8 characters, e.g. FA001234) — the OMLID of our requests in the fee-offset statement; blank until set,
# and the statement import refuses to run without it. ACCT (支払区分) written for each payment class:
# NACSIS documents pb (公費, public) and pr (私費, private); the other codes are not documented.
NACSIS_PARTICIPANT_ID = env("NACSIS_PARTICIPANT_ID", default="").strip().upper()
NACSIS_ACCT_CODES = {"public": "pb", "grant": "pb", "support": "pb", "private": "pr"}
# The registrar's patron import (patrons.registrar), the same two limits.
PATRON_IMPORT_MAX_MB = env.int("PATRON_IMPORT_MAX_MB", default=20)
PATRON_IMPORT_TIME_LIMIT = env.int("PATRON_IMPORT_TIME_LIMIT", default=1800)

# --- Site and library rules -----------------------------------------------------------------
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
LIBRARY_NAME = env("LIBRARY_NAME", default="")
# DESIGN.md §3.1: books a patron may have ordered or kept at once.
ILL_MAX_ACTIVE_LOANS = env.int("ILL_MAX_ACTIVE_LOANS", default=5)
# DESIGN.md §3.4: a book published within this many months is a "new publication".
ILL_NEW_PUBLICATION_MONTHS = env.int("ILL_NEW_PUBLICATION_MONTHS", default=6)
ILL_OLDEST_LOANABLE_YEAR = 1945
# DESIGN.md §4: the patron's due date is this many days before the lender's.
ILL_DUE_DATE_MARGIN_DAYS = env.int("ILL_DUE_DATE_MARGIN_DAYS", default=3)
# DESIGN.md §9: private-expense pick-up only on weekdays in this window.
ILL_PRIVATE_PICKUP_HOURS = (
    env("ILL_PRIVATE_PICKUP_OPENS", default="08:45"),
    env("ILL_PRIVATE_PICKUP_CLOSES", default="17:00"),
)
ILL_DUE_SOON_DAYS = env.int("ILL_DUE_SOON_DAYS", default=3)
ILL_OVERDUE_REPEAT_DAYS = env.int("ILL_OVERDUE_REPEAT_DAYS", default=7)
ILL_NOT_COLLECTED_DAYS = env.int("ILL_NOT_COLLECTED_DAYS", default=14)

# --- Lending to other libraries (lending; DESIGN.md §11) --------------------------------------
# The loan period we give a borrowing library when staff ship a book without a due date (days from
# the shipping day; NACSIS-ILL libraries usually lend for about a month, transit included).
LENDING_LOAN_DAYS = env.int("LENDING_LOAN_DAYS", default=30)
# Printed on our invoices (copied onto each invoice when it is issued, so a later change does not
# alter an invoice already sent). registration_number: the qualified-invoice (適格請求書) number,
# "T" and 13 digits, optional (empty: the invoice does not claim to be a qualified invoice).
LENDING_INVOICE_ISSUER = {
    "name": env("LENDING_INVOICE_ISSUER_NAME", default=""),
    "address": env("LENDING_INVOICE_ISSUER_ADDRESS", default=""),
    "phone": env("LENDING_INVOICE_ISSUER_PHONE", default=""),
    "email": env("LENDING_INVOICE_ISSUER_EMAIL", default=""),
    "registration_number": env("LENDING_INVOICE_REGISTRATION_NUMBER", default="").strip().upper(),
}
# Where borrowing libraries pay our invoices; account_type 普通 / 当座; holder in katakana as the bank has it.
LENDING_BANK_DETAILS = {
    "bank": env("LENDING_BANK_NAME", default=""),
    "branch": env("LENDING_BANK_BRANCH", default=""),
    "account_type": env("LENDING_BANK_ACCOUNT_TYPE", default=""),
    "account_number": env("LENDING_BANK_ACCOUNT_NUMBER", default=""),
    "account_holder_kana": env("LENDING_BANK_ACCOUNT_HOLDER_KANA", default=""),
}

# --- Retention (ill.retention; nightly beat jobs, config/schedules.py) ------------------------
# A patron's request history is a reading record: this many years after a request closed
# (completed, cancelled, rejected, closed unfilled) it is anonymised — the link to the patron and
# the free text about them removed; kind, dates, status, lender, branch, budget code, money and the
# patron's category and department kept for the reports. 0 keeps everything forever.
RETENTION_REQUEST_YEARS = env.int("RETENTION_REQUEST_YEARS", default=5)
# Expired sessions deleted every night (Django's clearsessions, in batches).
RETENTION_SESSIONS = env.bool("RETENTION_SESSIONS", default=True)
# django-axes' log-in records (attempts, successful log-ins, failures) older than this many days
# are deleted. 0 keeps them.
RETENTION_LOGIN_LOG_DAYS = env.int("RETENTION_LOGIN_LOG_DAYS", default=90)
# The text and HTML of e-mails sent more than this many days ago are emptied; the row (kind,
# recipient, subject, status, times) stays for the audit. 0 keeps them.
RETENTION_EMAIL_BODY_DAYS = env.int("RETENTION_EMAIL_BODY_DAYS", default=90)

# --- Look-up from the national catalogues (ill.catalogue) ------------------------------------
# CATALOGUE_LOOKUP: "" (off, the default), "ndl" (ISBN / ISSN from NDL Search) or "cinii" (from
# CiNii Books). An NCID and the desk's "libraries holding this" are CiNii Books' own: asked of CiNii
# whenever the look-up is on and CINII_APPID (CiNii's application ID) is set. The base URLs can
# point elsewhere (a mirror, a test server); nothing else is ever called. CATALOGUE_TIMEOUT bounds
# the whole answer (seconds); answers are cached CATALOGUE_CACHE_SECONDS; each user may look up
# CATALOGUE_RATE_PER_MINUTE times a minute. NDL_API: "sru" (dcndl records) or "opensearch" (RSS).
CATALOGUE_LOOKUP = env("CATALOGUE_LOOKUP", default="").strip().lower()
CINII_APPID = env("CINII_APPID", default="")
NDL_SEARCH_URL = env("NDL_SEARCH_URL", default="https://ndlsearch.ndl.go.jp")
NDL_API = env("NDL_API", default="sru")
CINII_BOOKS_URL = env("CINII_BOOKS_URL", default="https://ci.nii.ac.jp")
CATALOGUE_TIMEOUT = env.float("CATALOGUE_TIMEOUT", default=4.0)
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", default=86400)
CATALOGUE_RATE_PER_MINUTE = env.int("CATALOGUE_RATE_PER_MINUTE", default=20)

# ISO 18626 messaging (iso18626/, README "Connecting two installations"): our ISIL is our agency id;
# a POST to a peer gives up after ISO18626_TIMEOUT seconds and is retried with a doubling backoff
# from ISO18626_RETRY_SECONDS, ISO18626_MAX_ATTEMPTS times in all, then marked failed.
ISO18626_OUR_ISIL = env("ISO18626_OUR_ISIL", default="").strip()
ISO18626_TIMEOUT = env.float("ISO18626_TIMEOUT", default=10.0)
ISO18626_MAX_ATTEMPTS = env.int("ISO18626_MAX_ATTEMPTS", default=8)
ISO18626_RETRY_SECONDS = env.int("ISO18626_RETRY_SECONDS", default=60)
# The XSD every ISO 18626 message is validated against: by default our own (iso18626/schema/iso18626-2021.xsd,
# written for this project from the standard); an operator may point it at the official XSD from illtransactions.org.
ISO18626_SCHEMA_PATH = env("ISO18626_SCHEMA_PATH", default="").strip()

# --- Campus sign-in wiring (the SAML_* settings above; djangosaml2's names) -------------------
# The IdP's answer comes back as a cross-site POST to /saml2/acs/: djangosaml2 keeps the pending
# request in a session of its own (cookie SAML_SESSION_COOKIE_NAME), which production.py sends with
# SameSite=None (and Secure) so that POST carries it; the site's own session and CSRF cookies stay
# SameSite=Lax. The sign-in itself starts a new site session, so nothing needs the Lax cookie then.
SAML_SESSION_COOKIE_NAME = "saml_session"
SAML_SESSION_COOKIE_SAMESITE = "Lax"  # production.py: "None" with Secure cookies
SAML_CSP_HANDLER = ""  # patrons.saml.SamlLoginView allows the IdP's own address as form-action itself
SAML_CONFIG_LOADER = "patrons.saml.load_config"
SAML_ACS_FAILURE_RESPONSE_FUNCTION = "patrons.saml.acs_failure"
SAML_CREATE_UNKNOWN_USER = False  # patrons.saml decides (SAML_CREATE_PATRONS)
SAML_ATTRIBUTE_MAPPING = {}
SAML_DEFAULT_BINDING = BINDING_HTTP_REDIRECT if SAML_AUTHN_BINDING == "redirect" else BINDING_HTTP_POST
if SAML_ENABLED:
    # pysaml2 7.5.5 still names cryptography's CFB mode where cryptography warns about it, on every start.
    warnings.filterwarnings("ignore", message="CFB has been moved", module="saml2.cryptography.symmetric")
    INSTALLED_APPS.append("djangosaml2")
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
        "djangosaml2.middleware.SamlSessionMiddleware",
    )
    AUTHENTICATION_BACKENDS.append("patrons.saml.PatronSamlBackend")
    SAML_CONFIG = saml_config(
        site_url=SITE_URL,
        entity_id=SAML_SP_ENTITY_ID,
        idp_metadata=SAML_IDP_METADATA,
        idp_metadata_cert=SAML_IDP_METADATA_CERT,
        key_file=SAML_SP_KEY_FILE,
        cert_file=SAML_SP_CERT_FILE,
        name=LIBRARY_NAME,
        required_attributes=[SAML_ATTR_EPPN],
        optional_attributes=[
            *SAML_ATTR_AFFILIATION,
            *SAML_ATTR_NAME,
            SAML_ATTR_EMAIL,
            *([SAML_ATTR_STUDENT_NUMBER] if SAML_ATTR_STUDENT_NUMBER else []),
        ],
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "saml2": {"level": "WARNING"},  # pysaml2 logs every message it parses at INFO
        "pyBarcode": {"level": "WARNING"},  # "Pillow not found" on every start: we draw SVG only
        "xmlschema": {"level": "WARNING"},  # "Resource 'XMLSchema.xsd' is already loaded" on every schema load
    },
}
