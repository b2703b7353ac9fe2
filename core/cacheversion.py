"""A version number kept in the cache, under which other cached values are stored.

Moving the version on makes every value stored under the old one stale at once, without finding
and deleting them: the desk's worklist counts (`ill.countcache`), the estimates' fee schedules
(`fees.schedule_cache`), the permission sets (`patrons.permcache`). Their modules hold no model
imports, so the app configs can connect the signals that move them before the models load.
"""

from django.core.cache import cache
from django.db import transaction


class CacheVersion:
    def __init__(self, key: str):
        self.key = key

    def current(self) -> int:
        return cache.get_or_set(self.key, 1, None)

    def bump(self, **kwargs) -> None:
        """Move the version on now (also a signal receiver)."""
        try:
            cache.incr(self.key)
        except ValueError:  # not set yet, or evicted: any fresh version will do
            cache.set(self.key, 1, None)

    def bump_on_commit(self, **kwargs) -> None:
        """Move the version on once the current transaction commits (a signal receiver)."""
        transaction.on_commit(self.bump)
