"""The submission rules of DESIGN.md §3.

Each rule looks at an unsaved request (with its patron) and returns a `RuleResult`: passed,
a warning, or a refusal whose message names the rule and says what to do. `evaluate` runs them
all, for the confirmation page; `check_submission` raises `RulesRefused` when any refuses. The
intake service calls it while holding the lock on the patron row, so counting rules (five books
at a time) cannot be beaten by two submissions at the same moment.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.text import format_date, format_yen
from fees import budgets
from fees.models import BudgetCode, current_fiscal_year
from ill import estimates, lifecycle, selectors
from ill.models import LocalHolding, LocalHoldingIdentifier, Request

S = Request.Status
PASS, WARN, REFUSE = "pass", "warn", "refuse"


@dataclass(frozen=True)
class RuleResult:
    code: str
    label: str
    outcome: str
    message: str = ""

    @property
    def refused(self) -> bool:
        return self.outcome == REFUSE


class RulesRefused(ServiceError):
    """One or more submission rules refused the request; `results` holds every refusal."""

    def __init__(self, results: list[RuleResult]):
        self.results = results
        first = results[0]
        super().__init__(" ".join(str(r.message) for r in results), code=first.code)


def _ok(code, label):
    return RuleResult(code, label, PASS)


def _today() -> datetime.date:
    return timezone.localdate()


# --- §3.1 five books at a time ---------------------------------------------------------------

LOAN_LIMIT_LABEL = _("Books on ILL loan at a time")
LOAN_LIMIT_REACHED = _(
    "You have %(count)d of %(limit)d books on ILL loan (ordered or kept until returned to the counter). "
    "Return one first, then request another."
)


def loan_limit(request: Request, overrides: dict) -> RuleResult:
    code = "loan_limit"
    if not request.is_loan:
        return _ok(code, LOAN_LIMIT_LABEL)
    limit = settings.ILL_MAX_ACTIVE_LOANS
    count = selectors.active_loan_count(request.patron)
    if count >= limit:
        return RuleResult(code, LOAN_LIMIT_LABEL, REFUSE, LOAN_LIMIT_REACHED % {"count": count, "limit": limit})
    return _ok(code, LOAN_LIMIT_LABEL)


# --- §4 no new loans while a book is overdue --------------------------------------------------

OVERDUE_LABEL = _("No overdue ILL book")
OVERDUE_REFUSED = _(
    "You have an overdue ILL book (%(numbers)s). Please return it to the counter before requesting another book; "
    "copy requests are still possible."
)


def overdue(request: Request, overrides: dict) -> RuleResult:
    code = "overdue"
    if not request.is_loan:
        return _ok(code, OVERDUE_LABEL)
    late = list(
        Request.objects.filter(selectors.overdue_q(), patron=request.patron).values_list("number", flat=True)[:3]
    )
    if late:
        return RuleResult(code, OVERDUE_LABEL, REFUSE, OVERDUE_REFUSED % {"numbers": ", ".join(late)})
    return _ok(code, OVERDUE_LABEL)


# --- §3.2 same book only once, §3.5 one copy per person ------------------------------------


def normalise_text(value: str) -> str:
    """Fold width, case, spaces and punctuation so that 「統計的 学習」 and 「統計的学習」 match."""
    value = unicodedata.normalize("NFKC", value or "").casefold()
    return re.sub(r"[\s\W_]+", "", value)


DUPLICATE_LABEL = _("Not requested before")
DUPLICATE_REFUSED = _(
    "You already requested this book (%(number)s). The same book can be requested only once; "
    "ask at the counter if you need it again."
)
DUPLICATE_COPY_REFUSED = _(
    "You already requested a copy of this article (%(number)s). Copyright law allows one copy per person."
)


def _earlier_same_book(request: Request):
    """An earlier loan request of this patron for the same book: same ISBN or NCID when both have
    one, otherwise the same title, author and edition (compared after normalising)."""
    earlier = Request.objects.filter(patron=request.patron, kind=Request.Kind.LOAN).exclude(lifecycle.failed_q())
    if request.pk:
        earlier = earlier.exclude(pk=request.pk)
    key = (normalise_text(request.title), normalise_text(request.author), normalise_text(request.edition))
    for other in earlier.only("number", "isbn", "ncid", "title", "author", "edition").order_by("submitted_at"):
        if request.isbn and other.isbn:
            if request.isbn == other.isbn:
                return other
            continue
        if request.ncid and other.ncid:
            if request.ncid == other.ncid:
                return other
            continue
        if key[0] and (normalise_text(other.title), normalise_text(other.author), normalise_text(other.edition)) == key:
            return other
    return None


def _earlier_same_article(request: Request):
    earlier = Request.objects.filter(patron=request.patron, kind=Request.Kind.COPY).exclude(lifecycle.failed_q())
    if request.pk:
        earlier = earlier.exclude(pk=request.pk)
    if request.doi:
        found = earlier.filter(doi=request.doi).first()
        if found is not None:
            return found
    article = normalise_text(request.article_title)
    source = normalise_text(request.journal_title or request.title)
    pages = normalise_text(request.pages)
    for other in earlier.only("number", "article_title", "title", "journal_title", "pages", "volume", "issue")[:500]:
        same_source = source and normalise_text(other.journal_title or other.title) == source
        if article and same_source and normalise_text(other.article_title) == article:
            return other
        if (
            same_source
            and pages
            and normalise_text(other.pages) == pages
            and normalise_text(other.volume) == normalise_text(request.volume)
            and normalise_text(other.issue) == normalise_text(request.issue)
        ):
            return other
    return None


def duplicate(request: Request, overrides: dict) -> RuleResult:
    code = "duplicate"
    if overrides.get("duplicate"):
        return RuleResult(
            code, DUPLICATE_LABEL, PASS, _("Overridden by staff: %(reason)s") % {"reason": overrides["duplicate"]}
        )
    if request.is_loan:
        earlier = _earlier_same_book(request)
        if earlier is not None:
            return RuleResult(code, DUPLICATE_LABEL, REFUSE, DUPLICATE_REFUSED % {"number": earlier.number})
    else:
        earlier = _earlier_same_article(request)
        if earlier is not None:
            return RuleResult(code, DUPLICATE_LABEL, REFUSE, DUPLICATE_COPY_REFUSED % {"number": earlier.number})
    return _ok(code, DUPLICATE_LABEL)


# --- §3.3 held here ------------------------------------------------------------------------

HELD_LABEL = _("Not held by this library")
HELD_REFUSED = _(
    "This library holds this book (%(title)s, call number %(call_number)s). Please use our copy; "
    "a book held here is not ordered from another library, even when our copy is on loan — you can reserve it."
)
HELD_ELECTRONIC_REFUSED = _("This library has this book electronically (%(title)s). Please read the e-book.")
EJOURNAL_WARNING = _(
    "This library subscribes to this journal electronically (%(title)s). Please check whether the article is "
    "available there before requesting a copy."
)
PRINT_JOURNAL_WARNING = _(
    "This library holds this journal (%(title)s, %(call_number)s). Check whether the volume you need is on our shelves."
)


def _holding_for(scheme: str, value: str):
    if not value:
        return None
    return (
        LocalHolding.objects.filter(identifiers__scheme=scheme, identifiers__value=value)
        .exclude(status=LocalHolding.Status.MISSING)
        .order_by("is_electronic")
        .first()
    )


def held_here(request: Request, overrides: dict) -> RuleResult:
    code = "held_here"
    book_held = _holding_for(LocalHoldingIdentifier.Scheme.ISBN, request.isbn) or _holding_for(
        LocalHoldingIdentifier.Scheme.NCID, request.ncid
    )
    if book_held is not None and (request.is_loan or request.material_type == Request.MaterialType.CHAPTER):
        params = {"title": book_held.title, "call_number": book_held.call_number or "—"}
        message = HELD_ELECTRONIC_REFUSED if book_held.is_electronic else HELD_REFUSED
        return RuleResult(code, HELD_LABEL, REFUSE, message % params)
    if request.is_copy and request.issn:
        journal = _holding_for(LocalHoldingIdentifier.Scheme.ISSN, request.issn)
        if journal is not None:
            message = EJOURNAL_WARNING if journal.is_electronic else PRINT_JOURNAL_WARNING
            return RuleResult(
                code, HELD_LABEL, WARN, message % {"title": journal.title, "call_number": journal.call_number or "—"}
            )
    return _ok(code, HELD_LABEL)


# --- §3.4 not loanable -----------------------------------------------------------------------

LOANABLE_LABEL = _("Loanable material")
PRE_1945_REFUSED = _(
    "Books published before %(year)d are not lent between libraries. "
    "You may request a copy of the pages you need instead."
)
SERIAL_REFUSED = _(
    "Serials (newspapers, journals) are not lent between libraries. Please request a copy of the article instead."
)
NEW_REFUSED = _(
    "New publications (published in the last %(months)d months) are not lent between libraries. "
    "Please ask the library to purchase it instead."
)


def is_new_publication(pub_year: int | None, today: datetime.date | None = None) -> bool:
    """With only a year known, a book is new when its year is not before the window's start."""
    if not pub_year:
        return False
    today = today or _today()
    try:
        start = today - relativedelta(months=settings.ILL_NEW_PUBLICATION_MONTHS)
    except (OverflowError, ValueError):  # a window reaching before year 1: everything is new
        return True
    return pub_year >= start.year


