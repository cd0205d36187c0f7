"""The roll-ups behind every figure: counts per (day, area, site, window) and per month, by the
cohort rules of cohorts.py.

Fed after commit: the apps send their news once a write has committed (cases, evaluations,
followups, appeals — ``receivers.py``); each news names the one slice it can move and the part
of the counts it can move (a case completed: the 办结 cohort of its completion day; an
evaluation: the cohort of its *case's* completion day; a rectification: the day it was found).
``refresh()`` recounts that part of that slice from the raw rows under a lock on the slice's
row and writes the difference to the day row and, in the same transaction, adds it to the
month row. Recounting (not adding one) makes a repeated news harmless, and counting after
taking the lock means a concurrent refresh of the same slice waits and then counts what the
first one's writer committed (READ COMMITTED on PostgreSQL; SQLite serialises writers).

A lost news (a crash between commit and send, a receiver that failed) leaves its slice behind:
the daily job (tasks.py) recounts the last ``BIANMIN_FIGURES_REPAIR_DAYS`` days of every part
with ``rebuild(since=…)``, and ``bianmin manage rebuild_rollups [--since DAY] [--check]``
recounts or verifies any span. Bulk loaders (the demo, ``bianmin/demo/scale.py``) write the rows
without news and rebuild (or count while loading) once.

Every slice row also moves the rows of the areas above it: ``AreaDailyRollup`` and
``AreaMonthlyRollup`` hold each area's whole subtree (city, district, township, village), moved
by the same difference in the same transaction and derived from the slice rows on a rebuild
(``levels_from_slices``). So an area's figures never need its sites and windows.

Reading: a period is the month rows of the whole months it covers and the day rows of its
ragged ends, summed in SQL grouped by what the page shows (``area_sums``: areas, e.g. a city's
districts and townships; ``slice_sums``: a township's sites, a site's windows). A city's year is
one row a month (and a day for the ragged ends) per area shown, whatever the number of cases,
sites or windows; the Python work is per row *returned* (an area, a site, a month), never per
row read. No date function runs in SQL (SQLite runs Django's in Python, per row): a ragged end
never spans two months, so its month is known before the query.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from . import cohorts as C
from .models import (
    APPEAL_FIELDS,
    CASE_FIELDS,
    FIELDS,
    FOLLOWUP_FIELDS,
    RECEIVED_FIELDS,
    RECT_FIELDS,
    AreaDailyRollup,
    AreaMonthlyRollup,
    DailyRollup,
    MonthlyRollup,
)

log = logging.getLogger(__name__)

Key = tuple[date, int, int, int]  # (day, area id, site key, window key)


def month_of(d: date) -> date:
    return d.replace(day=1)


def _local_day(dt: datetime | None) -> date | None:
    return None if dt is None else timezone.localdate(dt)


def _site_areas() -> dict[int, int]:
    from bianmin.regions.models import ServiceSite

    return dict(ServiceSite.objects.values_list("pk", "area_id"))


# --- the parts: which counts a kind of news can move, counted for one slice or grouped ---------

def _case_aggregates() -> dict:
    return {"completed": Count("pk"), "on_time": Count("pk", filter=C._on_time_case()),
            "multi_trip": Count("pk", filter=Q(visit_count__gt=1))}


def _evaluation_aggregates() -> dict:
    return {"evaluated": Count("pk", filter=C.ACTIVE_FIRST), "satisfied": Count("pk", filter=C.SATISFIED_FIRST),
            "defaulted": Count("pk", filter=C.DEFAULT_FIRST), "bad": Count("pk", filter=C.BAD),
            "followed": Count("pk", filter=C.followed_q()), "rectified": Count("pk", filter=C.rectified_q())}


def _rect_aggregates() -> dict:
    return {"rect_found": Count("pk"), "rect_done": Count("pk", filter=Q(status="done")),
            "rect_on_time": Count("pk", filter=Q(status="done", on_time=True))}


def _appeal_aggregates() -> dict:
    return {"appeals": Count("pk"), "appeal_replied": Count("pk", filter=Q(replied_at__isnull=False)),
            "appeal_on_time": Count("pk", filter=Q(replied_on_time=True)),
            "appeal_rated": Count("pk", filter=~Q(satisfaction="")),
            "appeal_satisfied": Count("pk", filter=Q(satisfaction__in=C.SATISFIED_ANSWERS))}


def _followup_aggregates() -> dict:
    return {"fu_rated": Count("pk", filter=Q(outcome="reached") & ~Q(satisfaction="")),
            "fu_satisfied": Count("pk", filter=Q(outcome="reached", satisfaction__in=C.SATISFIED_ANSWERS))}


def _slice_q(field: str, key: Key, *, area: str | None, site: str, window: str | None) -> Q:
    day, area_id, site_key, window_key = key
    q = C.span(field, day, day, is_datetime=field not in ("found_on",))
    if area:
        q &= Q(**{f"{area}_id": area_id})
    q &= Q(**{f"{site}_id": site_key}) if site_key else Q(**{f"{site}__isnull": True})
    if window:
        q &= Q(**{f"{window}_id": window_key}) if window_key else Q(**{f"{window}__isnull": True})
    return q


def _count_cases(key: Key) -> dict[str, int]:
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation

    cases = Case.objects.filter(_slice_q("completed_at", key, area=None, site="site", window="window"),
                                state="completed")
    got = cases.aggregate(**_case_aggregates())
    got.update(Evaluation.objects.filter(case__in=cases.values("pk")).aggregate(**_evaluation_aggregates()))
    return got


def _count_received(key: Key) -> dict[str, int]:
    from bianmin.cases.models import Case

    return Case.objects.filter(_slice_q("accepted_at", key, area=None, site="received_site", window="window")) \
        .aggregate(received=Count("pk"), transferred=Count("pk", filter=C.TRANSFERRED))


def _count_rects(key: Key) -> dict[str, int]:
    from bianmin.followups.models import Rectification

    return Rectification.objects.filter(_slice_q("found_on", key, area="area", site="site", window=None)) \
        .aggregate(**_rect_aggregates())


def _count_appeals(key: Key) -> dict[str, int]:
    from bianmin.appeals.models import Appeal

    return Appeal.objects.filter(_slice_q("registered_at", key, area="area", site="site", window=None)) \
        .aggregate(**_appeal_aggregates())


def _count_followups(key: Key) -> dict[str, int]:
    from bianmin.followups.models import FollowUp

    return FollowUp.objects.filter(_slice_q("done_at", key, area="area", site="site", window=None)) \
        .aggregate(**_followup_aggregates())


def _grouped_cases(since, until, site_area) -> Iterable[tuple[Key, dict]]:
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation

    tz = timezone.get_current_timezone()
    qs = Case.objects.filter(C.span("completed_at", since, until), state="completed") \
        .annotate(d=TruncDate("completed_at", tzinfo=tz)).values("d", "site_id", "window_id") \
        .annotate(**_case_aggregates()).order_by()
    for r in qs.iterator(chunk_size=5000):
        yield (r["d"], site_area[r["site_id"]], r["site_id"], r["window_id"] or 0), \
            {k: r[k] for k in ("completed", "on_time", "multi_trip")}
    ev = Evaluation.objects.filter(C.span("case__completed_at", since, until), case__state="completed") \
        .annotate(d=TruncDate("case__completed_at", tzinfo=tz)).values("d", "case__site_id", "case__window_id") \
        .annotate(**_evaluation_aggregates()).order_by()
    names = list(_evaluation_aggregates())
    for r in ev.iterator(chunk_size=5000):
        yield (r["d"], site_area[r["case__site_id"]], r["case__site_id"], r["case__window_id"] or 0), \
            {k: r[k] for k in names}


def _grouped_received(since, until, site_area):
    from bianmin.cases.models import Case

    tz = timezone.get_current_timezone()
    qs = Case.objects.filter(C.span("accepted_at", since, until), accepted_at__isnull=False) \
        .annotate(d=TruncDate("accepted_at", tzinfo=tz)).values("d", "received_site_id", "window_id") \
        .annotate(received=Count("pk"), transferred=Count("pk", filter=C.TRANSFERRED)).order_by()
    for r in qs.iterator(chunk_size=5000):
        yield (r["d"], site_area[r["received_site_id"]], r["received_site_id"], r["window_id"] or 0), \
            {"received": r["received"], "transferred": r["transferred"]}


def _grouped_simple(model, field, is_datetime, aggregates, since, until, extra: Q | None = None):
    tz = timezone.get_current_timezone()
    qs = model.objects.filter(C.span(field, since, until, is_datetime=is_datetime) & (extra or Q()))
    qs = qs.annotate(d=TruncDate(field, tzinfo=tz) if is_datetime else F(field))
    names = list(aggregates)
    for r in qs.values("d", "area_id", "site_id").annotate(**aggregates).order_by().iterator(chunk_size=5000):
        yield (r["d"], r["area_id"], r["site_id"] or 0, 0), {k: r[k] for k in names}


def _grouped_rects(since, until, site_area):
    from bianmin.followups.models import Rectification

    return _grouped_simple(Rectification, "found_on", False, _rect_aggregates(), since, until)


def _grouped_appeals(since, until, site_area):
    from bianmin.appeals.models import Appeal

    return _grouped_simple(Appeal, "registered_at", True, _appeal_aggregates(), since, until)


def _grouped_followups(since, until, site_area):
    from bianmin.followups.models import FollowUp

    return _grouped_simple(FollowUp, "done_at", True, _followup_aggregates(), since, until,
                           Q(done_at__isnull=False))


@dataclass(frozen=True)
class Part:
    name: str
    fields: tuple[str, ...]
    count: object  # (key) -> counts of the slice
    grouped: object  # (since, until, site_area) -> iterator of (key, counts)


CASES = Part("cases", CASE_FIELDS, _count_cases, _grouped_cases)
RECEIVED = Part("received", RECEIVED_FIELDS, _count_received, _grouped_received)
RECTS = Part("rectifications", RECT_FIELDS, _count_rects, _grouped_rects)
APPEALS = Part("appeals", APPEAL_FIELDS, _count_appeals, _grouped_appeals)
FOLLOWUPS = Part("followups", FOLLOWUP_FIELDS, _count_followups, _grouped_followups)
PARTS = (CASES, RECEIVED, RECTS, APPEALS, FOLLOWUPS)


def slice_counts(key: Key, parts=PARTS) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in parts:
        out.update(part.count(key))
    return out


# --- keeping a slice current ------------------------------------------------------------------

def _path_of(area_id: int) -> str:
    from bianmin.regions.models import Area

    return Area.objects.values_list("path", flat=True).get(pk=area_id)


def _add_sql(model, where_field: str, where_value, key: Key, delta: dict[str, int]) -> int:
    """``UPDATE … SET n = n + %s`` written out (it runs after every evaluation's commit; the F()
    expression form costs more to build than to run)."""
    opts = model._meta
    qn = connection.ops.quote_name
    col = {f.attname: f.column for f in opts.concrete_fields}
    sets = ", ".join(f"{qn(col[k])} = {qn(col[k])} + %s" for k in delta)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(opts.db_table)} SET {sets} WHERE {qn(col[where_field])} = %s AND {qn(col['area_id'])} = %s"
            f" AND {qn(col['site_key'])} = %s AND {qn(col['window_key'])} = %s",
            [*delta.values(), where_value, key[1], key[2], key[3]])
        return cursor.rowcount


def ancestors(path: str) -> list[str]:
    """The paths of an area and of every area above it, the city first ("a/", "a/b/", "a/b/c/")."""
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _ensure_area_rows(model, date_field: str, value: date, paths: list[str]) -> None:
    model.objects.bulk_create([model(area_path=p, **{date_field: value}) for p in paths], ignore_conflicts=True)


def _add_to_areas(model, date_field: str, value: date, paths: list[str], delta: dict[str, int]) -> int:
    """Add ``delta`` to the rows of ``paths`` on one day (month): one statement for every level.
    The rows are locked in the order of their paths (the index order of the IN list on both
    engines), the city first, so two writers below the same city never wait on each other in a
    cycle; they are the last rows a refresh writes, so the city's row is held only until commit."""
    opts = model._meta
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(k)} = {qn(k)} + %s" for k in delta)
    marks = ", ".join(["%s"] * len(paths))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {qn(opts.db_table)} SET {sets} WHERE {qn(date_field)} = %s AND {qn('area_path')} IN ({marks})",
                       [*delta.values(), connection.ops.adapt_datefield_value(value), *paths])
        return cursor.rowcount


