"""The e-mails of `bench/generate.py`, rendered by the app's own templates.

Rendering millions of messages through Django would take hours, so each distinct *variant* of a
message (kind, language, branch, loan or copy, who pays, what to bring…) is rendered once with
sentinel values, and the sentinels are turned into PostgreSQL `format()` placeholders (`%1$s` …).
The generator then fills in each message's number, title, name, amounts and dates in one pass of
`format()`. The argument order is `ARGS`; `DATE_FORMATS` lists, per language, the date formats the
e-mail templates use, longest first, so that a shorter one never eats part of a longer one.

Call `render_variants` only after `django.setup()`.
"""

import datetime

# The SQL passes format() these arguments, in this order (1-based in the templates).
ARGS = [
    "number",
    "title",
    "jtitle",
    "volume",
    "issue",
    "pages",
    "name",
    "code",
    "lab",
    "total",
    "cash",
    "stamps",
    "max_cost",
    "d0_f1",
    "d0_f2",
    "d0_f3",
    "d0_iso",
    "d1_f1",
    "d1_f2",
    "d1_f3",
    "d1_iso",
]

SENTINEL = {
    "number": "ILL-2099-987654",
    "title": "QQTITLEQQ",
    "jtitle": "QQJTITLEQQ",
    "volume": "QQVOLQQ",
    "issue": "QQISSQQ",
    "pages": "QQPAGESQQ",
    "name": "QQNAMEQQ",
    "code": "QQCODEQQ",
    "lab": "QQLABQQ",
    "total": 918273,
    "cash": 927364,
    "stamps": 936455,
    "max_cost": 945546,
}
D0 = datetime.date(2099, 12, 28)
D1 = datetime.date(2098, 11, 23)

# Formats of the e-mail templates (`|date:"…"`), longest first.
DATE_FORMATS = {
    "ja": ["Y年n月j日(D)", "Y年n月j日", "n月j日"],
    "en": ["l j F Y", "j F Y", "j F"],
}

# The variant columns, in the order the SQL joins them with "|".
VARIANT_FIELDS = [
    "kind",
    "lang",
    "branch",
    "req_kind",
    "payer",
    "cash",
    "rp",
    "campus",
    "ship",
    "domestic",
    "reason",
    "nn",
    "reminder",
    "state",
]


def formatted_dates(day: datetime.date, language: str) -> list[str]:
    """The day in each of the language's formats, as Django renders it in that language."""
    from django.utils import dateformat, translation

    with translation.override(language):
        return [dateformat.format(day, fmt) for fmt in DATE_FORMATS[language]]


def date_rows(first: datetime.date, last: datetime.date) -> list[tuple]:
    """(day, language, f1, f2, f3) for every day from first to last, both languages."""
    rows = []
    day = first
    while day <= last:
        for language in DATE_FORMATS:
            rows.append((day, language, *formatted_dates(day, language)))
        day += datetime.timedelta(days=1)
    return rows


def _placeholders(language: str) -> list[tuple[str, str]]:
    """(rendered sentinel, placeholder) pairs, in the order they must be replaced."""
    pairs = [(SENTINEL["number"], "number")]
    for key in ("jtitle", "title", "volume", "issue", "pages", "name", "code", "lab"):
        pairs.append((SENTINEL[key], key))
    for key in ("total", "cash", "stamps", "max_cost"):
        pairs.append((f"{SENTINEL[key]:,}", key))
    for prefix, day in (("d0", D0), ("d1", D1)):
        for i, text in enumerate(formatted_dates(day, language), start=1):
            pairs.append((text, f"{prefix}_f{i}"))
        pairs.append((day.isoformat(), f"{prefix}_iso"))
    return [(text, f"%{ARGS.index(key) + 1}$s") for text, key in pairs]


def to_format(text: str, language: str) -> str:
    """A rendered message turned into a format() template; fails if a sentinel is left over."""
    text = text.replace("%", "%%")
    for rendered, placeholder in _placeholders(language):
        text = text.replace(rendered, placeholder)
    for leftover in ("QQ", "2099", "2098", "987654", "918,273", "927,364", "936,455", "945,546"):
        if leftover in text:
            raise ValueError(f"sentinel {leftover!r} left in a {language} message: {text[:200]!r}")
    return text


