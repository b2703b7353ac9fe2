"""Choosing a lender at the desk: the lenders that could take a request, found by code or name as
staff type, ranked, each with what it would likely cost and how long it takes (DESIGN.md §4, §5, §7).

The ranking is the order form's idea of a good candidate: an exact code first, then fee-offset
participants (料金相殺), then lenders that send by the requested delivery, then (for a request
paid by the student support budget) the lenders the budget covers, then lenders with a fee
schedule, then by name. Only a bounded number of rows is read (`LIMIT`), and the estimates are
computed for those rows only, never for every lender. The search uses the trigram indexes of
`ill/migrations/0010_lender_search.py` on PostgreSQL.
"""

import copy
import re
import unicodedata
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.text import current_language, format_yen
from fees.schedules import estimate_or_none
from ill.estimates import candidate_lenders, lender_time
from ill.models import LendingInstitution, Request
from ill.services.ordering import shipping_for

LIMIT = 20
MAX_QUERY = 100
SUGGESTIONS_SECONDS = 60

QUERY_TOO_LONG = _("The search is too long (at most %(max)d characters).")
QUERY_INVALID = _("The search contains characters that cannot be searched.")
NOT_OFFSET = _("outside the fee-offset")
FALLBACK = _("sends by %(delivery)s")

_SPACES = re.compile(r"\s+")
_HIRAGANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}  # ぁ..ゖ -> ァ..ヶ