def _recount_areas(day: date, paths: list[str]) -> None:
    """The area rows of ``paths`` for ``day`` and its month summed again from the slice rows
    (a row found missing: the slice rows are current in this transaction, the area rows follow)."""
    month = month_of(day)
    for model, date_field, source, value in ((AreaDailyRollup, "day", DailyRollup, day),
                                             (AreaMonthlyRollup, "month", MonthlyRollup, month)):
        _ensure_area_rows(model, date_field, value, paths)
        for p in paths:
            got = source.objects.filter(area_path__startswith=p, **{date_field: value}).aggregate(
                **{k: Sum(k) for k in FIELDS})
            model.objects.filter(area_path=p, **{date_field: value}).update(**{k: got[k] or 0 for k in FIELDS})


def refresh(key: Key, parts=PARTS) -> bool:
    """Bring the counts of ``parts`` of one slice in line with the raw rows (idempotent); the
    month row and the day and month rows of every area above the slice move by the same
    difference. Returns whether anything changed."""
    day, area_id, site_key, window_key = key
    month = month_of(day)
    lookup = {"day": day, "area_id": area_id, "site_key": site_key, "window_key": window_key}
    with transaction.atomic():
        row = DailyRollup.objects.select_for_update().filter(**lookup).first()
        fresh = row is None
        if fresh:
            DailyRollup.objects.bulk_create([DailyRollup(area_path=_path_of(area_id), **lookup)], ignore_conflicts=True)
            row = DailyRollup.objects.select_for_update().filter(**lookup).first()
            if row is None:  # pragma: no cover (removed again by a concurrent rebuild: its rows are current)
                return False
            parts = PARTS  # a fresh row: count every part of the slice (a lost news may hide in another)
        counts = slice_counts(key, parts)
        delta = {k: v - getattr(row, k) for k, v in counts.items() if v != getattr(row, k)}
        if not delta:
            return False
        paths = ancestors(row.area_path)
        DailyRollup.objects.filter(pk=row.pk).update(**{k: counts[k] for k in delta})
        month_fresh = not _add_sql(MonthlyRollup, "month", month, key, delta)
        if month_fresh:
            MonthlyRollup.objects.bulk_create(
                [MonthlyRollup(month=month, area_id=area_id, area_path=row.area_path, site_key=site_key,
                               window_key=window_key)], ignore_conflicts=True)
            _add_sql(MonthlyRollup, "month", month, key, delta)
        # The areas' rows exist once any slice below them has a row that day (month): made with
        # the first one, then only added to.
        if fresh:
            _ensure_area_rows(AreaDailyRollup, "day", day, paths)
        if month_fresh:
            _ensure_area_rows(AreaMonthlyRollup, "month", month, paths)
        moved = _add_to_areas(AreaDailyRollup, "day", day, paths, delta)
        moved += _add_to_areas(AreaMonthlyRollup, "month", month, paths, delta)
        if moved != 2 * len(paths):  # a row gone (a manual delete, an interrupted rebuild): recount them
            log.warning("figures: area roll-up rows missing for %s %s; recounted", day, row.area_path)
            _recount_areas(day, paths)
    return True


