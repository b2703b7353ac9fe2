"""The figures of DESIGN.md §10, as Tables (reports.tables), read from the monthly rollup.

STUB: the signatures are the contract with the pages (reports.views); the bodies are being written.
Each function takes a Scope and returns a list of Tables, months in fiscal order (April first).
"""

from django.utils.translation import gettext as _

from reports.tables import COUNT, TEXT, Chart, Column, Scope, Table

MONTH_KEYS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)


def _stub(slug, title):
    labels = [str(m) for m in MONTH_KEYS]
    rows = [[str(m), i, 2 * i] for i, m in enumerate(MONTH_KEYS)]
    return Table(
        slug=slug,
        title=title,
        columns=[
            Column("month", _("Month"), TEXT),
            Column("loan", _("Loans"), COUNT),
            Column("copy", _("Copies"), COUNT),
        ],
        rows=rows,
        chart=Chart("stacked", labels, [(_("Loans"), [r[1] for r in rows]), (_("Copies"), [r[2] for r in rows])]),
        summary=title,
    )


def requests_tables(scope: Scope) -> list[Table]:
    """Requests by kind per month, by status, by lender kind, domestic / overseas."""
    return [_stub("by-kind", _("Requests by kind"))]


def fill_rate_tables(scope: Scope) -> list[Table]:
    """Fill rate overall and per lender, the lenders' unfilled reasons."""
    return [_stub("fill-rate", _("Fill rate"))]


def turnaround_tables(scope: Scope) -> list[Table]:
    """Median and 90th percentile days submitted → arrived and ordered → arrived, per lender kind
    and per delivery method, against the estimates shown to patrons."""
    return [_stub("turnaround", _("Turnaround"))]


def charges_tables(scope: Scope) -> list[Table]:
    """Charges by expense type and by budget code."""
    return [_stub("charges", _("Charges"))]


def support_tables(scope: Scope) -> list[Table]:
    """The support budget's use against its total."""
    return [_stub("support", _("Support budget"))]
