"""The working-day calendar: statutory holidays and 调休 working weekends, kept as data.

Rules (行政许可法 §82; STANDARDS.md "Working days"):

- A day is a working day when the calendar lists it as 调休上班, or when it is Monday–Friday and
  the calendar does not list it as a holiday. Days outside every seeded year follow the plain
  weekday rule.
- ``add_working_days(start, n)`` counts from the day AFTER ``start``: the usual administrative
  rule is that a period starts the day after acceptance (受理), so a 1-working-day limit for a
  case accepted on a Friday ends on the next Monday. ``add_working_days(d, 0) == d``.
- ``working_days_between(a, b)`` counts the working days in (a, b], the inverse of
  ``add_working_days``: ``working_days_between(d, add_working_days(d, n)) == n``.
- A year is *confirmed* when its schedule is the one published by the State Council. Later
  years are estimates by rule from the ``holidays`` library until an administrator confirms
  them (or ``chinesecalendar`` ships them). ``deadline_with_status`` returns the deadline with
  ``confirmed=False`` when any year the count runs through is unconfirmed, so screens can say
  "按预估日历计算，待国务院公布后确认".

Speed: the special days are loaded once per process into memory. Saving or deleting a calendar
row clears this process's copy at once and bumps a version token in Django's cache; other
processes compare their token with the shared one at most every
``BIANMIN_CALENDAR_RECHECK_SECONDS`` (default 10) and reload when it changed.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models.signals import post_delete, post_save

from .models import CalendarDay, CalendarYear

log = logging.getLogger(__name__)

CONFIRMED_SOURCE = "国务院办公厅通知（chinesecalendar）"
ESTIMATE_SOURCE = "holidays 规则推算，待国务院公布后确认"
ADMIN_SOURCE = "管理员维护"
SEEDED_SOURCES = (CONFIRMED_SOURCE, ESTIMATE_SOURCE)
VERSION_KEY = "bianmin:calendar:version"

HOLIDAY = CalendarDay.Kind.HOLIDAY
WORKDAY = CalendarDay.Kind.WORKDAY


# --- the in-process copy ---------------------------------------------------------------------


@dataclass
class _Snapshot:
    token: str | None
    checked_at: float
    kinds: dict[date, str] = field(default_factory=dict)
    # Days whose status differs from the weekday rule, sorted, with the running sum of their
    # corrections (+1 for a working weekend day, -1 for a weekday holiday), for counting.
    deviations: list[date] = field(default_factory=list)
    corrections: list[int] = field(default_factory=list)
    years: dict[int, bool] = field(default_factory=dict)  # year -> confirmed


_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def _shared_token() -> str | None:
    """The version token other processes bumped, or None when the cache cannot say (no cache
    table yet). The savepoint keeps a failing cache query from breaking the caller's
    transaction on PostgreSQL."""
    try:
        with transaction.atomic():
            return cache.get(VERSION_KEY)
    except DatabaseError:
        return None


def _bump_shared_token() -> None:
    try:
        with transaction.atomic():
            cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except DatabaseError:
        log.warning("calendar: could not publish the new version to the shared cache")


def _load(token: str | None) -> _Snapshot:
    snap = _Snapshot(token=token, checked_at=time.monotonic())
    running = 0
    for day, kind in CalendarDay.objects.order_by("date").values_list("date", "kind"):
        snap.kinds[day] = kind
        weekend = day.weekday() >= 5
        if kind == WORKDAY and weekend:
            running += 1
        elif kind == HOLIDAY and not weekend:
            running -= 1
        else:
            continue
        snap.deviations.append(day)
        snap.corrections.append(running)
    snap.years = dict(CalendarYear.objects.values_list("year", "confirmed"))
    return snap


def _current() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    recheck = settings.BIANMIN_CALENDAR_RECHECK_SECONDS
    if snap is not None and time.monotonic() - snap.checked_at < recheck:
        return snap
    token = _shared_token()
    with _lock:
        if snap is not None and snap is _snapshot and token is not None and token == snap.token:
            snap.checked_at = time.monotonic()
            return snap
        _snapshot = _load(token)
        return _snapshot


def forget_local_copy() -> None:
    """Drop this process's copy without telling anyone (no database access). Tests call it
    between tests: a test's calendar rows are rolled back, and its copy must go with them."""
    global _snapshot
    with _lock:
        _snapshot = None


