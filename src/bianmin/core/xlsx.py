"""The platform's one writer of spreadsheets — xlsx (small books in memory, large ones streamed to a
file with progress) and CSV — and the rule every written value follows. Every xlsx or CSV the
platform hands out goes through here (a test fails on another ``openpyxl.Workbook`` or
``csv.writer``): a value typed by a stranger (a user name tried at the log-in, a citizen's note,
a catalog text) must neither break the file nor run in the spreadsheet of whoever opens it.

The rule, for text:
- control characters (C0 except tab, line feed and carriage return), which xlsx XML cannot hold
  and openpyxl refuses with an error for the whole file, are dropped — in CSV too, so both files
  of one export say the same;
- xlsx: text starting with "=" is written as a text cell, never a formula; the value is kept
  exactly (an xlsx text cell is never evaluated, whatever it starts with);
- CSV has no cell types: a spreadsheet evaluates a field starting with "=", "+", "-", "@", a tab
  or a carriage return (CWE-1236), so such a field is written with a leading apostrophe, which
  the spreadsheet shows as text."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, the header included
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# openpyxl's ILLEGAL_CHARACTERS_RE: what XML 1.0 cannot hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: str) -> str:
    """Text without the control characters a spreadsheet file cannot hold."""
    return _CONTROL.sub("", value)


def cell(ws, value):
    """A value as written into the write-only sheet ``ws`` (the rule above)."""
    if isinstance(value, str):
        value = clean_text(value)
        if value.startswith("="):
            c = WriteOnlyCell(ws, value=value)
            c.data_type = "s"
            return c
        return value
    return "" if value is None else value


def csv_value(value) -> str:
    """A value as written into a CSV field (the rule above)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)  # a number is a number: -5 stays -5
    text = clean_text(str(value))
    return "'" + text if text.startswith(_CSV_FORMULA_START) else text


@dataclass
class Sheet:
    """One sheet: its title (Excel allows 31 characters), a bold header row, the rows, and
    optionally column widths (in characters, from the first column)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence]
    widths: Sequence[float] = field(default_factory=tuple)


def _spool_beside(ws, path: Path) -> None:
    """openpyxl spools a write-only sheet's rows to a file in the system's temporary folder, which
    is memory (tmpfs) on many servers: a million rows would sit in RAM until the save. Spool
    them beside the file being written instead, named after it (so whoever removes a killed
    run's partial file finds them too). Uses openpyxl's worksheet writer as its save expects it
    (``out`` and the temporary-file list its cleanup removes the file from)."""
    from openpyxl.worksheet import _writer

    fd, name = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".sheet.xml", dir=path.parent)
    os.close(fd)
    _writer.ALL_TEMP_FILES.append(name)
    ws._writer = _writer.WorksheetWriter(ws, out=name)
    ws._writer.write_top()


def _abort(wb) -> None:
    """Close and delete what an unfinished workbook spooled (a long-lived worker would otherwise
    keep the temporary files until it exits)."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        for stream in (getattr(ws, "_rows", None), getattr(writer, "xf", None)):
            try:
                if stream is not None:
                    stream.close()
            except Exception:  # noqa: S110 - best effort: the file is removed below
                pass
        if writer is not None:
            try:
                writer.cleanup()
            except (OSError, ValueError):
                pass


def write(target: str | Path | IO[bytes], sheets: Iterable[Sheet], *,
          on_progress: Callable[[int], None] | None = None, every: int = 10_000,
          sheet_rows: int = EXCEL_MAX_ROWS) -> int:
    """Write ``sheets`` as one xlsx to ``target`` (a path, or a binary file object); returns the
    number of data rows written. Rows stream into an openpyxl write-only workbook (inline
    strings; memory does not grow with the row count); a sheet that reaches Excel's row limit
    (``sheet_rows``, header included) continues in "title（2）". When ``target`` is a path the
    rows are spooled beside it. ``on_progress(n)`` is called every ``every`` rows. On an error
    nothing is left behind but what the caller removes (``target`` itself, possibly partly
    written)."""
    path = Path(target) if isinstance(target, str | Path) else None
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    n = 0
    try:
        for spec in sheets:
            part = 0
            in_sheet = sheet_rows
            ws = None

            def new_sheet(spec=spec):
                nonlocal part, in_sheet, ws
                part += 1
                name = spec.title[:31] if part == 1 else f"{spec.title[:25]}（{part}）"
                ws = wb.create_sheet(clean_text(name) or "Sheet")
                if path is not None:
                    _spool_beside(ws, path)
                for i, width in enumerate(spec.widths, start=1):
                    ws.column_dimensions[get_column_letter(i)].width = width
                header = []
                for h in spec.header:
                    c = WriteOnlyCell(ws, value=clean_text(str(h)))
                    c.font = bold
                    header.append(c)
                ws.append(header)
                in_sheet = 1

            for row in spec.rows:
                if in_sheet >= sheet_rows:
                    new_sheet()
                ws.append([cell(ws, v) for v in row])
                in_sheet += 1
                n += 1
                if on_progress and n % every == 0:
                    on_progress(n)
            if ws is None:
                new_sheet()  # an empty sheet still has its header
        if not wb.worksheets:
            wb.create_sheet("Sheet")
        wb.save(path if path is not None else target)
    except BaseException:
        _abort(wb)
        raise
    return n


def books(*sheets: Sheet) -> bytes:
    """A small workbook of several sheets, in memory."""
    out = io.BytesIO()
    write(out, sheets)
    return out.getvalue()


def book(title: str, header: Sequence[str], rows: Iterable[Sequence], *, widths: Sequence[float] = ()) -> bytes:
    """One sheet named ``title``, a bold header, then ``rows``, in memory."""
    return books(Sheet(title, header, rows, widths))


def spooled(sheets: Iterable[Sheet], *, max_memory: int = 8 * 1024 * 1024) -> IO[bytes]:
    """A workbook too large to hold in memory for a download: written to a temporary file
    (memory up to ``max_memory``), rewound, ready for a FileResponse."""
    spool = tempfile.SpooledTemporaryFile(max_size=max_memory)
    write(spool, sheets)
    spool.seek(0)
    return spool


class _Echo:
    def write(self, value):
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """A CSV file line by line (for a streaming response): a BOM so that Excel opens the UTF-8
    file as Chinese, the header, then the rows, every field under the rule above."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([csv_value(h) for h in header])
    for row in rows:
        yield writer.writerow([csv_value(v) for v in row])
