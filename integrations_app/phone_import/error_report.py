"""The errors of an import as a CSV file of the whole table, safe to open in Excel, that is
corrected and uploaded again as it is: its added columns (row, column, error) are ignored when
it is read (columns.REPORT_COLUMNS)."""

import csv
import io

from integrations_app.phone_import.columns import REPORT_COLUMNS
from integrations_app.phone_import.errors import FORMULA_STARTS
from integrations_app.phone_import.plan import ERROR, ImportPlan

ERRORS_JOINED_BY = " | "  # the reasons of a row with several errors, in its one line


def neutralise(value) -> str:
    """The cell as text that a spreadsheet shows instead of running (a leading single quote)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def error_csv(plan: ImportPlan, *, delimiter: str | None = None) -> bytes:
    """Every row of the file once, in the file's order: the cells of the columns the import
    reads (``Table.read_positions``) as they were, then the row's number, the columns of its
    errors and their reasons (both empty for a row without errors).

    Nothing of a file with errors is written (all or nothing), so the whole table is here: the
    corrected CSV, uploaded again, imports every row. Each row keeps its place (the file's
    empty lines are kept too): row 7 of this file is row 7 of the original, as the preview
    says. One line per row: a row twice would be a number twice. UTF-8 with BOM (Excel opens
    it with the right characters), in the delimiter of the file that was imported unless
    another is given.
    """
    table = plan.table
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter or table.delimiter, lineterminator="\r\n")
    positions = table.read_positions
    pick = [table.headers[p] for p in positions]
    labels = [str(column.label) for column in REPORT_COLUMNS]
    writer.writerows([] for _ in range(table.header_row - 1))  # empty lines above the header
    writer.writerow([neutralise(h) for h in [*pick, *labels]])
    # The failed rows and the file's rows, both in row order, read side by side.
    failed = iter(plan.rows_with(ERROR))
    result = next(failed, None)
    line_number = table.header_row
    for number, cells in table.rows():
        # the file's empty lines too (the import skips them): row n here is row n there
        writer.writerows([] for _ in range(number - line_number - 1))
        line_number = number
        while result is not None and result.row < number:
            result = next(failed, None)
        errors = result.errors if result is not None and result.row == number else ()
        columns = dict.fromkeys(e.column for e in errors)
        reasons = [e.message for e in errors]
        original = [cells[p] if p < len(cells) else "" for p in positions]
        line = [*original, number, ", ".join(columns), ERRORS_JOINED_BY.join(reasons)]
        writer.writerow([neutralise(v) for v in line])
    return out.getvalue().encode("utf-8-sig")
