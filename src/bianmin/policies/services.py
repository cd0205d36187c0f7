"""Every write to the policy library: one function per use case, one transaction, validation,
an audit row, news on commit.

Who may write: policy.edit at the policy's area (the lead department's area). `actor=None` is the
system itself (demo loader, daily job). The workflow (`TRANSITIONS` below) has a review step, and
the reviewer who publishes must not be the editor who submitted (四眼原则): a policy tells
enterprises what money they can claim, and one person alone should not put that in public.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bianmin.catalog.models import Department, StandardItem
from bianmin.core import search
from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.outbox import enqueue
from bianmin.core.pagecache import POLICIES, bump
from bianmin.core.principal import Principal, actor_name
from bianmin.core.public_url import public_url
from bianmin.core.scoping import require
from bianmin.regions.models import Area

from . import indexing, industries, matching
from .models import (
    OPEN_STATES,
    PUBLIC_STATES,
    Category,
    EnterpriseProfile,
    FeedCounter,
    Policy,
    PolicyAttachment,
    PolicyChange,
    PolicyFacet,
    Size,
    State,
    Subscription,
    SubscriptionNotice,
)

# The allowed changes of a version's state, and why each exists.
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.DRAFT, State.REVIEW): "the editor submits a complete draft for review",
    (State.REVIEW, State.DRAFT): "the reviewer sends it back with a note (or the editor takes it back)",
    (State.REVIEW, State.PUBLISHED): "a reviewer other than the submitter approves: it is public from now on",
    (State.PUBLISHED, State.SUPERSEDED): "a revision of the same code was published in its place",
    (State.EXPIRED, State.SUPERSEDED): "a revision (e.g. a prolonged term) was published in its place",
    (State.PUBLISHED, State.EXPIRED): "its term has ended (the daily job); it stays readable, marked expired",
    (State.PUBLISHED, State.WITHDRAWN): "the department withdraws it (repealed, published by mistake)",
    (State.EXPIRED, State.WITHDRAWN): "an expired policy is taken out of public view as well",
}

EXPIRY_WARNING_DAYS = 30
NOTIFY_CHANNEL = "notify"


def _check_transition(policy: Policy, to: str) -> None:
    if (policy.state, to) not in TRANSITIONS:
        raise Conflict(f"当前状态为“{policy.get_state_display()}”，不能{_VERB.get(to, '变更')}", field="state")


_VERB = {State.REVIEW: "提交审核", State.DRAFT: "退回修改", State.PUBLISHED: "审核发布", State.EXPIRED: "置为过期",
         State.WITHDRAWN: "撤回", State.SUPERSEDED: "替代"}


def _check(actor: Principal | None, area: Area) -> None:
    if actor is not None:
        require(actor, Cap.POLICY_EDIT, area)


def _label(actor: Principal | None) -> str:
    return actor_name(actor)


def _invalid(exc: ValidationError, model=Policy) -> Invalid:
    """A model's ValidationError as one Chinese 422 naming the field."""
    if not hasattr(exc, "error_dict"):
        return Invalid("；".join(exc.messages))
    name, errors = next(iter(exc.error_dict.items()))
    text = "；".join(m for e in errors for m in e.messages)
    if name == "__all__":
        return Invalid(text)
    try:
        label = str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - not a model field: the key itself
        label = name
    return Invalid(f"{label}：{text}", field=name)


# ---------------------------------------------------------------------------------------------
# Input


@dataclass
class PolicyData:
    """The editable content of a version (everything but the workflow fields)."""

    title: str
    category: str
    lead_department: Department
    handling_office: str
    handling_phone: str
    valid_from: dt.date
    benefits: str
    conditions: str
    materials: str
    procedure: str
    valid_until: dt.date | None = None
    aliases: str = ""
    co_departments: Sequence[Department] = ()
    document_number: str = ""
    issuing_body: str = ""
    source_url: str = ""
    industries: Sequence[str] = ()
    sizes: Sequence[str] = ()
    areas: Sequence[Area] = ()
    tags: Sequence[str] = ()
    required_tags: Sequence[str] = ()
    min_age_years: int | None = None
    max_age_years: int | None = None
    no_application: bool = False
    items: Sequence[StandardItem] = ()


SCALAR_FIELDS = ("title", "aliases", "category", "handling_office", "handling_phone", "valid_from", "valid_until",
                 "benefits", "conditions", "materials", "procedure", "document_number", "issuing_body", "source_url",
                 "industries", "sizes", "tags", "required_tags", "min_age_years", "max_age_years", "no_application")
RELATION_FIELDS = ("co_departments", "areas", "items")


