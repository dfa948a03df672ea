"""The errors of an import as a CSV file, beside the original rows, safe to open in Excel."""

import csv
import io

from django.utils.translation import gettext as _

from integrations_app.phone_import.errors import FORMULA_STARTS
from integrations_app.phone_import.validate import ERROR, ImportPlan


def neutralise(value) -> str:
    """The cell as text that a spreadsheet shows instead of running (a leading single quote)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def error_csv(plan: ImportPlan, *, delimiter: str | None = None) -> bytes:
    """One line per error: the row's original cells, then row, column and reason.

    UTF-8 with BOM (Excel opens it with the right characters), in the delimiter of the file
    that was imported unless another is given.
    """
    table = plan.table
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter or table.delimiter, lineterminator="\r\n")
    width = len(table.headers)
    writer.writerow([neutralise(h) for h in [*table.headers, _("row"), _("column"), _("error")]])
    # The failed rows and the file's rows, both in row order, read side by side.
    failed = iter(plan.rows_with(ERROR))
    result = next(failed, None)
    for number, cells in table.rows():
        if result is None:
            break
        if number != result.row:
            continue
        original = (cells + [""] * width)[:width]
        for error in result.errors:
            writer.writerow(
                [neutralise(v) for v in [*original, error.row, error.column, error.message]]
            )
        result = next(failed, None)
    return out.getvalue().encode("utf-8-sig")
