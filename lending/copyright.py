"""Copyright on the supplying side (DESIGN.md §3.5, §11): under the Copyright Act art. 31 the library
that makes the copy is the supplying one, so the art. 31 rules of `ill.rules` apply to what we copy for
another library: purpose research/study, not the latest issue of a periodical, less than half of a work,
one copy per person. The rules' logic is `ill.rules.copyright_rule`'s; here the LendingRequest is
adapted to what it reads, and the one-copy-per-person rule looks at our own lending history.
"""

from dataclasses import dataclass

from core.errors import ServiceError


@dataclass(frozen=True)
class Refusal:
    """A rule that refuses the copy: `code` (e.g. "copyright_half"), `message` translated text."""

    code: str
    message: str


class CopyrightRefused(ServiceError):
    """`start_copying` refused: `refusals` lists every rule that refused (code "copyright")."""

    status_code = 409

    def __init__(self, refusals: list[Refusal]):
        raise NotImplementedError


def check(req) -> list[Refusal]:
    """Every art. 31 rule that refuses making this copy (empty: we may copy it). Loans: always empty."""
    raise NotImplementedError


def unfilled_note(refusals: list[Refusal]) -> str:
    """The text to send back with mark_unfilled(reason="copyright", note=...)."""
    raise NotImplementedError
