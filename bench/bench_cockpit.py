"""The cockpit at scale: the city's year from the roll-ups against the naive aggregate over the
raw rows, in the same run (issue 16).

    uv run python bench/bench_cockpit.py --n 1000000                         # SQLite: generate, then time
    BIANMIN_VAR=/work/var/figures/bench1m-sqlite uv run python bench/bench_cockpit.py --data   # time kept data
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/figures BIANMIN_VAR=… uv run python bench/bench_cockpit.py --data

What it times (in process; medians and p95 over --reps calls):
- ``cockpit()`` for the city over the last 365 days and over the calendar year to date (totals,
  13 districts, the monthly series, the townships' ranking, the live overdue counts), and the
  whole page through Django's test client (log-in as a city admin, template, links);
- the same for a district and a township;
- the naive aggregate: ``naive_counts()`` — only the cockpit's *totals* counted from the raw rows
  by the cohort rules (one query per figure), --naive-reps times. The cockpit computes far more
  (children, series, rankings), so the ratio understates the gain.
It checks that the cockpit's totals equal the naive ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rates import pct, timed  # noqa: E402  (the same percentile and timing as the rates bench)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--data", action="store_true", help="use the data already in BIANMIN_VAR / DATABASE_URL")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--naive-reps", type=int, default=1)
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
    from bianmin.figures.models import DailyRollup, MonthlyRollup
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
        call_command("migrate", verbosity=0)  # a kept database made by an older revision
        if not DailyRollup.objects.exists() or not MonthlyRollup.objects.exists():
            from bianmin.figures.rollups import rebuild

            t0 = time.monotonic()
            print(f"rebuilt {rebuild():,} day rows in {time.monotonic() - t0:,.0f} s", flush=True)
    from bianmin.evaluations.models import Evaluation

    n_ev = Evaluation.objects.count()
    print(f"engine: {connection.vendor}; {n_ev:,} evaluations; roll-up rows: {DailyRollup.objects.count():,} days, "
          f"{MonthlyRollup.objects.count():,} months; load average {os.getloadavg()[0]:.2f}", flush=True)
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
    cases = [("city 福州市", city, today - timedelta(days=364)), ("city 福州市 (calendar year)", city, today.replace(month=1, day=1)),
             ("district 鼓楼区", district, today - timedelta(days=364)), ("township 鼓东街道", town, today - timedelta(days=364))]
    print()
    print("| place | period | cockpit p50 / p95 (ms) | page p50 / p95 (ms) | naive totals p50 (ms) | naive ÷ page p95 | same totals |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for label, area, start in cases:
        place = Place(area)
        fast, c = timed(lambda p=place, s=start: cockpit(actor=actor, place=p, start=s, end=today), args.reps)
        page, resp = timed(lambda a=area, s=start: client.get(f"/figures/?area={a.code}&from={s}&to={today}"), args.reps)
        assert resp.status_code == 200, resp.status_code
        slow, naive = timed(lambda a=area, s=start: naive_counts(Where(a.path), s, today), args.naive_reps)
        same = all(c.counts.get(k) == v for k, v in naive.items() if k in c.counts)
        worst = max(worst, pct(fast, 95), pct(page, 95))
        print(f"| {label} | {start} – {today} | {statistics.median(fast):.1f} / {pct(fast, 95):.1f} | "
              f"{statistics.median(page):.1f} / {pct(page, 95):.1f} | {statistics.median(slow):,.0f} | "
              f"{statistics.median(slow) / pct(page, 95):,.0f}× | {'yes' if same else 'NO'} |", flush=True)
    print(f"\nworst p95 (cockpit or page): {worst:.1f} ms (target < 200 ms); load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
