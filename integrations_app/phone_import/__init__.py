"""Bulk import of routing phone numbers from CSV and Excel files (issue 6).

One idea per module: ``reader`` (files as people have them, read once through with every
bound), ``text`` (a CSV's encoding, or that it is no text), ``package`` (an xlsx file's zip and
XML, checked before and while they are unpacked), ``workbook`` and ``sheet`` (an xlsx file's
first sheet, streamed), ``spool`` (its rows kept for the next read), ``limits`` (every bound,
from the settings), ``columns`` (headers in English or German, cell values), ``lookups`` (the
database, loaded once), ``validate`` (every row, every error, one pass), ``write`` (all or
nothing, in bulk, recorded), ``error_report`` (the errors as a CSV beside the original rows, to
correct and upload again), ``preview`` (what each row will write, for a person), ``template`` (an
empty file to fill in), ``service`` (the one path the admin and the command call).
"""

from integrations_app.phone_import.error_report import error_csv, neutralise
from integrations_app.phone_import.errors import ImportFileError, RowError
from integrations_app.phone_import.plan import ImportPlan, RowResult
from integrations_app.phone_import.service import (
    ImportResult,
    import_phone_numbers,
    preview_phone_numbers,
)

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
