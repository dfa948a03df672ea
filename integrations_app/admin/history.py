"""How a change of the store is shown to people: column labels, values, secrets, links.

Every history page (an object's, the global one, an operation's) renders its changes through
``change_rows``; a secret column shows only that it changed, with its fingerprints.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.formats import localize
from django.utils.translation import gettext as _

from integrations_app.models import GATEWAY_MODELS
from integrations_app.models.base import SoftDeleteModel

MODELS_BY_TABLE = {model._meta.db_table: model for model in GATEWAY_MODELS}
EMPTY = "—"


@dataclass
class ColumnChange:
    label: str
    before: str
    after: str
    secret: bool = False


def column_label(model, column: str) -> str:
    if model is None:
        return column
    for field in model._meta.concrete_fields:
        if column in (field.attname, field.name):
            return str(field.verbose_name)
    return column


def shown_value(model, column: str, value) -> str:
    """A stored value for people: yes/no, the choice's label, an empty dash."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if model is not None:
        for field in model._meta.concrete_fields:
            if column in (field.attname, field.name) and field.choices:
                return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(localize(value))


def columns_of(change) -> list[ColumnChange]:
    model = MODELS_BY_TABLE.get(change.table)
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
        shown.append(
            ColumnChange(
                column_label(model, column),
                shown_value(model, column, before.get(column)) if column in before else "",
                shown_value(model, column, after.get(column)) if column in after else "",
            )
        )
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
    model = MODELS_BY_TABLE.get(table)
    return str(model._meta.verbose_name) if model is not None else table


def change_rows(changes, *, user=None) -> list[dict]:
    """The changes as the history templates show them; the values only of the tables ``user``
    may view (an operation's page lists every row it wrote, whatever the table)."""
    allowed: dict[str, bool] = {}

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
            "columns": columns_of(change) if may_view(change.table) else [],
            "url": object_url(change) if may_view(change.table) else None,
        }
        for change in changes
    ]
