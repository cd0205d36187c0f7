"""Creating a city-wide inspection cycle and drawing its sample with a million cases in the database.

    uv run python bench/bench_inspections.py                       # SQLite, N = 1,000,000 cases
    uv run python bench/bench_inspections.py --keep                # keep the data to time again
    uv run python bench/bench_inspections.py --data /tmp/bench-inspections-…/var --reps 7
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/inspections_bench uv run python bench/bench_inspections.py

What it does:
1. a fresh temporary var folder (or --data: one kept before; with DATABASE_URL that database,
   emptied first unless --data); migrates; loads the city's areas and the demo sites and catalog
   (so the draw sees the demo city's 173 centers and 69 stations);
2. writes N completed cases over a year through ``bianmin.demo.scale.generate`` (the
   generator behind ``bianmin demo --scale N``) unless they are there;
3. times, --reps times each (median and max, wall and CPU):
   - baseline: ``SELECT COUNT(*)`` of the cases table (one pass over the table's smallest index) —
     the cost of touching every case once, which a draw must not need;
   - ``cycle_create`` + ``cycle_sample`` of a city-wide cycle (13 districts, centers and stations,
     3 sites per district, 5 finished dossiers per site, the window the two months before the
     cycle's start): what the scheduled job does every two months; a new seed each time;
   - ``sample_verify``: drawing again from the recorded seed and rule (the reproducibility check);
4. --writers: the same while a thread writes finished cases at full speed (they land after the
   cut-off and above the recorded id bound: the recorded sample must equal the redraw).
The target is under 10 s on SQLite for create + draw."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def timed(fn, reps: int):
    wall, cpu, result = [], [], None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, result


def line(label: str, wall: list[float], cpu: list[float], base: float) -> str:
    med = statistics.median(wall)
    return (f"| {label} | {med:.3f} | {max(wall):.3f} | {statistics.median(cpu):.3f} | "
            f"{med / base:,.1f}× |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="办件数")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--data", help="已有数据的 var 目录（--keep 保留的）：跳过生成")
    parser.add_argument("--keep", action="store_true", help="保留临时数据目录")
    parser.add_argument("--writers", action="store_true", help="抽样时另有线程持续写入办结办件")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-inspections-"))
    os.environ["BIANMIN_VAR"] = args.data or str(root / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bianmin.settings"
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from bianmin.cases.models import Case
        from bianmin.core.principal import Grant, Principal
        from bianmin.inspections import sampling, selectors, services
        from bianmin.inspections.defaults import DEFAULT_CODE, DEFAULT_ITEMS, DEFAULT_NAME
        from bianmin.regions.models import Area

        if not args.data:
            if connection.vendor == "postgresql":
                call_command("flush", interactive=False, verbosity=0)
            call_command("migrate", verbosity=0)
            call_command("load_areas", verbosity=0)
            from bianmin.catalog.demo import load_demo_catalog
            from bianmin.regions.demo import load_demo_sites

            load_demo_sites()
            load_demo_catalog()
        have = Case.objects.count()
        print(f"engine: {connection.vendor}; cases already there: {have:,}; load average {os.getloadavg()[0]:.2f}",
              flush=True)
        if have < args.n:
            from bianmin.demo.scale import generate

            t0 = time.monotonic()

            def progress(done, total):
                sys.stderr.write(f"\r  {done:,}/{total:,} cases  {done / (time.monotonic() - t0):,.0f}/s")
                sys.stderr.flush()

            counts = generate(args.n - have, days=args.days, chunk=args.chunk, progress=progress)
            sys.stderr.write("\n")
            print(f"generated {counts.get('cases', args.n - have):,} cases in {time.monotonic() - t0:,.0f} s; "
                  f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB", flush=True)
        city = Area.objects.get(code="350100000000")
        districts = list(city.children.filter(level="district").order_by("code").values_list("code", flat=True))
        actor = Principal(label="bench", grants=[Grant(path=city.path, capabilities=frozenset({"inspect", "view"}))])
        template = services.template_latest(DEFAULT_CODE) or services.template_version_create(
            actor=actor, area=city, code=DEFAULT_CODE, name=DEFAULT_NAME, items=DEFAULT_ITEMS)
        today = timezone.localdate()
        start, end, _n = services.period_of(today, 2)
        seeds = iter(range(10_000, 20_000))

        def create_and_draw():
            cycle = services.cycle_create(
                actor=actor, area=city, title="基准测试周期", period_start=start, period_end=end, template_id=template.pk,
                district_codes=districts, site_kinds=["center", "station"], sites_per_district=3, cases_per_site=5,
                seed=next(seeds))
            return services.cycle_sample(actor=actor, cycle_id=cycle.pk)

        in_window = Case.objects.filter(state="completed", completed_at__gte=services._start_of(
            services.period_before(start, end)), completed_at__lt=services._start_of(start)).count()
        print(f"N = {Case.objects.count():,} cases; {in_window:,} finished in the window before {start} "
              f"(the draw's candidates); {len(districts)} districts", flush=True)
        base_wall, base_cpu, _ = timed(lambda: Case.objects.count(), args.reps)
        base = statistics.median(base_wall)
        print()
        print("| step | median s | max s | median CPU s | × baseline |")
        print("|---|---:|---:|---:|---:|")
        print(line("baseline: COUNT(*) of cases", base_wall, base_cpu, base))
        wall, cpu, cycle = timed(create_and_draw, args.reps)
        print(line("create + draw a city-wide cycle", wall, cpu, base), flush=True)
        sites = cycle.sites.count()
        drawn = sum(s.cases.count() for s in cycle.sites.all())
        vwall, vcpu, same = timed(lambda: selectors.sample_verify(cycle=cycle), args.reps)
        print(line("verify (draw again from seed and rule)", vwall, vcpu, base))
        print(f"\nsample: {sites} sites, {drawn} dossiers; redraw equal: {same}; "
              f"create + draw median {statistics.median(wall):.2f} s (target < 10 s on SQLite); "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        if args.writers:
            _with_writers(create_and_draw, sampling, selectors)
        return 0
    finally:
        if args.keep and not args.data:
            print(f"data kept in {root}")
        elif not args.data:
            shutil.rmtree(root, ignore_errors=True)


def _with_writers(create_and_draw, sampling, selectors) -> None:
    """Draw while a thread writes finished cases; the recorded sample must be the redraw."""
    from django.db import connection
    from django.utils import timezone

    from bianmin.cases.models import Case

    stop, written = threading.Event(), [0]

    def writer():
        try:
            template = Case.objects.filter(state="completed").order_by("-pk").first()
            while not stop.is_set():
                now = timezone.now()
                Case.objects.bulk_create([Case(
                    item_id=template.item_id, site_id=template.site_id, received_site_id=template.site_id,
                    state="completed", applicant_kind="person", applicant_name="并发写入", mobile="13800000000",
                    legal_limit_days=20, promised_limit_days=10, submitted_at=now, accepted_at=now,
                    accepted_on=now.date(), completed_at=now, completed_on=now.date(), result="approved")
                    for _ in range(50)])
                written[0] += 50
        finally:
            connection.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        t0 = time.perf_counter()
        cycle = create_and_draw()
        took = time.perf_counter() - t0
    finally:
        stop.set()
        t.join()
    same = selectors.sample_verify(cycle=cycle)
    print(f"with a writer: create + draw {took:.2f} s while {written[0]:,} cases were written; "
          f"redraw equal: {same}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
