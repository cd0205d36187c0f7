"""Every write of inspections: templates, schedules, cycles and their draw, submissions, reviews,
field checks, findings, rectification notices (issue, answer, accept / send back, escalation),
scores and the annual assessment.

Who may do what (models.py says who is who):
- the organiser's reviewers (Cap.INSPECT at the cycle's or check's organiser area) create cycles,
  score, finish reviews, record field checks, accept or send back answers;
- the level just below the organiser (Cap.INSPECTION_RESPOND at the notice's addressee) submits
  materials and answers notices; the issuing level may not answer its own notices (回避);
- anyone else who can see the record (Cap.VIEW at the site's area) reads it.
Out of scope is 404; in scope without the right is 403 with the reason; a wrong state is 409.

News for the ledger (followups) leaves on commit as ``signals.notice_changed``."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from bianmin.cases.uploads import atomic_with_uploads
from bianmin.core.audit import audit
from bianmin.core.calendar import add_working_days, schedule_confirmed
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound, clean_text
from bianmin.core.models import AuditEntry
from bianmin.core.outbox import enqueue
from bianmin.core.principal import Principal, actor_name
from bianmin.core.scoping import get_scoped, require

from . import conf, sampling, signals
from .models import (
    Assessment,
    AssessmentRow,
    AssessmentScheme,
    Category,
    ChecklistItem,
    ChecklistTemplate,
    CheckPhoto,
    Cycle,
    CycleScore,
    FieldCheck,
    Finding,
    ItemScore,
    Leader,
    Material,
    Notice,
    NoticeCounter,
    NoticeEvent,
    NoticeEvidence,
    Notification,
    NotificationRead,
    SampledCase,
    SampledSite,
    Schedule,
)

NOTIFY = "notify"
SITE_KINDS = ("center", "station")


def _label(actor: Principal | None) -> str:
    return actor_name(actor)


_text = clean_text  # core.errors: stripped, required, at most `limit` characters


def _decimal(value, field: str, what: str) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Invalid(f"{what}应为数字", field=field) from None
    if not d.is_finite():
        raise Invalid(f"{what}应为数字", field=field)
    return d.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def area_by_code(code: str, field: str = "area"):
    from bianmin.regions.models import Area

    area = Area.objects.filter(code=(code or "").strip()).first()
    if area is None:
        raise NotFound("未找到该区划", field=field)
    return area


def addressee_of(organiser, area):
    """The area one level below ``organiser`` on the way down to ``area``: the city's notices go
    to the district, a district's to the township."""
    from bianmin.regions.models import Area

    codes = area.path.strip("/").split("/")
    depth = len(organiser.path.strip("/").split("/"))
    if not area.path.startswith(organiser.path) or len(codes) <= depth:
        raise Invalid("被检查场所应在组织单位的下级区划内", field="site")
    return Area.objects.get(code=codes[depth])


def district_of(area):
    a = area
    while a is not None and a.level not in ("district", "city"):
        a = a.parent
    return a


def _notify(area, *, title: str, body: str, url: str, key: str) -> None:
    """A message in the platform to the staff of ``area`` and the same news through the outbox
    (once per ``key``). Inside the caller's transaction."""
    note, created = Notification.objects.get_or_create(dedupe_key=key[:100], defaults={
        "area": area, "title": title[:200], "body": body, "url": url[:200]})
    if created:
        enqueue(channel=NOTIFY, recipient=f"area:{area.code}", dedupe_key=f"inspections:{key}"[:100],
                payload={"template": "inspection", "title": title, "text": body, "url": url})


def _on_commit_changed(notice: Notice) -> None:
    payload = {"notice_id": notice.pk, "revision": notice.revision, "status": notice.status,
               "area_code": notice.area.code}
    transaction.on_commit(lambda: signals.notice_changed.send(sender=Notice, **payload))


# --- uploads ---------------------------------------------------------------------------------

def checked_files(files, *, what: str) -> list[tuple[str, bytes]]:
    """Every file checked before anything is written: the platform's one upload policy
    (core.uploads: size 413, empty 422, type by content 415, names cleaned)."""
    from bianmin.core.uploads import check_files

    return [(f.name, f.data) for f in check_files(files, field="files", label=what, max_count=conf.MAX_FILES,
                                                  default_name=what)]


def _store(name: str, data: bytes):
    from bianmin.cases.services import store_file

    return store_file(data=data, name=name)


# --- templates ---------------------------------------------------------------------------------

def template_version_create(*, actor: Principal, area, code: str, name: str, items: list[dict],
                            note: str = "") -> ChecklistTemplate:
    """A new version of checklist ``code`` (the first is version 1). Earlier versions stay as they
    are: the cycles that use them keep scoring against them."""
    require(actor, Cap.INSPECT, area)
    code = _text(code, "code", "模板编码", limit=40)
    if not all(c.isalnum() or c in "-_" for c in code) or not code.isascii():
        raise Invalid("模板编码只能包含字母、数字、连字符和下划线", field="code")
    name = _text(name, "name", "模板名称", limit=100)
    note = _text(note, "note", "修订说明", required=False, limit=300)
    if not items:
        raise Invalid("评分模板至少需要一个评分项", field="items")
    clean = []
    for i, spec in enumerate(items, start=1):
        category = (spec.get("category") or "").strip()
        if category not in Category.values:
            raise Invalid(f"第 {i} 项的检查方面无效", field="items")
        text = _text(spec.get("text"), "items", f"第 {i} 项的检查内容", limit=300)
        score = _decimal(spec.get("max_score"), "items", f"第 {i} 项的分值")
        if not Decimal("0") < score <= Decimal("100"):
            raise Invalid(f"第 {i} 项的分值应大于 0 且不超过 100", field="items")
        clean.append((category, text, score, _text(spec.get("guidance"), "items", f"第 {i} 项的评分标准",
                                                  required=False, limit=300)))
    with transaction.atomic():
        last = ChecklistTemplate.objects.filter(code=code).select_for_update().aggregate(m=Max("version"))["m"] or 0
        existing = ChecklistTemplate.objects.filter(code=code).order_by("-version").first()
        if existing is not None and not actor.can(Cap.INSPECT, existing.area):
            raise Forbidden("该评分模板由上级单位制定，请另设模板编码", field="code")
        template = ChecklistTemplate(code=code, version=last + 1, name=name, area=area, note=note,
                                     created_by=_label(actor))
        template.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError:
            raise Conflict("该模板正在被他人修订，请刷新后重试", field="code") from None
        ChecklistItem.objects.bulk_create([
            ChecklistItem(template=template, position=n, category=c, text=t, max_score=s, guidance=g)
            for n, (c, t, s, g) in enumerate(clean, start=1)])
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=template, area_code=area.code,
              changes={"code": code, "version": template.version, "items": len(clean)})
    return template


def template_latest(code: str) -> ChecklistTemplate | None:
    return ChecklistTemplate.objects.filter(code=code).order_by("-version").first()


# --- schedules ---------------------------------------------------------------------------------

def _kinds(kinds) -> list[str]:
    kinds = [k for k in dict.fromkeys(kinds or []) if k]
    if not kinds or any(k not in SITE_KINDS for k in kinds):
        raise Invalid("抽查场所类型应为便民服务中心和/或便民服务站", field="site_kinds")
    return kinds


