"""Every read of the follow-up desk, already scoped (scope rule: area_field="area"). The rates
built on these rows are the figures app's (figures/cohorts.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from bianmin.core.calendar import working_days_between
from bianmin.core.capabilities import Cap
from bianmin.core.principal import Principal
from bianmin.core.scoping import areas_in_scope, get_scoped, scoped

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
    """What this viewer may do on a handling now (the page shows only these forms): when a step is
    allowed is the handling's transition table, who takes it ``workflow.refusal`` — the same two
    checks the services make, so a form shown is a form accepted (issue 22.7)."""
    from . import workflow

    return {action for action in workflow.allowed_actions(h) if workflow.may(actor, h, action)}


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

def rectification_get(*, actor: Principal, rectification_id: int) -> Rectification:
    return get_scoped(Rectification.objects.select_related("area", "site"), actor, Cap.VIEW, pk=rectification_id)


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
    from django.db import connection
    from django.db.models import F

    from bianmin.regions.models import Area

    areas = areas_in_scope(Area.objects.all(), actor, Cap.VIEW).values_list("id", flat=True)
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
                         status: str | None = None, source: str | None = None) -> QuerySet[Rectification]:
    """整改台账: problem, measure, owner, deadline, result, on time; of every source (bad reviews,
    follow-ups, appeals, inspection notices…) or of one."""
    qs = problem_list(actor=actor, start=start, end=end)
    if status:
        qs = qs.filter(status=status)
    if source:
        qs = qs.filter(source=source)
    return qs


@dataclass
class LedgerRate:
    """One line of the ledger's 按期整改率 table."""

    key: str
    label: str
    numerator: int
    denominator: int

    @property
    def percent(self) -> str:
        return "—" if not self.denominator else f"{self.numerator * 100 / self.denominator:.1f}%"

    @property
    def below_target(self) -> bool:
        """Shown in red: the seed's target is 100%."""
        return bool(self.denominator) and self.numerator < self.denominator


def on_time_by_area(*, actor: Principal, start: date, end: date, source: str | None = None,
                    today: date | None = None) -> list[LedgerRate]:
    """按期整改率 of the ledger's rows per area directly below the caller's top area (the districts
    for the city, the townships for a district), for the period and source shown: rows done by
    their deadline over rows done or past their deadline (as the rates page counts it)."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from bianmin.regions.models import Area

    paths = actor.area_paths_for(Cap.VIEW)
    if not paths:
        return []
    today = today or timezone.localdate()
    # The top area and its children in one read (the ledger page's query budget is fixed).
    family = list(Area.objects.filter(Q(path=paths[0]) | Q(parent__path=paths[0])).order_by("code"))
    top = next(a for a in family if a.path == paths[0])
    width = len(top.path) + 13
    qs = _period(scoped(Rectification.objects.all(), actor, Cap.VIEW), "found_on", start, end, is_datetime=False)
    if source:
        qs = qs.filter(source=source)
    due = Q(status=Rectification.Status.DONE) | Q(deadline__lt=today)
    counts = {child: (n, d) for child, n, d in qs.filter(due).annotate(child=Substr("area__path", 1, width))
              .values("child").annotate(n=Count("pk", filter=Q(on_time=True)), d=Count("pk")).order_by()
              .values_list("child", "n", "d")}
    # Rows at the top area itself (a district's own office) count in the total only.
    children = [a for a in family if a is not top] or [top]
    rows = [LedgerRate(child.code, child.name, *counts.get(child.path, (0, 0))) for child in children]
    total = LedgerRate(top.code, f"{top.name}（合计）", sum(n for n, _d in counts.values()), sum(d for _n, d in counts.values()))
    return [total] + [r for r in rows if r.denominator]


def assessment_figures_for(*, area, year: int, today: date, width: int) -> dict[str, dict[str, tuple[int, int]]]:
    """For the inspections' annual assessment (``inspections.signals.assessment_figures``), from the
    raw rows: 好差评满意率 (active evaluations — first, not default 满意, not excluded — graded 3 or
    better over active evaluations made in ``year``) and 诉求按时答复率 (appeals registered in ``year``
    answered by their deadline over those answered plus those still open past it), per area
    ``width`` characters of path deep (the districts of the city)."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from bianmin.appeals.models import OPEN_STATUSES, Appeal
    from bianmin.evaluations.models import NOT_BAD, Evaluation

    lo = _start(date(year, 1, 1))
    hi = _start(date(year + 1, 1, 1))
    active = Q(kind="first", is_default=False, excluded=False)
    satisfaction = (Evaluation.objects.filter(active, area__path__startswith=area.path, evaluated_at__gte=lo,
                                              evaluated_at__lt=hi)
                    .annotate(child=Substr("area__path", 1, width)).values("child")
                    .annotate(num=Count("pk", filter=NOT_BAD), den=Count("pk")).order_by()
                    .values_list("child", "num", "den"))
    overdue_open = Q(status__in=list(OPEN_STATUSES), due_date__lt=today)
    appeal = (Appeal.objects.filter(area__path__startswith=area.path, registered_at__gte=lo, registered_at__lt=hi)
              .filter(Q(replied_on_time__isnull=False) | overdue_open)
              .annotate(child=Substr("area__path", 1, width)).values("child")
              .annotate(num=Count("pk", filter=Q(replied_on_time=True)), den=Count("pk")).order_by()
              .values_list("child", "num", "den"))
    return {"satisfaction": {c: (n, d) for c, n, d in satisfaction}, "appeal": {c: (n, d) for c, n, d in appeal}}
