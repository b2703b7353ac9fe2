"""Copyright on the supplying side (DESIGN.md §3.5, §11).

Under the Copyright Act art. 31 the library that makes the copy is the supplying one, so the art. 31
rules apply to what we copy for another library: purpose research or study, not the latest issue of a
periodical (by its frequency), less than half of a work (a periodical article past the latest issue is
exempt), one copy per person.

The first three are `ill.rules.copyright_rule`, run on the LendingRequest through a small adapter
(`_RuleView`): the rule's logic is not repeated here. The borrowing library took the patron's copyright
declaration when it accepted the request (NACSIS-ILL and ISO 18626 requests carry no such flag), so the
adapter answers "accepted". One copy per person looks at our own lending history: an earlier copy we
made (copying, shipped, completed) for the same borrowing library and the same `patron_reference`, of
the same article (same DOI, or same journal and article title, or same journal, volume, issue and pages).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from ill import rules
from lending.models import LendingRequest

S = LendingRequest.Status
COPIED_STATES = (S.COPYING, S.SHIPPED, S.COMPLETED)
ONE_COPY_CODE = "copyright_one_copy"

ONE_COPY_REFUSED = _(
    "We already copied this article for the same person at %(library)s (%(number)s). "
    "Copyright law allows one copy per person."
)
REFUSED = _("Copyright does not allow this copy: %(reasons)s")
OVERRIDE_NOT_PERMITTED = _(
    "Only staff allowed to override the copyright rules may start this copy anyway. The rules refuse it: %(reasons)s"
)


@dataclass(frozen=True)
class Refusal:
    """A rule that refuses the copy: `code` (e.g. "copyright_half"), `message` (translated text)."""

    code: str
    message: str


def _reasons(refusals) -> str:
    return " ".join(str(r.message) for r in refusals)


class CopyrightRefused(ServiceError):
    """`start_copying` refused: `refusals` lists every rule that refused (code "copyright")."""

    def __init__(self, refusals: list[Refusal]):
        self.refusals = list(refusals)
        super().__init__(REFUSED, code="copyright", params={"reasons": _reasons(self.refusals)})


class OverrideNotPermitted(ServiceError):
    """An override reason was given by a user without the permission lending.override_copyright."""

    status_code = 403

    def __init__(self, refusals: list[Refusal]):
        self.refusals = list(refusals)
        super().__init__(OVERRIDE_NOT_PERMITTED, code="override_not_permitted", params={"reasons": _reasons(refusals)})


class _RuleView:
    """What `ill.rules.copyright_rule` reads of a borrowing request, answered from a lending request."""

    def __init__(self, req: LendingRequest):
        self._req = req

    is_copy = property(lambda self: self._req.kind == LendingRequest.Kind.COPY)
    READ = (
        "purpose",
        "material_type",
        "periodical_frequency",
        "issue_date",
        "pub_year",
        "page_count",
        "work_total_pages",
    )
    copyright_accepted = True  # declared to the borrowing library, which asks us under its responsibility

    def __getattr__(self, name):
        if name in self.READ:
            return getattr(self._req, name)
        raise AttributeError(name)


def _same_article(a: LendingRequest, b: LendingRequest) -> bool:
    norm = rules.normalise_text
    if a.doi and b.doi:
        return a.doi.strip().casefold() == b.doi.strip().casefold()
    source_a, source_b = norm(a.journal_title or a.title), norm(b.journal_title or b.title)
    if not source_a or source_a != source_b:
        return False
    if norm(a.article_title) and norm(a.article_title) == norm(b.article_title):
        return True
    return (
        bool(norm(a.pages))
        and norm(a.pages) == norm(b.pages)
        and norm(a.volume) == norm(b.volume)
        and norm(a.issue) == norm(b.issue)
    )


def earlier_copy_for_same_person(req: LendingRequest) -> LendingRequest | None:
    """An earlier copy we made of the same article for the same person of the same library, or None."""
    if not req.patron_reference.strip():
        return None
    earlier = LendingRequest.objects.filter(
        borrower_id=req.borrower_id,
        kind=LendingRequest.Kind.COPY,
        patron_reference=req.patron_reference.strip(),
        status__in=COPIED_STATES,
    ).exclude(pk=req.pk)
    for other in earlier.order_by("received_at")[:500]:
        if _same_article(req, other):
            return other
    return None


def check(req: LendingRequest) -> list[Refusal]:
    """Every art. 31 rule that refuses making this copy (empty: we may copy it). Loans: always empty."""
    if req.kind != LendingRequest.Kind.COPY:
        return []
    refusals = []
    result = rules.copyright_rule(_RuleView(req), {})
    if result.refused:
        refusals.append(Refusal(result.code, str(result.message)))
    earlier = earlier_copy_for_same_person(req)
    if earlier is not None:
        params = {"library": req.borrower.display_name, "number": earlier.number}
        refusals.append(Refusal(ONE_COPY_CODE, str(ONE_COPY_REFUSED % params)))
    return refusals


def unfilled_note(refusals: list[Refusal]) -> str:
    """The text to send back with mark_unfilled(reason="copyright", note=...)."""
    return _reasons(refusals)