def loanable(request: Request, overrides: dict) -> RuleResult:
    code = "loanable"
    if not request.is_loan:
        return _ok(code, LOANABLE_LABEL)
    if request.material_type == Request.MaterialType.SERIAL:
        return RuleResult("not_loanable_serial", LOANABLE_LABEL, REFUSE, SERIAL_REFUSED)
    if request.pub_year and request.pub_year < settings.ILL_OLDEST_LOANABLE_YEAR:
        return RuleResult(
            "not_loanable_pre_1945",
            LOANABLE_LABEL,
            REFUSE,
            PRE_1945_REFUSED % {"year": settings.ILL_OLDEST_LOANABLE_YEAR},
        )
    if is_new_publication(request.pub_year):
        return RuleResult(
            "not_loanable_new", LOANABLE_LABEL, REFUSE, NEW_REFUSED % {"months": settings.ILL_NEW_PUBLICATION_MONTHS}
        )
    return _ok(code, LOANABLE_LABEL)


# --- §3.5 copyright (copies) -----------------------------------------------------------------

COPYRIGHT_LABEL = _("Copyright (Copyright Act art. 31)")
PURPOSE_REFUSED = _("Copies can be made only for research or study. Choose the purpose research or study.")
ACCEPT_REFUSED = _("Please confirm that you take responsibility for copyright compliance.")
LATEST_ISSUE_REFUSED = _(
    "Copies cannot be made from the latest issue of a periodical. This issue (%(date)s) may be copied from %(from)s."
)
HALF_REFUSED = _(
    "Copyright law does not allow copying half or more of a work: %(pages)d of %(total)d pages. "
    "Please request fewer than %(limit)d pages."
)

