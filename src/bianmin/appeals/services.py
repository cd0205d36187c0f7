"""Every write to appeals: one function per use case, one transaction, validation, an audit row,
a timeline event, and news (outbox, signals) sent with the commit."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from bianmin.core import validators
from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.outbox import enqueue
from bianmin.core.principal import Principal, actor_name
from bianmin.core.scoping import require
from bianmin.core.uploads import check_files

from . import signals, topics, workflow
from .deadlines import DeadlineCalculator
from .models import (
    ANONYMOUS_KINDS,
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    AppealKind,
    Attachment,
    Channel,
    CoHandling,
    PartyType,
    RectificationRequest,
    Satisfaction,
    Status,
    TopicBy,
    TopicClass,
)

HOTLINE_CHANNEL = "hotline12345"
NOTIFY_CHANNEL = "notify"


# --- numbers --------------------------------------------------------------------------------

def new_number(day: dt.date | None = None) -> str:
    """SQ + date + 8 random digits: short enough to read over the phone, not guessable; the
    citizen also needs the last four digits of the phone to see it."""
    day = day or timezone.localdate()
    return f"SQ{day:%Y%m%d}{secrets.randbelow(10**8):08d}"


def _unique_number(day: dt.date) -> str:
    for _attempt in range(10):
        number = new_number(day)
        if not Appeal.objects.filter(number=number).exists():
            return number
    raise Conflict("诉求编号生成冲突，请重试")


# --- party (who appeals) --------------------------------------------------------------------

TITLE_LIMIT = 200
CONTENT_LIMIT = 5000  # characters of an appeal's content (a 12345 work order's text fits well within)


def _limit(errors: FieldErrors, field: str, value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        errors.add(field, f"{what}不能超过 {limit} 个字（现有 {len(value)} 个字）")
    return value


def clean_party(*, kind: str, party_type: str, name: str = "", mobile: str = "", id_number: str = "",
                enterprise_name: str = "", credit_code: str = "", email: str = "") -> dict:
    """Validate the appellant; returns normalized fields. Every bad field is reported at once
    (Invalid with ``errors``); lengths are checked here, never cut without a word."""
    name, mobile, id_number = name.strip(), mobile.strip(), id_number.strip()
    enterprise_name, credit_code, email = enterprise_name.strip(), credit_code.strip().upper(), email.strip()
    errors = FieldErrors()
    if party_type not in PartyType.values:
        raise Invalid("诉求人类型无效", field="party_type")
    _limit(errors, "email", email, 254, "电子邮箱")
    if party_type == PartyType.ANONYMOUS:
        if kind not in ANONYMOUS_KINDS:
            errors.add("party_type", "只有举报和建议可以匿名提出")
        errors.raise_if_any()
        return {"party_type": party_type, "name": "", "mobile": "", "id_number": "", "enterprise_name": "",
                "credit_code": "", "email": email}
    if not name:
        errors.add("name", "请填写诉求人姓名")
    _limit(errors, "name", name, 50, "姓名")
    if not mobile and not email:
        errors.add("mobile", "请填写联系电话或电子邮箱")
    if email and "email" not in errors.errors:
        try:
            validate_email(email)
        except ValidationError:
            errors.add("email", "电子邮箱格式错误")
    if mobile:
        mobile = errors.run(_validated, validators.validate_mobile, mobile, "mobile") or mobile
    if id_number:
        id_number = errors.run(_validated, validators.validate_id_number, id_number, "id_number") or id_number
    if party_type == PartyType.ENTERPRISE:
        if not enterprise_name:
            errors.add("enterprise_name", "请填写企业名称")
        _limit(errors, "enterprise_name", enterprise_name, 150, "企业名称")
        if not credit_code:
            errors.add("credit_code", "请填写统一社会信用代码")
        else:
            credit_code = errors.run(_validated, validators.validate_credit_code, credit_code, "credit_code") \
                or credit_code
    errors.raise_if_any()
    return {"party_type": party_type, "name": name, "mobile": mobile, "id_number": id_number,
            "enterprise_name": enterprise_name, "credit_code": credit_code, "email": email}


def _validated(fn, value: str, field: str) -> str:
    try:
        result = fn(value)
    except ValidationError as exc:
        raise Invalid("；".join(exc.messages), field=field) from exc
    return result if isinstance(result, str) else value


# --- events and news ------------------------------------------------------------------------

def _actor_user(actor: Principal | None):
    return getattr(actor, "user", None) if actor else None


def _event(appeal: Appeal, kind: str, actor: Principal | None, *, text: str = "", department=None,
           data: dict | None = None, at=None) -> AppealEvent:
    event = AppealEvent(
        appeal=appeal, kind=kind, actor=_actor_user(actor), actor_label=actor_name(actor)[:150],
        department=department, text=text, data=data or {}, at=at or timezone.now(),
    )
    event.save()
    if appeal.work_order_no:
        # The 12345 platform hears every step of its work orders, in order, exactly once.
        enqueue(
            channel=HOTLINE_CHANNEL,
            recipient="12345",
            payload={
                "work_order_no": appeal.work_order_no, "number": appeal.number, "event": kind,
                "status": appeal.status, "status_label": str(Status(appeal.status).label),
                "text": text if kind in (AppealEvent.Kind.REPLIED, AppealEvent.Kind.CLOSED) else "",
                "at": event.at.isoformat(),
            },
            dedupe_key=f"appeal-event:{event.pk}",
            ordering_key=f"12345:{appeal.work_order_no}",
        )
    return event


def _audit(actor, action, appeal: Appeal, changes: dict) -> None:
    audit(actor=actor, action=action, target=appeal, area_code=appeal.area.code, changes=changes)


def _lock(appeal: Appeal) -> Appeal:
    # Two clerks pressing "reply" at once must not both pass the transition check.
    return Appeal.objects.select_for_update().select_related("area").get(pk=appeal.pk)


def _transition(appeal: Appeal, target: str) -> str:
    before = appeal.status
    workflow.check(before, target)
    appeal.status = target
    return before


def _require_handler(actor: Principal, appeal: Appeal) -> None:
    """The owner handles; a manager in scope may act in their place. Called on the locked row."""
    require(actor, Cap.APPEAL_HANDLE, appeal.area)
    user = _actor_user(actor)
    if appeal.owner_id and user is not None and user.pk == appeal.owner_id:
        return
    if actor.can(Cap.APPEAL_MANAGE, appeal.area):
        return
    raise Forbidden("只有专人负责人或诉求管理人员可以办理此诉求")


# --- registration ---------------------------------------------------------------------------

def appeal_register(
    *,
    actor: Principal | None,
    kind: str,
    channel: str,
    area,
    title: str,
    content: str,
    party_type: str = PartyType.PERSON,
    name: str = "",
    mobile: str = "",
    id_number: str = "",
    email: str = "",
    enterprise_name: str = "",
    credit_code: str = "",
    site=None,
    item=None,
    department=None,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    category_code: str = "",
    message_id: str | None = None,
    is_public: bool = False,
    attachments: Sequence = (),
    received_by: str = "",
) -> Appeal:
    """Register an appeal from any channel. A staff member who registers it is its first receiver
    (首接负责) and its owner until it is assigned; a citizen's own submission has no receiver yet."""
    if channel not in Channel.values:
        raise Invalid("诉求渠道无效", field="channel")
    if actor is not None and not actor.is_anonymous and channel not in (Channel.OPEN311,):
        require(actor, Cap.APPEAL_HANDLE, area)
    title, content, address, party, files = appeal_fields_check(
        kind=kind, area=area, title=title, content=content, address=address, site=site, party_type=party_type,
        name=name, mobile=mobile, id_number=id_number, email=email, enterprise_name=enterprise_name,
        credit_code=credit_code, attachments=attachments)

    now = timezone.now()
    calc = DeadlineCalculator()
    contact_due, due = calc.due(kind, timezone.localdate(now))
    user = _actor_user(actor)
    topic = topics.classify(title, content)  # read before the write transaction (SQLite writer lock)
    with transaction.atomic():
        appeal = Appeal(
            number=_unique_number(timezone.localdate(now)), kind=kind, channel=channel, area=area, site=site,
            item=item, department=department, title=title, content=content, address=address,
            lat=lat, lng=lng, category_code=category_code, message_id=message_id or None,
            # A report (举报) is never public: it may name the reporter's neighbour or employer.
            is_public=is_public and kind != AppealKind.REPORT,
            first_receiver=user, first_receiver_label=(received_by or (actor.name if actor and not actor.is_anonymous else ""))[:150],
            owner=user, status=Status.REGISTERED, registered_at=now, contact_due=contact_due, due_date=due,
            due_in_unconfirmed_year=calc.unconfirmed(timezone.localdate(now), due),
            topic_id=topic.class_id, topic_by=TopicBy.RULE if topic.class_id else "", **party,
        )
        if user is not None:
            # The receiver is the owner from the first minute (首接负责): nobody can say "not mine".
            appeal.status = Status.ASSIGNED
        appeal.full_clean()
        appeal.save()
        for f in files:
            Attachment.objects.create(appeal=appeal, file=ContentFile(f.data, name=f.name), name=f.name,
                                      content_type=f.content_type, size=len(f.data))
        _event(appeal, AppealEvent.Kind.REGISTERED, actor,
               text=f"经{Channel(channel).label}登记", data={"channel": channel})
        if user is not None:
            _event(appeal, AppealEvent.Kind.ASSIGNED, actor, text=f"首接负责：{user}", data={"owner": user.pk})
        _audit(actor, AuditEntry.Action.CREATE, appeal, {"kind": kind, "channel": channel, "number": appeal.number})
        # An appeal now has a deadline: make sure tomorrow's deadline sweep is on the queue.
        from .tasks import ensure_daily_check

        transaction.on_commit(ensure_daily_check)
    return appeal


