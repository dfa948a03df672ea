"""German date and time formats: one format for a moment shown to people, everywhere (titles,
lists, record pages, the dashboard): ``06.12.2026 22:05``. Read through FORMAT_MODULE_PATH."""

DATETIME_FORMAT = "d.m.Y H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "d.m.Y"
SHORT_DATE_FORMAT = DATE_FORMAT