def refresh_quietly(key: Key | None, parts) -> None:
    """For receivers: the writer has committed; a failure here is logged and left to the repair."""
    if key is None or key[0] is None or key[1] is None:
        return
    try:
        refresh(key, parts)
    except Exception:
        log.exception("figures: could not refresh the roll-up slice %s", key)


# --- slice keys of the rows the news is about -------------------------------------------------

def case_key(case_id: int) -> Key | None:
    from bianmin.cases.models import Case

    row = Case.objects.filter(pk=case_id, state="completed").values_list(
        "completed_at", "site_id", "site__area_id", "window_id").first()
    if row is None or row[0] is None:
        return None
    return (_local_day(row[0]), row[2], row[1], row[3] or 0)


def received_key(case_id: int) -> Key | None:
    from bianmin.cases.models import Case

    row = Case.objects.filter(pk=case_id).values_list(
        "accepted_at", "received_site_id", "received_site__area_id", "window_id").first()
    if row is None or row[0] is None:
        return None
    return (_local_day(row[0]), row[2], row[1], row[3] or 0)


def rect_key(rect) -> Key:
    return (rect.found_on, rect.area_id, rect.site_id or 0, 0)


def appeal_key(appeal) -> Key:
    return (_local_day(appeal.registered_at), appeal.area_id, appeal.site_id or 0, 0)