def schedule_set(*, actor: Principal, area, template_code: str, active: bool = True, period_months: int | None = None,
                 site_kinds=None, sites_per_district: int = 3, cases_per_site: int = 5, submit_days: int | None = None,
                 notice_days: int | None = None) -> Schedule:
    """The city's (or a district's own) plan: the daily job creates each period's cycle from it."""
    require(actor, Cap.INSPECT, area)
    if area.level not in ("city", "district"):
        raise Invalid("督查周期由市级或县（市）区组织", field="area")
    months = conf.period_months() if period_months in (None, "") else int(period_months)
    if not 1 <= months <= 12:
        raise Invalid("检查周期应为 1 至 12 个月", field="period_months")
    if template_latest(template_code) is None:
        raise Invalid("评分模板不存在", field="template_code")
    for value, field, what in ((sites_per_district, "sites_per_district", "每个县（市）区抽查场所数"),
                               (cases_per_site, "cases_per_site", "每个场所抽查卷宗数")):
        if not 0 <= int(value) <= 50:
            raise Invalid(f"{what}应为 0 至 50", field=field)
    submit_days = conf.submit_days() if submit_days in (None, "") else int(submit_days)
    notice_days = conf.notice_days() if notice_days in (None, "") else int(notice_days)
    for value, field in ((submit_days, "submit_days"), (notice_days, "notice_days")):
        if not 1 <= value <= 90:
            raise Invalid("期限应为 1 至 90 个工作日", field=field)
    with transaction.atomic():
        schedule, created = Schedule.objects.select_for_update().get_or_create(area=area, defaults={
            "template_code": template_code})
        schedule.active = bool(active)
        schedule.period_months = months
        schedule.template_code = template_code
        schedule.site_kinds = _kinds(site_kinds or list(SITE_KINDS))
        schedule.sites_per_district = int(sites_per_district)
        schedule.cases_per_site = int(cases_per_site)
        schedule.submit_days, schedule.notice_days = submit_days, notice_days
        schedule.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE, target=schedule,
              area_code=area.code, changes={"active": schedule.active, "period_months": months,
                                            "template_code": template_code, "site_kinds": schedule.site_kinds})
        transaction.on_commit(_ensure_daily)
    return schedule


def _ensure_daily() -> None:
    from .tasks import ensure_daily

    ensure_daily()


def period_of(day: date, months: int) -> tuple[date, date, int]:
    """The period of ``months`` months containing ``day``, counted from January (the last one of
    a year is shorter when ``months`` does not divide 12), and its number within the year."""
    index = (day.month - 1) // months
    first = index * months + 1
    last = min(first + months - 1, 12)
    end = (date(day.year + 1, 1, 1) if last == 12 else date(day.year, last + 1, 1)) - timedelta(days=1)
    return date(day.year, first, 1), end, index + 1


def cycles_create_due(*, today: date | None = None) -> list[Cycle]:
    """The scheduled job: the current period's cycle of every active schedule, created and drawn
    once (the unique constraint on (area, period_start) for scheduled cycles makes a second run,
    or two workers at once, create nothing)."""
    now = timezone.now() if today is None else datetime.combine(today, time(7), tzinfo=timezone.get_current_timezone())
    today = timezone.localdate(now)
    made = []
    for schedule in Schedule.objects.filter(active=True).select_related("area"):
        start, end, n = period_of(today, schedule.period_months)
        cycle = Cycle.objects.filter(area=schedule.area, period_start=start, scheduled=True).first()
        if cycle is None:
            template = template_latest(schedule.template_code)
            if template is None:
                continue
            districts = ([schedule.area] if schedule.area.level == "district"
                         else list(schedule.area.children.filter(level="district")))
            months = f"{start.month}月" if start.month == end.month else f"{start.month}—{end.month}月"
            try:
                cycle = cycle_create(
                    actor=None, area=schedule.area, title=f"{schedule.area.name}{start.year}年第{n}期督查（{months}）",
                    period_start=start, period_end=end, template_id=template.pk,
                    district_codes=[d.code for d in districts], site_kinds=schedule.site_kinds,
                    sites_per_district=schedule.sites_per_district, cases_per_site=schedule.cases_per_site,
                    submit_days=schedule.submit_days, notice_days=schedule.notice_days, scheduled=True)
            except IntegrityError:  # another worker made it first
                continue
            made.append(cycle)
        if cycle.status == Cycle.Status.PLANNED and cycle.period_start <= today:
            try:
                cycle_sample(actor=None, cycle_id=cycle.pk, now=now)
            except Conflict:
                pass  # drawn meanwhile
    return made


# --- cycles ------------------------------------------------------------------------------------

