"""Every write to a case. One function per use case: keyword-only typed arguments, one
transaction, the row locked (`select_for_update`) before its state is read, the move checked
against the table in `workflow.py`, a timeline event, an audit row, and news sent on commit.

Scope: a principal may handle a case when it holds `case.handle` at the case's handling site's
area. Out of scope → NotFound (404), as everywhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from bianmin.catalog.models import Item
from bianmin.core.audit import audit
from bianmin.core.calendar import add_working_days
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.outbox import enqueue
from bianmin.core.principal import Principal, actor_name
from bianmin.core.scoping import require, scope_filter
from bianmin.core.uploads import check_file, clean_file_name
from bianmin.core.validators import (
    credit_code_checksum_ok,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
)
from bianmin.regions.models import ServiceSite, Window

from . import events, receipts, selectors, signals
from .deadlines import due_dates, paused_working_days
from .models import (
    AcceptanceCounter,
    Case,
    CaseMaterial,
    State,
    StoredFile,
    Suspension,
    Transfer,
    Visit,
)
from .uploads import atomic_with_uploads, note_written
from .workflow import PREVIOUS, transition_for

# --- applicant -------------------------------------------------------------------------------


@dataclass
class Applicant:
    """Who applies: a person (name, ID number, mobile) or an enterprise (name, credit code,
    contact person and mobile)."""

    kind: str
    name: str
    mobile: str
    id_number: str = ""
    credit_code: str = ""
    contact_name: str = ""


def _field_error(field: str, exc: ValidationError) -> Invalid:
    code = getattr(exc, "code", None) or (exc.error_list[0].code if getattr(exc, "error_list", None) else None)
    return Invalid(f"{exc.messages[0]}", field=field, code=code or None)


def validate_applicant(applicant: Applicant, *, allow_pilot_credit_code: bool = False) -> Applicant:
    """Normalise and check an applicant (STANDARDS.md validators). Raises Invalid (422) naming
    the field. A credit code that fails only its check character (code ``credit_code_checksum``)
    passes only with ``allow_pilot_credit_code``: some early Fujian pilot codes were legally
    issued that way, and a permitted user may confirm one (see `case_submit`)."""
    kind = applicant.kind
    if kind not in Case.ApplicantKind.values:
        raise Invalid("申请人类型应为自然人或法人（企业）", field="applicant_kind")
    name = (applicant.name or "").strip()
    if not name:
        raise Invalid("请填写申请人名称", field="applicant_name")
    if len(name) > 100:
        raise Invalid("申请人名称过长", field="applicant_name")
    try:
        mobile = validate_mobile(applicant.mobile)
    except ValidationError as exc:
        raise _field_error("mobile", exc) from None
    out = Applicant(kind=kind, name=name, mobile=mobile)
    if kind == Case.ApplicantKind.PERSON:
        try:
            out.id_number = validate_id_number(applicant.id_number)
        except ValidationError as exc:
            raise _field_error("id_number", exc) from None
        out.contact_name = (applicant.contact_name or "").strip()
    else:
        try:
            out.credit_code = validate_credit_code(applicant.credit_code,
                                                   allow_pilot_override=allow_pilot_credit_code)
        except ValidationError as exc:
            raise _field_error("credit_code", exc) from None
        contact = (applicant.contact_name or "").strip()
        if not contact:
            raise Invalid("企业申请须填写联系人", field="contact_name")
        out.contact_name = contact[:50]
    return out


# --- helpers ---------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _locked_case(actor: Principal, case_id: int, capability: str = Cap.CASE_HANDLE, *,
                 area_field: str = "site__area") -> Case:
    """The case, locked for this transaction, if the actor may handle it; else NotFound."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("site__area", "received_site__area", "item__standard_item")
        .filter(pk=case_id)
        .filter(scope_filter(actor, capability, area_field=area_field))
        .first()
    )
    if case is None:
        # The sending station of a transferred case sees it but no longer handles it.
        raise NotFound("未找到该办件")
    return case


def _on_commit(signal, case: Case, **extra) -> None:
    transaction.on_commit(lambda: signal.send(sender=Case, case=case, **extra))


def _audit(actor: Principal | None, case: Case, action: str, changes: dict) -> None:
    audit(actor=actor, action=action, target=case, area_code=case.site.area.code, changes=changes)


