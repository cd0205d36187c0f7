"""Every read of the follow-up desk, already scoped (scope rule: area_field="area"), and the
rates a district office reports.

Rates (per area and period; an evaluation belongs to the period of its evaluation time, a case
to the period of its completion, a rectification to the period it was found in):

- 参评率 participation   = active evaluations / completed cases. Active: first evaluations that
                            are not default 满意 and not excluded (upheld appeal, 刷评).
- 满意率 satisfaction     = active evaluations graded 非常满意, 满意 or 基本满意 / active evaluations.
- 差评回访率              = bad reviews whose citizen was reached (回访) / bad reviews.
- 差评整改率              = bad reviews rectified (or explained, where the demand has no legal basis)
                            / bad reviews. Bad reviews excluded by an upheld appeal count in neither.
- 按期整改率              = rectifications done by their deadline / rectifications done or past deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from bianmin.core.calendar import working_days_between
from bianmin.core.capabilities import Cap
from bianmin.core.principal import Principal
from bianmin.core.scoping import get_scoped, require, scoped

from .models import BadReviewHandling, FollowUp, FollowUpList, Questionnaire, Rectification

H = BadReviewHandling.Status


# --- handling ----------------------------------------------------------------------------------

def handling_list(*, actor: Principal, status: str | None = None, flag: str | None = None) -> QuerySet[BadReviewHandling]:
    qs = scoped(BadReviewHandling.objects.select_related("evaluation", "case", "site", "rectification"), actor, Cap.VIEW)
    if status:
        qs = qs.filter(status=status)
    rows = qs.order_by("status", "verify_due", "id")
    if flag in ("due_soon", "overdue"):
        today = timezone.localdate()
        ids = [h.pk for h in rows if due_flag(h, today) == flag]
        return rows.filter(pk__in=ids)
    return rows


def handling_get(*, actor: Principal, handling_id: int) -> BadReviewHandling:
    return get_scoped(BadReviewHandling.objects.select_related("evaluation", "case", "site", "rectification", "area"),
                      actor, Cap.VIEW, pk=handling_id)


def handling_actions(*, actor: Principal, h: BadReviewHandling) -> set[str]:
    """What this viewer may do on a handling now (the page shows only these forms): 核实, 整改完成,
    办结 and 申诉 by the unit that handles bad reviews (BADREVIEW_HANDLE), 回访 by the follow-up
    desk (FOLLOWUP_WORK), 复核 by the level above (BADREVIEW_DECIDE there), evidence by the
    appealing side only. A clerk who was complained about holds none of these."""
    S = BadReviewHandling.Status
    handles = actor.can(Cap.BADREVIEW_HANDLE, h.area)
    parent = h.area.parent
    decides = parent is not None and actor.can(Cap.BADREVIEW_DECIDE, parent)
    actions = set()
    if handles:
        if h.status == S.OPEN:
            actions.add("verify")
        if h.status == S.RECTIFYING and h.rectification_id:
            actions.add("rectified")
        if h.status == S.FOLLOWED_UP:
            actions.add("close")
        if h.status not in (S.APPEALED, S.CLOSED) and not h.appeal_decision and not decides:
            actions.add("appeal")
        if h.status == S.APPEALED and not decides:
            actions.add("evidence")
    if h.status in (S.RECTIFIED, S.EXPLAINED) and actor.can(Cap.FOLLOWUP_WORK, h.area):
        actions.add("follow_up")
    if h.status == S.APPEALED and decides:
        actions.add("decide")
    return actions


def stage_due(h: BadReviewHandling) -> date | None:
    if h.status == H.OPEN:
        return h.verify_due
    if h.status == H.RECTIFYING and h.rectification is not None:
        return h.rectification.deadline
    return None


def due_flag(h: BadReviewHandling, today: date | None = None) -> str:
    """'overdue' past the current step's deadline, 'due_soon' with one working day or less left."""
    due = stage_due(h)
    if due is None:
        return ""
    today = today or timezone.localdate()
    if today > due:
        return "overdue"
    if working_days_between(today, due) <= 1:
        return "due_soon"
    return ""


