"""Template filters for the rows an import wrote (PhoneImportChanges entries)."""

from django import template

register = template.Library()


@register.filter
def written_columns(entry: dict) -> list[tuple]:
    """(column, before, after) for each column a written row set."""
    before = entry.get("before") or {}
    return [(column, before.get(column), value) for column, value in entry.get("after", {}).items()]