# Foreign keys the services set from rows they already hold: full_clean() would query each one
# again to check it exists (one SELECT per key per write); the database enforces them anyway.
_HELD_KEYS = ["item", "site", "received_site", "window", "owner", "authorized_by"]


def _save(case: Case, fields: list[str]) -> None:
    case.full_clean(exclude=_HELD_KEYS, validate_unique=False, validate_constraints=False)
    case.save(update_fields=[*fields, "updated_at"])


def item_offered_at(item: Item, site: ServiceSite) -> bool:
    """Whether `item` is on `site`'s list: implemented at that site, or at its area without a site."""
    if not item.active:
        return False
    if item.site_id is not None:
        return item.site_id == site.pk
    return item.area_id == site.area_id


def check_item_for_site(item: Item, site: ServiceSite) -> None:
    """422 for a classified item (never handled on the platform) or one the site does not offer."""
    standard = item.standard_item
    if standard.is_classified:
        raise Invalid("涉密事项不通过平台办理", field="item")
    if not standard.active or not item_offered_at(item, site):
        raise Invalid(f"“{site.name}”未提供该事项", field="item")


# --- intake ----------------------------------------------------------------------------------


def case_submit(
    *,
    actor: Principal,
    site: ServiceSite,
    item: Item,
    applicant: Applicant,
    channel: str = Case.Channel.WINDOW,
    window: Window | None = None,
    summary: str = "",
    record_visit: bool | None = None,
    external_source: str = "",
    external_id: str = "",
    external_area_id: int | None = None,
    request_digest: str = "",
    capability: str = Cap.CASE_HANDLE,
    pilot_credit_code: bool = False,
    now=None,
) -> Case:
    """A new application at `site` for `item`. At a window the applicant is there: that is the
    first visit (跑动). The checklist is copied from the item's guide.

    `pilot_credit_code`: take a credit code that fails only its check character as an early
    pilot code. Only a user who may manage the site's cases (center manager and above) may
    confirm it; the override is recorded on the timeline and in the audit row."""
    require(actor, capability, site.area)
    if pilot_credit_code:
        require(actor, Cap.CASE_MANAGE, site.area)
    if channel not in Case.Channel.values:
        raise Invalid("申请渠道无效", field="channel")
    check_item_for_site(item, site)
    if window is not None and window.site_id != site.pk:
        raise Invalid("窗口不属于该服务场所", field="window")
    applicant = validate_applicant(applicant, allow_pilot_credit_code=pilot_credit_code)
    pilot = bool(applicant.credit_code) and not credit_code_checksum_ok(applicant.credit_code)
    if window is None and item.window_id and item.window.site_id == site.pk:
        window = item.window
    now = now or timezone.now()
    standard = item.standard_item
    with transaction.atomic():
        case = Case(
            item=item, site=site, received_site=site, window=window,
            owner=getattr(actor, "user", None) if channel == Case.Channel.WINDOW else None,
            channel=channel, external_source=external_source, external_id=external_id,
            external_area_id=external_area_id, request_digest=request_digest,
            applicant_kind=applicant.kind, applicant_name=applicant.name, id_number=applicant.id_number,
            credit_code=applicant.credit_code, contact_name=applicant.contact_name, mobile=applicant.mobile,
            summary=(summary or "")[:300], mode=item.mode, authorized_by_id=item.authorized_by_id,
            legal_limit_days=standard.legal_limit_days, promised_limit_days=item.promised_limit_days,
            submitted_at=now,
        )
        case.full_clean(exclude=_HELD_KEYS, validate_unique=False, validate_constraints=False)
        case.save()
        CaseMaterial.objects.bulk_create([
            CaseMaterial(case=case, name=m.name, required=m.required, trust_level=m.trust_level, position=i)
            for i, m in enumerate(standard.materials.all())
        ])
        events.submitted(case, actor, at=now, channel=channel, pilot_credit_code=pilot)
        if record_visit if record_visit is not None else channel == Case.Channel.WINDOW:
            _add_visit(case, actor, site=site, purpose="递交申请", at=now)
        _audit(actor, case, AuditEntry.Action.CREATE, {"item": standard.code, "channel": channel,
                                                       "mode": item.mode, **({"pilot_credit_code": True} if pilot else {})})
        _on_commit(signals.case_submitted, case)
    return case


