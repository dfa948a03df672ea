"""The phone-number columns as a django-import-export ``Resource``, for the admin export.

The same columns as an import file (columns.py), so an export can be edited and imported
again: company and branch by name, the number in E.164, primary and active as 1/0. Every
exported cell is neutralised against formula injection (error_report.neutralise), in CSV
and XLSX alike.
"""

from import_export import fields, resources

from integrations_app.models import PhoneNumber
from integrations_app.phone import to_e164
from integrations_app.phone_import.error_report import neutralise


def _flag(value) -> str:
    return "1" if value else "0"


class PhoneNumberResource(resources.ModelResource):
    company = fields.Field(column_name="company", attribute="company__name")
    branch = fields.Field(column_name="branch", attribute="branch__name")
    number = fields.Field(column_name="number")
    type = fields.Field(column_name="type", attribute="type")
    primary = fields.Field(column_name="primary")
    active = fields.Field(column_name="active")
    description = fields.Field(column_name="description", attribute="description")

    class Meta:
        model = PhoneNumber
        fields = ("company", "branch", "number", "type", "primary", "active", "description")
        export_order = fields

    def dehydrate_number(self, obj) -> str:
        return obj.number_normalized or to_e164(obj.number) or obj.number or ""

    def dehydrate_primary(self, obj) -> str:
        return _flag(obj.is_primary)

    def dehydrate_active(self, obj) -> str:
        return _flag(obj.is_active)

    def export_field(self, field, instance, **kwargs):
        """Every cell as text a spreadsheet shows and never runs (=, +, -, @, tab, CR)."""
        value = super().export_field(field, instance, **kwargs)
        return neutralise(value)
