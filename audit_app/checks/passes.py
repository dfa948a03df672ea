"""One streamed read judged by several checks at once (issue 13: the audit's memory flat, each
table read once).

A RowPass names a read (rows(), streamed: audit_app/streaming.py); each PassCheck that reads it
judges one row at a time (judge() says whether, and why, as a cheap reason; describe() words it
only for the rows a page keeps). The pass runs once per
audit run and window: every row goes through every check on the way, and each check keeps its
count and only the rows of the page asked for (a Tally). Nothing the size of the table is held.
The numbers (number_pass.py) and the agents the companies expect (agents.py) are such passes.
"""

from contextlib import closing
from dataclasses import dataclass, field

from audit_app.registry import Affected, Check, all_checks, shared

# (offset, limit): which of the affected rows to keep; limit None keeps them all.
Window = tuple[int, int | None]


@dataclass
class Tally:
    """How many rows a check found, and rows [offset, offset + limit) of them (all: limit
    None), each built (``build()``) only when kept."""

    offset: int
    limit: int | None
    total: int = 0
    rows: list = field(default_factory=list)

    def add(self, build) -> None:
        if self.total >= self.offset and (self.limit is None or len(self.rows) < self.limit):
            self.rows.append(build())
        self.total += 1


@dataclass
class PassResult:
    tallies: dict[str, Tally]
    # What a pass collects besides the checks' rows (the numbers: the routable companies).
    extra: dict = field(default_factory=dict)


class RowPass:
    """Subclass: ``key``, rows(); observe() and finish() where a pass needs more than the
    judgement of each row by itself."""

    key = ""

    def rows(self):
        """The rows, streamed. The loop over them must not query (the connection is busy)."""
        raise NotImplementedError

    def observe(self, result: PassResult, position: int, row) -> None:
        """Called for every row after the checks judged it."""

    def finish(self, result: PassResult) -> None:
        """Called once after the last row (the connection is free again)."""

    def checks(self) -> list["PassCheck"]:
        return [c for c in all_checks() if isinstance(c, PassCheck) and c.row_pass is self]

    def run(self, window: Window | None = None) -> PassResult:
        """The pass's result keeping rows [offset, offset + limit) (``window``), once per audit
        run. Without a window: the run's result, whatever its window (for ``extra``)."""
        if window is None:
            window = shared((self.key, "window"), lambda: (0, 0))
        else:
            shared((self.key, "window"), lambda: window)  # the first caller's window
        return shared((self.key, window), lambda: self._read(*window))

    def _read(self, offset: int, limit: int | None) -> PassResult:
        checks = [c for c in self.checks() if not c.after_pass]
        result = PassResult(tallies={c.id: Tally(offset, limit) for c in self.checks()})
        with closing(self.rows()) as rows:  # the stream ends here, whatever happens in the loop
            self._judge(result, checks, rows)
        self.finish(result)
        return result

    def _judge(self, result: PassResult, checks, rows) -> None:
        for position, row in enumerate(rows):
            for check in checks:
                reason = check.judge(row)
                if reason:  # worded only for the rows kept (most are only counted)
                    result.tallies[check.id].add(
                        lambda: check.affected(row, check.describe(row, reason))  # noqa: B023 (called at once)
                    )
            self.observe(result, position, row)


class PassCheck(Check):
    """A check decided on one row of a shared read at a time: set ``row_pass``, implement
    judge(), describe() and affected(). ``after_pass``: the check is not judged row by row; the
    pass's finish() fills its tally (AUD-PHN-003 compares numbers with each other)."""

    row_pass: RowPass
    after_pass = False

    def judge(self, row):
        """Whether ``row`` is affected: a true reason (any cheap value describe() reads), or
        a false one. Must not query."""
        raise NotImplementedError

    def describe(self, row, reason) -> str:
        """The finding's detail for an affected row (its reason from judge())."""
        raise NotImplementedError

    def affected(self, row, detail) -> Affected:
        raise NotImplementedError

    def count_and_page(self, limit: int, offset: int = 0) -> tuple[int, list[Affected]]:
        tally = self.row_pass.run((offset, limit)).tallies[self.id]
        return tally.total, list(tally.rows)  # the run's cache stays as it is

    def each(self):
        return iter(self.row_pass.run((0, None)).tallies[self.id].rows)
