"""Every read of 好差评, already scoped to the caller's areas (scope rule: area_field="area")."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from bianmin.core.capabilities import Cap
from bianmin.core.principal import Principal
from bianmin.core.scoping import ScopedOne, get_scoped, scoped

from .models import BAD, Evaluation, ProvincialReport, ReasonOption


def evaluation_list(*, actor: Principal, grade: int | None = None, channel: str | None = None,
                    bad_only: bool = False, flagged: bool | None = None, site_id: int | None = None,
                    date_from=None, date_to=None) -> QuerySet[Evaluation]:
    qs = scoped(Evaluation.objects.select_related("case", "site", "window", "item__standard_item"),
                actor, Cap.VIEW, area_field="area")
    if grade:
        qs = qs.filter(grade=grade)
    if channel:
        qs = qs.filter(channel=channel)
    if bad_only:
        qs = qs.filter(BAD)
    if flagged is True:
        qs = qs.exclude(flag="")
    if flagged is False:
        qs = qs.filter(flag="")
    if site_id:
        qs = qs.filter(site_id=site_id)
    if date_from:
        qs = qs.filter(evaluated_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(evaluated_at__date__lte=date_to)
    return qs.order_by("-evaluated_at", "-id")


def evaluation_get(*, actor: Principal, evaluation_id: int) -> Evaluation:
    return get_scoped(Evaluation.objects.select_related("case", "site", "window", "item__standard_item"),
                      actor, Cap.VIEW, area_field="area", pk=evaluation_id)


def case_for_staff(*, actor: Principal, case_id: int, capability: str = Cap.VIEW):
    from bianmin.cases.models import Case

    return get_scoped(Case.objects.select_related("site__area", "window", "item__standard_item"),
                      actor, capability, area_field="site__area", pk=case_id)


def _case_by_number(number):
    from .services import case_queryset

    return case_queryset().filter(acceptance_number=number)


# Every kiosk, device and provincial evaluation starts here: compiled once (core/prepared.py).
_CASE_BY_NUMBER = ScopedOne(_case_by_number, area_field="site__area")


def case_by_acceptance_number(*, actor: Principal, capability: str, acceptance_number: str):
    return _CASE_BY_NUMBER.get(actor, capability, number=(acceptance_number or "").strip())


def reasons_active() -> QuerySet[ReasonOption]:
    return ReasonOption.objects.filter(active=True).order_by("order", "id")


def report_status(*, actor: Principal) -> dict:
    qs = scoped(ProvincialReport.objects.all(), actor, Cap.VIEW, area_field="area")
    counts = dict(qs.values_list("message__status").annotate(n=Count("id")).values_list("message__status", "n"))
    return {"sent": counts.get("sent", 0), "pending": counts.get("pending", 0), "failed": counts.get("failed", 0)}


def report_list(*, actor: Principal, status: str | None = None) -> QuerySet[ProvincialReport]:
    qs = scoped(ProvincialReport.objects.select_related("message", "evaluation__case", "area"), actor, Cap.VIEW,
                area_field="area")
    if status:
        qs = qs.filter(message__status=status)
    return qs.order_by("-created_at", "-id")


def window_screen_case(*, actor: Principal, window_id: int, now=None):
    """(window, case) for the window screen (窗口屏): the case the clerk has just finished at this
    window, or None. Only that one, only for a short time (``conf.window_screen_minutes``), and
    nothing once it is evaluated or the window has moved on to another applicant (a case taken
    in, accepted or finished there since): the screen faces the next person in line, who must
    never be offered a stranger's case."""
    from datetime import timedelta

    from django.db.models import Max
    from django.utils import timezone

    from bianmin.cases.models import Case, State
    from bianmin.regions.models import Window

    from . import conf

    window = get_scoped(Window.objects.select_related("site__area"), actor, Cap.VIEW, area_field="site__area",
                        pk=window_id)
    now = now or timezone.now()
    since = now - timedelta(minutes=conf.window_screen_minutes())
    case = (Case.objects.filter(window=window, completed_at__isnull=False).order_by("-completed_at", "-id")
            .select_related("evaluation_link", "item__standard_item").first())
    if case is None or case.state != State.COMPLETED or not (since <= case.completed_at <= now):
        return window, None
    link = getattr(case, "evaluation_link", None)
    if link is None or link.used_at is not None or link.is_expired or case.evaluations.exists():
        return window, None
    latest = Case.objects.filter(window=window).exclude(pk=case.pk).aggregate(
        submitted=Max("submitted_at"), accepted=Max("accepted_at"))
    if any(t is not None and t > case.completed_at for t in latest.values()):
        return window, None  # the clerk moved on to the next applicant
    return window, case


def flagged_count(*, actor: Principal) -> int:
    return scoped(Evaluation.objects.filter(~Q(flag=""), flag_reviewed=False), actor, Cap.VIEW, area_field="area").count()
