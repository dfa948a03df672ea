"""The gateway's raw values shown with their labels (integrations_app/labels.py) in every
changelist column, sidebar filter and read-only field of a gateway admin.

A column whose values ``labels.VALUES`` declares is shown through ``<column>_label`` (an admin
attribute made on demand, sortable by the column itself); its filter keeps the raw value in the
URL and shows the label; a value nobody declared stays as it is. In a form, such a column of
free text (a varchar, not an enum) is a select of its declared values, plus the row's own value
when the gateway wrote another (shown as it is, saved unchanged).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets

from integrations_app import labels

SUFFIX = "_label"


def _labelled_field(model, name: str):
    """The model's concrete field ``name`` if its values have labels, else None."""
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 (any name that is not a field: not labelled)
        return None
    if not getattr(field, "concrete", False) or field.is_relation:
        return None
    if labels.labels_of(model._meta.db_table, field.column) is None:
        return None
    return field


def value_display(field):
    """An admin display of ``field`` showing its values' labels."""
    table, column, attname = field.model._meta.db_table, field.column, field.attname

    @admin.display(description=field.verbose_name, ordering=field.name)
    def display(obj):
        value = getattr(obj, attname)
        if value in (None, ""):
            return None  # the admin's own empty mark
        return labels.label_of(table, column, value) or value

    return display


class LabelledValuesFilter(admin.AllValuesFieldListFilter):
    """The values of a column as their labels; the URL keeps the raw value."""

    def choices(self, changelist):
        self.lookup_choices = list(self.lookup_choices)  # read once, by both passes
        raws = iter([str(v) for v in self.lookup_choices if v is not None])
        table, column = self.field.model._meta.db_table, self.field.column
        for index, choice in enumerate(super().choices(changelist)):
            raw = next(raws, None) if index else None
            label = labels.label_of(table, column, raw) if raw is not None else None
            if label is not None:
                display = str(choice["display"])
                choice = {**choice, "display": label + display[len(raw) :]}
            yield choice


def _titled_date(model, name: str) -> bool:
    field = next((f for f in model._meta.concrete_fields if f.name == name), None)
    return field is not None and (model._meta.db_table, field.column) in labels.FILTER_TITLES


class TitledDateFilter(admin.DateFieldListFilter):
    """A date filter titled as ``labels.FILTER_TITLES`` says (its "By …" form)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = labels.FILTER_TITLES[(model._meta.db_table, field.column)]


class LabelledChoices:
    """A ModelForm whose free-text columns with declared labels are selects (see above)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, old in list(self.fields.items()):
            field = _labelled_field(self._meta.model, name)
            if field is None or field.choices or type(old) is not forms.CharField:
                continue
            self.fields[name] = labelled_choice_field(field, old, getattr(self.instance, name))


def labelled_choice_field(field, old, current) -> forms.TypedChoiceField:
    """A select of the declared values of ``field``'s column, with ``current`` among them."""
    declared = labels.labels_of(field.model._meta.db_table, field.column)
    values = [*declared, *([current] if current and current not in declared else [])]
    choices = labels.choices(field.model._meta.db_table, field.column, values)
    return forms.TypedChoiceField(
        choices=([] if old.required else [("", "---------")]) + choices,
        required=old.required,
        empty_value=None if field.null else "",
        label=old.label,
        help_text=old.help_text,
        initial=old.initial,
    )


class LabelledValues:
    """For a gateway admin: labelled list columns, filters and (view-only) record fields."""

    def __getattr__(self, name):
        if name.endswith(SUFFIX) and not name.startswith("_"):
            field = _labelled_field(self.model, name[: -len(SUFFIX)])
            if field is not None:
                return value_display(field)
        raise AttributeError(name)

    def labelled_name(self, name):
        if isinstance(name, str) and _labelled_field(self.model, name) is not None:
            return name + SUFFIX
        return name

    def get_list_display(self, request):
        return [self.labelled_name(name) for name in super().get_list_display(request)]

    def get_list_filter(self, request):
        return [self._labelled_filter(name) for name in super().get_list_filter(request)]

    def _labelled_filter(self, name):
        if isinstance(name, tuple) and name[1] is admin.DateFieldListFilter:
            return (name[0], TitledDateFilter) if _titled_date(self.model, name[0]) else name
        if not isinstance(name, str):
            return name
        if _labelled_field(self.model, name) is not None:
            if not self.model._meta.get_field(name).choices:
                return (name, LabelledValuesFilter)
        elif _titled_date(self.model, name):
            return (name, TitledDateFilter)
        return name

    # --- a record seen without the right to change it: every field read only, labelled ------
    def is_label_name(self, name) -> bool:
        return (
            isinstance(name, str)
            and name.endswith(SUFFIX)
            and _labelled_field(self.model, name[: -len(SUFFIX)]) is not None
        )

    def labelled_fieldsets(self, request, obj, fieldsets):
        """``fieldsets`` with the labelled columns shown by their labels, when the page shows
        ``obj`` read only (the user may view, not change)."""
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets

        def names(fields):
            return [
                tuple(self.labelled_name(n) for n in f)
                if isinstance(f, list | tuple)
                # a row of fields
                else self.labelled_name(f)
                for f in fields
            ]

        return [
            (title, {**options, "fields": names(options.get("fields", ()))})
            for title, options in fieldsets
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        if kwargs["fields"] is not None:
            kwargs["fields"] = [f for f in kwargs["fields"] if not self.is_label_name(f)]
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (LabelledChoices, form), {})
