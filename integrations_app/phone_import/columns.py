"""The columns of a phone-number file, with their English and German headers, and cell values."""

import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations_app.labels import quoted
from integrations_app.phone_import.errors import ImportFileError, shown


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy: the column's name in the user's language
    headers: tuple[str, ...]  # accepted headers, lower case
    required: bool = False


COLUMNS = (
    Column("company", gettext_lazy("company"), ("company", "firma"), required=True),
    Column("branch", gettext_lazy("branch"), ("branch", "filiale")),
    Column("number", gettext_lazy("number"), ("number", "nummer"), required=True),
    Column("type", gettext_lazy("type"), ("type", "typ")),
    Column("primary", gettext_lazy("primary"), ("primary", "primär", "primaer")),
    Column("active", gettext_lazy("active"), ("active", "aktiv")),
    Column("description", gettext_lazy("description"), ("description", "beschreibung")),
)
BY_KEY = {column.key: column for column in COLUMNS}
_BY_HEADER = {header: column for column in COLUMNS for header in column.headers}

# The columns an errors CSV adds after the file's own (error_report.py): the row, the column and
# the reason. Read back they are ignored, in English or German, so a corrected errors CSV is
# uploaded again as it is.
REPORT_COLUMNS = (
    Column("row", gettext_lazy("row"), ("row", "zeile")),
    Column("column", gettext_lazy("column"), ("column", "spalte")),
    Column("error", gettext_lazy("error"), ("error", "fehler")),
)
_IGNORED = {header for column in REPORT_COLUMNS for header in column.headers}

TRUE_WORDS = {"1", "ja", "yes", "true"}
FALSE_WORDS = {"0", "nein", "no", "false"}
# Accepted spellings of the database enum `type` (the value is the key).
TYPE_WORDS = {
    "direct": "direct",
    "durchwahl": "direct",
    "hotline": "hotline",
}


def export_headers(keys, language: str) -> list[str]:
    """The header an export writes for each column key: German (the second accepted header,
    capitalised: "Primär") when ``language`` is German, else English; the import reads both."""
    german = (language or "").lower().startswith("de")
    return [BY_KEY[k].headers[1].capitalize() if german else BY_KEY[k].headers[0] for k in keys]


def accepted_headers() -> str:
    return ", ".join(f"{c.headers[0]}/{c.headers[1].capitalize()}" for c in COLUMNS)


def header_names(language: str) -> list[str]:
    """Every column's header as a template writes it: German ("Firma", "Primär") for a German
    language code, English ("company") for any other."""
    german = (language or "").lower().startswith("de")
    return [c.headers[1].capitalize() if german else c.headers[0] for c in COLUMNS]


UNKNOWN_SHOWN = 3  # unknown headers named in the message; the rest are counted


def map_headers(headers: list[str], *, unread: int = 0) -> dict[str, int]:
    """The column key of each known header, by position; an unknown or repeated header fails.

    ``unread``: non-empty header cells past those read (they are unknown columns too).
    """
    found: dict[str, int] = {}
    unknown = []
    for position, header in enumerate(headers):
        text = unicodedata.normalize("NFC", header.strip())  # "Prima\u0308r" is "Primär"
        if not text:
            continue  # an empty header over an empty column (Excel leaves those)
        if text.casefold() in _IGNORED:
            continue  # row, column, error of an errors CSV uploaded again
        column = _BY_HEADER.get(text.casefold())
        if column is None:
            unknown.append(text)
            continue
        if column.key in found:
            raise ImportFileError(
                _("The column “%(header)s” appears twice in the header row.")
                % {"header": shown(text)},
                code="header_twice",
            )
        found[column.key] = position
    if unknown or unread:
        raise ImportFileError(
            _("Unknown column(s) %(headers)s in the header row. Accepted columns: %(accepted)s.")
            % {"headers": _named(unknown, unread, len(headers)), "accepted": accepted_headers()},
            code="header_unknown",
        )
    missing = [str(c.label) for c in COLUMNS if c.required and c.key not in found]
    if missing:
        raise ImportFileError(
            _("The file has no column %(columns)s. Accepted columns: %(accepted)s.")
            % {"columns": ", ".join(quoted(m) for m in missing), "accepted": accepted_headers()},
            code="header_missing",
        )
    return found


def _named(unknown: list[str], unread: int, read: int) -> str:
    """The first few unknown headers, quoted and shortened, and how many more there are: a
    header of 100,000 made-up columns is a short message, not a page of names."""
    if not unknown:
        return _("%(count)d beyond the first %(read)d columns") % {"count": unread, "read": read}
    named = ", ".join(quoted(shown(header)) for header in unknown[:UNKNOWN_SHOWN])
    more = len(unknown) - min(len(unknown), UNKNOWN_SHOWN) + unread
    return named + (" " + _("and %(count)d more") % {"count": more} if more else "")


def parse_boolean(text: str) -> bool | None:
    """True or False for 1/0, ja/nein, yes/no, true/false (any case); None if not one of them."""
    word = text.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_type(text: str) -> str | None:
    return TYPE_WORDS.get(text.strip().casefold())