def normalize_query(value) -> str:
    """What staff typed, as searched: NFKC (full-width letters and digits, half-width kana), one
    space between words, at most MAX_QUERY characters. ValueError for what cannot be searched."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    if "\x00" in text or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text if ch not in "\t\n\r"):
        raise ValueError(str(QUERY_INVALID))
    text = _SPACES.sub(" ", text).strip()
    if len(text) > MAX_QUERY:
        raise ValueError(str(QUERY_TOO_LONG % {"max": MAX_QUERY}))
    return text


def katakana(text: str) -> str:
    """Hiragana as katakana, so that ねっとわーく finds ネットワーク."""
    return text.translate(_HIRAGANA)


@dataclass(frozen=True)
class LenderOption:
    """One lender as the picker shows it."""

    lender: LendingInstitution
    delivery: str  # what the lender would send by for this request
    delivery_supported: bool  # it sends by the delivery asked for
    estimate: int | None
    time: str

    @property
    def label(self) -> str:
        return f"{self.lender.display_name} ({self.lender.code})"

    @property
    def estimate_text(self) -> str:
        return format_yen(self.estimate) if self.estimate is not None else ""

    @property
    def notes(self) -> list[str]:
        notes = []
        if not self.lender.is_offset_participant:
            notes.append(str(NOT_OFFSET))
        if not self.delivery_supported:
            notes.append(str(FALLBACK % {"delivery": Request.Delivery(self.delivery).label}))
        return notes

    @property
    def summary(self) -> str:
        """One line: kind, estimate, time, notes (the no-JavaScript list shows it)."""
        parts = [self.lender.get_kind_display()]
        if self.estimate is not None:
            parts.append(format_yen(self.estimate))
        if self.time:
            parts.append(self.time)
        return " · ".join(parts + self.notes)

    def as_json(self) -> dict:
        lender = self.lender
        return {
            "id": lender.pk,
            "code": lender.code,
            "name": lender.display_name,
            "label": self.label,
            "kind": lender.get_kind_display(),
            "offset": lender.is_offset_participant,
            "active": lender.active,
            "delivery": self.delivery,
            "delivery_supported": self.delivery_supported,
            "estimate": self.estimate,
            "estimate_text": self.estimate_text,
            "time": self.time,
            "notes": self.notes,
        }


def _delivery_at(request, lender, wanted: str) -> tuple[str, bool]:
    """What the lender would send by when `wanted` is asked for (the ordering service's rule)."""
    if wanted == Request.Delivery.MAIL:
        return wanted, True
    try:
        shipping, _note = shipping_for(request, lender, wanted)
    except ServiceError:  # no express mail: ordering would refuse it; the lender sends by mail
        return Request.Delivery.MAIL, False
    return shipping, shipping == wanted


def search(
    q: str = "",
    *,
    request: Request | None = None,
    delivery: str | None = None,
    kind: str | None = None,
    include_inactive: bool = False,
    waiting: bool = False,
    limit: int = LIMIT,
) -> tuple[list[LenderOption], bool]:
    """At most `limit` lenders matching `q` (normalised), ranked, and whether more match.

    With a `request`, only the lenders the order service would accept for it (`candidate_lenders`)
    are offered, priced for it. Without one, `kind` (loan/copy) and `delivery` rank and price what
    they can; `include_inactive` is for filters over past requests; `waiting` ranks first the
    lenders with orders waiting to arrive (the shipment page)."""
    q = normalize_query(q)
    wanted = delivery or (
        (request.shipping_method or request.delivery_method) if request is not None else Request.Delivery.MAIL
    )
    if request is not None:
        lenders = candidate_lenders(request)
    else:
        lenders = (
            LendingInstitution.objects.all() if include_inactive else LendingInstitution.objects.filter(active=True)
        )
        if kind == Request.Kind.LOAN:  # priced (the calculator's schedule includes the paper prices)
            lenders = lenders.select_related("fee_schedule").prefetch_related("fee_schedule__paper_prices")
    order = [F("active").desc()] if include_inactive and request is None else []
    if waiting:  # one probe of the (lender, status) index per lender
        lenders = lenders.alias(
            waiting=Exists(Request.objects.filter(lender=OuterRef("pk"), status=Request.Status.ORDERED))
        )
        order.append(F("waiting").desc())
    if q:
        words = {q, katakana(q)}
        match = Q()
        for word in words:
            match |= Q(code__icontains=word) | Q(name__icontains=word) | Q(name_en__icontains=word)
        lenders = lenders.filter(match).alias(
            exact=Q(code__iexact=q),
            prefix=Q(code__istartswith=q) | Q(name__istartswith=q) | Q(name_en__istartswith=q),
        )
        order.insert(0, F("exact").desc())  # an exact code first, whatever else
    order.append(F("is_offset_participant").desc())
    if wanted == Request.Delivery.FAX:
        order.append(F("supports_fax").desc())
    elif wanted == Request.Delivery.EXPRESS:
        order.append(F("supports_express").desc())
    if request is not None and request.support_budget_id is not None:
        lenders = lenders.alias(supported=Q(kind__in=LendingInstitution.SUPPORT_ELIGIBLE_KINDS))
        order.append(F("supported").desc())
    if q:
        order.append(F("prefix").desc())
    lenders = lenders.alias(priced=Q(fee_schedule__isnull=False))
    order += [F("priced").desc(), "name", "code"]
    rows = list(lenders.order_by(*order)[: limit + 1])
    more = len(rows) > limit
    return [_option(lender, request, kind, wanted) for lender in rows[:limit]], more


def _option(lender, request, kind, wanted) -> LenderOption:
    shipping, supported = _delivery_at(request, lender, wanted)
    is_loan = request.is_loan if request is not None else kind == Request.Kind.LOAN
    estimate = None
    if request is not None or kind == Request.Kind.LOAN:
        priced = copy.copy(request) if request is not None else Request(kind=Request.Kind.LOAN)
        priced.shipping_method = shipping
        if priced.is_loan or priced.page_count:
            estimate = estimate_or_none(priced, lender)
    time = lender_time(lender, loan=is_loan, delivery=shipping) if (request is not None or kind) else ""
    return LenderOption(lender=lender, delivery=shipping, delivery_supported=supported, estimate=estimate, time=time)


def _suggestion_key(request: Request) -> str:
    """Everything the ranking and the estimates of `search("", request=…)` depend on."""
    parts = (
        current_language(),
        request.kind,
        request.scope,
        request.expense_type,
        request.support_budget_id is not None,
        request.shipping_method or request.delivery_method,
        request.page_count,
        request.colour_pages,
        request.paper_size,
    )
    return "lender-suggestions:v1:" + ":".join(str(p) for p in parts)


def suggestions(request: Request) -> list[tuple[str, str]]:
    """The best-ranked lenders for a request as (code, one-line label): what the order form offers
    without JavaScript. Requests alike (kind, scope, expense, delivery, pages) share one answer,
    kept SUGGESTIONS_SECONDS in the cache, so the request page does not search on every view; a
    lender edited meanwhile shows up a minute later (the order itself is always checked)."""
    key = _suggestion_key(request)
    found = cache.get(key)
    if found is None:
        options, _more = search("", request=request)
        found = [(o.lender.code, f"{o.label} · {o.summary}") for o in options]
        cache.set(key, found, SUGGESTIONS_SECONDS)
    return found


def find_by_code(code: str, *, include_inactive: bool = False) -> LendingInstitution | None:
    """The lender with this code (case and width do not matter), or None."""
    code = normalize_query(code)
    if not code:
        return None
    lenders = LendingInstitution.objects.all() if include_inactive else LendingInstitution.objects.filter(active=True)
    return lenders.filter(code__iexact=code).first()
