"""A SAML 2.0 identity provider for the tests, played by pysaml2 (saml2.server.Server): a small WSGI
app in a thread that serves its metadata, takes the SP's AuthnRequest (HTTP-POST or HTTP-Redirect
binding) at its single sign-on endpoint, shows a login form, and answers the SP's assertion consumer
with a signed assertion (by default also encrypted to the SP's certificate, as Shibboleth does)
through an auto-submitting HTML form, like a campus Shibboleth IdP.

Keys: tests/fixtures/saml/{idp,sp}.{key,crt}, self-signed test pairs made with
`openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=ILL Desk test idp"`.
"""

import copy
import html
import shutil
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.test import override_settings
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server

from config.saml import saml_config

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "saml"
IDP_KEY, IDP_CERT = str(FIXTURES / "idp.key"), str(FIXTURES / "idp.crt")
SP_KEY, SP_CERT = str(FIXTURES / "sp.key"), str(FIXTURES / "sp.crt")
SCOPE = "example.ac.jp"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def sp_settings(sp_url: str, idp_metadata: str, **extra) -> dict:
    """The site's SAML_CONFIG for an SP at `sp_url`, built as config/settings/base.py builds it."""
    return saml_config(
        site_url=sp_url,
        entity_id="",
        idp_metadata=idp_metadata,
        key_file=SP_KEY,
        cert_file=SP_CERT,
        name="ILL Desk (test)",
        required_attributes=["eduPersonPrincipalName"],
        optional_attributes=["eduPersonAffiliation", "displayName", "mail", "schacPersonalUniqueCode"],
        **extra,
    )


def _metadata_of(config_class, raw: dict) -> str:
    raw = copy.deepcopy(raw)
    raw["metadata"] = {}
    conf = config_class()
    conf.load(raw)
    return create_metadata_string(None, config=conf, sign=False).decode()