def appeal_fields_check(*, kind: str, area, title: str, content: str, address: str = "", site=None,
                        party_type: str = PartyType.PERSON, name: str = "", mobile: str = "", id_number: str = "",
                        email: str = "", enterprise_name: str = "", credit_code: str = "",
                        attachments: Sequence = ()) -> tuple[str, str, str, dict, list]:
    """What ``appeal_register`` checks of the fields, writing nothing: every field is checked
    before anything is refused, so a form shows all its mistakes at once (one Invalid with
    ``errors``). Returns (title, content, address, party fields, checked files), cleaned."""
    errors = FieldErrors()
    if kind not in AppealKind.values:
        errors.add("kind", "请选择诉求类型")
    title, content, address = (title or "").strip(), (content or "").strip(), (address or "").strip()
    if not title:
        errors.add("title", "请填写诉求标题")
    _limit(errors, "title", title, TITLE_LIMIT, "标题")
    if not content:
        errors.add("content", "请填写诉求内容")
    _limit(errors, "content", content, CONTENT_LIMIT, "诉求内容")
    _limit(errors, "address", address, 200, "地址")
    if site is not None and area is not None and not site.area.path.startswith(area.path) \
            and not area.path.startswith(site.area.path):
        errors.add("site", "服务场所不属于所选区划")
    party = errors.run(clean_party, kind=kind, party_type=party_type, name=name, mobile=mobile, id_number=id_number,
                       enterprise_name=enterprise_name, credit_code=credit_code, email=email)
    # The platform's one upload policy: the type by content (a client's declared type was
    # trusted here), the size, a clean name; every file before anything is written.
    files = errors.run(check_files, attachments, field="attachments", label="附件")
    errors.raise_if_any()
    return title, content, address, party, files


