"""Every write of the follow-up desk: bad-review handling, the daily list and its calls, home
visits, questionnaires, and the rectification ledger (shared by every source).

followups reads evaluations, cases and appeals (it comes after them in the spine); the only
write it makes into evaluations is through ``evaluations.services`` (exclusion after an upheld
appeal, the outcome report to the province)."""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from bianmin.cases.uploads import atomic_with_uploads
from bianmin.core.audit import audit
from bianmin.core.calendar import add_working_days
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, FieldErrors, Invalid, NotFound, clean_text
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Principal, actor_name
from bianmin.core.scoping import get_scoped, require

from . import workflow
from .models import (
    AppealEvidence,
    BadReviewHandling,
    FollowUp,
    FollowUpList,
    HandlingEvent,
    Question,
    Questionnaire,
    Rectification,
    SurveyInvitation,
    SurveyResponse,
)

H = BadReviewHandling.Status


def rectification_default_days() -> int:
    """Fujian: a confirmed 差评 is rectified within 10 working days (local variants 5 or 15)."""
    return int(settings.BIANMIN_RECTIFICATION_DAYS)


def verify_days() -> int:
    """Working days to verify a bad review (local: follow-up within 1 day)."""
    return int(settings.BIANMIN_BADREVIEW_VERIFY_DAYS)


def sample_rate_default() -> Decimal:
    return Decimal(str(settings.BIANMIN_FOLLOWUP_SAMPLE_RATE))


def max_tries_default() -> int:
    return int(settings.BIANMIN_FOLLOWUP_MAX_TRIES)


def _label(actor: Principal | None) -> str:
    return actor_name(actor)


_text = clean_text  # core.errors: stripped, required, at most `limit` characters


def _days(value, field: str = "working_days") -> int | None:
    """A rectification's time limit as typed (None when left empty): 1 to 90 working days."""
    if value in (None, ""):
        return None
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid("整改时限请填写 1 至 90 之间的整数（工作日）", field=field) from None
    if not 1 <= days <= 90:
        raise Invalid("整改时限应为 1 至 90 个工作日", field=field)
    return days


# --- the rectification ledger ----------------------------------------------------------------

def _next_number(day: date) -> str:
    prefix = f"ZG{day:%Y%m%d}"
    last = (Rectification.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    seq = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def rectification_open(*, actor: Principal | None, source: str, area, problem: str, site=None, measure: str = "",
                       owner_name: str = "", owner=None, working_days: int | None = None, source_ref: str = "",
                       found_on: date | None = None) -> Rectification:
    """Open one entry of the ledger (inside the caller's transaction when there is one).
    Idempotent per (source, source_ref)."""
    if source not in Rectification.Source.values:
        raise Invalid("问题来源无效", field="source")
    problem = _text(problem, "problem", "存在问题")
    measure = _text(measure, "measure", "整改措施", required=False)
    days = _days(working_days) or rectification_default_days()
    found_on = found_on or timezone.localdate()
    with transaction.atomic():
        if source_ref:
            existing = Rectification.objects.filter(source=source, source_ref=source_ref).first()
            if existing is not None:
                return existing
        for _attempt in range(5):
            rect = Rectification(
                number=_next_number(found_on), source=source, source_ref=source_ref, area=area, site=site,
                problem=problem, measure=measure, owner_name=(owner_name or "").strip()[:50], owner=owner,
                working_days=days, found_on=found_on, deadline=add_working_days(found_on, days),
            )
            rect.full_clean(validate_unique=False, validate_constraints=False)
            try:
                with transaction.atomic():
                    rect.save()
                break
            except IntegrityError:
                if source_ref and Rectification.objects.filter(source=source, source_ref=source_ref).exists():
                    return Rectification.objects.get(source=source, source_ref=source_ref)
                continue  # a concurrent writer took the number: take the next one
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=rect, area_code=area.code,
              changes={"source": source, "deadline": rect.deadline.isoformat(), "days": days})
    return rect


def _refuse_inspection(rect: Rectification) -> None:
    """An inspection notice's row follows the notice (answered and accepted there): edited here,
    the ledger and the notice would tell two stories."""
    if rect.source == Rectification.Source.INSPECTION:
        raise Conflict("督查整改通知的整改情况请在整改通知中答复，验收后台账自动更新")


def _locked_rectification(actor: Principal, rectification_id: int) -> Rectification:
    """Out of scope: 404; seen but not the actor's to change (a clerk, the 回访员): 403, as for the
    handling's other steps (a form that answers "未找到该记录" tells nobody anything)."""
    rect = get_scoped(Rectification.objects.select_for_update().select_related("area"), actor, Cap.VIEW,
                      pk=rectification_id)
    require(actor, Cap.BADREVIEW_HANDLE, rect.area)
    return rect


def rectification_plan(*, actor: Principal, rectification_id: int, measure: str, owner_name: str,
                       working_days: int | None = None) -> Rectification:
    with transaction.atomic():
        rect = _locked_rectification(actor, rectification_id)
        _refuse_inspection(rect)
        if rect.status != Rectification.Status.OPEN:
            raise Conflict("该整改已完成，不能修改整改措施")
        errors = FieldErrors()
        rect.measure = errors.run(_text, measure, "measure", "整改措施")
        rect.owner_name = errors.run(_text, owner_name, "owner_name", "责任人", limit=50)
        days = errors.run(_days, working_days)
        errors.raise_if_any()
        if days is not None:
            rect.working_days = days
            rect.deadline = add_working_days(rect.found_on, days)
        rect.save()
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=rect, area_code=rect.area.code,
              changes={"measure": rect.measure[:200], "owner": rect.owner_name, "deadline": rect.deadline.isoformat()})
    return rect