FREQUENCY_NEEDED = _(
    "Say how often the journal appears (weekly, monthly, …), so that we can check the issue is not the latest one."
)
ISSUE_DATE_NEEDED = _("Give the date of the issue, so that we can check it is not the latest one.")
TOTAL_PAGES_NEEDED = _(
    "Give the total number of pages of the book, so that we can check you ask for less than half of it "
    "(copyright law). If you do not know it, ask at the counter."
)


def cannot_be_latest(pub_year: int | None) -> bool:
    """An issue from two calendar years ago or earlier cannot be the latest of a periodical."""
    return bool(pub_year) and pub_year <= _today().year - 2


# Materials that are parts of a periodical whatever frequency is chosen: a journal article, and an
# issue or volume of a serial (a journal, a newspaper).
PERIODICAL_MATERIALS = (Request.MaterialType.ARTICLE, Request.MaterialType.SERIAL)


def missing_issue_facts(material_type: str, frequency: str, issue_date, pub_year) -> str | None:
    """What the latest-issue rule still needs to be told, as a field name ("periodical_frequency" or
    "issue_date"), or None. The form asks for it and `copyright_rule` refuses without it."""
    if cannot_be_latest(pub_year):
        return None
    periodical = frequency not in (None, "", Request.Frequency.NOT_PERIODICAL)
    if material_type in PERIODICAL_MATERIALS and not periodical:
        return "periodical_frequency"
    if (periodical or material_type in PERIODICAL_MATERIALS) and issue_date is None:
        return "issue_date"
    return None


def is_periodical_part(material_type: str, frequency: str) -> bool:
    """A part of a periodical (an article): exempt from the half rule once the issue is not the latest."""
    return frequency not in (None, "", Request.Frequency.NOT_PERIODICAL) or material_type in PERIODICAL_MATERIALS


def needs_total_pages(material_type: str, frequency: str, total_pages) -> bool:
    """A copy from a book (not a periodical part) needs the work's total pages for the half rule."""
    return not is_periodical_part(material_type, frequency) and not total_pages


