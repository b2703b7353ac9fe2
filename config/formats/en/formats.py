"""English dates that no reader can misread: 1 Dec 2026 in prose, 2026-12-01 in tables (Django's
default English formats are American: Dec. 1, 2026 and 12/01/2026)."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
