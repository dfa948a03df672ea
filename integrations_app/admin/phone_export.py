"""The phone-number export's file name says what the file holds (issue 12, point 6).

``telefonnummern-<company>-<filters>-<date>.csv`` in German, ``phone-numbers-…`` in English:
the company's slug (or "alle"/"all" without the company filter), then one word per other
filter of the list (type, active, primary, a search, a selection of rows), then the day.
Only ASCII letters, digits and hyphens, whatever the company is called.
"""

import re
import unicodedata

from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, pgettext
from import_export.forms import ExportForm

from integrations_app.admin.export import StreamingExportMixin, csv_delimiter
from integrations_app.models import Company
from integrations_app.phone_import.columns import export_headers

COMPANY_PARAM = "company__id__exact"
_GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
PART_MAX = 40  # characters of a company's part of the name


def slug(text: str) -> str:
    """``text`` in lower-case ASCII words and hyphens ("Müller & Söhne": "mueller-soehne")."""
    text = str(text).lower().translate(_GERMAN_LETTERS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", text).strip("-")


def _boolean(value: str, yes: str, no: str) -> str | None:
    return {"1": yes, "0": no}.get(value)


def _filter_words(params, selected: bool) -> list[str]:
    """A word for each filter of the list besides the company, in the list's order."""
    words = []
    if kind := slug(params.get("type__exact", "")):
        words.append(kind)
    words.append(
        _boolean(
            params.get("is_active__exact", ""),
            pgettext("export file name", "active"),
            pgettext("export file name", "inactive"),
        )
    )
    words.append(
        _boolean(
            params.get("is_primary__exact", ""),
            pgettext("export file name", "primary"),
            pgettext("export file name", "not-primary"),
        )
    )
    if params.get("q", "").strip():
        words.append(pgettext("export file name", "search"))
    if selected:
        words.append(pgettext("export file name", "selection"))
    return [word for word in words if word]


def _company_word(params) -> str:
    """The filtered company's slug (its name, else its id, when it has none), or "all"."""
    key = params.get(COMPANY_PARAM, "")
    if not (key.isascii() and key.isdigit() and len(key) < 19):
        return pgettext("export file name", "all")
    found = Company.all_objects.filter(pk=int(key)).values_list("slug", "name").first()
    named = slug(found[0] or found[1] or "") if found else ""
    return (named[:PART_MAX].strip("-") or key) if found else key


def export_filename(params, extension: str, *, selected: bool = False) -> str:
    parts = [
        pgettext("export file name", "phone-numbers"),
        _company_word(params),
        *_filter_words(params, selected),
        timezone.localdate().isoformat(),
    ]
    return "-".join(parts) + "." + extension


def format_label(file_format) -> str:
    """A format as the export page offers it: what the file is for, in the user's language."""
    if file_format().is_binary():
        return gettext("Excel (.xlsx)")
    if csv_delimiter() == ";":
        return gettext("CSV (Excel, semicolons)")
    return gettext("CSV (Excel, commas)")


class PhoneExportForm(ExportForm):
    """The library's export form with the formats named for people ("CSV (Excel, semicolons)",
    not "csv"), the first (CSV) chosen, and why the numbers begin with an apostrophe."""

    def _init_formats(self, formats):
        super()._init_formats(formats)
        field = self.fields["format"]
        field.choices = [(str(i), format_label(f)) for i, f in enumerate(formats)]  # no "---"
        field.initial = "0"
        # the library's template prints the help text unescaped ("|safe")
        field.help_text = escape(
            gettext(
                "Cells beginning with +, =, - or @ (every number: '+4930…) are written with an "
                "apostrophe in front: a spreadsheet then shows them as text and runs no formula, "
                "and Excel keeps the + of a number. The import reads the apostrophe off again: the "
                "file can be edited and imported as it is."
            )
        )


class PhoneExportMixin(StreamingExportMixin):
    """The streamed export (export.py) with a file name that says what it holds."""

    def get_export_form_class(self):
        return PhoneExportForm

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # on the request, not the admin: one admin object serves every request
        request.export_selected = bool(export_form and "export_items" in export_form.changed_data)
        return super()._do_file_export(file_format, request, queryset, export_form)

    def init_request_context_data(self, request, form):
        # The export page lists the file's columns by the headers the file will have, in the
        # user's language (the library lists the resource's keys: "company, branch, …").
        context = super().init_request_context_data(request, form)
        language = translation.get_language()
        context["fields_list"] = [
            (name, export_headers(keys, language)) for name, keys in context["fields_list"]
        ]
        return context

    def get_export_filename(self, request, queryset, file_format):
        selected = getattr(request, "export_selected", False)
        return export_filename(request.GET, file_format.get_extension(), selected=selected)
