"""The annual survey figures (DESIGN.md §10): what an ILL office reports each year to MEXT's
学術情報基盤実態調査 (大学図書館編 5-5 文献複写, 5-6 図書館間相互協力) and to the JLA university library
statistics — borrowing counts of copies and loans, domestic and overseas, per fiscal year.

DEFINITIONS is the one place the wording and the counting rules are written: the page shows each
next to its figure and the export carries it, so a change in the questionnaire is a one-line edit
here. The questionnaires and their instructions (記入要領) could not be checked when this was
written (docs/research/issue-11-reports.md §2): the rules below are stated on the page, and the
"supplied" counts are shown next to the "sent" ones, so staff report whichever the questionnaire
defines. The borrowing figures come from reports.rollup.survey_counts (the monthly rollup).

The lending side (受付 / 貸出: other libraries asking us, the lending desk of DESIGN.md §11) comes from
reports.lending.survey_counts: requests received and requests supplied (shipped) in the year, each
once, domestic / overseas by the borrowing library. It is for the whole library (no branch).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import fiscal_year_label
from reports import lending, rollup
from reports.tables import COUNT, TEXT, Chart, Column, Table

# The survey's items, in its order: (key, label). The labels carry the survey's own terms.
ITEMS = {
    "copy": gettext_lazy("Copies requested from other libraries (文献複写 依頼)"),
    "loan": gettext_lazy("Loans borrowed from other libraries (現物貸借 借受)"),
    "copy_received": gettext_lazy("Copy requests received from other libraries (文献複写 受付)"),
    "loan_lent": gettext_lazy("Loans lent to other libraries (現物貸借 貸出)"),
}

# What each figure counts. One place to change a wording.
DEFINITIONS = {
    "copy_sent": gettext_lazy(
        "Copy requests this library sent to another library: each request once, in the fiscal year (1 April – "
        "31 March) of its first order to a lender, however many lenders it then went to. Requests rejected or "
        "cancelled before they were ordered never went to another library and are not counted."
    ),
    "copy_supplied": gettext_lazy(
        "Copy requests that arrived from a lender in the fiscal year (the copy was supplied), each once."
    ),
    "loan_sent": gettext_lazy(
        "Loan requests this library sent to another library: each request once, in the fiscal year of its "
        "first order to a lender, however many lenders it then went to."
    ),
    "loan_supplied": gettext_lazy(
        "Books that arrived on loan from a lender in the fiscal year (borrowed), each request once."
    ),
    "domestic_overseas": gettext_lazy(
        "Domestic / overseas (国内 / 国外): by the lender — for the requests sent, the first lender asked; for "
        "those supplied, the lender that supplied it. Overseas is a lender of the kind “Overseas library” or "
        "with a country other than Japan."
    ),
    "campus": gettext_lazy(
        "Requests inside the university (学内) are not interlibrary loan: this desk records only requests to "
        "other libraries, so none are counted."
    ),
    "lending_copy_received": gettext_lazy(
        "Copy requests other libraries sent to this library: each request once, in the fiscal year we received "
        "it (entered at the lending desk or arrived by ISO 18626), whether we then supplied it, could not "
        "(unfilled) or they cancelled it."
    ),
    "lending_copy_supplied": gettext_lazy(
        "Copies this library made and sent to another library: each request once, in the fiscal year it was shipped."
    ),
    "lending_loan_received": gettext_lazy(
        "Loan requests other libraries sent to this library: each request once, in the fiscal year we received "
        "it, whatever became of it."
    ),
    "lending_loan_supplied": gettext_lazy(
        "Books this library lent to another library: each request once, in the fiscal year it was shipped "
        "(renewals are not counted again)."
    ),
    "lending_domestic_overseas": gettext_lazy(
        "Domestic / overseas (国内 / 国外) on the lending side: by the borrowing library that asked. Overseas is a "
        "library of the kind “Overseas library” or with a country other than Japan."
    ),
    "lending_branch": gettext_lazy(
        "The lending figures are for the whole library: a request from another library is not for one of our "
        "branches, so a branch chosen in the filters does not change them."
    ),
    "questionnaire": gettext_lazy(
        "Check these rules against the questionnaire's instructions (記入要領) for the year: if it counts requests "
        "supplied rather than sent, report the “supplied” line."
    ),
}

SENT, SUPPLIED = "sent", "supplied"
COUNTED = {SENT: gettext_lazy("Sent to a lender"), SUPPLIED: gettext_lazy("Supplied (arrived)")}
RECEIVED, SHIPPED = "received", "shipped"
LENDING_COUNTED = {
    RECEIVED: gettext_lazy("Received from a library"),
    SHIPPED: gettext_lazy("Supplied (shipped)"),
}
# The lending side's rows: (item, counted, reports.lending.survey_counts key, definition key).
LENDING_ROWS = (
    ("copy_received", RECEIVED, "copy_received", "lending_copy_received"),
    ("copy_received", SHIPPED, "copy_supplied", "lending_copy_supplied"),
    ("loan_lent", RECEIVED, "loan_received", "lending_loan_received"),
    ("loan_lent", SHIPPED, "loan_supplied", "lending_loan_supplied"),
)


def _columns() -> list[Column]:
    return [
        Column("item", _("Survey item"), TEXT),
        Column("counted", _("Counted"), TEXT),
        Column("domestic", _("Domestic (国内)"), COUNT),
        Column("overseas", _("Overseas (国外)"), COUNT),
        Column("total", _("Total"), COUNT),
        Column("definition", _("Definition"), TEXT),
    ]


def survey_tables(fiscal_year: int, branch_id: int | None = None) -> list[Table]:
    """The survey's Tables for a fiscal year: borrowing, lending (for the whole library), definitions."""
    outcome = rollup.refresh_for_page()  # the rollup brought up to date when only a few months changed
    freshness = {"computed_at": rollup.computed_at(), "stale": not outcome["done"]}
    counts = rollup.survey_counts(fiscal_year, branch_id=branch_id)
    rows = []
    for kind in ("copy", "loan"):
        for what in (SENT, SUPPLIED):
            figures = counts.get(f"{kind}_{what}") or {}
            domestic, overseas = figures.get("domestic", 0), figures.get("overseas", 0)
            rows.append(
                [
                    str(ITEMS[kind]),
                    str(COUNTED[what]),
                    domestic,
                    overseas,
                    domestic + overseas,
                    str(DEFINITIONS[f"{kind}_{what}"]),
                ]
            )
    year = fiscal_year_label(fiscal_year)
    sent = [row for row in rows if row[1] == str(COUNTED[SENT])]
    borrowing = Table(
        slug="survey-borrowing",
        title=_("Borrowing: copies and loans from other libraries"),
        columns=_columns(),
        rows=rows,
        note=" ".join(str(DEFINITIONS[key]) for key in ("domestic_overseas", "campus", "questionnaire")),
        chart=Chart(
            "stacked",
            [row[0] for row in sent],
            [(_("Domestic (国内)"), [row[2] for row in sent]), (_("Overseas (国外)"), [row[3] for row in sent])],
        ),
        summary=_("Copies requested and loans borrowed, %(year)s, domestic and overseas (sent to a lender).")
        % {"year": year},
        extra={"counts": counts, **freshness},
    )
    lending_table = _lending_table(fiscal_year, year, branch_id)
    definitions = Table(
        slug="survey-definitions",
        title=_("How the figures are counted"),
        columns=[Column("term", _("Figure"), TEXT), Column("definition", _("Definition"), TEXT)],
        rows=[[_definition_term(key), str(text)] for key, text in DEFINITIONS.items()],
    )
    return [borrowing, lending_table, definitions]