class SamlTestIdP:
    """`users`: user name → (password, attributes with friendly names). Start with `start()`, give
    it the SP's metadata with `trust_sp(sp_config)`, stop with `stop()`."""

    def __init__(self, workdir: Path, users: dict, encrypt: bool = True):
        self.workdir = Path(workdir)
        self.users = users
        self.encrypt = encrypt
        self.server = make_server("127.0.0.1", 0, self.app, server_class=_ThreadingServer, handler_class=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.entity_id = f"{self.url}/idp/metadata"
        self.metadata_path = self.workdir / "idp-metadata.xml"
        self.idp = None
        self.requests_seen: list[str] = []  # the binding of each AuthnRequest received
        self._raw = {
            "entityid": self.entity_id,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": IDP_KEY,
            "cert_file": IDP_CERT,
            "service": {
                "idp": {
                    "name": "Test University IdP",
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{self.url}/idp/sso/post", BINDING_HTTP_POST),
                            (f"{self.url}/idp/sso/redirect", BINDING_HTTP_REDIRECT),
                        ],
                    },
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "policy": {"default": {"lifetime": {"minutes": 15}, "name_form": NAME_FORMAT_URI}},
                    "sign_response": False,
                    "sign_assertion": True,
                    "want_authn_requests_signed": False,
                },
            },
            "metadata": {},
        }
        self.metadata_path.write_text(_metadata_of(IdPConfig, self._raw), encoding="utf-8")
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def trust_sp(self, sp_config: dict):
        """Load the SP's metadata (made from its configuration) into the IdP."""
        sp_metadata = self.workdir / "sp-metadata.xml"
        sp_metadata.write_text(_metadata_of(SPConfig, sp_config), encoding="utf-8")
        raw = copy.deepcopy(self._raw)
        raw["metadata"] = {"local": [str(sp_metadata)]}
        conf = IdPConfig()
        conf.load(raw)
        self.idp = Server(config=conf)

    # --- WSGI ---

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        try:
            if path == "/idp/metadata":
                return self._reply(start_response, self.metadata_path.read_bytes(), "application/samlmetadata+xml")
            form = self._form(environ)
            if path in ("/idp/sso/post", "/idp/sso/redirect"):
                return self._login_form(start_response, form, path.rsplit("/", 1)[-1])
            if path == "/idp/login":
                return self._sign_in(start_response, form)
        except Exception as exc:  # a test reads the page: say what went wrong
            return self._reply(start_response, f"IdP error: {exc!r}".encode(), status="500 Internal Server Error")
        return self._reply(start_response, b"not found", status="404 Not Found")

    @staticmethod
    def _form(environ) -> dict:
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size).decode()
        else:
            body = environ.get("QUERY_STRING", "")
        return {key: values[0] for key, values in parse_qs(body).items()}

    @staticmethod
    def _reply(start_response, body: bytes, content_type="text/html; charset=utf-8", status="200 OK"):
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def _login_form(self, start_response, form, binding_name):
        binding = BINDING_HTTP_POST if binding_name == "post" else BINDING_HTTP_REDIRECT
        self.idp.parse_authn_request(form["SAMLRequest"], binding)  # checks it is a good request
        self.requests_seen.append(binding_name)
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(form.get(name, ""))}">'
            for name in ("SAMLRequest", "RelayState")
        )
        page = f"""<!doctype html><html lang="en"><head><title>Test University sign-in</title></head><body>
<h1>Test University sign-in</h1>
<form method="post" action="/idp/login" id="idp-login">{hidden}
<input type="hidden" name="binding" value="{binding_name}">
<label>User name <input name="username" id="idp-username"></label>
<label>Password <input name="password" type="password" id="idp-password"></label>
<button type="submit" id="idp-submit">Sign in</button></form></body></html>"""
        return self._reply(start_response, page.encode())

    def _sign_in(self, start_response, form):
        binding = BINDING_HTTP_POST if form.get("binding") == "post" else BINDING_HTTP_REDIRECT
        request = self.idp.parse_authn_request(form["SAMLRequest"], binding).message
        user = self.users.get(form.get("username", ""))
        if user is None or user[0] != form.get("password"):
            return self._reply(start_response, b"<p id='idp-wrong'>Wrong user name or password</p>", status="200 OK")
        return self._reply(start_response, self.answer(request, form.get("username"), user[1], form.get("RelayState")))

    def answer(self, request, username: str, attributes: dict, relay_state: str = "") -> bytes:
        """The auto-submitting form that posts the signed (and encrypted) response to the SP."""
        acs = request.assertion_consumer_service_url
        sp_entity_id = request.issuer.text
        response = self.idp.create_authn_response(
            identity=attributes,
            in_response_to=request.id,
            destination=acs,
            sp_entity_id=sp_entity_id,
            name_id_policy=request.name_id_policy,
            userid=username,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
            sign_assertion=True,
            sign_response=False,
            encrypt_assertion=self.encrypt,  # to the encryption certificate in the SP's metadata
        )
        info = self.idp.apply_binding(BINDING_HTTP_POST, str(response), acs, relay_state or "", response=True)
        return info["data"].encode() if isinstance(info["data"], str) else info["data"]


def site_settings(sp_url: str, idp: SamlTestIdP, **overrides) -> override_settings:
    """The site's settings with the campus sign-in on against `idp`, wired as base.py wires it
    (SAML_ENABLED=true): djangosaml2's session middleware, the backend, /saml2/ (tests/saml_urls.py)."""
    middleware = list(settings.MIDDLEWARE)
    if "djangosaml2.middleware.SamlSessionMiddleware" not in middleware:
        middleware.insert(
            middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
            "djangosaml2.middleware.SamlSessionMiddleware",
        )
    backends = [*settings.AUTHENTICATION_BACKENDS, "patrons.saml.PatronSamlBackend"]
    sp_config = sp_settings(sp_url, str(idp.metadata_path))
    idp.trust_sp(sp_config)
    values = {
        "SAML_ENABLED": True,
        "SAML_CONFIG": sp_config,
        "MIDDLEWARE": middleware,
        "AUTHENTICATION_BACKENDS": list(dict.fromkeys(backends)),
        "ROOT_URLCONF": "tests.saml_urls",
        "SAML_ATTR_STUDENT_NUMBER": "schacPersonalUniqueCode",
        "SAML_ATTR_NAME": ["displayName"],
        **overrides,
    }
    return override_settings(**values)
