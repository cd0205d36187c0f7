"""Deadlines of appeals in working days, per kind, from DeadlineRule rows (or the defaults)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bianmin.core import calendar

from .models import DEFAULT_DEADLINES, DeadlineRule


@dataclass(frozen=True)
class Rule:
    reply_days: int
    contact_days: int
    warn_days: int


def rules() -> dict[str, Rule]:
    """Every kind's rule, read once (an import of 100,000 rows calls this once, not per row)."""
    result = {kind: Rule(*values) for kind, values in DEFAULT_DEADLINES.items()}
    for row in DeadlineRule.objects.all():
        result[row.kind] = Rule(row.reply_days, row.contact_days, row.warn_days)
    return result


class DeadlineCalculator:
    """Caches per (start date, days): imports compute the same few deadlines many times."""

    def __init__(self):
        self.rules = rules()
        self._cache: dict[tuple[dt.date, int], dt.date] = {}

    def add(self, start: dt.date, days: int) -> dt.date:
        key = (start, days)
        if key not in self._cache:
            self._cache[key] = calendar.add_working_days(start, days)
        return self._cache[key]

    def due(self, kind: str, start: dt.date) -> tuple[dt.date, dt.date]:
        """(contact_due, reply_due) for an appeal of `kind` registered on `start`."""
        rule = self.rules[kind]
        return self.add(start, rule.contact_days), self.add(start, rule.reply_days)

    def unconfirmed(self, start: dt.date, due: dt.date) -> bool:
        """Whether the count runs through a year whose holiday schedule is only an estimate."""
        return bool(calendar.unconfirmed_years(start, due))

    def warn_days(self, kind: str) -> int:
        return self.rules[kind].warn_days
