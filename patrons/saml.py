"""Campus sign-in with the university's identity provider (SAML 2.0: Shibboleth / GakuNin), through
djangosaml2 and pysaml2. On only with settings.SAML_ENABLED (config/settings/base.py wires this
module in then; nothing imports it otherwise, so a site without it never loads pysaml2).

Who gets in. The assertion's attributes (names in settings.SAML_ATTR_*) are matched to a patron:

1. the patron whose `eppn` is the eduPersonPrincipalName sent;
2. else, when the IdP sends a student number (SAML_ATTR_STUDENT_NUMBER), the patron with that
   patron number and no ePPN yet: the ePPN is written to the patron (linked), so next time 1 holds;
3. else, only with SAML_CREATE_PATRONS, a new patron from the attributes (category from the
   affiliation, SAML_AFFILIATION_CATEGORIES), which needs the student number and an eligible
   affiliation;
4. else nobody: "your university account is not registered for ILL; ask the counter".

Refused even when found: a patron who has left (`Patron.active` off, the registrar import), a
disabled login, and any staff or admin login (is_staff, is_superuser, a StaffMember record or a
staff group): they sign in with their library password; an ePPN on a staff login is not supported.
A local login whose user name is the ePPN is never taken over.

A refusal is a 403 page in the user's language (`refused`), reached through a 303 from the
assertion consumer (a GET, so the language cookie comes along even after the IdP's cross-site
POST), saying why and what to do; a broken or forged answer says only that the sign-in failed.
"""

import copy
import json
import logging
import os
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from djangosaml2 import views as saml_views
from djangosaml2.utils import available_idps
from saml2.config import SPConfig

from patrons.backends import DeskBackend
from patrons.models import Branch, Patron, PatronEvent

logger = logging.getLogger(__name__)

BINDING_HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

# Why a sign-in was refused: the code travels in the refusal page's URL, the text is shown there.
REFUSALS = {
    "unregistered": _(
        "Your university account is not registered for interlibrary loan. Please ask at the library counter: "
        "bring your student or staff ID card."
    ),
    "left": _(
        "Your registration as a library user has ended (you are no longer on the university's list). "
        "If this is a mistake, please ask at the library counter."
    ),
    "disabled": _("This library account is disabled. Please ask at the library counter."),
    "staff": _(
        "Library staff and administrators sign in with their library user name and password, not with the "
        "university account."
    ),
    "mismatch": _(
        "Your patron number is registered with a different university account. Please ask at the library counter."
    ),
    "incomplete": _(
        "The university's sign-in did not send what the library needs to recognise you (your account name or "
        "student number). Please ask at the library counter."
    ),
    "failed": _(
        "The sign-in with your university account did not complete. Please try again; if it keeps failing, "
        "ask at the library counter."
    ),
}