def invalidate() -> None:
    """Forget this process's copy and tell the others (through the cache) to reload theirs."""
    forget_local_copy()
    _bump_shared_token()


def _on_calendar_change(sender, **kwargs):
    invalidate()
    # Also once the change is committed: a reload between the save and the commit read the old
    # rows in another connection's view.
    transaction.on_commit(invalidate)


for _model in (CalendarDay, CalendarYear):
    post_save.connect(_on_calendar_change, sender=_model, dispatch_uid=f"calendar-save-{_model.__name__}")
    post_delete.connect(_on_calendar_change, sender=_model, dispatch_uid=f"calendar-delete-{_model.__name__}")


# --- questions -------------------------------------------------------------------------------


def is_working_day(d: date) -> bool:
    kind = _current().kinds.get(d)
    if kind is not None:
        return kind == WORKDAY
    return d.weekday() < 5


def day_kind(d: date) -> str | None:
    """"holiday", "workday" (调休上班) or None for an ordinary day."""
    return _current().kinds.get(d)


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d``."""
    d += timedelta(days=1)
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def working_day_on_or_after(d: date) -> date:
    """``d`` itself when it is a working day, else the next one (a date that must fall on a
    working day, e.g. an appointment)."""
    return d if is_working_day(d) else next_working_day(d)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself does not count); for a negative
    ``n``, the |n|-th working day before it. ``n == 0`` returns ``start``."""
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    d = start
    snap = _current()
    kinds = snap.kinds
    while remaining:
        d += step
        kind = kinds.get(d)
        if (kind == WORKDAY) if kind is not None else d.weekday() < 5:
            remaining -= 1
    return d


def _weekdays_upto(d: date) -> int:
    """Monday–Friday days from a fixed origin up to and including ``d`` (a Monday origin)."""
    days = (d - date(1, 1, 1)).days  # 0001-01-01 is a Monday
    weeks, rest = divmod(days + 1, 7)
    return weeks * 5 + min(rest, 5)


def _correction_upto(snap: _Snapshot, d: date) -> int:
    i = bisect.bisect_right(snap.deviations, d)
    return snap.corrections[i - 1] if i else 0


def working_days_between(a: date, b: date) -> int:
    """Working days in (a, b]; negative when b is before a."""
    if b < a:
        return -working_days_between(b, a)
    snap = _current()
    return (_weekdays_upto(b) - _weekdays_upto(a)) + (_correction_upto(snap, b) - _correction_upto(snap, a))


def schedule_confirmed(year: int) -> bool:
    """Whether the year's schedule is the State Council's (not an estimate, not missing)."""
    return _current().years.get(year, False)


def unconfirmed_years(start: date, end: date) -> list[int]:
    lo, hi = sorted((start.year, end.year))
    years = _current().years
    return [y for y in range(lo, hi + 1) if not years.get(y, False)]


class Deadline(NamedTuple):
    date: date
    confirmed: bool  # False: some year the count runs through has no confirmed schedule

    @property
    def note(self) -> str:
        return "" if self.confirmed else "该期限按预估的节假日安排计算，待国务院公布当年安排后可能调整"


def deadline_with_status(start: date, n: int) -> Deadline:
    """``add_working_days`` plus whether the result can be trusted: ``confirmed`` is False when
    any year from ``start`` to the deadline has no confirmed schedule."""
    end = add_working_days(start, n)
    return Deadline(end, not unconfirmed_years(start, end))


# --- seeding ---------------------------------------------------------------------------------


class SeedResult(NamedTuple):
    years: list[int]
    skipped_years: list[int]  # kept as an administrator left them
    days_written: int
    days_removed: int