def _intake_digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def case_intake_external(
    *,
    actor: Principal,
    external_id: str,
    site: ServiceSite,
    item: Item,
    applicant: Applicant,
    summary: str = "",
    payload: dict,
) -> tuple[Case, bool]:
    """Create or update a case by its id in an outside system (省网上办事大厅…). Idempotent: the
    same request again changes nothing and returns the same case; a changed request updates the
    applicant while the case awaits acceptance, and is a 409 after that. Returns (case, created)."""
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 100:
        raise Invalid("外部编号不能为空且不超过100个字符", field="external_id")
    require(actor, Cap.CASE_INTAKE, site.area)
    key = getattr(actor, "api_key", None)
    if key is not None and key.site_id and site.pk != key.site_id and site.parent_site_id != key.site_id:
        raise NotFound("未找到该服务场所", field="site_code")
    digest = _intake_digest(payload)
    source, area_id = selectors.intake_identity(actor)
    existing = selectors.external_case_get(actor, external_id)
    if existing is None:
        try:
            with transaction.atomic():
                case = case_submit(
                    actor=actor, site=site, item=item, applicant=applicant, channel=Case.Channel.API,
                    summary=summary, record_visit=False, external_source=source, external_id=external_id,
                    external_area_id=area_id, request_digest=digest, capability=Cap.CASE_INTAKE,
                )
            return case, True
        except IntegrityError:
            # The same request raced us and won: answer as for a repeat.
            existing = selectors.external_case_get(actor, external_id)
            if existing is None:
                raise
    return _external_update(actor, existing.pk, site=site, item=item, applicant=applicant, summary=summary,
                            digest=digest), False


def _external_update(actor, case_id, *, site, item, applicant, summary, digest) -> Case:
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("site__area").get(pk=case_id)
        if case.request_digest == digest:
            return case  # a repeat: same case, same answer, nothing written
        if case.state != State.SUBMITTED:
            raise Conflict(f"办件已{case.get_state_display()}，不能再修改申请内容", code="transition_not_allowed")
        if case.item_id != item.pk or case.received_site_id != site.pk:
            raise Conflict("已提交的办件不能更换事项或场所，请撤回后重新申请", field="item_id")
        applicant = validate_applicant(applicant)
        changed = []
        for field, value in (("applicant_kind", applicant.kind), ("applicant_name", applicant.name),
                             ("id_number", applicant.id_number), ("credit_code", applicant.credit_code),
                             ("contact_name", applicant.contact_name), ("mobile", applicant.mobile),
                             ("summary", (summary or "")[:300])):
            if getattr(case, field) != value:
                setattr(case, field, value)
                changed.append(field)
        case.request_digest = digest
        _save(case, [*changed, "request_digest"])
        events.updated(case, actor, fields=changed)
        _audit(actor, case, AuditEntry.Action.UPDATE, {"fields": changed})
    return case


# --- transitions -----------------------------------------------------------------------------


def _next_acceptance_number(site: ServiceSite, day: date) -> str:
    """site code - date - sequence, e.g. 350102001000-C-20261127-0007. The counter row for the
    site and day is locked, so concurrent acceptances queue instead of sharing a number."""
    counter, _ = AcceptanceCounter.objects.get_or_create(site=site, day=day)
    counter = AcceptanceCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last = F("last") + 1
    counter.save(update_fields=["last"])
    counter.refresh_from_db(fields=["last"])
    return f"{site.code}-{day:%Y%m%d}-{counter.last:04d}"


def missing_required_materials(case: Case) -> list[str]:
    """The required materials not yet received, in the guide's order."""
    return list(case.materials.filter(required=True, received=False).order_by("position", "id")
                .values_list("name", flat=True))


