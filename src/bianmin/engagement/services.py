"""Every write of engagement: symposiums and their opinions, trainings and registrations,
opinion-collection campaigns, proposals and their replies.

Questionnaires are followups' (``questionnaire_create``, ``survey_send``, ``survey_record`` with
engagement's capability); problems go to followups' one rectification ledger
(``rectification_open`` with engagement's sources). followups never calls back: a completed
rectification arrives as the ``rectification_completed`` signal (receivers.py)."""

from __future__ import annotations

import calendar as _cal
import secrets
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from bianmin.cases.uploads import atomic_with_uploads
from bianmin.core.audit import audit
from bianmin.core.calendar import add_working_days, working_day_on_or_after
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.outbox import enqueue
from bianmin.core.principal import Principal, actor_name
from bianmin.core.scoping import get_scoped, require
from bianmin.core.validators import credit_code_checksum_ok, validate_credit_code, validate_mobile
from bianmin.followups import services as followups
from bianmin.followups.models import FollowUp, Rectification

from .models import (
    Assignment,
    Campaign,
    CampaignEntry,
    CampaignFinding,
    CampaignSite,
    Countersign,
    MemberRating,
    Opinion,
    PlanItem,
    Proposal,
    ProposalClass,
    ProposalEvent,
    Reply,
    Representative,
    Suggestion,
    Symposium,
    SymposiumInvitation,
    Training,
    TrainingMaterial,
    TrainingRegistration,
)

# --- configuration (settings, with the national defaults of STANDARDS.md) ----------------------


def opinion_days() -> int:
    """Working days to answer a symposium opinion or settle it as a rectification."""
    return int(getattr(settings, "BIANMIN_OPINION_DAYS", 10))


def reply_months() -> int:
    """A proposal is answered within three months of its assignment."""
    return int(getattr(settings, "BIANMIN_PROPOSAL_REPLY_MONTHS", 3))


REPLY_MONTHS_MAX = 6  # at most six months, with the reason given before the deadline


def joint_opinion_months() -> int:
    """A 会办 unit sends its view to the 主办 within one month."""
    return int(getattr(settings, "BIANMIN_PROPOSAL_JOINT_MONTHS", 1))


def return_days() -> int:
    """A wrongly assigned unit returns the proposal within 10 days of the assignment."""
    return int(getattr(settings, "BIANMIN_PROPOSAL_RETURN_DAYS", 10))


def rehandle_months() -> int:
    return int(getattr(settings, "BIANMIN_PROPOSAL_REHANDLE_MONTHS", 1))


def max_rounds() -> int:
    """Handling rounds of one unit: the first reply and one re-handling after a 不满意."""
    return int(getattr(settings, "BIANMIN_PROPOSAL_MAX_ROUNDS", 2))


def reminder_days() -> tuple[int, ...]:
    """Reminders this many days before a deadline (and once when it has passed)."""
    return tuple(getattr(settings, "BIANMIN_PROPOSAL_REMINDER_DAYS", (30, 7, 1)))


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    return date(year, month, min(d.day, _cal.monthrange(year, month)[1]))


# --- helpers -----------------------------------------------------------------------------------

def _text(value, field: str, what: str, *, required: bool = True, limit: int = 2000) -> str:
    value = (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value).strip())
    if required and not value:
        raise Invalid(f"请填写{what}", field=field)
    if len(value) > limit:
        raise Invalid(f"{what}不能超过 {limit} 字", field=field)
    return value


def _label(actor: Principal | None) -> str:
    return actor_name(actor)


def _mobile(value: str, field: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if not value and not required:
        return ""
    try:
        return validate_mobile(value)
    except ValidationError as exc:
        raise Invalid(exc.messages[0], field=field) from None


def _choice(value: str, choices, field: str, what: str) -> str:
    if value not in choices.values:
        raise Invalid(f"请选择{what}", field=field)
    return value


def _sms(phone: str, text: str, key: str) -> None:
    if phone:
        enqueue(channel="sms", recipient=phone, dedupe_key=key, ordering_key=f"sms:{phone}",
                payload={"text": f"【便民服务】{text}"})


def _site_in(site, area, field: str = "site"):
    if site is not None and not site.area.path.startswith(area.path):
        raise Invalid("服务场所不在该区划内", field=field)
    return site


# --- representatives and symposiums ------------------------------------------------------------

def representative_create(*, actor: Principal, area, kind: str, name: str, organisation: str = "",
                          phone: str = "") -> Representative:
    require(actor, Cap.ENGAGEMENT_MANAGE, area)
    rep = Representative(area=area, kind=_choice(kind, Representative.Kind, "kind", "代表类别"),
                         name=_text(name, "name", "姓名", limit=50),
                         organisation=_text(organisation, "organisation", "单位或企业", required=False, limit=100),
                         phone=_mobile(phone, "phone"))
    with transaction.atomic():
        rep.full_clean()
        rep.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=rep, area_code=area.code,
              changes={"kind": kind})
    return rep


def _quarter_day(year: int, quarter: int) -> date:
    """The default date of a quarter's symposium: the 15th of its middle month, or the next working day."""
    return working_day_on_or_after(date(year, quarter * 3 - 1, 15))


def symposium_title(area, year: int, quarter: int) -> str:
    return f"{year}年第{quarter}季度{area.name}人大代表、政协委员和企业、市民代表座谈会"


def symposium_schedule(*, actor: Principal, area, year: int, venue: str = "", site=None) -> list[Symposium]:
    """The year's quarterly schedule of one committee or district: the four symposiums, each made
    once (a quarter already planned is left as it is)."""
    require(actor, Cap.ENGAGEMENT_MANAGE, area)
    if not 2000 <= int(year) <= 2100:
        raise Invalid("年度无效", field="year")
    _site_in(site, area)
    made = []
    with transaction.atomic():
        for quarter in range(1, 5):
            if Symposium.objects.filter(area=area, year=year, quarter=quarter).exists():
                continue
            s = Symposium(area=area, site=site, year=year, quarter=quarter, title=symposium_title(area, year, quarter),
                          planned_on=_quarter_day(year, quarter), venue=_text(venue, "venue", "地点", required=False,
                                                                              limit=200),
                          created_by=actor.user)
            s.full_clean(validate_constraints=False, validate_unique=False)
            try:
                with transaction.atomic():
                    s.save()
            except IntegrityError:
                continue  # planned by a concurrent request
            made.append(s)
        audit(actor=actor, action=AuditEntry.Action.CREATE, target_type="engagement.symposium", label=f"{year}年座谈会计划",
              area_code=area.code, changes={"year": year, "made": [s.quarter for s in made]})
    return made


def _locked_symposium(actor: Principal, symposium_id: int) -> Symposium:
    return get_scoped(Symposium.objects.select_for_update(of=("self",)).select_related("area"), actor,
                      Cap.ENGAGEMENT_MANAGE, pk=symposium_id)


def symposium_plan(*, actor: Principal, symposium_id: int, planned_on: date, venue: str = "") -> Symposium:
    with transaction.atomic():
        s = _locked_symposium(actor, symposium_id)
        if s.status in (Symposium.Status.HELD, Symposium.Status.CANCELLED):
            raise Conflict("座谈会已召开或已取消，不能修改计划")
        first = date(s.year, s.quarter * 3 - 2, 1)
        last = add_months(first, 3).replace(day=1)
        if not first <= planned_on < last:
            raise Invalid(f"计划日期应在{s.year}年第{s.quarter}季度内", field="planned_on")
        s.planned_on, s.venue = planned_on, _text(venue, "venue", "地点", required=False, limit=200)
        s.save(update_fields=["planned_on", "venue"])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=s, area_code=s.area.code,
              changes={"planned_on": planned_on.isoformat(), "venue": s.venue})
    return s