def rectification_complete(*, actor: Principal, rectification_id: int, result: str, done_on: date | None = None) -> Rectification:
    with transaction.atomic():
        rect = _locked_rectification(actor, rectification_id)
        _refuse_inspection(rect)
        if rect.status == Rectification.Status.DONE:
            raise Conflict("该整改已完成")
        if not rect.measure:
            raise Invalid("请先填写整改措施和责任人", field="measure")
        rect.result = _text(result, "result", "整改结果")
        rect.done_on = done_on or timezone.localdate()
        rect.on_time = rect.done_on <= rect.deadline
        rect.status = Rectification.Status.DONE
        rect.save()
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=rect, area_code=rect.area.code,
              changes={"status": "done", "on_time": rect.on_time})
        handling = BadReviewHandling.objects.select_for_update().filter(rectification=rect).first()
        if handling is not None and workflow.allowed(handling, "rectified"):
            workflow.move(handling, "rectified")
            handling.save(update_fields=["status"])
            _event(handling, HandlingEvent.Kind.RECTIFIED, actor, rect.result)
    return rect


def rectifications_from_appeal_requests(*, limit: int = 200) -> int:
    """Consume pending ``appeals.RectificationRequest`` rows (the signal may have been lost)."""
    from bianmin.appeals.models import RectificationRequest

    n = 0
    for req_id in list(RectificationRequest.objects.filter(status="pending").values_list("pk", flat=True)[:limit]):
        rectification_from_appeal_request(request_id=req_id)
        n += 1
    return n


def rectification_from_appeal_request(*, request_id: int) -> Rectification | None:
    from bianmin.appeals.models import RectificationRequest
    from bianmin.appeals.services import rectification_request_mark

    req = RectificationRequest.objects.select_related("area").filter(pk=request_id).first()
    if req is None:
        return None
    problem = (f"高频诉求：{req.get_group_by_display()}“{req.group_label}”在 {req.period_start}至{req.period_end} "
               f"共 {req.appeal_count} 件诉求。{req.note}").strip()
    with transaction.atomic():
        rect = rectification_open(actor=None, source=Rectification.Source.APPEAL_GROUP, area=req.area,
                                  problem=problem, source_ref=f"appeal_request:{req.pk}")
        if req.status == "pending":
            rectification_request_mark(request_id=req.pk, accepted=True, ledger_ref=rect.number)
    return rect


def rectifications_from_inspection_notices(*, limit: int = 500) -> int:
    """Sweep: inspection notices whose last change the ledger has not taken in (a lost signal)."""
    from bianmin.inspections.selectors import notices_out_of_ledger

    ids = notices_out_of_ledger(limit)
    for notice_id in ids:
        rectification_sync_from_notice(notice_id=notice_id)
    return len(ids)


def rectification_sync_from_notice(*, notice_id: int) -> Rectification | None:
    """Bring the ledger's row of an inspection notice (整改通知) up to the notice: opened when it
    is issued (same deadline, counted from the same day), the district's answer as the measure,
    done with the notice's acceptance (on the day of the accepted answer, on time as the notice
    says), open again when sent back. The notice owns the state; the ledger mirrors it, so the two
    never disagree about answered, accepted, sent back or overdue (both read the one deadline)."""
    from bianmin.inspections.models import Notice
    from bianmin.inspections.services import notice_ledger_synced

    notice = Notice.objects.select_related("area", "site").filter(pk=notice_id).first()
    if notice is None:
        return None
    with transaction.atomic():
        rect = rectification_open(actor=None, source=Rectification.Source.INSPECTION, area=notice.area, site=notice.site,
                                  problem=f"【整改通知 {notice.number}】{notice.problem}",
                                  working_days=notice.working_days, found_on=notice.issued_on,
                                  source_ref=f"inspection_notice:{notice.pk}")
        rect = Rectification.objects.select_for_update().get(pk=rect.pk)
        # Re-read under the ledger row's lock: two receivers of successive changes may run at once,
        # and the later state must win whichever commits last.
        notice = Notice.objects.get(pk=notice_id)
        before = (rect.status, rect.measure, rect.result, rect.done_on, rect.on_time, rect.deadline)
        rect.deadline = notice.deadline
        rect.owner_name = notice.addressee.name[:50]
        rect.measure = notice.answer if notice.status != Notice.Status.ISSUED else ""
        if notice.status == Notice.Status.ACCEPTED:
            rect.status = Rectification.Status.DONE
            rect.result = f"{notice.answer}（验收意见：{notice.decision_note or '通过'}）"
            rect.done_on, rect.on_time = notice.rectified_on, notice.on_time
        else:
            rect.status = Rectification.Status.OPEN
            rect.result, rect.done_on, rect.on_time = "", None, None
        if before != (rect.status, rect.measure, rect.result, rect.done_on, rect.on_time, rect.deadline):
            rect.save()
            audit(actor=None, action=AuditEntry.Action.UPDATE, target=rect, area_code=notice.area.code,
                  changes={"notice": notice.number, "notice_status": notice.status, "status": rect.status})
        notice_ledger_synced(notice_id=notice.pk, revision=notice.revision, ledger_ref=rect.number)
    return rect


# --- bad-review handling ---------------------------------------------------------------------

def _event(handling: BadReviewHandling, kind: str, actor: Principal | None, text: str = "") -> None:
    HandlingEvent.objects.create(handling=handling, kind=kind, actor_label=_label(actor), text=text[:2000])


