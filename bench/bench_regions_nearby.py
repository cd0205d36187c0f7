"""Benchmark: the nearby-sites search with many sites.

Run by hand:  uv run python bench/bench_regions_nearby.py [--sites 20000] [--queries 300]

It makes a throwaway var folder (its own SQLite database, or DATABASE_URL's if set), migrates,
loads the demo city's areas, adds N synthetic sites spread over the city's extent (a bare
bulk_create: this measures reading, not loading), and then measures, in the same run and for the
same random origins:

- baseline: read every site's coordinates and compute every haversine distance in Python (what
  the search would cost without the database's latitude/longitude box);
- sites_nearby, walking 15 minutes (the public page's question);
- sites_nearby, driving 15 minutes (a box about 30 times larger in area).

Each line prints milliseconds per query and the ratio to the baseline (the ratio is the figure
to compare between runs: these machines are noisy)."""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time

VAR = tempfile.mkdtemp(prefix="bench-regions-")
os.environ["BIANMIN_VAR"] = VAR
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

# The demo city's extent, roughly (闽清 to 平潭, 永泰 to 罗源).
LNG = (118.7, 119.9)
LAT = (25.4, 26.6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("load_areas", verbosity=0)
    from bianmin.regions import selectors
    from bianmin.regions.models import Area, ServiceSite

    rng = random.Random(42)
    townships = list(Area.objects.filter(level="township"))
    ServiceSite.objects.bulk_create(
        [ServiceSite(code=f"B{i:06d}", name=f"测试场所{i}", kind=rng.choice(["center", "station", "kiosk"]),
                     area=rng.choice(townships), lng=rng.uniform(*LNG), lat=rng.uniform(*LAT)) for i in range(args.sites)],
        batch_size=2000,
    )
    # Urban origins are where the question is asked most: half around 鼓楼/台江, half anywhere.
    origins = [((rng.uniform(119.25, 119.36), rng.uniform(26.02, 26.10)) if i % 2 else (rng.uniform(*LNG), rng.uniform(*LAT)))
               for i in range(args.queries)]

    def baseline(lng, lat):
        reach = 15 * selectors.SPEED_M_PER_MIN["walk"] / selectors.DETOUR_FACTOR
        rows = ServiceSite.objects.filter(active=True).values_list("pk", "lng", "lat")
        found = [(selectors.haversine_m(lng, lat, x, y), pk) for pk, x, y in rows if selectors.haversine_m(lng, lat, x, y) <= reach]
        return sorted(found)[:20]

    def timed(label, fn, base=None):
        start = time.perf_counter()
        hits = 0
        for lng, lat in origins:
            hits += len(fn(lng, lat))
        ms = (time.perf_counter() - start) * 1000 / len(origins)
        ratio = f"{ms / base:.3f}× baseline" if base else "1.000× baseline"
        print(f"{label:<38} {ms:8.2f} ms/query  {ratio}  (mean {hits / len(origins):.1f} sites found)")
        return ms

    print(f"{args.sites} sites, {len(origins)} queries, database {django.db.connection.vendor}")
    base = timed("baseline: full scan + haversine", baseline)
    timed("sites_nearby walk 15 min", lambda lng, lat: selectors.sites_nearby(lng=lng, lat=lat), base)
    timed("sites_nearby drive 15 min", lambda lng, lat: selectors.sites_nearby(lng=lng, lat=lat, mode="drive"), base)


if __name__ == "__main__":
    import shutil

    try:
        main()
    finally:
        shutil.rmtree(VAR, ignore_errors=True)