# --- content classification ---------------------------------------------------------------

def appeal_topic_set(*, actor: Principal, appeal: Appeal, code: str, note: str = "") -> Appeal:
    """更正分类: staff put the appeal in the level-2 class it belongs to when the rules got it wrong.
    The class is then kept: a 12345 order sent again is not reclassified."""
    code = (code or "").strip()
    with transaction.atomic():
        appeal = _lock(appeal)
        require(actor, Cap.APPEAL_HANDLE, appeal.area)
        topic = TopicClass.objects.filter(code=code, active=True, parent__isnull=False).first()
        if topic is None:
            raise Invalid("请选择诉求分类（二级分类）", field="code")
        before = appeal.topic.code if appeal.topic_id else ""
        if topic.pk == appeal.topic_id and appeal.topic_by == TopicBy.STAFF:
            return appeal
        appeal.topic, appeal.topic_by = topic, TopicBy.STAFF
        appeal.save(update_fields=["topic", "topic_by", "updated_at"])
        _event(appeal, AppealEvent.Kind.TOPIC, actor, text=f"诉求分类更正为“{topic.name}”" + (f"。{note.strip()}" if note.strip() else ""),
               data={"from": before, "to": topic.code})
        _audit(actor, AuditEntry.Action.UPDATE, appeal, {"topic": [before, topic.code]})
    return appeal