def case_accept(*, actor: Principal, case_id: int, now: datetime | None = None) -> Case:
    """受理: an acceptance number, the day the clock starts, and the two due dates."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        transition_for("accept", case.state)
        if case.mode == Case.Mode.TRANSFER and case.site_id == case.received_site_id:
            target = case.item.transfer_to_site
            raise Conflict(f"该事项为业务转办，须转至“{target.name if target else '上级服务中心'}”受理",
                           code="transfer_required")
        today = timezone.localdate(now)
        case.acceptance_number = _next_acceptance_number(case.site, today)
        case.state = State.ACCEPTED
        case.accepted_at = now
        case.accepted_on = today
        case.promised_due_on, case.legal_due_on = due_dates(
            accepted_on=today, legal_limit_days=case.legal_limit_days, promised_limit_days=case.promised_limit_days,
            paused_days=case.suspended_days)
        if case.owner_id is None and getattr(actor, "user", None) is not None:
            case.owner = actor.user
        _save(case, ["acceptance_number", "state", "accepted_at", "accepted_on", "promised_due_on", "legal_due_on",
                     "owner"])
        # 容缺受理: accepting while a required material is missing is the accepting clerk's
        # decision, kept with their name on the timeline and in the audit.
        missing = missing_required_materials(case)
        events.accepted(case, actor, at=now, number=case.acceptance_number, promised_due_on=case.promised_due_on,
                        legal_due_on=case.legal_due_on, missing_materials=missing)
        _audit(actor, case, AuditEntry.Action.TRANSITION, {"action": "accept", "to": case.state,
                                                           "number": case.acceptance_number,
                                                           **({"missing_materials": missing} if missing else {})})
        _sms(case, receipts.accepted_sms(case), f"case-accepted-sms:{case.pk}")
        _on_commit(signals.case_accepted, case)
        transaction.on_commit(_ensure_daily_overdue)
    return case


def _ensure_daily_overdue() -> None:
    from .tasks import ensure_daily_overdue

    ensure_daily_overdue()


def _reason(reason: str, field: str = "reason", what: str = "理由") -> str:
    text = (reason or "").strip()
    if not text:
        raise Invalid(f"请填写{what}", field=field)
    if len(text) > 1000:
        raise Invalid(f"{what}不能超过1000字", field=field)
    return text


def case_reject(*, actor: Principal, case_id: int, reason: str, now: datetime | None = None) -> Case:
    """不予受理, with the reason the applicant is told."""
    reason = _reason(reason, what="不予受理理由")
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        transition_for("reject", case.state)
        case.state = State.NOT_ACCEPTED
        case.reason = reason
        case.completed_at = now
        case.completed_on = _today()
        _save(case, ["state", "reason", "completed_at", "completed_on"])
        events.not_accepted(case, actor, at=now, reason=reason)
        _audit(actor, case, AuditEntry.Action.TRANSITION, {"action": "reject", "to": case.state})
        _on_commit(signals.case_closed_without_decision, case)
    return case


def case_request_correction(*, actor: Principal, case_id: int, materials: list[str], note: str = "", now: datetime | None = None) -> Case:
    """一次性告知补正: the missing materials, listed once. After acceptance the clock stops."""
    names = [m.strip() for m in materials if m and m.strip()]
    if not names:
        raise Invalid("请列出需补正的材料", field="materials")
    if any(len(n) > 200 for n in names):
        raise Invalid("材料名称不能超过200字", field="materials")
    note = (note or "").strip()[:300]
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        transition_for("request_correction", case.state)
        clock_running = case.state in (State.ACCEPTED, State.IN_PROGRESS)
        today = timezone.localdate(now)
        suspension = Suspension.objects.create(
            case=case, reason=note or "补正材料", missing_materials=names, started_on=today,
            due_on=add_working_days(today, int(settings.BIANMIN_CASE_CORRECTION_WORKING_DAYS)),
            clock_running=clock_running)
        case.state_before_correction = case.state
        case.state = State.CORRECTION
        case.suspended_since = today if clock_running else None
        _save(case, ["state", "state_before_correction", "suspended_since"])
        events.correction_requested(case, actor, at=now, materials=names, note=note, clock_running=clock_running)
        _audit(actor, case, AuditEntry.Action.TRANSITION, {"action": "request_correction", "to": case.state,
                                                           "materials": names})
        _sms(case, receipts.correction_sms(case, suspension), f"case-correction-sms:{suspension.pk}")
    return case


def _sms(case: Case, text: str, dedupe_key: str) -> None:
    """A message to the applicant (every case has a phone) through the outbox: sent after
    commit, retried while the gateway is down, once per ``dedupe_key``."""
    enqueue(channel="sms", recipient=case.mobile, payload={"text": text, "case_id": case.pk},
            dedupe_key=dedupe_key, ordering_key=f"sms:{case.mobile}")


def case_receive_correction(*, actor: Principal, case_id: int, now: datetime | None = None) -> Case:
    """补正材料收齐: the pause ends; its working days push both due dates."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        t = transition_for("receive_correction", case.state)
        today = timezone.localdate(now)
        suspension = case.suspensions.filter(ended_on__isnull=True).order_by("-id").first()
        paused = 0
        if suspension is not None:
            if suspension.clock_running:
                paused = paused_working_days(suspension.started_on, today)
            suspension.ended_on = today
            suspension.working_days = paused
            suspension.save(update_fields=["ended_on", "working_days"])
        case.state = case.state_before_correction if t.target == PREVIOUS else t.target
        case.state_before_correction = ""
        case.suspended_since = None
        case.suspended_days += paused
        fields = ["state", "state_before_correction", "suspended_since", "suspended_days"]
        if case.accepted_on is not None:
            case.promised_due_on, case.legal_due_on = due_dates(
                accepted_on=case.accepted_on, legal_limit_days=case.legal_limit_days,
                promised_limit_days=case.promised_limit_days, paused_days=case.suspended_days)
            if case.overdue and case.promised_due_on >= today:
                case.overdue = False  # the pause moved the deadline past today
            fields += ["promised_due_on", "legal_due_on", "overdue"]
        _save(case, fields)
        events.correction_received(case, actor, at=now, paused_days=paused)
        _audit(actor, case, AuditEntry.Action.TRANSITION, {"action": "receive_correction", "to": case.state,
                                                           "paused_days": paused})
    return case