def period_before(start: date, end: date) -> date:
    """The start of the period of the same length just before [start, end]: whole months when the
    period is whole months (March–April → January–February), otherwise as many days."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        index = start.year * 12 + start.month - 1 - months
        return date(index // 12, index % 12 + 1, 1)
    return start - (end - start + timedelta(days=1))


def _cycle_number(area, start: date) -> str:
    base = f"DC{area.code[:6]}-{start:%Y%m}"
    taken = set(Cycle.objects.filter(number__startswith=base).values_list("number", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def cycle_create(*, actor: Principal | None, area, title: str, period_start: date, period_end: date, template_id: int,
                 district_codes: list[str], site_kinds=None, sites_per_district: int = 3, cases_per_site: int = 5,
                 submit_days: int | None = None, notice_days: int | None = None, seed: int | None = None,
                 scheduled: bool = False) -> Cycle:
    """A cycle of the organiser ``area`` (the city, or a district running its own) with its scope,
    checklist version and draw rule. The draw itself is ``cycle_sample``."""
    from bianmin.regions.models import Area

    if actor is not None:
        require(actor, Cap.INSPECT, area)
    if area.level not in ("city", "district"):
        raise Invalid("督查周期由市级或县（市）区组织", field="area")
    title = _text(title, "title", "周期名称", limit=100)
    if period_end < period_start:
        raise Invalid("周期结束日期不能早于开始日期", field="period_end")
    template = ChecklistTemplate.objects.filter(pk=template_id).first()
    if template is None or not template.items.exists():
        raise Invalid("评分模板不存在或没有评分项", field="template_id")
    codes = [c for c in dict.fromkeys(district_codes or []) if c]
    if not codes:
        raise Invalid("请选择检查范围（县（市）区）", field="districts")
    districts = list(Area.objects.filter(code__in=codes))
    if len(districts) != len(codes):
        raise NotFound("检查范围中有不存在的区划", field="districts")
    for d in districts:
        if d.level != "district" or not d.path.startswith(area.path):
            raise Invalid(f"“{d.name}”不在{area.name}的县（市）区范围内", field="districts")
    kinds = _kinds(site_kinds or list(SITE_KINDS))
    for value, field, what in ((sites_per_district, "sites_per_district", "每个县（市）区抽查场所数"),
                               (cases_per_site, "cases_per_site", "每个场所抽查卷宗数")):
        if not 0 <= int(value) <= 50:
            raise Invalid(f"{what}应为 0 至 50", field=field)
    submit_days = conf.submit_days() if submit_days in (None, "") else int(submit_days)
    notice_days = conf.notice_days() if notice_days in (None, "") else int(notice_days)
    for value, field in ((submit_days, "submit_days"), (notice_days, "notice_days")):
        if not 1 <= value <= 90:
            raise Invalid("期限应为 1 至 90 个工作日", field=field)
    # Dossiers are drawn from the cases finished in the period before the cycle's own (of the
    # same length), up to its start: a fixed window, whatever is written while the cycle runs.
    rule = {
        "algorithm": sampling.ALGORITHM, "organiser_path": area.path, "districts": sorted(codes),
        "site_kinds": kinds, "sites_per_district": int(sites_per_district), "cases_per_site": int(cases_per_site),
        "completed_from": _start_of(period_before(period_start, period_end)).isoformat(),
        "completed_before": _start_of(period_start).isoformat(),
    }
    with transaction.atomic():
        cycle = Cycle(number=_cycle_number(area, period_start), title=title, area=area, period_start=period_start,
                      period_end=period_end, template=template, site_kinds=kinds,
                      seed=secrets.randbits(62) if seed is None else int(seed), rule=rule, submit_days=submit_days,
                      notice_days=notice_days, scheduled=scheduled, created_by=_label(actor))
        cycle.full_clean(exclude=["rule", "site_kinds"], validate_constraints=False)
        with transaction.atomic():
            cycle.save()  # IntegrityError for a second scheduled cycle of the period: the caller's to handle
        cycle.districts.set(districts)
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=cycle, area_code=area.code,
              changes={"number": cycle.number, "template": [template.code, template.version], "seed": cycle.seed,
                       "districts": sorted(codes), "site_kinds": kinds})
    return cycle


def _lock_cycle(actor: Principal | None, cycle_id: int) -> Cycle:
    cycle = Cycle.objects.select_for_update(of=("self",)).select_related("area").filter(pk=cycle_id).first()
    if cycle is None:
        raise NotFound("未找到该督查周期")
    if actor is not None:
        require(actor, Cap.INSPECT, cycle.area)
    return cycle


def cycle_sample(*, actor: Principal | None, cycle_id: int, now: datetime | None = None) -> Cycle:
    """Draw the cycle's sample and ask the inspected levels for their materials.

    The draw reads outside the write transaction (SQLite holds its one write lock for the whole
    transaction): its bounds are fixed first (the last case and site ids now), so what it reads
    cannot change under it; the transaction then checks the cycle is still undrawn and writes."""
    from bianmin.cases.models import Case
    from bianmin.regions.models import ServiceSite

    cycle = Cycle.objects.select_related("area").filter(pk=cycle_id).first()
    if cycle is None or (actor is not None and not actor.sees_area(cycle.area)):
        raise NotFound("未找到该督查周期")
    if actor is not None:
        require(actor, Cap.INSPECT, cycle.area)
    if cycle.status != Cycle.Status.PLANNED:
        raise Conflict("本周期已抽样，样本不能重抽")
    now = now or timezone.now()
    today = timezone.localdate(now)
    if cycle.period_start > today:
        raise Conflict(f"周期尚未开始（{cycle.period_start:%Y-%m-%d}），开始后才能抽样")
    rule = dict(cycle.rule)
    rule["case_id_max"] = Case.objects.aggregate(m=Max("pk"))["m"] or 0
    rule["site_id_max"] = ServiceSite.objects.aggregate(m=Max("pk"))["m"] or 0
    drawn = sampling.draw(seed=cycle.seed, rule=rule)
    districts = {d.code: d for d in cycle.districts.all()}
    sites = {s.pk: s for s in ServiceSite.objects.filter(pk__in=[d.site_id for d in drawn]).select_related("area")}
    submit_due = add_working_days(today, cycle.submit_days)
    with transaction.atomic():
        cycle = _lock_cycle(None, cycle.pk)
        if cycle.status != Cycle.Status.PLANNED:
            raise Conflict("本周期已抽样，样本不能重抽")
        rank: dict[str, int] = {}
        rows = []
        for d in drawn:
            rank[d.district_code] = rank.get(d.district_code, 0) + 1
            rows.append(SampledSite(cycle=cycle, site_id=d.site_id, district=districts[d.district_code],
                                    rank=rank[d.district_code]))
        SampledSite.objects.bulk_create(rows)
        made = {s.site_id: s for s in SampledSite.objects.filter(cycle=cycle)}
        SampledCase.objects.bulk_create([SampledCase(sampled_site=made[d.site_id], case_id=case_id, rank=i)
                                         for d in drawn for i, case_id in enumerate(d.case_ids, start=1)])
        cycle.rule = rule
        cycle.sample_digest = sampling.digest(drawn)
        cycle.status = Cycle.Status.RUNNING
        cycle.sampled_at = now
        cycle.submit_due = submit_due
        cycle.save()
        for addressee, count in _requests_by_addressee(cycle, [sites[d.site_id] for d in drawn]).items():
            _notify(addressee, title=f"{cycle.title}：请提交送检材料",
                    body=f"本期抽查{addressee.name}范围内 {count} 个场所，请于 {submit_due:%Y-%m-%d} 前在平台提交送检材料。",
                    url=f"/inspections/cycles/{cycle.pk}/", key=f"sample:{cycle.pk}:{addressee.code}")
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=cycle, area_code=cycle.area.code,
              changes={"sampled_sites": len(rows), "sampled_cases": sum(len(d.case_ids) for d in drawn),
                       "digest": cycle.sample_digest, "case_id_max": rule["case_id_max"]})
    if drawn:
        transaction.on_commit(_ensure_daily)
    return cycle


def _requests_by_addressee(cycle: Cycle, sites) -> dict:
    out: dict = {}
    for site in sites:
        a = addressee_of(cycle.area, site.area)
        out[a] = out.get(a, 0) + 1
    return out


def cycle_close(*, actor: Principal, cycle_id: int, now: datetime | None = None) -> Cycle:
    """End a cycle. Every submitted site must have been reviewed; a site that never submitted
    scores 0 and gets a notice for it (未按期送检)."""
    with transaction.atomic():
        cycle = _lock_cycle(actor, cycle_id)
        if cycle.status != Cycle.Status.RUNNING:
            raise Conflict("只有检查中的周期可以结束")
        waiting = cycle.sites.filter(status=SampledSite.Status.SUBMITTED).count()
        if waiting:
            raise Conflict(f"还有 {waiting} 个场所已送检待评审，评审完成后才能结束本周期")
        for ss in cycle.sites.filter(status=SampledSite.Status.REQUESTED).select_related("site__area"):
            ss.status = SampledSite.Status.REVIEWED
            ss.score, ss.max_score = Decimal("0"), cycle.template.total
            ss.reviewed_at, ss.reviewed_by = now or timezone.now(), _label(actor)
            ss.save()
            finding = Finding.objects.create(
                cycle=cycle, sampled_site=ss, organiser=cycle.area, site=ss.site, area=ss.site.area,
                category=Category.DOSSIERS, description=f"未在送检截止日（{cycle.submit_due:%Y-%m-%d}）前提交送检材料，本期得分为 0。",
                deduction=cycle.template.total, created_by=_label(actor))
            _issue_notice(finding, actor=actor, days=cycle.notice_days, now=now)
        cycle.status = Cycle.Status.CLOSED
        cycle.closed_at = now or timezone.now()
        cycle.save()
        _scores_refresh(cycle)
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=cycle, area_code=cycle.area.code,
              changes={"status": "closed"})
    return cycle


# --- submissions (the inspected level) -------------------------------------------------------------

def _sampled_site(actor: Principal, sampled_site_id: int, *, lock: bool = False) -> SampledSite:
    qs = SampledSite.objects.select_related("cycle__area", "cycle__template", "site__area", "district")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return get_scoped(qs, actor, Cap.VIEW, area_field="site__area", pk=sampled_site_id)


def _require_respondent(actor: Principal, organiser, area, what: str) -> None:
    addressee = addressee_of(organiser, area)
    if actor.can(Cap.INSPECT, organiser):
        raise Forbidden(f"{what}由被检查单位办理；组织检查的单位不能代为办理")
    if not actor.can(Cap.INSPECTION_RESPOND, addressee):
        raise Forbidden(f"{what}由{addressee.name}办理")


def _require_reviewer(actor: Principal, organiser) -> None:
    if not actor.can(Cap.INSPECT, organiser):
        raise Forbidden(f"评审和验收由{organiser.name}的督查人员办理")


def sampled_site_prepare(*, actor: Principal, sampled_site_id: int) -> list[Material]:
    """Attach what the platform already holds: the sampled cases' dossiers, the site's published
    item list with its guides, and its stationing / "应进必进" report. Idempotent (each is attached
    once); rendered before the write transaction, stored inside it."""
    from bianmin.cases.dossier import dossier_pdf
    from bianmin.cases.models import Case
    from bianmin.catalog.models import Stationing
    from bianmin.catalog.selectors import compliance_report, site_items

    from .documents import compliance_pdf, item_list_pdf

    ss = _sampled_site(actor, sampled_site_id)
    _require_respondent(actor, ss.cycle.area, ss.site.area, "送检材料")
    if ss.status != SampledSite.Status.REQUESTED:
        raise Conflict("送检材料已提交，不能再修改")
    have = set(ss.materials.exclude(kind=Material.Kind.UPLOAD).values_list("kind", "case_id"))
    rendered: list[tuple[str, str, int | None, str, bytes]] = []
    cases = (Case.objects.filter(pk__in=ss.cases.values("case_id"))
             .select_related("item__standard_item", "site", "received_site", "authorized_by")
             .prefetch_related("materials", "suspensions", "events"))
    for case in sorted(cases, key=lambda c: c.pk):
        if (Material.Kind.DOSSIER, case.pk) not in have:
            number = case.acceptance_number or case.pk
            rendered.append((Material.Kind.DOSSIER, f"业务卷宗 {number}", case.pk, f"业务卷宗_{number}.pdf",
                             dossier_pdf(case)))
    if (Material.Kind.ITEM_LIST, None) not in have:
        items = site_items(site=ss.site).prefetch_related("standard_item__materials")
        rendered.append((Material.Kind.ITEM_LIST, "事项清单及办事指南", None, f"事项清单_{ss.site.code}.pdf",
                         item_list_pdf(ss.site, list(items))))
    if (Material.Kind.COMPLIANCE, None) not in have:
        report = compliance_report(area=ss.site.area)
        row = next((r for r in report.sites if r.site.pk == ss.site.pk), None)
        stationings = Stationing.objects.filter(site=ss.site, active=True).select_related("department", "window")
        rendered.append((Material.Kind.COMPLIANCE, "进驻及“应进必进”情况", None, f"进驻情况_{ss.site.code}.pdf",
                         compliance_pdf(ss.site, row, list(stationings))))
    with atomic_with_uploads():
        ss = _sampled_site(actor, sampled_site_id, lock=True)
        if ss.status != SampledSite.Status.REQUESTED:
            raise Conflict("送检材料已提交，不能再修改")
        have = set(ss.materials.exclude(kind=Material.Kind.UPLOAD).values_list("kind", "case_id"))
        made = []
        for kind, title, case_id, file_name, data in rendered:
            if (kind, case_id) in have:
                continue  # attached meanwhile by a concurrent request
            made.append(Material.objects.create(sampled_site=ss, kind=kind, title=title, case_id=case_id,
                                                file=_store(file_name, data), file_name=file_name,
                                                added_by=_label(actor)))
        if made:
            audit(actor=actor, action=AuditEntry.Action.UPDATE, target=ss, area_code=ss.site.area.code,
                  changes={"attached": [m.file_name for m in made]})
    return made


def material_upload(*, actor: Principal, sampled_site_id: int, title: str, files) -> list[Material]:
    """Materials the platform does not hold (制度文件, 场所照片, 台账…), checked and stored."""
    with atomic_with_uploads():
        ss = _sampled_site(actor, sampled_site_id, lock=True)
        _require_respondent(actor, ss.cycle.area, ss.site.area, "送检材料")
        if ss.status != SampledSite.Status.REQUESTED:
            raise Conflict("送检材料已提交，不能再修改")
        title = _text(title, "title", "材料名称", limit=200)
        files = checked_files(files, what="送检材料")
        if not files:
            raise Invalid("请选择要上传的文件", field="files")
        made = [Material.objects.create(sampled_site=ss, kind=Material.Kind.UPLOAD, title=title,
                                        file=_store(name, data), file_name=name, added_by=_label(actor))
                for name, data in files]
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=ss, area_code=ss.site.area.code,
              changes={"uploaded": [[m.file_name, m.file.sha256] for m in made]})
    return made


def sampled_site_submit(*, actor: Principal, sampled_site_id: int, now: datetime | None = None) -> SampledSite:
    """Submit the materials for review (the platform's own are attached first when missing)."""
    ss = _sampled_site(actor, sampled_site_id)
    _require_respondent(actor, ss.cycle.area, ss.site.area, "送检材料")
    if ss.status != SampledSite.Status.REQUESTED:
        raise Conflict("送检材料已提交")
    sampled_site_prepare(actor=actor, sampled_site_id=sampled_site_id)
    with transaction.atomic():
        ss = _sampled_site(actor, sampled_site_id, lock=True)
        if ss.status != SampledSite.Status.REQUESTED:
            raise Conflict("送检材料已提交")
        if ss.cycle.status != Cycle.Status.RUNNING:
            raise Conflict("本周期已结束，不能再送检")
        ss.status = SampledSite.Status.SUBMITTED
        ss.submitted_at, ss.submitted_by = now or timezone.now(), _label(actor)
        ss.save()
        _notify(ss.cycle.area, title=f"{ss.site.name}已提交送检材料",
                body=f"{ss.cycle.title}：{ss.site.name}已提交送检材料（{ss.materials.count()} 份），请评审。",
                url=f"/inspections/sites/{ss.pk}/", key=f"submitted:{ss.pk}")
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=ss, area_code=ss.site.area.code,
              changes={"status": ss.status, "materials": ss.materials.count()})
    return ss


