from django.urls import register_converter


class RequestNumberConverter:
    """ILL-2026-000123: anything else is a 404 before any query runs (PostgreSQL refuses NUL bytes)."""

    regex = r"ILL-[0-9]{4}-[0-9]{6,9}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class PatronNumberConverter:
    """Student and staff numbers: letters, digits, dots, dashes and underscores."""

    regex = r"[A-Za-z0-9._-]{1,30}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(RequestNumberConverter, "reqno")
register_converter(PatronNumberConverter, "patronno")