def handling_open(*, evaluation_id: int) -> BadReviewHandling | None:
    """Open the handling record of a bad review (idempotent; called on commit of the evaluation
    and by the daily sweep). Default and excluded evaluations are not bad reviews to handle."""
    from bianmin.evaluations.models import Evaluation

    with transaction.atomic():
        evaluation = Evaluation.objects.select_related("area").filter(pk=evaluation_id).first()
        if evaluation is None or not evaluation.is_counted_bad:
            return None
        existing = BadReviewHandling.objects.filter(evaluation_id=evaluation_id).first()
        if existing is not None:
            return existing
        today = timezone.localdate()
        handling = BadReviewHandling(
            evaluation=evaluation, case_id=evaluation.case_id, area_id=evaluation.area_id, site_id=evaluation.site_id,
            verify_due=add_working_days(today, verify_days()),
        )
        try:
            with transaction.atomic():
                handling.save()
        except IntegrityError:
            return BadReviewHandling.objects.get(evaluation_id=evaluation_id)
        _event(handling, HandlingEvent.Kind.OPENED, None, f"{evaluation.get_grade_display()}：{evaluation.text}"[:500])
        audit(actor=None, action=AuditEntry.Action.CREATE, target=handling, area_code=evaluation.area.code,
              changes={"evaluation": evaluation.pk})
    return handling


def handlings_open_missing() -> int:
    """Sweep: bad reviews without a handling record (a lost on-commit signal)."""
    from bianmin.evaluations.models import COUNTED_BAD, Evaluation

    ids = list(Evaluation.objects.filter(COUNTED_BAD, handling__isnull=True)
               .values_list("pk", flat=True)[:1000])
    return sum(1 for pk in ids if handling_open(evaluation_id=pk) is not None)


def _locked_handling(actor: Principal, handling_id: int, action: str) -> BadReviewHandling:
    """The handling, locked, for ``action``: out of the actor's scope is a 404; in scope but not
    theirs to take (workflow.refusal, the rule the page's forms follow too) a 403 saying whose
    step it is. Who is checked before when (409)."""
    handling = get_scoped(BadReviewHandling.objects.select_for_update(of=("self",)).select_related("area", "evaluation"),
                          actor, Cap.VIEW, pk=handling_id)
    workflow.check_actor(actor, handling, action)
    return handling


def handling_verify(*, actor: Principal, handling_id: int, verdict: str, verification: str, explanation: str = "",
                    problem: str = "", measure: str = "", owner_name: str = "", working_days: int | None = None) -> BadReviewHandling:
    """核实. Confirmed → a rectification (problem, measure, owner, deadline in working days,
    default 10); no legal basis → an explanation to the citizen; mistaken → the site may appeal."""
    # Every field checked before anything is refused: the form shows all its mistakes at once.
    errors = FieldErrors()
    if verdict not in BadReviewHandling.Verdict.values:
        errors.add("verdict", "请选择核实结论")
    verification = errors.run(_text, verification, "verification", "核实情况")
    if verdict == BadReviewHandling.Verdict.CONFIRMED:
        errors.run(_text, problem, "problem", "存在问题", required=False)
        errors.run(_text, measure, "measure", "整改措施")
        errors.run(_text, owner_name, "owner_name", "责任人", limit=50)
        errors.run(_days, working_days)
    elif verdict == BadReviewHandling.Verdict.NO_BASIS:
        errors.run(_text, explanation, "explanation", "解释说明")
    errors.raise_if_any()
    with transaction.atomic():
        handling = _locked_handling(actor, handling_id, "verify")
        workflow.check(handling, "verify")
        handling.verdict = verdict
        handling.verification = verification
        handling.verified_at = timezone.now()
        if verdict == BadReviewHandling.Verdict.CONFIRMED:
            rect = rectification_open(
                actor=actor, source=Rectification.Source.BAD_REVIEW, area=handling.area, site=handling.site,
                problem=problem or verification, measure=_text(measure, "measure", "整改措施"),
                owner_name=_text(owner_name, "owner_name", "责任人", limit=50), working_days=working_days,
                source_ref=f"bad_review:{handling.pk}")
            handling.rectification = rect
            _event(handling, HandlingEvent.Kind.VERIFIED, actor, f"情况属实：{verification}")
            _event(handling, HandlingEvent.Kind.RECTIFICATION, actor,
                   f"整改措施：{rect.measure}；责任人：{rect.owner_name}；期限：{rect.deadline}")
        elif verdict == BadReviewHandling.Verdict.NO_BASIS:
            handling.explanation = _text(explanation, "explanation", "解释说明")
            _event(handling, HandlingEvent.Kind.VERIFIED, actor, f"诉求无法律依据：{verification}")
            _event(handling, HandlingEvent.Kind.EXPLAINED, actor, handling.explanation)
        else:
            _event(handling, HandlingEvent.Kind.VERIFIED, actor, f"误评或恶意评价：{verification}")
        workflow.move(handling, "verify", target=workflow.VERIFY_TARGETS[verdict])
        handling.save()
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=handling, area_code=handling.area.code,
              changes={"verdict": verdict, "status": handling.status})
    return handling


def _mark_followed_up(handling: BadReviewHandling, *, actor, satisfied: bool | None, result: str) -> None:
    """The citizen was reached about this bad review. Counts for 差评回访率 at the first contact;
    after rectification or explanation it completes the 回访 step."""
    now = timezone.now()
    if handling.followed_up_at is None:
        handling.followed_up_at = now
    handling.follow_up_result = result or handling.follow_up_result
    if satisfied is not None:
        handling.citizen_satisfied = satisfied
    if workflow.allowed(handling, "follow_up"):
        workflow.move(handling, "follow_up")
    handling.save()
    _event(handling, HandlingEvent.Kind.FOLLOWED_UP, actor, result)


