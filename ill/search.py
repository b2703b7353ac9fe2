"""The desk's text search, shaped for the indexes (ill/migrations/0007, patrons/migrations/0004).

Three or more characters are matched anywhere through PostgreSQL trigram indexes. One or two
characters make no trigram (a surname such as 佐藤, a word such as 経済), so such a term matches the
start of a name or title (a prefix index), and anywhere only among the open requests, which are
few; the page says so. Identifiers and numbers are matched exactly. The patrons are looked up
first, a bounded list, so the request query stays on its own table's indexes.
"""

import unicodedata

from django.db.models import Q

from ill import identifiers
from ill.models import OPEN_STATUSES
from patrons.models import Patron

SHORT = 3  # terms shorter than this make no trigram
MAX_TERM = 100
PATRON_LIMIT = 200  # a name shared by more patrons than this is not a useful search


def clean(term: str) -> str:
    return term.replace("\x00", "").strip()[:MAX_TERM]


def is_short(term: str) -> bool:
    return 0 < len(term) < SHORT


def patron_q(term: str) -> Q:
    """Patrons by number (exactly, as typed or in either case), name or kana."""
    typed = unicodedata.normalize("NFKC", term)
    q = Q(patron_number__in={term, typed, typed.lower(), typed.upper()})
    if is_short(term):
        return q | Q(full_name__istartswith=term) | Q(full_name_kana__istartswith=term)
    return q | Q(full_name__icontains=term) | Q(full_name_kana__icontains=term)


def patron_ids(term: str) -> list[int]:
    return list(Patron.objects.filter(patron_q(term)).order_by().values_list("pk", flat=True)[:PATRON_LIMIT])


def title_q(term: str) -> Q:
    if is_short(term):
        anywhere = Q(title__icontains=term) | Q(article_title__icontains=term)
        return Q(title__istartswith=term) | (Q(status__in=OPEN_STATUSES) & anywhere)
    return Q(title__icontains=term) | Q(article_title__icontains=term)


def identifier_q(term: str) -> Q:
    q = Q()
    for kind, field in (("isbn", "isbn"), ("issn", "issn"), ("ncid", "ncid"), ("doi", "doi")):
        try:
            value = identifiers.normalize_identifier(kind, term)
        except (identifiers.IdentifierError, ValueError):
            continue
        if value:
            q |= Q(**{field: value})
    return q


def request_q(term: str) -> Q:
    """Requests whose number, title, patron, lender's reference or identifier matches `term`."""
    term = clean(term)
    if not term:
        return Q()
    typed = unicodedata.normalize("NFKC", term)  # ＩＬＬ－２０２６ typed on a Japanese keyboard
    number = Q(number__in={typed, typed.upper()}) if is_short(typed) else Q(number__icontains=typed)
    q = number | title_q(term) | Q(lender_reference=term) | identifier_q(term)
    ids = patron_ids(term)
    if ids:
        q |= Q(patron_id__in=ids)
    return q


def requests_of_patrons_q(term: str) -> Q:
    """Requests of the patrons matching `term` (the queue's patron filter)."""
    term = clean(term)
    return Q(patron_id__in=patron_ids(term)) if term else Q()