# --- scoring -------------------------------------------------------------------------------------

def _write_scores(actor: Principal, template: ChecklistTemplate, scores: list[dict], **target) -> int:
    items = {i.pk: i for i in template.items.all()}
    n = 0
    for spec in scores or []:
        try:
            item_id = int(spec.get("item_id"))
        except (TypeError, ValueError):
            raise Invalid("评分项无效", field="scores") from None
        item = items.get(item_id)
        if item is None:
            raise Invalid("评分项不属于本次检查的评分模板", field="scores")
        raw = spec.get("score")
        if raw in (None, ""):
            continue  # not scored yet
        score = _decimal(raw, "scores", f"“{item.text}”的得分")
        if not Decimal("0") <= score <= item.max_score:
            raise Invalid(f"“{item.text}”的得分应在 0 至 {item.max_score} 之间", field="scores")
        remark = _text(spec.get("remark"), "scores", f"“{item.text}”的评审意见", required=False, limit=500)
        if score < item.max_score and not remark:
            raise Invalid(f"“{item.text}”有扣分，请填写评审意见（存在的问题）", field="scores")
        ItemScore.objects.update_or_create(item=item, **target, defaults={
            "score": score, "remark": remark, "scored_by": _label(actor), "scored_at": timezone.now()})
        n += 1
    return n


def review_score(*, actor: Principal, sampled_site_id: int, scores: list[dict]) -> SampledSite:
    """Item-by-item scores with remarks (saved as a draft until the review is finished)."""
    with transaction.atomic():
        ss = _sampled_site(actor, sampled_site_id, lock=True)
        _require_reviewer(actor, ss.cycle.area)
        if ss.status == SampledSite.Status.REQUESTED:
            raise Conflict("该场所尚未提交送检材料，不能评审")
        if ss.status == SampledSite.Status.REVIEWED:
            raise Conflict("该场所已评审完成，评分不能修改")
        n = _write_scores(actor, ss.cycle.template, scores, sampled_site=ss)
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=ss, area_code=ss.site.area.code,
              changes={"scored_items": n})
    return ss


