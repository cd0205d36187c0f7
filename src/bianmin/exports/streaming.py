"""Reading millions of rows with flat memory and short statements, and writing them to xlsx.

``keyset_chunks`` reads an ordered queryset a chunk at a time, each chunk one short query that
starts after the last row of the previous one (keyset pagination), instead of one long-lived
cursor. Why: on SQLite an open cursor keeps its read transaction open, and the progress
UPDATEs between two fetches would then hold the write lock until the export ends, stalling
every writer of the platform for minutes; on PostgreSQL a cursor outside a transaction is a
WITH HOLD cursor, materialised in full before the first row. A chunk after ``(v1, id)`` is
``f1 <= v1 AND NOT (f1 = v1 AND id >= id1)`` for a descending order: the leading bound lets
both planners start the ordered index walk at the last row, so each chunk costs the same.
Related records are joined by the queryset's select_related, so a chunk is one query.

``write_xlsx`` streams rows into an openpyxl write-only workbook (inline strings, rows spooled
to a temporary file, so memory does not grow with the row count), starting a new sheet when
Excel's row limit is reached."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from django.db.models import Model, Q, QuerySet

from bianmin.core.xlsx import cell

from . import conf

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, the header included


def _order_of(qs: QuerySet) -> list[tuple[str, bool]]:
    names = list(qs.query.order_by) or list(qs.model._meta.ordering)
    order = []
    for name in names:
        if not isinstance(name, str) or "__" in name or name.lstrip("-") == "?":
            raise ValueError(f"keyset pagination needs plain field names in the ordering, not {name!r}")
        desc = name.startswith("-")
        field = name.lstrip("-")
        order.append(("pk" if field == qs.model._meta.pk.name else field, desc))
    if not order or order[-1][0] != "pk":
        raise ValueError("keyset pagination needs the primary key last in the ordering (a total order)")
    return order


def _after(order: list[tuple[str, bool]], values: list) -> Q:
    """Rows strictly after ``values`` in ``order``."""
    if any(v is None for v in values):
        raise ValueError("keyset pagination cannot continue after a NULL in the ordering fields")
    q = Q(pk__in=[])
    for i, (field, desc) in enumerate(order):
        step = Q(**{f"{field}__{'lt' if desc else 'gt'}": values[i]})
        for j in range(i):
            step &= Q(**{order[j][0]: values[j]})
        q |= step
    first, desc = order[0]
    return Q(**{f"{first}__{'lte' if desc else 'gte'}": values[0]}) & q


def keyset_chunks(qs: QuerySet, *, size: int | None = None, first: Q | None = None) -> Iterator[Model]:
    """Every row of ``qs`` (filtered by ``first``) in its order, read ``size`` rows per query.

    ``first`` is a bound for the first chunk only, which every later chunk's own bound implies
    (a period's end, on the leading field of a descending order). Give the period's end here
    rather than in ``qs``: SQLite walks an index range from one upper bound, and with two on
    the leading field it seeks from the period's end, so each chunk would walk again every row
    before it (checked with EXPLAIN: SeekLT on the period's parameter)."""
    size = size or conf.CHUNK_ROWS
    order = _order_of(qs)
    last: list | None = None
    while True:
        if last is None:
            page = qs if first is None else qs.filter(first)
        else:
            page = qs.filter(_after(order, last))
        rows = list(page[:size])
        yield from rows
        if len(rows) < size:
            return
        last = [getattr(rows[-1], field) for field, _ in order]


def _spool_beside(ws, path: Path) -> None:
    """openpyxl spools a write-only sheet's rows to a file in the system's temporary folder, which
    is memory (tmpfs) on many servers: a million rows would sit in RAM until the save. Spool
    them beside the export instead, named after it (so whoever removes a killed run's partial
    file finds them too). Uses openpyxl's worksheet writer as its save expects it
    (``out`` and the temporary-file list its cleanup removes the file from)."""
    import os
    import tempfile

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


def write_xlsx(path: Path, *, title: str, header: Sequence[str], rows: Iterable[Sequence],
               on_progress: Callable[[int], None] | None = None, every: int | None = None,
               sheet_rows: int = EXCEL_MAX_ROWS) -> int:
    """Write ``rows`` under ``header`` to ``path``; returns the number of rows written.
    ``on_progress(n)`` is called every ``every`` rows. On an error nothing is left behind but
    what the caller removes (``path`` itself, possibly partly written)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    every = every or conf.PROGRESS_EVERY
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    sheets = 0
    ws = None
    in_sheet = sheet_rows

    def new_sheet():
        nonlocal sheets, ws, in_sheet
        sheets += 1
        name = title[:31] if sheets == 1 else f"{title[:25]}（{sheets}）"
        ws = wb.create_sheet(name)
        _spool_beside(ws, Path(path))
        cells = []
        for h in header:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            cells.append(c)
        ws.append(cells)
        in_sheet = 1

    n = 0
    try:
        for row in rows:
            if in_sheet >= sheet_rows:
                new_sheet()
            ws.append([cell(ws, v) for v in row])
            in_sheet += 1
            n += 1
            if on_progress and n % every == 0:
                on_progress(n)
        if ws is None:
            new_sheet()  # an empty export is still a file with its header
        wb.save(path)
    except BaseException:
        _abort(wb)
        raise
    return n
