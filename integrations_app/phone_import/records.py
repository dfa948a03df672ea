"""Reading the record of imports: the rows an import wrote, and the imports that wrote a number.

An import stamps every row it writes with its ``written_at`` (as ``updated_at``, and as
``created_at`` when new), so the imports that may have written a number are those written
since it was created (indexed); their rows then confirm it, and give the row, before and after.
"""

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils.text import capfirst
from django.utils.translation import gettext

from integrations_app.models import Branch, Company, PhoneImport, PhoneImportChanges, PhoneNumber


def written_rows_page(record: PhoneImport, page: int, per_page: int = 100) -> tuple[list, int]:
    """(the written rows on ``page``, counting from 1, the number of pages): two queries."""
    sizes = list(record.changes.order_by("first_row").values_list("pk", "row_count"))
    total = sum(count for _pk, count in sizes)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    start, stop = (page - 1) * per_page, page * per_page
    wanted, offset, skip = [], 0, None
    for pk, count in sizes:
        if offset + count > start and offset < stop:
            wanted.append(pk)
            skip = start - offset if skip is None else skip
        offset += count
    rows = [
        entry
        for changes in PhoneImportChanges.objects.filter(pk__in=wanted).order_by("first_row")
        for entry in changes.entries
    ]
    return describe(rows[skip or 0 : (skip or 0) + per_page]), pages


def imports_of(number, limit: int = 50) -> list[dict]:
    """The imports that wrote this phone number, newest first: {"import", "entry"} each.

    The imports between the number's creation and its last change (by ``written_at``, indexed)
    whose rows name it: found by its id in their rows' text, then confirmed entry by entry.
    """
    records = PhoneImport.objects.filter(outcome="imported")
    if number.created_at is not None:
        records = records.filter(written_at__gte=number.created_at)
    if number.updated_at is not None:  # an import that wrote it stamped it: none after that
        records = records.filter(written_at__lte=number.updated_at)
    changes = (
        PhoneImportChanges.objects.filter(phone_import__in=records)
        .annotate(text=Cast("entries", TextField()))
        .filter(text__contains=number.pk)
        .select_related("phone_import", "phone_import__imported_by")
        .order_by("-phone_import__written_at", "-phone_import__pk", "-first_row")[:limit]
    )
    found = [
        {"import": record.phone_import, "entry": entry}
        for record in changes
        for entry in record.entries
        if entry.get("id") == number.pk
    ]
    for item, entry in zip(found, describe([item["entry"] for item in found]), strict=True):
        item["entry"] = entry
    return found


def describe(entries: list[dict]) -> list[dict]:
    """Written rows for people: the number, and each column by its label with names, not ids.

    Each entry gets "number" (the phone number now, else as written) and "changes": a list of
    (label, before, after) in the user's language; a new row leaves out the two routing
    columns that only repeat its number. Three queries, whatever the number of rows.
    """
    ids = {entry["id"] for entry in entries}
    companies, branches = set(), set()
    for entry in entries:
        for values in (entry.get("before") or {}, entry.get("after") or {}):
            companies.add(values.get("company_id"))
            branches.add(values.get("branch_id"))
    names = {
        "company_id": dict(
            Company.all_objects.filter(pk__in=companies - {None}).values_list("pk", "name")
        ),
        "branch_id": dict(
            Branch.all_objects.filter(pk__in=branches - {None}).values_list("pk", "name")
        ),
    }
    numbers = dict(PhoneNumber.objects.filter(pk__in=ids).values_list("pk", "number"))
    described = []
    for entry in entries:
        before, after = entry.get("before") or {}, entry.get("after") or {}
        created = entry.get("action") == "create"
        changes = [
            (
                _label(column),
                _shown(column, before.get(column), names),
                _shown(column, value, names),
            )
            for column, value in after.items()
            if not (created and column in _REPEATS and value == after.get("number"))
        ]
        number = numbers.get(entry["id"]) or after.get("number") or entry["id"]
        described.append({**entry, "number": number, "changes": changes})
    return described


_REPEATS = ("number_normalized", "phone_number")  # E.164 like "number" on every row written


def _label(column: str) -> str:
    field = PhoneNumber._meta.get_field(column.removesuffix("_id"))
    return str(capfirst(field.verbose_name))


def _shown(column: str, value, names: dict) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if column in names:
        return names[column].get(value, str(value))
    choices = dict(PhoneNumber._meta.get_field(column).flatchoices)
    return str(choices.get(value, value))