def _clean_list(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _normalised(data: PolicyData) -> PolicyData:
    data.title = (data.title or "").strip()
    data.industries = _clean_list(industries.normalize(c) for c in data.industries)
    data.sizes = [s for s in Size.values if s in set(data.sizes)] + [s for s in data.sizes if s not in Size.values]
    data.tags = _clean_list(data.tags)
    data.required_tags = _clean_list(data.required_tags)
    for name in ("handling_office", "handling_phone", "document_number", "issuing_body", "source_url"):
        setattr(data, name, (getattr(data, name) or "").strip())
    return data


def _check_data(data: PolicyData) -> None:
    """Rules across fields that the model cannot see (relations)."""
    if data.category not in Category.values:
        raise Invalid("政策类别无效", field="category")
    if not data.lead_department.active:
        raise Invalid(f"牵头部门“{data.lead_department.name}”已停用", field="lead_department")
    area = data.lead_department.area
    outside = [a.name for a in data.areas if not a.path.startswith(area.path)]
    if outside:
        raise Invalid(f"适用区域须在牵头部门所在的{area.name}范围内：{'、'.join(outside)}", field="areas")
    if any(d.pk == data.lead_department.pk for d in data.co_departments):
        raise Invalid("协办部门不能与牵头部门相同", field="co_departments")


def _apply(policy: Policy, data: PolicyData) -> dict[str, list]:
    """Copy the content onto the row; {field: [old, new]} of the scalar fields that changed."""
    diff: dict[str, list] = {}
    for name in SCALAR_FIELDS:
        new = getattr(data, name)
        if isinstance(new, tuple):
            new = list(new)
        old = getattr(policy, name)
        if old != new:
            diff[name] = [_plain(old), _plain(new)]
            setattr(policy, name, new)
    if policy.lead_department_id != data.lead_department.pk:
        diff["lead_department"] = [policy.lead_department_id, data.lead_department.pk]
    policy.lead_department = data.lead_department
    policy.area = data.lead_department.area
    return diff


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _set_relations(policy: Policy, data: PolicyData) -> dict[str, list]:
    diff: dict[str, list] = {}
    for name in RELATION_FIELDS:
        wanted = {o.pk for o in getattr(data, name)}
        manager = getattr(policy, name)
        current = set(manager.values_list("pk", flat=True)) if policy.pk else set()
        if wanted != current:
            manager.set(list(wanted))
            diff[name] = [sorted(current), sorted(wanted)]
    return diff


def _validated(policy: Policy, *, loaded_relations: bool = False) -> None:
    """full_clean() as one Chinese 422. `loaded_relations`: the department and area were just read
    from the database (a bulk load), so their existence is not checked again row by row."""
    exclude = ["code", "version", "state", "previous"]
    if loaded_relations:
        exclude += ["lead_department", "area"]
    try:
        policy.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        raise _invalid(exc) from None


def check_policy_data(*, actor: Principal | None, data: PolicyData) -> None:
    """Every check a draft's content must pass, without writing (an import checks all its rows
    before it writes any)."""
    data = _normalised(data)
    _check(actor, data.lead_department.area)
    _check_data(data)
    probe = Policy(code="-", version=1)
    _apply(probe, data)
    _validated(probe)


# ---------------------------------------------------------------------------------------------
# Drafts


def _new_code(area: Area, year: int) -> str:
    prefix = f"{area.code[:6]}-{year}-"
    last = (Policy.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first())
    n = int(last.rsplit("-", 1)[1]) + 1 if last and last.rsplit("-", 1)[1].isdigit() else 1
    return f"{prefix}{n:04d}"


def policy_create(*, actor: Principal | None, data: PolicyData, code: str = "") -> Policy:
    """A new policy, as the draft of its first version. The code is given (an import keeps the
    department's own numbering) or made from the area and the year (350100-2026-0001)."""
    data = _normalised(data)
    _check(actor, data.lead_department.area)
    _check_data(data)
    code = (code or "").strip()
    if code and (len(code) > 40 or not all(ch.isalnum() or ch in "-_" for ch in code)):
        raise Invalid("政策编号只能包含字母、数字、“-”和“_”，不超过40个字符", field="code")
    for attempt in range(3):
        try:
            with transaction.atomic():
                if code and Policy.objects.filter(code=code).exists():
                    raise Conflict(f"政策编号“{code}”已存在", field="code")
                policy = Policy(code=code or _new_code(data.lead_department.area, timezone.localdate().year),
                                version=1, state=State.DRAFT, created_by=_label(actor))
                _apply(policy, data)
                _validated(policy)
                policy.save()
                _set_relations(policy, data)
                audit(actor=actor, action=AuditEntry.Action.CREATE, target=policy, area_code=policy.area.code,
                      changes={"op": "create", "code": policy.code, "title": policy.title})
                return policy
        except IntegrityError:
            if code or attempt == 2:  # a given code was taken meanwhile; or we keep losing the race
                raise Conflict("政策编号冲突，请重试", field="code") from None
    raise AssertionError("unreachable")


def _locked(actor: Principal | None, policy_id: int) -> Policy:
    policy = (Policy.objects.select_for_update().select_related("area", "lead_department__area")
              .filter(pk=policy_id).first())
    if policy is None:
        raise NotFound("未找到该政策")
    _check(actor, policy.area)
    return policy


def policy_update(*, actor: Principal | None, policy_id: int, data: PolicyData) -> Policy:
    """Change a draft. A version under review is sent back first; a public one is revised."""
    data = _normalised(data)
    _check_data(data)
    with transaction.atomic():
        policy = _locked(actor, policy_id)
        if policy.state != State.DRAFT:
            raise Conflict("只有草稿可以修改：已发布的政策请先“修订”，待审核的请先退回", field="state")
        # Moving a draft to another department's area needs the right there too.
        _check(actor, data.lead_department.area)
        diff = _apply(policy, data)
        _validated(policy)
        policy.save()
        diff.update(_set_relations(policy, data))
        if diff:
            audit(actor=actor, action=AuditEntry.Action.UPDATE, target=policy, area_code=policy.area.code,
                  changes={"op": "update", **diff})
    return policy


def policy_revise(*, actor: Principal | None, policy_id: int) -> Policy:
    """Open the next version of a public policy as a draft, a copy of the public one. The public
    version stays as it is until the revision is published."""
    with transaction.atomic():
        live = _locked(actor, policy_id)
        if live.state not in PUBLIC_STATES:
            raise Conflict("只有已发布或已过期的政策可以修订", field="state")
        open_one = Policy.objects.filter(code=live.code, state__in=OPEN_STATES).first()
        if open_one is not None:
            raise Conflict(f"该政策已有未发布的修订稿（第{open_one.version}版）", field="state",
                           extra={"policy_id": open_one.pk})
        latest = Policy.objects.filter(code=live.code).order_by("-version").values_list("version", flat=True).first()
        draft = Policy(code=live.code, version=latest + 1, state=State.DRAFT, previous=live, created_by=_label(actor))
        for name in (*SCALAR_FIELDS, "lead_department_id", "area_id"):
            value = getattr(live, name)
            setattr(draft, name, list(value) if isinstance(value, list) else value)
        draft.save()
        for name in RELATION_FIELDS:
            getattr(draft, name).set(list(getattr(live, name).values_list("pk", flat=True)))
        PolicyAttachment.objects.bulk_create([
            PolicyAttachment(policy=draft, file_id=a.file_id, name=a.name, position=a.position)
            for a in live.attachments.all()])
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=draft, area_code=draft.area.code,
              changes={"op": "revise", "from_version": live.version})
    return draft