FREQUENCY_PERIOD = {
    Request.Frequency.DAILY: relativedelta(days=1),
    Request.Frequency.WEEKLY: relativedelta(weeks=1),
    Request.Frequency.MONTHLY: relativedelta(months=1),
    Request.Frequency.BIMONTHLY: relativedelta(months=2),
    # Quarterly and less often: until 3 months after publication.
    Request.Frequency.QUARTERLY_OR_LESS: relativedelta(months=3),
}


def copyable_from(frequency: str, issue_date: datetime.date | None) -> datetime.date | None:
    """The first day an issue is no longer the latest (seed 004): the next issue's expected date
    for periodicals appearing more often than quarterly, 3 months after publication otherwise."""
    period = FREQUENCY_PERIOD.get(frequency)
    if period is None or issue_date is None:
        return None
    try:
        return issue_date + period
    except (OverflowError, ValueError):  # past 9999-12-31 (forms refuse such dates; old callers may not)
        return datetime.date.max  # never copyable: the issue is the latest one for all we can tell


def copyright_rule(request: Request, overrides: dict) -> RuleResult:
    code = "copyright"
    if not request.is_copy:
        return _ok(code, COPYRIGHT_LABEL)
    if overrides.get("copyright"):
        return RuleResult(
            code, COPYRIGHT_LABEL, PASS, _("Overridden by staff: %(reason)s") % {"reason": overrides["copyright"]}
        )
    if request.purpose not in (Request.Purpose.RESEARCH, Request.Purpose.STUDY):
        return RuleResult("copyright_purpose", COPYRIGHT_LABEL, REFUSE, PURPOSE_REFUSED)
    if not request.copyright_accepted:
        return RuleResult("copyright_accept", COPYRIGHT_LABEL, REFUSE, ACCEPT_REFUSED)
    # Whether the issue is the latest can only be told from its frequency and date.
    missing = missing_issue_facts(
        request.material_type, request.periodical_frequency, request.issue_date, request.pub_year
    )
    if missing == "periodical_frequency":
        return RuleResult("copyright_frequency", COPYRIGHT_LABEL, REFUSE, FREQUENCY_NEEDED)
    if missing == "issue_date":
        return RuleResult("copyright_issue_date", COPYRIGHT_LABEL, REFUSE, ISSUE_DATE_NEEDED)
    first_day = copyable_from(request.periodical_frequency, request.issue_date)
    latest = first_day is not None and _today() < first_day
    if latest:
        return RuleResult(
            "copyright_latest_issue",
            COPYRIGHT_LABEL,
            REFUSE,
            LATEST_ISSUE_REFUSED % {"date": format_date(request.issue_date), "from": format_date(first_day)},
        )
    # 「資料の半分以上」: 50 of 100 pages is refused, 49 allowed. A single article in a periodical
    # issue that is no longer the latest is exempt. Without the work's total pages the rule cannot
    # be checked: the patron gives it, or staff check and override with a reason.
    if needs_total_pages(request.material_type, request.periodical_frequency, request.work_total_pages):
        return RuleResult("copyright_total_pages", COPYRIGHT_LABEL, REFUSE, TOTAL_PAGES_NEEDED)
    total, pages = request.work_total_pages, request.page_count
    if (
        total
        and pages is not None
        and not is_periodical_part(request.material_type, request.periodical_frequency)
        and pages * 2 >= total
    ):
        limit = (total + 1) // 2
        return RuleResult(
            "copyright_half", COPYRIGHT_LABEL, REFUSE, HALF_REFUSED % {"pages": pages, "total": total, "limit": limit}
        )
    return _ok(code, COPYRIGHT_LABEL)


# --- §3.6 budget code -----------------------------------------------------------------------

BUDGET_LABEL = _("Budget code")
BUDGET_MISSING = _("Public or grant expense needs a budget code registered with the library in advance.")
BUDGET_NOT_OPEN = _(
    "Budget code %(code)s cannot be charged by you this fiscal year (not registered for FY%(year)d, inactive, "
    "not usable for ILL, or you are not one of its members). Ask the faculty member responsible for it."
)
BUDGET_LEFT = _(
    "Budget code %(code)s has %(left)s left, but this request is estimated at %(estimate)s or more. "
    "Ask the budget holder to raise the limit, or choose another code or private expense."
)


BUDGET_NOT_A_GRANT = _("Budget code %(code)s is not a research grant; choose public expense, or a grant code.")


