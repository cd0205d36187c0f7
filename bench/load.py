"""Load test of the hot routes through the real server, against a trivial endpoint of the same
server in the same run.

    uv run python bench/load.py                       # SQLite, 5 s per route, 4 clients
    uv run python bench/load.py --db postgres         # a throwaway PostgreSQL cluster
    uv run python bench/load.py --seconds 10 --clients 8 --workers 2 --port 8170

What it does:
1. starts ``bianmin up`` (gunicorn, with the demo city's data) on a fresh temporary var folder and
   a free loopback port — on SQLite, or on a PostgreSQL cluster it creates with initdb (as .ci/run
   does) and removes at the end;
2. prepares what the routes need through ``bianmin manage shell``: an API key with every scope,
   a window clerk's session, guide codes and search words, finished cases not yet evaluated;
3. discovers which hot routes exist (the OpenAPI schema, and the URLconf for pages) and prints a
   note for each one missing: an app that lands later is picked up without changing this file;
4. runs each route for ``--seconds`` with ``--clients`` threads (one request per connection, as
   gunicorn's sync workers close them), then the trivial endpoint again;
5. prints per route: requests, errors (any non-2xx or failed connection), throughput, p50 and p99
   latency, and throughput as a share of the trivial endpoint's (the figure to compare between
   runs: these machines are noisy and absolute numbers mislead).

Loopback only: the server listens on 127.0.0.1 and the clients talk to nothing else. Bounded in
time: every route has its time, every wait a deadline.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
TRIVIAL = "/api/v1/version"

SETUP = r"""
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.conf import settings
from bianmin.accounts.models import ApiKey, User
from bianmin.accounts.principals import KEY_SCOPE_CAPABILITIES
from bianmin.regions.models import Area

out = {"notes": []}
raw = "bench-" + "b" * 40
city = Area.objects.filter(level="city").order_by("code").first()
ApiKey.objects.filter(name="压测密钥").delete()
ApiKey.objects.create(name="压测密钥", prefix=raw[:8], digest=ApiKey.digest_of(raw), area=city,
                      scopes=sorted(KEY_SCOPE_CAPABILITIES))
out["api_key"] = raw
out["city_code"] = city.code
out["area_code"] = Area.objects.filter(level="township").order_by("code").values_list("code", flat=True).first()

def session_for(username):
    user = User.objects.filter(username=username).first()
    if user is None:
        return None
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0] if getattr(settings, "AUTHENTICATION_BACKENDS", None) else "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.save()
    return s.session_key

out["clerk_session"] = session_for("gudong_clerk")
out["admin_session"] = session_for("city_admin")
try:
    from bianmin.catalog.models import Item, StandardItem
    out["guides"] = list(Item.objects.filter(published_version__gt=0).values_list("implementation_code", flat=True)[:50])
    out["words"] = [n[:4] for n in StandardItem.objects.values_list("name", flat=True)[:50]]
    # Standard items with the most places (the shared guide lists where each can be handled).
    from django.db.models import Count
    out["standards"] = list(StandardItem.objects.annotate(n=Count("items")).order_by("-n", "code")
                            .values_list("code", flat=True)[:20])
    from bianmin.regions.models import ServiceSite
    out["sites"] = list(ServiceSite.objects.filter(active=True, kind="center").order_by("code")
                        .values_list("code", flat=True)[:50])
    out["districts"] = list(Area.objects.filter(level="district").order_by("code").values_list("code", flat=True)[:10])
except Exception as exc:
    out["notes"].append(f"catalog: {exc}")
try:
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation
    from bianmin.cases.models import State
    done = Case.objects.exclude(acceptance_number=None).filter(state=State.COMPLETED)
    evaluated = Evaluation.objects.values("case_id")
    out["cases"] = list(done.exclude(pk__in=evaluated).values_list("acceptance_number", flat=True)[:20000])
except Exception as exc:
    out["notes"].append(f"cases: {exc}")
try:
    from bianmin.policies.models import Policy
    out["policies"] = list(Policy.objects.filter(state="published").order_by("code").values_list("code", flat=True)[:50])
except Exception as exc:
    out["notes"].append(f"policies: {exc}")
# The API's routes from its URL patterns (not from /api/openapi.json: a route whose schema fails
# to build must still be measured).
import re
from bianmin.api import api

def walk(patterns, prefix=""):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern)

