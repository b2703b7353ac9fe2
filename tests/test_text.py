"""Dates inside sentences (refusals, notes to the patron) are written as the reader writes them."""

import datetime

from django.utils import translation

from core.text import format_date


def test_a_date_in_a_sentence_is_never_iso_in_japanese_nor_us_style_in_english():
    day = datetime.date(2026, 12, 1)
    with translation.override("ja"):
        assert format_date(day) == "2026年12月1日"
    with translation.override("en"):
        assert format_date(day) == "1 Dec 2026"
