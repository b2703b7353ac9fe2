"""The campus sign-in's pysaml2 configuration (SAML 2.0 through djangosaml2; patrons/saml.py maps the
person to a patron). Built by config/settings/base.py only when SAML_ENABLED is set.

Plain data only: no pysaml2 import here (it takes more than a second to load), so a site without
the campus sign-in never loads it. The binding names are SAML's own URNs.
"""

import shutil

from django.core.exceptions import ImproperlyConfigured

BINDING_HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAMEID_FORMAT_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


def metadata_source(location: str, cert: str = "") -> dict:
    """pysaml2's `metadata` entry: a local file, or a URL fetched (and checked against `cert`, the
    federation's signing certificate, when given) whenever the configuration is loaded."""
    if location.startswith(("https://", "http://")):
        entry = {"url": location}
        if cert:
            entry["cert"] = cert
        return {"remote": [entry]}
    return {"local": [location]}


def saml_config(
    *,
    site_url: str,
    entity_id: str,
    idp_metadata: str,
    idp_metadata_cert: str = "",
    key_file: str = "",
    cert_file: str = "",
    name: str = "",
    required_attributes: list[str] = (),
    optional_attributes: list[str] = (),
) -> dict:
    """The SAML_CONFIG djangosaml2 hands to pysaml2 for this service provider.

    Assertions must be signed by the identity provider (its certificate comes from the metadata);
    with a key pair the SP signs its requests and can read encrypted assertions (Shibboleth encrypts
    them by default, and GakuNin asks every SP for a certificate in its metadata)."""
    if not idp_metadata:
        raise ImproperlyConfigured(
            "SAML_ENABLED needs SAML_IDP_METADATA: the identity provider's metadata (a file path or a URL)."
        )
    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise ImproperlyConfigured("SAML_ENABLED needs the xmlsec1 program (Debian: apt-get install xmlsec1).")
    if bool(key_file) != bool(cert_file):
        raise ImproperlyConfigured("SAML_SP_KEY_FILE and SAML_SP_CERT_FILE go together: set both or neither.")
    base = site_url.rstrip("/")
    sp = {
        "name": name or "ILL Desk",
        "endpoints": {
            "assertion_consumer_service": [(f"{base}/saml2/acs/", BINDING_HTTP_POST)],
        },
        "name_id_format": NAMEID_FORMAT_TRANSIENT,
        "required_attributes": list(required_attributes),
        "optional_attributes": list(optional_attributes),
        "want_assertions_signed": True,
        "want_response_signed": False,
        "allow_unsolicited": False,
        "authn_requests_signed": bool(key_file),
        "logout_requests_signed": bool(key_file),
    }
    config = {
        "entityid": entity_id or f"{base}/saml2/metadata/",
        "xmlsec_binary": xmlsec,
        "allow_unknown_attributes": True,
        "service": {"sp": sp},
        "metadata": metadata_source(idp_metadata, idp_metadata_cert),
        "debug": 0,
    }
    if key_file:
        config["key_file"] = key_file
        config["cert_file"] = cert_file
        config["encryption_keypairs"] = [{"key_file": key_file, "cert_file": cert_file}]
    return config
