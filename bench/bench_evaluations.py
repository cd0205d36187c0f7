"""Evaluation submissions through the real HTTP API against `bianmin up`, with a trivial endpoint
of the same server in the same run as the baseline.

    uv run python bench/bench_evaluations.py                    # SQLite, 3 rounds of 10 s phases, 8 connections
    uv run python bench/bench_evaluations.py --db postgres      # a throwaway PostgreSQL cluster (fsync on)
    uv run python bench/bench_evaluations.py --seconds 10 --clients 8 --workers 2 --port 8161

What it does:
1. a fresh temporary var folder (and, with --db postgres, a cluster made with initdb as .ci/run
   does, removed at the end); migrates; prepares through ``bianmin manage shell`` the demo
   city's areas, one center with a window and an item, ``--cases`` completed cases (bulk insert:
   this measures evaluations, not intake) each with its own phone, and a kiosk key;
2. starts ``bianmin up --no-demo`` (gunicorn, ``--workers`` sync workers) on loopback;
3. drives, for ``--seconds`` each, alternating (T E T E … T, ``--rounds`` evaluation phases): the
   trivial endpoint (``GET /api/v1/version``) and
   ``POST /api/v1/evaluations/kiosk`` (the full rule: key, scoped case lookup, phone check, rate
   limit and flag queries, the evaluation, its audit row, its roll-up, the provincial report in
   the outbox); ``--clients`` threads, one request per connection (gunicorn's sync workers
   close them);
4. prints per phase: requests, 5xx, other errors, throughput, p50/p99; each round's evaluation
   throughput as a share of the trivial endpoint's (mean of the trivial phases either side) and
   their median; the mean-latency floor N clients ÷ throughput (Little's law); "database is locked" seen
   in responses or the server log; and accepted (201) responses against stored rows (clients stop
   at the cut-off and wait for their request in flight, so the two must be equal; a client-side
   time-out is reported as in flight).

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import HOST, Postgres, free_port, port_free, request  # noqa: E402  (shared server helpers)

TRIVIAL = "/api/v1/version"
TARGET = "/api/v1/evaluations/kiosk"

SETUP = r"""
import json, secrets
from django.core.management import call_command
from django.utils import timezone
from bianmin.accounts.models import ApiKey
from bianmin.regions.models import Area, ServiceSite, Window
from bianmin.catalog.models import Department, Item, StandardItem
from bianmin.cases.models import Case

call_command("load_areas", verbosity=0)
N = int(__N__)
town = Area.objects.get(code="350102001000")
site = ServiceSite.objects.create(code="BENCH-C", name="压测便民服务中心", kind="center", area=town)
window = Window.objects.create(site=site, number="1", name="综合受理")
dept = Department.objects.create(code="BENCH-D", name="压测部门", category="民政", area=town)
si = StandardItem.objects.create(code="BENCH-0001", name="压测事项", item_type="benefit", competent_department=dept,
                                 implementing_body="街道办事处", legal_limit_days=20)
item = Item.objects.create(standard_item=si, area=town, site=site, promised_limit_days=10, implementation_code="BENCH-I")
now = timezone.now()
rows = []
for i in range(N):
    rows.append(Case(item=item, site=site, received_site=site, window=window, state="completed", result="approved",
                     acceptance_number=f"BENCH-{i:07d}", applicant_kind="person", applicant_name="测试",
                     id_number="", mobile=f"139{i:08d}", legal_limit_days=20, promised_limit_days=10,
                     submitted_at=now, accepted_at=now, accepted_on=now.date(), completed_at=now, completed_on=now.date(),
                     visit_count=1))
Case.objects.bulk_create(rows, batch_size=2000)
raw = "bench-kiosk-" + secrets.token_urlsafe(24)
ApiKey.objects.create(name="压测自助终端", kind="device", prefix=raw[:8], digest=ApiKey.digest_of(raw), area=town,
                      site=site, scopes=["evaluations.kiosk"])