out["api_paths"] = sorted({"/api/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", x) for x in walk(api.urls[0])})
print("SETUP" + json.dumps(out, ensure_ascii=False))
"""


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


class Postgres:
    """A throwaway cluster on loopback, as .ci/run makes one (fsync stays on: this measures)."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            sys.exit("找不到 PostgreSQL 服务器（Debian：apt-get install postgresql）")
        self.bin = bins[-1].parent
        # Its own folder directly under /tmp: the postgres user cannot enter our 0700 temp folder.
        root = Path(tempfile.mkdtemp(prefix="bench-load-pg-"))
        self.root = root
        self.port = free_port()
        self.as_pg: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            subprocess.run(["id", "postgres"], check=True, capture_output=True)
            shutil.chown(root, "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]

    def start(self) -> str:
        data = self.root / "data"
        def run(*a):
            done = subprocess.run([*self.as_pg, *a], capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"PostgreSQL 启动失败：{' '.join(a)}\n{done.stdout}{done.stderr}")

        run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.root / "log"), "-w", "-o",
            f"-c listen_addresses={HOST} -p {self.port} -k {self.root} -c max_connections=100", "start")
        run(str(self.bin / "createdb"), "-h", HOST, "-p", str(self.port), "-U", "postgres", "bianmin")
        return f"postgres://postgres@{HOST}:{self.port}/bianmin"

    def stop(self) -> None:
        subprocess.run([*self.as_pg, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


class Server:
    def __init__(self, env: dict, port: int, workers: int, log: Path):
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.proc: subprocess.Popen | None = None

    def start(self, deadline_seconds: float = 900) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bianmin.cli", "up", "--host", HOST, "--port", str(self.port),
                 "--workers", str(self.workers)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if request("GET", self.port, "/healthz")[0] == 200:
                return
            try:
                self.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            break
        self.stop()
        sys.exit(f"服务未能启动，日志：{self.log}\n{self.log.read_text(errors='replace')[-3000:]}")

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each gunicorn worker: the master's (``bianmin up`` execs gunicorn
        in the process started here) children running gunicorn (not the task worker)."""
        if not self.proc:
            return []
        out = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
                cmdline = (status.parent / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == str(self.proc.pid) and b"gunicorn" in cmdline and "VmRSS" in fields:
                out.append(int(fields["VmRSS"].split()[0]) / 1024)
        return sorted(out)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


def request_with_headers(method: str, port: int, path: str, headers: dict) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    except (OSError, http.client.HTTPException):
        return 0, b"", {}
    finally:
        conn.close()


def port_of(setup: dict) -> int:
    return setup["port"]


def request(method: str, port: int, path: str, *, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, bytes]:
    """One request on its own connection; status 0 when the connection failed."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


# --- routes -----------------------------------------------------------------------------------


@dataclass
class Route:
    name: str
    method: str
    path: str  # the template, for the report
    make: object  # () -> (path, body, headers) or None when its data ran out
    results: list[tuple[float, int]] = field(default_factory=list)
    elapsed: float = 0.0
    error_sample: str = ""


def counter_source(values: list[str]):
    """Hands out each value once, thread-safe; None when they are used up."""
    lock = threading.Lock()
    it = iter(values)

    def take():
        with lock:
            return next(it, None)

    return take


def build_routes(setup: dict, paths: set[str], page_ok, tag: str) -> tuple[list[Route], list[str]]:
    routes: list[Route] = []
    notes: list[str] = []
    key = {"X-Api-Key": setup["api_key"]}
    json_key = {**key, "Content-Type": "application/json"}

    def have(path: str, what: str) -> bool:
        if path in paths:
            return True
        notes.append(f"跳过 {what}：接口 {path} 不存在")
        return False

    guides = setup.get("guides") or []
    cycle_guides = itertools.cycle(guides) if guides else None
    guide_lock = threading.Lock()

    def next_guide():
        with guide_lock:
            return next(cycle_guides)

    if guides and page_ok(f"/catalog/guide/{urllib.parse.quote(guides[0])}/"):
        routes.append(Route("办事指南页面", "GET", "/catalog/guide/{code}/",
                            lambda: (f"/catalog/guide/{urllib.parse.quote(next_guide())}/", None, {})))
    elif not guides:
        notes.append("跳过 办事指南页面：演示数据中没有已发布的指南")
    else:
        notes.append("跳过 办事指南页面：/catalog/guide/<code>/ 不可用")
    if guides and have("/api/v1/guides/{code}", "办事指南接口"):
        routes.append(Route("办事指南接口", "GET", "/api/v1/guides/{code}",
                            lambda: (f"/api/v1/guides/{urllib.parse.quote(next_guide())}", None, {})))
    def cycling(values: list[str]):
        it, lock = itertools.cycle(values), threading.Lock()

        def take():
            with lock:
                return urllib.parse.quote(next(it))

        return take

    standards, sites = setup.get("standards") or [], setup.get("sites") or []
    if standards and have("/api/v1/guides/{code}", "共享指南接口"):
        take_standard = cycling(standards)
        routes.append(Route("共享指南接口（各地场所）", "GET", "/api/v1/guides/{item code}",
                            lambda: (f"/api/v1/guides/{take_standard()}", None, {})))
        take_standard_page = cycling(standards)
        routes.append(Route("共享指南页面", "GET", "/catalog/guide/{item code}/",
                            lambda: (f"/catalog/guide/{take_standard_page()}/", None, {})))
    if sites:
        take_site, take_site_api, take_site_page = cycling(sites), cycling(sites), cycling(sites)
        routes.append(Route("可办事项清单页面", "GET", "/catalog/site/{code}/",
                            lambda: (f"/catalog/site/{take_site()}/", None, {})))
        if have("/api/v1/guides/sites/{code}", "可办事项清单接口"):
            routes.append(Route("可办事项清单接口", "GET", "/api/v1/guides/sites/{code}",
                                lambda: (f"/api/v1/guides/sites/{take_site_api()}", None, {})))
        routes.append(Route("服务场所页面", "GET", "/regions/sites/{code}/",
                            lambda: (f"/regions/sites/{take_site_page()}/", None, {})))
    districts = setup.get("districts") or []
    take_district = cycling(districts) if districts else None
    routes.append(Route("公众首页", "GET", "/?district=…",
                        lambda: (f"/?district={take_district()}" if take_district else "/", None, {})))
    page_words = cycling(setup.get("words") or ["证明"])
    routes.append(Route("指南检索页面", "GET", "/catalog/?q=…",
                        lambda: (f"/catalog/?q={page_words()}", None, {})))

    words = setup.get("words") or ["证明", "社保", "企业开办", "户口"]
    cycle_words = itertools.cycle(words)
    word_lock = threading.Lock()

    def next_word():
        with word_lock:
            return next(cycle_words)

    if have("/api/v1/guides/search", "指南检索"):
        routes.append(Route("指南检索", "GET", "/api/v1/guides/search?q=…",
                            lambda: (f"/api/v1/guides/search?q={urllib.parse.quote(next_word())}", None, {})))

    cases = setup.get("cases") or []
    if have("/api/v1/evaluations/provincial", "评价提交"):
        if not cases:
            notes.append("跳过 评价提交：演示数据中没有已办结且未评价的办件")
        else:
            take_case = counter_source(cases)
            serial = itertools.count()

            def evaluation():
                number = take_case()
                if number is None:
                    return None
                body = {"external_id": f"bench-{tag}-{next(serial)}", "acceptance_number": number, "source": "prov_app",
                        "grade": 5, "aspects": {}, "reasons": [], "text": "办事顺利"}
                return "/api/v1/evaluations/provincial", json.dumps(body, ensure_ascii=False).encode(), json_key

            routes.append(Route("评价提交（省级渠道）", "POST", "/api/v1/evaluations/provincial", evaluation))

    if have("/api/v1/appeals/work-orders", "诉求登记") and setup.get("area_code"):
        serial = itertools.count()

        def work_order():
            body = [{"work_order_no": f"BENCH-{tag}-{next(serial)}", "kind": "咨询", "title": "咨询办事流程",
                     "content": "请问新生儿落户需要哪些材料？", "area_code": setup["area_code"],
                     "registered_at": time.strftime("%Y-%m-%d %H:%M"), "name": "李四", "mobile": "13900139000"}]
            return "/api/v1/appeals/work-orders", json.dumps(body, ensure_ascii=False).encode(), json_key

        routes.append(Route("诉求登记（12345工单）", "POST", "/api/v1/appeals/work-orders", work_order))

    if setup.get("clerk_session") and have("/api/v1/cases", "窗口办件队列"):
        cookie = {"Cookie": f"sessionid={setup['clerk_session']}"}
        routes.append(Route("窗口办件队列", "GET", "/api/v1/cases", lambda: ("/api/v1/cases", None, cookie)))

    # The rate figures (好评率, 整改率…) — whichever figure routes have landed.
    # The open policy API: one policy with a key (the copy-keeping system's read), the same answered
    # 304 (If-None-Match), and the search (the rate limit counts every one of these requests).
    policies = setup.get("policies") or []
    if policies and have("/api/v1/policies/{code}", "惠企政策接口"):
        cycle_policies = itertools.cycle(policies)
        policy_lock = threading.Lock()

        def next_policy():
            with policy_lock:
                return next(cycle_policies)

        routes.append(Route("惠企政策（一项，密钥）", "GET", "/api/v1/policies/{code}",
                            lambda: (f"/api/v1/policies/{urllib.parse.quote(next_policy())}", None, key)))
        etags = {}
        for code in policies:
            status, _body, headers = request_with_headers("GET", port_of(setup), f"/api/v1/policies/{urllib.parse.quote(code)}", key)
            if status == 200 and headers.get("etag"):
                etags[code] = headers["etag"]
        if etags:
            cycle_tags = itertools.cycle(sorted(etags.items()))

            def not_modified():
                with policy_lock:
                    code, tag = next(cycle_tags)
                return f"/api/v1/policies/{urllib.parse.quote(code)}", None, {**key, "If-None-Match": tag}

            routes.append(Route("惠企政策（304，密钥）", "GET", "/api/v1/policies/{code} If-None-Match", not_modified))
    elif not policies:
        notes.append("跳过 惠企政策接口：演示数据中没有已发布的政策")
    if have("/api/v1/policies", "惠企政策检索"):
        policy_words = itertools.cycle(["稳岗返还", "技改补助", "高企", "社保补贴", "创业贷", "专精特新", "展会补贴"])
        pw_lock = threading.Lock()

        def next_policy_word():
            with pw_lock:
                return next(policy_words)

        routes.append(Route("惠企政策检索", "GET", "/api/v1/policies?q=…",
                            lambda: (f"/api/v1/policies?q={urllib.parse.quote(next_policy_word())}", None, key)))

    figure_paths = sorted(p for p in paths if any(w in p for w in ("rate", "figure", "ledger", "kpi", "stats"))
                          and "{" not in p)
    if figure_paths and setup.get("admin_session"):
        cookie = {"Cookie": f"sessionid={setup['admin_session']}"}
        # The whole city, this year so far: the widest figure a city admin asks for. Parameters
        # a route does not take are ignored.
        query = urllib.parse.urlencode({"area_code": setup["city_code"], "date_from": time.strftime("%Y-01-01"),
                                        "date_to": time.strftime("%Y-%m-%d"), "year": time.strftime("%Y")})
        for p in figure_paths[:3]:
            routes.append(Route(f"统计数字 {p}", "GET", p, lambda p=p: (f"{p}?{query}", None, {**cookie, **key})))
    else:
        notes.append("跳过 评价率等统计数字：尚无统计接口（路径含 rate/figure/ledger/kpi/stats）")
    return routes, notes


def run_route(route: Route, port: int, seconds: float, clients: int) -> None:
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def client():
        local: list[tuple[float, int]] = []
        while time.monotonic() < stop_at:
            made = route.make()
            if made is None:
                break
            path, body, headers = made
            t0 = time.perf_counter()
            status, answer = request(route.method, port, path, body=body, headers=headers)
            local.append((time.perf_counter() - t0, status))
            if not (200 <= status < 300 or status == 304) and not route.error_sample:
                route.error_sample = f"{status} {answer[:300].decode(errors='replace')}"
        with lock:
            route.results.extend(local)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    route.elapsed = time.monotonic() - t0


def figures(route: Route) -> dict:
    times = sorted(t for t, _ in route.results)
    errors = sum(1 for _, s in route.results if not (200 <= s < 300 or s == 304))  # 304: a conditional GET's success
    n = len(times)
    return {
        "requests": n, "errors": errors,
        "rps": n / route.elapsed if route.elapsed else 0.0,
        "p50": statistics.median(times) * 1000 if times else 0.0,
        "p99": times[min(n - 1, int(n * 0.99))] * 1000 if times else 0.0,
        "statuses": sorted({s for _, s in route.results if not (200 <= s < 300 or s == 304)}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=5.0, help="每条路由的压测时长（秒）")
    parser.add_argument("--clients", type=int, default=4, help="并发客户端线程数")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn 工作进程数")
    parser.add_argument("--port", type=int, default=8170, help="本机端口（被占用时自动另选）")
    parser.add_argument("--warm", type=float, default=0.0,
                        help="每条路由先不计时地压测这么多秒（缓存已热时的吞吐；0 为冷启动）")
    parser.add_argument("--keep", action="store_true", help="结束后保留临时目录（日志、数据库）")
    parser.add_argument("--reuse-var", help="SQLite：复制该 var 目录中已载入演示数据的数据库，免去重新载入（仅 --db sqlite）")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix=f"bench-load-{args.db}-"))
    if args.reuse_var:
        if args.db != "sqlite":
            sys.exit("--reuse-var 仅用于 SQLite")
        (root / "var").mkdir(parents=True)
        for suffix in ("", "-wal", "-shm"):
            source = Path(args.reuse_var) / f"bianmin.sqlite3{suffix}"
            if source.exists():
                shutil.copy2(source, root / "var" / source.name)
    env = {**os.environ, "BIANMIN_VAR": str(root / "var"), "BIANMIN_DEBUG": "0",
           # The policy API's per-key limit is counted on every request (the work stays in the
           # measurement) but set high enough never to refuse the bench's own requests.
           "BIANMIN_POLICY_API_KEY_PER_MINUTE": "100000000", "BIANMIN_POLICY_API_ANON_PER_MINUTE": "100000000",
           "SECRET_KEY": "bench-load-" + "x" * 50, "BIANMIN_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    pg = None
    port = args.port if port_free(args.port) else free_port()
    server = Server(env, port, args.workers, root / "server.log")
    try:
        if args.db == "postgres":
            pg = Postgres()
            env["DATABASE_URL"] = pg.start()
        print(f"启动服务（{args.db}，{args.workers} 个工作进程，端口 {port}），载入演示数据……", flush=True)
        t0 = time.monotonic()
        server.start()
        print(f"  就绪，用时 {time.monotonic() - t0:.0f} 秒", flush=True)

        out = subprocess.run([sys.executable, "-m", "bianmin.cli", "manage", "shell", "-c", SETUP],
                             env=env, capture_output=True, text=True, timeout=600)
        line = next((x for x in out.stdout.splitlines() if x.startswith("SETUP")), None)
        if line is None:
            sys.exit(f"准备数据失败：\n{out.stderr[-3000:]}")
        setup = json.loads(line[len("SETUP"):])
        setup["port"] = port

        paths = set(setup.get("api_paths", []))
        if request("GET", port, "/api/openapi.json")[0] != 200:
            print("  注意：/api/openapi.json 未返回 200（路由清单改由 URL 配置得出）")

        def page_ok(path: str) -> bool:
            return request("GET", port, path)[0] == 200

        routes, notes = build_routes(setup, paths, page_ok, tag=str(int(time.time())))
        for note in setup.get("notes", []) + notes:
            print("  " + note)

        trivial_before = Route("基准：平凡接口（前）", "GET", TRIVIAL, lambda: (TRIVIAL, None, {}))
        trivial_after = Route("基准：平凡接口（后）", "GET", TRIVIAL, lambda: (TRIVIAL, None, {}))
        plan = [trivial_before, *routes, trivial_after]
        for route in plan:
            if args.warm and route.method == "GET":
                warm = Route(route.name, route.method, route.path, route.make)
                run_route(warm, port, args.warm, args.clients)  # fills the page cache; not counted
            print(f"压测 {route.name} {args.seconds:g} 秒……", flush=True)
            run_route(route, port, args.seconds, args.clients)
        rss = server.worker_rss_mb()
        served = sum(len(r.results) for r in plan)
    finally:
        server.stop()
        if pg:
            pg.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    base = (figures(trivial_before)["rps"] + figures(trivial_after)["rps"]) / 2
    engine = "SQLite" if args.db == "sqlite" else "PostgreSQL"
    print()
    print(f"{engine}；gunicorn {args.workers} 个同步工作进程；{args.clients} 个并发客户端；每条 {args.seconds:g} 秒；"
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    print()
    print("| 路由 | 方法 路径 | 请求数 | 错误 | 吞吐（次/秒） | p50（毫秒） | p99（毫秒） | 吞吐 / 平凡接口 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for route in plan:
        f = figures(route)
        errors = f"{f['errors']}" + (f"（{','.join(map(str, f['statuses']))}）" if f["errors"] else "")
        print(f"| {route.name} | {route.method} {route.path} | {f['requests']} | {errors} | {f['rps']:.1f} | "
              f"{f['p50']:.1f} | {f['p99']:.1f} | {f['rps'] / base:.2f} |" if base else "")
    print(f"\n工作进程常驻内存（RSS，{served} 次请求之后）：" + ("、".join(f"{m:.0f} MB" for m in rss) or "未读到")
          + f"；负载均值 {os.getloadavg()[0]:.1f}")
    samples = [(r.name, r.error_sample) for r in plan if r.error_sample]
    if samples:
        print("\n错误示例：")
        for name, sample in samples:
            print(f"  {name}：{sample}")
    if args.keep:
        print(f"\n临时目录：{root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
