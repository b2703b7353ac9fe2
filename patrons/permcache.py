"""The version under which permission sets are cached (patrons.backends.DeskBackend).

Any change to users, groups or permissions moves it on (the signals in `patrons.apps`), which makes
every cached set stale at once. Kept apart from the backend so the app config can import it before
the auth models are loaded.
"""

from django.core.cache import cache

VERSION_KEY = "auth:perms-version"


def version() -> int:
    current = cache.get(VERSION_KEY)
    if current is None:
        current = 1
        cache.add(VERSION_KEY, current, None)
    return current


def forget_permissions(**kwargs) -> None:
    """Signal receiver: a user, group or permission changed."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet, or evicted: any fresh version will do
        cache.set(VERSION_KEY, 1, None)
