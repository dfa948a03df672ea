"""What an import will write, row by row, as a person reads it in the preview.

For each row: the cells of the columns the import reads (not the empty columns an xlsx sheet
pads its rows with), each with its header (the page folds them away but for a row with
errors), the number in E.164 as it will be written, the company and branch by
name, and for an update each field that changes, before → after. The names come from the
database as the plan checked it (``ImportPlan.names``, loaded once): no query per row.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from integrations_app.models import PhoneNumber
from integrations_app.phone_import import lookups
from integrations_app.phone_import.plan import UPDATE, ImportPlan, RowResult

NOTHING = "—"


@dataclass(frozen=True)
class Change:
    field: str  # the column (lookups.WRITTEN)
    label: str
    before: str
    after: str


def preview_rows(plan: ImportPlan, results: list[RowResult]) -> list[dict]:
    """The rows of one page of the preview (``results``), ready for the template."""
    positions = plan.table.read_positions
    headers = visible_headers(plan)
    cells_of = plan.cells(result.row for result in results)
    # A row with errors writes nothing; its number in E.164 is still shown when it is valid.
    failed = [result.row for result in results if result.after is None]
    numbers = plan.store.numbers(failed)
    named = plan.store.named(failed)  # the company and branch of a row with errors
    names = Names(plan.names)
    rows = []
    for result in results:
        cells = cells_of.get(result.row, [])
        after = result.values()
        pair = (after["company_id"], after["branch_id"]) if after else named.get(result.row)
        shown = [cells[p] if p < len(cells) else "" for p in positions]
        rows.append(
            {
                "row": result.row,
                "status": result.status,
                "cells": shown,
                "named_cells": list(zip(headers, shown, strict=True)),  # (header, cell)
                "number": after["number"] if after else numbers.get(result.row, ""),
                "company": names.company(pair[0]) if pair else "",
                "branch": names.branch(pair[1]) if pair else "",
                "changes": changes(result, names) if result.status == UPDATE else [],
                "errors": result.errors,
            }
        )
    return rows


def visible_headers(plan: ImportPlan) -> list[str]:
    """The headers of the columns ``preview_rows`` shows the cells of."""
    return [plan.table.headers[p] for p in plan.table.read_positions]


def changes(result: RowResult, names: "Names") -> list[Change]:
    """The fields an update changes, before → after; the unchanged ones are not listed."""
    before, after = result.values("before"), result.values("after")
    return [
        Change(column, label(column), names.shown(column, before[column]),
               names.shown(column, after[column]))
        for column in result.changed
    ]  # fmt: skip


def label(column: str) -> str:
    """A written column as the phone-number pages name it (the model's field)."""
    return str(PhoneNumber._meta.get_field(column).verbose_name)


class Names:
    """Values as a person reads them: companies and branches by name, yes/no, the type's label."""

    def __init__(self, found: lookups.Lookups | None):
        self.found = found or lookups.Lookups()
        self.types = dict(PhoneNumber._meta.get_field("type").choices)

    def company(self, pk) -> str:
        if pk is None:
            return NOTHING
        company = self.found.companies_by_id.get(pk)
        return company.name if company and company.name else f"#{pk}"

    def branch(self, pk) -> str:
        if pk is None:
            return NOTHING
        branch = self.found.branches_by_id.get(str(pk).lower())
        return branch.name if branch and branch.name else str(pk)

    def shown(self, column: str, value) -> str:
        if column == "company_id":
            return self.company(value)
        if column == "branch_id":
            return self.branch(value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if column == "type":
            return str(self.types.get(value, value))
        return NOTHING if value in (None, "") else str(value)