def handling_follow_up(*, actor: Principal, handling_id: int, satisfied: bool | None, result: str) -> BadReviewHandling:
    """回访 of a bad review: the follow-up agent's work (FOLLOWUP_WORK), not the unit that was
    complained about and rectified (issue 22.7)."""
    result = _text(result, "result", "回访情况")
    with transaction.atomic():
        handling = _locked_handling(actor, handling_id, "follow_up")
        workflow.check(handling, "follow_up")
        _mark_followed_up(handling, actor=actor, satisfied=satisfied, result=result)
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=handling, area_code=handling.area.code,
              changes={"status": handling.status, "satisfied": satisfied})
    return handling


def handling_rectified(*, actor: Principal, handling_id: int, result: str) -> BadReviewHandling:
    """整改完成 from the handling page: whose step and when checked on the handling (403, 409)
    before its rectification in the ledger is marked done (which moves the handling on)."""
    with transaction.atomic():
        handling = _locked_handling(actor, handling_id, "rectified")
        workflow.check(handling, "rectified")
        rectification_complete(actor=actor, rectification_id=handling.rectification_id, result=result)
        handling.refresh_from_db()
    return handling


def _outcome(handling: BadReviewHandling) -> dict:
    rect = handling.rectification
    return {
        "status": handling.status, "verdict": handling.verdict, "verification": handling.verification,
        "explanation": handling.explanation,
        "rectification": {"measure": rect.measure, "deadline": rect.deadline.isoformat(), "result": rect.result,
                          "done_on": rect.done_on.isoformat() if rect.done_on else None} if rect else None,
        "followed_up": handling.followed_up_at is not None, "citizen_satisfied": handling.citizen_satisfied,
        "appeal": handling.appeal_decision, "closed_at": handling.closed_at.isoformat() if handling.closed_at else None,
    }


def _close(handling: BadReviewHandling, actor, text: str, *, action: str = "close") -> None:
    from bianmin.evaluations.models import ProvincialReport
    from bianmin.evaluations.services import report_to_province

    workflow.move(handling, action, target=H.CLOSED)  # "close", or an upheld "decide"
    handling.closed_at = timezone.now()
    handling.save()
    _event(handling, HandlingEvent.Kind.CLOSED, actor, text)
    # The outcome goes upward in the same transaction, after the evaluation's own report (same
    # ordering key: delivered in order per case).
    report_to_province(evaluation=handling.evaluation, event=ProvincialReport.Event.OUTCOME, outcome=_outcome(handling))


def handling_close(*, actor: Principal, handling_id: int, note: str = "") -> BadReviewHandling:
    with transaction.atomic():
        handling = _locked_handling(actor, handling_id, "close")
        workflow.check(handling, "close")
        _close(handling, actor, note or "差评处理办结")
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=handling, area_code=handling.area.code,
              changes={"status": H.CLOSED})
    return handling


MAX_EVIDENCE_FILES = 10


def _checked_evidence(files) -> list[tuple[str, bytes]]:
    """Every file checked before anything is written, so a bad file among good ones leaves no
    trace: the platform's one upload policy (``cases.uploads``: size 413, empty 422, type by
    content 415, names cleaned)."""
    from bianmin.core.uploads import check_files

    return [(f.name, f.data) for f in check_files(files, field="files", label="证据文件", max_count=MAX_EVIDENCE_FILES,
                                                  default_name="证据")]


def _store_evidence(handling: BadReviewHandling, actor: Principal, files: list[tuple[str, bytes]]) -> list[AppealEvidence]:
    """Inside ``atomic_with_uploads``: a failure after the files were written removes them."""
    from bianmin.cases.services import store_file

    rows = []
    for name, data in files:
        stored = store_file(data=data, name=name, field="files")
        rows.append(AppealEvidence.objects.create(handling=handling, file=stored, file_name=name,
                                                  uploaded_by=_label(actor)))
    return rows


def handling_appeal(*, actor: Principal, handling_id: int, reason: str, evidence: str = "",
                    files=()) -> BadReviewHandling:
    """申诉: the site considers the review mistaken or malicious; the level above decides.
    Evidence is a description, files (``[(name, bytes)]``: a video still, photos, a signed
    statement), or both; at least one of them."""
    reason = _text(reason, "reason", "申诉理由")
    files = _checked_evidence(files)
    evidence = _text(evidence, "evidence", "申诉证据", required=not files)
    with atomic_with_uploads():
        handling = _locked_handling(actor, handling_id, "appeal")  # 回避: not the level that decides it
        workflow.move(handling, "appeal")
        handling.appeal_reason, handling.appeal_evidence = reason, evidence
        handling.appealed_at = timezone.now()
        handling.save()
        rows = _store_evidence(handling, actor, files)
        names = "、".join(r.file_name for r in rows)
        _event(handling, HandlingEvent.Kind.APPEALED, actor,
               f"{reason}（证据：{evidence or '见附件'}{'；附件：' + names if names else ''}）")
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=handling, area_code=handling.area.code,
              changes={"status": H.APPEALED, "evidence_files": [[r.file_name, r.file.sha256] for r in rows]})
    return handling


