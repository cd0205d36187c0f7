"""What every figure counts: one cohort per rate, its numerator always a part of its denominator.

A rate used to divide the evaluations *made* in a period by the cases *finished* in it, so a
township whose citizens evaluated last month's cases this month showed 参评率 110%. Now each
figure belongs to exactly one cohort, fixed by one date of the row that starts it, and a rate's
numerator is the part of its denominator that meets a further condition, so every rate lies in
0–100% whatever the period. The roll-ups (rollups.py), the cockpit, the rates page, the API,
the xlsx and the reports all count through the rules below; ``naive_counts`` is the same rules
as plain queries over the raw rows, which the tests and ``bench/bench_rates.py`` compare with.

Cohorts and their figures (the period is [start, end], local days; an area means its subtree;
a case belongs to the area, site and window that completed it):

**Cases completed in the period** (``Case.completed_at``; 办结 cohort)
- completed   the cohort (办结件数)
- on_time     completed by the promised date (``completed_on <= promised_due_on``, or no date
              promised: 即办件) — 按时办结率 = on_time / completed
- multi_trip  the applicant came more than once (``visit_count > 1``) — 跑多趟率 = multi_trip / completed
- evaluated   its first evaluation is an active one: not the default 满意 and not excluded from
              the figures (an upheld 申诉 or a 刷评 ruled out); whenever it was made, even after
              the period — 参评率 = evaluated / completed
- satisfied   of the evaluated, graded 非常满意/满意/基本满意 — 满意率 = satisfied / evaluated
- defaulted   its first evaluation is the default 满意 (shown, in no rate)
- bad         the bad reviews (不满意/非常不满意; not default, not excluded; a first evaluation
              or a 追评) of the cohort's cases — counted per review, not per case
- followed    of those, the citizen was called back (``handling.followed_up_at``) — 差评回访率
- rectified   of those, the handling is rectified or explained (no legal basis), not ruled a
              误评 — 差评整改率 = rectified / bad
A late evaluation or handling changes the figures of the period its case was completed in, not
of the day it happened: the period's cohort is fixed, what is known about it grows.

**Cases accepted in the period** (``Case.accepted_at``; at the site and window that received it)
- received    受理件数
- transferred of those, forwarded to a higher site (业务转办: ``site`` is not ``received_site``);
              handled_here = received − transferred — 本级办理率 = handled_here / received

**Rectifications found in the period** (``Rectification.found_on``; every source: bad reviews,
follow-ups, appeals, inspections…; at the rectification's area and site)
- rect_found  the cohort
- rect_done   done
- rect_on_time done by the deadline
- rect_due    (live) done, or still open past the deadline today — 按期整改率 = rect_on_time / rect_due

**Appeals registered in the period** (``Appeal.registered_at``; at the appeal's area and site)
- appeals, appeal_replied (``replied_at``), appeal_on_time (``replied_on_time``; a reopened appeal
  loses it until replied again), appeal_due (live: replied, or unreplied past the due date) —
  诉求按时答复率 = appeal_on_time / appeal_due
- appeal_rated (satisfaction recorded), appeal_satisfied (满意/基本满意) — 诉求满意率

**Follow-ups done in the period** (``FollowUp.done_at``; calls, visits, questionnaires)
- fu_rated (reached, satisfaction recorded), fu_satisfied (满意/基本满意) — 回访满意率

"Live" figures depend on today (an open rectification or appeal becomes overdue without any
write); they are counted from the few open rows at read time, never rolled up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from bianmin.evaluations.models import BAD as BAD_GRADE
from bianmin.evaluations.models import COUNTED_BAD, NOT_BAD


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=timezone.get_current_timezone())


def span(field: str, start: date | None, end: date | None, *, is_datetime: bool = True) -> Q:
    """Rows whose `field` lies in the local days [start, end]."""
    q = Q()
    if start is not None:
        q &= Q(**{f"{field}__gte": day_start(start) if is_datetime else start})
    if end is not None:
        after = end + timedelta(days=1)
        q &= Q(**{f"{field}__lt": day_start(after) if is_datetime else after})
    return q


# --- the rules, on the evaluation rows --------------------------------------------------------

def _handling_rectified():
    from bianmin.followups.models import BadReviewHandling as H

    return Q(handling__status__in=RECTIFIED_STATUSES) & ~Q(handling__verdict=H.Verdict.MISTAKEN)


RECTIFIED_STATUSES = ["explained", "rectified", "followed_up", "closed"]
COUNTED = Q(is_default=False, excluded=False)
ACTIVE_FIRST = Q(kind="first") & COUNTED
SATISFIED_FIRST = ACTIVE_FIRST & NOT_BAD
DEFAULT_FIRST = Q(kind="first", is_default=True)
BAD = COUNTED_BAD  # the bad-review rule of evaluations.models, with COUNTED

TRANSFERRED = ~Q(site=F("received_site"))  # 业务转办: handled by a higher site than the one that received it


def _on_time_case() -> Q:
    from django.db.models import F

    return Q(promised_due_on__isnull=True) | Q(completed_on__lte=F("promised_due_on"))


def followed_q() -> Q:
    return BAD & Q(handling__followed_up_at__isnull=False)


def rectified_q() -> Q:
    return BAD & _handling_rectified()


def _evaluations_of(case_ref: str = "pk"):
    from bianmin.evaluations.models import Evaluation

    return Evaluation.objects.filter(case_id=OuterRef(case_ref))


# --- the slice a row belongs to ---------------------------------------------------------------

@dataclass(frozen=True)
class Where:
    """Which rows: an area's subtree (path), optionally one site in it, optionally one window of
    the site (0: the site's rows with no window)."""

    path: str
    site: int | None = None
    window: int | None = None


def _where(qs: QuerySet, where: Where, *, area: str, site: str, window: str | None) -> QuerySet:
    qs = qs.filter(**{f"{area}__path__startswith": where.path})
    if where.site is not None:
        qs = qs.filter(**{f"{site}_id": where.site or None} if where.site else {f"{site}__isnull": True})
    if where.window is not None:
        if window is not None:
            qs = qs.filter(**{f"{window}_id": where.window} if where.window else {f"{window}__isnull": True})
        elif where.window:
            qs = qs.none()  # rows that belong to no window (rectifications, appeals…): none at a window
    return qs


def completed_cases(where: Where, start: date | None, end: date | None) -> QuerySet:
    from bianmin.cases.models import Case

    qs = Case.objects.filter(span("completed_at", start, end), state="completed")
    return _where(qs, where, area="site__area", site="site", window="window")


def received_cases(where: Where, start, end) -> QuerySet:
    from bianmin.cases.models import Case

    qs = Case.objects.filter(span("accepted_at", start, end), accepted_at__isnull=False)
    return _where(qs, where, area="received_site__area", site="received_site", window="window")


def cohort_evaluations(where: Where, start, end) -> QuerySet:
    """The evaluations of the cases completed in the period (whenever they were made)."""
    from bianmin.evaluations.models import Evaluation

    qs = Evaluation.objects.filter(span("case__completed_at", start, end), case__state="completed")
    return _where(qs, where, area="case__site__area", site="case__site", window="case__window")


def rectifications(where: Where, start, end) -> QuerySet:
    from bianmin.followups.models import Rectification

    qs = Rectification.objects.filter(span("found_on", start, end, is_datetime=False))
    return _where(qs, where, area="area", site="site", window=None)


def appeals(where: Where, start, end) -> QuerySet:
    from bianmin.appeals.models import Appeal

    return _where(Appeal.objects.filter(span("registered_at", start, end)), where, area="area", site="site",
                  window=None)


def followups_done(where: Where, start, end) -> QuerySet:
    from bianmin.followups.models import FollowUp

    return _where(FollowUp.objects.filter(span("done_at", start, end), done_at__isnull=False), where, area="area",
                  site="site", window=None)


# --- every figure as the rows behind it -------------------------------------------------------

def rows(metric: str, where: Where, start: date | None, end: date | None, *, today: date | None = None) -> QuerySet:
    """The rows a figure counts (its link's page lists them; tests compare counts with it)."""
    today = today or timezone.localdate()
    if metric in ROWS_OF_CASES:
        base = completed_cases(where, start, end)
        return base.filter(ROWS_OF_CASES[metric]()) if ROWS_OF_CASES[metric] else base
    if metric == "received":
        return received_cases(where, start, end)
    if metric == "transferred":
        return received_cases(where, start, end).filter(TRANSFERRED)
    if metric == "handled_here":
        return received_cases(where, start, end).exclude(TRANSFERRED)
    if metric == "open_overdue":  # live and period-free: open now and past the promised date
        from bianmin.cases.models import OPEN_STATES, Case

        qs = Case.objects.filter(state__in=OPEN_STATES, promised_due_on__lt=today)
        return _where(qs, where, area="site__area", site="site", window="window")
    if metric in ROWS_OF_BAD:
        return cohort_evaluations(where, start, end).filter(ROWS_OF_BAD[metric]())
    if metric.startswith("rect_"):
        qs = rectifications(where, start, end)
        due = Q(status="done") | Q(status="open", deadline__lt=today)
        return qs.filter({"rect_found": Q(), "rect_done": Q(status="done"), "rect_on_time": Q(status="done", on_time=True),
                          "rect_due": due, "rect_late": due & ~Q(status="done", on_time=True),
                          "rect_overdue_open": Q(status="open", deadline__lt=today)}[metric])
    if metric.startswith("appeal"):
        qs = appeals(where, start, end)
        due = Q(replied_at__isnull=False) | Q(replied_at__isnull=True, due_date__lt=today)
        return qs.filter({"appeals": Q(), "appeal_replied": Q(replied_at__isnull=False),
                          "appeal_on_time": Q(replied_on_time=True), "appeal_due": due,
                          "appeal_late": due & ~Q(replied_on_time=True),
                          "appeal_rated": ~Q(satisfaction=""), "appeal_satisfied": Q(satisfaction__in=SATISFIED_ANSWERS),
                          "appeal_overdue_open": Q(replied_at__isnull=True, due_date__lt=today)}[metric])
    if metric.startswith("fu_"):
        qs = followups_done(where, start, end)
        return qs.filter({"fu_rated": Q(outcome="reached") & ~Q(satisfaction=""),
                          "fu_satisfied": Q(outcome="reached", satisfaction__in=SATISFIED_ANSWERS)}[metric])
    raise KeyError(metric)


SATISFIED_ANSWERS = ("satisfied", "basic")


def _has(q: Q):
    return lambda: Q(Exists(_evaluations_of().filter(q)))


ROWS_OF_CASES = {
    "completed": None,
    "on_time": _on_time_case,
    "late": lambda: ~_on_time_case(),
    "multi_trip": lambda: Q(visit_count__gt=1),
    "evaluated": _has(ACTIVE_FIRST),
    "not_evaluated": lambda: ~Q(Exists(_evaluations_of().filter(ACTIVE_FIRST))),
    "satisfied": _has(SATISFIED_FIRST),
    "unsatisfied": _has(ACTIVE_FIRST & BAD_GRADE),
    "defaulted": _has(DEFAULT_FIRST),
}
ROWS_OF_BAD = {
    "bad": lambda: BAD,
    "followed": followed_q,
    "not_followed": lambda: BAD & (Q(handling__isnull=True) | Q(handling__followed_up_at__isnull=True)),
    "rectified": rectified_q,
    "not_rectified": lambda: BAD & ~_handling_rectified(),
}
