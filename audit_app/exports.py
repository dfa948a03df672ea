"""The audit's findings as a file: one check's affected rows, or all checks', as CSV or .xlsx.

The columns are those the dashboard shows for a check's rows, with the check in front: check id,
severity (in the user's language; the inventory rates each row by its table's class), check
title, table, row key, label, detail. A check that cannot judge gets one row saying so (its
reason as the detail), so a file never looks clean when it is not.

CSV as the phone-number files (integrations_app/phone_import/error_report.py): UTF-8 with BOM,
so Excel opens it with the right characters; a semicolon in German (German Excel splits on it),
a comma otherwise; CRLF line ends. Every text cell is neutralised against formula injection
(a leading single quote before = + - @ tab CR), in CSV and .xlsx alike.

The rows come from the checks' own queries (one aggregate query or a small fixed number per
check): the number of queries does not grow with the number of affected rows.
"""

import csv
import io
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audit_app.registry import Check, CheckUnavailable, Outcome, run_all
from audit_app.report import row_severity
from integrations_app.phone_import.error_report import neutralise

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Characters an .xlsx cell cannot hold (openpyxl refuses them): control characters but tab,
# line feed and carriage return.
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Characters a sheet's title cannot hold, and its maximal length.
_ILLEGAL_TITLE = re.compile(r"[\[\]:*?/\\]")
TITLE_MAX = 31


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def headers() -> list[str]:
    return [
        _("Check ID"),
        _("Severity"),
        _("Check"),
        _("Table"),
        _("Row key"),
        _("Label"),
        _("Detail"),
    ]


def outcome_of(check: Check) -> Outcome:
    """One check run as run_all runs it: unavailable (with the reason) instead of raising."""
    try:
        return check.run()
    except CheckUnavailable as reason:
        return Outcome(check=check, available=False, unavailable_reason=str(reason))


def rows(outcomes: list[Outcome]) -> list[list]:
    """A row per affected row of every outcome, in the order of the checks and their rows."""
    found = []
    for outcome in outcomes:
        check = outcome.check
        title = str(check.title)
        if not outcome.available:
            found.append(
                [
                    check.id,
                    str(check.severity.label),
                    title,
                    "",
                    "",
                    _("not available"),
                    outcome.unavailable_reason,
                ]
            )
            continue
        for row in outcome.rows:
            found.append(
                [
                    check.id,
                    str(row_severity(check, row).label),
                    title,
                    row.table,
                    row.pk,
                    str(row.label),
                    str(row.detail),
                ]
            )
    return found


def delimiter(language: str | None = None) -> str:
    """A semicolon for German (German Excel's list separator), a comma otherwise."""
    language = (language or get_language() or "").lower()
    return ";" if language.split("-")[0] == "de" else ","


def to_csv(table: list[list], language: str | None = None) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter(language), lineterminator="\r\n")
    for line in table:
        writer.writerow([neutralise(cell) for cell in line])
    return out.getvalue().encode("utf-8-sig")


def _xlsx_cell(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # a number key stays a number (it cannot be a formula)
    return _ILLEGAL_XLSX.sub("", neutralise(value))


def sheet_title(text: str) -> str:
    return _ILLEGAL_TITLE.sub("-", text)[:TITLE_MAX] or "Sheet"


def to_xlsx(table: list[list], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(title)
    for line in table:
        sheet.append([_xlsx_cell(cell) for cell in line])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    if sheet.max_row > 1:
        sheet.auto_filter.ref = sheet.dimensions
    widths = (14, 12, 40, 18, 12, 40, 50)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(fmt: str, check: Check | None = None) -> str:
    """``audit-AUD-BRN-001-2026-12-06.csv`` for one check, ``audit-2026-12-06.xlsx`` for all."""
    day = timezone.localdate().isoformat()
    middle = f"{check.id}-" if check is not None else ""
    return f"audit-{middle}{day}.{fmt}"


def export(fmt: str, check: Check | None = None) -> ExportFile:
    """One check's findings (``check``) or the whole audit's, as ``fmt`` (csv or xlsx)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format: {fmt!r}")
    outcomes = run_all() if check is None else [outcome_of(check)]
    table = [headers(), *rows(outcomes)]
    if fmt == "csv":
        content = to_csv(table)
    else:
        content = to_xlsx(table, check.id if check is not None else _("Findings"))
    return ExportFile(filename(fmt, check), CONTENT_TYPES[fmt], content)
