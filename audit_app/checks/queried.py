"""A check whose affected rows are one query: counted and paged by the database.

Counting such a check's rows used to build every finding only to count it (tens of thousands
at the gateway's planned size: each row converted by Django, its detail translated, an
Affected made, then dropped). A QueryCheck says which rows are affected as a query
(affected(): values() rows in the check's order) and how one becomes a finding (finding()).
The audit's count and first page are one query, the count carried by a window over all
affected rows (COUNT(*) OVER ()), and only the page's rows become findings; each() streams the
query for the lists that want every row (snapshots, exports).
"""

from collections.abc import Iterator
from contextlib import closing

from django.db.models import Count, Window

from audit_app.registry import Affected, Check
from audit_app.streaming import stream

# The name of the window count in a page's rows (no gateway column is called so).
_TOTAL = "audit_total_rows"


class QueryCheck(Check):
    """Subclass: affected() and finding(); findings() where a page's rows need one more read
    (after the query, never within it)."""

    def affected(self):
        """The affected rows: a values() queryset in the check's order."""
        raise NotImplementedError

    def finding(self, row: dict) -> Affected:
        raise NotImplementedError

    def findings(self, rows: list[dict]) -> list[Affected]:
        """The findings of some affected rows, in their order."""
        return [self.finding(row) for row in rows]

    def each(self) -> Iterator[Affected]:
        with closing(stream(self.affected())) as rows:  # closed even if each() is abandoned
            for row in rows:
                yield self.finding(row)

    def count_and_page(self, limit: int, offset: int = 0) -> tuple[int, list[Affected]]:
        affected = self.affected()
        if not limit:
            return affected.count(), []
        page = list(affected.annotate(**{_TOTAL: Window(Count("*"))})[offset : offset + limit])
        if not page:
            return (affected.count() if offset else 0), []
        return page[0][_TOTAL], self.findings(page)
