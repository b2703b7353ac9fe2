"""What every report page shows and exports: tables of figures, each with an optional chart.

A figure function (reports.figures, reports.survey, …) returns `Table`s; the page renders each one
as a chart (when it has one) with the same figures as a table under it, and the exports write the
same rows as CSV or .xlsx. So what is printed, charted and downloaded can never disagree.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# How a column's values are written: plain text, a count, whole yen, a percentage (a float 0–100,
# one decimal), days (a float, one decimal), a date.
TEXT, COUNT, YEN, PERCENT, DAYS, DATE = "text", "count", "yen", "percent", "days", "date"


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # already translated (str of a lazy string)
    kind: str = TEXT


@dataclass(frozen=True)
class Chart:
    """What Chart.js draws: `kind` is "bar", "stacked" (stacked bars), "line" or "hbar"; `labels`
    the x-axis (or y for hbar) categories; `series` pairs of (label, values), values aligned with
    `labels` (None for a gap)."""

    kind: str
    labels: list
    series: list  # [(label, [number | None, …]), …]
    unit: str = COUNT  # how the values axis is written: COUNT, YEN, PERCENT, DAYS


@dataclass
class Table:
    slug: str  # unique on its page; the export's file name and the `table=` parameter
    title: str
    columns: list  # [Column, …]
    rows: list  # [[value, …], …] aligned with columns; None is an empty cell
    chart: Chart | None = None
    note: str = ""  # a definition or caveat shown under the title (and written into the export)
    footer: list | None = None  # a totals row, aligned with columns
    summary: str = ""  # one sentence for the chart's aria-label
    extra: dict = field(default_factory=dict)  # anything a template needs besides the figures
    # For a list that grows with the data (every lender, every budget code): the page shows `rows`
    # (the top ones and an "all others" line) and the export streams every row from this.
    all_rows: Callable[[], Iterable[list]] | None = None


@dataclass(frozen=True)
class Scope:
    """What a report page covers: a fiscal year (April–March), optionally one calendar month of it,
    optionally one branch (the pick-up branch of the requests; None = every branch)."""

    fiscal_year: int
    month: int | None = None
    branch_id: int | None = None
