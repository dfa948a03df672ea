"""django-import-export's admin export, streamed in bounded memory (issue 13, point 5).

The library builds the whole file in memory: every row in a ``tablib.Dataset``, then the
whole CSV or workbook as one string (40,000 phone numbers: ~117 MiB of Python objects, a peak
of ~380 MiB resident, bench/RESULTS.md). Here the rows are read by keyset on a unique column,
``export_chunk_size`` at a time (one query per chunk: MySQLdb would load a plain
``QuerySet.iterator()`` whole), and each goes through the same resource (``export_resource``:
its columns, dehydrate methods and neutralised cells) straight into the output:

- CSV: a ``StreamingHttpResponse``, written chunk by chunk as the client reads it;
- XLSX: openpyxl's write-only workbook (rows go to a temporary file as they are appended),
  saved to a temporary file and sent by a ``FileResponse``.

The cells and order of columns are the library's. A CSV is what Excel opens as it is (issue 12,
point 6): with the German interface separated by semicolons (German Excel splits on ";"), else by
commas; UTF-8 with a BOM in both languages (without one Excel reads UTF-8 as Windows-1252:
"MÃ¼hlbach"); the header in the user's language (the resource's). The import reads all of it.
"""

import codecs
import csv
import io
import tempfile

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, StreamingHttpResponse
from django.utils import translation
from import_export.signals import post_export


def export_rows(resource, queryset, *, key: str, chunk_size: int, fields=None, native=False):
    """Each object's exported cells, read ``chunk_size`` rows at a time ordered by ``key``
    (a unique, indexed column): one query per chunk, whatever the number of rows."""
    resource.before_export(queryset, export_fields=fields)
    queryset = resource.filter_export(queryset).order_by(key)
    last = None
    while True:
        page = queryset if last is None else queryset.filter(**{f"{key}__gt": last})
        objects = list(page[:chunk_size])
        for obj in objects:
            yield resource.export_resource(obj, selected_fields=fields, force_native_type=native)
        if len(objects) < chunk_size:
            return
        last = getattr(objects[-1], key)


def csv_delimiter() -> str:
    """The separator Excel expects in the user's language: ";" in German, "," otherwise."""
    return ";" if (translation.get_language() or "").lower().startswith("de") else ","


def csv_chunks(
    headers: list[str], rows, *, delimiter: str = ",", bom: bool = True, rows_per_chunk: int = 500
):
    """The CSV as ``csv.writer`` writes it (quoting as needed, CRLF) in UTF-8, after a BOM
    (``bom``), as bytes, a few hundred rows per chunk."""
    if bom:
        yield codecs.BOM_UTF8
    encoding = "utf-8"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % rows_per_chunk == 0:
            yield buffer.getvalue().encode(encoding)
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode(encoding)


def xlsx_file(headers: list[str], rows, title: str):
    """A workbook like tablib's (bold header, the first row frozen) in a temporary file, written
    by openpyxl's write-only mode: memory holds one row, not the sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        # a control character openpyxl refuses becomes U+FFFD (the import refuses them anyway)
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", v)
                      if isinstance(v, str) else v for v in row])  # fmt: skip
    stream = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    workbook.save(stream)
    stream.seek(0)
    return stream


class StreamingExportMixin:
    """Put before import_export's ``ExportMixin``; set ``export_key`` to a unique column."""

    export_key = "pk"
    export_chunk_size = 2000

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request))
        fields = self.get_export_resource_fields_from_form(export_form)
        headers = resource.get_export_headers(selected_fields=fields)
        binary = file_format.is_binary()
        rows = export_rows(resource, queryset, key=self.export_key, fields=fields,
                           chunk_size=self.export_chunk_size, native=binary)  # fmt: skip
        content_type = file_format.get_content_type()
        if binary:
            stream = xlsx_file(headers, rows, title=self.model._meta.model_name)
            response = FileResponse(stream, content_type=content_type)
        else:
            response = StreamingHttpResponse(
                csv_chunks(headers, rows, delimiter=csv_delimiter()),
                content_type=f"{content_type}; charset=utf-8",
            )
        filename = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        post_export.send(sender=None, model=self.model)
        return response