def case_start(*, actor: Principal, case_id: int, now: datetime | None = None) -> Case:
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        transition_for("start", case.state)
        case.state = State.IN_PROGRESS
        _save(case, ["state"])
        events.started(case, actor, at=now)
        _audit(actor, case, AuditEntry.Action.TRANSITION, {"action": "start", "to": case.state})
    return case


def case_complete(*, actor: Principal, case_id: int, result: str, reason: str = "", now: datetime | None = None) -> Case:
    """办结: approved, or denied with the reason."""
    if result not in Case.Result.values:
        raise Invalid("办理结果应为准予或不予批准", field="result")
    reason = _reason(reason, what="不予批准理由") if result == Case.Result.DENIED else (reason or "").strip()[:1000]
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        transition_for("complete", case.state)
        today = timezone.localdate(now)
        case.state = State.COMPLETED
        case.result = result
        case.reason = reason
        case.completed_at = now
        case.completed_on = today
        on_time = case.promised_due_on is None or today <= case.promised_due_on
        _save(case, ["state", "result", "reason", "completed_at", "completed_on"])
        events.completed(case, actor, at=now, result=result, reason=reason, on_time=on_time)
        _audit(actor, case, AuditEntry.Action.TRANSITION, {"action": "complete", "to": case.state, "result": result})
        _on_commit(signals.case_completed, case)
    return case


def case_withdraw(*, actor: Principal, case_id: int, reason: str = "", capability: str = Cap.CASE_HANDLE,
                  area_field: str = "site__area", now: datetime | None = None) -> Case:
    """撤回: the applicant withdraws (recorded by the clerk, or sent by the outside system that
    took the application in, with its intake capability at the receiving site)."""
    reason = (reason or "").strip()[:1000] or "申请人主动撤回"
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id, capability, area_field=area_field)
        transition_for("withdraw", case.state)
        today = timezone.localdate(now)
        if case.state == State.CORRECTION:
            case.suspensions.filter(ended_on__isnull=True).update(ended_on=today)
        case.state = State.WITHDRAWN
        case.state_before_correction = ""
        case.suspended_since = None
        case.reason = reason
        case.completed_at = now
        case.completed_on = today
        _save(case, ["state", "state_before_correction", "suspended_since", "reason", "completed_at", "completed_on"])
        events.withdrawn(case, actor, at=now, reason=reason)
        _audit(actor, case, AuditEntry.Action.TRANSITION, {"action": "withdraw", "to": case.state})
        _on_commit(signals.case_closed_without_decision, case)
    return case


def case_withdraw_external(*, actor: Principal, external_id: str, reason: str = "") -> Case:
    case = selectors.external_case_get(actor, external_id)
    if case is None:
        raise NotFound("未找到该办件", field="external_id")
    return case_withdraw(actor=actor, case_id=case.pk, reason=reason, capability=Cap.CASE_INTAKE,
                         area_field="received_site__area")