def _lending_table(fiscal_year: int, year: str, branch_id: int | None) -> Table:
    counts = lending.survey_counts(fiscal_year)
    rows = []
    for item, counted, key, definition in LENDING_ROWS:
        domestic, overseas = counts[key]["domestic"], counts[key]["overseas"]
        rows.append(
            [
                str(ITEMS[item]),
                str(LENDING_COUNTED[counted]),
                domestic,
                overseas,
                domestic + overseas,
                str(DEFINITIONS[definition]),
            ]
        )
    supplied = [row for row in rows if row[1] == str(LENDING_COUNTED[SHIPPED])]
    notes = ["lending_domestic_overseas", "questionnaire"] + (["lending_branch"] if branch_id is not None else [])
    return Table(
        slug="survey-lending",
        title=_("Lending: copies and loans for other libraries"),
        columns=_columns(),
        rows=rows,
        note=" ".join(str(DEFINITIONS[key]) for key in notes),
        chart=Chart(
            "stacked",
            [row[0] for row in supplied],
            [
                (_("Domestic (国内)"), [row[2] for row in supplied]),
                (_("Overseas (国外)"), [row[3] for row in supplied]),
            ],
        ),
        summary=_("Copies we supplied and books we lent to other libraries, %(year)s, domestic and overseas.")
        % {"year": year},
        extra={"counts": counts, "branch_ignored": branch_id is not None},
    )


def _definition_term(key: str) -> str:
    terms = {
        "copy_sent": f"{ITEMS['copy']} · {COUNTED[SENT]}",
        "copy_supplied": f"{ITEMS['copy']} · {COUNTED[SUPPLIED]}",
        "loan_sent": f"{ITEMS['loan']} · {COUNTED[SENT]}",
        "loan_supplied": f"{ITEMS['loan']} · {COUNTED[SUPPLIED]}",
        "domestic_overseas": _("Domestic / overseas"),
        "campus": _("Inside the university"),
        "lending_copy_received": f"{ITEMS['copy_received']} · {LENDING_COUNTED[RECEIVED]}",
        "lending_copy_supplied": f"{ITEMS['copy_received']} · {LENDING_COUNTED[SHIPPED]}",
        "lending_loan_received": f"{ITEMS['loan_lent']} · {LENDING_COUNTED[RECEIVED]}",
        "lending_loan_supplied": f"{ITEMS['loan_lent']} · {LENDING_COUNTED[SHIPPED]}",
        "lending_domestic_overseas": _("Domestic / overseas, lending side"),
        "lending_branch": _("Lending side and the branch filter"),
        "questionnaire": _("The questionnaire"),
    }
    return str(terms.get(key, key))
