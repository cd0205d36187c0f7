"""The rate figures at scale: the daily roll-ups against the naive aggregate, in the same run.

    uv run python bench/bench_rates.py                          # SQLite, N = 2,000,000
    uv run python bench/bench_rates.py --n 10000000 --reps 30 --naive-reps 2 --naive-year-reps 1 \
        --naive-year-city-only --ledgers --keep                 # the issue's 10 million (25 minutes of loading here)
    uv run python bench/bench_rates.py --data /tmp/bench-rates-…/var --ledgers   # time again on kept data
    uv run python bench/bench_rates.py --db postgres --n 5000000 --naive-year-city-only --ledgers

What it does:
1. a fresh temporary var folder (and, with --db postgres, a throwaway cluster made as .ci/run does,
   removed at the end unless --keep); migrates; loads the city's areas (--data: data already there);
2. writes N completed cases over a year with their evaluations, bad-review handlings,
   rectifications, follow-ups and appeals through ``bianmin.demo.scale.generate`` (the
   generator behind ``bianmin demo --scale N``, which counts the roll-ups while loading); prints
   the time, rows/s, peak RSS and the load average (--rebuild: also a full ``rebuild`` on its own);
3. for the city, a district (鼓楼区) and a township (鼓东街道), over the last month and the last year:
   p50/p95 of ``rates_for`` (roll-ups) over --reps calls and of ``rates_for_naive`` (the aggregate
   over the raw rows, what the page did before) over --naive-reps calls (--naive-year-reps for the
   year; at 10M one call takes minutes, --naive-year-city-only keeps the city's year alone), and
   their ratio; and the whole rates page's work (``rates_by_area``: the area and each area directly
   below it, one grouped scan) from the roll-ups;
4. checks that both give the same figures; --ledgers then runs bench_ledgers.py on the same data.

In process (no HTTP): this measures the figures, not the server (bench/load.py does the server).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def timed(fn, reps: int) -> tuple[list[float], object]:
    out, result = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="办件数（约等于评价数）")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--naive-reps", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="保留临时数据目录（PostgreSQL：集群保持运行）")
    parser.add_argument("--rebuild", action="store_true", help="另计一次 rebuild_rollups 全量重算的耗时（10M 时很慢）")
    parser.add_argument("--data", help="已有数据的目录（--keep 保留的 var 目录）：跳过生成，只计时（SQLite）")
    parser.add_argument("--naive-year-reps", type=int, help="全年朴素聚合的次数（默认同 --naive-reps；10M 时一次数分钟）")
    parser.add_argument("--naive-year-city-only", action="store_true", help="全年朴素聚合只算全市一次")
    parser.add_argument("--ledgers", action="store_true", help="之后在同一数据上运行 bench_ledgers（台账分页与导出）")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-rates-"))
    os.environ["BIANMIN_VAR"] = args.data or str(root / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bianmin.settings"
    pg = None
    try:
        if args.db == "postgres":
            from load import Postgres, port_free

            pg = Postgres()
            pg.port = next((p for p in range(8180, 8190) if port_free(p)), pg.port)  # this bench's port range
            os.environ["DATABASE_URL"] = pg.start()
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from bianmin.core.capabilities import Cap
        from bianmin.core.principal import Grant, Principal
        from bianmin.demo.scale import generate
        from bianmin.figures.rollups import rebuild
        from bianmin.figures.selectors import rates_by_area, rates_for, rates_for_naive
        from bianmin.regions.models import Area

        if args.data:
            print(f"engine: {connection.vendor}; data of {args.data} (not generated in this run)", flush=True)
            args.rebuild = False
        else:
            call_command("migrate", verbosity=0)
            call_command("load_areas", verbosity=0)
            print(f"engine: {connection.vendor}; N = {args.n:,} cases over {args.days} days", flush=True)

        if not args.data:
            t0 = time.monotonic()

            def progress(done, total):
                el = time.monotonic() - t0
                sys.stderr.write(f"\r  {done:,}/{total:,} cases  {done / el:,.0f}/s  {el:,.0f} s")
                sys.stderr.flush()

            counts = generate(args.n, days=args.days, chunk=args.chunk, progress=progress)
            sys.stderr.write("\n")
            gen_s = time.monotonic() - t0
            print(f"generated in {gen_s:,.0f} s (roll-ups counted while loading, indexes rebuilt): "
                  + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows_written = sum(v for k, v in counts.items() if k not in ("active", "default", "bad", "excluded"))
            print(f"rows written {rows_written:,} ({rows_written / gen_s:,.0f} rows/s, {args.n / gen_s:,.0f} cases/s); "
                  f"peak RSS {rss:,.0f} MB; load average {os.getloadavg()[0]:.2f}", flush=True)
            if args.rebuild:
                t1 = time.monotonic()
                rows = rebuild()
                print(f"rebuild_rollups alone: {time.monotonic() - t1:,.1f} s, {rows:,} rows", flush=True)

        today = timezone.localdate()
        city = Area.objects.get(code="350100000000")
        actor = Principal(label="bench", grants=[Grant(path=city.path, capabilities=frozenset({Cap.VIEW}))])
        areas = [("city 福州市", Area.objects.get(code="350100000000")),
                 ("district 鼓楼区", Area.objects.get(code="350102000000")),
                 ("township 鼓东街道", Area.objects.get(code="350102001000"))]
        periods = [("month", today - timedelta(days=30)), ("year", today - timedelta(days=365))]
        print()
        print("| area | period | roll-ups p50 / p95 (ms) | naive p50 / p95 (ms) | naive ÷ roll-ups (p95) | "
              "page from roll-ups p95 (ms) | same figures |")
        print("|---|---|---|---|---|---|---|")
        worst = 0.0
        for label, area in areas:
            children = [c for c in area.children.order_by("code") if c.level in ("district", "township")]
            for pname, start in periods:
                fast, got = timed(lambda a=area, s=start: rates_for(a, s, today), args.reps)
                if pname == "year" and args.naive_year_city_only and label != areas[0][0]:
                    slow, want = None, None  # (10M: minutes a call) the city's year stands for the others
                else:
                    slow, want = timed(lambda a=area, s=start: rates_for_naive(a, s, today),
                                       args.naive_year_reps or args.naive_reps if pname == "year" else args.naive_reps)
                page, _ = timed(lambda a=area, s=start: rates_by_area(actor=actor, area=a, start=s, end=today),
                                args.reps)
                same = "—" if want is None else "yes" if [(r.numerator, r.denominator) for r in got] == [
                    (r.numerator, r.denominator) for r in want] else "NO"
                worst = max(worst, pct(fast, 95), pct(page, 95))
                naive = "not run" if slow is None else f"{statistics.median(slow):.0f} / {pct(slow, 95):.0f}"
                ratio = "—" if slow is None else f"{pct(slow, 95) / pct(fast, 95):,.0f}×"
                print(f"| {label} | {pname} | {statistics.median(fast):.1f} / {pct(fast, 95):.1f} | {naive} | {ratio} | "
                      f"{pct(page, 95):.1f} ({len(children) + 1} areas) | {same} |", flush=True)
        print(f"\nworst p95 from roll-ups (selector or page): {worst:.1f} ms (target < 200 ms); "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        if args.ledgers:
            import bench_ledgers

            bench_ledgers.run(reps=args.reps)
        return 0
    finally:
        if pg and not args.keep:
            pg.stop()
        if args.keep:
            if pg:
                print(f"PostgreSQL still running: {os.environ['DATABASE_URL']} (cluster {pg.root}; stop it with "
                      f"runuser -u postgres -- {pg.bin}/pg_ctl -D {pg.root}/data stop)")
            print(f"data kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