def case_transfer(*, actor: Principal, case_id: int, note: str = "", now: datetime | None = None) -> Case:
    """业务转办: a village/community station forwards a submitted case of a 业务转办 item to the
    site the item names. The case moves to that site's queue; the station keeps seeing it."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        transition_for("transfer", case.state)
        if case.mode != Case.Mode.TRANSFER:
            raise Conflict(f"该事项的办理方式为“{case.get_mode_display()}”，在本场所办理，不能转办",
                           code="transfer_not_allowed")
        if case.site_id != case.received_site_id:
            raise Conflict("该办件已转办", code="transfer_not_allowed")
        target = case.item.transfer_to_site
        if target is None:
            raise Conflict("该事项未指定转办场所", code="transfer_not_allowed")
        transfer = Transfer.objects.create(case=case, from_site=case.site, to_site=target, note=(note or "")[:300],
                                           at=now, by_label=actor.name[:150])
        from_name = case.site.name
        case.site = target
        case.owner = None
        _save(case, ["site", "owner"])
        events.transferred(case, actor, at=now, from_site=from_name, to_site=target.name, note=transfer.note)
        _audit(actor, case, AuditEntry.Action.TRANSITION, {"action": "transfer", "from": case.received_site.code,
                                                           "to": target.code})
        transaction.on_commit(lambda: signals.case_transferred.send(sender=Case, case=case, transfer=transfer))
    return case


def case_assign(*, actor: Principal, case_id: int, owner, now: datetime | None = None) -> Case:
    """指定经办人: a manager gives the case to a clerk of the site."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id, Cap.CASE_MANAGE)
        if not case.is_open:
            raise Conflict("办件已结束，不能再指定经办人")
        if owner is not None and Cap.CASE_HANDLE not in owner.capabilities_at(case.site.area):
            raise Invalid("该人员无权办理本场所的办件", field="owner")
        case.owner = owner
        _save(case, ["owner"])
        events.assigned(case, actor, at=now, owner=str(owner) if owner else "")
        _audit(actor, case, AuditEntry.Action.UPDATE, {"owner": str(owner) if owner else None})
    return case


# --- visits ----------------------------------------------------------------------------------


def _add_visit(case: Case, actor: Principal | None, *, site: ServiceSite, purpose: str, at=None) -> Visit:
    visit = Visit.objects.create(case=case, site=site, at=at or timezone.now(), purpose=purpose[:100],
                                 recorded_by=actor_name(actor)[:150])
    Case.objects.filter(pk=case.pk).update(visit_count=F("visit_count") + 1)
    case.visit_count += 1
    events.visit(case, actor, at=visit.at, site=site.name, purpose=purpose, count=case.visit_count)
    return visit


def case_visit_record(*, actor: Principal, case_id: int, purpose: str = "", site: ServiceSite | None = None, now: datetime | None = None) -> Visit:
    """跑动: the applicant came to a site for this case (a second one makes it 跑多趟)."""
    purpose = (purpose or "").strip() or "现场办理"
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("site__area", "received_site__area").filter(
            pk=case_id).filter(
            scope_filter(actor, Cap.CASE_HANDLE, area_field="site__area")
            | scope_filter(actor, Cap.CASE_HANDLE, area_field="received_site__area")).first()
        if case is None:
            raise NotFound("未找到该办件")
        site = site or (case.site if actor.can(Cap.CASE_HANDLE, case.site.area) else case.received_site)
        require(actor, Cap.CASE_HANDLE, site.area)
        visit = _add_visit(case, actor, site=site, purpose=purpose, at=now)
        _audit(actor, case, AuditEntry.Action.CREATE, {"visit": visit.pk, "site": site.code})
        _on_commit(signals.case_visited, case, visit=visit)
    return visit


# --- materials -------------------------------------------------------------------------------

def store_file(*, data: bytes, name: str, field: str = "file") -> StoredFile:
    """Store `data` once by its SHA-256 (dedupe) after the upload policy's checks
    (``uploads.check_file``: size 413, empty 422, type by content 415)."""
    content_type = check_file(name, data, field=field).content_type
    sha = hashlib.sha256(data).hexdigest()
    existing = StoredFile.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing
    path = f"cases/{sha[:2]}/{sha[2:4]}/{sha}"
    written = False
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(data))
        written = True
        # Noted before the row is inserted: if the insert or anything after it fails, the
        # enclosing ``atomic_with_uploads`` removes the blob again.
        note_written(sha256=sha, path=path)
    stored, created = StoredFile.objects.get_or_create(sha256=sha, defaults={"size": len(data), "content_type": content_type,
                                                                             "path": path})
    if created and not written and not default_storage.exists(stored.path):
        # The blob we found belonged to a concurrent upload of the same content that failed and
        # removed it before our insert went through (``uploads.discard_unreferenced``).
        default_storage.save(stored.path, ContentFile(data))
        note_written(sha256=sha, path=stored.path)
    return stored