def policy_discard(*, actor: Principal | None, policy_id: int) -> None:
    """Throw a draft away (a revision nobody wants, a policy started by mistake). The audit row
    keeps what it was."""
    with transaction.atomic():
        policy = _locked(actor, policy_id)
        if policy.state != State.DRAFT:
            raise Conflict("只有草稿可以删除", field="state")
        audit(actor=actor, action=AuditEntry.Action.DELETE, target=policy, area_code=policy.area.code,
              changes={"op": "discard", "code": policy.code, "version": policy.version, "title": policy.title})
        policy.delete()


# ---------------------------------------------------------------------------------------------
# Workflow


def policy_submit(*, actor: Principal | None, policy_id: int) -> Policy:
    with transaction.atomic():
        policy = _locked(actor, policy_id)
        _check_transition(policy, State.REVIEW)
        _validated(policy)
        today = timezone.localdate()
        if policy.valid_until and policy.valid_until < today:
            raise Invalid("执行期限已过，不能提交发布", field="valid_until")
        policy.state = State.REVIEW
        policy.submitted_by = _label(actor)
        policy.submitted_by_user_id = getattr(getattr(actor, "user", None), "pk", None)
        policy.submitted_at = timezone.now()
        policy.review_note = ""
        policy.save()
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=policy, area_code=policy.area.code,
              changes={"op": "submit", "state": [State.DRAFT, State.REVIEW]})
    return policy


def policy_reject(*, actor: Principal | None, policy_id: int, note: str) -> Policy:
    note = (note or "").strip()
    if not note:
        raise Invalid("请填写退回意见", field="note")
    if len(note) > 500:
        raise Invalid("退回意见不能超过500字", field="note")
    with transaction.atomic():
        policy = _locked(actor, policy_id)
        _check_transition(policy, State.DRAFT)
        policy.state = State.DRAFT
        policy.review_note = note
        policy.reviewed_by = _label(actor)
        policy.save()
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=policy, area_code=policy.area.code,
              changes={"op": "reject", "state": [State.REVIEW, State.DRAFT], "note": note})
    return policy


def policy_approve(*, actor: Principal | None, policy_id: int, note: str = "") -> Policy:
    """Publish a version under review. The public version of the same code, if any, is
    superseded in the same transaction; outside systems see one upsert in the changes feed;
    subscribers are told after the commit (a task)."""
    note = (note or "").strip()[:500]
    with transaction.atomic():
        policy = _locked(actor, policy_id)
        _check_transition(policy, State.PUBLISHED)
        user = getattr(actor, "user", None)
        if user is not None and policy.submitted_by_user_id == user.pk:
            raise Forbidden("审核发布须由提交人以外的人员进行（四眼原则）")
        today = timezone.localdate()
        if policy.valid_until and policy.valid_until < today:
            raise Invalid("执行期限已过，不能发布", field="valid_until")
        now = timezone.now()
        previous = Policy.objects.select_for_update().filter(code=policy.code, state__in=PUBLIC_STATES).first()
        if previous is not None:
            previous.state = State.SUPERSEDED
            previous.ended_at = now
            _leave_public(previous)
            previous.save()
        policy.state = State.PUBLISHED
        policy.published_at = now
        policy.reviewed_by = _label(actor)
        policy.review_note = note
        policy.ended_at = None
        policy.save()
        reason = PolicyChange.Reason.REVISED if previous is not None else PolicyChange.Reason.PUBLISHED
        _record_change(policy, PolicyChange.Action.UPSERT, reason)
        _enter_public(policy)
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=policy, area_code=policy.area.code,
              changes={"op": "publish", "state": [State.REVIEW, State.PUBLISHED], "seq": policy.feed_seq,
                       **({"superseded_version": previous.version} if previous else {}), **({"note": note} if note else {})})
        policy_id_, previous_id = policy.pk, previous.pk if previous else None
        transaction.on_commit(lambda: _after_publish(policy_id_, previous_id))
    return policy


def policy_withdraw(*, actor: Principal | None, policy_id: int, reason: str) -> Policy:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写撤回原因", field="reason")
    if len(reason) > 500:
        raise Invalid("撤回原因不能超过500字", field="reason")
    with transaction.atomic():
        policy = _locked(actor, policy_id)
        _check_transition(policy, State.WITHDRAWN)
        before = policy.state
        policy.state = State.WITHDRAWN
        policy.withdraw_reason = reason
        policy.ended_at = timezone.now()
        _leave_public(policy)
        _record_change(policy, PolicyChange.Action.DELETE, PolicyChange.Reason.WITHDRAWN)
        policy.save()
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=policy, area_code=policy.area.code,
              changes={"op": "withdraw", "state": [before, State.WITHDRAWN], "reason": reason, "seq": policy.feed_seq})
    return policy


