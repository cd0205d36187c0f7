"""The API's list routes: a queryset seen through a row function (ninja's paginator slices it, and
only the page's rows are read and shaped), and the limit/offset window of the routes that slice
their own lists."""

from __future__ import annotations


class Mapped:
    """A queryset seen through a row function, sliced lazily by the paginator."""

    def __init__(self, qs, fn):
        self.qs, self.fn = qs, fn

    def __len__(self):
        return self.qs.count()

    def __getitem__(self, index):
        return [self.fn(e) for e in self.qs[index]]


def window(limit: int, offset: int, *, most: int = 200) -> tuple[int, int]:
    """A list route's ``limit`` and ``offset`` kept in range: 1..most rows, an offset from 0 to 10⁹
    (a larger one overflows SQLite's integer: a 500 the API fuzzing found)."""
    return max(1, min(limit, most)), max(0, min(offset, 10**9))