def symposium_invite(*, actor: Principal, symposium_id: int, representative_ids: list[int]) -> int:
    """Invite representatives of the symposium's area (or above it, e.g. a city deputy to a
    district's meeting); each gets the invitation by SMS through the outbox, once."""
    if not representative_ids:
        raise Invalid("请选择邀请的代表", field="representative_ids")
    n = 0
    with transaction.atomic():
        s = _locked_symposium(actor, symposium_id)
        if s.status in (Symposium.Status.HELD, Symposium.Status.CANCELLED):
            raise Conflict("座谈会已召开或已取消，不能再发邀请")
        reps = {r.pk: r for r in Representative.objects.filter(pk__in=representative_ids, active=True)
                .select_related("area")}
        for rid in representative_ids:
            rep = reps.get(int(rid))
            # the area's own representatives, or those of an area above it (a city's deputies)
            if rep is None or not (s.area.path.startswith(rep.area.path) or rep.area.path.startswith(s.area.path)):
                raise Invalid("所选代表不存在或不在本辖区", field="representative_ids")
            inv, created = SymposiumInvitation.objects.get_or_create(symposium=s, representative=rep)
            if not created:
                continue
            when = s.planned_on.strftime("%Y年%-m月%-d日")
            _sms(rep.phone, f"{rep.name}您好，诚邀您参加{s.title}，时间：{when}，地点：{s.venue or '另行通知'}。",
                 f"symposium-invite:{inv.pk}")
            n += 1
        if s.status == Symposium.Status.PLANNED:
            s.status = Symposium.Status.INVITED
            s.save(update_fields=["status"])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=s, area_code=s.area.code, changes={"invited": n})
    return n


def symposium_attendance(*, actor: Principal, symposium_id: int, attended_ids: list[int]) -> int:
    """Who came: the invitations listed attended, the others did not."""
    with transaction.atomic():
        s = _locked_symposium(actor, symposium_id)
        if s.status == Symposium.Status.CANCELLED:
            raise Conflict("座谈会已取消")
        ids = {int(i) for i in attended_ids}
        invitations = list(s.invitations.all())
        unknown = ids - {i.pk for i in invitations}
        if unknown:
            raise Invalid("签到名单中有未受邀的人员", field="attended_ids")
        for inv in invitations:
            inv.attended = inv.pk in ids
            inv.save(update_fields=["attended"])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=s, area_code=s.area.code,
              changes={"attended": len(ids), "invited": len(invitations)})
    return len(ids)


def symposium_minutes(*, actor: Principal, symposium_id: int, held_on: date, minutes: str) -> Symposium:
    minutes = _text(minutes, "minutes", "会议纪要", limit=20000)
    with transaction.atomic():
        s = _locked_symposium(actor, symposium_id)
        if s.status == Symposium.Status.CANCELLED:
            raise Conflict("座谈会已取消")
        if held_on > timezone.localdate():
            raise Invalid("召开日期不能晚于今天", field="held_on")
        s.held_on, s.minutes, s.minutes_at, s.status = held_on, minutes, timezone.now(), Symposium.Status.HELD
        s.save(update_fields=["held_on", "minutes", "minutes_at", "status"])
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=s, area_code=s.area.code,
              changes={"status": "held", "held_on": held_on.isoformat()})
    return s


def _locked_opinion(actor: Principal, opinion_id: int) -> Opinion:
    return get_scoped(Opinion.objects.select_for_update(of=("self",)).select_related(
        "area", "symposium", "raised_by__representative"), actor, Cap.ENGAGEMENT_MANAGE, pk=opinion_id)


def opinion_record(*, actor: Principal, symposium_id: int, content: str, invitation_id: int | None = None,
                   working_days: int | None = None) -> Opinion:
    """An opinion raised at a held symposium, due in ``working_days`` working days (default 10)
    from the meeting."""
    content = _text(content, "content", "意见建议")
    days = opinion_days() if working_days in (None, "") else int(working_days)
    if not 1 <= days <= 60:
        raise Invalid("办理时限应为 1 至 60 个工作日", field="working_days")
    with transaction.atomic():
        s = _locked_symposium(actor, symposium_id)
        if s.status != Symposium.Status.HELD:
            raise Conflict("请先登记座谈会召开情况（召开日期和纪要），再登记会上意见")
        raised_by = None
        if invitation_id:
            raised_by = s.invitations.filter(pk=invitation_id).first()
            if raised_by is None:
                raise Invalid("提出人不是本次座谈会的受邀代表", field="invitation_id")
        op = Opinion(symposium=s, area=s.area, raised_by=raised_by, content=content, working_days=days,
                     due_on=add_working_days(s.held_on, days))
        op.full_clean()
        op.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=op, area_code=s.area.code,
              changes={"due_on": op.due_on.isoformat()})
    return op


def _feedback(op: Opinion, text: str) -> None:
    """Tell whoever raised the opinion (by SMS through the outbox when there is a phone)."""
    op.feedback, op.feedback_at = text[:2000], timezone.now()
    rep = op.raised_by.representative if op.raised_by_id else None
    if rep is not None:
        _sms(rep.phone, f"{rep.name}您好，您在{op.symposium.title}上提出的意见已办理：{text[:200]}",
             f"opinion-feedback:{op.pk}:{op.status}")


def opinion_answer(*, actor: Principal, opinion_id: int, answer: str) -> Opinion:
    answer = _text(answer, "answer", "答复")
    with transaction.atomic():
        op = _locked_opinion(actor, opinion_id)
        if op.status != Opinion.Status.OPEN:
            raise Conflict("该意见已答复或已列入整改")
        op.answer, op.answered_at, op.status = answer, timezone.now(), Opinion.Status.ANSWERED
        _feedback(op, answer)
        op.save()
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=op, area_code=op.area.code,
              changes={"status": "answered"})
    return op


def opinion_rectify(*, actor: Principal, opinion_id: int, problem: str = "", site=None, measure: str = "",
                    owner_name: str = "", working_days: int | None = None) -> Opinion:
    """The opinion names a problem to fix: it goes to the shared rectification ledger (source 座谈会意见);
    its raiser hears the result when the rectification is completed."""
    with transaction.atomic():
        op = _locked_opinion(actor, opinion_id)
        if op.status != Opinion.Status.OPEN:
            raise Conflict("该意见已答复或已列入整改")
        _site_in(site, op.area)
        rect = followups.rectification_open(
            actor=actor, source=Rectification.Source.SYMPOSIUM, area=site.area if site else op.area, site=site,
            problem=problem or op.content, measure=measure, owner_name=owner_name,
            working_days=working_days if working_days not in (None, "") else op.working_days,
            source_ref=f"symposium_opinion:{op.pk}")
        op.rectification, op.status = rect, Opinion.Status.RECTIFYING
        op.save(update_fields=["rectification", "status"])
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=op, area_code=op.area.code,
              changes={"status": "rectifying", "rectification": rect.number})
    return op


def opinion_rectified(*, rectification_id: int) -> Opinion | None:
    """The opinion's rectification is done (the signal, or the sweep): tell the raiser the result."""
    with transaction.atomic():
        op = (Opinion.objects.select_for_update(of=("self",)).select_related("area", "symposium", "rectification",
                                                                             "raised_by__representative")
              .filter(rectification_id=rectification_id, status=Opinion.Status.RECTIFYING).first())
        if op is None or op.rectification.status != Rectification.Status.DONE:
            return None
        op.status = Opinion.Status.RECTIFIED
        _feedback(op, f"已整改：{op.rectification.result}")
        op.save()
        audit(actor=None, action=AuditEntry.Action.TRANSITION, target=op, area_code=op.area.code,
              changes={"status": "rectified"})
    return op


