"""Every read of inspections, already scoped.

- Sampled sites, findings, notices and field checks belong to the inspected site's area: whoever
  holds Cap.VIEW there (the site's own staff, its district, the city) sees them.
- A mystery visit (and its findings) is seen, until published, only by the reviewers of its
  organiser (Cap.INSPECT at the organiser's area): not by the visited site, nor by its district
  when the city organised it.
- A cycle is seen by its organiser's reviewers and by whoever sees one of its sampled sites.
- An in-platform notification is seen by the staff of the very area it is addressed to.

``district_scores`` and ``assessment_rows`` are the figures other apps may read (figures)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.principal import Principal
from bianmin.core.scoping import get_scoped, scope_filter, scoped

from .models import (
    Assessment,
    ChecklistTemplate,
    Cycle,
    CycleScore,
    FieldCheck,
    Finding,
    Leader,
    Notice,
    Notification,
    NotificationRead,
    SampledSite,
    Schedule,
)

# --- templates and schedules ---------------------------------------------------------------------


def templates(*, actor: Principal) -> QuerySet[ChecklistTemplate]:
    """Every version; the reviewers' working list (templates are not personal data)."""
    return ChecklistTemplate.objects.select_related("area").prefetch_related("items").order_by("code", "-version")


def template_get(*, template_id: int) -> ChecklistTemplate:
    t = ChecklistTemplate.objects.select_related("area").prefetch_related("items").filter(pk=template_id).first()
    if t is None:
        raise NotFound("未找到该评分模板")
    return t


def schedules(*, actor: Principal) -> QuerySet[Schedule]:
    return scoped(Schedule.objects.select_related("area"), actor, Cap.INSPECT).order_by("area__code")


def leaders(*, actor: Principal) -> QuerySet[Leader]:
    return scoped(Leader.objects.filter(active=True).select_related("area", "user"), actor, Cap.VIEW).order_by(
        "area__code", "id")


# --- cycles -------------------------------------------------------------------------------------


def cycles(*, actor: Principal, status: str | None = None) -> QuerySet[Cycle]:
    mine = SampledSite.objects.filter(scope_filter(actor, Cap.VIEW, area_field="site__area"), cycle=OuterRef("pk"))
    qs = Cycle.objects.filter(scope_filter(actor, Cap.INSPECT) | Q(Exists(mine))).select_related("area", "template")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-period_start", "area__code", "-id")


def cycle_get(*, actor: Principal, cycle_id: int) -> Cycle:
    cycle = cycles(actor=actor).filter(pk=cycle_id).first()
    if cycle is None:
        raise NotFound("未找到该督查周期")
    return cycle


def is_reviewer(actor: Principal, organiser) -> bool:
    return actor.can(Cap.INSPECT, organiser)


def cycle_sites(*, actor: Principal, cycle: Cycle) -> QuerySet[SampledSite]:
    return scoped(cycle.sites.select_related("site__area", "district"), actor, Cap.VIEW, area_field="site__area") \
        .annotate(case_count=Count("cases")).order_by("district__code", "rank")


def sampled_site_get(*, actor: Principal, sampled_site_id: int) -> SampledSite:
    return get_scoped(SampledSite.objects.select_related("cycle__area", "cycle__template", "site__area", "district"),
                      actor, Cap.VIEW, area_field="site__area", pk=sampled_site_id)


def material_get(*, actor: Principal, sampled_site_id: int, material_id: int):
    ss = sampled_site_get(actor=actor, sampled_site_id=sampled_site_id)
    m = ss.materials.select_related("file").filter(pk=material_id).first()
    if m is None:
        raise NotFound("未找到该材料")
    return ss, m


def cycle_scores(*, actor: Principal, cycle: Cycle, level: str) -> QuerySet[CycleScore]:
    """The ranking of a cycle: every score for its organiser's reviewers, the caller's own
    otherwise (a district sees its sites and itself, a center itself)."""
    qs = cycle.scores.filter(level=level).select_related("site", "area", "district")
    if not is_reviewer(actor, cycle.area):
        qs = scoped(qs, actor, Cap.VIEW)
    return qs.order_by("rank", "area__code")


def sample_verify(*, cycle: Cycle) -> bool | None:
    """Whether drawing again from the cycle's seed and rule gives the sample it holds."""
    from . import sampling

    if cycle.status == Cycle.Status.PLANNED or "case_id_max" not in cycle.rule:
        return None
    return sampling.digest(sampling.draw(seed=cycle.seed, rule=cycle.rule)) == cycle.sample_digest


# --- field checks and findings ----------------------------------------------------------------------


def checks_visible(actor: Principal) -> QuerySet[FieldCheck]:
    hidden = Q(method=FieldCheck.Method.MYSTERY, published_at__isnull=True)
    return FieldCheck.objects.filter(scope_filter(actor, Cap.VIEW, area_field="site__area")).filter(
        ~hidden | scope_filter(actor, Cap.INSPECT, area_field="organiser"))


