"""A city-year of data at scale (``bianmin demo --scale N`` and ``bench/bench_rates.py``).

N completed cases over `days` days at the city's sites, with the demo data's distributions:
three in four evaluated actively (grades and channels as in ``evaluations.demo``), the rest a
default 满意 seven days after completion (none yet for the last week); every bad review opens a
handling (核实 → 整改 → 回访 as its age allows), confirmed ones a rectification in the one ledger,
some appealed (申诉), upheld ones excluded from the figures; one appeal (诉求) per 40 cases; 4%
of the cases 跑多趟 (two visits). The roll-ups of the figures are counted while the rows are made,
by the cohort rules of ``bianmin.figures.cohorts``.

Speed: rows go in through one prepared INSERT per table run with executemany, in chunks (memory
stays bounded whatever N), with ids assigned here so the rows of a chunk can point at each other.
The rules that matter to the figures are the services' own (aspect sets, fingerprints, the
phone key, working-day deadlines); the roll-ups (day and month rows) are written at the end.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

GRADES = [(5, 70), (4, 17), (3, 7), (2, 3.5), (1, 2.5)]  # as evaluations.demo.GRADE_WEIGHTS
MULTI_TRIP_RATE = 0.04  # 跑多趟: the applicant came twice
ACTIVE_RATE = 0.75  # as evaluations.demo (rate)


class Inserter:
    """One INSERT (SQLite: a prepared statement run with executemany) or one COPY (PostgreSQL:
    psycopg's ``cursor.copy()``, rows streamed in its text format) for `model`, every concrete
    column given. Values of a template row are converted once; a row overrides only the columns
    it names (raw Python values, converted per column by a converter chosen once, not by
    isinstance tests per value)."""

    def __init__(self, model, template: dict, vary: list[str], *, raw: tuple[str, ...] = ()):
        self.conn = connections[DEFAULT_DB_ALIAS]
        self.copy = self.conn.vendor == "postgresql"
        # The primary key is given only when the caller names it (ids it assigns itself).
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname in vary]
        qn = self.conn.ops.quote_name
        columns = ", ".join(qn(f.column) for f in self.fields)
        self.table = model._meta.db_table
        if self.copy:
            self.sql = f"COPY {qn(self.table)} ({columns}) FROM STDIN"
        else:
            self.sql = f"INSERT INTO {qn(self.table)} ({columns}) VALUES ({', '.join(['%s'] * len(self.fields))})"
        names = [f.attname for f in self.fields]
        convs = [self._converter(f) for f in self.fields]
        self.base = [self._apply(c, template.get(f.attname, self._default(f))) for f, c in zip(self.fields, convs, strict=True)]
        # `raw` columns are given already converted (e.g. JSON text dumped once per distinct value)
        self.slots = [(names.index(v), None if v in raw else convs[names.index(v)]) for v in vary]
        self.rows: list[list] = []

    @staticmethod
    def _apply(conv, v):
        return v if conv is None or v is None else conv(v)

    @staticmethod
    def _default(f):
        if f.has_default():
            return f.get_default()
        return None if f.null else ("" if isinstance(f, (models.CharField, models.TextField)) else None)

    def _converter(self, f):
        """The value as the backend's own adapters would store it (Django's
        ``adapt_datetimefield_value`` etc.), done once per column kind."""
        if isinstance(f, models.JSONField):
            return lambda v: json.dumps(v, ensure_ascii=False)  # text; both engines cast it
        if self.copy:
            return None  # psycopg dumps dates, aware datetimes, booleans itself
        if isinstance(f, models.DateTimeField):
            # SQLite keeps naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]" (str of a datetime)
            return lambda v: str(v.astimezone(UTC).replace(tzinfo=None))
        if isinstance(f, models.DateField):
            return str
        return None

    def add(self, *values) -> None:
        row = self.base.copy()
        for (i, conv), v in zip(self.slots, values, strict=True):
            row[i] = v if conv is None or v is None else conv(v)
        self.rows.append(row)

    def flush(self) -> int:
        n = len(self.rows)
        if n:
            with self.conn.cursor() as cursor:
                if self.copy:
                    with cursor.cursor.copy(self.sql) as copy:
                        for row in self.rows:
                            copy.write_row(row)
                else:
                    cursor.executemany(self.sql, self.rows)
            self.rows = []
        return n


@dataclass
class Place:
    site_id: int
    area_id: int
    window_id: int | None
    item_id: int
    weight: float


def _places() -> list[Place]:
    """Every site with an item (the demo catalog's, or one per township made here)."""
    from bianmin.catalog.models import Department, Item, StandardItem
    from bianmin.regions.models import Area, ServiceSite, Window

    first_item = {}
    for site_id, item_id in Item.objects.filter(site__isnull=False).order_by("id").values_list("site_id", "id"):
        first_item.setdefault(site_id, item_id)
    if not first_item:
        city = Area.objects.get(level="city")
        dept = Department.objects.create(code="SCALE-D", name="规模数据部门", category="民政", area=city)
        si = StandardItem.objects.create(code="SCALE-0001", name="规模数据事项", item_type="benefit",
                                         competent_department=dept, implementing_body="街道办事处", legal_limit_days=20)
        for town in Area.objects.filter(level="township").order_by("code"):
            site = ServiceSite.objects.filter(area=town, kind="center").first() or ServiceSite.objects.create(
                code=f"SCALE-{town.code}", name=f"{town.name}便民服务中心", kind="center", area=town)
            Window.objects.get_or_create(site=site, number="1", defaults={"name": "综合受理"})
            item = Item.objects.create(standard_item=si, area=town, site=site, promised_limit_days=10,
                                       implementation_code=f"SCALE-I-{town.code}")
            first_item[site.pk] = item.pk
    windows = {}
    for site_id, window_id in Window.objects.order_by("id").values_list("site_id", "id"):
        windows.setdefault(site_id, window_id)
    out = []
    for site_id, area_id, kind in ServiceSite.objects.filter(pk__in=first_item).values_list("id", "area_id", "kind"):
        out.append(Place(site_id, area_id, windows.get(site_id), first_item[site_id], 3.0 if kind == "center" else 1.0))
    return out


def _next_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


BULK_TABLES = ("cases_case", "evaluations_evaluation", "followups_badreviewhandling", "followups_rectification",
               "followups_followup")


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's plain secondary indexes: not the primary key, not
    a unique index or constraint (those keep guarding the rows while they go in)."""
    conn = connections[DEFAULT_DB_ALIAS]
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                           "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%' ORDER BY name", [table])
        elif conn.vendor == "postgresql":
            cursor.execute("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                           "WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary "
                           "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) ORDER BY i.relname",
                           [table])
        else:
            return []
        return list(cursor.fetchall())


@contextmanager
def bulk_load(tables=BULK_TABLES, *, indexes: bool = True):
    """The settings of a bulk load, restored afterwards whatever happens.

    - secondary indexes of `tables` dropped and recreated from their own saved DDL after the
      load (one sort per index instead of millions of random B-tree updates; the schema ends
      byte-identical: the same statements, see tests/demo/test_scale.py). Unique indexes
      and constraints stay. Meant for a load that at least doubles the tables (``generate``
      decides); readers of those tables are slow meanwhile.
    - SQLite: ``synchronous=OFF`` and a 512 MB page cache (a crash mid-load can lose the load,
      not corrupt the file in WAL mode); PostgreSQL: ``synchronous_commit=off`` and a larger
      ``maintenance_work_mem`` for the index builds. Pragmas cannot change inside a transaction,
      so inside one (tests) only the indexes are handled.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    saved = [(t, ix) for t in tables for ix in (_secondary_indexes(t) if indexes else [])]
    restore: list[str] = []
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite" and not conn.in_atomic_block:
            for pragma, value in (("synchronous", "OFF"), ("cache_size", "-524288")):
                cursor.execute(f"PRAGMA {pragma}")
                restore.append(f"PRAGMA {pragma} = {cursor.fetchone()[0]}")
                cursor.execute(f"PRAGMA {pragma} = {value}")
        elif conn.vendor == "postgresql":
            for name, value in (("synchronous_commit", "off"), ("maintenance_work_mem", "'512MB'")):
                cursor.execute(f"SHOW {name}")
                restore.append(f"SET {name} = '{cursor.fetchone()[0]}'")
                cursor.execute(f"SET {name} = {value}")
        for _table, (name, _sql) in saved:
            cursor.execute(f"DROP INDEX {conn.ops.quote_name(name)}")
    try:
        yield
    finally:
        with conn.cursor() as cursor:
            pending = conn.vendor == "postgresql" and conn.in_atomic_block and saved
            if pending:  # inside an outer transaction: run the deferred FK checks before CREATE INDEX
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for _table, (_name, sql) in saved:
                cursor.execute(sql.replace("%", "%%"))
            if pending:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's FKs are all DEFERRABLE INITIALLY DEFERRED
            for sql in restore:
                cursor.execute(sql)
            if conn.vendor == "postgresql" and saved:
                # Fresh planner statistics for the pages that read these tables, and (outside a
                # transaction) the visibility map, without which no index-only scan skips the heap.
                verb = "ANALYZE" if conn.in_atomic_block else "VACUUM (ANALYZE)"
                for table in tables:
                    cursor.execute(f"{verb} {conn.ops.quote_name(table)}")


class Rollups:
    """The roll-up counts (models.FIELDS) of the rows written here, accumulated as they are made:
    the cohort rules of cohorts.py applied to each row in Python (an evaluation counts in its
    case's slice, a rectification on the day it was found…), so a bulk load does not rescan
    millions of rows afterwards. ``write()`` adds them to the existing day rows (a second load
    appends) or inserts new ones, then sums the touched months again from their days. The test
    checks the result equals a rebuild from the raw rows."""

    def __init__(self):
        from bianmin.figures.models import FIELDS

        self.fields = FIELDS
        self.index = {f: i for i, f in enumerate(FIELDS)}
        self.acc: dict[tuple[date, int, int, int], list[int]] = {}

    def slot(self, day: date, area_id: int, site_key: int = 0, window_key: int = 0) -> list[int]:
        key = (day, area_id, site_key, window_key)
        got = self.acc.get(key)
        if got is None:
            got = self.acc[key] = [0] * len(self.fields)
        return got

    def write(self) -> int:
        from django.db.models import F

        from bianmin.figures.models import DailyRollup
        from bianmin.figures.rollups import levels_from_slices, months_from_days
        from bianmin.regions.models import Area

        rows = {k: v for k, v in self.acc.items() if any(v)}
        if not rows:
            return 0
        days = [k[0] for k in rows]
        existing = {(d, a, s, w): pk for pk, d, a, s, w in DailyRollup.objects.filter(
            day__gte=min(days), day__lte=max(days)).values_list("pk", "day", "area_id", "site_key", "window_key")}
        paths = dict(Area.objects.values_list("pk", "path"))
        ins = Inserter(DailyRollup, {}, ["day", "area_id", "area_path", "site_key", "window_key", *self.fields])
        with transaction.atomic():
            for (d, a, s, w), counts in rows.items():
                pk = existing.get((d, a, s, w))
                if pk is None:
                    ins.add(d, a, paths[a], s, w, *counts)
                else:
                    DailyRollup.objects.filter(pk=pk).update(
                        **{k: F(k) + v for k, v in zip(self.fields, counts, strict=True) if v})
            ins.flush()
            months_from_days(since=min(days), until=max(days))
            levels_from_slices(since=min(days), until=max(days))
        return len(rows)


def generate(n: int, *, days: int = 365, seed: int = 2026, chunk: int = 20_000, today: date | None = None,
             progress: Callable[[int, int], None] | None = None, bulk: bool | None = None) -> dict[str, int]:
    """Write `n` completed cases and what follows them; returns the counts written.

    `bulk`: load with the secondary indexes dropped and recreated (``bulk_load``); by default when
    the load is large and at least doubles the case table."""
    from bianmin.cases.models import Case

    if bulk is None:
        bulk = n >= 100_000 and n >= Case.objects.count()
    with bulk_load(indexes=bulk):
        counts, roll = _generate(n, days=days, seed=seed, chunk=chunk, today=today, progress=progress)
    counts["rollups"] = roll.write()
    return counts


def _generate(n, *, days, seed, chunk, today, progress):
    from bianmin.appeals.models import Appeal
    from bianmin.cases.models import Case
    from bianmin.core.calendar import add_working_days, is_working_day
    from bianmin.evaluations import services as es
    from bianmin.evaluations.models import Evaluation, is_bad_grade
    from bianmin.figures.cohorts import RECTIFIED_STATUSES
    from bianmin.followups.models import BadReviewHandling, FollowUp, Rectification

    rng = random.Random(seed)
    tz = timezone.get_current_timezone()
    today = today or timezone.localdate()
    now = timezone.now()
    places = _places()
    weights = [p.weight for p in places]
    cum_weights = list(itertools.accumulate(weights))
    place_idx = range(len(places))
    first_day = today - timedelta(days=days)
    # Working days only (the centers are closed on weekends and holidays): the calendar decides.
    workdays = [d for d in (first_day + timedelta(days=i) for i in range(days)) if is_working_day(d)] \
        or [today - timedelta(days=1)]
    day_open = {d: datetime.combine(d, time(8, 30), tzinfo=tz) for d in workdays}
    default_after = es.conf.default_after_days()
    rect_days = 10
    day_deadline: dict[date, date] = {}
    day_due: dict[date, date] = {}
    next_workday: dict[date, date] = {}
    rectified_statuses = {str(s) for s in RECTIFIED_STATUSES}
    grade_values, grade_cum = [g for g, _ in GRADES], list(itertools.accumulate(w for _, w in GRADES))
    channels, channel_cum = ["qr", "sms", "device", "kiosk", "web"], list(itertools.accumulate([32, 25, 25, 6, 7]))
    keyer = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)  # es.keyed, key schedule done once

    def keyed(value: str) -> str:
        h = keyer.copy()
        h.update(value.encode())
        return h.hexdigest()[:16]

    assert keyed("13800000000") == es.keyed("13800000000")

    case_ins = Inserter(Case, {"channel": "window", "state": "completed", "result": "approved", "applicant_kind": "person",
                               "applicant_name": "规模演示", "legal_limit_days": 20, "promised_limit_days": 10,
                               "visit_count": 1, "mode": "on_the_spot", "created_at": now, "updated_at": now},
                        ["id", "item_id", "site_id", "received_site_id", "window_id", "acceptance_number", "mobile",
                         "submitted_at", "accepted_at", "accepted_on", "completed_at", "completed_on", "promised_due_on",
                         "visit_count"])
    ev_ins = Inserter(Evaluation, {"kind": "first", "aspects": {}, "reasons": [], "text": ""},
                      ["id", "case_id", "grade", "aspect_set", "aspects", "reasons", "channel", "is_default", "area_id",
                       "site_id", "window_id", "item_id", "evaluated_at", "fingerprint", "phone_key", "excluded"], raw=("aspects", "reasons"))
    rect_ins = Inserter(Rectification, {"source": "bad_review", "problem": "差评反映窗口服务问题", "measure": "窗口服务规范培训",
                                        "owner_name": "中心负责人", "working_days": rect_days},
                        ["id", "number", "source_ref", "area_id", "site_id", "found_on", "deadline", "status", "result",
                         "done_on", "on_time", "created_at"])
    h_ins = Inserter(BadReviewHandling, {"verification": "", "explanation": ""},
                     ["id", "evaluation_id", "case_id", "area_id", "site_id", "status", "opened_at", "verify_due", "verdict",
                      "verified_at", "rectification_id", "followed_up_at", "citizen_satisfied", "appeal_decision",
                      "appealed_at", "appeal_decided_at", "closed_at"])
    # 回访台账 rows: the call to every followed-up bad review, and the daily random call to a share
    # of the satisfied (services.sample_rate_default, 10%). Made without a daily list (follow_list
    # is empty): the lists' (day, area) rows would collide with a second load of the same days.
    fu_ins = Inserter(FollowUp, {"method": "call", "contact_name": "规模演示", "attempt": 1, "created_at": now},
                      ["area_id", "site_id", "case_id", "evaluation_id", "handling_id", "reason", "contact_phone",
                       "outcome", "satisfaction", "notes", "done_at"])
    sample_rate = 0.10
    appeal_every = 40
    counts = dict.fromkeys(("cases", "evaluations", "active", "default", "bad", "handlings", "rectifications",
                            "excluded", "followups", "appeals"), 0)
    case_id, ev_id, rect_id, h_id = _next_id(Case), _next_id(Evaluation), _next_id(Rectification), \
        _next_id(BadReviewHandling)
    tag = f"{seed % 1000:03d}{case_id:09d}"
    aspect_cache: dict[tuple, tuple] = {}
    appeal_rows: list[tuple] = []
    roll = Rollups()
    slot = roll.slot
    F = roll.index  # models.FIELDS positions
    i_completed, i_on_time, i_multi, i_received = F["completed"], F["on_time"], F["multi_trip"], F["received"]
    i_evaluated, i_satisfied, i_defaulted = F["evaluated"], F["satisfied"], F["defaulted"]
    i_bad, i_followed, i_rectified = F["bad"], F["followed"], F["rectified"]
    i_rect_found, i_rect_done, i_rect_on_time = F["rect_found"], F["rect_done"], F["rect_on_time"]
    i_fu_rated, i_fu_satisfied = F["fu_rated"], F["fu_satisfied"]
    done = 0
    while done < n:
        size = min(chunk, n - done)
        with transaction.atomic():
            for k in range(size):
                i = done + k
                p = places[rng.choices(place_idx, cum_weights=cum_weights)[0]] if len(places) > 1 else places[0]
                day = workdays[int(len(workdays) * (i / n)) if n > 1 else 0]
                t_in = day_open[day] + timedelta(minutes=rng.randint(0, 480))
                t_done = t_in + timedelta(minutes=rng.randint(10, 90))
                mobile = f"13{rng.randint(0, 999_999_999):09d}"
                due_on = day_due.get(day)
                if due_on is None:
                    due_on = day_due[day] = add_working_days(day, 10)
                visits = 2 if rng.random() < MULTI_TRIP_RATE else 1
                case_ins.add(case_id, p.item_id, p.site_id, p.site_id, p.window_id, f"S{tag}-{i:09d}", mobile,
                             t_in, t_in, day, t_done, day, due_on, visits)
                # the case's cohort slice (accepted and completed the same local day, on time)
                c_slot = slot(day, p.area_id, p.site_id, p.window_id or 0)
                c_slot[i_completed] += 1
                c_slot[i_on_time] += 1
                c_slot[i_received] += 1
                c_slot[i_multi] += visits > 1
                if i % appeal_every == 0:
                    appeal_rows.append((p, day, t_done, mobile))
                age = (today - day).days
                active = rng.random() < ACTIVE_RATE
                if active:
                    grade = rng.choices(grade_values, cum_weights=grade_cum)[0]
                    channel = rng.choices(channels, cum_weights=channel_cum)[0]
                    at = t_done + timedelta(minutes=rng.randint(2, 60 * 24 * 3))
                    if at > now:
                        at = now - timedelta(minutes=rng.randint(1, 60))
                elif age > default_after:
                    grade, channel, at = 4, "default", t_done + timedelta(days=default_after)
                else:
                    case_id += 1
                    continue  # not evaluated yet, still within the 7 days
                key = (grade, channel)
                if key not in aspect_cache:
                    aspect_set = "online" if channel in ("web", "sms") else "onsite"
                    reasons = ["slow"] if is_bad_grade(grade) else []
                    aspects = {"overall": grade}
                    aspect_cache[key] = (aspect_set, json.dumps(aspects, ensure_ascii=False),
                                         json.dumps(reasons, ensure_ascii=False), es._fingerprint(grade, aspects, reasons, ""))
                aspect_set, aspects, reasons, fp = aspect_cache[key]
                excluded = False
                bad = active and is_bad_grade(grade)
                if bad:
                    r = rng.random()
                    verdict = "confirmed" if r < 0.9 else ("no_basis" if r < 0.96 else "mistaken")
                    upheld = verdict == "mistaken" and rng.random() < 0.6
                    excluded = upheld
                ev_ins.add(ev_id, case_id, grade, aspect_set, aspects, reasons, channel, not active, p.area_id, p.site_id,
                           p.window_id, p.item_id, at, fp, keyed(mobile), excluded)
                eday = at.astimezone(tz).date()
                counts["active" if active else "default"] += 1
                if not active:
                    c_slot[i_defaulted] += 1
                elif not excluded:  # cohorts.ACTIVE_FIRST, counted in the case's slice
                    c_slot[i_evaluated] += 1
                    c_slot[i_satisfied] += not is_bad_grade(grade)
                    if not is_bad_grade(grade) and rng.random() < sample_rate:
                        # the next working day's random call (those already due)
                        nd = next_workday.get(eday)
                        if nd is None:
                            nd = next_workday[eday] = add_working_days(eday, 1)
                        f_at = datetime.combine(nd, time(9), tzinfo=tz) + timedelta(minutes=rng.randint(0, 480))
                        if f_at < now:
                            reached = rng.random() < 0.85
                            fu_ins.add(p.area_id, p.site_id, case_id, ev_id, None, "sample", mobile,
                                       "reached" if reached else "unreached",
                                       ("satisfied" if rng.random() < 0.9 else "basic") if reached else "",
                                       "满意，无意见" if reached else "", f_at)
                            counts["followups"] += 1
                            if reached:  # satisfied or basic: both 满意 for 回访满意率
                                f_slot = slot(timezone.localdate(f_at), p.area_id, p.site_id, 0)
                                f_slot[i_fu_rated] += 1
                                f_slot[i_fu_satisfied] += 1
                if bad:
                    counts["bad"] += 1
                    counts["excluded"] += excluded
                    eage = (today - eday).days
                    rect_pk = None
                    status, verified_at, followed, satisfied, closed = "open", None, None, None, None
                    appeal_decision, appealed_at, decided_at = "", None, None
                    verify_due = eday + timedelta(days=1)
                    if eage >= 2:
                        verified_at = at + timedelta(hours=rng.randint(2, 20))
                        if verdict == "confirmed":
                            if eday not in day_deadline:
                                day_deadline[eday] = add_working_days(eday, rect_days)
                            deadline = day_deadline[eday]
                            finished = eage > 16 or rng.random() < 0.5
                            done_on = eday + timedelta(days=rng.choice([2, 4, 6, 9, 12, 15])) if finished else None
                            if done_on and done_on > today:
                                done_on = today
                            on_time = (done_on <= deadline) if done_on else None
                            rect_ins.add(rect_id, f"ZG-S{tag}-{rect_id:09d}", f"evaluation:{ev_id}", p.area_id,
                                         p.site_id, eday, deadline, "done" if done_on else "open",
                                         "已整改" if done_on else "", done_on, on_time, verified_at)
                            r_slot = slot(eday, p.area_id, p.site_id, 0)  # found on the evaluation's day
                            r_slot[i_rect_found] += 1
                            if done_on:
                                r_slot[i_rect_done] += 1
                                r_slot[i_rect_on_time] += bool(on_time)
                            rect_pk = rect_id
                            rect_id += 1
                            counts["rectifications"] += 1
                            status = "rectifying"
                            if done_on:
                                status = "rectified"
                                if rng.random() < 0.95:
                                    followed = min(datetime.combine(done_on, time(15), tzinfo=tz), now)  # not ahead of now
                                    satisfied = rng.random() < 0.8
                                    status = "closed" if eage > 20 else "followed_up"
                                    closed = followed if status == "closed" else None
                        elif verdict == "no_basis":
                            status = "explained"
                            if rng.random() < 0.9:
                                followed = min(verified_at + timedelta(days=1), now)
                                satisfied, status, closed = rng.random() < 0.5, "closed", followed
                        else:
                            appealed_at = verified_at
                            if eage > 5:
                                decided_at = appealed_at + timedelta(days=2)
                                appeal_decision = "upheld" if excluded else "rejected"
                                status = "closed" if excluded else "open"
                                closed = decided_at if excluded else None
                            else:
                                status = "appealed"
                    if excluded and status != "closed":
                        # an upheld appeal needs a decision: keep the row consistent with the figures
                        appealed_at = appealed_at or at
                        decided_at = decided_at or at + timedelta(hours=1)
                        appeal_decision, status, closed = "upheld", "closed", decided_at
                    h_verdict = "" if status == "open" and verified_at is None else verdict
                    h_ins.add(h_id, ev_id, case_id, p.area_id, p.site_id, status, at, verify_due, h_verdict, verified_at,
                              rect_pk, followed, satisfied, appeal_decision, appealed_at, decided_at, closed)
                    if not excluded:  # cohorts.BAD and what it counts of the handling, in the case's slice
                        c_slot[i_bad] += 1
                        c_slot[i_followed] += followed is not None
                        c_slot[i_rectified] += status in rectified_statuses and h_verdict != "mistaken"
                    if followed is not None:
                        fu_ins.add(p.area_id, p.site_id, case_id, ev_id, h_id, "unsatisfied", mobile, "reached",
                                   "satisfied" if satisfied else "unsatisfied",
                                   "已告知整改情况" if rect_pk else "已解释说明", followed)
                        counts["followups"] += 1
                        f_slot = slot(timezone.localdate(followed), p.area_id, p.site_id, 0)
                        f_slot[i_fu_rated] += 1
                        f_slot[i_fu_satisfied] += bool(satisfied)
                    h_id += 1
                    counts["handlings"] += 1
                ev_id += 1
                case_id += 1
            counts["cases"] += case_ins.flush()
            counts["evaluations"] += ev_ins.flush()
            rect_ins.flush()  # before the handlings that point at them
            h_ins.flush()
            fu_ins.flush()
            counts["appeals"] += _appeals(appeal_rows, rng, Appeal, roll)
            appeal_rows = []
        done += size
        if progress:
            progress(done, n)
    _reset_sequences([Case, Evaluation, Rectification, BadReviewHandling])
    return counts, roll


