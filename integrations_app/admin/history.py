"""How a change of the store is shown to people: column labels, values, secrets, links.

Every history page (an object's, the global one, an operation's) renders its changes through
``change_rows``; a secret column shows only that it changed, with its fingerprints.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import DateTimeField
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from integrations_app import labels
from integrations_app.models import GATEWAY_MODELS
from integrations_app.models.base import SoftDeleteModel

MODELS_BY_TABLE = {model._meta.db_table: model for model in GATEWAY_MODELS}
EMPTY = labels.EMPTY


@dataclass
class ColumnChange:
    label: str
    before: str
    after: str
    secret: bool = False


def _field(model, column: str):
    if model is None:
        return None
    for field in model._meta.concrete_fields:
        if column in (field.attname, field.name, field.column):
            return field
    return None


def column_label(model, column: str) -> str:
    """The column's label, capitalised; a column the model names without a label of its own
    (``api_key``) by the label ``labels.COLUMN_LABELS`` gives it."""
    field = _field(model, column)
    named = field is not None and str(field.verbose_name) != field.name.replace("_", " ")
    if not named and column in labels.COLUMN_LABELS:
        return str(labels.COLUMN_LABELS[column])
    if field is not None:
        return capfirst(str(field.verbose_name))
    return capfirst(column.replace("_", " "))


def shown_value(model, column: str, value) -> str:
    """A stored value for people: the label of a raw value (labels.py), yes/no, an empty dash,
    a time in the console's time zone, a JSON object as ``key: value``."""
    field = _field(model, column)
    if field is None:
        return labels.shown(value)
    if isinstance(value, str) and isinstance(field, DateTimeField):
        moment = parse_datetime(value)
        if moment is not None:
            return labels.local_time(moment)
    if field.choices and not isinstance(value, dict | list):
        return str(dict(field.flatchoices).get(value, labels.shown(value)))
    return labels.shown(value, model._meta.db_table, field.column)


def foreign_keys(model) -> dict:
    """{column: related gateway model} of ``model``'s keys to other gateway rows."""
    if model is None:
        return {}
    return {
        f.attname: f.related_model
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model in MODELS_BY_TABLE.values()
    }


def related_names(changes) -> dict:
    """{(related model, key): its name} for the keys the changes hold: one query per related
    table, however many changes (a company shows as its name, not "3")."""
    wanted = defaultdict(set)
    for change in changes:
        for column, related in foreign_keys(MODELS_BY_TABLE.get(change.table)).items():
            for side in (change.before or {}, change.after or {}):
                if side.get(column) not in (None, ""):
                    wanted[related].add(side[column])
    names = {}
    for related, keys in wanted.items():
        keys = [key for key in (_key(related, key) for key in keys) if key is not None]
        for key, row in related._base_manager.in_bulk(keys).items():
            names[(related, str(key))] = str(row)
    return names


def value_of(model, column: str, value, keys: dict, names: dict) -> str:
    """``value`` of ``column`` for people: a key to another gateway row by that row's name
    (``names`` from ``related_names``, ``keys`` from ``foreign_keys``), else ``shown_value``."""
    if column in keys and value not in (None, ""):
        return names.get((keys[column], str(value)), str(value))
    return shown_value(model, column, value)


def _key(model, value):
    try:
        return model._meta.pk.to_python(value)
    except ValidationError:  # a key the store holds that is no key of the table any more
        return None


def columns_of(change, names=None) -> list[ColumnChange]:
    model = MODELS_BY_TABLE.get(change.table)
    keys, names = foreign_keys(model), names or {}
    secrets = model.SECRET_COLUMNS if model is not None else {}
    before, after = change.before or {}, change.after or {}
    shown = []
    for column in change.columns:
        if column in secrets:
            shown.append(
                ColumnChange(
                    column_label(model, column),
                    _secret(before.get(column), column in before),
                    _secret(after.get(column), column in after),
                    secret=True,
                )
            )
            continue

        def value(side, column=column):
            if column not in side:
                return ""
            return value_of(model, column, side[column], keys, names)

        shown.append(ColumnChange(column_label(model, column), value(before), value(after)))
    return shown


def _secret(fingerprint, present: bool) -> str:
    if not present:
        return ""
    if not fingerprint:
        return _("not set")
    return _("set · fingerprint %(fingerprint)s") % {"fingerprint": fingerprint}


def object_url(change) -> str | None:
    model = MODELS_BY_TABLE.get(change.table)
    if model is None:
        return None
    view = (
        "history"
        if change.action == "delete" and not issubclass(model, SoftDeleteModel)
        else "change"
    )
    try:
        return reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}",
            args=[change.object_pk],
        )
    except NoReverseMatch:
        return None


def table_label(table: str) -> str:
    """A gateway table by its model's name ("Phone number"), an unknown one as it is."""
    model = MODELS_BY_TABLE.get(table)
    return capfirst(str(model._meta.verbose_name)) if model is not None else table


def change_rows(changes, *, user=None) -> list[dict]:
    """The changes as the history templates show them; the values only of the tables ``user``
    may view (an operation's page lists every row it wrote, whatever the table)."""
    allowed: dict[str, bool] = {}
    changes = list(changes)
    names = related_names(changes)

    def may_view(table: str) -> bool:
        if table not in allowed:
            model = MODELS_BY_TABLE.get(table)
            allowed[table] = user is None or (
                model is not None
                and user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
            )
        return allowed[table]

    return [
        {
            "change": change,
            "operation": change.operation,
            "table": table_label(change.table),
            "columns": columns_of(change, names) if may_view(change.table) else [],
            "url": object_url(change) if may_view(change.table) else None,
        }
        for change in changes
    ]
