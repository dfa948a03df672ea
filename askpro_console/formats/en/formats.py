"""English date and time formats: one format for a moment shown to people, everywhere (titles,
lists, record pages, the dashboard): ``2026-12-06 22:05`` (24 hours, no "a.m."). Read through
FORMAT_MODULE_PATH."""

DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