def case_material_attach(*, actor: Principal, case_id: int, material_id: int, data: bytes | None = None,
                         file_name: str = "", now: datetime | None = None) -> CaseMaterial:
    """Mark a checklist line as received, with an uploaded file when one is given. A failure
    after the file was written leaves no file behind (``atomic_with_uploads``)."""
    now = now or timezone.now()
    with atomic_with_uploads():
        case = _locked_case(actor, case_id)
        if not case.is_open:
            raise Conflict("办件已结束，不能再收取材料")
        material = case.materials.filter(pk=material_id).first()
        if material is None:
            raise NotFound("未找到该材料", field="material_id")
        fields = ["received"]
        if data is not None:
            stored = store_file(data=data, name=file_name)
            material.file = stored
            material.file_name = clean_file_name(file_name, default="")
            fields += ["file", "file_name"]
        material.received = True
        material.save(update_fields=fields)
        events.material(case, actor, at=now, name=material.name, file_name=material.file_name,
                        sha256=material.file.sha256 if material.file_id else "")
        _audit(actor, case, AuditEntry.Action.UPDATE, {"material": material.name, "file": material.file_name})
    return material


# --- deadlines -------------------------------------------------------------------------------


def cases_mark_overdue(*, today: date | None = None) -> int:
    """The daily job: cases on the clock past their promised due date are marked overdue once,
    with a timeline event and a notification to the owner (or the site's queue) through the
    outbox. Running it twice on a day changes nothing the second time."""
    today = today or _today()
    ids = list(Case.objects.filter(state__in=(State.ACCEPTED, State.IN_PROGRESS), overdue=False,
                                   promised_due_on__lt=today).values_list("pk", flat=True))
    marked = 0
    for case_id in ids:
        with transaction.atomic():
            case = (Case.objects.select_for_update(of=("self",)).select_related("site__area", "owner", "item__standard_item")
                    .filter(pk=case_id, overdue=False, state__in=(State.ACCEPTED, State.IN_PROGRESS),
                            promised_due_on__lt=today).first())
            if case is None:
                continue  # handled meanwhile
            case.overdue = True
            case.overdue_marked_on = today
            case.save(update_fields=["overdue", "overdue_marked_on", "updated_at"])
            events.overdue(case, due_on=case.promised_due_on)
            recipient = case.owner.username if case.owner_id else f"site:{case.site.code}"
            enqueue(
                channel="notify", recipient=recipient,
                payload={"kind": "case_overdue", "case_id": case.pk, "number": case.acceptance_number,
                         "text": f"办件 {case.acceptance_number}（{case.item.standard_item.name}）已超过承诺办结时限"
                                 f"（{case.promised_due_on:%Y-%m-%d}），请尽快办理。"},
                dedupe_key=f"case-overdue-{case.pk}",
                ordering_key=f"case-{case.pk}",
            )
            audit(actor=None, action=AuditEntry.Action.UPDATE, target=case, area_code=case.site.area.code,
                  changes={"overdue": True, "due_on": case.promised_due_on.isoformat()})
            _on_commit(signals.case_overdue, case)
            marked += 1
    return marked


# --- export ----------------------------------------------------------------------------------


def case_dossiers_export(*, actor: Principal, cases: list[Case], as_zip: bool = True) -> bytes:
    """Dossiers for inspection: one PDF, or a ZIP of PDFs; audited as an export. The caller
    passes cases it got from a scoped selector."""
    from .dossier import dossier_pdf, dossiers_zip

    if not cases:
        raise Invalid("请选择要导出的办件", field="ids")
    if len(cases) > 500:
        raise Invalid("一次最多导出500件", field="ids")
    if getattr(actor, "user", None) is None:
        raise Forbidden("无权导出")
    data = dossiers_zip(cases) if as_zip else dossier_pdf(cases[0])
    audit(actor=actor, action=AuditEntry.Action.EXPORT, target_type="cases.case",
          target_id=",".join(str(c.pk) for c in cases)[:64], label=f"业务卷宗 {len(cases)} 件",
          changes={"ids": [c.pk for c in cases]})
    return data
