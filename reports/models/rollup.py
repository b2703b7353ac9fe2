"""The monthly figures the report pages read (kept up to date by reports.rollup)."""

__all__ = []
