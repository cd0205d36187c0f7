"""Benchmark: case intake through the service layer, and the clerk's queue with a million cases.

Run by hand:  uv run python bench/bench_cases.py [--total 1000000] [--sample 10000] [--queries 300]

It makes a throwaway var folder (its own SQLite database, or DATABASE_URL's if set), migrates,
seeds the calendar, loads the demo city's areas, and makes one center per township with 40 items
(one department, materials on each). Then, in the same run:

1. Service-layer intake: `case_submit` (validation of the applicant, the item check, the row, its
   checklist, the timeline event, the first visit, the audit row, one transaction each) for
   `--sample` cases, then `case_accept` for half of them.
2. Baselines, the same rows again: a bare ORM `Case.objects.create()` per row, and a bare
   `bulk_create` of the rows. The figure is service-layer throughput as a ratio to each.
3. Fill: plain multi-row INSERTs of synthetic rows (states, dates, due dates spread over a year)
   up to `--total` cases. (Only the sample goes through the services: a million service calls
   would take hours here; the fill measures nothing itself.)
4. The clerk queue with `--total` cases in the database: the page's two queries (count + the
   first page of 30, most urgent first) for a window clerk of one township, with the filters the
   page offers, `--queries` times; p50/p95/max in milliseconds.

These machines are noisy: compare the ratios between runs, not the absolute times.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

VAR = tempfile.mkdtemp(prefix="bench-cases-")
os.environ["BIANMIN_VAR"] = VAR
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")

import django  # noqa: E402

django.setup()

from datetime import date, datetime, timedelta  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402


def setup_world(rng: random.Random):
    from bianmin.catalog.models import Department, Item, Material, StandardItem
    from bianmin.regions.models import Area, ServiceSite

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("seed_calendar", verbosity=0)
    call_command("load_areas", verbosity=0)
    city = Area.objects.get(level="city")
    dept = Department.objects.create(code="B-MZ", name="民政局", category="民政", area=city)
    standards = []
    for i in range(40):
        si = StandardItem.objects.create(code=f"B{i:05d}", name=f"测试事项{i}", item_type="benefit",
                                         competent_department=dept, implementing_body="街道办事处",
                                         legal_limit_days=rng.choice([1, 5, 10, 20, 30]))
        Material.objects.bulk_create([Material(standard_item=si, name=f"材料{j}", trust_level="ABCD"[j % 4], position=j)
                                      for j in range(rng.randint(1, 4))])
        standards.append(si)
    sites, items = [], []
    for t in Area.objects.filter(level="township").order_by("code"):
        site = ServiceSite.objects.create(code=f"C{t.code}", name=f"{t.name}便民服务中心", kind="center", area=t)
        sites.append(site)
        for si in standards:
            items.append(Item(standard_item=si, area=t, site=site, implementation_code=f"{si.code}{t.code}",
                              promised_limit_days=max(0, si.legal_limit_days // 2)))
    Item.objects.bulk_create(items, batch_size=2000)
    return sites, list(Item.objects.select_related("standard_item", "window").order_by("id"))


def applicants(n: int, rng: random.Random):
    from bianmin.cases.services import Applicant
    from bianmin.core.validators import make_id_number

    return [Applicant(kind="person", name=f"测试{i}", mobile=f"138{rng.randint(0, 99999999):08d}",
                      id_number=make_id_number("350102", date(1970 + i % 40, 1 + i % 12, 1 + i % 28), i % 1000))
            for i in range(n)]


def case_row(item, site, a, now):
    from bianmin.cases.models import Case

    return Case(item=item, site=site, received_site=site, channel="window", applicant_kind=a.kind,
                applicant_name=a.name, id_number=a.id_number, mobile=a.mobile, mode=item.mode,
                legal_limit_days=item.standard_item.legal_limit_days, promised_limit_days=item.promised_limit_days,
                submitted_at=now, visit_count=1)


def fill(total: int, sites, items_by_site, rng: random.Random, batch: int = 5000) -> float:
    """Plain multi-row INSERTs of synthetic cases up to `total` rows."""
    from bianmin.cases.models import Case

    existing = Case.objects.count()
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Case._meta.db_table)
    today = timezone.localdate()
    now = timezone.now()
    states = ["completed"] * 80 + ["in_progress"] * 8 + ["accepted"] * 4 + ["submitted"] * 3 + \
             ["correction"] * 2 + ["not_accepted"] * 2 + ["withdrawn"]
    start = time.perf_counter()
    made = existing
    while made < total:
        rows = []
        for _ in range(min(batch, total - made)):
            made += 1
            site = rng.choice(sites)
            item = rng.choice(items_by_site[site.pk])
            state = rng.choice(states)
            day = today - timedelta(days=rng.randint(0, 365))
            submitted = datetime.combine(day, datetime.min.time()).replace(tzinfo=now.tzinfo) + timedelta(hours=9)
            accepted = state not in ("submitted", "not_accepted") and not (state == "correction" and rng.random() < .5)
            due = day + timedelta(days=int(item.promised_limit_days * 1.4)) if accepted else None
            values = {
                "item_id": item.pk, "site_id": site.pk, "received_site_id": site.pk, "window_id": None, "owner_id": None,
                "channel": "window", "external_source": "", "external_id": "", "request_digest": "", "state": state,
                "state_before_correction": "", "acceptance_number": f"F{made:09d}" if accepted else None,
                "applicant_kind": "person", "applicant_name": "测试", "id_number": "350102197001010011",
                "credit_code": "", "contact_name": "", "mobile": "13800000000", "summary": "", "mode": "on_the_spot",
                "authorized_by_id": None, "legal_limit_days": item.standard_item.legal_limit_days,
                "promised_limit_days": item.promised_limit_days, "submitted_at": submitted,
                "accepted_at": submitted if accepted else None, "accepted_on": day if accepted else None,
                "suspended_since": None, "suspended_days": 0, "promised_due_on": due, "legal_due_on": due,
                "overdue": False, "overdue_marked_on": None,
                "completed_at": submitted if state in ("completed", "not_accepted", "withdrawn") else None,
                "completed_on": day if state in ("completed", "not_accepted", "withdrawn") else None,
                "result": "approved" if state == "completed" else "", "reason": "", "visit_count": rng.choice([1, 1, 1, 2]),
                "created_at": now, "updated_at": now,
            }
            rows.append([f.get_db_prep_save(values[f.attname], connection) if f.get_internal_type() in
                         ("DateTimeField", "DateField") else values[f.attname] for f in fields])
        marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
        with transaction.atomic(), connection.cursor() as cur:
            # Multi-row VALUES: SQLite allows 32766 parameters per statement.
            per = max(1, 32000 // len(fields))
            for i in range(0, len(rows), per):
                chunk = rows[i:i + per]
                cur.execute(f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([marks] * len(chunk)),
                            [v for r in chunk for v in r])
        if made % 100000 < batch:
            print(f"  filled {made:,} cases ({time.perf_counter() - start:.0f} s)", flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)

    from bianmin.accounts.models import RoleAssignment, User
    from bianmin.accounts.principals import principal_for_user
    from bianmin.accounts.roles import CAPABILITIES, Role
    from bianmin.cases import selectors, services
    from bianmin.cases.models import Case
    from bianmin.core.principal import Grant, Principal

    print(f"database {connection.vendor}; var {VAR}", flush=True)
    sites, items = setup_world(rng)
    items_by_site: dict[int, list] = {}
    for it in items:
        items_by_site.setdefault(it.site_id, []).append(it)
    city_path = sites[0].area.path.split("/")[0] + "/"
    actor = Principal(label="bench", grants=[Grant(city_path, CAPABILITIES[Role.CITY_ADMIN])])
    people = applicants(args.sample, rng)
    plan = [(rng.choice(sites), people[i]) for i in range(args.sample)]
    plan = [(s, rng.choice(items_by_site[s.pk]), a) for s, a in plan]

    # 1. service layer
    start = time.perf_counter()
    made = []
    for site, item, a in plan:
        made.append(services.case_submit(actor=actor, site=site, item=item, applicant=a).pk)
    t_submit = time.perf_counter() - start
    start = time.perf_counter()
    for pk in made[::2]:
        services.case_accept(actor=actor, case_id=pk)
    t_accept = time.perf_counter() - start
    n = len(plan)
    print(f"service case_submit: {n} cases in {t_submit:.1f} s = {n / t_submit:,.0f}/s; "
          f"case_accept: {len(made[::2])} in {t_accept:.1f} s = {len(made[::2]) / t_accept:,.0f}/s", flush=True)

    # 2. baselines, same rows
    now = timezone.now()
    start = time.perf_counter()
    for site, item, a in plan:
        case_row(item, site, a, now).save()
    t_create = time.perf_counter() - start
    rows = [case_row(item, site, a, now) for site, item, a in plan]
    start = time.perf_counter()
    with transaction.atomic():
        Case.objects.bulk_create(rows, batch_size=1000)
    t_bulk = time.perf_counter() - start
    r_service, r_create, r_bulk = n / t_submit, n / t_create, n / t_bulk
    print(f"baseline ORM create() per row: {r_create:,.0f}/s; bulk_create: {r_bulk:,.0f}/s", flush=True)
    print(f"RATIO service intake / ORM create(): {r_service / r_create:.3f}", flush=True)
    print(f"RATIO service intake / bulk_create:  {r_service / r_bulk:.4f}", flush=True)

    # 3. fill to total
    t_fill = fill(args.total, sites, items_by_site, rng)
    total = Case.objects.count()
    print(f"filled to {total:,} cases in {t_fill:.0f} s", flush=True)

    # 4. the clerk queue
    township_site = sites[len(sites) // 2]
    user = User.objects.create(username="bench_clerk")
    RoleAssignment.objects.create(user=user, role=Role.WINDOW_CLERK, area=township_site.area)
    principal = principal_for_user(user)
    site_items = items_by_site[township_site.pk]
    variants = [{}, {"deadline": "overdue"}, {"deadline": "due_soon"}, {"state": "in_progress"}, {"state": "completed"},
                {"item_id": None}, {"deadline": "paused"}]
    timings = []
    site_cases = Case.objects.filter(site=township_site).count()
    for i in range(args.queries):
        kw = dict(variants[i % len(variants)])
        if "item_id" in kw:
            kw["item_id"] = rng.choice(site_items).pk
        start = time.perf_counter()
        qs = selectors.cases_queue(principal=principal, **kw)
        count = qs.count()
        page = list(qs[:30])
        timings.append((time.perf_counter() - start) * 1000)
        assert count >= len(page)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"clerk queue ({site_cases:,} cases at the clerk's site, {total:,} in the database): "
          f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms over {len(timings)} queries",
          flush=True)


if __name__ == "__main__":
    main()