def opinions_sweep_rectified() -> int:
    """Catch completed rectifications whose signal was lost."""
    ids = list(Opinion.objects.filter(status=Opinion.Status.RECTIFYING, rectification__status=Rectification.Status.DONE)
               .values_list("rectification_id", flat=True)[:500])
    return sum(1 for rid in ids if opinion_rectified(rectification_id=rid) is not None)


# --- trainings ---------------------------------------------------------------------------------

TRAINING_FEEDBACK_QUESTIONS = [
    {"kind": "scale", "text": "培训内容对您的工作有帮助吗？（1–5 分）"},
    {"kind": "scale", "text": "讲解是否清楚？（1–5 分）"},
    {"kind": "single", "text": "您对本次培训的总体评价", "options": ["满意", "基本满意", "不满意"]},
    {"kind": "text", "text": "您在新系统使用中还有哪些困难或建议？", "required": False},
]


def training_create(*, actor: Principal, area, title: str, starts_at: datetime, topic: str = "", venue: str = "",
                    capacity: int = 100, site=None) -> Training:
    require(actor, Cap.ENGAGEMENT_MANAGE, area)
    _site_in(site, area)
    if not 1 <= int(capacity) <= 10000:
        raise Invalid("名额应为 1 至 10000 人", field="capacity")
    t = Training(area=area, site=site, title=_text(title, "title", "培训名称", limit=200),
                 topic=_text(topic, "topic", "培训内容", required=False, limit=300), starts_at=starts_at,
                 venue=_text(venue, "venue", "地点", required=False, limit=200), capacity=int(capacity),
                 token=secrets.token_urlsafe(12), created_by=actor.user)
    with transaction.atomic():
        t.full_clean()
        t.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=t, area_code=area.code,
              changes={"starts_at": starts_at.isoformat(), "capacity": t.capacity})
    return t


def training_register(*, actor: Principal | None, training_id: int | None = None, token: str = "",
                      enterprise_name: str, credit_code: str, contact_name: str, contact_phone: str,
                      attendees: int = 1, pilot_override: bool = False) -> TrainingRegistration:
    """An enterprise registers, by the public link (``token``, no actor) or through staff.

    The 统一社会信用代码 is checked (GB 32100). A code that fails only its check character may be
    an early Fujian pilot code: the enterprise is told so, and staff who may manage the training
    take it with ``pilot_override`` (recorded with who confirmed it)."""
    if actor is None:
        t = Training.objects.select_related("area").filter(token=token).first() if token else None
        if t is None:
            raise NotFound("报名链接无效")
        if pilot_override:
            raise Forbidden("早期试点代码须由工作人员确认后录入")
    else:
        t = get_scoped(Training.objects.select_related("area"), actor, Cap.ENGAGEMENT_MANAGE, pk=training_id)
    enterprise_name = _text(enterprise_name, "enterprise_name", "企业名称", limit=200)
    try:
        code = validate_credit_code(credit_code, allow_pilot_override=pilot_override)
    except ValidationError as exc:
        raise Invalid(exc.messages[0], field="credit_code") from None
    pilot = not credit_code_checksum_ok(code)
    contact_name = _text(contact_name, "contact_name", "联系人", limit=50)
    phone = _mobile(contact_phone, "contact_phone", required=True)
    try:
        attendees = int(attendees)
    except (TypeError, ValueError):
        raise Invalid("参训人数应为整数", field="attendees") from None
    if not 1 <= attendees <= 20:
        raise Invalid("每家企业参训人数应为 1 至 20 人", field="attendees")
    with transaction.atomic():
        t = Training.objects.select_for_update().get(pk=t.pk)  # one seat count at a time
        if t.status != Training.Status.OPEN:
            raise Conflict("报名已截止")
        if t.registrations.filter(credit_code=code).exists():
            raise Conflict("该企业已报名本次培训", field="credit_code")
        taken = t.registrations.aggregate(n=Sum("attendees"))["n"] or 0
        if taken + attendees > t.capacity:
            raise Conflict(f"名额不足：剩余 {max(t.capacity - taken, 0)} 人")
        reg = TrainingRegistration(
            training=t, enterprise_name=enterprise_name, credit_code=code, pilot_code=pilot,
            pilot_confirmed_by=actor.user if pilot and actor else None, contact_name=contact_name,
            contact_phone=phone, attendees=attendees,
            channel=TrainingRegistration.Channel.STAFF if actor else TrainingRegistration.Channel.LINK)
        reg.full_clean(validate_constraints=False, validate_unique=False)
        reg.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=reg, area_code=t.area.code,
              changes={"training": t.pk, **({"pilot_credit_code": True} if pilot else {})})
    return reg


def _locked_training(actor: Principal, training_id: int) -> Training:
    return get_scoped(Training.objects.select_for_update(of=("self",)).select_related("area"), actor,
                      Cap.ENGAGEMENT_MANAGE, pk=training_id)


def training_status(*, actor: Principal, training_id: int, status: str) -> Training:
    status = _choice(status, Training.Status, "status", "状态")
    with transaction.atomic():
        t = _locked_training(actor, training_id)
        if t.status == Training.Status.HELD and status != Training.Status.HELD:
            raise Conflict("培训已举办，不能重新开放报名")
        t.status = status
        t.save(update_fields=["status"])
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=t, area_code=t.area.code,
              changes={"status": status})
    return t


def training_attendance(*, actor: Principal, training_id: int, attended_ids: list[int]) -> int:
    """签到: the registrations listed attended, the others did not; the training is held."""
    with transaction.atomic():
        t = _locked_training(actor, training_id)
        ids = {int(i) for i in attended_ids}
        regs = list(t.registrations.all())
        if ids - {r.pk for r in regs}:
            raise Invalid("签到名单中有未报名的企业", field="attended_ids")
        for r in regs:
            r.attended = r.pk in ids
            r.save(update_fields=["attended"])
        t.status = Training.Status.HELD
        t.save(update_fields=["status"])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=t, area_code=t.area.code,
              changes={"attended": len(ids), "registered": len(regs)})
    return len(ids)


def training_material_add(*, actor: Principal, training_id: int, file_name: str, data: bytes) -> TrainingMaterial:
    """A handout through the shared upload checks (type sniffed, size limited, stored once by content);
    a failure after the file was written leaves no file behind."""
    from bianmin.cases.services import store_file

    name = (file_name or "").strip()[:200] or "培训资料"
    with atomic_with_uploads():
        t = _locked_training(actor, training_id)
        stored = store_file(data=data, name=name)
        m = TrainingMaterial.objects.create(training=t, file=stored, file_name=name, uploaded_by=_label(actor))
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=m, area_code=t.area.code,
              changes={"sha256": stored.sha256, "size": stored.size})
    return m


def training_feedback_send(*, actor: Principal, training_id: int, questions: list[dict] | None = None) -> int:
    """The feedback questionnaire (followups' questionnaires) sent by SMS link to the enterprises
    that attended (or, before attendance is taken, to those registered); each phone once."""
    with transaction.atomic():
        t = _locked_training(actor, training_id)
        if t.questionnaire_id is None:
            t.questionnaire = followups.questionnaire_create(
                actor=actor, area=t.area, title=f"{t.title}反馈问卷", intro="感谢参加培训，请花一分钟告诉我们您的意见。",
                questions=questions or TRAINING_FEEDBACK_QUESTIONS, capability=Cap.ENGAGEMENT_MANAGE)
            t.save(update_fields=["questionnaire"])
        regs = t.registrations.all()
        if regs.filter(attended=True).exists():
            regs = regs.filter(attended=True)
        phones = list(regs.values_list("contact_phone", flat=True))
        if not phones:
            raise Conflict("还没有企业报名，无法发送反馈问卷")
        n = followups.survey_send(actor=actor, questionnaire_id=t.questionnaire_id, phones=phones,
                                  capability=Cap.ENGAGEMENT_MANAGE)
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=t, area_code=t.area.code,
              changes={"feedback_sent": n})
    return n


