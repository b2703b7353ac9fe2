"""The version under which the desk's worklist counts are cached (`ill.worklists.desk_counts`).

Any saved or deleted request or extension request moves it on once its transaction commits (the
signals in `ill.apps`), so the counter sees a change on its next page. Kept apart from the
worklists so the app config can import it before the models are loaded.
"""

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "desk:counts-version"


def version() -> int:
    return cache.get_or_set(VERSION_KEY, 1, None)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet, or evicted
        cache.set(VERSION_KEY, 1, None)


def counts_changed(**kwargs) -> None:
    """Signal receiver: the cached counts are stale once this transaction commits."""
    transaction.on_commit(_bump)
