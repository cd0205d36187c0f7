"""Daily roll-ups of the rate figures (DailyRollup), kept current by the writes that change them.

Each write that can move a figure (an evaluation saved, a bad-review handling saved, a
rectification saved, a case completed) brings the one (day, area) slice it belongs to up to date,
inside the same transaction, and only the figures that write can move: a handling recounts the
evaluation figures of its slice, a case the completed count, a rectification its two counts.
Recounting from the raw rows keeps one rule for "what counts" (the same filters as the naive
rates) and is idempotent. The one exception is the hot path, a new evaluation: it adds its own
contribution (``contribution()``, the same rule applied to one row) to the existing row with a
single UPDATE, so a submission's cost does not grow with the size of its day; when the row does
not exist yet the slice is recounted instead.

Concurrency: the slice's roll-up row is locked (select_for_update) before counting. On PostgreSQL
(READ COMMITTED) a second writer of the same slice waits for the first to commit, and its counts
then see the first one's rows: no lost update. A new evaluation's UPDATE takes the same row lock,
so it lands either after a recount that could not see the uncommitted evaluation, or before one
that waits for it and then counts it. SQLite writers are serialised anyway (IMMEDIATE).

Bulk loaders that bypass the ORM signals (bulk_create in the demo and the benchmarks) call
``rebuild()`` afterwards; ``bianmin manage rebuild_rollups [--since DAY]`` recomputes from the raw
rows at any time, so the roll-ups can always be verified and restored.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import BadReviewHandling, DailyRollup, Rectification

FIELDS = ("completed", "active", "satisfied", "bad", "followed", "rectified", "rect_done", "rect_on_time")
H = BadReviewHandling.Status

# Bad reviews counted as rectified (or explained): the same rule as the naive rates.
RECTIFIED_STATUSES = [H.EXPLAINED, H.RECTIFIED, H.FOLLOWED_UP, H.CLOSED]
_RECTIFIED = Q(handling__status__in=RECTIFIED_STATUSES) & ~Q(handling__verdict=BadReviewHandling.Verdict.MISTAKEN)
_BAD = Q(grade__lte=2, is_default=False, excluded=False)
_ACTIVE = Q(kind="first", is_default=False, excluded=False)

_state = threading.local()


@contextmanager
def paused():
    """Bulk loaders: skip per-row upkeep (call rebuild() afterwards)."""
    _state.paused = getattr(_state, "paused", 0) + 1
    try:
        yield
    finally:
        _state.paused -= 1


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def _evaluation_counts(lo: datetime, hi: datetime, area_id: int) -> dict[str, int]:
    from bianmin.evaluations.models import Evaluation

    return Evaluation.objects.filter(area_id=area_id, evaluated_at__gte=lo, evaluated_at__lt=hi).aggregate(
        active=Count("pk", filter=_ACTIVE),
        satisfied=Count("pk", filter=_ACTIVE & Q(grade__gte=3)),
        bad=Count("pk", filter=_BAD),
        followed=Count("pk", filter=_BAD & Q(handling__followed_up_at__isnull=False)),
        rectified=Count("pk", filter=_BAD & _RECTIFIED),
    )


def _completed_counts(lo: datetime, hi: datetime, area_id: int) -> dict[str, int]:
    from bianmin.cases.models import Case

    return {"completed": Case.objects.filter(state="completed", site__area_id=area_id,
                                             completed_at__gte=lo, completed_at__lt=hi).count()}


def _rectification_counts(day: date, area_id: int) -> dict[str, int]:
    return Rectification.objects.filter(area_id=area_id, found_on=day).aggregate(
        rect_done=Count("pk", filter=Q(status=Rectification.Status.DONE)),
        rect_on_time=Count("pk", filter=Q(status=Rectification.Status.DONE, on_time=True)),
    )


EVALUATION_PART, COMPLETED_PART, RECTIFICATION_PART = "evaluation", "completed", "rectification"
PARTS = (EVALUATION_PART, COMPLETED_PART, RECTIFICATION_PART)


def slice_counts(day: date, area_id: int, parts=PARTS) -> dict[str, int]:
    """The counts of one (day, area) from the raw rows (only those of ``parts``)."""
    lo, hi = _day_bounds(day)
    counts: dict[str, int] = {}
    if EVALUATION_PART in parts:
        counts.update(_evaluation_counts(lo, hi, area_id))
    if COMPLETED_PART in parts:
        counts.update(_completed_counts(lo, hi, area_id))
    if RECTIFICATION_PART in parts:
        counts.update(_rectification_counts(day, area_id))
    return counts


def contribution(evaluation) -> dict[str, int]:
    """What one evaluation without a handling adds to its slice: ``_ACTIVE``, ``_BAD`` and the
    satisfied rule applied to a single row (a new evaluation has no handling, so it adds nothing
    to followed or rectified)."""
    counted = not evaluation.is_default and not evaluation.excluded
    active = counted and evaluation.kind == "first"
    return {"active": int(active), "satisfied": int(active and evaluation.grade >= 3),
            "bad": int(counted and evaluation.grade <= 2)}


def recompute(day: date, area_id: int, parts=PARTS) -> None:
    """Bring one (day, area) roll-up row in line with the raw rows (the figures of ``parts``;
    a row made here gets all of them). Idempotent."""
    from bianmin.regions.models import Area

    with transaction.atomic():
        if not DailyRollup.objects.filter(day=day, area_id=area_id).exists():
            path = Area.objects.values_list("path", flat=True).get(pk=area_id)
            DailyRollup.objects.bulk_create([DailyRollup(day=day, area_id=area_id, area_path=path)],
                                            ignore_conflicts=True)
            parts = PARTS  # a new row starts at zero: every figure must be counted
        row = DailyRollup.objects.select_for_update().get(day=day, area_id=area_id)
        counts = slice_counts(day, area_id, parts)
        if any(getattr(row, k) != v for k, v in counts.items()):
            DailyRollup.objects.filter(pk=row.pk).update(**counts)


def add(day: date, area_id: int, delta: dict[str, int]) -> None:
    """Add ``delta`` to an existing roll-up row in one UPDATE (the row lock it takes orders
    concurrent writers on PostgreSQL); recount the whole slice when there is no row yet."""
    delta = {k: v for k, v in delta.items() if v}
    if not delta:
        return
    if not _increment(day, area_id, delta):
        recompute(day, area_id)


def _increment(day: date, area_id: int, delta: dict[str, int]) -> int:
    """``UPDATE … SET n = n + %s`` written out: it runs inside every evaluation's write
    transaction, and building the same statement with F() expressions cost ten times running it."""
    opts = DailyRollup._meta
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(opts.get_field(k).column)} = {qn(opts.get_field(k).column)} + %s" for k in delta)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(opts.db_table)} SET {sets} WHERE {qn(opts.get_field('area').column)} = %s"
            f" AND {qn(opts.get_field('day').column)} = %s",
            [*delta.values(), area_id, day],
        )
        return cursor.rowcount


def rebuild(*, since: date | None = None, until: date | None = None) -> int:
    """Recompute every roll-up row from the raw rows (from `since`, through `until`, if given).
    Returns the number of rows written."""
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation
    from bianmin.regions.models import Area

    tz = timezone.get_current_timezone()
    acc: dict[tuple[date, int], dict[str, int]] = defaultdict(dict)

    def span(qs, field, is_datetime):
        if since:
            qs = qs.filter(**{f"{field}__gte": _day_bounds(since)[0] if is_datetime else since})
        if until:
            qs = qs.filter(**{f"{field}__lt": _day_bounds(until)[1] if is_datetime else until + timedelta(days=1)})
        return qs

    evs = span(Evaluation.objects.all(), "evaluated_at", True).annotate(d=TruncDate("evaluated_at", tzinfo=tz)) \
        .values("d", "area_id").annotate(
            active=Count("pk", filter=_ACTIVE),
            satisfied=Count("pk", filter=_ACTIVE & Q(grade__gte=3)),
            bad=Count("pk", filter=_BAD),
            followed=Count("pk", filter=_BAD & Q(handling__followed_up_at__isnull=False)),
            rectified=Count("pk", filter=_BAD & _RECTIFIED)).order_by()
    for r in evs.iterator(chunk_size=5000):
        acc[(r["d"], r["area_id"])].update({k: r[k] for k in ("active", "satisfied", "bad", "followed", "rectified")})
    cases = span(Case.objects.filter(state="completed"), "completed_at", True) \
        .annotate(d=TruncDate("completed_at", tzinfo=tz)).values("d", "site__area_id").annotate(n=Count("pk")).order_by()
    for r in cases.iterator(chunk_size=5000):
        acc[(r["d"], r["site__area_id"])]["completed"] = r["n"]
    rects = span(Rectification.objects.all(), "found_on", False).values("found_on", "area_id").annotate(
        rect_done=Count("pk", filter=Q(status=Rectification.Status.DONE)),
        rect_on_time=Count("pk", filter=Q(status=Rectification.Status.DONE, on_time=True))).order_by()
    for r in rects.iterator(chunk_size=5000):
        acc[(r["found_on"], r["area_id"])].update(rect_done=r["rect_done"], rect_on_time=r["rect_on_time"])

    paths = dict(Area.objects.values_list("pk", "path"))
    rows = [DailyRollup(day=d, area_id=a, area_path=paths[a], **{k: c.get(k, 0) for k in FIELDS})
            for (d, a), c in acc.items() if any(c.values())]
    with transaction.atomic():
        span(DailyRollup.objects.all(), "day", False).delete()
        DailyRollup.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def totals(*, path: str, start: date, end: date) -> dict[str, int]:
    """The summed counts of a subtree (area path prefix) over a period, from the roll-ups."""
    from django.db.models import Sum

    got = DailyRollup.objects.filter(area_path__startswith=path, day__gte=start, day__lte=end) \
        .aggregate(**{k: Sum(k) for k in FIELDS})
    return {k: got[k] or 0 for k in FIELDS}


def totals_by_child(*, path: str, start: date, end: date) -> dict[str, dict[str, int]]:
    """One grouped scan for a whole rates page: the summed counts of each area directly below
    `path` (keyed by its path), and of the area's own rows (keyed by `path`). Area paths are
    12-digit codes joined by "/", so a child's path is the first len(path) + 13 characters."""
    from django.db.models import Sum
    from django.db.models.functions import Substr

    got = DailyRollup.objects.filter(area_path__startswith=path, day__gte=start, day__lte=end) \
        .annotate(child=Substr("area_path", 1, len(path) + 13)).values("child") \
        .annotate(**{k: Sum(k) for k in FIELDS}).order_by()
    return {r["child"]: {k: r[k] or 0 for k in FIELDS} for r in got}