# --- opinion-collection campaigns --------------------------------------------------------------

SATISFACTION_OPTIONS = ["满意", "基本满意", "不满意"]
CAMPAIGN_DIMENSIONS = ["办事环境", "服务态度", "服务时效", "服务质量"]
CAMPAIGN_QUESTIONS = [
    *({"kind": "single", "text": f"您对便民服务中心{d}是否满意？", "options": SATISFACTION_OPTIONS}
      for d in CAMPAIGN_DIMENSIONS),
    {"kind": "text", "text": "您对便民服务还有哪些意见和诉求？", "required": False},
]


def campaign_create(*, actor: Principal, area, title: str, starts_on: date, ends_on: date, sites: list,
                    questions: list[dict] | None = None) -> Campaign:
    """A campaign over ``sites`` (within ``area``) with its questionnaire (the four dimensions by
    default; configurable) and one QR link per site."""
    require(actor, Cap.ENGAGEMENT_MANAGE, area)
    title = _text(title, "title", "活动名称", limit=200)
    if ends_on < starts_on:
        raise Invalid("结束日期不能早于开始日期", field="ends_on")
    if not sites:
        raise Invalid("请选择参加征集的服务场所", field="sites")
    for s in sites:
        _site_in(s, area, "sites")
    with transaction.atomic():
        q = followups.questionnaire_create(actor=actor, area=area, title=title,
                                           intro="请对便民服务中心的办事环境、服务态度、服务时效、服务质量作出评价。",
                                           questions=questions or CAMPAIGN_QUESTIONS, capability=Cap.ENGAGEMENT_MANAGE)
        c = Campaign(area=area, title=title, starts_on=starts_on, ends_on=ends_on, questionnaire=q, created_by=actor.user)
        c.full_clean()
        c.save()
        for s in dict.fromkeys(sites):
            CampaignSite.objects.create(campaign=c, site=s, token=secrets.token_urlsafe(12))
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=c, area_code=area.code,
              changes={"sites": [s.code for s in sites], "questions": q.questions.count()})
    return c


def _running(c: Campaign, today: date | None = None) -> None:
    today = today or timezone.localdate()
    if c.status != Campaign.Status.RUNNING or not c.starts_on <= today <= c.ends_on:
        raise Conflict("征集活动不在进行中")


def campaign_answer_qr(*, token: str, answers: dict) -> CampaignEntry:
    """A citizen's answer through a site's QR link (no log-in)."""
    cs = CampaignSite.objects.select_related("campaign", "site__area").filter(token=token).first()
    if cs is None:
        raise NotFound("问卷链接无效")
    _running(cs.campaign)
    problem = _text(_free_text(cs.campaign, answers), "answers", "意见", required=False, limit=1000)
    with transaction.atomic():
        response = followups.survey_record(actor=None, questionnaire_id=cs.campaign.questionnaire_id, answers=answers,
                                           channel="qr")
        entry = CampaignEntry.objects.create(campaign=cs.campaign, site=cs.site, area=cs.site.area,
                                             channel=CampaignEntry.Channel.QR, response=response, problem=problem)
    return entry


def _free_text(c: Campaign, answers: dict) -> str:
    """What the citizen wrote in the questionnaire's open questions: the entry's 反映问题."""
    texts = []
    for q in c.questionnaire.questions.filter(kind="text"):
        v = answers.get(str(q.position))
        if isinstance(v, str) and v.strip():
            texts.append(v.strip())
    return "；".join(texts)


def _overall(c: Campaign, answers: dict) -> str:
    """The citizen's satisfaction for the 回访 record: the worst of the single-choice answers."""
    values = {answers.get(str(q.position)) for q in c.questionnaire.questions.filter(kind="single")}
    if "不满意" in values:
        return FollowUp.Satisfaction.UNSATISFIED
    if "基本满意" in values:
        return FollowUp.Satisfaction.BASIC
    return FollowUp.Satisfaction.SATISFIED


def campaign_entry_record(*, actor: Principal, campaign_id: int, site, channel: str, contact_name: str,
                          answers: dict, contact_phone: str = "", notes: str = "", problem: str = "",
                          measure: str = "", owner_name: str = "") -> CampaignEntry:
    """A sheet filled in by staff after a 上门回访 or a call: the answers (followups' questionnaire),
    the 回访 record (followups' one 回访台账), and a problem found → the shared rectification ledger."""
    if channel not in (CampaignEntry.Channel.VISIT, CampaignEntry.Channel.CALL):
        raise Invalid("录入方式应为上门回访或电话回访", field="channel")
    c = get_scoped(Campaign.objects.select_related("area", "questionnaire"), actor, Cap.VIEW, pk=campaign_id)
    require(actor, Cap.FOLLOWUP_WORK, site.area)
    if not c.sites.filter(site=site).exists():
        raise Invalid("该服务场所不在本次征集范围内", field="site")
    _running(c)
    contact_name = _text(contact_name, "contact_name", "回访对象", limit=50)
    phone = _mobile(contact_phone, "contact_phone")
    problem = _text(problem, "problem", "反映问题", required=False) or _free_text(c, answers)
    with transaction.atomic():
        response = followups.survey_record(actor=actor, questionnaire_id=c.questionnaire_id, answers=answers,
                                           channel=channel, capability=Cap.VIEW)
        fu = followups.followup_log(
            actor=actor, area=site.area, site=site, method="visit" if channel == "visit" else "call",
            contact_name=contact_name, contact_phone=phone, satisfaction=_overall(c, response.answers),
            notes=f"民意诉求征集“{c.title}”：{_text(notes, 'notes', '回访记录', required=False) or '已填写问卷'}")
        entry = CampaignEntry.objects.create(campaign=c, site=site, area=site.area, channel=channel, response=response,
                                             followup=fu, contact_name=contact_name, contact_phone=phone,
                                             problem=problem, entered_by=actor.user)
        if problem:
            _finding(actor, c, site, problem, entry=entry, measure=measure, owner_name=owner_name)
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=entry, area_code=site.area.code,
              changes={"channel": channel, "problem": bool(problem)})
    return entry


def _finding(actor, c: Campaign, site, problem: str, *, entry=None, measure: str = "", owner_name: str = "",
             working_days: int | None = None) -> CampaignFinding:
    ref = f"campaign_entry:{entry.pk}" if entry else f"campaign:{c.pk}:{secrets.token_hex(6)}"
    rect = followups.rectification_open(actor=actor, source=Rectification.Source.CAMPAIGN, area=site.area, site=site,
                                        problem=f"【{c.title}】{problem}", measure=measure, owner_name=owner_name,
                                        working_days=working_days, source_ref=ref)
    return CampaignFinding.objects.create(campaign=c, site=site, area=site.area, entry=entry, problem=problem,
                                          rectification=rect)


def campaign_finding_raise(*, actor: Principal, campaign_id: int, site, problem: str, measure: str = "",
                           owner_name: str = "", working_days: int | None = None) -> CampaignFinding:
    """A problem the campaign's results show at a site (e.g. 服务时效 rated low), raised to the ledger."""
    problem = _text(problem, "problem", "存在问题")
    c = get_scoped(Campaign.objects.select_related("area"), actor, Cap.ENGAGEMENT_MANAGE, pk=campaign_id)
    require(actor, Cap.ENGAGEMENT_MANAGE, site.area)
    if not c.sites.filter(site=site).exists():
        raise Invalid("该服务场所不在本次征集范围内", field="site")
    with transaction.atomic():
        f = _finding(actor, c, site, problem, measure=measure, owner_name=owner_name, working_days=working_days)
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=f, area_code=site.area.code,
              changes={"rectification": f.rectification.number})
    return f


