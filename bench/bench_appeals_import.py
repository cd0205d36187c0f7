"""Benchmark: importing 100,000 12345 work orders (CSV and xlsx) on SQLite.

Run by hand:  uv run python bench/bench_appeals_import.py [--rows 100000] [--xlsx-rows 100000]

It makes a throwaway var folder (its own SQLite database), migrates, loads the demo city's
areas and then measures, in the same run:

- baseline: a bare ``bulk_create`` of the same appeals (no parsing, validation, deadlines,
  mapping or timeline) — what the database alone costs;
- the full CSV import (read, validate every row, refuse-or-write, timeline events), new rows;
- the same file again (every work order already there and unchanged: nothing written);
- the file with every content changed (100,000 updates and 'updated' events);
- an xlsx file of the same rows (openpyxl read-only).

Each line prints wall and CPU seconds, rows per CPU second and the ratio of CPU time to the
baseline's (these machines are shared and noisy: the ratio is the figure to compare between
runs; CPU time is what the import costs when it has a core to itself). The target is under
60 s for 100,000 rows.

The load average is printed first: with other work on the machine, wall time grows with it."""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time

VAR = tempfile.mkdtemp(prefix="bench-appeals-")
os.environ["BIANMIN_VAR"] = VAR
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")
os.environ.pop("DATABASE_URL", None)  # SQLite: the figure the issue asks for

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

HEADER = ["工单编号", "诉求类型", "分类编码", "标题", "诉求内容", "诉求人", "联系电话", "证件号码", "企业名称",
          "统一社会信用代码", "区划代码", "地址", "受理时间"]
KINDS = ["咨询", "求助", "投诉", "举报", "建议"]


def rows(n: int, townships: list[str], *, suffix: str = ""):
    import datetime as dt

    from bianmin.core.validators import make_credit_code, make_id_number

    ids = [make_id_number("350102", dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28), i % 999) for i in range(200)]
    credits = [make_credit_code("350100", i + 1) for i in range(50)]
    for i in range(n):
        enterprise = i % 7 == 0
        yield [
            f"FZ12345{i:08d}", KINDS[i % 5], f"C{i % 40:04d}", f"关于第{i % 300}类办事问题的反映",
            f"群众反映在便民服务中心办理事项{i % 300}时遇到排队、材料重复提交等问题，希望改进。{suffix}",
            f"市民{i % 1000}", f"13{i % 10}{i:08d}"[:11], ids[i % 200] if i % 3 == 0 else "",
            f"福州某某企业{i % 50}有限公司" if enterprise else "", credits[i % 50] if enterprise else "",
            townships[i % len(townships)], f"某某路{i % 500}号", f"2026-{1 + i % 10:02d}-{1 + i % 28:02d} 09:{i % 60:02d}",
        ]


def csv_file(n, townships, suffix=""):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    w.writerows(rows(n, townships, suffix=suffix))
    return out.getvalue().encode("utf-8")


def xlsx_file(n, townships):
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER)
    for r in rows(n, townships):
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def timed(label, fn, baseline=None, n=1):
    """Wall time, and CPU time of this process (SQLite runs in it): on a machine shared with
    other work the CPU seconds are the steadier figure; the target is about wall time."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    ratio = f"{cpu_seconds / baseline:5.2f}× baseline" if baseline else "baseline"
    print(f"{label:<44} wall {seconds:7.2f} s  cpu {cpu_seconds:7.2f} s {n / cpu_seconds:9.0f} rows/cpu-s  {ratio}",
          flush=True)
    return cpu_seconds, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    args = parser.parse_args()
    n = args.rows

    call_command("migrate", verbosity=0)
    call_command("load_areas", verbosity=0)
    from bianmin.appeals import importer
    from bianmin.appeals.models import Appeal, AppealEvent
    from bianmin.core.principal import Grant, Principal
    from bianmin.regions.models import Area

    city = Area.objects.get(code="350100000000")
    townships = list(Area.objects.filter(level="township", code__startswith="350102").values_list("code", flat=True))
    actor = Principal(label="bench", grants=[Grant(city.path, frozenset({"view", "appeal.manage"}))])
    print(f"SQLite {settings.DATABASES['default']['NAME']}; {n} rows over {len(townships)} townships; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)

    data = csv_file(n, townships)
    area_ids = dict(Area.objects.values_list("code", "id"))

    def baseline():
        import datetime as dt

        from django.utils import timezone

        objs = [Appeal(number=f"B{i:017d}", work_order_no=f"B{i}", kind="consult", channel="hotline12345",
                       area_id=area_ids[townships[i % len(townships)]], title="t", content="c",
                       due_date=dt.date(2026, 1, 1), registered_at=timezone.now()) for i in range(n)]
        Appeal.objects.bulk_create(objs, batch_size=1000)

    base, _ = timed("baseline: bare bulk_create", baseline, n=n)
    Appeal.objects.all().delete()

    def run(payload):
        cleaned = importer.validate_file("bench.csv", payload, city)
        return importer.upsert(cleaned, actor=actor)

    _, (c, u, unmapped) = timed("CSV import, all new (validate + write)", lambda: run(data), base, n)
    assert (c, u) == (n, 0), (c, u)
    _, (c, u, _x) = timed("CSV import again, unchanged (idempotent)", lambda: run(data), base, n)
    assert (c, u) == (0, 0), (c, u)
    changed = csv_file(n, townships, suffix="（补充说明）")
    _, (c, u, _x) = timed("CSV import, every row changed (updates)", lambda: run(changed), base, n)
    assert (c, u) == (0, n), (c, u)
    assert Appeal.objects.count() == n and AppealEvent.objects.count() == 2 * n

    if args.xlsx_rows:
        m = args.xlsx_rows
        xdata = xlsx_file(m, townships)
        Appeal.objects.all().delete()

        def run_x():
            cleaned = importer.validate_file("bench.xlsx", xdata, city)
            return importer.upsert(cleaned, actor=actor)

        _, (c, u, _x) = timed("xlsx import, all new (openpyxl read-only)", run_x, base * m / n, m)
        assert c == m
    print(f"(unmapped category codes reported: {len(unmapped)}; var folder {VAR})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