def _after_publish(policy_id: int, previous_id: int | None) -> None:
    from . import tasks

    tasks.ensure_daily()
    tasks.notify_subscribers.enqueue(policy_id, previous_id)


# ---------------------------------------------------------------------------------------------
# What the public sees: the changes feed, the index, the filter tokens, the served body


def _reserve_seqs(n: int) -> int:
    """Reserve n consecutive feed numbers; returns the first. The counter row is locked until the
    caller's transaction ends, so numbers are given in commit order (see FeedCounter)."""
    counter = FeedCounter.objects.select_for_update().filter(pk=1).first()
    if counter is None:
        try:
            with transaction.atomic():
                FeedCounter.objects.create(pk=1, value=0)
        except IntegrityError:  # created by a concurrent writer
            pass
        counter = FeedCounter.objects.select_for_update().get(pk=1)
    first = counter.value + 1
    counter.value += n
    counter.save(update_fields=["value"])
    bump(POLICIES)  # the guide pages' policy sections (catalog/extensions.py) follow the feed
    return first


def _record_change(policy: Policy, action: str, reason: str) -> PolicyChange:
    seq = _reserve_seqs(1)
    policy.feed_seq = seq
    return PolicyChange.objects.create(seq=seq, code=policy.code, policy=policy, action=action, reason=reason)


def _relations(policy: Policy) -> tuple[list[Area], list[Department]]:
    areas = list(policy.areas.all()) or [policy.area]
    departments = [policy.lead_department, *policy.co_departments.all()]
    return areas, departments


def _enter_public(policy: Policy) -> None:
    """Index the version, store its filter tokens and the JSON the API serves. Called inside the
    publishing (or expiring) transaction, after `_record_change` set its feed number."""
    areas, departments = _relations(policy)
    tokens = indexing.facet_tokens(policy, area_paths=[a.path for a in areas], department_ids=[d.pk for d in departments])
    PolicyFacet.objects.filter(policy=policy).delete()
    PolicyFacet.objects.bulk_create([PolicyFacet(policy=policy, token=t) for t in tokens])
    search.add_words(policy.alias_list)
    policy.search_text = indexing.words_of(policy, department_names=[d.name for d in departments])
    indexing.INDEX.upsert([indexing.index_row(policy, tokens=tokens, words=policy.search_text)])
    policy.public_body = json.dumps(public_payload(policy, areas=areas, departments=departments),
                                    ensure_ascii=False, separators=(",", ":"))
    Policy.objects.filter(pk=policy.pk).update(search_text=policy.search_text, public_body=policy.public_body,
                                               feed_seq=policy.feed_seq)


def _leave_public(policy: Policy) -> None:
    PolicyFacet.objects.filter(policy=policy).delete()
    indexing.INDEX.delete([policy.pk])
    policy.public_body = ""


def policy_url(code: str) -> str:
    return f"/policies/{code}/"


def public_payload(policy: Policy, *, areas: list[Area] | None = None,
                   departments: list[Department] | None = None) -> dict[str, Any]:
    """The public representation, without `in_force` (it depends on the day: the API adds it when
    serving). Stored with the version when it becomes public; documented by api.PolicyOut."""
    if departments is None:
        _, departments = _relations(policy)
    return _payload(policy, listed=list(policy.areas.all()), departments=departments,
                    items=list(policy.items.order_by("code")),
                    attachments=list(policy.attachments.select_related("file")))


def _payload(p: Policy, *, listed: list[Area], departments: list[Department], items: list[StandardItem],
             attachments: list[PolicyAttachment]) -> dict[str, Any]:
    lead, *co = departments
    return {
        "code": p.code, "version": p.version, "state": p.state, "state_label": str(State(p.state).label),
        "seq": p.feed_seq, "title": p.title, "aliases": p.alias_list, "category": p.category,
        "category_label": str(Category(p.category).label), "lead_department": {"code": lead.code, "name": lead.name},
        "co_departments": [{"code": d.code, "name": d.name} for d in co],
        "area": {"code": p.area.code, "name": p.area.name}, "handling_office": p.handling_office,
        "handling_phone": p.handling_phone, "valid_from": p.valid_from.isoformat(),
        "valid_until": p.valid_until.isoformat() if p.valid_until else None, "benefits": p.benefits,
        "conditions": p.conditions, "materials": p.materials, "procedure": p.procedure,
        "document_number": p.document_number, "issuing_body": p.issuing_body, "source_url": p.source_url,
        "industries": [{"code": c, "name": industries.get(c).name if industries.get(c) else c} for c in p.industries],
        "sizes": [{"code": s, "name": str(Size(s).label)} for s in p.sizes],
        "areas": [{"code": a.code, "name": a.name} for a in listed],
        "tags": list(p.tags), "required_tags": list(p.required_tags), "min_age_years": p.min_age_years,
        "max_age_years": p.max_age_years, "no_application": p.no_application,
        "items": [{"code": si.code, "name": si.name, "url": f"/catalog/guide/{si.code}/"}
                  for si in sorted(items, key=lambda s: s.code)],
        "attachments": [{"name": a.name, "size": a.file.size, "content_type": a.file.content_type,
                         "url": f"{policy_url(p.code)}files/{a.pk}/"} for a in attachments],
        "published_at": p.published_at.isoformat() if p.published_at else None,
        "url": policy_url(p.code),
    }


def search_reindex() -> int:
    """Rebuild the index, the filter tokens and the served bodies of every public version (after
    a bulk load, or when the token rules change)."""
    public = list(Policy.objects.filter(state__in=PUBLIC_STATES).select_related("area", "lead_department"))
    with transaction.atomic():
        indexing.INDEX.clear()
        for policy in public:
            _enter_public(policy)
    return len(public)