def followup_key(fu) -> Key | None:
    if fu.done_at is None:
        return None
    return (_local_day(fu.done_at), fu.area_id, fu.site_id or 0, 0)


# --- rebuilding from the raw rows -------------------------------------------------------------

def count_all(since: date | None = None, until: date | None = None) -> dict[Key, dict[str, int]]:
    """Every part grouped by slice, from the raw rows (the days [since, until])."""
    site_area = _site_areas()
    acc: dict[Key, dict[str, int]] = defaultdict(dict)
    for part in PARTS:
        for key, counts in part.grouped(since, until, site_area):
            acc[key].update(counts)
    return acc


def rebuild(*, since: date | None = None, until: date | None = None) -> int:
    """Recount the day rows of [since, until] (everything by default) and the month rows of the
    months they touch. Returns the number of day rows written."""
    from bianmin.regions.models import Area

    acc = count_all(since, until)
    paths = dict(Area.objects.values_list("pk", "path"))
    rows = [DailyRollup(day=k[0], area_id=k[1], area_path=paths[k[1]], site_key=k[2], window_key=k[3],
                        **{f: c.get(f, 0) for f in FIELDS})
            for k, c in acc.items() if any(c.values())]
    with transaction.atomic():
        day_span = Q()
        if since:
            day_span &= Q(day__gte=since)
        if until:
            day_span &= Q(day__lte=until)
        DailyRollup.objects.filter(day_span).delete()
        DailyRollup.objects.bulk_create(rows, batch_size=2000)
        months_from_days(since=month_of(since) if since else None, until=until)
        levels_from_slices(since=since, until=until)
    return len(rows)