def rectification_flag(r: Rectification, today: date | None = None) -> str:
    if r.status != Rectification.Status.OPEN:
        return ""
    today = today or timezone.localdate()
    if today > r.deadline:
        return "overdue"
    if working_days_between(today, r.deadline) <= 1:
        return "due_soon"
    return ""


# --- the desk ----------------------------------------------------------------------------------

def followup_lists(*, actor: Principal) -> QuerySet[FollowUpList]:
    return scoped(FollowUpList.objects.select_related("area"), actor, Cap.VIEW).order_by("-day", "area__code")


def followup_list_get(*, actor: Principal, list_id: int) -> FollowUpList:
    return get_scoped(FollowUpList.objects.select_related("area"), actor, Cap.VIEW, pk=list_id)


def followup_list_items(*, actor: Principal, fl: FollowUpList) -> QuerySet[FollowUp]:
    # Items of a district list may belong to any township below: scope them again.
    return scoped(fl.items.select_related("case", "evaluation", "site", "appeal", "agent"), actor, Cap.VIEW).order_by(
        "outcome", "reason", "id")


def followup_get(*, actor: Principal, followup_id: int) -> FollowUp:
    return get_scoped(FollowUp.objects.select_related("case", "evaluation", "site", "appeal", "follow_list", "handling"),
                      actor, Cap.VIEW, pk=followup_id)


def questionnaires(*, actor: Principal) -> QuerySet[Questionnaire]:
    return scoped(Questionnaire.objects.all(), actor, Cap.VIEW).order_by("-created_at")


def questionnaire_get(*, actor: Principal, questionnaire_id: int) -> Questionnaire:
    return get_scoped(Questionnaire.objects.prefetch_related("questions"), actor, Cap.VIEW, pk=questionnaire_id)


# --- ledgers -----------------------------------------------------------------------------------

def _period(qs: QuerySet, field_name: str, start: date | None, end: date | None, *, is_datetime: bool) -> QuerySet:
    if start:
        qs = qs.filter(**{f"{field_name}__gte": _start(start) if is_datetime else start})
    if end:
        qs = qs.filter(period_end(field_name, end, is_datetime=is_datetime))
    return qs


def period_end(field_name: str, end: date, *, is_datetime: bool) -> Q:
    """Rows up to the end of day ``end`` (a date field, or a datetime in the local day)."""
    after = end + timedelta(days=1)
    return Q(**{f"{field_name}__lt": _start(after) if is_datetime else after})


def _start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=timezone.get_current_timezone())


NARROW_SCOPE_AREAS = 60  # SQLite: a township and its villages; a district has more
# PostgreSQL: a district (≈ 80 areas) too. There the planner takes the wide path's ``area_id + 0``
# filter for a rare one and seq-scans the table (EXPLAIN ANALYZE at 1M: 73 ms for a district-year
# page, 252–330 ms p95 at 5M); the id list reads the district's rows from the (area, date) index
# (24 ms at 1M). Only the city's thousands of areas keep the walk.
NARROW_SCOPE_AREAS_POSTGRESQL = 400


def _ledger_scope(qs: QuerySet, actor: Principal) -> QuerySet:
    """The scope once more, as area ids, so the ledgers' indexes serve every scope (the scope
    rule itself stays ``scoped()``'s join on the area path, which no index can serve).

    A narrow scope (a township: a few thousand rows a year at 10M evaluations) gives its area
    ids as a list: the (area, date) index reads just its rows, then they are sorted. A wide one
    (district, city: up to a million rows a year) must not be sorted per page: it walks the
    (date, id, area…) index in the ledger's order and checks the area inside the index; the
    ``area_id + 0`` keeps the planners from choosing the (area, date) index and sorting instead.
    Measured in bench/bench_ledgers.py (SQLite and PostgreSQL, 10M evaluations)."""
    from django.db.models import F

    from bianmin.regions.models import Area

    q = Q(pk__in=[])
    for path in actor.area_paths_for(Cap.VIEW):
        q |= Q(path__startswith=path)
    from django.db import connection

    areas = Area.objects.filter(q).values_list("id", flat=True)
    narrow = NARROW_SCOPE_AREAS_POSTGRESQL if connection.vendor == "postgresql" and NARROW_SCOPE_AREAS else \
        NARROW_SCOPE_AREAS
    ids = list(areas[: narrow + 1])
    if len(ids) <= narrow:
        return qs.filter(area_id__in=ids)
    return qs.alias(scope_area=F("area_id") + 0).filter(scope_area__in=areas)


