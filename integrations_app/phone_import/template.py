"""An empty import file to fill in: the accepted headers and one example row, CSV or xlsx.

The headers are the importer's own (columns.COLUMNS), in German or English. The example row
is obviously made up (a company that does not exist, a number from the range the Federal
Network Agency keeps for films and books), so a template uploaded unchanged imports nothing:
the preview says there is no such company.
"""

import csv
import io

from openpyxl import Workbook

from integrations_app.phone_import.columns import header_names, written_boolean, written_type

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# In the order of columns.COLUMNS: company, branch, number, (type, primary, active: the words an
# export writes), description.
EXAMPLES = {
    "de": ["Beispiel GmbH", "Hauptfiliale", "030 23125000",
           "Beispielzeile: durch Ihre Nummern ersetzen"],
    "en": ["Example Ltd", "Main branch", "030 23125000",
           "Example row: replace it with your numbers"],
}  # fmt: skip


def language_of(code: str) -> str:
    return "de" if (code or "").lower().startswith("de") else "en"


def template_rows(language: str) -> list[list[str]]:
    language = language_of(language)
    company, branch, number, description = EXAMPLES[language]
    words = [written_type("direct", language), written_boolean(False, language),
             written_boolean(True, language)]  # fmt: skip
    return [header_names(language), [company, branch, number, *words, description]]


def template_file(kind: str, language: str) -> bytes:
    """The template as a CSV (UTF-8 with BOM; semicolons for German Excel, commas otherwise)
    or an xlsx workbook."""
    rows = template_rows(language)
    if kind == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    text = io.StringIO(newline="")
    delimiter = ";" if language_of(language) == "de" else ","
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def file_name(kind: str, language: str) -> str:
    stem = "telefonnummern-vorlage" if language_of(language) == "de" else "phone-numbers-template"
    return f"{stem}.{kind}"