def handling_appeal_evidence_add(*, actor: Principal, handling_id: int, files) -> list[AppealEvidence]:
    """More evidence for an appeal still waiting for the level above (never after the decision:
    what was decided on stays what was on file). Evidence is the appealing side's: the level
    that decides the appeal (BADREVIEW_DECIDE above the handling's area, the same test as
    ``handling_appeal_decide``) may not add to the file it judges (403), whatever the page shows."""
    with atomic_with_uploads():
        # Who (403), then when (409), then what (413/415/422): the deciding level hears "not
        # yours" whatever file it sent.
        handling = _locked_handling(actor, handling_id, "evidence")
        workflow.check(handling, "evidence")
        files = _checked_evidence(files)
        if not files:
            raise Invalid("请选择证据文件", field="files")
        if handling.evidence_files.count() + len(files) > MAX_EVIDENCE_FILES:
            raise Invalid(f"每件申诉最多 {MAX_EVIDENCE_FILES} 个证据文件", field="files")
        rows = _store_evidence(handling, actor, files)
        _event(handling, HandlingEvent.Kind.EVIDENCE_ADDED, actor, "、".join(r.file_name for r in rows))
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=handling, area_code=handling.area.code,
              changes={"evidence_files": [[r.file_name, r.file.sha256] for r in rows]})
    return rows


def appeal_evidence_open(*, actor: Principal, handling_id: int, evidence_id: int):
    """One evidence file for download: (row, open file). In the caller's scope only (404
    otherwise); every download leaves an audit row."""
    from django.core.files.storage import default_storage

    with transaction.atomic():
        handling = get_scoped(BadReviewHandling.objects.select_related("area"), actor, Cap.VIEW, pk=handling_id)
        row = handling.evidence_files.select_related("file").filter(pk=evidence_id).first()
        if row is None:
            raise NotFound("未找到该证据文件")
        try:
            fh = default_storage.open(row.file.path, "rb")
        except FileNotFoundError:
            raise NotFound("证据文件在存储中缺失，请联系系统管理员从备份恢复") from None
        audit(actor=actor, action=AuditEntry.Action.EXPORT, target=row, area_code=handling.area.code,
              changes={"handling": handling.pk, "file": row.file_name, "sha256": row.file.sha256})
    return row, fh


def handling_appeal_decide(*, actor: Principal, handling_id: int, upheld: bool, note: str) -> BadReviewHandling:
    """复核 by the level above the handling's area: upheld → the evaluation leaves the figures
    (kept, marked) and the handling closes; rejected → handling resumes where it was."""
    from bianmin.evaluations.services import evaluation_set_excluded

    note = _text(note, "note", "复核意见")
    with transaction.atomic():
        # 上级复核: the decider's grant must cover the level above, not only the handling's own area.
        handling = _locked_handling(actor, handling_id, "decide")
        workflow.check(handling, "decide")
        handling.appeal_decision = (BadReviewHandling.AppealDecision.UPHELD if upheld
                                    else BadReviewHandling.AppealDecision.REJECTED)
        handling.appeal_decided_at = timezone.now()
        handling.appeal_decided_by = actor.user
        _event(handling, HandlingEvent.Kind.APPEAL_DECIDED, actor,
               f"{handling.get_appeal_decision_display()}：{note}")
        if upheld:
            evaluation_set_excluded(actor=actor, evaluation=handling.evaluation, excluded=True,
                                    reason=f"差评申诉成立：{note}")
            _close(handling, actor, "申诉成立，差评不计入统计", action="decide")
        else:
            workflow.move(handling, "decide", target=workflow.PREVIOUS)
            handling.save()
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=handling, area_code=handling.area.code,
              changes={"appeal_decision": handling.appeal_decision})
    return handling


# --- the daily follow-up list ----------------------------------------------------------------

def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, start + timedelta(days=1)


def draw_sample(candidate_ids: list[int], *, seed: int, rate: Decimal) -> list[int]:
    """The reproducible draw: candidates in id order, each kept when the seeded generator's next
    number falls under the rate. The same seed, rate and candidates give the same sample."""
    rng = random.Random(seed)
    threshold = float(rate)
    return [pk for pk in sorted(candidate_ids) if rng.random() < threshold]


