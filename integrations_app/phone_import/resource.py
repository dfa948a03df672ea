"""The phone-number columns as a django-import-export ``Resource``: export and import.

The same columns as an import file (columns.py), so an export can be edited and imported
again: company and branch by name, the number in E.164, the type, primary and active as words
of the user's language ("Durchwahl", "ja"/"nein"; "direct", "yes"/"no": the words the import
reads, columns.py), the header in the user's language too (English or German). Every
exported cell is neutralised against formula injection (error_report.neutralise), in CSV
and XLSX alike.

Import: the admin and the command call ``import_file``/``preview_file``; django-import-export's
own ``import_data`` (a tablib Dataset in, a ``Result`` out) runs the same checks and the same
bulk write. None of them takes the library's per-row path (an instance, a query and a save per
row: about 70 times the plain insert, bench/README.md), and none can skip the checks.
"""

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import translation
from import_export import fields, resources
from import_export.results import Error, Result
from import_export.results import RowResult as LibraryRowResult

from integrations_app.models import Branch, Company, PhoneNumber
from integrations_app.phone import routing_forms, to_e164
from integrations_app.phone_import import service
from integrations_app.phone_import.columns import export_headers, written_boolean, written_type
from integrations_app.phone_import.error_report import neutralise
from integrations_app.phone_import.errors import ImportFileError
from integrations_app.phone_import.plan import ERROR, NEW, UNCHANGED, UPDATE
from integrations_app.phone_import.reader import table_from_rows

# The library's names for the four outcomes of a row.
IMPORT_TYPES = {
    NEW: LibraryRowResult.IMPORT_TYPE_NEW,
    UPDATE: LibraryRowResult.IMPORT_TYPE_UPDATE,
    UNCHANGED: LibraryRowResult.IMPORT_TYPE_SKIP,
    ERROR: LibraryRowResult.IMPORT_TYPE_INVALID,
}


class PhoneNumberResource(resources.ModelResource):
    company = fields.Field(column_name="company")
    branch = fields.Field(column_name="branch")
    number = fields.Field(column_name="number")
    type = fields.Field(column_name="type", attribute="type")
    primary = fields.Field(column_name="primary")
    active = fields.Field(column_name="active")
    description = fields.Field(column_name="description", attribute="description")

    class Meta:
        model = PhoneNumber
        fields = ("company", "branch", "number", "type", "primary", "active", "description")
        export_order = fields

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The user's language when the export starts: a streamed file's rows are written after
        # the view has returned, when the request's language may no longer be active.
        self.language = translation.get_language()

    def before_export(self, queryset, **kwargs):
        """Names that the import could not tell apart are exported as ids (two queries)."""
        super().before_export(queryset, **kwargs)
        self.shared_company_names = set(
            Company.objects.values("name").annotate(n=Count("pk")).filter(n__gt=1)
            .values_list("name", flat=True)
        )  # fmt: skip
        self.shared_branch_names = set(
            Branch.objects.values("company_id", "name").annotate(n=Count("pk")).filter(n__gt=1)
            .values_list("company_id", "name")
        )  # fmt: skip

    def get_export_headers(self, selected_fields=None):
        """The header in the user's language (German: "Firma", "Filiale", …; columns.py)."""
        keys = super().get_export_headers(selected_fields=selected_fields)
        return export_headers(keys, self.language)

    def dehydrate_company(self, obj) -> str:
        company = obj.company
        if company is None:
            return ""
        shared = company.name in getattr(self, "shared_company_names", ())
        return str(company.pk) if shared else company.name

    def dehydrate_branch(self, obj) -> str:
        branch = obj.branch
        if branch is None:
            return ""
        shared = (branch.company_id, branch.name) in getattr(self, "shared_branch_names", ())
        return branch.pk if shared else branch.name

    def dehydrate_number(self, obj) -> str:
        """The E.164 form the gateway routes by: ``number_normalized`` with its plus (it may be
        stored without, "4930…"; read back without it, the import would take it for a German
        national number), else ``number`` in E.164, else as stored (unchanged.py finds it so)."""
        routed = next(iter(routing_forms(None, obj.number_normalized)), None)
        return routed or to_e164(obj.number) or obj.number or obj.number_normalized or ""

    def dehydrate_type(self, obj) -> str:
        return written_type(obj.type, self.language)

    def dehydrate_primary(self, obj) -> str:
        return written_boolean(obj.is_primary, self.language)

    def dehydrate_active(self, obj) -> str:
        return written_boolean(obj.is_active, self.language)

    def export_field(self, field, instance, **kwargs):
        """Every cell as text a spreadsheet shows and never runs (=, +, -, @, tab, CR)."""
        value = super().export_field(field, instance, **kwargs)
        return neutralise(value)

    # --- import ----------------------------------------------------------------------------
    def preview_file(self, *, data: bytes, region: str = "DE"):
        """Every row's outcome and errors; writes nothing."""
        return service.preview_phone_numbers(data=data, region=region)

    def import_file(self, **kwargs) -> service.ImportResult:
        """Check a CSV/XLSX file and write it all or nothing (``service.import_phone_numbers``)."""
        return service.import_phone_numbers(**kwargs)

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ) -> Result:
        """django-import-export's entry point, on the one validated bulk path.

        Always all or nothing in one transaction (``use_transactions`` and
        ``rollback_on_validation_errors`` cannot turn that off). A row with errors is an
        invalid row with a ValidationError per column; unchanged rows are skipped. A table
        that cannot be read is a base error (raised with ``raise_errors``). Keyword arguments
        ``region``, ``user``, ``source``, ``reason`` and ``file_name`` are passed on.
        """
        result = Result()
        headers = list(dataset.headers or [])
        result.diff_headers = headers
        result.add_dataset_headers(headers)
        try:
            table = table_from_rows(headers, dataset)
            outcome = service.import_table(
                table=table,
                checksum=service.checksum_of(dataset.export("csv").encode("utf-8")),
                file_name=kwargs.get("file_name") or "dataset",
                region=kwargs.get("region", "DE"),
                user=kwargs.get("user"),
                source=kwargs.get("source", "import_export"),
                reason=kwargs.get("reason", ""),
                dry_run=dry_run,
            )
        except ImportFileError as error:
            if raise_errors:
                raise
            result.append_base_error(Error(error))
            return result
        plan = outcome.plan
        cells = plan.cells(row.row for row in plan.rows if row.errors)
        for row in plan.rows:
            row_result = LibraryRowResult()
            row_result.import_type = IMPORT_TYPES[row.status]
            row_result.object_id = row.pk
            row_result.object_repr = row.value("number")
            if row.errors:
                by_column = {}
                for error in row.errors:
                    by_column.setdefault(error.column, []).append(error.message)
                row_result.validation_error = ValidationError(by_column)
                values = dict(zip(headers, cells.get(row.row, []), strict=False))
                result.append_invalid_row(row.row, values, row_result.validation_error)
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)
        result.total_rows = len(plan.rows)
        result.phone_import = outcome.record  # the import's record (None for a dry run)
        return result
