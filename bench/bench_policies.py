"""Benchmark: the public policy search (惠企政策检索) with the demo city's 558 policies and with 50,000.

Run by hand:  uv run python bench/bench_policies.py [--policies 558 50000] [--rounds 5]

For each size, in a throwaway var folder (its own SQLite database, or DATABASE_URL's database if
set — it is emptied of policies first), it migrates, loads the demo city's areas and builds the
library through the services' bulk path (policies.services.policies_load, published; the same
index, filter tokens and served JSON as the demo): the demo's policy kinds (policies/demo_data.py)
issued by the city, every district and every township over several years, so a common word has
thousands of candidates at 50,000. Then, in the same run, for the same queries:

- baseline: a plain indexed lookup of a policy by code (Policy.objects.get(code=…));
- search: policy_search(q) for enterprises' colloquial queries and exact titles (what
  GET /api/v1/policies?q=… and the public page run), 20 per page;
- search + filters: the same with in_force, a size and an area (a district);
- browse: policy_search() without a query, filtered by category and size (newest first).

Each line prints p50 and p95 in milliseconds and their ratio to the baseline's."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time

VAR = tempfile.mkdtemp(prefix="bench-policies-")
os.environ["BIANMIN_VAR"] = VAR
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

QUERIES = ["稳岗返还", "稳岗补贴怎么申请", "技改补助", "技改", "高企奖励", "高新技术企业", "社保补贴", "创业贷", "小升规",
           "加计扣除", "专精特新", "展会补贴", "跨境电商", "上市奖励", "以工代训", "招工补贴", "六税两费", "首台套",
           "夜经济", "数字化转型", "贷款贴息", "农机补贴", "个转企", "小餐饮补助", "人才补贴", "研发补助", "外贸奖励",
           "环保补助", "物流补助", "龙头企业奖励", "稳岗返换", "技改补贴多少钱"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def build(n: int) -> list[str]:
    """n published policies; returns their titles."""
    from bianmin.core import search
    from bianmin.policies import demo, services
    from bianmin.policies.demo_data import CITY_KINDS, DEPARTMENTS, DISTRICT_KINDS
    from bianmin.policies.models import Policy
    from bianmin.regions.models import Area

    city = Area.objects.get(level="city")
    districts = list(Area.objects.filter(parent=city, level="district", is_functional_zone=False).order_by("code"))
    townships = list(Area.objects.filter(level="township").select_related("parent").order_by("code"))
    today = dt.date.today()
    places = [city, *districts, *townships]
    kinds = CITY_KINDS + DISTRICT_KINDS
    rows, titles = [], set()
    # Texts repeat across years of an edition: segment each distinct text once.
    cached = {}
    real_segment = search.segment

    def segment(text: str) -> list[str]:
        if text not in cached:
            cached[text] = real_segment(text)
        return list(cached[text])

    search.segment = segment
    year = today.year
    k = 0
    while len(rows) < n:
        kind = kinds[k % len(kinds)]
        place = places[(k // len(kinds)) % len(places)]
        years_back = k // (len(kinds) * len(places))
        k += 1
        y = year - years_back
        title = kind["title"].format(year=y, place=place.name)
        if "{year}" not in kind["title"]:
            title = f"{title}（{y}年修订）"
        if title in titles:
            continue
        titles.add(title)
        dept_key = kind["dept"]
        area = place if place.level != "township" else place.parent
        lead = demo._department(dept_key, area if DEPARTMENTS[dept_key][2] else city, city)
        start, until = dt.date(y, 1, 1), dt.date(y, 12, 31) if kind["term"] == "year" else None
        listed = [place] if place.level == "township" else []
        rows.append((f"B{len(rows):07d}", services.PolicyData(
            title=title, aliases=kind["aliases"], category=kind["category"], lead_department=lead,
            handling_office=kind["office"], handling_phone="0591-87000000", valid_from=start, valid_until=until,
            benefits=demo._fill(kind["benefits"], kind, place.name, y),
            conditions=demo._fill(kind["conditions"], kind, place.name, y), materials=kind["materials"],
            procedure=kind["flow"].format(office=kind["office"]), industries=kind.get("industries", []),
            sizes=kind.get("sizes", []), areas=listed, tags=kind.get("tags", []), required_tags=kind.get("required", []),
            no_application=kind.get("free", False))))
    t = time.perf_counter()
    for start in range(0, len(rows), 5000):
        services.policies_load(actor=None, rows=rows[start:start + 5000], publish=True)
    search.segment = real_segment
    print(f"built {n} policies in {time.perf_counter() - t:.1f} s ({connection.vendor}); "
          f"{Policy.objects.filter(state='published').count()} in force", flush=True)
    return sorted(titles)


def run(n: int, rounds: int, rng: random.Random) -> None:
    from bianmin.policies.indexing import Filters
    from bianmin.policies.models import Policy, PolicyChange, PolicyFacet
    from bianmin.policies.selectors import policy_search
    from bianmin.regions.models import Area

    with connection.cursor() as cur:
        cur.execute("DELETE FROM policies_search")
    PolicyFacet.objects.all().delete()
    PolicyChange.objects.all().delete()
    Policy.items.through.objects.all().delete()
    Policy.areas.through.objects.all().delete()
    Policy.co_departments.through.objects.all().delete()
    Policy.objects.all().delete()
    from bianmin.policies import selectors

    selectors._words_seq = -1
    titles = build(n)
    queries = QUERIES + rng.sample(titles, 20)
    district = Area.objects.get(code="350102000000")
    filtered = Filters(in_force=True, size="small", area_path=district.path)
    browse = Filters(category="funding", size="micro")
    codes = list(Policy.objects.values_list("code", flat=True)[:: max(1, n // len(queries))])[:len(queries)]
    for q in queries:  # warm up: jieba's dictionary, the segmenter's words, the page cache
        policy_search(q=q)
    base, plain, with_filters, browsing, found = [], [], [], [], 0
    for _ in range(rounds):
        for c in codes:
            t = time.perf_counter()
            Policy.objects.get(code=c)
            base.append((time.perf_counter() - t) * 1000)
        for q in queries:
            t = time.perf_counter()
            page = policy_search(q=q)
            plain.append((time.perf_counter() - t) * 1000)
            found += page.total > 0
            t = time.perf_counter()
            policy_search(q=q, filters=filtered)
            with_filters.append((time.perf_counter() - t) * 1000)
        for page in (1, 2, 3):
            t = time.perf_counter()
            policy_search(filters=browse, page=page)
            browsing.append((time.perf_counter() - t) * 1000)
    b50, b95 = statistics.median(base), pct(base, 95)
    print(f"\n{n} policies: {len(queries)} queries × {rounds} rounds; {found / rounds:.0f} of {len(queries)} found something")
    print(f"{'':30s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50 ×':>8s} {'p95 ×':>8s}")
    for label, xs in (("lookup by code (baseline)", base), ("search", plain), ("search + in force, size, area", with_filters),
                      ("browse (category, size)", browsing)):
        p50, p95 = statistics.median(xs), pct(xs, 95)
        print(f"{label:30s} {p50:8.2f} {p95:8.2f} {p50 / b50:8.1f} {p95 / b95:8.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--policies", type=int, nargs="+", default=[558, 50000])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("load_areas", verbosity=0)
    for n in args.policies:
        run(n, args.rounds, random.Random(42))


if __name__ == "__main__":
    sys.exit(main())