print("SETUP" + json.dumps({"key": raw, "n": N}))
"""

COUNT = r"""
from bianmin.evaluations.models import Evaluation
print("COUNT" + str(Evaluation.objects.count()))
"""


def manage(env: dict, *args: str, timeout: float = 900) -> str:
    proc = subprocess.run([sys.executable, "-m", "bianmin.cli", "manage", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        sys.exit(f"bianmin manage {' '.join(args[:1])} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


class Phase:
    def __init__(self, name: str):
        self.name = name
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.locked = 0
        self.in_flight_lost = 0
        self.elapsed = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))] * 1000

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def count(self, lo: int, hi: int) -> int:
        return sum(n for s, n in self.statuses.items() if lo <= s <= hi)


def run_phase(name: str, port: int, seconds: float, clients: int, make_request, rate: float | None = None) -> Phase:
    """Closed loop (each connection sends its next request when the last one is answered), or with
    ``rate`` paced: the connections together offer ``rate`` requests a second on a fixed schedule,
    and a latency counts from the request's scheduled time, so a request that had to wait for the
    one before it is not left out of the figure (no coordinated omission)."""
    phase = Phase(name)
    lock = threading.Lock()
    begin = time.monotonic()
    stop = begin + seconds
    interval = clients / rate if rate else 0.0

    def client(index: int):
        due = begin + index * interval / clients if rate else 0.0
        while time.monotonic() < stop:
            if rate:
                if due >= stop:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            method, path, body, headers = make_request()
            t0 = time.perf_counter()
            start = t0 - max(0.0, time.monotonic() - due) if rate else t0
            status, data = request(method, port, path, body=body, headers=headers, timeout=30)
            dt = time.perf_counter() - start
            due += interval
            with lock:
                phase.latencies.append(dt)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                if b"database is locked" in data:
                    phase.locked += 1
                if status == 0:
                    phase.in_flight_lost += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    phase.elapsed = time.monotonic() - t0
    return phase


def main() -> int:
    parser = argparse.ArgumentParser(description="好差评评价提交压测（真实 HTTP 接口）")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="评价阶段的轮数（与简单接口阶段交替）")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--cases", type=int, default=40000)
    parser.add_argument("--port", type=int, default=8161)
    parser.add_argument("--no-worker", action="store_true",
                        help="不启动 bianmin up 自带的后台任务进程（省级上报等外发消息不投递）")
    parser.add_argument("--paced", type=float, default=0.5,
                        help="之后以固定速率再测一轮时延：速率 = 本次评价吞吐中位数 × 此比例（0 不测）")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bianmin-bench-eval-"))
    env = dict(os.environ, BIANMIN_VAR=str(root / "var"), DJANGO_SETTINGS_MODULE="bianmin.settings",
               BIANMIN_LOG_LEVEL="WARNING")
    pg = None
    server = None
    try:
        if args.db == "postgres":
            pg = Postgres()  # its own folder under /tmp (the postgres user cannot enter ours)
            env["DATABASE_URL"] = pg.start()
        port = args.port if port_free(args.port) else free_port()
        print(f"准备数据（{args.db}，{args.cases} 件已办结办件）……", flush=True)
        manage(env, "migrate", "--verbosity", "0")
        out = manage(env, "shell", "-c", SETUP.replace("__N__", str(args.cases)))
        setup = json.loads(out[out.index("SETUP") + 5:].strip().splitlines()[0])
        log = root / "server.log"
        with open(log, "ab") as fh:
            server = subprocess.Popen([sys.executable, "-m", "bianmin.cli", "up", "--no-demo", "--host", HOST, "--port",
                                       str(port), "--workers", str(args.workers),
                                       *(["--no-worker"] if args.no_worker else [])], env=env, stdout=fh,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while request("GET", port, "/healthz")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"服务未能启动：{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)

        numbers = iter(range(setup["n"]))
        num_lock = threading.Lock()
        key_header = {"X-Api-Key": setup["key"], "Content-Type": "application/json"}

        def trivial():
            return "GET", TRIVIAL, None, {}

        def evaluation():
            with num_lock:
                i = next(numbers)
            # A realistic mix (demo figures): mostly 非常满意/满意, one in twenty a bad review.
            grade = 1 + (i % 2) if i % 20 == 0 else (5 if i % 4 else 4)
            body = {"acceptance_number": f"BENCH-{i:07d}", "mobile_last4": f"{i:08d}"[-4:], "grade": grade,
                    "reasons": ["slow"] if grade <= 2 else [], "text": "" if i % 3 else f"第{i}号评价：服务规范"}
            return "POST", TARGET, json.dumps(body, ensure_ascii=False).encode(), key_header

        for _ in range(2):  # warm the workers (imports, connections)
            request("GET", port, TRIVIAL)
        print(f"压测：{args.rounds} 轮，每阶段 {args.seconds:.0f} 秒，{args.clients} 个连接，{args.workers} 个工作进程",
              flush=True)
        # Trivial and evaluation phases alternate (T E T E … T): each round's ratio is taken
        # against the mean of the trivial phases just before and after it, so a neighbour's load
        # that comes and goes moves both sides of a ratio; the figure is the median round.
        trivials = [run_phase("trivial", port, args.seconds, args.clients, trivial)]
        evals: list[Phase] = []
        for _ in range(args.rounds):
            evals.append(run_phase("evaluation", port, args.seconds, args.clients, evaluation))
            trivials.append(run_phase("trivial", port, args.seconds, args.clients, trivial))
        paced = None
        if args.paced > 0:
            # Latency at a steady load below saturation: what a citizen at the window sees on an
            # ordinary busy hour, rather than at the throughput limit (where Little's law sets it).
            offered = statistics.median(ev.rps for ev in evals) * args.paced
            paced = run_phase("evaluation·定速", port, args.seconds, args.clients, evaluation, rate=offered)
            paced.offered = offered
        stored = int(manage(env, "shell", "-c", COUNT).split("COUNT")[1].strip())
        log_locked = log.read_text(errors="replace").count("database is locked")

        ratios = [ev.rps / ((trivials[i].rps + trivials[i + 1].rps) / 2) for i, ev in enumerate(evals)]
        pooled = Phase("evaluation")
        for ev in evals:
            pooled.latencies += ev.latencies
            pooled.locked += ev.locked
            pooled.in_flight_lost += ev.in_flight_lost
            pooled.elapsed += ev.elapsed
            for k, v in ev.statuses.items():
                pooled.statuses[k] = pooled.statuses.get(k, 0) + v
        accepted = pooled.statuses.get(201, 0) + (paced.statuses.get(201, 0) if paced else 0)
        fivexx = sum(p.count(500, 599) for p in trivials + evals + ([paced] if paced else []))
        print()
        print(f"{'阶段':<12}{'请求':>8}{'5xx':>6}{'其他错误':>8}{'吞吐 req/s':>12}{'p50 ms':>9}{'p99 ms':>9}")
        for p in [x for pair in zip(trivials, evals + [None], strict=True) for x in pair if x is not None]:
            other = p.requests - p.count(200, 299) - p.count(500, 599)
            print(f"{p.name:<12}{p.requests:>8}{p.count(500, 599):>6}{other:>8}{p.rps:>12.1f}{p.pct(50):>9.1f}{p.pct(99):>9.1f}")
        ratio = statistics.median(ratios)
        print()
        print(f"数据库：{args.db}；负载（uptime）：{os.getloadavg()[0]:.1f}")
        print(f"评价提交吞吐 / 简单接口吞吐（各轮）：{'、'.join(f'{r * 100:.1f}%' for r in ratios)}；中位数 {ratio * 100:.1f}%")
        print(f"评价 p50 {pooled.pct(50):.1f} ms，p99 {pooled.pct(99):.1f} ms（各轮合并）；各轮 p99："
              f"{'、'.join(f'{ev.pct(99):.0f}' for ev in evals)} ms")
        # Little's law: with N clients that never pause, mean latency = N / throughput, so the
        # floor of the latency is set by the throughput this machine gives.
        print(f"参考：{args.clients} 个连接持续请求时，平均时延下限 = 连接数 ÷ 吞吐 = "
              f"{args.clients / (pooled.rps or 1) * 1000:.0f} ms")
        if paced:
            print(f"定速：{args.clients} 个连接共 {paced.offered:.0f} req/s（评价吞吐中位数的 {args.paced:.0%}），"
                  f"完成 {paced.requests}（{paced.rps:.1f} req/s），p50 {paced.pct(50):.1f} ms，p99 {paced.pct(99):.1f} ms"
                  f"（自计划发送时刻起算）")
            pooled.locked += paced.locked
            pooled.in_flight_lost += paced.in_flight_lost
        print(f"5xx：{fivexx}；\"database is locked\"：响应 {pooled.locked}，服务日志 {log_locked}")
        print(f"受理（201）{accepted}，入库 {stored}，截止时未完成 {pooled.in_flight_lost}；"
              f"{'一致' if accepted == stored else ('差额在未完成请求之内' if abs(stored - accepted) <= pooled.in_flight_lost else '不一致！')}")
        non201 = {s: n for s, n in pooled.statuses.items() if s != 201}
        if non201:
            print(f"非 201 响应：{non201}")
        target_p99 = 100 if args.db == "sqlite" else 30
        ok = (ratio >= 0.12 or args.db != "sqlite") and pooled.pct(99) < target_p99 and fivexx == 0 \
            and pooled.locked == 0 and log_locked == 0
        print(f"目标（SQLite ≥12%，p99 < {target_p99} ms，无 5xx，无 database is locked）：{'达到' if ok else '未达到'}"
              f"（p99 为满负荷各轮合并）")
        if paced:
            print(f"定速时 p99 {paced.pct(99):.1f} ms：{'低于' if paced.pct(99) < target_p99 else '未低于'} {target_p99} ms")
        return 0
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if pg is not None:
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
