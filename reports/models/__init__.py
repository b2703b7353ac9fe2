"""The reports' own tables: the monthly figures kept up to date from the requests (rollup) and the
imported fee-offset statements (offset)."""

from reports.models.offset import *  # noqa: F403
from reports.models.rollup import *  # noqa: F403