def followup_list_build(*, day: date, area, actor: Principal | None = None, sample_rate: Decimal | None = None,
                        seed: int | None = None, max_tries: int | None = None) -> FollowUpList:
    """The day's call list for ``area``, from the rules: every unsatisfied evaluation of the day
    before, every 跑多趟 case completed the day before, a random sample of the satisfied ones,
    appeals replied the day before, and yesterday's unreached citizens (up to ``max_tries``). A bad
    review whose handling has already reached the citizen is not listed: they are not called twice.

    ``actor``: who asks — FOLLOWUP_WORK at ``area`` is checked here, whatever the caller checked
    (404 outside the scope, 403 without the capability), before an existing list is returned;
    None is the daily job. Idempotent: an existing list for (day, area) is returned as it is (its
    draw is not redone)."""
    from bianmin.appeals.models import Appeal
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation

    if actor is not None:
        require(actor, Cap.FOLLOWUP_WORK, area)
    existing = FollowUpList.objects.filter(day=day, area=area).first()
    if existing is not None:
        return existing
    rate = sample_rate_default() if sample_rate is None else Decimal(str(sample_rate))
    if not Decimal("0") <= rate <= Decimal("1"):
        raise Invalid("抽样比例应在 0 至 1 之间", field="sample_rate")
    tries = max_tries or max_tries_default()
    seed = secrets.randbits(62) if seed is None else int(seed)
    start, end = _day_bounds(day - timedelta(days=1))
    under = {"area__path__startswith": area.path}

    with transaction.atomic():
        fl = FollowUpList(day=day, area=area, seed=seed, sample_rate=rate, max_tries=tries)
        try:
            with transaction.atomic():
                fl.save()
        except IntegrityError:
            return FollowUpList.objects.get(day=day, area=area)
        rows: list[FollowUp] = []
        listed_cases: set[int] = set()

        def add(reason, *, case=None, evaluation=None, appeal=None, handling=None, name="", phone="", site_id=None,
                area_id=None, attempt=1, first_try=None):
            rows.append(FollowUp(
                follow_list=fl, reason=reason, area_id=area_id or area.pk, site_id=site_id, case=case,
                evaluation=evaluation, appeal=appeal, handling=handling, contact_name=name[:100],
                contact_phone=phone[:20], attempt=attempt, first_try=first_try))

        evaluations = (Evaluation.objects.filter(evaluated_at__gte=start, evaluated_at__lt=end, is_default=False,
                                                 excluded=False, **under)
                       .select_related("case", "handling").order_by("id"))
        satisfied_ids: dict[int, Evaluation] = {}
        for e in evaluations:
            if e.is_bad:
                handling = getattr(e, "handling", None)
                if e.case_id in listed_cases or (handling is not None and handling.followed_up_at is not None):
                    continue
                listed_cases.add(e.case_id)
                add(FollowUp.Reason.UNSATISFIED, case=e.case, evaluation=e, handling=handling,
                    name=e.case.contact_name or e.case.applicant_name, phone=e.case.mobile, site_id=e.site_id,
                    area_id=e.area_id)
            else:
                satisfied_ids[e.pk] = e
        multi = (Case.objects.filter(state="completed", completed_at__gte=start, completed_at__lt=end,
                                     visit_count__gt=1, site__area__path__startswith=area.path)
                 .select_related("site").order_by("id"))
        for case in multi:
            if case.pk in listed_cases:
                continue
            listed_cases.add(case.pk)
            add(FollowUp.Reason.MULTI_TRIP, case=case, name=case.contact_name or case.applicant_name, phone=case.mobile,
                site_id=case.site_id, area_id=case.site.area_id)
        candidates = [pk for pk, e in satisfied_ids.items() if e.case_id not in listed_cases]
        for pk in draw_sample(candidates, seed=seed, rate=rate):
            e = satisfied_ids[pk]
            listed_cases.add(e.case_id)
            add(FollowUp.Reason.SAMPLE, case=e.case, evaluation=e, name=e.case.contact_name or e.case.applicant_name,
                phone=e.case.mobile, site_id=e.site_id, area_id=e.area_id)
        appeals = (Appeal.objects.filter(replied_at__gte=start, replied_at__lt=end, **under)
                   .exclude(party_type="anonymous").exclude(mobile="").order_by("id"))
        for a in appeals:
            add(FollowUp.Reason.APPEAL, appeal=a, name=a.name or a.enterprise_name, phone=a.mobile,
                site_id=a.site_id, area_id=a.area_id)
        # Yesterday's (and earlier) unreached citizens, once each, while tries remain.
        retry = list(FollowUp.objects.filter(outcome=FollowUp.Outcome.UNREACHED, **under)
                     .exclude(follow_list=fl).select_related("case", "handling").order_by("id"))
        # Only the latest attempt of a chain is retried (every retry points at the chain's first try).
        latest = dict(FollowUp.objects.filter(first_try__isnull=False, **under).values("first_try_id")
                      .annotate(m=Max("attempt")).values_list("first_try_id", "m"))
        for old in retry:
            if old.attempt >= tries or latest.get(old.first_try_id or old.pk, old.attempt) > old.attempt:
                continue
            if old.handling is not None and old.handling.followed_up_at is not None:
                continue  # the handling reached the citizen meanwhile
            if old.case_id and old.case_id in listed_cases:
                continue
            if old.case_id:
                listed_cases.add(old.case_id)
            add(old.reason, case=old.case, evaluation=old.evaluation, appeal=old.appeal, handling=old.handling,
                name=old.contact_name, phone=old.contact_phone, site_id=old.site_id, area_id=old.area_id,
                attempt=old.attempt + 1, first_try=old.first_try or old)
        FollowUp.objects.bulk_create(rows)
        stats: dict[str, int] = {}
        for r in rows:
            key = "retry" if r.attempt > 1 else r.reason
            stats[key] = stats.get(key, 0) + 1
        stats["satisfied_candidates"] = len(candidates)
        fl.stats = stats
        fl.save(update_fields=["stats"])
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=fl, area_code=area.code,
              changes={"seed": seed, "rate": str(rate), "stats": stats})
    return fl


def followup_lists_build_daily(*, day: date | None = None) -> int:
    """The daily job: one list per district (the 回访 teams sit at district offices)."""
    from bianmin.regions.models import Area

    day = day or timezone.localdate()
    n = 0
    for area in Area.objects.filter(level="district"):
        followup_list_build(day=day, area=area)
        n += 1
    return n


