"""The platform's one small-xlsx writer (openpyxl write-only: rows stream into the file) and the
rule for a written value. Large exports stream to a file in the background instead
(``bianmin.exports.streaming``), with the same value rule."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font


def cell(ws, value):
    """A value as written: control characters, which xlsx XML cannot hold (openpyxl would refuse
    the whole file), dropped; a string starting with "=" kept as text, not made a formula the
    spreadsheet would run (a citizen's note or a key's name "=HYPERLINK(…)")."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            c = WriteOnlyCell(ws, value=value)
            c.data_type = "s"
            return c
        return value
    return "" if value is None else value


def book(title: str, header: list[str], rows) -> bytes:
    """One sheet named ``title`` (Excel's 31 characters), a bold header, then ``rows``."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    bold = Font(bold=True)
    cells = []
    for h in header:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        cells.append(c)
    ws.append(cells)
    for row in rows:
        ws.append([cell(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