def topics_load(*, actor: Principal | None, rows: list[dict]) -> dict[str, int]:
    """A city's classification (rows of topics.read_topic_rows): classes are matched by code, so
    appeals keep their class; a level-2 row names an existing level-1 code. Classes the file no
    longer lists are left as they are (appeals point at them)."""
    codes = {r["code"] for r in rows}
    for n, r in enumerate(rows, start=1):
        if not r["code"].isdigit() or not r["name"]:
            raise Invalid(f"第{n}行：分类代码应为数字、名称不能为空", field="file")
        if r["parent"] and r["parent"] not in codes and not TopicClass.objects.filter(code=r["parent"]).exists():
            raise Invalid(f"第{n}行：上级分类“{r['parent']}”不存在", field="file")
    created = updated = 0
    with transaction.atomic():
        by_code = {}
        for r in sorted(rows, key=lambda r: (bool(r["parent"]), r["code"])):
            parent = by_code.get(r["parent"]) or (TopicClass.objects.get(code=r["parent"]) if r["parent"] else None)
            obj, made = TopicClass.objects.update_or_create(
                code=r["code"], defaults={"name": r["name"][:50], "parent": parent, "keywords": r["keywords"],
                                          "active": True})
            by_code[r["code"]] = obj
            created, updated = created + made, updated + (not made)
        audit(actor=actor, action=AuditEntry.Action.IMPORT, target_type="appeals.topicclass", target_id="",
              area_code="", changes={"created": created, "updated": updated})
    return {"created": created, "updated": updated}


# --- workflow -------------------------------------------------------------------------------

def appeal_assign(*, actor: Principal, appeal: Appeal, owner, department=None,
                  co_departments: Iterable = (), note: str = "") -> Appeal:
    """Name one owner (专人负责) and optionally co-handling departments. The first receiver or a
    manager may assign; the owner must be able to handle the appeal (APPEAL_HANDLE over its area).
    Checked on the locked row, not the caller's copy: a transfer or another assignment may have
    changed it meanwhile."""
    co_departments = list(co_departments)
    with transaction.atomic():
        appeal = _lock(appeal)
        require(actor, Cap.APPEAL_HANDLE, appeal.area)
        user = _actor_user(actor)
        is_first_receiver = user is not None and appeal.first_receiver_id == user.pk
        if not (is_first_receiver or actor.can(Cap.APPEAL_MANAGE, appeal.area)):
            raise Forbidden("只有首接人或诉求管理人员可以分派")
        if owner is None:
            raise Invalid("请选择负责人", field="owner")
        if not workflow.may_own(owner, appeal.area):
            raise Invalid(f"{owner}不能负责此诉求：负责人须为有权办理{appeal.area.name}诉求的在岗工作人员", field="owner")
        if appeal.status == Status.REGISTERED:
            _transition(appeal, Status.ASSIGNED)
        elif not appeal.is_open:
            raise Conflict(f"诉求已{appeal.get_status_display()}，不能再分派", field="status")
        before = appeal.owner_id
        appeal.owner = owner
        if department is not None:
            appeal.department = department
        appeal.full_clean()
        appeal.save()
        for dep in co_departments:
            CoHandling.objects.get_or_create(appeal=appeal, department=dep)
        names = "、".join(d.name for d in co_departments)
        _event(appeal, AppealEvent.Kind.ASSIGNED, actor,
               text=f"专人负责：{owner}" + (f"；协办部门：{names}" if names else "") + (f"。{note}" if note else ""),
               data={"owner": owner.pk, "co_departments": [d.pk for d in co_departments]})
        _audit(actor, AuditEntry.Action.TRANSITION, appeal, {"owner": [before, owner.pk]})
    return appeal