def campaign_close(*, actor: Principal, campaign_id: int, summary: str) -> Campaign:
    summary = _text(summary, "summary", "活动总结", limit=10000)
    with transaction.atomic():
        c = get_scoped(Campaign.objects.select_for_update(of=("self",)).select_related("area"), actor,
                       Cap.ENGAGEMENT_MANAGE, pk=campaign_id)
        if c.status == Campaign.Status.CLOSED:
            raise Conflict("征集活动已结束")
        c.status, c.summary, c.closed_at = Campaign.Status.CLOSED, summary, timezone.now()
        c.save(update_fields=["status", "summary", "closed_at"])
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=c, area_code=c.area.code,
              changes={"status": "closed"})
    return c


# --- proposals ---------------------------------------------------------------------------------

def _event(proposal: Proposal, kind: str, actor: Principal | None, text: str = "") -> None:
    ProposalEvent.objects.create(proposal=proposal, kind=kind, actor_label=_label(actor), text=text[:4000])


def _paudit(actor, target, proposal: Proposal, action: str, changes: dict) -> None:
    audit(actor=actor, action=action, target=target, area_code=proposal.area.code, changes=changes)


def proposal_intake(*, actor: Principal, area, kind: str, session: str, number: str, title: str, proposer: str,
                    received_on: date, proposer_kind: str = Proposal.ProposerKind.MEMBER, letter_number: str = "",
                    content: str = "") -> Proposal:
    require(actor, Cap.PROPOSAL_HANDLE, area)
    p = Proposal(area=area, kind=_choice(kind, Proposal.Kind, "kind", "类别（提案或建议）"),
                 session=_text(session, "session", "届次", limit=100), number=_text(number, "number", "编号", limit=20),
                 title=_text(title, "title", "标题", limit=200), proposer=_text(proposer, "proposer", "委员或单位名称", limit=100),
                 proposer_kind=_choice(proposer_kind, Proposal.ProposerKind, "proposer_kind", "提出者类别"),
                 letter_number=_text(letter_number, "letter_number", "来文编号", required=False, limit=20),
                 content=_text(content, "content", "内容摘要", required=False, limit=20000), received_on=received_on)
    if received_on > timezone.localdate():
        raise Invalid("收到日期不能晚于今天", field="received_on")
    with transaction.atomic():
        if Proposal.objects.filter(kind=p.kind, session=p.session, number=p.number).exists():
            raise Conflict(f"{p.session}第 {p.number} 号{p.get_kind_display()}已登记", field="number")
        p.full_clean(validate_constraints=False, validate_unique=False)
        try:
            with transaction.atomic():
                p.save()
        except IntegrityError:
            raise Conflict(f"{p.session}第 {p.number} 号{p.get_kind_display()}已登记", field="number") from None
        _event(p, ProposalEvent.Kind.RECEIVED, actor, f"{p.proposer}：{p.title}")
        _paudit(actor, p, p, AuditEntry.Action.CREATE, {"number": p.number, "kind": p.kind})
    return p


def _locked_proposal(actor: Principal, proposal_id: int, capability: str = Cap.PROPOSAL_HANDLE) -> Proposal:
    return get_scoped(Proposal.objects.select_for_update(of=("self",)).select_related("area"), actor, capability,
                      pk=proposal_id)


def proposal_assign(*, actor: Principal, proposal_id: int, units: list[dict], assigned_on: date | None = None,
                    months: int | None = None) -> list[Assignment]:
    """交办: ``units`` = [{"role": lead|joint|separate, "area": Area, "unit_name", "contact_phone"}].
    One 主办 with any 会办, or two or more 分办 (never both). 主办/分办 reply within ``months``
    (three by default, at most six); a 会办 sends its view within a month."""
    if not units:
        raise Invalid("请至少指定一个承办单位", field="units")
    assigned_on = assigned_on or timezone.localdate()
    months = reply_months() if months in (None, "") else int(months)
    if not 1 <= months <= REPLY_MONTHS_MAX:
        raise Invalid(f"办理期限应为 1 至 {REPLY_MONTHS_MAX} 个月", field="months")
    with transaction.atomic():
        p = _locked_proposal(actor, proposal_id)
        if p.status == Proposal.Status.CLOSED:
            raise Conflict("提案已办结")
        if assigned_on < p.received_on:
            raise Invalid("交办日期不能早于收到日期", field="assigned_on")
        live = list(p.assignments.exclude(status=Assignment.Status.RETURNED))
        roles = [a.role for a in live]
        rows = []
        for i, u in enumerate(units, start=1):
            role = _choice(u.get("role", ""), Assignment.Role, "units", f"第 {i} 个单位的办理方式")
            area = u.get("area")
            if area is None or not area.path.startswith(p.area.path):
                raise Invalid(f"第 {i} 个承办单位的区划不在受理机关辖区内", field="units")
            name = _text(u.get("unit_name"), "units", f"第 {i} 个承办单位名称", limit=100)
            if any(a.unit_name == name for a in live) or any(r.unit_name == name for r in rows):
                raise Conflict(f"“{name}”已在承办单位中", field="units")
            due = add_months(assigned_on, joint_opinion_months() if role == Assignment.Role.JOINT else months)
            rows.append(Assignment(proposal=p, role=role, area=area, unit_name=name, assigned_on=assigned_on,
                                   due_on=due, contact_phone=_mobile(u.get("contact_phone", ""), "units")))
            roles.append(role)
        leads, separate = roles.count(Assignment.Role.LEAD), roles.count(Assignment.Role.SEPARATE)
        if separate and (leads or Assignment.Role.JOINT in roles):
            raise Invalid("分办与主办、会办不能同时使用：分办时各单位分别答复", field="units")
        if leads > 1:
            raise Invalid("主办单位只能有一个", field="units")
        if Assignment.Role.JOINT in roles and not leads:
            raise Invalid("会办单位须配合主办单位办理：请先指定主办单位", field="units")
        if separate == 1:
            raise Invalid("只有一个承办单位时应为主办，分办至少需要两个单位", field="units")
        for a in rows:
            a.full_clean()
            a.save()
            _event(p, ProposalEvent.Kind.ASSIGNED, actor,
                   f"{a.get_role_display()}：{a.unit_name}，期限 {a.due_on:%Y-%m-%d}")
        p.status = Proposal.Status.HANDLING if p.status == Proposal.Status.RECEIVED else p.status
        p.save(update_fields=["status"])
        from .tasks import ensure_daily

        transaction.on_commit(ensure_daily)  # the reminders' daily run
        _paudit(actor, p, p, AuditEntry.Action.UPDATE,
                {"assigned": [{"role": a.role, "unit": a.unit_name, "due": a.due_on.isoformat()} for a in rows]})
    return rows


def _locked_assignment(actor: Principal, assignment_id: int, capability: str = Cap.PROPOSAL_HANDLE) -> Assignment:
    return get_scoped(Assignment.objects.select_for_update(of=("self",)).select_related("proposal__area", "area"),
                      actor, capability, pk=assignment_id)


