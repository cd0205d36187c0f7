"""The cockpit at scale: the city's year from the roll-ups against the naive aggregate over the
raw rows, in the same run (issue 16).

    uv run python bench/bench_cockpit.py --n 1000000                         # SQLite: generate, then time
    BIANMIN_VAR=/work/var/figures2/bench1m-sqlite uv run python bench/bench_cockpit.py --data   # time kept data
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/figures2 BIANMIN_VAR=… uv run python bench/bench_cockpit.py --data

What it times (in process; medians and p95 over --reps calls):
- ``cockpit()`` for the city over the last 365 days and over the calendar year to date (totals,
  13 districts, the monthly series, the 186 townships ranked, the live overdue counts), and the
  whole page through Django's test client (log-in as a city admin, template, ~800 links);
- the same for a district and a township;
- the naive aggregate: ``naive_counts()`` — only the cockpit's *totals* counted from the raw rows
  by the cohort rules (one query per figure), --naive-reps times. The cockpit computes far more
  (children, series, rankings), so the ratio understates the gain.
Wall times on a shared, loaded machine mostly measure the wait for a core, so it also reports
what one call costs whatever the load: its CPU time (``time.process_time``, this process only:
SQLite runs in it, PostgreSQL's server does not), its statements, the roll-up rows those
statements read (counted with the same conditions) and the Python function calls (cProfile).
It checks that the cockpit's totals equal the naive ones.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rates import pct  # noqa: E402  (the same percentile as the rates bench)


def timed(fn, reps: int) -> tuple[list[float], list[float], object]:
    """Wall and CPU milliseconds of each call, and the last result."""
    wall, cpu, result = [], [], None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return wall, cpu, result


def costs(fn) -> dict:
    """Statements, roll-up rows read and Python calls of one call of ``fn``."""
    from django.db import connection

    from bianmin.figures import rollups

    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper, not CaptureQueriesContext: a test-client request resets the query log.
    with connection.execute_wrapper(count):
        fn()
    read = {"rows": 0}
    original = rollups._read

    def counting(tables, cond, params, keys, start, end, *, per, unique, fields=rollups.FIELDS):
        read["rows"] += _rows_read(tables, cond, params, start, end, per)
        return original(tables, cond, params, keys, start, end, per=per, unique=unique, fields=fields)

    rollups._read = counting
    try:
        fn()
    finally:
        rollups._read = original
    profile = cProfile.Profile()
    profile.enable()
    fn()
    profile.disable()
    return {"queries": len(statements), "rows": read["rows"], "calls": pstats.Stats(profile).total_calls}


def _rows_read(tables, cond, params, start, end, per) -> int:
    """The roll-up rows a read's statement goes through: its month rows and day rows."""
    from django.db import connection

    from bianmin.figures.rollups import pieces

    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datefield_value
    day_model, month_model = tables
    months, add, sub = pieces(start, end, days_only=per == "day")
    n = 0
    with connection.cursor() as cursor:
        if months:
            cursor.execute(f"SELECT COUNT(*) FROM {qn(month_model._meta.db_table)} WHERE {cond} AND "
                           f"{qn('month')} >= %s AND {qn('month')} <= %s", [*params, adapt(months[0]), adapt(months[1])])
            n += cursor.fetchone()[0]
        for lo, hi in add + sub:
            cursor.execute(f"SELECT COUNT(*) FROM {qn(day_model._meta.db_table)} WHERE {cond} AND "
                           f"{qn('day')} >= %s AND {qn('day')} <= %s", [*params, adapt(lo), adapt(hi)])
            n += cursor.fetchone()[0]
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--data", action="store_true", help="use the data already in BIANMIN_VAR / DATABASE_URL")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--naive-reps", type=int, default=1)
    parser.add_argument("--places", default="city,city-year,district,township",
                        help="which rows to run (comma-separated): city, city-year, district, township")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bianmin.core.capabilities import Cap
    from bianmin.core.principal import Grant, Principal
    from bianmin.figures.cockpit import Place, cockpit
    from bianmin.figures.cohorts import Where
    from bianmin.figures.models import AreaDailyRollup, AreaMonthlyRollup, DailyRollup, MonthlyRollup
    from bianmin.figures.selectors import naive_counts
    from bianmin.regions.models import Area

    if not args.data:
        call_command("migrate", verbosity=0)
        call_command("load_areas", verbosity=0)
        from bianmin.demo.scale import generate

        t0 = time.monotonic()
        counts = generate(args.n, days=365, chunk=50_000)
        print(f"generated {args.n:,} cases in {time.monotonic() - t0:,.0f} s: {counts}", flush=True)
    else:
        call_command("migrate", verbosity=0)  # a kept database made by an older revision (0003 derives the areas' rows)
        if not DailyRollup.objects.exists() or not MonthlyRollup.objects.exists():
            from bianmin.figures.rollups import rebuild

            t0 = time.monotonic()
            print(f"rebuilt {rebuild():,} day rows in {time.monotonic() - t0:,.0f} s", flush=True)
    from bianmin.evaluations.models import Evaluation

    n_ev = Evaluation.objects.count()
    print(f"engine: {connection.vendor}; {n_ev:,} evaluations; roll-up rows: {DailyRollup.objects.count():,} slice-days, "
          f"{MonthlyRollup.objects.count():,} slice-months, {AreaDailyRollup.objects.count():,} area-days, "
          f"{AreaMonthlyRollup.objects.count():,} area-months; load average {os.getloadavg()[0]:.2f}", flush=True)
    today = timezone.localdate()
    city = Area.objects.get(level="city")
    actor = Principal(label="bench", grants=[Grant(path=city.path, capabilities=frozenset({Cap.VIEW}))])
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user = User.objects.filter(username="bench_city").first() or User.objects.create_superuser(
        "bench_city", password="Bench@2026-long-enough")
    from bianmin.accounts.models import RoleAssignment

    RoleAssignment.objects.get_or_create(user=user, role="city_admin", area=city)
    client = Client()
    client.force_login(user)
    district = Area.objects.get(code="350102000000")
    town = Area.objects.get(code="350102001000")
    cases = [("city", "city 福州市", city, today - timedelta(days=364)),
             ("city-year", "city 福州市 (calendar year)", city, today.replace(month=1, day=1)),
             ("district", "district 鼓楼区", district, today - timedelta(days=364)),
             ("township", "township 鼓东街道", town, today - timedelta(days=364))]
    wanted = set(args.places.split(","))
    print()
    print("| place | period | cockpit p50 / p95 (ms) | cockpit CPU p50 (ms) | page p50 / p95 (ms) | page CPU p50 (ms) "
          "| naive totals (ms) | naive ÷ page p95 | naive ÷ page p50 | queries (cockpit / page) | roll-up rows read "
          "| Python calls (cockpit / page) | same totals | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for key, label, area, start in cases:
        if key not in wanted:
            continue
        place = Place(area)
        url = f"/figures/?area={area.code}&from={start}&to={today}"

        def build(p=place, s=start):
            return cockpit(actor=actor, place=p, start=s, end=today)

        def page(u=url):
            return client.get(u)

        build()
        assert page().status_code == 200  # warm: templates, the calendar, the plan cache
        fast, fast_cpu, c = timed(build, args.reps)
        pages, page_cpu, resp = timed(page, args.reps)
        assert resp.status_code == 200, resp.status_code
        built, viewed = costs(build), costs(page)
        slow, _slow_cpu, naive = timed(lambda a=area, s=start: naive_counts(Where(a.path), s, today), args.naive_reps)
        same = all(c.counts.get(k) == v for k, v in naive.items() if k in c.counts)
        worst = max(worst, pct(fast, 95), pct(pages, 95))
        print(f"| {label} | {start} – {today} | {statistics.median(fast):.1f} / {pct(fast, 95):.1f} | "
              f"{statistics.median(fast_cpu):.1f} | {statistics.median(pages):.1f} / {pct(pages, 95):.1f} | "
              f"{statistics.median(page_cpu):.1f} | {statistics.median(slow):,.0f} | "
              f"{statistics.median(slow) / pct(pages, 95):,.0f}× | {statistics.median(slow) / statistics.median(pages):,.0f}× | "
              f"{built['queries']} / {viewed['queries']} | {built['rows']:,} | {built['calls']:,} / {viewed['calls']:,} | "
              f"{'yes' if same else 'NO'} | {os.getloadavg()[0]:.1f} |", flush=True)
    print(f"\nworst p95 (cockpit or page): {worst:.1f} ms (target < 200 ms); load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