def appeal_log_contact(*, actor: Principal, appeal: Appeal, text: str) -> Appeal:
    """事前电话沟通: the owner calls the appellant before handling; the call is logged."""
    with transaction.atomic():
        appeal = _lock(appeal)
        _require_handler(actor, appeal)
        text = (text or "").strip()
        if not text:
            raise Invalid("请填写沟通情况", field="text")
        before = _transition(appeal, Status.CONTACTED)
        appeal.contacted_at = timezone.now()
        appeal.save()
        _event(appeal, AppealEvent.Kind.CONTACTED, actor, text=text)
        _audit(actor, AuditEntry.Action.TRANSITION, appeal, {"status": [before, appeal.status]})
    return appeal


def appeal_add_note(*, actor: Principal, appeal: Appeal, text: str, department=None) -> Appeal:
    """A coordination note (事中部门协调), per department when one is named. The first note
    starts the handling; an enterprise appeal must have had its call first."""
    with transaction.atomic():
        appeal = _lock(appeal)
        _require_handler(actor, appeal)
        text = (text or "").strip()
        if not text:
            raise Invalid("请填写协调内容", field="text")
        if not appeal.is_open:
            raise Conflict(f"诉求已{appeal.get_status_display()}，不能再添加协调记录", field="status")
        before = appeal.status
        if appeal.status in (Status.ASSIGNED, Status.REOPENED, Status.CONTACTED):
            if appeal.requires_pre_contact and appeal.contacted_at is None:
                raise Conflict("企业诉求须先进行事前电话沟通", field="status", code="pre_contact_required")
            _transition(appeal, Status.IN_PROGRESS)
            appeal.save()
        elif appeal.status == Status.REGISTERED:
            raise Conflict("诉求尚未分派负责人", field="status")
        kind = AppealEvent.Kind.COORDINATION if department is not None else AppealEvent.Kind.NOTE
        _event(appeal, kind, actor, text=text, department=department)
        _audit(actor, AuditEntry.Action.UPDATE, appeal,
               {"note": text[:200], "department": department.pk if department else None, "status": [before, appeal.status]})
    return appeal


def appeal_reply(*, actor: Principal, appeal: Appeal, reply: str) -> Appeal:
    """答复: the answer to the appellant, on time or not (against the due date)."""
    with transaction.atomic():
        appeal = _lock(appeal)
        _require_handler(actor, appeal)
        reply = (reply or "").strip()
        if not reply:
            raise Invalid("请填写答复内容", field="reply")
        if appeal.requires_pre_contact and appeal.contacted_at is None:
            raise Conflict("企业诉求须先进行事前电话沟通", field="status", code="pre_contact_required")
        before = _transition(appeal, Status.REPLIED)
        now = timezone.now()
        appeal.reply = reply
        appeal.replied_at = now
        appeal.replied_on_time = timezone.localdate(now) <= appeal.due_date
        appeal.save()
        _event(appeal, AppealEvent.Kind.REPLIED, actor, text=reply)
        _audit(actor, AuditEntry.Action.TRANSITION, appeal, {"status": [before, appeal.status]})
        if appeal.mobile:
            enqueue(channel="sms", recipient=appeal.mobile,
                    payload={"template": "appeal_replied", "number": appeal.number},
                    dedupe_key=f"appeal-replied-sms:{appeal.pk}:{appeal.reopen_count}")
    return appeal


