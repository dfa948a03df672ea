"""The columns of a phone-number file, with their English and German headers, and cell values."""

import unicodedata
from dataclasses import dataclass

from django.utils.text import get_text_list
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

# Yes and no as a file writes them, as (yes, no) pairs: the import reads each word in any case;
# an export and a template write the German pair (ja/nein) or the English one (yes/no).
BOOLEAN_PAIRS = (("1", "0"), ("ja", "nein"), ("yes", "no"), ("true", "false"))
_WRITTEN_BOOLEANS = {"de": BOOLEAN_PAIRS[1], "en": BOOLEAN_PAIRS[2]}
TRUE_WORDS = {yes for yes, _no in BOOLEAN_PAIRS}
FALSE_WORDS = {no for _yes, no in BOOLEAN_PAIRS}
# The database enum `type` (the key) as a file writes it, in English and German: the import reads
# both words in any case, an export and a template write the one of the user's language.
TYPE_NAMES = {
    "direct": ("direct", "Durchwahl"),
    "hotline": ("hotline", "Hotline"),
}
TYPE_WORDS = {word.casefold(): value for value, words in TYPE_NAMES.items() for word in words}


def is_german(language: str | None) -> bool:
    return (language or "").lower().startswith("de")


def written_type(value, language: str | None) -> str:
    """The word a file writes for a type: "Durchwahl" in German, "direct" in English; a value
    the gateway does not know as it is stored (the import finds it so, unchanged.py)."""
    words = TYPE_NAMES.get(value)
    return words[1 if is_german(language) else 0] if words else (value or "")


def written_boolean(value, language: str | None) -> str:
    """The word a file writes for yes or no: "ja"/"nein" in German, "yes"/"no" in English."""
    yes, no = _WRITTEN_BOOLEANS["de" if is_german(language) else "en"]
    return yes if value else no


def type_words(language: str | None) -> list[str]:
    """The accepted words of each type, the user's language's first: "Durchwahl/direct",
    "Hotline"."""
    shown = []
    for english, german in TYPE_NAMES.values():
        words = (german, english) if is_german(language) else (english, german)
        distinct = {}
        for word in words:
            distinct.setdefault(word.casefold(), word)  # "Hotline" once, not "Hotline/hotline"
        shown.append("/".join(distinct.values()))
    return shown


def boolean_words() -> list[str]:
    """The accepted words for yes and no, in pairs: "1/0", "ja/nein", "yes/no", "true/false"."""
    return [f"{yes}/{no}" for yes, no in BOOLEAN_PAIRS]


def either(words) -> str:
    """Words as a choice in the user's language: "a, b or c" ("a, b oder c")."""
    return str(get_text_list(list(words), gettext_lazy("or")))


def export_headers(keys, language: str) -> list[str]:
    """The header an export writes for each column key: German (the second accepted header,
    capitalised: "Primär") when ``language`` is German, else English; the import reads both."""
    german = is_german(language)
    return [BY_KEY[k].headers[1].capitalize() if german else BY_KEY[k].headers[0] for k in keys]


def accepted_headers() -> str:
    return ", ".join(f"{c.headers[0]}/{c.headers[1].capitalize()}" for c in COLUMNS)


def header_names(language: str) -> list[str]:
    """Every column's header as a template writes it: German ("Firma", "Primär") for a German
    language code, English ("company") for any other."""
    german = is_german(language)
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
