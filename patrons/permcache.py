"""The version under which permission sets are cached (patrons.backends.DeskBackend).

Any change to users, groups or permissions moves it on at once (the signals in `patrons.apps`),
which makes every cached set stale.
"""

from core.cacheversion import CacheVersion

PERMISSIONS = CacheVersion("auth:perms-version")
VERSION_KEY = PERMISSIONS.key
version = PERMISSIONS.current
forget_permissions = PERMISSIONS.bump
