"""Imported NACSIS-ILL fee-offset statements and their lines, matched to our charges (reports.offset)."""

__all__ = []