def _reset_sequences(models_with_given_ids) -> None:
    """PostgreSQL: ids were given here, so move the sequences past them (SQLite needs nothing)."""
    from django.core.management.color import no_style

    conn = connections[DEFAULT_DB_ALIAS]
    statements = conn.ops.sequence_reset_sql(no_style(), models_with_given_ids)
    if statements:
        with conn.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _appeals(rows: list[tuple], rng: random.Random, Appeal, roll: Rollups) -> int:
    """诉求 with the appeals app's own numbering and deadline rules (DeadlineCalculator); those
    older than their reply deadline are replied (two days after, on time unless the deadline was
    shorter), followed up (满意 80%, 基本满意 15%, 不满意 5%) and closed; the rest still open."""
    from bianmin.appeals.deadlines import DeadlineCalculator
    from bianmin.appeals.demo_texts import TEXTS
    from bianmin.appeals.services import new_number
    from bianmin.appeals.topics import Classifier

    calc = _appeals.calc = getattr(_appeals, "calc", None) or DeadlineCalculator()
    # The demo texts, each classified by the rules (as registration would), once per chunk.
    classifier = Classifier.from_database()
    texts = [(kind, title, content, classifier.classify(title, content).class_id) for _code, kind, title, content in TEXTS]
    today = timezone.localdate()
    objs = []
    idx = roll.index
    for p, day, at, mobile in rows:
        kind, title, text, topic_id = rng.choice(texts)
        contact_due, due = calc.due(kind, day)
        closed = due < today
        replied_at = at + timedelta(days=2) if closed else None
        on_time = timezone.localdate(replied_at) <= due if closed else None
        satisfaction = rng.choices(["satisfied", "basic", "unsatisfied"], [80, 15, 5])[0] if closed else ""
        a_slot = roll.slot(timezone.localdate(at), p.area_id, p.site_id, 0)  # the registration's cohort
        a_slot[idx["appeals"]] += 1
        a_slot[idx["appeal_replied"]] += closed
        a_slot[idx["appeal_on_time"]] += bool(on_time)
        a_slot[idx["appeal_rated"]] += bool(satisfaction)
        a_slot[idx["appeal_satisfied"]] += satisfaction in ("satisfied", "basic")
        objs.append(Appeal(
            number=new_number(day), kind=kind, channel=rng.choice(["hotline12345", "phone", "reception", "web"]),
            status="closed" if closed else "registered", area_id=p.area_id, site_id=p.site_id, title=title,
            content=text, topic_id=topic_id, topic_by="rule" if topic_id else "", name="规模演示", mobile=mobile, registered_at=at, contact_due=contact_due,
            due_date=due, replied_at=replied_at, replied_on_time=on_time, reply="已答复" if closed else "",
            followed_up_at=at + timedelta(days=3) if closed else None, satisfaction=satisfaction,
            resolved=satisfaction in ("satisfied", "basic") if closed else None,
            closed_at=at + timedelta(days=3) if closed else None))
    # The numbers are random (8 digits a day): at a thousand appeals a day two may meet (a
    # birthday collision; the service retries, see appeals.services._unique_number). Draw again
    # for one already used, in this load or in the database.
    numbers = {o.number for o in objs}
    taken = set(Appeal.objects.filter(number__in=numbers).values_list("number", flat=True)) if numbers else set()
    seen: set[str] = set()
    for o in objs:
        while o.number in taken or o.number in seen:
            o.number = new_number(o.registered_at.date())
        seen.add(o.number)
    Appeal.objects.bulk_create(objs, batch_size=2000)
    return len(objs)