def followup_record(*, actor: Principal, followup_id: int, outcome: str, satisfaction: str = "", notes: str = "",
                    problem: str = "", measure: str = "", owner_name: str = "", working_days: int | None = None) -> FollowUp:
    """An agent's result for one entry: reached / not reached / refused, satisfaction, notes, and
    problems found → a rectification in the ledger."""
    errors = FieldErrors()
    if outcome not in (FollowUp.Outcome.REACHED, FollowUp.Outcome.UNREACHED, FollowUp.Outcome.REFUSED):
        errors.add("outcome", "请选择回访结果（已联系、未接通或拒绝回访）")
    if satisfaction and satisfaction not in FollowUp.Satisfaction.values:
        errors.add("satisfaction", "满意度取值无效")
    if outcome == FollowUp.Outcome.REACHED and not satisfaction:
        errors.add("satisfaction", "已联系的回访请记录群众满意度")
    notes = errors.run(_text, notes, "notes", "回访记录", required=outcome == FollowUp.Outcome.REACHED)
    problem = errors.run(_text, problem, "problem", "发现问题", required=False)
    if problem and outcome == FollowUp.Outcome.REACHED:
        errors.run(_text, measure, "measure", "整改措施", required=False)
        errors.run(_text, owner_name, "owner_name", "责任人", required=False, limit=50)
        errors.run(_days, working_days)
    errors.raise_if_any()
    with transaction.atomic():
        fu = get_scoped(FollowUp.objects.select_for_update(of=("self",)).select_related("area", "follow_list", "handling"),
                        actor, Cap.FOLLOWUP_WORK, pk=followup_id)
        if fu.is_done:
            raise Conflict("该回访已记录结果")
        if outcome == FollowUp.Outcome.UNREACHED and fu.attempt >= (fu.follow_list.max_tries if fu.follow_list else 1):
            outcome = FollowUp.Outcome.GAVE_UP
        fu.outcome = outcome
        fu.satisfaction = satisfaction if outcome == FollowUp.Outcome.REACHED else ""
        fu.notes, fu.problem = notes, problem
        fu.agent = actor.user
        fu.done_at = timezone.now()
        if problem and outcome == FollowUp.Outcome.REACHED:
            fu.rectification = rectification_open(
                actor=actor, source=Rectification.Source.FOLLOW_UP, area=fu.area, site=fu.site, problem=problem,
                measure=measure, owner_name=owner_name, working_days=working_days, source_ref=f"followup:{fu.pk}")
        fu.save()
        if outcome == FollowUp.Outcome.REACHED and fu.evaluation_id:
            handling = (BadReviewHandling.objects.select_for_update()
                        .filter(evaluation_id=fu.evaluation_id).exclude(status=H.CLOSED).first())
            if handling is not None:
                _mark_followed_up(handling, actor=actor, satisfied=satisfaction in ("satisfied", "basic"),
                                  result=f"{fu.get_method_display()}：{notes}")
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=fu, area_code=fu.area.code,
              changes={"outcome": outcome, "satisfaction": fu.satisfaction, "problem": bool(problem)})
    return fu


def followup_log(*, actor: Principal, area, method: str, contact_name: str, contact_phone: str = "", address: str = "",
                 case=None, site=None, outcome: str = FollowUp.Outcome.REACHED, satisfaction: str = "", notes: str = "",
                 problem: str = "", measure: str = "", owner_name: str = "") -> FollowUp:
    """A home visit, a call or a questionnaire outside the daily list, recorded like a call.
    ``site``: the site the visit is about when there is no case (a campaign's 上门回访)."""
    require(actor, Cap.FOLLOWUP_WORK, area)
    if site is not None and not site.area.path.startswith(area.path):
        raise Invalid("服务场所不在该区划内", field="site")
    if method not in FollowUp.Method.values:
        raise Invalid("回访方式无效", field="method")
    contact_name = _text(contact_name, "contact_name", "回访对象", limit=100)
    with transaction.atomic():
        fu = FollowUp(reason=FollowUp.Reason.MANUAL, method=method, area=area, case=case,
                      site_id=case.site_id if case is not None else (site.pk if site is not None else None),
                      contact_name=contact_name,
                      contact_phone=(contact_phone or "")[:20], address=(address or "")[:200])
        fu.full_clean(validate_unique=False, validate_constraints=False)
        fu.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=fu, area_code=area.code, changes={"method": method})
        return followup_record(actor=actor, followup_id=fu.pk, outcome=outcome, satisfaction=satisfaction, notes=notes,
                               problem=problem, measure=measure, owner_name=owner_name)


# --- questionnaires --------------------------------------------------------------------------

def questionnaire_create(*, actor: Principal, area, title: str, intro: str = "", questions: list[dict],
                         capability: str = Cap.FOLLOWUP_WORK) -> Questionnaire:
    """``capability``: the apps after followups that own a questionnaire (engagement's trainings
    and campaigns) check their own capability at the area; the questionnaire stays this one."""
    require(actor, capability, area)
    title = _text(title, "title", "问卷标题", limit=200)
    if not questions:
        raise Invalid("问卷至少需要一道题", field="questions")
    with transaction.atomic():
        q = Questionnaire.objects.create(title=title, intro=_text(intro, "intro", "说明", required=False), area=area,
                                         created_by=actor.user)
        for i, spec in enumerate(questions, start=1):
            kind = spec.get("kind")
            if kind not in Question.Kind.values:
                raise Invalid(f"第 {i} 题题型无效", field="questions")
            text = _text(spec.get("text"), "questions", f"第 {i} 题题目", limit=300)
            options = [str(o).strip() for o in spec.get("options") or [] if str(o).strip()]
            if kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE) and len(options) < 2:
                raise Invalid(f"第 {i} 题（选择题）至少需要两个选项", field="questions")
            Question.objects.create(questionnaire=q, position=i, kind=kind, text=text,
                                    options=options if kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE) else [],
                                    required=bool(spec.get("required", True)))
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=q, area_code=area.code,
              changes={"questions": len(questions)})
    return q


def survey_url(invitation: SurveyInvitation) -> str:
    from django.urls import reverse

    from bianmin.core.public_url import public_url

    return public_url(reverse("followups:survey", args=[invitation.token]))


