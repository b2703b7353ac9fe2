"""The ISO 18626 endpoint: `POST /iso18626/` with an ISO18626Message, answered with its confirmation.

Thin: the checks (size, signature, schema, idempotency) and the handling are `transport.receive`'s.
No session or CSRF token: peers are other systems, authenticated by the body's HMAC signature.
"""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from iso18626 import transport, xml

XML_TYPES = ("application/xml", "text/xml")


def _xml_response(status: int, body: bytes) -> HttpResponse:
    if not body:
        return HttpResponse(status=status)
    return HttpResponse(body, status=status, content_type=transport.CONTENT_TYPE)


@csrf_exempt
@never_cache
@require_POST
def endpoint(request):
    content_type = (request.content_type or "").lower()
    if content_type not in XML_TYPES:
        body = xml.error_confirmation("", "BadlyFormedMessage", "the body must be application/xml or text/xml")
        return _xml_response(415, body)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > xml.MAX_BODY_BYTES:
        body = xml.error_confirmation("", "BadlyFormedMessage", f"larger than {xml.MAX_BODY_BYTES} bytes")
        return _xml_response(413, body)
    raw = request.read(xml.MAX_BODY_BYTES + 1)
    status, body = transport.receive(raw, request.headers)
    return _xml_response(status, body)