def _total(template: ChecklistTemplate, scored) -> tuple[Decimal, Decimal, list]:
    items = list(template.items.all())
    by_item = {s.item_id: s for s in scored}
    missing = [i for i in items if i.pk not in by_item]
    return (sum((s.score for s in scored), Decimal("0")), sum((i.max_score for i in items), Decimal("0")), missing)


def review_finish(*, actor: Principal, sampled_site_id: int, now: datetime | None = None) -> SampledSite:
    """Finish the review: the score is the sum of the items; every item with a deduction becomes
    a finding and its notice goes to the inspected level."""
    with transaction.atomic():
        ss = _sampled_site(actor, sampled_site_id, lock=True)
        _require_reviewer(actor, ss.cycle.area)
        if ss.status != SampledSite.Status.SUBMITTED:
            raise Conflict("只有已送检、未完成评审的场所可以完成评审")
        scored = list(ss.scores.select_related("item"))
        score, full, missing = _total(ss.cycle.template, scored)
        if missing:
            raise Invalid(f"还有 {len(missing)} 个评分项未评分（如“{missing[0].text}”）", field="scores")
        ss.score, ss.max_score = score, full
        ss.status = SampledSite.Status.REVIEWED
        ss.reviewed_at, ss.reviewed_by = now or timezone.now(), _label(actor)
        ss.save()
        notices = []
        for s in scored:
            if s.score < s.item.max_score:
                finding = Finding.objects.create(
                    cycle=ss.cycle, sampled_site=ss, organiser=ss.cycle.area, site=ss.site, area=ss.site.area,
                    category=s.item.category, item=s.item, description=f"{s.item.text}：{s.remark}",
                    deduction=s.item.max_score - s.score, created_by=_label(actor))
                notices.append(_issue_notice(finding, actor=actor, days=ss.cycle.notice_days, now=now))
        _scores_refresh(ss.cycle)
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=ss, area_code=ss.site.area.code,
              changes={"status": ss.status, "score": str(score), "max": str(full), "notices": [n.number for n in notices]})
    return ss


# --- field checks ----------------------------------------------------------------------------------

def _check(actor: Principal, check_id: int, *, lock: bool = False) -> FieldCheck:
    from .selectors import checks_visible

    qs = checks_visible(actor).select_related("organiser", "site__area", "template", "cycle")
    if lock:
        qs = qs.select_for_update(of=("self",))
    check = qs.filter(pk=check_id).first()
    if check is None:
        raise NotFound("未找到该检查记录")
    return check


def check_create(*, actor: Principal, method: str, site, at: datetime, organiser=None, place: str = "",
                 lat: float | None = None, lng: float | None = None, line: str = "", phone_number: str = "",
                 answered: bool | None = None, summary: str = "", cycle_id: int | None = None,
                 template_id: int | None = None) -> FieldCheck:
    """Record an on-site visit (time and place), a mystery visit, or a phone check of a site."""
    if method not in FieldCheck.Method.values:
        raise Invalid("检查方式无效", field="method")
    if not actor.sees_area(site.area):
        raise NotFound("未找到该服务场所", field="site")
    cycle = None
    if cycle_id:
        cycle = Cycle.objects.select_related("area").filter(pk=cycle_id).first()
        if cycle is None or not actor.sees_area(cycle.area):
            raise NotFound("未找到该督查周期", field="cycle_id")
        if cycle.status == Cycle.Status.CLOSED:
            raise Conflict("该督查周期已结束")
        organiser = cycle.area
    if organiser is None:
        # The widest level the reviewer inspects for that holds the site.
        paths = [p for p in actor.area_paths_for(Cap.INSPECT) if site.area.path.startswith(p)]
        if not paths:
            raise Forbidden("您无权对该场所开展督查")
        from bianmin.regions.models import Area

        organiser = Area.objects.get(path=min(paths, key=len))
    require(actor, Cap.INSPECT, organiser)
    if site.area.path == organiser.path or not site.area.path.startswith(organiser.path):
        raise Invalid("被检查场所应在组织单位的下级区划内", field="site")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > timezone.now() + timedelta(minutes=5):
        raise Invalid("检查时间不能晚于现在", field="at")
    place = _text(place, "place", "检查地点", required=method == FieldCheck.Method.ONSITE, limit=200)
    summary = _text(summary, "summary", "情况记录", required=False, limit=5000)
    if (lat is None) != (lng is None) or (lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)):
        raise Invalid("经纬度应同时填写且在有效范围内", field="lat")
    if method == FieldCheck.Method.PHONE:
        if line not in (FieldCheck.Line.CONSULT, FieldCheck.Line.COMPLAINT):
            raise Invalid("请选择抽查的电话（咨询电话或监督投诉电话）", field="line")
        phone_number = _text(phone_number or (site.phone if line == "consult" else site.complaint_phone),
                             "phone_number", "拨打号码", limit=50)
        if answered is None:
            raise Invalid("请记录电话是否接通", field="answered")
    else:
        line, phone_number, answered = "", "", None
    template = None
    if template_id:
        template = ChecklistTemplate.objects.filter(pk=template_id).first()
        if template is None:
            raise Invalid("评分模板不存在", field="template_id")
    elif cycle is not None and method != FieldCheck.Method.PHONE:
        template = cycle.template
    with transaction.atomic():
        check = FieldCheck(method=method, organiser=organiser, cycle=cycle, site=site, area=site.area, template=template,
                           at=at, place=place, lat=lat, lng=lng, line=line, phone_number=phone_number,
                           answered=answered, summary=summary, inspector=_label(actor))
        check.full_clean()
        check.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=check, area_code=site.area.code,
              changes={"method": method, "at": at.isoformat(), "place": place, "cycle": cycle.number if cycle else ""})
    return check


def _require_check_editor(actor: Principal, check: FieldCheck) -> None:
    _require_reviewer(actor, check.organiser)
    if check.status != FieldCheck.Status.DRAFT:
        raise Conflict("检查记录已完成，不能修改")


def check_photo_add(*, actor: Principal, check_id: int, files, caption: str = "",
                    taken_at: datetime | None = None) -> list[CheckPhoto]:
    with atomic_with_uploads():
        check = _check(actor, check_id, lock=True)
        _require_check_editor(actor, check)
        caption = _text(caption, "caption", "照片说明", required=False, limit=200)
        files = checked_files(files, what="照片")
        if not files:
            raise Invalid("请选择照片", field="files")
        rows = [CheckPhoto.objects.create(check_record=check, file=_store(name, data), file_name=name, caption=caption,
                                          taken_at=taken_at or check.at, uploaded_by=_label(actor))
                for name, data in files]
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=check, area_code=check.area.code,
              changes={"photos": [[r.file_name, r.file.sha256] for r in rows]})
    return rows


def check_score(*, actor: Principal, check_id: int, scores: list[dict]) -> FieldCheck:
    with transaction.atomic():
        check = _check(actor, check_id, lock=True)
        _require_check_editor(actor, check)
        if check.template is None:
            raise Conflict("该检查未选用评分模板，不评分")
        n = _write_scores(actor, check.template, scores, check_record=check)
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=check, area_code=check.area.code,
              changes={"scored_items": n})
    return check


def check_finding_add(*, actor: Principal, check_id: int, category: str, description: str) -> Finding:
    """A problem written down during a visit or a call (无人接听, 工作人员脱岗…)."""
    if category not in Category.values:
        raise Invalid("检查方面无效", field="category")
    description = _text(description, "description", "存在问题")
    with transaction.atomic():
        check = _check(actor, check_id, lock=True)
        _require_check_editor(actor, check)
        finding = Finding.objects.create(
            cycle=check.cycle, check_record=check, organiser=check.organiser, site=check.site, area=check.area,
            category=category, description=description, published=not check.hidden, created_by=_label(actor))
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=finding, area_code=check.area.code,
              changes={"check": check.pk, "category": category})
    return finding