def grant_code_mismatch(expense_type: str, budget_code: BudgetCode | None) -> bool:
    """Research-grant expense must be charged to a grant code (DESIGN.md §2)."""
    return expense_type == Request.ExpenseType.GRANT and budget_code is not None and budget_code.kind != "grant"


def budget(request: Request, overrides: dict) -> RuleResult:
    code = "budget_code"
    if not request.is_public_expense:
        return _ok(code, BUDGET_LABEL)
    if request.budget_code_id is None:
        return RuleResult("budget_missing", BUDGET_LABEL, REFUSE, BUDGET_MISSING)
    budget_code = request.budget_code
    if grant_code_mismatch(request.expense_type, budget_code):
        return RuleResult("budget_not_grant", BUDGET_LABEL, REFUSE, BUDGET_NOT_A_GRANT % {"code": budget_code.code})
    if not budgets.may_charge(request.patron, budget_code):
        return RuleResult(
            "budget_not_open",
            BUDGET_LABEL,
            REFUSE,
            BUDGET_NOT_OPEN % {"code": budget_code.code, "year": current_fiscal_year()},
        )
    left = budgets.budget_position(budget_code).left
    if left is not None:
        low = estimates.estimate(request).low
        if low is not None and low > left:
            return RuleResult(
                "budget_exceeded",
                BUDGET_LABEL,
                REFUSE,
                BUDGET_LEFT % {"code": budget_code.code, "left": format_yen(left), "estimate": format_yen(low)},
            )
    return _ok(code, BUDGET_LABEL)


# --- §3.8 hard to obtain (warnings only) ----------------------------------------------------

OBTAIN_LABEL = _("Availability")
HARD_TO_OBTAIN = {
    Request.MaterialType.THESIS: _("Theses, especially master's theses, are often not supplied by other libraries."),
    Request.MaterialType.PROCEEDINGS: _(
        "Conference proceedings distributed only to participants are often impossible to obtain."
    ),
    Request.MaterialType.AUDIOVISUAL: _("Audio-visual materials are rarely lent between libraries."),
    Request.MaterialType.OTHER: _("Unpublished material is often impossible to obtain."),
}
ELECTRONIC_ONLY = _(
    "Articles published only electronically cannot always be supplied: libraries may not send the electronic file."
)


def hard_to_obtain(request: Request, overrides: dict) -> RuleResult:
    code = "hard_to_obtain"
    message = HARD_TO_OBTAIN.get(request.material_type)
    if message:
        return RuleResult(code, OBTAIN_LABEL, WARN, message)
    if request.is_copy and request.doi and not (request.issn or request.volume or request.pages):
        return RuleResult(code, OBTAIN_LABEL, WARN, ELECTRONIC_ONLY)
    return _ok(code, OBTAIN_LABEL)


# --- the whole set --------------------------------------------------------------------------

NOT_NEEDED_LABEL = _("Still needed")
NOT_NEEDED_PAST = _("The date after which you no longer need it (%(date)s) has already passed.")


def still_needed(request: Request, overrides: dict) -> RuleResult:
    code = "not_needed_after"
    if request.not_needed_after and request.not_needed_after < _today():
        return RuleResult(
            code, NOT_NEEDED_LABEL, REFUSE, NOT_NEEDED_PAST % {"date": format_date(request.not_needed_after)}
        )
    return _ok(code, NOT_NEEDED_LABEL)


RULES = (loan_limit, overdue, duplicate, held_here, loanable, copyright_rule, budget, still_needed, hard_to_obtain)


# Rules that concern one kind of request only: the confirmation page of a copy does not list the
# five-book limit, nor a loan's the copyright rule (each also passes the other kind by itself).
ONLY_FOR = {
    loan_limit: Request.Kind.LOAN,
    overdue: Request.Kind.LOAN,
    loanable: Request.Kind.LOAN,
    copyright_rule: Request.Kind.COPY,
}


def evaluate(request: Request, *, overrides: dict | None = None) -> list[RuleResult]:
    """The result of every rule that applies to this kind of request, in order."""
    overrides = overrides or {}
    return [rule(request, overrides) for rule in RULES if ONLY_FOR.get(rule, request.kind) == request.kind]


def check_submission(request: Request, *, overrides: dict | None = None) -> list[RuleResult]:
    """Raise RulesRefused if any rule refuses; otherwise return the results (with warnings)."""
    results = evaluate(request, overrides=overrides)
    refused = [r for r in results if r.refused]
    if refused:
        raise RulesRefused(refused)
    return results