# ---------------------------------------------------------------------------------------------
# Attachments (申报表格)


def attachment_add(*, actor: Principal | None, policy_id: int, name: str, data: bytes) -> PolicyAttachment:
    """Attach a form to a draft. The file goes through the platform's upload rules (type sniffed
    from its content, size limit, stored once by content)."""
    from bianmin.cases.services import store_file
    from bianmin.cases.uploads import atomic_with_uploads
    from bianmin.core.uploads import clean_file_name

    name = clean_file_name(name, default="")  # the platform's upload policy: no folders, no control characters
    if not name:
        raise Invalid("请填写文件名", field="name")
    with atomic_with_uploads():
        policy = _locked(actor, policy_id)
        if policy.state != State.DRAFT:
            raise Conflict("只有草稿可以修改申报表格", field="state")
        if policy.attachments.count() >= 20:
            raise Invalid("每项政策最多20个附件", field="file")
        stored = store_file(data=data, name=name)
        position = (policy.attachments.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        attachment = PolicyAttachment.objects.create(policy=policy, file=stored, name=name, position=position)
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=policy, area_code=policy.area.code,
              changes={"op": "attach", "name": name, "sha256": stored.sha256})
    return attachment


def attachment_remove(*, actor: Principal | None, policy_id: int, attachment_id: int) -> None:
    with transaction.atomic():
        policy = _locked(actor, policy_id)
        if policy.state != State.DRAFT:
            raise Conflict("只有草稿可以修改申报表格", field="state")
        attachment = policy.attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise NotFound("未找到该附件")
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=policy, area_code=policy.area.code,
              changes={"op": "detach", "name": attachment.name})
        attachment.delete()


# ---------------------------------------------------------------------------------------------
# The daily job: expiry, and warnings to departments


def policies_expire_due(*, today: dt.date | None = None) -> int:
    """Published versions whose term ended before today become expired: still readable, marked
    expired, and an upsert in the changes feed. Idempotent (an expired one is not touched again)."""
    today = today or timezone.localdate()
    ids = list(Policy.objects.filter(state=State.PUBLISHED, valid_until__lt=today).values_list("pk", flat=True))
    done = 0
    for policy_id in ids:
        with transaction.atomic():
            policy = Policy.objects.select_for_update().select_related("area", "lead_department").filter(pk=policy_id).first()
            if policy is None or policy.state != State.PUBLISHED or not policy.valid_until or policy.valid_until >= today:
                continue  # changed meanwhile
            policy.state = State.EXPIRED
            policy.ended_at = timezone.now()
            policy.save()
            _record_change(policy, PolicyChange.Action.UPSERT, PolicyChange.Reason.EXPIRED)
            _enter_public(policy)
            audit(actor=None, action=AuditEntry.Action.TRANSITION, target=policy, area_code=policy.area.code,
                  changes={"op": "expire", "state": [State.PUBLISHED, State.EXPIRED],
                           "valid_until": policy.valid_until.isoformat(), "seq": policy.feed_seq})
        done += 1
    return done


def expiring_soon(*, today: dt.date | None = None, days: int = EXPIRY_WARNING_DAYS):
    today = today or timezone.localdate()
    return (Policy.objects.filter(state=State.PUBLISHED, valid_until__gte=today,
                                  valid_until__lte=today + dt.timedelta(days=days))
            .select_related("lead_department").order_by("lead_department__code", "valid_until", "code"))


def policies_warn_expiring(*, today: dt.date | None = None) -> int:
    """Tell each lead department, through the outbox, of its policies whose term ends within 30
    days: one message per department and day, listing the policies it has not been told of for
    their current end date (a prolonged term that comes round again is told again). Returns the
    number of messages."""
    today = today or timezone.localdate()
    due = [p for p in expiring_soon(today=today) if p.expiry_notice_for != p.valid_until]
    by_department: dict[int, list[Policy]] = defaultdict(list)
    for p in due:
        by_department[p.lead_department_id].append(p)
    sent = 0
    for rows in by_department.values():
        department = rows[0].lead_department
        with transaction.atomic():
            locked = list(Policy.objects.select_for_update().filter(pk__in=[p.pk for p in rows]))
            fresh = [p for p in locked if p.state == State.PUBLISHED and p.expiry_notice_for != p.valid_until]
            if not fresh:
                continue
            enqueue(channel=NOTIFY_CHANNEL, recipient=f"department:{department.code}",
                    payload={"template": "policies_expiring", "department": department.name,
                             "text": f"{department.name}：以下 {len(fresh)} 项惠企政策将在{EXPIRY_WARNING_DAYS}日内到期，"
                                     "如需延续请及时修订发布。",
                             "policies": [{"code": p.code, "title": p.title, "valid_until": p.valid_until.isoformat()}
                                          for p in sorted(fresh, key=lambda p: (p.valid_until, p.code))]},
                    dedupe_key=f"policies-expiring:{department.code}:{today.isoformat()}")
            for p in fresh:
                p.expiry_notice_for = p.valid_until
            Policy.objects.bulk_update(fresh, ["expiry_notice_for"])
            audit(actor=None, action=AuditEntry.Action.UPDATE, target_type="catalog.department",
                  target_id=str(department.pk), label=department.name, area_code=department.area.code if department.area_id else "",
                  changes={"op": "expiry_warning", "policies": [p.code for p in fresh]})
        sent += 1
    return sent


# ---------------------------------------------------------------------------------------------
# Bulk loading (demo data, xlsx import)