def check_finish(*, actor: Principal, check_id: int, now: datetime | None = None) -> FieldCheck:
    """Close the record. On-site visits need their photos; a scored check needs every item.
    Findings (written ones and deductions) become notices now — a mystery visit's only when
    published."""
    with transaction.atomic():
        check = _check(actor, check_id, lock=True)
        _require_check_editor(actor, check)
        if check.method == FieldCheck.Method.ONSITE and not check.photos.exists():
            raise Invalid("实地查访须上传现场照片", field="files")
        if (check.method != FieldCheck.Method.PHONE and not check.summary and check.template is None
                and not check.findings.exists()):
            raise Invalid("请填写情况记录或记录发现的问题", field="summary")
        if check.template is not None:
            scored = list(check.scores.select_related("item"))
            score, full, missing = _total(check.template, scored)
            if missing:
                raise Invalid(f"还有 {len(missing)} 个评分项未评分（如“{missing[0].text}”）", field="scores")
            check.score, check.max_score = score, full
            for s in scored:
                if s.score < s.item.max_score:
                    Finding.objects.create(
                        cycle=check.cycle, check_record=check, organiser=check.organiser, site=check.site,
                        area=check.area, category=s.item.category, item=s.item, description=f"{s.item.text}：{s.remark}",
                        deduction=s.item.max_score - s.score, published=not check.hidden, created_by=_label(actor))
        check.status = FieldCheck.Status.FINISHED
        check.finished_at = now or timezone.now()
        check.save()
        numbers = []
        if not check.hidden:
            numbers = [_issue_notice(f, actor=actor, now=now).number
                       for f in check.findings.filter(notice__isnull=True)]
            if check.cycle_id:
                _scores_refresh(check.cycle)
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=check, area_code=check.area.code,
              changes={"status": check.status, "score": str(check.score) if check.score is not None else None,
                       "notices": numbers})
    return check


def check_publish(*, actor: Principal, check_id: int, now: datetime | None = None) -> FieldCheck:
    """公布 a finished mystery visit: the visited site now sees it, and its findings become notices."""
    with transaction.atomic():
        check = _check(actor, check_id, lock=True)
        _require_reviewer(actor, check.organiser)
        if check.method != FieldCheck.Method.MYSTERY:
            raise Conflict("只有暗访记录需要公布")
        if check.status != FieldCheck.Status.FINISHED:
            raise Conflict("暗访记录完成后才能公布" if check.status == FieldCheck.Status.DRAFT else "该暗访已公布")
        check.status = FieldCheck.Status.PUBLISHED
        check.published_at = now or timezone.now()
        check.save()
        check.findings.update(published=True)
        numbers = [_issue_notice(f, actor=actor, now=now).number for f in check.findings.filter(notice__isnull=True)]
        if check.cycle_id:
            _scores_refresh(check.cycle)
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=check, area_code=check.area.code,
              changes={"status": check.status, "notices": numbers})
    return check


# --- notices ---------------------------------------------------------------------------------------

def _next_notice_number(year: int) -> str:
    counter = NoticeCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                NoticeCounter.objects.create(year=year, last=0)
        except IntegrityError:
            pass  # created by a concurrent issuer
        counter = NoticeCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"ZGTZ{year}{counter.last:05d}"


def _issue_notice(finding: Finding, *, actor: Principal | None, days: int | None = None,
                  now: datetime | None = None) -> Notice:
    """The notice of one finding (inside the caller's transaction): numbered, its deadline in
    working days on the platform's calendar, sent to the level below the organiser in the
    platform and through the outbox; the ledger hears of it on commit."""
    days = int(days or (finding.cycle.notice_days if finding.cycle_id else conf.notice_days()))
    now = now or timezone.now()
    issued_on = timezone.localdate(now)
    deadline = add_working_days(issued_on, days)
    addressee = addressee_of(finding.organiser, finding.area)
    source = finding.check_record.method if finding.check_record_id else "online"
    problem = f"【{finding.get_category_display()}】{finding.description}"
    if finding.deduction:
        problem += f"（扣 {finding.deduction} 分）"
    notice = Notice.objects.create(
        number=_next_notice_number(issued_on.year), finding=finding, cycle=finding.cycle, organiser=finding.organiser,
        addressee=addressee, site=finding.site, area=finding.area, source=source, problem=problem,
        requirement=(f"请{addressee.name}督促{finding.site.name}针对上述问题制定整改措施，明确责任人，"
                     f"于 {deadline:%Y年%m月%d日} 前整改到位，并上传整改前后对比照片、制度文件等佐证材料。"),
        issued_at=now, issued_on=issued_on, working_days=days, deadline=deadline,
        deadline_unconfirmed=not schedule_confirmed(deadline.year))
    NoticeEvent.objects.create(notice=notice, kind=NoticeEvent.Kind.ISSUED, actor=_label(actor),
                               text=f"整改期限 {deadline:%Y-%m-%d}（{days}个工作日）")
    _notify(addressee, title=f"整改通知 {notice.number}：{finding.site.name}",
            body=f"{finding.organiser.name}下发整改通知：{problem} 请于 {deadline:%Y-%m-%d} 前整改并答复。",
            url=f"/inspections/notices/{notice.pk}/", key=f"notice:{notice.pk}")
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=notice, area_code=finding.area.code,
          changes={"number": notice.number, "addressee": addressee.code, "deadline": deadline.isoformat(), "days": days})
    _on_commit_changed(notice)
    transaction.on_commit(_ensure_daily)
    return notice


def _notice(actor: Principal, notice_id: int, *, lock: bool = False) -> Notice:
    qs = Notice.objects.select_related("organiser", "addressee", "site", "area", "finding", "cycle")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return get_scoped(qs, actor, Cap.VIEW, pk=notice_id)


def notice_answer(*, actor: Principal, notice_id: int, answer: str, files=(), now: datetime | None = None) -> Notice:
    """The inspected level's answer with its evidence. The notice row is locked first, so of two
    answers sent at once one is taken and the other meets the new state (409) and leaves nothing:
    its files are checked and stored only after the state check, inside the same transaction."""
    with atomic_with_uploads():
        notice = _notice(actor, notice_id, lock=True)
        _require_respondent(actor, notice.organiser, notice.area, "整改通知的答复")
        if notice.status == Notice.Status.ANSWERED:
            raise Conflict("该整改通知已答复，正在等待验收")
        if notice.status == Notice.Status.ACCEPTED:
            raise Conflict("该整改通知已验收办结")
        answer = _text(answer, "answer", "整改情况", limit=5000)
        files = checked_files(files, what="佐证材料")
        if not files and not notice.evidence.exists():
            raise Invalid("请上传整改佐证材料（整改前后照片、制度文件等）", field="files")
        notice.rounds += 1
        rows = [NoticeEvidence.objects.create(notice=notice, round=notice.rounds, file=_store(name, data),
                                              file_name=name, uploaded_by=_label(actor)) for name, data in files]
        notice.status = Notice.Status.ANSWERED
        notice.answer = answer
        notice.answered_at, notice.answered_by = now or timezone.now(), _label(actor)
        notice.revision += 1
        notice.save()
        NoticeEvent.objects.create(notice=notice, kind=NoticeEvent.Kind.ANSWERED, actor=_label(actor),
                                   text=answer + (f"（佐证材料：{'、'.join(r.file_name for r in rows)}）" if rows else ""))
        _notify(notice.organiser, title=f"整改通知 {notice.number} 已答复", body=f"{notice.addressee.name}已答复整改情况，请验收。",
                url=f"/inspections/notices/{notice.pk}/", key=f"answered:{notice.pk}:{notice.rounds}")
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=notice, area_code=notice.area.code,
              changes={"status": notice.status, "round": notice.rounds,
                       "evidence": [[r.file_name, r.file.sha256] for r in rows]})
        _on_commit_changed(notice)
    return notice