def months_from_days(*, since: date | None = None, until: date | None = None) -> int:
    """The month rows of the months [since, until] summed again from their day rows."""
    q, mq = Q(), Q()
    if since:
        q &= Q(day__gte=month_of(since))
        mq &= Q(month__gte=month_of(since))
    if until:  # whole months: the days after `until` in its month count too
        q &= Q(day__lt=_next_month(until))
        mq &= Q(month__lte=month_of(until))
    got = DailyRollup.objects.filter(q).annotate(m=TruncMonth("day")).values(
        "m", "area_id", "area_path", "site_key", "window_key").annotate(**{k: Sum(k) for k in FIELDS}).order_by()
    rows = []
    for r in got.iterator(chunk_size=5000):
        m = r["m"].date() if isinstance(r["m"], datetime) else r["m"]
        rows.append(MonthlyRollup(month=m, area_id=r["area_id"], area_path=r["area_path"], site_key=r["site_key"],
                                  window_key=r["window_key"], **{k: r[k] or 0 for k in FIELDS}))
    with transaction.atomic():
        MonthlyRollup.objects.filter(mq).delete()
        MonthlyRollup.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def levels_from_slices(*, since: date | None = None, until: date | None = None) -> int:
    """The areas' rows summed again from the slice rows: the day rows of [since, until] and the
    month rows of the months they touch (whole months, as months_from_days). One INSERT … SELECT
    per level of the area tree, so a rebuild of millions of slice rows never passes through
    Python. A prefix of a slice's path is an area above it when it ends with "/"."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(k) for k in FIELDS)
    sums_ = ", ".join(f"SUM({qn(k)})" for k in FIELDS)
    adapt = connection.ops.adapt_datefield_value
    written = 0
    with transaction.atomic():
        day_q, month_q = Q(), Q()
        if since:
            day_q &= Q(day__gte=since)
            month_q &= Q(month__gte=month_of(since))
        if until:
            day_q &= Q(day__lte=until)
            month_q &= Q(month__lte=month_of(until))
        AreaDailyRollup.objects.filter(day_q).delete()
        AreaMonthlyRollup.objects.filter(month_q).delete()
        for target, source, field, lo, hi in (
                (AreaDailyRollup, DailyRollup, "day", since, until),
                (AreaMonthlyRollup, MonthlyRollup, "month", month_of(since) if since else None,
                 month_of(until) if until else None)):
            span, params = "", []
            if lo:
                span += f" AND {qn(field)} >= %s"
                params.append(adapt(lo))
            if hi:
                span += f" AND {qn(field)} <= %s"
                params.append(adapt(hi))
            cut = set()
            for path in source.objects.values_list("area_path", flat=True).distinct().order_by():
                cut.update(len(p) for p in ancestors(path))
            table, src = qn(target._meta.db_table), qn(source._meta.db_table)
            with connection.cursor() as cursor:
                for n in sorted(cut):
                    cursor.execute(
                        f"INSERT INTO {table} ({qn(field)}, {qn('area_path')}, {cols}) "
                        f"SELECT {qn(field)}, SUBSTR({qn('area_path')}, 1, {n}), {sums_} FROM {src} "
                        f"WHERE SUBSTR({qn('area_path')}, {n}, 1) = '/'{span} "
                        f"GROUP BY {qn(field)}, SUBSTR({qn('area_path')}, 1, {n})", params)
                    written += max(cursor.rowcount, 0)
    return written


def _levels_wanted(rows: Iterable[tuple[date, str, dict[str, int]]]) -> dict[tuple[date, str], dict[str, int]]:
    out: dict = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for when, path, counts in rows:
        for p in ancestors(path):
            acc = out[(when, p)]
            for f in FIELDS:
                acc[f] += counts[f]
    return out


def check(*, since: date | None = None, until: date | None = None) -> list[str]:
    """The slices whose day rows differ from the raw rows (and months from their days)."""
    want = {k: c for k, c in count_all(since, until).items() if any(c.values())}
    q = Q()
    if since:
        q &= Q(day__gte=since)
    if until:
        q &= Q(day__lte=until)
    have = {(r.day, r.area_id, r.site_key, r.window_key): r.counts() for r in DailyRollup.objects.filter(q)}
    bad = []
    for key in set(want) | set(have):
        w = {f: want.get(key, {}).get(f, 0) for f in FIELDS}
        h = have.get(key, dict.fromkeys(FIELDS, 0))
        if w != h:
            bad.append(f"{key[0]} 区划#{key[1]} 场所#{key[2]} 窗口#{key[3]}")
    mq = Q()
    if since:
        mq &= Q(month__gte=month_of(since))
    months = {(r.month, r.area_id, r.site_key, r.window_key): r.counts() for r in MonthlyRollup.objects.filter(mq)}
    dq = Q(day__gte=month_of(since)) if since else Q()
    summed: dict = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for r in DailyRollup.objects.filter(dq):
        s = summed[(month_of(r.day), r.area_id, r.site_key, r.window_key)]
        for f in FIELDS:
            s[f] += getattr(r, f)
    for key in set(months) | set(summed):
        if months.get(key, dict.fromkeys(FIELDS, 0)) != summed.get(key, dict.fromkeys(FIELDS, 0)):
            bad.append(f"{key[0]:%Y-%m} 月汇总 区划#{key[1]} 场所#{key[2]} 窗口#{key[3]}")
    # the areas' rows against their slices
    zero = dict.fromkeys(FIELDS, 0)
    for label, model, field, source, sq in (
            ("区划日汇总", AreaDailyRollup, "day", DailyRollup, q),
            ("区划月汇总", AreaMonthlyRollup, "month", MonthlyRollup, mq)):
        want_ = _levels_wanted((getattr(r, field), r.area_path, r.counts()) for r in source.objects.filter(sq))
        have_ = {(getattr(r, field), r.area_path): r.counts() for r in model.objects.filter(sq)}
        for key in set(want_) | set(have_):
            if want_.get(key, zero) != have_.get(key, zero):
                bad.append(f"{key[0]} {label} {key[1]}")
    return sorted(bad)


# --- reading: sums over a period --------------------------------------------------------------

def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _prev_month(d: date) -> date:
    return date(d.year - (d.month == 1), (d.month - 2) % 12 + 1, 1)


def pieces(start: date, end: date, *, days_only: bool = False
           ) -> tuple[tuple[date, date] | None, list[tuple[date, date]], list[tuple[date, date]]]:
    """[start, end] as month rows, day rows to add and day rows to take away: (the first and
    last month of a run of month rows, or None; the day spans to add; the day spans to
    subtract). A month the period covers only in part is read from whichever is fewer rows: its
    days in the period, or its month row less its days outside the period (the last 365 days
    from the 4th: the month row less three days, not 28 day rows). Every day span lies inside
    one month, so its month is known without a date function."""
    if start > end:
        return None, [], []
    if days_only:
        return None, _split_months(start, end), []
    months: list[date] = []
    add: list[tuple[date, date]] = []
    sub: list[tuple[date, date]] = []
    m = month_of(start)
    while m <= end:
        last = _next_month(m) - timedelta(days=1)
        lo, hi = max(start, m), min(end, last)
        inside = (hi - lo).days + 1
        outside = (lo - m).days + (last - hi).days
        if outside == 0:
            months.append(m)
        elif outside + 1 < inside:  # the month row and fewer day rows than the days inside
            months.append(m)
            if lo > m:
                sub.append((m, lo - timedelta(days=1)))
            if hi < last:
                sub.append((hi + timedelta(days=1), last))
        else:
            add.append((lo, hi))
        m = _next_month(m)
    # Only the first and the last month can be partial: the months read form one run.
    return ((months[0], months[-1]) if months else None), add, sub


def _split_months(lo: date, hi: date) -> list[tuple[date, date]]:
    out = []
    while lo <= hi:
        last = min(hi, _next_month(lo) - timedelta(days=1))
        out.append((lo, last))
        lo = last + timedelta(days=1)
    return out


def _norm_date(v) -> date:
    """A date column as the engine returns it: a date (PostgreSQL), a datetime or ISO text (SQLite)."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _read(tables: tuple[type, type], cond: str, params: list, keys: list[str], start: date, end: date, *,
          per: str | None, unique: bool, fields=FIELDS) -> list[tuple]:
    """The rows of ``cond`` over [start, end] summed in SQL and grouped by the columns ``keys``
    (and the month or day when ``per`` says so): one statement, whatever the pieces. Returns
    (key values…, [period,] sums…) tuples; the period is a date (a month's first day for
    "month"), and by month a key may come twice (a month row and its days taken away: the
    caller adds them). ``unique``: a (keys, date) pair is one row already (the areas' tables),
    so a month or a day needs no grouping."""
    day_model, month_model = tables
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datefield_value
    cols = [qn(k) for k in fields]
    key_cols = [qn(k) for k in keys]
    key_sel = "".join(f"{k}, " for k in key_cols)
    plain, negated = ", ".join(cols), ", ".join(f"-{c}" for c in cols)
    summed = ", ".join(f"SUM({c})" for c in cols)
    day_t, month_t = qn(day_model._meta.db_table), qn(month_model._meta.db_table)
    day_c, month_c = qn("day"), qn("month")
    months, add, sub = pieces(start, end, days_only=per == "day")

    def ranges(spans):
        return " OR ".join(f"({day_c} >= %s AND {day_c} <= %s)" for _ in spans), [adapt(x) for s_ in spans for x in s_]

    parts: list[tuple[str, list]] = []
    month_args = [*params, adapt(months[0]), adapt(months[1])] if months else []
    if per is None:
        if months:
            parts.append((f"SELECT {key_sel}{plain} FROM {month_t} WHERE {cond} AND {month_c} >= %s AND {month_c} <= %s",
                          month_args))
        for spans, values in ((add, plain), (sub, negated)):
            if spans:
                where, args = ranges(spans)
                parts.append((f"SELECT {key_sel}{values} FROM {day_t} WHERE {cond} AND ({where})", [*params, *args]))
        if not parts:
            return []
        group = f" GROUP BY {', '.join(key_cols)}" if keys else ""
        sql = f"SELECT {key_sel}{summed} FROM ({' UNION ALL '.join(p for p, _ in parts)}) u{group}"
    elif per == "day":
        sel, group = (plain, "") if unique else (summed, f" GROUP BY {key_sel}{day_c}")
        parts.append((f"SELECT {key_sel}{day_c}, {sel} FROM {day_t} WHERE {cond} AND {day_c} >= %s AND {day_c} <= %s"
                      f"{group}", [*params, adapt(start), adapt(end)]))
        sql = parts[0][0]
    elif per == "month":
        if months:
            sel, group = (plain, "") if unique else (summed, f" GROUP BY {key_sel}{month_c}")
            parts.append((f"SELECT {key_sel}{month_c}, {sel} FROM {month_t} WHERE {cond} AND {month_c} >= %s "
                          f"AND {month_c} <= %s{group}", month_args))
        group = f" GROUP BY {', '.join(key_cols)}" if keys else ""
        for spans, sign in ((add, ""), (sub, "-")):
            for lo, hi in spans:  # MIN(day) names the span's month (a span lies in one month)
                parts.append((f"SELECT {key_sel}MIN({day_c}), {', '.join(f'{sign}SUM({c})' for c in cols)} "
                              f"FROM {day_t} WHERE {cond} AND {day_c} >= %s AND {day_c} <= %s{group}",
                              [*params, adapt(lo), adapt(hi)]))
        if not parts:
            return []
        sql = " UNION ALL ".join(p for p, _ in parts)
    else:
        raise ValueError(per)
    args = [a for _, ps in parts for a in ps]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        rows = cursor.fetchall()
    if per is None:
        return rows
    n = len(keys)
    out = []
    for row in rows:
        if row[n] is None:  # a span without rows and without keys: one row of NULLs
            continue
        period = _norm_date(row[n])
        out.append((*row[:n], month_of(period) if per == "month" else period, *row[n + 1:]))
    return out