class SamlRefusal(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- The attributes -----------------------------------------------------------------------------


def _values(attributes: dict, names) -> list[str]:
    """The non-blank values of the first of `names` the assertion has (pysaml2 gives friendly names
    for the attributes it knows, the urn:oid: name for others; both are accepted)."""
    if isinstance(names, str):
        names = [names]
    lowered = {key.lower(): value for key, value in attributes.items()}
    for name in names:
        if not name:
            continue
        found = attributes.get(name, lowered.get(name.lower()))
        values = [str(v).strip() for v in (found or []) if str(v).strip()]
        if values:
            return values
    return []


def eppn_of(attributes: dict) -> str:
    values = _values(attributes, settings.SAML_ATTR_EPPN)
    return values[0] if values else ""


def student_number_of(attributes: dict) -> str:
    """The student (or staff) number: a bare value, a scoped one (12345678@example.ac.jp) or a
    SCHAC URN (urn:schac:personalUniqueCode:jp:example.ac.jp:studentID:12345678) all give 12345678."""
    values = _values(attributes, settings.SAML_ATTR_STUDENT_NUMBER)
    if not values:
        return ""
    return values[0].rsplit(":", 1)[-1].split("@", 1)[0].strip()


def affiliations_of(attributes: dict) -> set[str]:
    """eduPersonAffiliation values, the scope of scoped ones (student@example.ac.jp) dropped."""
    found = set()
    for name in settings.SAML_ATTR_AFFILIATION:
        for value in _values(attributes, name):
            found.add(value.split("@", 1)[0].strip().lower())
    return found


def category_for(affiliations: set[str]) -> str:
    for affiliation, category in settings.SAML_AFFILIATION_CATEGORIES:
        if affiliation in affiliations:
            return category
    return ""


# --- Who it is ----------------------------------------------------------------------------------


def is_privileged(user) -> bool:
    """Staff and administrators never get in by the campus sign-in."""
    return bool(user.is_staff or user.is_superuser or hasattr(user, "staff_member") or user.groups.exists())


def _check(patron: Patron) -> Patron:
    user = patron.user
    if is_privileged(user):
        raise SamlRefusal("staff")
    if not patron.active:
        raise SamlRefusal("left")
    if not user.is_active:
        raise SamlRefusal("disabled")
    return patron


def _log(patron, action, eppn, **data):
    PatronEvent.objects.create(patron=patron, action=action, note=eppn, data={"eppn": eppn, **data})


@transaction.atomic
def patron_for(attributes: dict) -> Patron:
    """The patron the assertion's attributes name (see the module's docstring), linked or created
    as the settings allow; raises SamlRefusal with the reason otherwise. Nothing is written for a
    refused person."""
    eppn = eppn_of(attributes)
    if not eppn:
        raise SamlRefusal("incomplete")
    patron = Patron.objects.select_related("user").filter(eppn=eppn).first()
    if patron is not None:
        return _check(patron)

    number = student_number_of(attributes)
    if number:
        patron = Patron.objects.select_for_update().select_related("user").filter(patron_number=number).first()
        if patron is not None:
            _check(patron)
            if patron.eppn:
                logger.warning("SAML: patron %s is linked to another ePPN than %s", patron.patron_number, eppn)
                raise SamlRefusal("mismatch")
            patron.eppn = eppn
            patron.save(update_fields=["eppn", "updated_at"])
            _log(patron, "saml_linked", eppn, patron_number=number)
            return patron

    if not settings.SAML_CREATE_PATRONS:
        raise SamlRefusal("unregistered")
    return _create(attributes, eppn, number)


def _create(attributes: dict, eppn: str, number: str) -> Patron:
    if not number:
        raise SamlRefusal("incomplete")
    category = category_for(affiliations_of(attributes))
    if not category:
        raise SamlRefusal("unregistered")
    branches = Branch.objects.filter(active=True)
    if settings.SAML_NEW_PATRON_BRANCH:
        branches = branches.filter(code=settings.SAML_NEW_PATRON_BRANCH)
    branch = branches.order_by("code").first()
    User = get_user_model()
    if branch is None or len(eppn) > User._meta.get_field("username").max_length:
        raise SamlRefusal("unregistered")
    if User._default_manager.filter(username=eppn).exists():  # never take over a local login
        raise SamlRefusal("unregistered")
    names = _values(attributes, settings.SAML_ATTR_NAME)
    emails = _values(attributes, settings.SAML_ATTR_EMAIL)
    try:
        with transaction.atomic():
            user = User(username=eppn, email=emails[0][:254] if emails else "")
            user.set_unusable_password()
            user.save()
            patron = Patron.objects.create(
                user=user,
                patron_number=number[:30],
                eppn=eppn,
                full_name=(names[0] if names else eppn)[:150],
                category=category,
                home_branch=branch,
            )
    except IntegrityError:  # the same person signing in twice at once: the other request created it
        patron = Patron.objects.select_related("user").filter(eppn=eppn).first()
        if patron is None:
            raise SamlRefusal("unregistered") from None
        return _check(patron)
    _log(patron, "saml_created", eppn, category=category)
    return patron


class PatronSamlBackend(BaseBackend):
    """The authentication backend djangosaml2's assertion consumer calls (with the parsed, checked
    assertion as `session_info`). A BaseBackend, not djangosaml2's Saml2Backend (a ModelBackend):
    it answers no permission questions, so a page asks them of DeskBackend alone, cached."""

    def authenticate(self, request, session_info=None, attribute_mapping=None, create_unknown_user=None, **kwargs):
        if session_info is None or "ava" not in session_info:
            return None
        try:
            patron = patron_for(session_info["ava"])
        except SamlRefusal as refusal:
            if request is not None:
                request.saml_refusal = refusal.code
            logger.info("SAML sign-in refused (%s) for %s", refusal.code, eppn_of(session_info["ava"]) or "?")
            raise PermissionDenied(refusal.code) from None
        return patron.user

    def get_user(self, user_id):
        return DeskBackend().get_user(user_id)


# --- The views ----------------------------------------------------------------------------------

_config_lock = threading.Lock()
_config_cache: dict = {}


def _metadata_stamp(raw: dict):
    files = [path for path in raw.get("metadata", {}).get("local", [])]
    return tuple((path, os.path.getmtime(path) if os.path.exists(path) else None) for path in files)


def load_config(request=None) -> SPConfig:
    """settings.SAML_CONFIG as pysaml2's SPConfig (SAML_CONFIG_LOADER), kept in the process for
    SAML_METADATA_REFRESH_MINUTES or until a local metadata file changes: a federation's metadata
    holds thousands of entities, too many to read again on every sign-in."""
    raw = settings.SAML_CONFIG
    key = (json.dumps(raw, sort_keys=True, default=str), _metadata_stamp(raw))
    now = time.monotonic()
    with _config_lock:
        cached = _config_cache.get("entry")
        if cached and cached[0] == key and now - cached[1] < settings.SAML_METADATA_REFRESH_MINUTES * 60:
            return cached[2]
        conf = SPConfig()
        conf.load(copy.deepcopy(raw))
        _config_cache["entry"] = (key, now, conf)
        return conf


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def sso_origins(conf: SPConfig) -> list[str]:
    """Where the identity providers' single sign-on endpoints (HTTP-POST) are: the only places the
    POST-binding page may send its form to (the site's CSP says form-action 'self' otherwise)."""
    origins = set()
    for entity_id in available_idps(conf):
        services = conf.metadata.service(entity_id, "idpsso_descriptor", "single_sign_on_service", BINDING_HTTP_POST)
        for service in services or []:
            origins.add(_origin(service["location"]))
    return sorted(origins)


class SamlLoginView(saml_views.LoginView):
    """djangosaml2's sign-in start, for the university's IdP (SAML_IDP_ENTITY_ID when the metadata
    holds several). With the HTTP-POST binding it renders templates/djangosaml2/post_binding_form.html
    (no inline script: static/js/saml_post.js submits it) and allows that form, and only it, to go to
    the IdP's address (form-action); the redirect binding needs neither."""

    def get(self, request, *args, **kwargs):
        if settings.SAML_IDP_ENTITY_ID and "idp" not in request.GET:
            request.GET = request.GET.copy()
            request.GET["idp"] = settings.SAML_IDP_ENTITY_ID
        response = super().get(request, *args, **kwargs)
        conf = getattr(self, "conf", None)
        if conf is not None and response.status_code == 200:
            response._csp_update = {"form-action": sso_origins(conf)}
        return response


class SamlAcsView(saml_views.AssertionConsumerServiceView):
    """djangosaml2's assertion consumer; after a sign-in the interface switches to the patron's
    language, as after a password log-in (patrons.views.LoginView)."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        patron = getattr(request.user, "patron", None) if request.user.is_authenticated else None
        if patron is not None and patron.preferred_language:
            translation.activate(patron.preferred_language)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                patron.preferred_language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


def acs_failure(request, exception=None, status=403, **kwargs):
    """SAML_ACS_FAILURE_RESPONSE_FUNCTION: to the refusal page (a 303, so it is a GET in the site's
    own context), with the reason our backend gave or "failed" for anything else (a bad signature,
    an expired or unsolicited answer: details only in the log)."""
    code = getattr(request, "saml_refusal", None) or "failed"
    if code == "failed":
        logger.warning("SAML sign-in failed: %r", exception)
    response = HttpResponseRedirect(f"{reverse('saml_refused')}?{urlencode({'reason': code})}")
    response.status_code = 303
    return response


def refused(request):
    """Why the campus sign-in did not let the person in, and what to do (403)."""
    code = request.GET.get("reason", "")
    if code not in REFUSALS:
        code = "failed"
    return render(request, "registration/saml_refused.html", {"reason": code, "message": REFUSALS[code]}, status=403)
