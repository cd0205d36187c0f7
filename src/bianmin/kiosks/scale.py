"""Usage at scale: a year of uses of the city's terminals, written in bulk (the demo data and the
benchmarks). The shape follows the seed: 780,000 uses in 2020 over 230 terminals; halls busy on
working days, stations and shops every day; certificate printing the bulk of the uses."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from bianmin.core.calendar import is_working_day

from .models import KioskItem, LocationKind, Terminal, UsageLog

# Relative busyness of a terminal by where it stands, on working days and on rest days.
BUSY = {
    LocationKind.TOWNSHIP: (1.6, 0.35), LocationKind.COMMUNITY: (0.9, 0.5), LocationKind.STATION: (1.0, 1.3),
    LocationKind.CONVENIENCE_STORE: (0.7, 0.8), LocationKind.PHARMACY: (0.6, 0.7),
}
# Hours of use (8:00–20:00), busier mornings.
HOURS = [(8, 6), (9, 11), (10, 12), (11, 9), (12, 5), (13, 6), (14, 9), (15, 10), (16, 9), (17, 7), (18, 5), (19, 3)]
OUTCOMES = [("success", 90), ("failed", 4), ("abandoned", 6)]


def _weights(items: list[KioskItem]) -> list[float]:
    """Certificates dominate (the seed's 社保缴交证明、临时身份证明、无房证明); guides follow a long tail."""
    out = []
    for rank, item in enumerate(items):
        out.append(40.0 / (1 + rank) if item.service == KioskItem.Service.CERTIFICATE else 3.0 / (1 + rank / 8))
    return out


def generate(*, terminals: list[Terminal], items: list[KioskItem], start: date, end: date, total: int,
             seed: int = 2020) -> Iterator[tuple]:
    """(terminal_id, area_id, item_id, outcome, duration_ms, started_at, day) tuples, about `total`
    of them between `start` and `end`, each terminal from its installation."""
    rng = random.Random(seed)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    working = {d: is_working_day(d) for d in days}
    shares = {}
    for t in terminals:
        w, r = BUSY.get(t.location_kind, (0.8, 0.8))
        shares[t.pk] = (w * rng.uniform(0.6, 1.4), r * rng.uniform(0.6, 1.4))
    mass = sum(shares[t.pk][0 if working[d] else 1] for t in terminals for d in days if d >= t.installed_on)
    per_unit = total / mass if mass else 0
    item_ids = [i.pk for i in items]
    item_cum = list(itertools.accumulate(_weights(items)))
    hour_cum = list(itertools.accumulate(w for _h, w in HOURS))
    outcome_cum = list(itertools.accumulate(w for _o, w in OUTCOMES))
    tz = timezone.get_current_timezone()
    for d in days:
        midnight = timezone.make_aware(datetime.combine(d, time.min), tz)
        for t in terminals:
            if d < t.installed_on:
                continue
            expected = shares[t.pk][0 if working[d] else 1] * per_unit
            n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            for _ in range(n):
                hour = HOURS[_pick(rng, hour_cum)][0]
                started = midnight + timedelta(hours=hour, seconds=rng.randrange(3600))
                outcome = OUTCOMES[_pick(rng, outcome_cum)][0]
                duration = int(rng.lognormvariate(4.4, 0.45) * 1000) if outcome != "abandoned" else rng.randrange(15, 120) * 1000
                yield (t.pk, t.area_id, item_ids[_pick(rng, item_cum)], outcome, duration, started, d)


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    import bisect

    return bisect.bisect_left(cumulative, rng.random() * cumulative[-1])


def insert(rows: Iterable[tuple], *, chunk: int = 20000) -> int:
    """Insert uses in bulk (one prepared INSERT, many rows): bulk_create spends most of its time
    preparing each value, and these values are plain."""
    table = connection.ops.quote_name(UsageLog._meta.db_table)
    sql = (f"INSERT INTO {table} (terminal_id, area_id, item_id, outcome, duration_ms, started_at, day, ref) "
           f"VALUES (%s, %s, %s, %s, %s, %s, %s, '')")
    adapt_dt, adapt_d = connection.ops.adapt_datetimefield_value, connection.ops.adapt_datefield_value
    n = 0
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append((*row[:5], adapt_dt(row[5]), adapt_d(row[6])))
            if len(batch) >= chunk:
                with transaction.atomic():
                    cursor.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            with transaction.atomic():
                cursor.executemany(sql, batch)
            n += len(batch)
    return n
