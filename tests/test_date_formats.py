"""Dates are unambiguous in both languages: never the American 12/01/2026 (issue 13)."""

import datetime

from django.utils import formats, translation

DAY = datetime.date(2026, 12, 1)
MOMENT = datetime.datetime(2026, 12, 1, 9, 5)


def test_english_dates_are_day_month_year_or_iso():
    with translation.override("en"):
        assert formats.date_format(DAY) == "1 Dec 2026"
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == "2026-12-01"
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == "2026-12-01 09:05"
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == "1 Dec 2026, 09:05"


def test_japanese_dates_are_written_with_year_month_day_characters():
    with translation.override("ja"):
        assert formats.date_format(DAY) == "2026年12月1日"
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == "2026年12月1日"
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == "2026年12月1日 9:05"


def test_date_fields_still_accept_iso_input_in_english():
    with translation.override("en"):
        assert "%Y-%m-%d" in formats.get_format("DATE_INPUT_FORMATS")
