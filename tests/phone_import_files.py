"""Files for the phone-number import tests, written as people's programs write them."""

import io

from openpyxl import Workbook


def csv_bytes(rows: list[list[str]], *, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    def quoted(cell: str) -> str:
        if any(ch in cell for ch in (delimiter, '"', "\n")):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    text = "".join(delimiter.join(quoted(c) for c in row) + "\r\n" for row in rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
