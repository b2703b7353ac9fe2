"""Sign-in lockout (django-axes): who the client is, what a locked-out user is told, and whether a
user is locked now.

A user is locked after AXES_FAILURE_LIMIT wrong passwords *for that user from one client address*
(axes' combination parameter [["username", "ip_address"]]): a patron's failures never lock another
user, and never the admin, even when every request comes through one reverse proxy.

The client address. Behind TRUSTED_PROXY_COUNT reverse proxies the address the last proxy saw is
the entry that many places from the right of X-Forwarded-For (each proxy appends the address it
was connected from; the last one is REMOTE_ADDR itself and not listed). Entries further left were
sent by the client and can be anything, so they are never read — not even when the trusted entry
is not an address (a proxy may write "unknown"): then REMOTE_ADDR is used, which at worst makes
everyone behind that proxy one address, and the lock is per user, so that locks out nobody else.
The same when the header is shorter than the chain of proxies (a request that did not come through
all of them) or missing. With TRUSTED_PROXY_COUNT=0 only REMOTE_ADDR is read: a client cannot
choose its address by sending the header.

Not django-ipware's `get_client_ip` (axes' default): its `proxy_count` counts only the proxies
listed inside the header, and with `strict=False` it skips an invalid trusted entry and reads the
client's own entries further left ("1.2.3.4, unknown" gave 1.2.3.4).
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

FORWARDED_HEADER = "HTTP_X_FORWARDED_FOR"


def client_ip(request) -> str | None:
    """The client's address as the outermost trusted proxy saw it (settings.AXES_CLIENT_IP_CALLABLE)."""
    remote = request.META.get("REMOTE_ADDR")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    entries = [entry.strip() for entry in request.META.get(FORWARDED_HEADER, "").split(",")]
    if len(entries) < count:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-count]))
    except ValueError:
        return remote


@dataclass(frozen=True)
class SignInLock:
    since: datetime  # the last counted failure: from then on the lock holds
    until: datetime
    failures: int
    addresses: int  # how many client addresses the user is locked on


def _threshold():
    return timezone.now() - get_cool_off()


def sign_in_lock(username: str) -> SignInLock | None:
    """The user's lock, if there is one on any address: one query on axes' username index."""
    if not settings.AXES_ENABLED or not username:
        return None
    limit = get_failure_limit(None, None)
    locks = list(
        AccessAttempt.objects.filter(username=username, attempt_time__gte=_threshold())
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=limit)
        .order_by()
    )
    if not locks:
        return None
    since = max(row["last"] for row in locks)
    return SignInLock(
        since=since,
        until=since + get_cool_off(),
        failures=max(row["failures"] for row in locks),
        addresses=len(locks),
    )


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out user sees (settings.AXES_LOCKOUT_CALLABLE): until when, and what to do,
    with axes' status code (429)."""
    username = get_client_username(request, credentials) or ""
    ip_address = getattr(request, "axes_ip_address", None)
    last = (
        AccessAttempt.objects.filter(username=username, ip_address=ip_address, attempt_time__gte=_threshold())
        .aggregate(last=Max("attempt_time"))
        .get("last")
    )
    now = timezone.now()
    until = (last or now) + get_cool_off()
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    context = {
        "username": username,
        "until": until,
        "minutes": minutes,
        "failure_limit": get_failure_limit(request, credentials),
    }
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