def survey_send(*, actor: Principal, questionnaire_id: int, phones: list[str], case=None,
                capability: str = Cap.FOLLOWUP_WORK) -> int:
    """Send the questionnaire's link by SMS (outbox: delayed by an outage, never lost or doubled).
    A phone already invited to this questionnaire is not invited again."""
    from django.core.exceptions import ValidationError

    from bianmin.core.outbox import enqueue
    from bianmin.core.validators import validate_mobile

    q = get_scoped(Questionnaire.objects.all(), actor, capability, pk=questionnaire_id)
    if not q.active:
        raise Conflict("问卷已停止收集")
    clean = []
    for raw in phones:
        try:
            clean.append(validate_mobile(str(raw).strip()))
        except ValidationError:
            raise Invalid(f"手机号码“{raw}”格式不正确", field="phones") from None
    sent = 0
    with transaction.atomic():
        for phone in dict.fromkeys(clean):
            inv, created = SurveyInvitation.objects.get_or_create(
                questionnaire=q, phone=phone, defaults={"token": secrets.token_urlsafe(16), "case": case})
            if not created:
                continue
            enqueue(channel="sms", recipient=phone, dedupe_key=f"survey:{inv.pk}", ordering_key=f"sms:{phone}",
                    payload={"text": f"【便民服务】邀请您参加“{q.title}”问卷调查：{survey_url(inv)}"})
            sent += 1
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=q, area_code=q.area.code, changes={"sent": sent})
    return sent


def survey_clean_answers(questionnaire: Questionnaire, answers: dict) -> dict:
    """The answers checked against the questions (keys are the questions' positions): a choice
    among the options, a score of 1 to 5, text within 1000 characters, the required ones given."""
    clean: dict[str, object] = {}
    for question in questionnaire.questions.all():
        key = str(question.position)
        raw = answers.get(key)
        if question.kind == Question.Kind.MULTIPLE:
            values = [v for v in (raw or []) if v] if isinstance(raw, list | tuple) else ([raw] if raw else [])
            bad = [v for v in values if v not in question.options]
            if bad:
                raise Invalid(f"第 {key} 题选项无效", field=key)
            value: object = values
            empty = not values
        elif question.kind == Question.Kind.SINGLE:
            value = (raw or "").strip() if isinstance(raw, str) else ""
            if value and value not in question.options:
                raise Invalid(f"第 {key} 题选项无效", field=key)
            empty = not value
        elif question.kind == Question.Kind.SCALE:
            try:
                value = int(raw) if raw not in (None, "") else None
            except (TypeError, ValueError):
                raise Invalid(f"第 {key} 题请打 1 至 5 分", field=key) from None
            if value is not None and not 1 <= value <= 5:
                raise Invalid(f"第 {key} 题请打 1 至 5 分", field=key)
            empty = value is None
        else:
            value = (raw or "").strip() if isinstance(raw, str) else ""
            if len(value) > 1000:
                raise Invalid(f"第 {key} 题回答不能超过 1000 字", field=key)
            empty = not value
        if question.required and empty:
            raise Invalid(f"第 {key} 题为必答题", field=key)
        clean[key] = value
    return clean


def survey_answer(*, token: str, answers: dict) -> SurveyResponse:
    inv = SurveyInvitation.objects.select_related("questionnaire").filter(token=token).first()
    if inv is None:
        raise NotFound("问卷链接无效")
    q = inv.questionnaire
    clean = survey_clean_answers(q, answers)
    with transaction.atomic():
        inv = SurveyInvitation.objects.select_for_update().get(pk=inv.pk)
        if inv.answered_at is not None:
            raise Conflict("您已提交过本问卷，感谢参与")
        if not q.active:
            raise Conflict("问卷已停止收集")
        response = SurveyResponse.objects.create(invitation=inv, answers=clean)
        inv.answered_at = response.submitted_at
        inv.save(update_fields=["answered_at"])
        audit(actor=None, action=AuditEntry.Action.CREATE, target=response, area_code=q.area.code,
              changes={"questionnaire": q.pk})
    return response


def survey_record(*, actor: Principal | None, questionnaire_id: int, answers: dict, channel: str,
                  capability: str = Cap.FOLLOWUP_WORK) -> SurveyResponse:
    """One answer sheet without an SMS invitation: a citizen's through a QR code (``actor``
    None: the caller, a public page, has found the questionnaire by its own link), or staff's
    after a home visit or a call (``actor`` holds ``capability`` at the questionnaire's area).
    Inside the caller's transaction when there is one. The sheet has no phone: who answered
    (a visited citizen's contact) is the caller's record, masked there."""
    if channel not in (SurveyInvitation.Channel.QR, SurveyInvitation.Channel.VISIT, SurveyInvitation.Channel.CALL):
        raise Invalid("答卷方式无效", field="channel")
    if actor is None:
        q = Questionnaire.objects.select_related("area").filter(pk=questionnaire_id).first()
        if q is None:
            raise NotFound("问卷不存在")
    else:
        q = get_scoped(Questionnaire.objects.select_related("area"), actor, capability, pk=questionnaire_id)
    if not q.active:
        raise Conflict("问卷已停止收集")
    clean = survey_clean_answers(q, answers)
    now = timezone.now()
    with transaction.atomic():
        inv = SurveyInvitation.objects.create(questionnaire=q, token=secrets.token_urlsafe(16), channel=channel,
                                              sent_at=now, answered_at=now)
        response = SurveyResponse.objects.create(invitation=inv, answers=clean, submitted_at=now)
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=response, area_code=q.area.code,
              changes={"questionnaire": q.pk, "channel": channel})
    return response
