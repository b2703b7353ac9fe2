"""Small helpers shared by the apps: bilingual names and yen formatting."""

import datetime

from django.utils.formats import date_format
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


def format_date(value: datetime.date) -> str:
    """A date inside a sentence as the reader writes it: 1 Dec 2026 in English, 2026年12月1日 in Japanese
    (config/formats), never an ISO date in Japanese text nor a US date in English."""
    return date_format(value, "DATE_FORMAT")


def format_yen(amount: int | None, language: str | None = None) -> str:
    """`¥1,400` in English, `1,400円` in Japanese. Money is always whole yen."""
    if amount is None:
        return ""
    language = language or current_language()
    sign = "-" if amount < 0 else ""
    digits = f"{abs(int(amount)):,}"
    return f"{sign}¥{digits}" if language == "en" else f"{sign}{digits}円"


# The first year of each Japanese era used for fiscal years from 1989 on (令和元年 = 2019).
_ERAS = ((2019, "令和"), (1989, "平成"))


def fiscal_year_label(fiscal_year: int, language: str | None = None) -> str:
    """A fiscal year (April–March) as an office writes it: FY2026 in English, 2026年度（令和8年度）
    in Japanese (the first year of an era is 元年)."""
    if (language or current_language()) == "en":
        return f"FY{fiscal_year}"
    for start, era in _ERAS:
        if fiscal_year >= start:
            year = fiscal_year - start + 1
            return f"{fiscal_year}年度（{era}{'元' if year == 1 else year}年度）"
    return f"{fiscal_year}年度"


def format_percent(part: int, whole: int, language: str | None = None) -> str:
    """A share to one decimal, 0.8 % (never a rounded-down "0 %" for 0.77 %); "<0.1 %" for a
    share that is not nothing but rounds to it; "—" when the whole is 0."""
    if not whole:
        return "—"
    share = part * 100 / whole
    if 0 < share < 0.05:
        return "<0.1 %" if (language or current_language()) == "en" else "0.1%未満"
    return f"{share:.1f} %" if (language or current_language()) == "en" else f"{share:.1f}%"


def int_param(value, default=None):
    """An integer from a query or form parameter: ASCII digits only (str.isdigit accepts '²')."""
    value = str(value or "").strip()
    if value and value.isascii() and value.isdecimal() and len(value) < 12:
        return int(value)
    return default
