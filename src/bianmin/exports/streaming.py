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

``write_xlsx`` streams rows into a file through the platform's one spreadsheet writer
(``bianmin.core.xlsx``), with progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from django.db.models import Model, Q, QuerySet

from bianmin.core import xlsx
from bianmin.core.xlsx import EXCEL_MAX_ROWS

from . import conf


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


def write_xlsx(path: Path, *, title: str, header: Sequence[str], rows: Iterable[Sequence],
               on_progress: Callable[[int], None] | None = None, every: int | None = None,
               sheet_rows: int = EXCEL_MAX_ROWS) -> int:
    """Write ``rows`` under ``header`` to ``path`` with the platform's one writer
    (``bianmin.core.xlsx``: its value rule, rows spooled beside ``path``, a new sheet at Excel's
    row limit); returns the number of rows written."""
    return xlsx.write(path, [xlsx.Sheet(title, header, rows)], on_progress=on_progress,
                      every=every or conf.PROGRESS_EVERY, sheet_rows=sheet_rows)