def _as_counts(values, fields=FIELDS) -> dict[str, int]:
    return {k: v or 0 for k, v in zip(fields, values, strict=True)}


def _marks(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def area_sums(paths: list[str], start: date, end: date, *, per: str | None = None,
              fields=FIELDS) -> dict[tuple, dict[str, int]]:
    """The counts of each area of ``paths`` (its whole subtree) over [start, end], from the
    areas' rows: {(path,): counts}, or {(path, period): counts} by "month" or "day"."""
    if not paths:
        return {}
    out: dict[tuple, dict[str, int]] = {}
    cond = f"{connection.ops.quote_name('area_path')} IN ({_marks(paths)})"
    width = 1 if per is None else 2
    for row in _read((AreaDailyRollup, AreaMonthlyRollup), cond, list(paths), ["area_path"], start, end, per=per,
                     unique=True, fields=fields):
        key = tuple(row[:width])
        acc = out.get(key)
        counts = _as_counts(row[width:], fields)
        if acc is None:
            out[key] = counts
        else:  # a month row and the days of it taken away
            for k, v in counts.items():
                acc[k] += v
    return out


def slice_sums(start: date, end: date, *, sites: list[int], window: int | None = None, by: str | None = None,
               per: str | None = None, fields=FIELDS) -> dict[tuple, dict[str, int]]:
    """The counts of the slices of ``sites`` (and of one ``window`` of them, 0: no window) over
    [start, end], grouped by "site" or "window" (``by``) and the "month" or "day" (``per``):
    {(key?, period?): counts}; () is the key of a total."""
    if not sites:
        return {}
    qn = connection.ops.quote_name
    cond = f"{qn('site_key')} IN ({_marks(sites)})"
    params: list = list(sites)
    if window is not None:
        cond += f" AND {qn('window_key')} = %s"
        params.append(window)
    keys = {None: [], "site": ["site_key"], "window": ["window_key"]}[by]
    width = len(keys) + (per is not None)
    out: dict[tuple, dict[str, int]] = {}
    for row in _read((DailyRollup, MonthlyRollup), cond, params, keys, start, end, per=per, unique=False,
                     fields=fields):
        key = tuple(row[:width])
        counts = _as_counts(row[width:], fields)
        acc = out.get(key)
        if acc is None:
            out[key] = counts
        else:
            for k, v in counts.items():
                acc[k] += v
    return out


def where_sums(where: C.Where, start: date, end: date, *, per: str | None = None) -> dict:
    """The counts of one place (an area's subtree, or a site, or a window of it): {period: counts}
    by "month"/"day", or {None: counts} for the total."""
    if where.site is None:
        got = area_sums([where.path], start, end, per=per)
        return {(k[1] if per else None): v for k, v in got.items()}
    got = slice_sums(start, end, sites=[where.site], window=where.window, per=per)
    return {(k[0] if per else None): v for k, v in got.items()}


def totals(where: C.Where, start: date, end: date) -> dict[str, int]:
    return where_sums(where, start, end).get(None) or dict.fromkeys(FIELDS, 0)
