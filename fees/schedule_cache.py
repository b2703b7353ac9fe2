"""The version under which the candidate lenders' fee schedules are cached (`ill.estimates`).

Saving or deleting a lender, a fee schedule or a paper price moves it on (the signals in
`fees.apps` and `ill.apps`), so a changed schedule prices the next estimate. Kept apart from the
models so the app configs can import it before the models are loaded.
"""

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "fees:schedules-version"


def version() -> int:
    return cache.get_or_set(VERSION_KEY, 1, None)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet, or evicted
        cache.set(VERSION_KEY, 1, None)


def schedules_changed(**kwargs) -> None:
    """Signal receiver: the cached schedules are stale once this transaction commits."""
    transaction.on_commit(_bump)