def followup_ledger(*, actor: Principal, start: date | None = None, end: date | None = None) -> QuerySet[FollowUp]:
    """回访台账: every follow-up done (call, home visit, questionnaire) with its result."""
    qs = scoped(FollowUp.objects.exclude(outcome="").select_related("case", "site", "area", "agent", "rectification"),
                actor, Cap.VIEW)
    return _ledger_scope(_period(qs, "done_at", start, end, is_datetime=True), actor).order_by("-done_at", "-id")


def problem_list(*, actor: Principal, start: date | None = None, end: date | None = None) -> QuerySet[Rectification]:
    """问题清单: every problem found, whatever its source."""
    qs = scoped(Rectification.objects.select_related("area", "site"), actor, Cap.VIEW)
    return _ledger_scope(_period(qs, "found_on", start, end, is_datetime=False), actor).order_by("-found_on", "-id")


def rectification_ledger(*, actor: Principal, start: date | None = None, end: date | None = None,
                         status: str | None = None) -> QuerySet[Rectification]:
    """整改台账: problem, measure, owner, deadline, result, on time."""
    qs = problem_list(actor=actor, start=start, end=end)
    if status:
        qs = qs.filter(status=status)
    return qs


# --- rates -------------------------------------------------------------------------------------

@dataclass
class Rate:
    key: str
    label: str
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"

    @property
    def missing(self) -> int:
        return self.denominator - self.numerator

    @property
    def below_target(self) -> bool:
        """Shown in red: the targets of the seed are 100% (差评回访率, 整改率; on time too)."""
        return self.key in TARGET_100 and self.value is not None and self.numerator < self.denominator


TARGET_100 = {"followup", "rectification", "on_time"}


@dataclass
class AreaRates:
    area: object
    rates: list[Rate] = field(default_factory=list)

    def get(self, key: str) -> Rate:
        return next(r for r in self.rates if r.key == key)


def _evaluations(area, start: date, end: date):
    from bianmin.evaluations.models import Evaluation

    qs = Evaluation.objects.filter(area__path__startswith=area.path)
    return _period(qs, "evaluated_at", start, end, is_datetime=True)


def bad_reviews(area, start: date, end: date):
    """Bad reviews that count: not default, not excluded (upheld appeal or 刷评)."""
    return _evaluations(area, start, end).filter(grade__lte=2, is_default=False, excluded=False)


_RECTIFIED = Q(handling__status__in=[H.EXPLAINED, H.RECTIFIED, H.FOLLOWED_UP, H.CLOSED]) & ~Q(
    handling__verdict=BadReviewHandling.Verdict.MISTAKEN)


def missing_items(*, actor: Principal, area, key: str, start: date, end: date) -> QuerySet:
    """The items behind a rate below 100% (one click from the red figure)."""
    require(actor, Cap.VIEW, area)
    if key == "followup":
        return bad_reviews(area, start, end).filter(Q(handling__isnull=True) | Q(handling__followed_up_at__isnull=True)) \
            .select_related("case", "site", "handling")
    if key == "rectification":
        return bad_reviews(area, start, end).exclude(_RECTIFIED).select_related("case", "site", "handling")
    if key == "on_time":
        today = timezone.localdate()
        return _rectifications(area, start, end).filter(
            Q(status=Rectification.Status.DONE, on_time=False) | Q(status=Rectification.Status.OPEN, deadline__lt=today))
    raise ValueError(key)