_FULL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def _official_schedule(year: int) -> dict[date, tuple[str, str]] | None:
    """{date: (kind, Chinese name)} from chinesecalendar, or None when it does not know the
    year (it raises past its last year and knows nothing before 2004)."""
    import chinese_calendar

    days = {d: v for d, v in chinese_calendar.holidays.items() if d.year == year}
    workdays = {d: v for d, v in chinese_calendar.workdays.items() if d.year == year}
    if not days:
        return None

    def chinese(name: str) -> str:
        try:
            short = chinese_calendar.Holiday(name).chinese
        except ValueError:
            return name
        return _FULL_NAMES.get(short, short)

    result: dict[date, tuple[str, str]] = {d: (HOLIDAY, chinese(v)) for d, v in days.items()}
    result.update({d: (WORKDAY, f"{chinese(v)}调休上班") for d, v in workdays.items()})
    return result


_SHIFT = re.compile(r"由 (\d{4}-\d{2}-\d{2}) 调休")


def _estimated_schedule(year: int) -> dict[date, tuple[str, str]]:
    """{date: (kind, name)} from the ``holidays`` library's China rules (public holidays only;
    the half-day ones such as 妇女节 are not days off for everybody). Where the library already
    knows a published 调休, it names the weekend day worked in exchange; use it."""
    import holidays

    result: dict[date, tuple[str, str]] = {}
    worked: dict[date, str] = {}
    for d, name in sorted(holidays.China(years=year, language="zh_CN").items()):
        for part in name.split("; "):
            match = _SHIFT.search(part)
            if match:
                worked[date.fromisoformat(match.group(1))] = "调休上班"
        result[d] = (HOLIDAY, name.split("; ")[0][:50])
    for d, name in worked.items():
        if d.year == year and d not in result:
            result[d] = (WORKDAY, name)
    return result


def seed_years(*, years: list[int]) -> SeedResult:
    """Fill the calendar for ``years``: confirmed from chinesecalendar where it knows the year,
    estimated from holidays otherwise. Idempotent. Never touches a day or a year an
    administrator edited (``edited``), and removes only rows it wrote itself that its source no
    longer lists (an estimate superseded by the published schedule)."""
    done: list[int] = []
    skipped: list[int] = []
    written = removed = 0
    with transaction.atomic():
        for year in years:
            row = CalendarYear.objects.select_for_update().filter(year=year).first()
            if row is not None and row.edited:
                skipped.append(year)
                continue
            schedule = _official_schedule(year)
            confirmed = schedule is not None
            source = CONFIRMED_SOURCE if confirmed else ESTIMATE_SOURCE
            if schedule is None:
                schedule = _estimated_schedule(year)
            existing = {d.date: d for d in CalendarDay.objects.filter(date__year=year)}
            stale = [
                d.pk for day, d in existing.items()
                if day not in schedule and not d.edited and d.source in SEEDED_SOURCES
            ]
            if stale:
                removed += CalendarDay.objects.filter(pk__in=stale).delete()[0]
            new, changed = [], []
            for day, (kind, name) in sorted(schedule.items()):
                current = existing.get(day)
                if current is None:
                    new.append(CalendarDay(date=day, kind=kind, name=name, source=source))
                elif not current.edited and (current.kind, current.name, current.source) != (kind, name, source):
                    current.kind, current.name, current.source = kind, name, source
                    changed.append(current)
            CalendarDay.objects.bulk_create(new)
            CalendarDay.objects.bulk_update(changed, ["kind", "name", "source"])
            written += len(new) + len(changed)
            if row is None:
                CalendarYear.objects.create(year=year, confirmed=confirmed, source=source)
            elif (row.confirmed, row.source) != (confirmed, source):
                row.confirmed, row.source = confirmed, source
                row.save(update_fields=["confirmed", "source", "updated_at"])
            done.append(year)
        # bulk writes send no signals
        transaction.on_commit(invalidate)
    invalidate()
    return SeedResult(done, skipped, written, removed)


def official_years() -> range:
    """The years chinesecalendar carries the published schedule for."""
    import chinese_calendar

    first = min(chinese_calendar.holidays).year
    last = max(chinese_calendar.holidays).year
    return range(first, last + 1)