def checks(*, actor: Principal, method: str | None = None, status: str | None = None,
           cycle_id: int | None = None) -> QuerySet[FieldCheck]:
    qs = checks_visible(actor).select_related("site", "area", "organiser", "cycle")
    if method:
        qs = qs.filter(method=method)
    if cycle_id:
        qs = qs.filter(cycle_id=cycle_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-at", "-id")


def check_get(*, actor: Principal, check_id: int) -> FieldCheck:
    check = checks(actor=actor).select_related("template").filter(pk=check_id).first()
    if check is None:
        raise NotFound("未找到该检查记录")
    return check


def findings(*, actor: Principal, site_id: int | None = None) -> QuerySet[Finding]:
    qs = Finding.objects.filter(scope_filter(actor, Cap.VIEW, area_field="site__area")).filter(
        Q(published=True) | scope_filter(actor, Cap.INSPECT, area_field="organiser"))
    if site_id:
        qs = qs.filter(site_id=site_id)
    return qs.select_related("site", "area", "cycle", "check_record", "item", "notice").order_by("-created_at", "-id")


# --- notices -----------------------------------------------------------------------------------------


def notices(*, actor: Principal, status: str | None = None, overdue: bool = False, cycle_id: int | None = None,
            area_code: str | None = None, source: str | None = None, today: date | None = None) -> QuerySet[Notice]:
    qs = scoped(Notice.objects.select_related("site", "area", "addressee", "organiser", "cycle"), actor, Cap.VIEW)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=(Notice.Status.ISSUED, Notice.Status.RETURNED, Notice.Status.ANSWERED),
                       deadline__lt=today or timezone.localdate())
    if cycle_id:
        qs = qs.filter(cycle_id=cycle_id)
    if area_code:
        qs = qs.filter(area__path__contains=f"{area_code}/")
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("-issued_at", "-id")


def notice_get(*, actor: Principal, notice_id: int) -> Notice:
    return get_scoped(Notice.objects.select_related("site", "area", "addressee", "organiser", "cycle", "finding",
                                                    "finding__check_record", "pdf"), actor, Cap.VIEW, pk=notice_id)


def evidence_get(*, actor: Principal, notice_id: int, evidence_id: int):
    notice = notice_get(actor=actor, notice_id=notice_id)
    row = notice.evidence.select_related("file").filter(pk=evidence_id).first()
    if row is None:
        raise NotFound("未找到该佐证材料")
    return notice, row


def photo_get(*, actor: Principal, check_id: int, photo_id: int):
    check = check_get(actor=actor, check_id=check_id)
    row = check.photos.select_related("file").filter(pk=photo_id).first()
    if row is None:
        raise NotFound("未找到该照片")
    return check, row


def notices_out_of_ledger(limit: int = 500) -> list[int]:
    """Notices whose last change the ledger has not taken in (a lost signal): for followups' sweep."""
    from django.db.models import F

    return list(Notice.objects.filter(ledger_revision__lt=F("revision")).order_by("pk").values_list("pk", flat=True)[:limit])


# --- notifications -------------------------------------------------------------------------------


def notifications(*, actor: Principal) -> QuerySet[Notification]:
    """Messages addressed to an area the user is assigned at (not every area below it)."""
    paths = [g.path for g in actor.grants if Cap.VIEW in g.capabilities]
    if not paths or actor.user is None:
        return Notification.objects.none()
    read = NotificationRead.objects.filter(notification=OuterRef("pk"), user=actor.user)
    return (Notification.objects.filter(area__path__in=paths).select_related("area")
            .annotate(is_read=Exists(read)).order_by("-created_at", "-id"))


def unread_count(*, actor: Principal) -> int:
    return notifications(actor=actor).filter(is_read=False).count()


# --- scores other apps may read ---------------------------------------------------------------------


def district_scores(*, year: int) -> QuerySet[CycleScore]:
    """Every district's score in every cycle of ``year`` (for figures: unscoped, the caller scopes)."""
    return CycleScore.objects.filter(level=CycleScore.Level.DISTRICT, cycle__period_start__year=year).select_related(
        "cycle", "district")


def assessment_get(*, actor: Principal, area, year: int) -> Assessment | None:
    """The organiser's assessment of ``year``; what of it the caller sees is ``assessment_rows``."""
    return Assessment.objects.filter(area=area, year=year).first()


def assessment_rows(*, actor: Principal, assessment: Assessment):
    """Every district for the organiser's reviewers; a district its own row (with its rank)."""
    qs = assessment.rows.select_related("district")
    if not is_reviewer(actor, assessment.area):
        qs = scoped(qs, actor, Cap.VIEW, area_field="district")
    return qs.order_by("rank", "district__code")


def roles_on(actor: Principal, organiser, area) -> dict[str, bool]:
    """What the page offers the caller on a record of ``area`` organised by ``organiser``: the
    reviewer's forms, the respondent's forms (services.py checks the same rules again)."""
    from .services import addressee_of

    reviewer = actor.can(Cap.INSPECT, organiser)
    try:
        addressee = addressee_of(organiser, area)
    except (Invalid, ObjectDoesNotExist):  # a record outside the organiser's tree offers nothing
        return {"reviewer": reviewer, "respondent": False}
    return {"reviewer": reviewer, "respondent": not reviewer and actor.can(Cap.INSPECTION_RESPOND, addressee)}


def organiser_areas(actor: Principal):
    """The areas the caller may organise cycles and checks for (the city, districts)."""
    from bianmin.regions.models import Area

    q = Q(pk__in=[])
    for path in actor.area_paths_for(Cap.INSPECT):
        q |= Q(path__startswith=path)
    return Area.objects.filter(q, level__in=("city", "district")).order_by("code")


def sites_for_checks(actor: Principal):
    from bianmin.regions.models import ServiceSite

    return scoped(ServiceSite.objects.filter(active=True, kind__in=("center", "station")).select_related("area"),
                  actor, Cap.INSPECT).order_by("area__code", "code")
