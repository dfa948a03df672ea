"""What the upload page says an import file may be, read from the declarations the reader and
the checks use (reader.py's separators, text.py's encodings, columns.py's words): the help
cannot say otherwise than the import does."""

from django.utils.translation import gettext

from integrations_app.phone_import.columns import boolean_words, either, type_words
from integrations_app.phone_import.reader import DELIMITER_NAMES
from integrations_app.phone_import.text import encodings_read


def file_help() -> str:
    """The files read: "CSV (separated by semicolon, comma or tab; UTF-8, UTF-16, UTF-32 or
    Windows-1252) or Excel (.xlsx) …"."""
    return gettext(
        "CSV (separated by %(delimiters)s; %(encodings)s) or Excel (.xlsx); the header is the "
        "first row."
    ) % {
        "delimiters": either(str(name) for name in DELIMITER_NAMES.values()),
        "encodings": either(encodings_read()),
    }


def column_words(language: str | None) -> dict[str, str]:
    """The words the type, primary and active columns accept, as a choice: "Durchwahl/direct
    oder Hotline", "1/0, ja/nein, yes/no oder true/false"."""
    return {"types": either(type_words(language)), "booleans": either(boolean_words())}
