"""``{{ value|value_label:"table.column" }}``: a gateway value by its label (labels.py)."""

from django import template

from integrations_app import labels

register = template.Library()


@register.filter
def value_label(value, column: str) -> str:
    """The label of ``value`` in ``table.column``; an undeclared value as it is."""
    table, _dot, name = str(column).partition(".")
    return labels.shown(value, table, name)