def assignment_return(*, actor: Principal, assignment_id: int, reason: str,
                      today: date | None = None) -> Assignment:
    """A wrongly assigned unit returns it, with the reason, within 10 days of the assignment."""
    reason = _text(reason, "reason", "退回理由")
    today = today or timezone.localdate()
    with transaction.atomic():
        a = _locked_assignment(actor, assignment_id)
        if a.status != Assignment.Status.HANDLING:
            raise Conflict("该交办已答复、已提出意见或已退回")
        if (today - a.assigned_on).days > return_days():
            raise Conflict(f"交办已超过 {return_days()} 日，不能退回；请与交办机关协商")
        a.status, a.return_reason, a.returned_at = Assignment.Status.RETURNED, reason, timezone.now()
        a.save(update_fields=["status", "return_reason", "returned_at"])
        p = Proposal.objects.select_for_update().get(pk=a.proposal_id)
        if not p.assignments.exclude(status=Assignment.Status.RETURNED).exists():
            p.status = Proposal.Status.RECEIVED
            p.save(update_fields=["status"])
        _event(p, ProposalEvent.Kind.RETURNED, actor, f"{a.unit_name}退回：{reason}")
        _paudit(actor, a, p, AuditEntry.Action.TRANSITION, {"status": "returned"})
    return a


def assignment_extend(*, actor: Principal, assignment_id: int, due_on: date, reason: str,
                      today: date | None = None) -> Assignment:
    """延期: asked before the deadline, with the reason; at most six months from the assignment."""
    reason = _text(reason, "reason", "延期理由")
    today = today or timezone.localdate()
    with transaction.atomic():
        a = _locked_assignment(actor, assignment_id)
        if not a.replies_directly or a.status != Assignment.Status.HANDLING:
            raise Conflict("只有办理中的主办、分办单位可以申请延期")
        if today > a.due_on:
            raise Conflict("已超过办理期限：延期须在期限届满前提出")
        limit = add_months(a.assigned_on, REPLY_MONTHS_MAX)
        if not a.due_on < due_on <= limit:
            raise Invalid(f"延期后的期限应晚于 {a.due_on:%Y-%m-%d}，且不超过交办后六个月（{limit:%Y-%m-%d}）", field="due_on")
        old = a.due_on
        a.due_on, a.extension_reason = due_on, reason
        a.save(update_fields=["due_on", "extension_reason"])
        _event(a.proposal, ProposalEvent.Kind.EXTENDED, actor, f"{a.unit_name}：{old:%Y-%m-%d} 延至 {due_on:%Y-%m-%d}，理由：{reason}")
        _paudit(actor, a, a.proposal, AuditEntry.Action.UPDATE, {"due_on": [old.isoformat(), due_on.isoformat()]})
    return a


def joint_opinion(*, actor: Principal, assignment_id: int, opinion: str) -> Assignment:
    """会办意见: a 会办 unit's view, sent to the 主办 (it does not reply to the member itself)."""
    opinion = _text(opinion, "opinion", "会办意见", limit=10000)
    with transaction.atomic():
        a = _locked_assignment(actor, assignment_id)
        if a.role != Assignment.Role.JOINT:
            raise Conflict("只有会办单位提出会办意见")
        if a.status == Assignment.Status.RETURNED:
            raise Conflict("该交办已退回")
        a.opinion, a.opinion_at, a.status = opinion, timezone.now(), Assignment.Status.OPINION_SENT
        a.save(update_fields=["opinion", "opinion_at", "status"])
        _event(a.proposal, ProposalEvent.Kind.OPINION, actor, f"{a.unit_name}：{opinion}")
        _paudit(actor, a, a.proposal, AuditEntry.Action.UPDATE, {"opinion": opinion[:200]})
    return a


REPLY_FIELDS = ("org_mark", "doc_number", "signer_name", "title", "addressee", "body", "leader_name", "contact_name",
                "contact_phone", "issuer", "written_on", "disclosure", "printer", "printed_on", "table_title",
                "quality_rating")
_LIMITS = {"org_mark": 60, "doc_number": 40, "signer_name": 30, "title": 200, "addressee": 100, "body": 50000,
           "leader_name": 30, "contact_name": 30, "contact_phone": 20, "issuer": 60, "printer": 60, "table_title": 60}
_NAMES = {"org_mark": "发文机关标志", "doc_number": "发文字号", "signer_name": "签发人", "title": "标题", "addressee": "主送",
          "body": "正文", "leader_name": "领导署名", "contact_name": "联系人", "contact_phone": "联系电话", "issuer": "落款",
          "printer": "印发机关", "table_title": "附表名称"}


def reply_defaults(a: Assignment) -> dict:
    """A new reply's header as the unit usually writes it (the seed's layout)."""
    p = a.proposal
    what = "提案" if p.kind == Proposal.Kind.PROPOSAL else "建议"
    return {
        "org_mark": f"{a.unit_name}文件", "title": f"关于{p.session} {p.number}号{what}的答复",
        "addressee": f"{p.proposer}{p.addressee_suffix}" if p.proposer_kind == Proposal.ProposerKind.MEMBER else p.proposer,
        "issuer": a.unit_name, "printer": a.unit_name, "disclosure": Reply.Disclosure.ON_REQUEST,
        "table_title": f"{'市政协提案' if p.kind == Proposal.Kind.PROPOSAL else '人大代表'}建议采纳情况及实施安排表",
        "body": f"《{p.title}》{f'（{p.letter_number}）' if p.letter_number else ''}收悉。现答复如下：",
    }


def _clean_suggestions(items: list[dict]) -> list[dict]:
    out = []
    for i, s in enumerate(items or [], start=1):
        content = _text(s.get("content"), "suggestions", f"第 {i} 条建议内容", limit=500)
        adoption = _choice(s.get("adoption", ""), Suggestion.Adoption, "suggestions", f"第 {i} 条建议的采纳情况")
        reason = _text(s.get("reason"), "suggestions", f"第 {i} 条建议未采纳的原因",
                       required=adoption != Suggestion.Adoption.ADOPTED, limit=2000)
        out.append({"position": i, "content": content, "adoption": adoption, "reason": reason})
    return out


def _clean_plan(items: list[dict], suggestions: int) -> list[dict]:
    out = []
    for i, it in enumerate(items or [], start=1):
        title = _text(it.get("title"), "plan_items", f"第 {i} 项措施", limit=100)
        due_on = it.get("due_on") or None
        if isinstance(due_on, str):
            try:
                due_on = date.fromisoformat(due_on)
            except ValueError:
                raise Invalid(f"第 {i} 项措施的完成日期格式应为 YYYY-MM-DD", field="plan_items") from None
        sugg = it.get("suggestion")
        if sugg not in (None, "") and not 1 <= int(sugg) <= suggestions:
            raise Invalid(f"第 {i} 项措施对应的建议不存在", field="plan_items")
        out.append({"position": i, "title": title,
                    "content": _text(it.get("content"), "plan_items", f"第 {i} 项措施内容", required=False, limit=5000),
                    "deadline_text": _text(it.get("deadline_text"), "plan_items", f"第 {i} 项完成时限", required=False,
                                           limit=200),
                    "due_on": due_on, "owner_name": _text(it.get("owner_name"), "plan_items", "责任人", required=False,
                                                          limit=50),
                    "suggestion": int(sugg) if sugg not in (None, "") else None})
    return out