def appeal_follow_up(*, actor: Principal, appeal: Appeal, satisfaction: str, resolved: bool, text: str = "") -> Appeal:
    """回访: the appellant's satisfaction. 不满意 reopens the appeal with a new deadline."""
    with transaction.atomic():
        appeal = _lock(appeal)
        require(actor, Cap.APPEAL_HANDLE, appeal.area)
        if satisfaction not in Satisfaction.values:
            raise Invalid("满意度取值无效", field="satisfaction")
        if appeal.status != Status.REPLIED:
            raise Conflict("只有已答复的诉求可以回访", field="status", code="invalid_transition")
        if appeal.party_type == PartyType.ANONYMOUS:
            raise Conflict("匿名诉求无法回访", field="status")
        now = timezone.now()
        appeal.followed_up_at = now
        appeal.satisfaction = satisfaction
        appeal.resolved = bool(resolved)
        before = appeal.status
        _transition(appeal, Status.FOLLOWED_UP)
        appeal.save()
        _event(appeal, AppealEvent.Kind.FOLLOWED_UP, actor,
               text=f"{Satisfaction(satisfaction).label}；{'已解决' if resolved else '未解决'}" + (f"。{text}" if text else ""),
               data={"satisfaction": satisfaction, "resolved": bool(resolved)})
        if satisfaction == Satisfaction.UNSATISFIED:
            _reopen(appeal, actor, now)
        _audit(actor, AuditEntry.Action.TRANSITION, appeal,
               {"status": [before, appeal.status], "satisfaction": satisfaction, "resolved": bool(resolved)})
        area_code = appeal.area.code
        transaction.on_commit(lambda: signals.appeal_satisfaction_recorded.send(
            sender=Appeal, appeal_id=appeal.pk, satisfaction=satisfaction, area_code=area_code))
    return appeal


def _reopen(appeal: Appeal, actor, now) -> None:
    calc = DeadlineCalculator()
    _transition(appeal, Status.REOPENED)
    appeal.reopen_count += 1
    appeal.contact_due, appeal.due_date = calc.due(appeal.kind, timezone.localdate(now))
    appeal.due_in_unconfirmed_year = calc.unconfirmed(timezone.localdate(now), appeal.due_date)
    appeal.replied_on_time = None
    appeal.escalated_to = None
    appeal.escalated_for = None
    appeal.save()
    _event(appeal, AppealEvent.Kind.REOPENED, actor, text=f"群众不满意，重新办理，答复期限 {appeal.due_date:%Y-%m-%d}",
           data={"due_date": appeal.due_date.isoformat()})


def appeal_close(*, actor: Principal, appeal: Appeal, text: str = "") -> Appeal:
    with transaction.atomic():
        appeal = _lock(appeal)
        _require_handler(actor, appeal)
        if appeal.status == Status.REPLIED and appeal.party_type != PartyType.ANONYMOUS:
            raise Conflict("请先回访诉求人并记录满意度", field="status", code="followup_required")
        before = _transition(appeal, Status.CLOSED)
        appeal.closed_at = timezone.now()
        appeal.save()
        _event(appeal, AppealEvent.Kind.CLOSED, actor, text=text or "办结")
        _audit(actor, AuditEntry.Action.TRANSITION, appeal, {"status": [before, appeal.status]})
    return appeal


def appeal_unmask(*, actor: Principal, appeal: Appeal, reason: str = "") -> dict:
    """The full personal data of an appellant for someone holding Cap.UNMASK at its area; each
    field is revealed through the accounts' audited ``unmask`` service."""
    from bianmin.accounts.services import unmask

    return {field: unmask(actor=actor, record=appeal, field=field, reason=reason)
            for field in ("name", "mobile", "id_number", "credit_code") if getattr(appeal, field)}


# --- deadlines ------------------------------------------------------------------------------