def policies_load(*, actor: Principal | None, rows: Sequence[tuple[str, PolicyData]], publish: bool = False,
                  note: str = "", files: Sequence[Sequence[tuple[str, Any]]] | None = None) -> list[Policy]:
    """Create many policies at once, each with the same checks as `policy_create`: drafts (an
    import, reviewed afterwards as usual) or, for the system only, public at once (the demo
    city's library: a policy whose term has already ended is loaded as expired). `files`, for
    the system only, gives each row its attachments as (name, StoredFile). One transaction; one
    audit row per policy; the index is written once."""
    if (publish or files) and actor is not None:
        raise Forbidden("批量直接发布仅限系统载入；导入的政策须经审核后发布")
    prepared = []
    for code, data in rows:
        data = _normalised(data)
        _check(actor, data.lead_department.area)
        _check_data(data)
        prepared.append((code, data))
    codes = [c for c, _ in prepared if c]
    if len(codes) != len(set(codes)):
        raise Invalid("政策编号重复", field="code")
    now = timezone.now()
    created: list[Policy] = []
    with transaction.atomic():
        taken = set(Policy.objects.filter(code__in=codes).values_list("code", flat=True))
        if taken:
            raise Conflict(f"政策编号已存在：{'、'.join(sorted(taken)[:10])}", field="code")
        today = timezone.localdate()
        year = today.year
        counters: dict[str, int] = {}
        for code, data in prepared:
            if not code:
                area = data.lead_department.area
                base = counters.get(area.code) or int(_new_code(area, year).rsplit("-", 1)[1])
                counters[area.code] = base + 1
                code = f"{area.code[:6]}-{year}-{base:04d}"
            state = State.DRAFT
            if publish:
                state = State.EXPIRED if data.valid_until and data.valid_until < today else State.PUBLISHED
            policy = Policy(code=code, version=1, state=state, ended_at=now if state == State.EXPIRED else None,
                            created_by=_label(actor), published_at=now if publish else None,
                            reviewed_by=_label(actor) if publish else "", review_note=note if publish else "")
            _apply(policy, data)
            _validated(policy, loaded_relations=True)
            created.append(policy)
        if publish:
            # Numbers, words and filter tokens before the insert; only the served body (which
            # names the attachments' ids) is written after it.
            first = _reserve_seqs(len(created))
            for i, (p, (_, data)) in enumerate(zip(created, prepared, strict=True)):
                p.feed_seq = first + i
                p.search_text = indexing.words_of(p, department_names=[d.name for d in
                                                                       [data.lead_department, *data.co_departments]])
        Policy.objects.bulk_create(created, batch_size=500)
        by_code = {p.code: p for p in created}
        for name, through_field in (("co_departments", "department_id"), ("areas", "area_id"), ("items", "standarditem_id")):
            through = getattr(Policy, name).through
            links = [through(policy_id=by_code[p.code].pk, **{through_field: o.pk})
                     for p, (_, data) in zip(created, prepared, strict=True) for o in getattr(data, name)]
            through.objects.bulk_create(links, batch_size=1000)
        if files:
            PolicyAttachment.objects.bulk_create([
                PolicyAttachment(policy=p, file=stored, name=name, position=i)
                for p, attached in zip(created, files, strict=True) for i, (name, stored) in enumerate(attached, start=1)])
        if publish:
            PolicyChange.objects.bulk_create([
                PolicyChange(seq=p.feed_seq, code=p.code, policy=p, action=PolicyChange.Action.UPSERT,
                             reason=PolicyChange.Reason.PUBLISHED) for p in created], batch_size=1000)
            _bulk_enter_public(created, words_ready=True)
        AuditEntry.objects.bulk_create([
            AuditEntry(actor=getattr(actor, "user", None), actor_label=(actor.label if actor else "system")[:150],
                       action=AuditEntry.Action.IMPORT, target_type="policies.policy", target_id=str(p.pk),
                       target_label=str(p)[:200], area_code=p.area.code,
                       changes={"op": "load", "state": p.state, **({"note": note} if note else {})},
                       ip=actor.ip if actor else None)
            for p in created], batch_size=1000)
    if publish:
        transaction.on_commit(_after_bulk_publish)
    return created


def _bulk_enter_public(policies: list[Policy], *, words_ready: bool = False) -> None:
    """`_enter_public` for many versions: relations read in a few queries, rows written in bulk.
    `words_ready`: search_text and feed_seq are already stored (policies_load sets them before
    its insert)."""
    ids = [p.pk for p in policies]
    area_links: dict[int, list[Area]] = defaultdict(list)
    for link in Policy.areas.through.objects.filter(policy_id__in=ids).select_related("area"):
        area_links[link.policy_id].append(link.area)
    co_links: dict[int, list[Department]] = defaultdict(list)
    for link in Policy.co_departments.through.objects.filter(policy_id__in=ids).select_related("department"):
        co_links[link.policy_id].append(link.department)
    item_links: dict[int, list[StandardItem]] = defaultdict(list)
    for link in Policy.items.through.objects.filter(policy_id__in=ids).select_related("standarditem"):
        item_links[link.policy_id].append(link.standarditem)
    attached: dict[int, list[PolicyAttachment]] = defaultdict(list)
    for a in PolicyAttachment.objects.filter(policy_id__in=ids).select_related("file").order_by("position", "id"):
        attached[a.policy_id].append(a)
    PolicyFacet.objects.filter(policy_id__in=ids).delete()
    facets, rows = [], []
    search.add_words(w for p in policies for w in p.alias_list)
    for p in policies:
        listed = area_links[p.pk]
        areas = listed or [p.area]
        departments = [p.lead_department, *co_links[p.pk]]
        tokens = indexing.facet_tokens(p, area_paths=[a.path for a in areas], department_ids=[d.pk for d in departments])
        facets += [PolicyFacet(policy_id=p.pk, token=t) for t in tokens]
        if not words_ready:
            p.search_text = indexing.words_of(p, department_names=[d.name for d in departments])
        rows.append(indexing.index_row(p, tokens=tokens, words=p.search_text))
        payload = _payload(p, listed=listed, departments=departments, items=item_links[p.pk],
                           attachments=attached[p.pk])
        p.public_body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    PolicyFacet.objects.bulk_create(facets, batch_size=2000)
    indexing.INDEX.upsert(rows)
    # One plain UPDATE per row (bulk_update's CASE over hundreds of long texts was slower).
    table = connection.ops.quote_name(Policy._meta.db_table)
    with connection.cursor() as cur:
        if words_ready:
            cur.executemany(f"UPDATE {table} SET public_body = %s WHERE id = %s",
                            [(p.public_body, p.pk) for p in policies])
        else:
            cur.executemany(f"UPDATE {table} SET public_body = %s, search_text = %s, feed_seq = %s WHERE id = %s",
                            [(p.public_body, p.search_text, p.feed_seq, p.pk) for p in policies])