def reply_draft(*, actor: Principal, assignment_id: int, result_class: str = "", suggestions: list[dict] | None = None,
                plan_items: list[dict] | None = None, **fields) -> Reply:
    """拟稿 (or revise the draft) of the current round. Only a 主办 or 分办 replies; a change after a
    会签 voids the countersignatures (they signed another text). A signed reply never changes."""
    unknown = set(fields) - set(REPLY_FIELDS)
    if unknown:
        raise Invalid("未知字段：" + "、".join(sorted(unknown)), field=sorted(unknown)[0])
    clean: dict = {}
    for name, value in fields.items():
        if name in ("written_on", "printed_on"):
            clean[name] = value or None
        elif name == "disclosure":
            clean[name] = _choice(value, Reply.Disclosure, name, "附注")
        elif name == "quality_rating":
            clean[name] = _choice(value, Reply.Quality, name, "对提案质量的评价") if value else ""
        else:
            clean[name] = _text(value, name, _NAMES[name], required=name in ("org_mark", "title", "addressee", "issuer",
                                                                             "printer", "table_title"),
                                limit=_LIMITS[name])
    klass = None
    if result_class:
        klass = ProposalClass.objects.filter(code=result_class, active=True).first()
        if klass is None:
            raise Invalid("办理结果分类无效", field="result_class")
    sugg = _clean_suggestions(suggestions) if suggestions is not None else None
    plan = _clean_plan(plan_items, len(sugg) if sugg is not None else 999) if plan_items is not None else None
    with transaction.atomic():
        a = _locked_assignment(actor, assignment_id)
        p = a.proposal
        if not a.replies_directly:
            raise Conflict("会办单位不直接答复：请向主办单位提出会办意见，并会签主办单位的答复")
        if a.status != Assignment.Status.HANDLING:
            raise Conflict("该交办不在办理中（已答复或已退回）")
        reply = a.replies.order_by("-round").first()
        created = reply is None or reply.is_signed
        if created:
            round_ = 1 if reply is None else reply.round + 1
            reply = Reply(assignment=a, round=round_, drafted_by=actor.user, **{**reply_defaults(a), **clean})
        else:
            for k, v in clean.items():
                setattr(reply, k, v)
        if klass is not None:
            reply.result_class = klass
        reply.full_clean(validate_constraints=False, validate_unique=False)
        reply.save()
        if sugg is not None:
            PlanItem.objects.filter(reply=reply).delete()  # a draft's lines are replaced as a whole
            Suggestion.objects.filter(reply=reply).delete()
            rows = {s["position"]: Suggestion.objects.create(reply=reply, **s) for s in sugg}
        else:
            rows = {s.position: s for s in reply.suggestions.all()}
        if plan is not None:
            PlanItem.objects.filter(reply=reply).delete()
            for it in plan:
                n = it.pop("suggestion")
                PlanItem.objects.create(reply=reply, suggestion=rows.get(n) if n else None, **it)
        voided = 0
        if not created:
            voided, _ = Countersign.objects.filter(reply=reply).delete()
        _event(p, ProposalEvent.Kind.DRAFTED if created else ProposalEvent.Kind.EDITED, actor,
               f"{a.unit_name}第 {reply.round} 轮答复{'拟稿' if created else '修改'}" + ("，已有会签作废，需重新会签" if voided else ""))
        _paudit(actor, reply, p, AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
                {"fields": sorted(clean), "suggestions": len(sugg) if sugg is not None else None,
                 "plan_items": len(plan) if plan is not None else None, "result_class": result_class or None,
                 **({"countersigns_voided": voided} if voided else {})})
    return reply


def _locked_reply(actor: Principal, reply_id: int, capability: str, area_field: str = "assignment__area") -> Reply:
    return get_scoped(Reply.objects.select_for_update(of=("self",)).select_related(
        "assignment__proposal__area", "assignment__area", "result_class"), actor, capability,
        area_field=area_field, pk=reply_id)


def reply_countersign(*, actor: Principal, reply_id: int, assignment_id: int, agreed: bool, note: str = "") -> Countersign:
    """会签 by a 会办 unit (its own user, in its own area) on the 主办's draft."""
    note = _text(note, "note", "会签意见", required=not agreed)
    with transaction.atomic():
        joint = _locked_assignment(actor, assignment_id)
        reply = Reply.objects.select_for_update(of=("self",)).select_related("assignment__proposal__area").filter(
            pk=reply_id, assignment__proposal_id=joint.proposal_id).first()
        if reply is None:
            raise NotFound("未找到该答复")
        if joint.role != Assignment.Role.JOINT or joint.status == Assignment.Status.RETURNED:
            raise Conflict("只有会办单位会签主办单位的答复")
        if reply.assignment.role != Assignment.Role.LEAD:
            raise Conflict("只有主办单位的答复需要会签")
        if reply.is_signed:
            raise Conflict("答复已签发，不能再会签")
        if Countersign.objects.filter(reply=reply, assignment=joint).exists():
            raise Conflict("本单位已会签")
        cs = Countersign.objects.create(reply=reply, assignment=joint, agreed=agreed, note=note, signed_by=actor.user)
        p = reply.assignment.proposal
        _event(p, ProposalEvent.Kind.COUNTERSIGNED, actor,
               f"{joint.unit_name}{'同意' if agreed else '不同意'}" + (f"：{note}" if note else ""))
        _paudit(actor, cs, p, AuditEntry.Action.CREATE, {"agreed": agreed})
    return cs


def _sign_check(reply: Reply) -> None:
    missing = [_NAMES[f] for f in ("doc_number", "signer_name", "body") if not getattr(reply, f)]
    if reply.written_on is None:
        missing.append("成文日期")
    if reply.result_class_id is None:
        missing.append("办理结果分类")
    if not reply.quality_rating:
        missing.append("对提案质量的评价")
    if missing:
        raise Invalid("签发前请填写：" + "、".join(missing), field="reply")
    if not reply.suggestions.exists():
        raise Invalid("签发前请填写建议采纳情况", field="suggestions")
    a = reply.assignment
    if a.role == Assignment.Role.LEAD:
        joints = a.proposal.assignments.filter(role=Assignment.Role.JOINT).exclude(status=Assignment.Status.RETURNED)
        signed = {c.assignment_id: c for c in reply.countersigns.all()}
        waiting = [j.unit_name for j in joints if j.pk not in signed]
        if waiting:
            raise Conflict("尚有会办单位未会签：" + "、".join(waiting))
        refused = [signed[j.pk].assignment.unit_name for j in joints if not signed[j.pk].agreed]
        if refused:
            raise Conflict("会办单位不同意答复内容，请协商修改后重新会签：" + "、".join(refused))


def reply_sign(*, actor: Principal, reply_id: int, signer_name: str = "") -> Reply:
    """签发 by a leader of the replying unit (never the drafter); the reply is then final."""
    with transaction.atomic():
        # Seen by the unit (404 otherwise); signing is a leader's (403 for the unit's other staff).
        reply = _locked_reply(actor, reply_id, Cap.VIEW)
        require(actor, Cap.PROPOSAL_SIGN, reply.assignment.area)
        if reply.is_signed:
            raise Conflict("答复已签发")
        if actor.user is not None and reply.drafted_by_id == actor.user.pk:
            raise Forbidden("拟稿人不能签发自己起草的答复")
        if signer_name:
            reply.signer_name = _text(signer_name, "signer_name", "签发人", limit=30)
        elif not reply.signer_name and actor.user is not None:
            reply.signer_name = (actor.user.display_name or actor.user.username)[:30]
        _sign_check(reply)
        a = reply.assignment
        reply.status, reply.signed_by, reply.signed_at = Reply.Status.SIGNED, actor.user, timezone.now()
        reply.printed_on = reply.printed_on or reply.written_on
        reply.save()
        a.status = Assignment.Status.REPLIED
        a.save(update_fields=["status"])
        p = Proposal.objects.select_for_update().get(pk=a.proposal_id)
        if not p.assignments.filter(role__in=(Assignment.Role.LEAD, Assignment.Role.SEPARATE),
                                    status=Assignment.Status.HANDLING).exists():
            p.status = Proposal.Status.REPLIED
            p.save(update_fields=["status"])
        _event(p, ProposalEvent.Kind.SIGNED, actor,
               f"{a.unit_name}答复签发：{reply.doc_number}，签发人 {reply.signer_name}，办理结果 {reply.result_class.code}类")
        _paudit(actor, reply, p, AuditEntry.Action.TRANSITION, {"status": "signed", "doc_number": reply.doc_number})
    return reply