def notice_decide(*, actor: Principal, notice_id: int, accept: bool, note: str = "",
                  now: datetime | None = None) -> Notice:
    """验收: accepted (rectified on the day of the accepted answer; on time when that day is not
    after the deadline) or sent back to be done again (the deadline stays)."""
    with transaction.atomic():
        notice = _notice(actor, notice_id, lock=True)
        _require_reviewer(actor, notice.organiser)
        if notice.status != Notice.Status.ANSWERED:
            raise Conflict("只有已答复的整改通知可以验收或退回")
        note = _text(note, "note", "退回理由" if not accept else "验收意见", required=not accept)
        notice.decision_note = note
        notice.decided_at, notice.decided_by = now or timezone.now(), _label(actor)
        if accept:
            notice.status = Notice.Status.ACCEPTED
            notice.rectified_on = timezone.localdate(notice.answered_at)
            notice.on_time = notice.rectified_on <= notice.deadline
        else:
            notice.status = Notice.Status.RETURNED
        notice.revision += 1
        notice.save()
        kind = NoticeEvent.Kind.ACCEPTED if accept else NoticeEvent.Kind.RETURNED
        NoticeEvent.objects.create(notice=notice, kind=kind, actor=_label(actor), text=note)
        what = "验收通过" if accept else "退回重改"
        _notify(notice.addressee, title=f"整改通知 {notice.number} {what}",
                body=f"{notice.organiser.name}：{what}。{note}", url=f"/inspections/notices/{notice.pk}/",
                key=f"decided:{notice.pk}:{notice.rounds}")
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=notice, area_code=notice.area.code,
              changes={"status": notice.status, "on_time": notice.on_time})
        _on_commit_changed(notice)
    return notice


def notice_pdf(*, actor: Principal, notice_id: int):
    """The notice's PDF: rendered on its first download and kept (what was sent stays what is
    shown). Returns (notice, StoredFile); audited as an export."""
    from .documents import notice_pdf as render

    notice = _notice(actor, notice_id)
    data = render(notice) if notice.pdf_id is None else None
    with atomic_with_uploads():
        notice = _notice(actor, notice_id, lock=True)
        if notice.pdf_id is None:
            notice.pdf = _store(f"整改通知_{notice.number}.pdf", data)
            notice.save(update_fields=["pdf"])
        audit(actor=actor, action=AuditEntry.Action.EXPORT, target=notice, area_code=notice.area.code,
              changes={"pdf": notice.pdf.sha256})
    return notice, notice.pdf


def notices_check_overdue(*, today: date | None = None) -> int:
    """The daily sweep: a notice not answered by its deadline (waiting, or sent back) is reported
    to its addressee's leadership list, once per deadline."""
    today = today or timezone.localdate()
    ids = list(Notice.objects.filter(status__in=(Notice.Status.ISSUED, Notice.Status.RETURNED), deadline__lt=today)
               .exclude(escalated_for=F("deadline")).values_list("pk", flat=True))
    escalated = 0
    for pk in ids:
        with transaction.atomic():
            notice = (Notice.objects.select_for_update(of=("self",)).select_related("addressee", "organiser", "site", "area")
                      .filter(pk=pk, status__in=(Notice.Status.ISSUED, Notice.Status.RETURNED), deadline__lt=today)
                      .first())
            if notice is None or notice.escalated_for == notice.deadline:
                continue
            notice.escalated_at, notice.escalated_for = timezone.now(), notice.deadline
            notice.save(update_fields=["escalated_at", "escalated_for"])
            leaders = list(Leader.objects.filter(area=notice.addressee, active=True).select_related("user"))
            text = (f"整改通知 {notice.number}（{notice.site.name}）已超过整改期限 {notice.deadline:%Y-%m-%d} 仍未整改到位，"
                    f"请督促{notice.addressee.name}尽快整改。")
            for leader in leaders:
                if leader.user_id:
                    enqueue(channel=NOTIFY, recipient=f"user:{leader.user.username}", dedupe_key=(
                        f"inspections:escalated:{notice.pk}:{notice.deadline}:{leader.pk}"),
                        payload={"template": "inspection_escalated", "text": text, "number": notice.number,
                                 "url": f"/inspections/notices/{notice.pk}/"})
                if leader.mobile:
                    enqueue(channel="sms", recipient=leader.mobile, ordering_key=f"sms:{leader.mobile}",
                            dedupe_key=f"inspections:escalated-sms:{notice.pk}:{notice.deadline}:{leader.pk}",
                            payload={"text": f"【便民督查】{leader.title}{leader.name}：{text}"})
            for area in (notice.addressee, notice.organiser):
                _notify(area, title=f"整改通知 {notice.number} 已逾期", body=text, url=f"/inspections/notices/{notice.pk}/",
                        key=f"escalated:{notice.pk}:{notice.deadline}:{area.code}")
            names = "、".join(f"{x.title}{x.name}" for x in leaders) or "（未配置分管领导名单）"
            NoticeEvent.objects.create(notice=notice, kind=NoticeEvent.Kind.ESCALATED, actor="系统",
                                       text=f"逾期未整改，已报送{notice.addressee.name}分管领导：{names}")
            audit(actor=None, action=AuditEntry.Action.TRANSITION, target=notice, area_code=notice.area.code,
                  changes={"escalated_for": notice.deadline.isoformat(), "leaders": [x.pk for x in leaders]})
        escalated += 1
    return escalated


def notice_ledger_synced(*, notice_id: int, revision: int, ledger_ref: str) -> None:
    """Called by the ledger's owner (followups) after it has brought its row to ``revision``."""
    with transaction.atomic():
        notice = Notice.objects.select_for_update().filter(pk=notice_id).first()
        if notice is None:
            raise NotFound("未找到该整改通知")
        if revision > notice.ledger_revision:
            notice.ledger_revision = min(revision, notice.revision)
            notice.ledger_ref = ledger_ref[:32]
            notice.save(update_fields=["ledger_revision", "ledger_ref"])


# --- leaders and the inbox -------------------------------------------------------------------------

def leader_add(*, actor: Principal, area, name: str, title: str, mobile: str = "", user=None) -> Leader:
    from django.core.exceptions import ValidationError

    from bianmin.core.validators import validate_mobile

    require(actor, Cap.INSPECT, area)
    name = _text(name, "name", "姓名", limit=50)
    title = _text(title, "title", "职务", limit=100)
    mobile = (mobile or "").strip()
    if mobile:
        try:
            mobile = validate_mobile(mobile)
        except ValidationError:
            raise Invalid("手机号码格式不正确", field="mobile") from None
    if not mobile and user is None:
        raise Invalid("请填写手机号码或选择平台账号，以便逾期时通知", field="mobile")
    with transaction.atomic():
        leader = Leader.objects.create(area=area, name=name, title=title, mobile=mobile, user=user)
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=leader, area_code=area.code,
              changes={"name": name, "title": title})
    return leader


def leader_remove(*, actor: Principal, leader_id: int) -> Leader:
    with transaction.atomic():
        leader = get_scoped(Leader.objects.select_for_update(of=("self",)).select_related("area"), actor, Cap.INSPECT,
                            pk=leader_id)
        leader.active = False
        leader.save(update_fields=["active"])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=leader, area_code=leader.area.code,
              changes={"active": False})
    return leader


def notification_read(*, actor: Principal, notification_id: int) -> Notification:
    from .selectors import notifications

    note = notifications(actor=actor).filter(pk=notification_id).first()
    if note is None:
        raise NotFound("未找到该通知")
    NotificationRead.objects.get_or_create(notification=note, user=actor.user)
    return note


