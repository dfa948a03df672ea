"""Reading the record of imports: the rows an import wrote, and the imports that wrote a number.

An import stamps every row it writes with its ``written_at`` (as ``updated_at``, and as
``created_at`` when new), so the imports that may have written a number are found by those
two timestamps (indexed); its rows then confirm it, and give the row, before and after.
"""

from django.db.models import TextField
from django.db.models.functions import Cast

from integrations_app.models import PhoneImport, PhoneImportChanges


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
    return rows[skip or 0 : (skip or 0) + per_page], pages


def imports_of(number) -> list[dict]:
    """The imports that wrote this phone number: {"import", "entry"} each, newest first."""
    stamps = {number.created_at, number.updated_at} - {None}
    if not stamps:
        return []
    candidates = PhoneImport.objects.filter(outcome="imported", written_at__in=stamps)
    found = []
    changes = (
        PhoneImportChanges.objects.filter(phone_import__in=candidates)
        .annotate(text=Cast("entries", TextField()))
        .filter(text__contains=number.pk)
        .select_related("phone_import", "phone_import__imported_by")
        .order_by("-phone_import__written_at", "-phone_import__pk")
    )
    for record in changes:
        for entry in record.entries:
            if entry.get("id") == number.pk:
                found.append({"import": record.phone_import, "entry": entry})
    return found