def plan_progress(*, actor: Principal, item_id: int, status: str, note: str, done_on: date | None = None) -> PlanItem:
    """实施进展 of one plan item (a task): its state and what was done."""
    status = _choice(status, PlanItem.Status, "status", "进度")
    note = _text(note, "note", "进展情况")
    with transaction.atomic():
        item = get_scoped(PlanItem.objects.select_for_update(of=("self",)).select_related(
            "reply__assignment__proposal__area"), actor, Cap.PROPOSAL_HANDLE, area_field="reply__assignment__area",
            pk=item_id)
        if not item.reply.is_signed:
            raise Conflict("答复签发后才登记实施进展")
        if item.status == PlanItem.Status.DONE:
            raise Conflict("该措施已完成")
        item.status, item.progress_note = status, note
        if status == PlanItem.Status.DONE:
            item.done_on = done_on or timezone.localdate()
        item.save()
        p = item.reply.assignment.proposal
        _event(p, ProposalEvent.Kind.PROGRESS, actor, f"{item.position}. {item.title}：{item.get_status_display()}，{note}")
        _paudit(actor, item, p, AuditEntry.Action.UPDATE, {"status": status})
    return item


def member_rate(*, actor: Principal, reply_id: int, attitude: str, result: str, note: str = "",
                rated_on: date | None = None) -> MemberRating:
    """The member's rating of a signed reply (as returned on the 评价表), recorded by the receiving
    office. 不满意 with the result sends the unit back to handle it again (a new round, one month)
    while rounds remain; otherwise the proposal is closed once every reply is rated."""
    attitude = _choice(attitude, MemberRating.Grade, "attitude", "办理态度评价")
    result = _choice(result, MemberRating.Grade, "result", "办理结果评价")
    rated_on = rated_on or timezone.localdate()
    with transaction.atomic():
        reply = _locked_reply(actor, reply_id, Cap.PROPOSAL_HANDLE, area_field="assignment__proposal__area")
        if not reply.is_signed:
            raise Conflict("答复签发后才能登记委员评价")
        if MemberRating.objects.filter(reply=reply).exists():
            raise Conflict("该答复已登记委员评价")
        if rated_on < (reply.written_on or reply.signed_at.date()):
            raise Invalid("评价日期不能早于答复的成文日期", field="rated_on")
        if rated_on > timezone.localdate():
            raise Invalid("评价日期不能晚于今天", field="rated_on")
        rating = MemberRating.objects.create(reply=reply, attitude=attitude, result=result,
                                             note=_text(note, "note", "意见", required=False),
                                             rated_on=rated_on, recorded_by=actor.user)
        a = Assignment.objects.select_for_update().get(pk=reply.assignment_id)
        p = Proposal.objects.select_for_update().get(pk=a.proposal_id)
        _event(p, ProposalEvent.Kind.RATED, actor,
               f"{a.unit_name}：办理态度{rating.get_attitude_display()}，办理结果{rating.get_result_display()}"
               + (f"；{rating.note}" if rating.note else ""))
        if result == MemberRating.Grade.UNSATISFIED and reply.round < max_rounds():
            a.status, a.due_on = Assignment.Status.HANDLING, add_months(rated_on, rehandle_months())
            a.save(update_fields=["status", "due_on"])
            p.status = Proposal.Status.REHANDLING
            _event(p, ProposalEvent.Kind.REHANDLING, actor, f"{a.unit_name}重新办理，期限 {a.due_on:%Y-%m-%d}")
        else:
            replying = list(p.assignments.filter(role__in=(Assignment.Role.LEAD, Assignment.Role.SEPARATE))
                            .exclude(status=Assignment.Status.RETURNED))
            latest = [x.replies.order_by("-round").first() for x in replying]
            if all(r is not None and r.is_signed and MemberRating.objects.filter(reply=r).exists() for r in latest):
                p.status, p.closed_at = Proposal.Status.CLOSED, timezone.now()
                _event(p, ProposalEvent.Kind.CLOSED, actor, "办结")
            elif not any(x.status == Assignment.Status.HANDLING for x in replying):
                p.status = Proposal.Status.REPLIED
        p.save(update_fields=["status", "closed_at"])
        _paudit(actor, rating, p, AuditEntry.Action.CREATE, {"attitude": attitude, "result": result,
                                                             "proposal_status": p.status})
    return rating


def proposal_problem_raise(*, actor: Principal, proposal_id: int, problem: str, area=None, site=None,
                           measure: str = "", owner_name: str = "", working_days: int | None = None) -> Rectification:
    """A problem a proposal brings to light (e.g. a center not yet 应进必进) into the shared ledger."""
    problem = _text(problem, "problem", "存在问题")
    with transaction.atomic():
        p = _locked_proposal(actor, proposal_id)
        area = site.area if site is not None else (area or p.area)
        if not area.path.startswith(p.area.path):
            raise Invalid("整改单位不在受理机关辖区内", field="area")
        n = Rectification.objects.filter(source=Rectification.Source.PROPOSAL,
                                         source_ref__startswith=f"proposal:{p.pk}:").count() + 1
        rect = followups.rectification_open(actor=actor, source=Rectification.Source.PROPOSAL, area=area, site=site,
                                            problem=f"【{p.number}号 {p.title}】{problem}", measure=measure,
                                            owner_name=owner_name, working_days=working_days,
                                            source_ref=f"proposal:{p.pk}:{n}")
        _event(p, ProposalEvent.Kind.PROGRESS, actor, f"列入整改台账 {rect.number}：{problem}")
    return rect


def proposals_remind(*, today: date | None = None) -> int:
    """The daily reminders (催办): an assignment or a plan item whose deadline is 30, 7 or 1 day
    away, or just passed, gets one SMS to the unit's contact (outbox: once per deadline and
    threshold, whatever the number of runs) and one line in the proposal's history."""
    today = today or timezone.localdate()
    marks = reminder_days()
    n = 0
    for a in (Assignment.objects.filter(status=Assignment.Status.HANDLING).select_related("proposal")
              .order_by("id")):
        left = (a.due_on - today).days
        mark = left if left in marks else ("overdue" if left < 0 else None)
        if mark is None:
            continue
        n += _remind(a.proposal, a.contact_phone, f"proposal-reminder:{a.pk}:{a.due_on}:{mark}",
                     f"{a.unit_name}：{a.proposal.number}号“{a.proposal.title}”"
                     + (f"办理期限 {a.due_on:%Y-%m-%d}，还有 {left} 天" if left >= 0 else f"已超过办理期限 {a.due_on:%Y-%m-%d}"))
    for item in (PlanItem.objects.filter(reply__status=Reply.Status.SIGNED, due_on__isnull=False)
                 .exclude(status=PlanItem.Status.DONE).select_related("reply__assignment__proposal").order_by("id")):
        left = (item.due_on - today).days
        mark = left if left in marks else ("overdue" if left < 0 else None)
        if mark is None:
            continue
        a = item.reply.assignment
        n += _remind(a.proposal, a.contact_phone, f"plan-reminder:{item.pk}:{item.due_on}:{mark}",
                     f"{a.unit_name}：{a.proposal.number}号实施计划“{item.title}”"
                     + (f"完成时限 {item.due_on:%Y-%m-%d}，还有 {left} 天" if left >= 0 else f"已超过完成时限 {item.due_on:%Y-%m-%d}"))
    return n


def _remind(p: Proposal, phone: str, key: str, text: str) -> int:
    from bianmin.core.models import OutboxMessage

    with transaction.atomic():
        if OutboxMessage.objects.filter(dedupe_key=key).exists() or ProposalEvent.objects.filter(
                proposal=p, kind=ProposalEvent.Kind.REMINDED, text=text).exists():
            return 0
        _sms(phone, f"【催办】{text}。", key)
        _event(p, ProposalEvent.Kind.REMINDED, None, text)
    return 1