def appeals_check_deadlines(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily sweep: warn owners of deadlines coming within the rule's warning days; escalate
    overdue appeals to the area above. Idempotent: each due date is warned and escalated once."""
    from bianmin.core import calendar

    today = today or timezone.localdate()
    calc = DeadlineCalculator()
    warned = escalated = 0
    candidates = Appeal.objects.filter(status__in=OPEN_STATUSES).select_related("area__parent", "owner")
    for appeal in candidates.iterator(chunk_size=500):
        if appeal.due_date < today:
            if appeal.escalated_for == appeal.due_date:
                continue
            with transaction.atomic():
                locked = _lock(appeal)
                if locked.escalated_for == locked.due_date or not locked.is_open:
                    continue
                target = appeal.area.parent or appeal.area
                locked.escalated_to = target
                locked.escalated_at = timezone.now()
                locked.escalated_for = locked.due_date
                locked.save()
                _event(locked, AppealEvent.Kind.ESCALATED, None,
                       text=f"超过答复期限 {locked.due_date:%Y-%m-%d}，升级至{target.name}督办",
                       data={"escalated_to": target.code, "due_date": locked.due_date.isoformat()})
                enqueue(channel=NOTIFY_CHANNEL, recipient=f"area:{target.code}",
                        payload={"template": "appeal_escalated", "number": locked.number, "title": locked.title,
                                 "due_date": locked.due_date.isoformat()},
                        dedupe_key=f"appeal-escalated:{locked.pk}:{locked.due_date.isoformat()}")
                audit(actor=None, action=AuditEntry.Action.TRANSITION, target=locked, area_code=locked.area.code,
                      changes={"escalated_to": target.code})
            escalated += 1
        else:
            remaining = calendar.working_days_between(today, appeal.due_date)
            if remaining <= calc.warn_days(appeal.kind) and appeal.due_soon_notified_for != appeal.due_date:
                with transaction.atomic():
                    locked = _lock(appeal)
                    if locked.due_soon_notified_for == locked.due_date:
                        continue
                    locked.due_soon_notified_for = locked.due_date
                    locked.save()
                    _event(locked, AppealEvent.Kind.DUE_SOON, None,
                           text=f"距答复期限 {locked.due_date:%Y-%m-%d} 还有 {remaining} 个工作日")
                    enqueue(channel=NOTIFY_CHANNEL,
                            recipient=f"user:{appeal.owner.username}" if appeal.owner else f"area:{appeal.area.code}",
                            payload={"template": "appeal_due_soon", "number": locked.number,
                                     "due_date": locked.due_date.isoformat()},
                            dedupe_key=f"appeal-due-soon:{locked.pk}:{locked.due_date.isoformat()}")
                warned += 1
    return {"warned": warned, "escalated": escalated}


# --- rectification (the shared ledger lives in followups) -----------------------------------

def rectification_request_create(*, actor: Principal, area, group_by: str, group_key: str, group_label: str,
                                  period_start: dt.date, period_end: dt.date, appeal_ids: list[int],
                                  note: str = "") -> RectificationRequest:
    require(actor, Cap.APPEAL_MANAGE, area)
    if group_by not in RectificationRequest.GroupBy.values:
        raise Invalid("分组方式无效", field="group_by")
    if not appeal_ids:
        raise Invalid("该分组没有诉求，无需整改", field="group_key")
    with transaction.atomic():
        existing = RectificationRequest.objects.filter(
            group_by=group_by, group_key=group_key, area=area, period_start=period_start, period_end=period_end,
        ).first()
        if existing is not None:
            raise Conflict("该分组在本统计期已发起整改", field="group_key", extra={"request_id": existing.pk})
        req = RectificationRequest(
            group_by=group_by, group_key=str(group_key)[:100], group_label=group_label[:200], period_start=period_start,
            period_end=period_end, appeal_count=len(appeal_ids), appeal_ids=list(appeal_ids)[:1000], area=area,
            note=note, requested_by=_actor_user(actor),
        )
        req.full_clean()
        req.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=req, area_code=area.code,
              changes={"group_by": group_by, "group_key": group_key, "appeal_count": len(appeal_ids)})
        payload = dict(source=req.source, request_id=req.pk, group_by=group_by, group_key=req.group_key,
                       group_label=req.group_label, area_code=area.code, period_start=period_start,
                       period_end=period_end, appeal_count=req.appeal_count, appeal_ids=req.appeal_ids)
        transaction.on_commit(lambda: signals.rectification_requested.send(sender=RectificationRequest, **payload))
    return req


def rectification_request_mark(*, request_id: int, accepted: bool, ledger_ref: str = "") -> RectificationRequest:
    """Called by the ledger's owner (followups) once it has opened (or declined) the entry."""
    with transaction.atomic():
        req = RectificationRequest.objects.select_for_update().filter(pk=request_id).first()
        if req is None:
            raise NotFound("未找到该整改请求")
        req.status = RectificationRequest.Status.ACCEPTED if accepted else RectificationRequest.Status.REJECTED
        req.ledger_ref = ledger_ref[:64]
        req.handled_at = timezone.now()
        req.save()
        audit(actor=None, action=AuditEntry.Action.TRANSITION, target=req, area_code=req.area.code,
              changes={"status": req.status, "ledger_ref": ledger_ref})
    return req
