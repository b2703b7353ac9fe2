"""Small helpers shared by the apps: bilingual names and yen formatting."""

from django.utils.translation import get_language


def current_language() -> str:
    return (get_language() or "ja").split("-")[0]


def localized(obj, field: str = "name") -> str:
    """The English variant (`<field>_en`) when the page is in English and it is filled in."""
    if current_language() == "en":
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)


def format_yen(amount: int | None, language: str | None = None) -> str:
    """`¥1,400` in English, `1,400円` in Japanese. Money is always whole yen."""
    if amount is None:
        return ""
    language = language or current_language()
    sign = "-" if amount < 0 else ""
    digits = f"{abs(int(amount)):,}"
    return f"{sign}¥{digits}" if language == "en" else f"{sign}{digits}円"


def int_param(value, default=None):
    """An integer from a query or form parameter: ASCII digits only (str.isdigit accepts '²')."""
    value = str(value or "").strip()
    if value and value.isascii() and value.isdecimal() and len(value) < 12:
        return int(value)
    return default
