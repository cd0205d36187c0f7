"""Paginating a queryset through a row function (the API's list routes shape each row as they
go): ninja's paginator slices it, and only the page's rows are read and shaped."""

from __future__ import annotations


class Mapped:
    """A queryset seen through a row function, sliced lazily by the paginator."""

    def __init__(self, qs, fn):
        self.qs, self.fn = qs, fn

    def __len__(self):
        return self.qs.count()

    def __getitem__(self, index):
        return [self.fn(e) for e in self.qs[index]]