def not_needed_note(day: datetime.date) -> str:
    """The note `ill.services.close_not_needed` writes, in the desk's language (Japanese)."""
    from django.utils import translation

    from ill.services.ordering import CLOSED_NOT_NEEDED

    with translation.override("ja"):
        return str(CLOSED_NOT_NEEDED % {"date": day.isoformat()})


def _objects(v: dict, branches: dict):
    """Unsaved model instances carrying the sentinels, shaped like the variant."""
    from fees.models import BudgetCode, Charge
    from ill.models import ExtensionRequest, LendingInstitution, Request
    from patrons.models import Laboratory, Patron

    copy = v["req_kind"] == "copy"
    lab = Laboratory(name=SENTINEL["lab"], name_en=SENTINEL["lab"])
    patron = Patron(full_name=SENTINEL["name"], laboratory=lab if v["campus"] == "1" else None)
    expense = {"public": "public", "grant": "grant"}.get(v["payer"], "private")
    request = Request(
        number=SENTINEL["number"],
        kind=v["req_kind"],
        title=SENTINEL["jtitle"] if copy else SENTINEL["title"],
        article_title=SENTINEL["title"] if copy else "",
        volume=SENTINEL["volume"] if copy else "",
        issue=SENTINEL["issue"] if copy else "",
        pages=SENTINEL["pages"] if copy else "",
        patron=patron,
        pickup_branch=branches[int(v["branch"])],
        expense_type=expense,
        budget_code=BudgetCode(code=SENTINEL["code"]) if expense != "private" else None,
        max_cost=SENTINEL["max_cost"],
        due_date=D0 if v["req_kind"] == "loan" else None,
        shipping_method=v["ship"],
        lender=LendingInstitution(kind="jp_university" if v["domestic"] == "1" else "overseas"),
        reject_reason=v["reason"],
        status_note=not_needed_note(D0) if v["nn"] == "1" else "",
    )
    if v["payer"] == "support":
        request.support_budget_id = 1
    payment_class = v["payer"] if v["payer"] in ("public", "grant", "support") else "private"
    charge = None
    if v["state"]:
        charge = Charge(
            total=SENTINEL["total"],
            state=v["state"],
            payment_class=payment_class,
            return_postage=SENTINEL["stamps"] if v["rp"] == "stamps" else 0,
        )
    extension = ExtensionRequest(new_due_date=D0, answer_note="")
    return request, patron, lab, charge, extension


def _context(v: dict, branches: dict) -> dict:
    """What `ill.notices.request_context` and the reminder jobs give the templates."""
    from ill import notices

    request, patron, lab, charge, extension = _objects(v, branches)
    context = {
        "request": request,
        "patron": patron,
        "branch": request.pickup_branch,
        "event": None,
        "charge": charge,
        "payer": charge.payment_class if charge else v["payer"],
        "cash_due": SENTINEL["cash"] if v["cash"] == "1" else 0,
        "stamps": SENTINEL["stamps"] if v["rp"] == "stamps" else 0,
        "hours": notices.pickup_hours(request, charge),
        "return_postage": "barcode" if v["rp"] == "barcode" else ("stamps" if v["rp"] == "stamps" else ""),
        "campus_mail": v["campus"] == "1",
        "laboratory": lab,
        "url": request.get_absolute_url(),
        "support_removed": "",
        "days_left": 3,
        "days_overdue": 1 + 7 * (int(v["reminder"] or 1) - 1),
        "reminder": int(v["reminder"] or 1),
        "days_waiting": 14,
        "collect_by": D1,
        "extension": extension,
    }
    return context


def render_variants(variants: list[str], branches: dict) -> list[tuple[str, str, str, str]]:
    """(variant, subject, text, html) format() templates for each "|"-joined variant string."""
    from ill.notices import TEMPLATES
    from notifications.services import render

    rendered = []
    for variant in variants:
        v = dict(zip(VARIANT_FIELDS, variant.split("|"), strict=True))
        subject, text, html = render(TEMPLATES, v["kind"], v["lang"], _context(v, branches))
        rendered.append(
            (variant, to_format(subject, v["lang"]), to_format(text, v["lang"]), to_format(html, v["lang"]))
        )
    return rendered