# --- upkeep: the writes that move a figure -------------------------------------------------------

def _touch(day: date | None, area_id: int | None, parts) -> None:
    if day is None or area_id is None or getattr(_state, "paused", 0):
        return
    recompute(day, area_id, parts)


def _local_day(dt: datetime | None) -> date | None:
    return None if dt is None else timezone.localdate(dt)


def _on_evaluation(instance, created=False) -> None:
    day = _local_day(instance.evaluated_at)
    if created and not getattr(_state, "paused", 0) and day is not None and instance.area_id is not None:
        add(day, instance.area_id, contribution(instance))
    else:
        _touch(day, instance.area_id, (EVALUATION_PART,))


def _on_handling(instance, created=False) -> None:
    from bianmin.evaluations.models import Evaluation

    if created and instance.followed_up_at is None and not (
            instance.status in RECTIFIED_STATUSES and instance.verdict != BadReviewHandling.Verdict.MISTAKEN):
        # A new handling neither followed up nor rectified moves no figure (followed and
        # rectified count only those): no recount of its slice on every bad review.
        return
    row = Evaluation.objects.filter(pk=instance.evaluation_id).values_list("evaluated_at", "area_id").first()
    if row:
        _touch(_local_day(row[0]), row[1], (EVALUATION_PART,))


def _on_rectification(instance, created=False) -> None:
    _touch(instance.found_on, instance.area_id, (RECTIFICATION_PART,))


def _on_case(instance, created=False) -> None:
    from bianmin.regions.models import ServiceSite

    if instance.state != "completed" or instance.completed_at is None:
        return
    area_id = ServiceSite.objects.filter(pk=instance.site_id).values_list("area_id", flat=True).first()
    _touch(_local_day(instance.completed_at), area_id, (COMPLETED_PART,))


def connect() -> None:
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation

    for model, fn in ((Evaluation, _on_evaluation), (BadReviewHandling, _on_handling),
                      (Rectification, _on_rectification), (Case, _on_case)):
        uid = f"followups-rollup-{model._meta.label_lower}"

        @receiver(post_save, sender=model, dispatch_uid=uid + "-save", weak=False)
        def _saved(sender, instance, raw=False, created=False, _fn=fn, **kwargs):
            if not raw:
                _fn(instance, created=created)

        @receiver(post_delete, sender=model, dispatch_uid=uid + "-delete", weak=False)
        def _deleted(sender, instance, _fn=fn, **kwargs):
            _fn(instance)
