"""The three ledger pages (回访台账, 问题清单, 整改台账) and their xlsx exports at scale.

    uv run python bench/bench_rates.py --n 10000000 --ledgers     # load, rates, then this on the same data
    BIANMIN_VAR=/path/to/kept/var uv run python bench/bench_ledgers.py            # on data already loaded
    DATABASE_URL=postgres://… uv run python bench/bench_ledgers.py

For a user of the city, of a district (鼓楼区) and of a township (鼓东街道), over the last month and
the last year: p50/p95 of the whole page through Django's test client (login, selector, pagination,
template) for the first page and a deep page (--deep, 200 by default: rows 9,951–10,000), with the
number of queries it ran; then each ledger's xlsx export for the three users over the last month
(a direct download or a background export job: see ``_exports``). The baseline of the same run is the first page of the smallest
scope (the township's month): the deep and wide pages are quoted as a ratio to it.
In process (no HTTP server): this measures the application's work, not the network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


LEDGERS = [("回访台账", "/followups/ledgers/followups/"), ("问题清单", "/followups/ledgers/problems/"),
           ("整改台账", "/followups/ledgers/rectifications/")]


def _users():
    from bianmin.accounts.models import RoleAssignment, User
    from bianmin.regions.models import Area

    out = []
    for label, code, role in (("city 福州市", "350100000000", "city_admin"),
                              ("district 鼓楼区", "350102000000", "district_admin"),
                              ("township 鼓东街道", "350102001000", "center_manager")):
        user, created = User.objects.get_or_create(username=f"bench-ledgers-{code}", defaults={"display_name": "基准测试"})
        if created:
            RoleAssignment.objects.create(user=user, role=role, area=Area.objects.get(code=code))
        out.append((label, user))
    return out


def _rows(ledger: str, user_label: str, start, end) -> int:
    """The exact number of rows of the ledger (not timed): what the capped count stands for."""
    from bianmin.followups.models import FollowUp, Rectification
    from bianmin.followups.selectors import _period

    path = {"city": "350100000000/", "district": "350100000000/350102000000/",
            "township": "350100000000/350102000000/350102001000/"}[user_label.split()[0]]
    if ledger == "回访台账":
        qs = FollowUp.objects.exclude(outcome="").filter(area__path__startswith=path)
        return _period(qs, "done_at", start, end, is_datetime=True).count()
    qs = Rectification.objects.filter(area__path__startswith=path)
    return _period(qs, "found_on", start, end, is_datetime=False).count()


def run(*, reps: int = 20, deep: int = 200, exports: bool = True) -> float:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    today = timezone.localdate()
    periods = [("month", today - timedelta(days=30)), ("year", today - timedelta(days=365))]
    users = _users()
    clients = {}
    for label, user in users:
        c = Client()
        c.force_login(user)
        clients[label] = c

    def get(c, url):
        r = c.get(url)
        if r.status_code != 200:
            raise SystemExit(f"{url}: HTTP {r.status_code}")
        if r.streaming:
            for _ in r.streaming_content:
                pass
        return r

    print(f"\nledger pages (50 rows a page), {reps} requests each; engine {connection.vendor}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"| ledger | user | period | rows | page 1 p50 / p95 (ms) | page {deep} p50 / p95 (ms) | "
          f"queries (page 1 / {deep}) |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for lname, base in LEDGERS:
        for label, _user in users:
            c = clients[label]
            for pname, start in periods:
                url = f"{base}?from={start}&to={today}"
                rows = f"{_rows(lname, label, start, today):,}"
                cells = []
                queries = []
                for page in (1, deep):
                    u = f"{url}&page={page}"
                    get(c, u)  # warm
                    with CaptureQueriesContext(connection) as q:
                        get(c, u)
                    queries.append(len(q.captured_queries))
                    times = []
                    for _ in range(reps):
                        t0 = time.perf_counter()
                        get(c, u)
                        times.append((time.perf_counter() - t0) * 1000)
                    worst = max(worst, pct(times, 95))
                    cells.append(f"{statistics.median(times):.0f} / {pct(times, 95):.0f}")
                print(f"| {lname} | {label} | {pname} | {rows} | {cells[0]} | {cells[1]} | "
                      f"{queries[0]} / {queries[1]} |", flush=True)
    print(f"\nworst ledger page p95: {worst:.0f} ms (target < 200 ms); load average {os.getloadavg()[0]:.2f}", flush=True)
    if exports:
        _exports(users, clients, today)
    return worst


def _exports(users, clients, today, *, skip_city: bool = False):
    """Each ledger's xlsx over the last month, as a user gets it: up to the direct limit
    (``BIANMIN_EXPORT_DIRECT_MAX_ROWS``, 5,000) the response is the file; above it the request
    queues an export job (导出任务) and redirects to "我的导出", and the job is then run here as the
    worker runs it (``export_job_run``), timed from the request to the finished file. Peak memory:
    the process's resident set before and after (tracemalloc would slow the big ones several times),
    and tracemalloc's peak for the direct downloads."""
    import resource

    from bianmin.exports.models import ExportJob
    from bianmin.exports.services import export_job_run

    start = today - timedelta(days=30)
    if skip_city:
        users = [u for u in users if not u[0].startswith("city")]
    print("\nxlsx exports, last month (direct download up to 5,000 rows, a background job above)")
    print("| ledger | user | rows | how | request (ms) | first byte / file ready (ms) | rows/s | size (KB) | peak memory |")
    print("|---|---|---|---|---|---|---|---|---|")
    for lname, base in LEDGERS:
        for label, user in users:
            c = clients[label]
            url = f"{base}?from={start}&to={today}&format=xlsx"
            before = ExportJob.objects.filter(user=user).order_by("-id").values_list("id", flat=True).first() or 0
            t0 = time.perf_counter()
            r = c.get(url)
            answered = time.perf_counter()
            if r.status_code == 302:
                job = ExportJob.objects.filter(user=user, id__gt=before).order_by("-id").first()
                rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                job = export_job_run(job_id=job.pk)
                ready = time.perf_counter()
                rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                rows, size = job.rows_written, job.size
                how = f"job ({job.get_status_display()})"
                peak = f"RSS {rss1 / 1024:,.0f} MB (+{(rss1 - rss0) / 1024:,.0f})"
            else:
                first = size = None
                for chunk in (r.streaming_content if r.streaming else [r.content]):
                    first = first or time.perf_counter()
                    size = (size or 0) + len(chunk)
                ready = first
                rows = None
                how = "direct"
                tracemalloc.start()
                r = c.get(url)
                for _ in (r.streaming_content if r.streaming else [r.content]):
                    pass
                peak = f"{tracemalloc.get_traced_memory()[1] / 2**20:,.1f} MB (traced)"
                tracemalloc.stop()
            total = ready - t0
            rate = f"{rows / total:,.0f}" if rows else "—"
            print(f"| {lname} | {label} | {rows if rows is not None else '≤ 5,000'} | {how} | "
                  f"{(answered - t0) * 1000:,.0f} | {total * 1000:,.0f} | {rate} | {size / 1024:,.0f} | {peak} |",
                  flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--deep", type=int, default=200)
    parser.add_argument("--no-exports", action="store_true")
    parser.add_argument("--exports-only", action="store_true")
    args = parser.parse_args()
    if "BIANMIN_VAR" not in os.environ and "DATABASE_URL" not in os.environ:
        sys.exit("请用 BIANMIN_VAR 或 DATABASE_URL 指向已生成规模数据的数据库（见 bench_rates.py --keep）")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")
    import django

    django.setup()
    if args.exports_only:
        from django.conf import settings
        from django.test import Client
        from django.utils import timezone

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        users = _users()
        clients = {}
        for label, user in users:
            clients[label] = Client()
            clients[label].force_login(user)
        _exports(users, clients, timezone.localdate())
        return 0
    run(reps=args.reps, deep=args.deep, exports=not args.no_exports)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