# --- scores --------------------------------------------------------------------------------------

def _percent(score, full) -> Decimal | None:
    if score is None or not full:
        return None
    return (Decimal(score) * 100 / Decimal(full)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _mean(values) -> Decimal:
    values = list(values)
    return (sum(values, Decimal("0")) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _ranked(rows, key):
    """Competition ranking (1, 2, 2, 4) by descending ``key``."""
    rows = sorted(rows, key=lambda r: (-key(r), r[1] if isinstance(r, tuple) else 0))
    out, last, rank = [], None, 0
    for i, r in enumerate(rows, start=1):
        if key(r) != last:
            rank, last = i, key(r)
        out.append((rank, r))
    return out


def _scores_refresh(cycle: Cycle) -> None:
    """The cycle's scores: a site's is the mean of its finished checks in percent (the online
    review and the visits and calls of the cycle; an unpublished mystery visit not yet), a
    district's the mean of its sites'. Rewritten whole (a cycle has a few dozen sites)."""
    per_site: dict[int, list[Decimal]] = {}
    sites = {}
    for ss in cycle.sites.filter(status=SampledSite.Status.REVIEWED).select_related("site__area"):
        per_site.setdefault(ss.site_id, []).append(_percent(ss.score, ss.max_score))
        sites[ss.site_id] = ss.site
    for check in (cycle.field_checks.filter(score__isnull=False)
                  .exclude(status=FieldCheck.Status.DRAFT)
                  .exclude(method=FieldCheck.Method.MYSTERY, published_at__isnull=True).select_related("site__area")):
        per_site.setdefault(check.site_id, []).append(_percent(check.score, check.max_score))
        sites[check.site_id] = check.site
    findings = dict(cycle.findings.filter(published=True).values("site_id").annotate(n=Count("pk"))
                    .values_list("site_id", "n"))
    districts = {}
    site_rows = []
    for site_id, values in per_site.items():
        site = sites[site_id]
        district = district_of(site.area)
        districts[district.pk] = district
        site_rows.append((_mean(values), site.code, site, district, len(values), findings.get(site_id, 0)))
    CycleScore.objects.filter(cycle=cycle).delete()
    rows = [CycleScore(cycle=cycle, level=CycleScore.Level.SITE, site=site, area=site.area, district=district,
                       score=score, checks=n, findings=f, rank=rank)
            for rank, (score, _code, site, district, n, f) in _ranked(site_rows, key=lambda r: r[0])]
    by_district: dict[int, list] = {}
    for r in site_rows:
        by_district.setdefault(r[3].pk, []).append(r)
    district_rows = [(_mean(r[0] for r in rs), districts[pk].code, districts[pk], len(rs), sum(r[5] for r in rs))
                     for pk, rs in by_district.items()]
    rows += [CycleScore(cycle=cycle, level=CycleScore.Level.DISTRICT, area=d, district=d, score=score, checks=n,
                        findings=f, rank=rank)
             for rank, (score, _code, d, n, f) in _ranked(district_rows, key=lambda r: r[0])]
    CycleScore.objects.bulk_create(rows)


# --- the annual assessment -------------------------------------------------------------------------

def scheme_set(*, actor: Principal, area, year: int, weights: dict) -> AssessmentScheme:
    require(actor, Cap.INSPECT, area)
    if area.level != "city":
        raise Invalid("年度考核由市级组织", field="area")
    if not 2000 <= int(year) <= 2100:
        raise Invalid("年度无效", field="year")
    clean = {}
    for key in conf.ASSESSMENT_PARTS:
        raw = (weights or {}).get(key, 0)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise Invalid(f"“{conf.ASSESSMENT_PARTS[key]}”的权重应为整数", field=key) from None
        if not 0 <= value <= 100:
            raise Invalid(f"“{conf.ASSESSMENT_PARTS[key]}”的权重应在 0 至 100 之间", field=key)
        clean[key] = value
    unknown = set(weights or {}) - set(conf.ASSESSMENT_PARTS)
    if unknown:
        raise Invalid(f"未知的考核项：{'、'.join(sorted(unknown))}", field="weights")
    if sum(clean.values()) != 100:
        raise Invalid(f"各项权重之和应为 100（现为 {sum(clean.values())}）", field="weights")
    with transaction.atomic():
        scheme, _created = AssessmentScheme.objects.update_or_create(
            area=area, year=int(year), defaults={"weights": clean, "updated_by": _label(actor)})
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=scheme, area_code=area.code,
              changes={"year": int(year), "weights": clean})
    return scheme


def weights_for(area, year: int) -> dict[str, int]:
    scheme = AssessmentScheme.objects.filter(area=area, year=year).first()
    return dict(scheme.weights) if scheme else conf.default_weights()


def assessment_compute(*, actor: Principal, area, year: int, today: date | None = None) -> Assessment:
    """The year's assessment of every district below the city: the inspection scores (the mean
    of the district's scores over the year's cycles) and the platform's own figures counted from
    the raw rows — 好差评 satisfaction, cases finished on time, appeals answered on time — under
    the year's weights, each district with its breakdown. Recomputing replaces the last result."""
    from .assessment import platform_figures

    require(actor, Cap.INSPECT, area)
    if area.level != "city":
        raise Invalid("年度考核由市级组织", field="area")
    year = int(year)
    if not 2000 <= year <= 2100:
        raise Invalid("年度无效", field="year")
    weights = weights_for(area, year)
    districts = list(area.children.filter(level="district").order_by("code"))
    figures = platform_figures(area=area, year=year, today=today)
    inspection: dict[int, list[Decimal]] = {}
    for s in CycleScore.objects.filter(level=CycleScore.Level.DISTRICT, cycle__area=area, cycle__period_start__year=year,
                                       cycle__status__in=(Cycle.Status.RUNNING, Cycle.Status.CLOSED)):
        inspection.setdefault(s.district_id, []).append(s.score)
    results = []
    for d in districts:
        f = figures.get(d.path, {})
        parts = {"inspection": (_mean(inspection[d.pk]) if d.pk in inspection else None, len(inspection.get(d.pk, [])), None)}
        for key in ("satisfaction", "timeliness", "appeal"):
            num, den = f.get(key, (0, 0))
            parts[key] = (_percent(num, den), num, den)
        available = {k: w for k, w in weights.items() if w and parts[k][0] is not None}
        scale = sum(available.values())
        breakdown, total = {}, Decimal("0")
        for key, label in conf.ASSESSMENT_PARTS.items():
            value, num, den = parts[key]
            effective = Decimal(available[key]) / scale if key in available else Decimal("0")
            contribution = (value * effective).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if key in available else None
            total += value * effective if key in available else 0
            breakdown[key] = {"label": label, "weight": weights.get(key, 0), "value": None if value is None else str(value),
                              "numerator": num, "denominator": den,
                              "effective_weight": str((effective * 100).quantize(Decimal("0.1"))),
                              "rescaled": key in available and scale != 100,
                              "contribution": None if contribution is None else str(contribution)}
        results.append((total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), d.code, d, breakdown))
    with transaction.atomic():
        assessment, _ = Assessment.objects.select_for_update().update_or_create(
            area=area, year=year, defaults={"weights": weights, "computed_at": timezone.now(),
                                            "computed_by": _label(actor)})
        assessment.rows.all().delete()
        AssessmentRow.objects.bulk_create([
            AssessmentRow(assessment=assessment, district=d, total=total, rank=rank, breakdown=breakdown)
            for rank, (total, _code, d, breakdown) in _ranked(results, key=lambda r: r[0])])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=assessment, area_code=area.code,
              changes={"year": year, "weights": weights, "districts": len(results)})
    return assessment
