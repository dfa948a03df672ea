"""Rows read once from a file that is slow to read (an xlsx sheet), kept to be read again fast.

A preview reads the rows several times (the checks, the page shown, the errors CSV); the XML of
a sheet once, then these: blocks of rows in ``marshal`` form in a temporary file (in memory up
to ``IN_MEMORY`` bytes, on disk beyond, removed when the table goes). Each reader seeks to its
own block, so two can read at once.
"""

import marshal
import struct
import tempfile
from collections.abc import Iterator

IN_MEMORY = 4 * 1024 * 1024
_BLOCK = 1000  # rows written, and read back, at a time
_LENGTH = struct.Struct("<Q")


class RowSpool:
    def __init__(self):
        # Open as long as the table lives: removed when it is garbage collected.
        self.file = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115
        self.pending: list[tuple[int, list[str]]] = []
        self.end = 0

    def add(self, number: int, cells: list[str]) -> None:
        self.pending.append((number, cells))
        if len(self.pending) >= _BLOCK:
            self._write()

    def _write(self) -> None:
        if self.pending:
            block = marshal.dumps(self.pending)
            self.file.seek(self.end)
            self.file.write(_LENGTH.pack(len(block)) + block)
            self.end = self.file.tell()
            self.pending = []

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """Every row added, in order (the spool is complete: no row is added after a read)."""
        self._write()
        offset = 0
        while offset < self.end:
            self.file.seek(offset)
            (length,) = _LENGTH.unpack(self.file.read(_LENGTH.size))
            # Only ever what _write put in this private, temporary file.
            block = marshal.loads(self.file.read(length))  # noqa: S302
            offset += _LENGTH.size + length
            yield from block
