"""Bulk import of routing phone numbers from CSV and Excel files (issue 6).

One idea per module: ``reader`` (files as people have them), ``columns`` (headers in English or
German, cell values), ``lookups`` (the database, loaded once), ``validate`` (every row, every
error, one pass), ``write`` (all or nothing, in bulk, recorded), ``error_report`` (the errors as
a CSV beside the original rows), ``service`` (the one path the admin and the command call).
"""

from integrations_app.phone_import.error_report import error_csv, neutralise
from integrations_app.phone_import.errors import ImportFileError, RowError
from integrations_app.phone_import.service import (
    ImportResult,
    import_phone_numbers,
    preview_phone_numbers,
)
from integrations_app.phone_import.validate import ImportPlan, RowResult

__all__ = [
    "ImportFileError",
    "ImportPlan",
    "ImportResult",
    "RowError",
    "RowResult",
    "error_csv",
    "import_phone_numbers",
    "neutralise",
    "preview_phone_numbers",
]