def _after_bulk_publish() -> None:
    from . import tasks

    tasks.ensure_daily()


# ---------------------------------------------------------------------------------------------
# Enterprises: profiles and subscriptions


@dataclass
class ProfileData:
    credit_code: str
    name: str
    industry: str = ""
    size: str = ""
    area: Area | None = None
    founded_on: dt.date | None = None
    tags: Sequence[str] = field(default_factory=list)


def check_credit_code(code: str, *, pilot_override: bool) -> tuple[str, bool]:
    """(normalised code, whether it is a pilot code taken on override). A code failing only its
    check character is refused with the pilot warning unless `pilot_override`."""
    from bianmin.core.validators import credit_code_checksum_ok, validate_credit_code

    try:
        code = validate_credit_code(code, allow_pilot_override=pilot_override)
    except ValidationError as exc:
        raise Invalid(exc.messages[0], field="credit_code", code=exc.code or "invalid") from None
    return code, not credit_code_checksum_ok(code)


def _profile_apply(profile: EnterpriseProfile, data: ProfileData, *, pilot_override: bool) -> dict[str, list]:
    code, pilot = check_credit_code(data.credit_code, pilot_override=pilot_override)
    name = (data.name or "").strip()
    if not name:
        raise Invalid("请填写企业名称", field="name")
    if data.size and data.size not in Size.values:
        raise Invalid("企业规模应为 大型、中型、小型、微型 之一", field="size")
    values = {"credit_code": code, "pilot_code": pilot, "name": name[:200], "industry": industries.normalize(data.industry),
              "size": data.size or "", "area": data.area, "founded_on": data.founded_on, "tags": _clean_list(data.tags)}
    if data.founded_on and data.founded_on > timezone.localdate():
        raise Invalid("成立日期不能晚于今天", field="founded_on")
    diff = {}
    for name_, value in values.items():
        old = getattr(profile, name_)
        if _plain(getattr(old, "pk", old)) != _plain(getattr(value, "pk", value)):
            diff[name_] = [_plain(getattr(old, "pk", old)), _plain(getattr(value, "pk", value))]
            setattr(profile, name_, value)
    try:
        profile.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise _invalid(exc, EnterpriseProfile) from None
    return diff


def profile_save(*, actor: Principal, data: ProfileData, profile_id: int | None = None,
                 pilot_override: bool = False) -> EnterpriseProfile:
    """Staff save a profile for an enterprise they serve (企业服务专员). Only staff may confirm an
    early pilot credit code whose check character does not match; the confirmation is audited."""
    area = data.area
    if area is None:
        raise Invalid("请选择企业注册地", field="area")
    require(actor, Cap.POLICY_EDIT, area)
    with transaction.atomic():
        if profile_id is not None:
            profile = EnterpriseProfile.objects.select_for_update().filter(pk=profile_id).first()
            if profile is None or profile.area is None or not actor.can(Cap.POLICY_EDIT, profile.area):
                raise NotFound("未找到该企业画像")
        else:
            profile = EnterpriseProfile(saved_by=actor.label)
        diff = _profile_apply(profile, data, pilot_override=pilot_override)
        profile.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE if profile_id is None else AuditEntry.Action.UPDATE,
              target=profile, area_code=area.code,
              changes={"op": "profile", **{k: v for k, v in diff.items() if k != "credit_code"},
                       **({"pilot_code_confirmed": True} if profile.pilot_code else {})})
    return profile


def _contact(channel: str, contact: str) -> str:
    from django.core.validators import validate_email

    from bianmin.core.validators import validate_mobile

    contact = (contact or "").strip()
    try:
        if channel == Subscription.Channel.SMS:
            return validate_mobile(contact)
        if channel == Subscription.Channel.EMAIL:
            validate_email(contact)
            if len(contact) > 200:
                raise ValidationError("邮箱地址过长")
            return contact.lower()
    except ValidationError as exc:
        message = exc.messages[0] if channel == Subscription.Channel.SMS else "邮箱地址格式错误"
        raise Invalid(message, field="contact") from None
    raise Invalid("通知方式应为短信或电子邮件", field="channel")


def subscription_token(subscription: Subscription) -> str:
    """The secret in the subscriber's link: signed, so the database holds nothing that would let
    a reader of it act for the subscriber."""
    from django.core import signing

    return signing.dumps(subscription.pk, salt="policies.subscription", compress=True)


def subscription_from_token(token: str) -> Subscription:
    from django.core import signing

    try:
        pk = signing.loads(token or "", salt="policies.subscription")
    except signing.BadSignature:
        raise NotFound("订阅链接无效") from None
    sub = Subscription.objects.select_related("profile__area").filter(pk=pk).first() if isinstance(pk, int) else None
    if sub is None:
        raise NotFound("订阅链接无效")
    return sub


