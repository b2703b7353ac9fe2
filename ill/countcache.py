"""The version under which the desk's worklist counts are cached (`ill.worklists.desk_counts`).

Any saved or deleted request or extension request moves it on once its transaction commits (the
signals in `ill.apps`), so the counter sees a change on its next page.
"""

from core.cacheversion import CacheVersion

COUNTS = CacheVersion("desk:counts-version")
VERSION_KEY = COUNTS.key
version = COUNTS.current
counts_changed = COUNTS.bump_on_commit
