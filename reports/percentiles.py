"""Medians and percentiles the way PostgreSQL's percentile_cont, Excel's PERCENTILE.INC, NumPy's
default and R's type 7 compute them: linear interpolation between the two neighbouring values at
position p·(n − 1) of the sorted values (docs/research/issue-11-reports.md §5).

[1, 2, 3, 4] gives a median of 2.5 and a 90th percentile of 3.7; [1, 2, 3, 4, 5] gives 3 and 4.6.
(`statistics.quantiles` defaults to the "exclusive" method, a different answer: not used here.)

The rollup keeps durations as histograms of whole hours {hours: count}; `from_histogram` gives the
same answer as `percentile` over the list the histogram stands for, without expanding it.
"""

import math
from collections.abc import Iterable, Mapping


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th quantile (0 ≤ p ≤ 1) of `values`, interpolated; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return _interpolate(lambda i: ordered[i], len(ordered), p)


def _interpolate(value_at, n: int, p: float) -> float:
    if not 0 <= p <= 1:
        raise ValueError("p must be between 0 and 1")
    position = p * (n - 1)
    low = math.floor(position)
    high = min(low + 1, n - 1)
    lower = value_at(low)
    if position == low:
        return float(lower)
    return lower + (position - low) * (value_at(high) - lower)


def merge(histograms: Iterable[Mapping]) -> dict[int, int]:
    """Add histograms {value: count} (keys may be strings, as JSON stores them)."""
    merged: dict[int, int] = {}
    for histogram in histograms:
        for key, count in histogram.items():
            merged[int(key)] = merged.get(int(key), 0) + count
    return merged


def from_histogram(histogram: Mapping, p: float) -> float | None:
    """The p-th quantile of the values a histogram {value: count} stands for; None when empty."""
    bins = sorted((int(key), count) for key, count in histogram.items() if count)
    n = sum(count for _value, count in bins)
    if n == 0:
        return None

    def value_at(index: int) -> int:
        seen = 0
        for value, count in bins:
            seen += count
            if index < seen:
                return value
        return bins[-1][0]

    return _interpolate(value_at, n, p)
