"""The copyright log's raw material: each refusal of a submission rule (DESIGN.md §3) shown to a
patron or to staff entering a request, kept as a `RuleRefusal` row.

Today a refused submission saves nothing (the intake's transaction is rolled back), so without this
nothing could be counted. The intake service calls `record` after its transaction has ended; the
patron's confirm step (`ill.services.preview`) and the form step (`record_form`, for the copyright
facts the form asks for) call it too, once per attempt.

What is kept (DESIGN.md §12, a request history is a reading record): the rule, the day, the kind
and material type, the pick-up branch, the patron's category and whether staff entered it — never
the patron nor the citation. The same patron, rule and citation count once a day: the row carries a
keyed one-way fingerprint (HMAC-SHA256 under SECRET_KEY) of the patron's id, the rule, the
normalised citation and the day, unique with the day. The day is in the hash, so two days of the
same patron cannot be linked either.

Recording never turns a refusal into an error page: a failure to write is logged and forgotten.
"""

import logging

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from ill import rules
from ill.models import Request, RuleRefusal

logger = logging.getLogger(__name__)

# The copyright rules (DESIGN.md §3.5), in the order the rule checks them.
COPYRIGHT_RULES = (
    "copyright_purpose",
    "copyright_accept",
    "copyright_frequency",
    "copyright_issue_date",
    "copyright_latest_issue",
    "copyright_total_pages",
    "copyright_half",
)
# The other refusing rules, in the order ill.rules.RULES checks them.
OTHER_RULES = (
    "loan_limit",
    "overdue",
    "duplicate",
    "held_here",
    "not_loanable_serial",
    "not_loanable_pre_1945",
    "not_loanable_new",
    "budget_missing",
    "budget_not_grant",
    "budget_not_open",
    "budget_exceeded",
    "not_needed_after",
)

RULE_LABELS = {
    "copyright_purpose": _("Purpose not research or study"),
    "copyright_accept": _("Copyright responsibility not accepted"),
    "copyright_frequency": _("Frequency of the periodical not given"),
    "copyright_issue_date": _("Issue date not given"),
    "copyright_latest_issue": _("Latest issue of a periodical"),
    "copyright_total_pages": _("Total pages of the work not given"),
    "copyright_half": _("Half or more of a work"),
    "loan_limit": _("Books on ILL loan at a time"),
    "overdue": _("An overdue ILL book"),
    "duplicate": _("Requested before"),
    "held_here": _("Held by this library"),
    "not_loanable_serial": _("Serial, not lent"),
    "not_loanable_pre_1945": _("Published before 1945, not lent"),
    "not_loanable_new": _("New publication, not lent"),
    "budget_missing": _("No budget code"),
    "budget_not_grant": _("Budget code not a research grant"),
    "budget_not_open": _("Budget code not open to the patron"),
    "budget_exceeded": _("Budget code's limit reached"),
    "not_needed_after": _("“Not needed after” date passed"),
}

# The copyright facts the request form itself asks for (ill.forms.CopyRequestForm.clean): the field,
# the message the form shows (the rule's own), and the rule it stands for.
FORM_RULES = (
    ("periodical_frequency", rules.FREQUENCY_NEEDED, "copyright_frequency"),
    ("issue_date", rules.ISSUE_DATE_NEEDED, "copyright_issue_date"),
    ("work_total_pages", rules.TOTAL_PAGES_NEEDED, "copyright_total_pages"),
)

# What identifies "the same citation": the work and the part of it, not the page range asked for
# (a patron trying other ranges of the same book against the half rule is one refusal).
CITATION_FIELDS = (
    "isbn",
    "issn",
    "ncid",
    "doi",
    "title",  # the journal or the book (the copy form's title; journal_title repeats it)
    "article_title",
    "volume",
    "issue",
    "edition",
)


def rule_label(code: str) -> str:
    return RULE_LABELS.get(code, code)


def citation_key(kind: str, values: dict) -> str:
    """The citation, normalised (width, case, spaces and punctuation folded), as one string."""
    parts = [kind or ""] + [rules.normalise_text(str(values.get(name) or "")) for name in CITATION_FIELDS]
    return "\x1f".join(parts)


def fingerprint(patron_id: int, code: str, citation: str, day) -> str:
    """HMAC-SHA256 under SECRET_KEY: the same patron, rule, citation and day give the same value;
    nothing of them can be read back without the key."""
    value = f"{patron_id}\x1f{code}\x1f{day.isoformat()}\x1f{citation}"
    return salted_hmac("ill.refusals.fingerprint", value, algorithm="sha256").hexdigest()


def _write(*, patron, codes, kind: str, material_type: str, branch_id, values: dict, staff_entry: bool) -> int:
    codes = list(dict.fromkeys(code for code in codes if code))  # each rule once per attempt
    if not codes or patron is None or patron.pk is None:
        return 0
    day = timezone.localdate()
    citation = citation_key(kind, values)
    rows = [
        RuleRefusal(
            day=day,
            rule=code[:40],
            kind=kind or "",
            material_type=(material_type or "")[:20],
            branch_id=branch_id,
            patron_category=(patron.category or "")[:30],
            staff_entry=staff_entry,
            fingerprint=fingerprint(patron.pk, code, citation, day),
        )
        for code in codes
    ]
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the caller's transaction usable
            created = RuleRefusal.objects.bulk_create(rows, ignore_conflicts=True)
    except DatabaseError:
        logger.exception("Could not record the refusal of %s", ", ".join(codes))
        return 0
    return len(created)


def record(*, patron, request: Request, results, staff_entry: bool = False) -> int:
    """Record the refusals among `results` (ill.rules.RuleResult) of this unsaved request (those
    already counted today are left out by the database). Returns how many refusals were offered."""
    try:
        codes = [result.code for result in results if result.refused]
        values = {name: getattr(request, name, "") for name in CITATION_FIELDS}
        return _write(
            patron=patron,
            codes=codes,
            kind=request.kind,
            material_type=request.material_type,
            branch_id=request.pickup_branch_id,
            values=values,
            staff_entry=staff_entry,
        )
    except Exception:  # never let the log turn a refusal into a 500
        logger.exception("Could not record a refusal")
        return 0


def form_refusals(form) -> list[str]:
    """The copyright rules an invalid request form refused (the facts it asks for), as rule codes."""
    errors = form.errors
    return [code for field, message, code in FORM_RULES if str(message) in errors.get(field, [])]


def record_form(*, patron, form, staff_entry: bool = False) -> int:
    """Record the copyright rules an invalid request form refused (ill.forms.CopyRequestForm)."""
    try:
        codes = form_refusals(form)
        if not codes:
            return 0
        cleaned = getattr(form, "cleaned_data", {}) or {}
        values = {name: cleaned.get(name, form.data.get(name, "")) for name in CITATION_FIELDS}
        branch = cleaned.get("pickup_branch")
        return _write(
            patron=patron,
            codes=codes,
            kind=form.kind,
            material_type=cleaned.get("material_type") or "",
            branch_id=getattr(branch, "pk", None),
            values=values,
            staff_entry=staff_entry,
        )
    except Exception:  # never let the log turn a refusal into a 500
        logger.exception("Could not record a refusal")
        return 0
