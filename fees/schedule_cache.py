"""The version under which the candidate lenders' fee schedules are cached (`ill.estimates`).

Saving or deleting a lender, a fee schedule or a paper price moves it on once the transaction
commits (the signals in `fees.apps` and `ill.apps`), so a changed schedule prices the next estimate.
"""

from core.cacheversion import CacheVersion

SCHEDULES = CacheVersion("fees:schedules-version")
version = SCHEDULES.current
schedules_changed = SCHEDULES.bump_on_commit
