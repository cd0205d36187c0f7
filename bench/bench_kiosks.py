"""Kiosk usage at scale: logging at the city's peak through the real HTTP API, and the usage
figures over a million logged uses.

    uv run python bench/bench_kiosks.py                          # both parts, SQLite, a fresh temporary var
    uv run python bench/bench_kiosks.py --part figures --uses 1000000
    uv run python bench/bench_kiosks.py --part logging --seconds 30 --workers 2
    uv run python bench/bench_kiosks.py --db postgres            # a throwaway PostgreSQL cluster (as load.py)
    BIANMIN_VAR=/path/kept uv run python bench/bench_kiosks.py --keep   # reuse the data of an earlier run

What it does:
1. prepares (in this process) the demo city's areas and kiosk sites, a 107-item kiosk list and a
   terminal at each of the 230 kiosk sites registered through the service (each with its device
   key), and ``--uses`` logged uses over the last year (bulk insert, the demo's distribution),
   rolled up as the nightly job leaves them;
2. logging (``--part logging``): starts ``bianmin up --no-demo`` on loopback and drives
   ``POST /api/v1/kiosk/terminals/{code}/usage`` as the 230 terminals at their peak: a use per
   second per terminal, 230 requests a second offered on a fixed schedule (open loop: a latency
   counts from the request's scheduled time, no coordinated omission), each with its own ``ref``
   as a terminal sends it; then the same 230 uses a second sent in batches of ten (23 requests a
   second); the trivial endpoint (``GET /api/v1/version``) closed-loop before and after as the
   baseline of this run; prints achieved rate, p50/p95/p99, errors, and uses stored against uses
   accepted;
3. figures (``--part figures``): the usage figures (per day, terminal, item and area) for a city,
   a district and a township user over the last 7 and 30 days, this month, this year and the last
   365 days — the selector, and the area page through Django's test client (selector, template,
   daily chart) — 20 runs each, p50/p95, as a ratio to the smallest (the township's 7 days); and
   the same once more with today's uses not yet rolled up doubled (a busy day read raw).

Loopback only, bounded in time (every phase has its duration, every wait a deadline).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datetime import UTC

from bench_evaluations import run_phase  # noqa: E402  (open-loop phases, percentiles)
from load import HOST, Postgres, free_port, port_free, request  # noqa: E402  (shared server helpers)

TRIVIAL = "/api/v1/version"
TERMINALS = 230
ITEMS = 107


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


# --- data ----------------------------------------------------------------------------------------


def prepare(uses: int) -> dict:
    """Areas, kiosk sites, the item list, 230 terminals (raw keys kept in the var folder for a
    later --keep run) and `uses` logged uses over the year, rolled up."""
    from datetime import date, timedelta

    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from bianmin.catalog.models import Department, StandardItem
    from bianmin.kiosks import scale, services
    from bianmin.kiosks.models import KioskItem, Terminal, UsageLog
    from bianmin.regions.demo import load_demo_sites
    from bianmin.regions.models import Area, ServiceSite

    keys_file = Path(settings.VAR_DIR) / "bench-kiosk-keys.json"
    call_command("migrate", verbosity=0)
    if not Area.objects.exists():
        call_command("load_areas", verbosity=0)
    if not ServiceSite.objects.filter(kind="kiosk").exists():
        load_demo_sites()
    city = Area.objects.get(level="city")
    if not KioskItem.objects.exists():
        dept = Department.objects.create(code="BENCH-KD", name="压测部门", category="劳动保障", area=city)
        sources = ["social_insurance", "household", "property", "medical_insurance", "marriage", "social_insurance"]
        for n in range(ITEMS):
            si = StandardItem.objects.create(code=f"BENCH-K{n:03d}", name=f"压测事项{n:03d}", item_type="public_service",
                                             competent_department=dept, implementing_body="街道", legal_limit_days=0)
            cert = n < len(sources)
            KioskItem.objects.create(standard_item=si, position=n, service="certificate" if cert else "guide",
                                     source=sources[n] if cert else "", certificate_title=si.name if cert else "")
    keys = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    if not Terminal.objects.exists():
        for n, site in enumerate(ServiceSite.objects.filter(kind="kiosk").select_related("area", "parent_site__area")
                                 .order_by("code")[:TERMINALS]):
            t, raw = services.terminal_register(actor=None, site=site, code="T" + site.code[1:], serial=f"BENCH{n:05d}",
                                                model="ZZ-2000", operator="压测", installed_on=date(2019, 9, 1))
            keys[t.code] = raw
        keys_file.write_text(json.dumps(keys))
    have = UsageLog.objects.count()
    if have < uses:
        today = timezone.localdate()
        now = timezone.now()
        terminals = list(Terminal.objects.order_by("code"))
        items = list(KioskItem.objects.order_by("position"))
        started = time.monotonic()
        rows = scale.generate(terminals=terminals, items=items, start=today - timedelta(days=365), end=today,
                              total=uses - have, seed=have + 1)
        n = scale.insert(r for r in rows if r[5] <= now)
        print(f"  写入使用记录 {n:,} 条（{time.monotonic() - started:.0f} 秒）", flush=True)
    started = time.monotonic()
    rolled = services.usage_rollup()
    print(f"  汇总：{rolled}（{time.monotonic() - started:.1f} 秒）", flush=True)
    return keys


# --- part 1: logging at the peak ------------------------------------------------------------------


def logging_part(args, env: dict, keys: dict) -> dict:
    from bianmin.kiosks.models import KioskItem, UsageLog

    item_codes = list(KioskItem.objects.values_list("standard_item__code", flat=True))
    before = UsageLog.objects.count()
    port = args.port if port_free(args.port) else free_port()
    log = Path(env["BIANMIN_VAR"]) / "server.log"
    server = None
    try:
        with open(log, "ab") as fh:
            server = subprocess.Popen([sys.executable, "-m", "bianmin.cli", "up", "--no-demo", "--no-worker", "--host",
                                       HOST, "--port", str(port), "--workers", str(args.workers)], env=env, stdout=fh,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while request("GET", port, "/healthz")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"服务未能启动：{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        for _ in range(4):
            request("GET", port, TRIVIAL)
        codes = sorted(keys)
        turn = iter(range(10**9))
        lock = threading.Lock()

        def next_terminal() -> tuple[str, str]:
            with lock:
                i = next(turn)
            code = codes[i % len(codes)]
            return code, keys[code]

        def use(i: int) -> dict:
            from datetime import datetime

            return {"item_code": item_codes[i % len(item_codes)], "outcome": "success" if i % 10 else "abandoned",
                    "duration_ms": 30000 + (i * 7919) % 120000,
                    "started_at": datetime.now(UTC).isoformat(), "ref": uuid.uuid4().hex}

        def one():
            code, raw = next_terminal()
            body = json.dumps({"uses": [use(hash(code))]}).encode()
            return "POST", f"/api/v1/kiosk/terminals/{code}/usage", body, {
                "Authorization": f"Bearer {raw}", "Content-Type": "application/json"}

        def batch():
            code, raw = next_terminal()
            body = json.dumps({"uses": [use(hash(code) + k) for k in range(10)]}).encode()
            return "POST", f"/api/v1/kiosk/terminals/{code}/usage", body, {
                "Authorization": f"Bearer {raw}", "Content-Type": "application/json"}

        def trivial():
            return "GET", TRIVIAL, None, {}

        print(f"\n记录压测：{args.seconds:.0f} 秒/阶段，{args.clients} 个连接，{args.workers} 个工作进程；"
              f"负载 {os.getloadavg()[0]:.1f}", flush=True)
        t1 = run_phase("trivial", port, args.seconds, 8, trivial)
        single = run_phase("每次1条·230/s", port, args.seconds, args.clients, one, rate=float(TERMINALS))
        batched = run_phase("每次10条·23/s", port, args.seconds, max(4, args.clients // 4), batch, rate=TERMINALS / 10)
        closed = run_phase("每次1条·满负荷", port, args.seconds, 8, one)
        t2 = run_phase("trivial", port, args.seconds, 8, trivial)
        stored = UsageLog.objects.count() - before
        accepted = (single.statuses.get(201, 0) + closed.statuses.get(201, 0)) + 10 * batched.statuses.get(201, 0)
        print(f"\n{'阶段':<16}{'请求':>8}{'5xx':>6}{'其他':>6}{'req/s':>9}{'uses/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
        for p, per in ((t1, 0), (single, 1), (batched, 10), (closed, 1), (t2, 0)):
            other = p.requests - p.count(200, 299) - p.count(500, 599)
            print(f"{p.name:<16}{p.requests:>8}{p.count(500, 599):>6}{other:>6}{p.rps:>9.1f}{p.rps * per:>9.1f}"
                  f"{p.pct(50):>9.1f}{p.pct(95):>9.1f}{p.pct(99):>9.1f}")
        baseline = (t1.rps + t2.rps) / 2
        locked = log.read_text(errors="replace").count("database is locked")
        print(f"\n满负荷记录吞吐 / 简单接口吞吐：{closed.rps / baseline * 100:.1f}%（{closed.rps:.0f} / {baseline:.0f} req/s）")
        print(f"定速 230/s：达到 {single.rps:.1f} req/s，p95 {single.pct(95):.1f} ms；批量：{batched.rps * 10:.1f} uses/s，"
              f"p95 {batched.pct(95):.1f} ms")
        print(f"受理的使用记录 {accepted}，入库 {stored}：{'一致' if accepted == stored else '不一致！'}；"
              f"\"database is locked\"：{locked}")
        return {"single": single, "batched": batched, "closed": closed, "baseline": baseline}
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


# --- part 2: the figures -----------------------------------------------------------------------


def figures_part(args) -> float:
    from datetime import timedelta

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bianmin.accounts.models import RoleAssignment, User
    from bianmin.accounts.principals import principal_for_user
    from bianmin.kiosks import scale, selectors
    from bianmin.kiosks.models import KioskItem, Terminal, UsageLog
    from bianmin.regions.models import Area

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    today = timezone.localdate()
    periods = [("近7日", today - timedelta(days=6)), ("近30日", today - timedelta(days=29)),
               ("本月", today.replace(day=1)), ("本年", today.replace(month=1, day=1)),
               ("近365日", today - timedelta(days=364))]
    users = []
    for label, code, role in (("市 福州市", "350100000000", "city_admin"), ("区 鼓楼区", "350102000000", "district_admin"),
                              ("街道 鼓东街道", "350102001000", "center_manager")):
        user, created = User.objects.get_or_create(username=f"bench-kiosk-{code}", defaults={"display_name": "基准测试"})
        if created:
            RoleAssignment.objects.create(user=user, role=role, area=Area.objects.get(code=code))
        users.append((label, code, user))
    total = UsageLog.objects.count()

    def measure(title: str) -> dict:
        print(f"\n{title}：使用记录 {UsageLog.objects.count():,} 条；{connection.vendor}；负载 {os.getloadavg()[0]:.1f}；"
              f"每项 {args.reps} 次")
        print("| 用户 | 期间 | 使用次数 | 统计（selector）p50 / p95 ms | 页面 p50 / p95 ms |")
        print("|---|---|---|---|---|")
        out = {}
        for label, code, user in users:
            actor = principal_for_user(user)
            area = Area.objects.get(code=code)
            client = Client()
            client.force_login(user)
            for pname, start in periods:
                times, page_times = [], []
                f = selectors.usage_figures(actor=actor, area=area, start=start, end=today)  # warm
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    f = selectors.usage_figures(actor=actor, area=area, start=start, end=today)
                    times.append((time.perf_counter() - t0) * 1000)
                url = f"/kiosks/areas/{code}/?start={start}&end={today}"
                client.get(url)
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    r = client.get(url)
                    page_times.append((time.perf_counter() - t0) * 1000)
                    if r.status_code != 200:
                        sys.exit(f"{url}: HTTP {r.status_code}")
                out[(label, pname)] = (pct(times, 95), pct(page_times, 95))
                print(f"| {label} | {pname} | {f.totals['uses']:,} | {statistics.median(times):.1f} / {pct(times, 95):.1f} | "
                      f"{statistics.median(page_times):.1f} / {pct(page_times, 95):.1f} |")
        base = out[(users[-1][0], "近7日")][1]
        worst = max(v[1] for v in out.values())
        worst_sel = max(v[0] for v in out.values())
        print(f"最慢：统计 p95 {worst_sel:.1f} ms，页面 p95 {worst:.1f} ms（基准：街道近7日页面 p95 {base:.1f} ms，"
              f"最慢为其 {worst / base:.1f} 倍）；目标 p95 < 200 ms：{'达到' if worst < 200 else '未达到'}")
        return {"worst": worst, "worst_selector": worst_sel}

    result = measure(f"使用统计（{total:,} 条记录，已按夜间任务汇总）")
    # A busy day not rolled up yet: today's uses read raw.
    today_count = UsageLog.objects.filter(day=today).count()
    extra = max(today_count, 3000)
    now = timezone.now()
    rows = scale.generate(terminals=list(Terminal.objects.all()), items=list(KioskItem.objects.all()), start=today,
                          end=today, total=extra * 2, seed=99)
    scale.insert(r for r in rows if r[5] <= now)
    measure(f"同上，另有今日未汇总的使用 {UsageLog.objects.filter(day=today).count():,} 条（按原始记录读取）")
    return result["worst"]


def main() -> int:
    parser = argparse.ArgumentParser(description="自助终端：高峰时段使用记录写入与百万条使用统计")
    parser.add_argument("--part", choices=["both", "logging", "figures"], default="both")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--uses", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--port", type=int, default=8162)
    parser.add_argument("--keep", action="store_true", help="使用 BIANMIN_VAR 中已有的数据，结束后保留")
    args = parser.parse_args()

    root = Path(os.environ["BIANMIN_VAR"]) if args.keep and os.environ.get("BIANMIN_VAR") else \
        Path(tempfile.mkdtemp(prefix="bianmin-bench-kiosk-")) / "var"
    root.mkdir(parents=True, exist_ok=True)
    os.environ.update(BIANMIN_VAR=str(root), DJANGO_SETTINGS_MODULE="bianmin.settings", BIANMIN_LOG_LEVEL="WARNING")
    pg = None
    try:
        if args.db == "postgres" and not os.environ.get("DATABASE_URL"):
            pg = Postgres()
            os.environ["DATABASE_URL"] = pg.start()
        import django

        django.setup()
        print(f"准备数据（{args.db}，{args.uses:,} 条使用记录）……", flush=True)
        keys = prepare(args.uses if args.part != "logging" else 0)
        if args.part in ("both", "logging"):
            logging_part(args, dict(os.environ), keys)
        if args.part in ("both", "figures"):
            figures_part(args)
        return 0
    finally:
        if pg is not None:
            pg.stop()
        if not args.keep:
            shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