def _rectifications(area, start, end):
    qs = Rectification.objects.filter(area__path__startswith=area.path).select_related("site", "area")
    return _period(qs, "found_on", start, end, is_datetime=False)


def rates_for(area, start: date, end: date, *, today: date | None = None) -> list[Rate]:
    """The rates from the daily roll-ups (rollups.py): a sum over at most days × areas rows,
    whatever the number of evaluations. Only the open rectifications past their deadline are
    counted live (they depend on today, and few are open at any time)."""
    from .rollups import totals

    today = today or timezone.localdate()
    t = totals(path=area.path, start=start, end=end)
    overdue_open = _rectifications(area, start, end).filter(status=Rectification.Status.OPEN, deadline__lt=today).count()
    return _rates_from(t, overdue_open)


def rates_for_naive(area, start: date, end: date, *, today: date | None = None) -> list[Rate]:
    """The rates counted from the raw rows: the reference the roll-ups are checked and benchmarked
    against (one aggregate over every evaluation of the subtree and period)."""
    from bianmin.cases.models import Case

    today = today or timezone.localdate()
    completed = _period(Case.objects.filter(state="completed", site__area__path__startswith=area.path),
                        "completed_at", start, end, is_datetime=True).count()
    active = _evaluations(area, start, end).filter(kind="first", is_default=False, excluded=False)
    n_active = active.count()
    n_satisfied = active.filter(grade__gte=3).count()
    bad = bad_reviews(area, start, end)
    n_bad = bad.count()
    n_followed = bad.filter(handling__followed_up_at__isnull=False).count()
    n_rectified = bad.filter(_RECTIFIED).count()
    rects = _rectifications(area, start, end)
    due = rects.filter(Q(status=Rectification.Status.DONE) | Q(deadline__lt=today))
    n_due = due.count()
    n_on_time = due.filter(on_time=True).count()
    return [
        Rate("participation", "参评率", n_active, completed),
        Rate("satisfaction", "满意率", n_satisfied, n_active),
        Rate("followup", "差评回访率", n_followed, n_bad),
        Rate("rectification", "差评整改率", n_rectified, n_bad),
        Rate("on_time", "按期整改率", n_on_time, n_due),
    ]


def _rates_from(t: dict[str, int], overdue_open: int) -> list[Rate]:
    return [
        Rate("participation", "参评率", t["active"], t["completed"]),
        Rate("satisfaction", "满意率", t["satisfied"], t["active"]),
        Rate("followup", "差评回访率", t["followed"], t["bad"]),
        Rate("rectification", "差评整改率", t["rectified"], t["bad"]),
        Rate("on_time", "按期整改率", t["rect_on_time"], t["rect_done"] + overdue_open),
    ]


def rates_by_area(*, actor: Principal, area, start: date, end: date) -> tuple[AreaRates, list[AreaRates]]:
    """The area's own figures and those of each area directly below it: one grouped scan of the
    roll-ups (and of the open rectifications past their deadline) for the whole page."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from .rollups import FIELDS, totals_by_child

    require(actor, Cap.VIEW, area)
    today = timezone.localdate()
    by_child = totals_by_child(path=area.path, start=start, end=end)
    width = len(area.path) + 13
    overdue = dict(_rectifications(area, start, end).filter(status=Rectification.Status.OPEN, deadline__lt=today)
                   .annotate(child=Substr("area__path", 1, width)).values("child").annotate(n=Count("pk"))
                   .order_by().values_list("child", "n"))
    zero = dict.fromkeys(FIELDS, 0)
    total = {k: sum(c[k] for c in by_child.values()) for k in FIELDS}
    children = [AreaRates(child, _rates_from(by_child.get(child.path, zero), overdue.get(child.path, 0)))
                for child in area.children.order_by("code") if child.level in ("district", "township")]
    return AreaRates(area, _rates_from(total, sum(overdue.values()))), children