def subscription_create(*, data: ProfileData, channel: str, contact: str) -> Subscription:
    """An enterprise subscribes (no log-in). Pending until confirmed through the link sent to the
    contact. A pilot credit code cannot be confirmed here: the enterprise is asked to contact the
    department, whose staff may save the profile (`profile_save`)."""
    contact = _contact(channel, contact)
    if data.area is None:
        raise Invalid("请选择企业注册地", field="area")
    with transaction.atomic():
        profile = EnterpriseProfile(saved_by="企业自助")
        _profile_apply(profile, data, pilot_override=False)
        profile.save()
        sub = Subscription.objects.create(profile=profile, channel=channel, contact=contact)
        link = public_url(f"/policies/subscriptions/{subscription_token(sub)}/")
        text = (f"【便民】{profile.name}：请打开链接确认订阅惠企政策推送（新政策符合贵企业条件时通知您）：{link} "
                "非本人操作请忽略。")
        enqueue(channel=channel, recipient=contact, dedupe_key=f"policy-subscription-confirm:{sub.pk}", new_key=True,
                payload={"template": "policy_subscription_confirm", "subject": "确认订阅惠企政策推送", "text": text,
                         "link": link})
        audit(actor=None, action=AuditEntry.Action.CREATE, target=sub, area_code=data.area.code,
              changes={"op": "subscribe", "channel": channel})
    return sub


def subscription_confirm(*, subscription_id: int) -> Subscription:
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().select_related("profile").get(pk=subscription_id)
        if sub.status == Subscription.Status.CANCELLED:
            raise Conflict("该订阅已退订，请重新订阅")
        if sub.status == Subscription.Status.PENDING:
            sub.status = Subscription.Status.ACTIVE
            sub.confirmed_at = timezone.now()
            sub.save()
            audit(actor=None, action=AuditEntry.Action.TRANSITION, target=sub,
                  area_code=sub.profile.area.code if sub.profile.area_id else "",
                  changes={"op": "confirm", "status": [Subscription.Status.PENDING, Subscription.Status.ACTIVE]})
    return sub


def subscription_cancel(*, subscription_id: int) -> Subscription:
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().select_related("profile").get(pk=subscription_id)
        if sub.status != Subscription.Status.CANCELLED:
            before = sub.status
            sub.status = Subscription.Status.CANCELLED
            sub.cancelled_at = timezone.now()
            sub.save()
            audit(actor=None, action=AuditEntry.Action.TRANSITION, target=sub,
                  area_code=sub.profile.area.code if sub.profile.area_id else "",
                  changes={"op": "cancel", "status": [before, Subscription.Status.CANCELLED]})
    return sub


def subscription_profile_update(*, subscription_id: int, data: ProfileData) -> EnterpriseProfile:
    """The subscriber corrects their profile (the credit code stays: a new enterprise subscribes anew)."""
    if data.area is None:
        raise Invalid("请选择企业注册地", field="area")
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().select_related("profile").get(pk=subscription_id)
        if sub.status == Subscription.Status.CANCELLED:
            raise Conflict("该订阅已退订")
        profile = sub.profile
        data.credit_code = profile.credit_code
        diff = _profile_apply(profile, data, pilot_override=profile.pilot_code)
        profile.save()
        if diff:
            audit(actor=None, action=AuditEntry.Action.UPDATE, target=profile, area_code=data.area.code,
                  changes={"op": "profile", **diff})
    return profile


def subscribers_notify(*, policy_id: int, previous_id: int | None = None) -> int:
    """Tell active subscribers of a newly published version that matches their profile, when it
    is new to them: the code's first publication, or a revision the profile did not match before.
    One notice per subscription and code, ever (SubscriptionNotice's unique key and the outbox's
    dedupe key both hold it), so a rerun or a second worker sends nothing twice."""
    from . import selectors

    policy = Policy.objects.select_related("area", "lead_department").filter(pk=policy_id).first()
    if policy is None or policy.state != State.PUBLISHED:
        return 0
    previous = Policy.objects.select_related("area").filter(pk=previous_id).first() if previous_id else None
    today = timezone.localdate()
    facts = selectors.match_facts([policy] + ([previous] if previous else []))
    sent = 0
    subs = (Subscription.objects.filter(status=Subscription.Status.ACTIVE, confirmed_at__lte=policy.published_at)
            .exclude(notices__code=policy.code).select_related("profile__area"))
    for sub in subs.iterator(chunk_size=500):
        profile = matching.Profile.of(sub.profile)
        if not matching.evaluate(policy, profile, facts=facts[policy.pk], today=today).eligible:
            continue
        if previous is not None and matching.evaluate(previous, profile, facts=facts[previous.pk], today=today).eligible:
            continue  # it matched before: not new to them
        with transaction.atomic():
            try:
                with transaction.atomic():
                    SubscriptionNotice.objects.create(subscription=sub, code=policy.code, policy=policy)
            except IntegrityError:
                continue  # told already (another run)
            link = public_url(policy_url(policy.code))
            manage = public_url(f"/policies/subscriptions/{subscription_token(sub)}/")
            text = (f"【便民】{sub.profile.name}：新发布的惠企政策《{policy.title}》符合贵企业条件，"
                    f"详情：{link} 退订：{manage}")
            enqueue(channel=sub.channel, recipient=sub.contact, dedupe_key=f"policy-notice:{sub.pk}:{policy.code}",
                    ordering_key=f"{sub.channel}:{sub.contact}",
                    payload={"template": "policy_match", "subject": f"新的惠企政策：{policy.title}", "text": text,
                             "code": policy.code, "link": link})
        sent += 1
    return sent
