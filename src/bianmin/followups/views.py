"""回访与整改 pages: the desk (daily lists, working an entry), bad-review handling, the three
ledgers with xlsx exports, the rates, home visits, questionnaires, and the public survey page.
Thin: services write, selectors read (scoped); errors become Chinese pages."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_http_methods, require_POST

from bianmin.accounts.principals import principal_of
from bianmin.core.capabilities import Cap
from bianmin.core.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    TooLarge,
    UnsupportedType,
    error_pages,
)
from bianmin.core.masking import mask_mobile, mask_name
from bianmin.core.scoping import area_in_scope, home_area
from bianmin.core.uploads import max_file_bytes, read_upload
from bianmin.core.validators import parse_day

from . import exports, selectors, services
from .models import BadReviewHandling, FollowUp, Question, Rectification

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


domain_errors = error_pages("followups/problem.html")


def _date(raw: str | None, default: date, field: str = "date") -> date:
    return parse_day(raw, field=field, default=default)


def _period(request) -> tuple[date, date]:
    today = timezone.localdate()
    start = _date(request.GET.get("from"), today.replace(day=1), "from")
    end = _date(request.GET.get("to"), today, "to")
    if end < start:
        raise Invalid("结束日期不能早于开始日期", field="to")
    return start, end


def _xlsx(data: bytes, name: str) -> HttpResponse:
    from urllib.parse import quote

    resp = HttpResponse(data, content_type=XLSX)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


def _xlsx_or_job(request, qs, *, kind: str, params: dict, build, name: str):
    """A ledger's xlsx: at once when the filtered rows are few (a capped count, as the pages
    count), otherwise a background export job (导出任务) and the way to "我的导出"."""
    from bianmin.exports.conf import direct_max_rows
    from bianmin.exports.services import export_job_create

    limit = direct_max_rows()
    if qs.order_by().select_related(None)[: limit + 1].count() <= limit:
        return _xlsx(build(qs), name)
    export_job_create(actor=principal_of(request), kind=kind, params=params)
    messages.info(request, "数据较多，已转为后台导出，完成后可在“我的导出”下载。")
    return redirect("exports:list")


def _home_area(actor):
    """The widest area the user works on, for defaults."""
    from bianmin.regions.models import Area

    return home_area(Area.objects.all(), actor, Cap.VIEW)


def _area_param(request, actor):
    from bianmin.regions.models import Area

    code = request.GET.get("area") or request.POST.get("area")
    if not code:
        return _home_area(actor)
    return area_in_scope(Area.objects.all(), actor, Cap.VIEW, code=code, field=None)


# --- the desk ----------------------------------------------------------------------------------

@login_required
@domain_errors
def desk(request):
    actor = principal_of(request)
    today = timezone.localdate()
    lists = list(selectors.followup_lists(actor=actor)[:14])
    handlings = selectors.handling_list(actor=actor).exclude(status=BadReviewHandling.Status.CLOSED)
    flags = {"due_soon": 0, "overdue": 0}
    for h in handlings:
        f = selectors.due_flag(h, today)
        if f:
            flags[f] += 1
    return render(request, "followups/desk.html", {
        "lists": lists, "today": today, "open_handlings": handlings.count(), "flags": flags,
        "home_area": _home_area(actor),
    })


@login_required
@domain_errors
@require_POST
def list_build(request):
    actor = principal_of(request)
    area = _area_param(request, actor)
    day = _date(request.POST.get("day"), timezone.localdate())
    fl = services.followup_list_build(day=day, area=area, actor=actor)
    return redirect("followups:list", fl.pk)


@login_required
@domain_errors
def list_detail(request, list_id: int):
    actor = principal_of(request)
    fl = selectors.followup_list_get(actor=actor, list_id=list_id)
    items = selectors.followup_list_items(actor=actor, fl=fl)
    rows = [{"f": f, "name": mask_name(f.contact_name), "phone": mask_mobile(f.contact_phone)} for f in items]
    return render(request, "followups/list.html", {
        "fl": fl, "rows": rows, "outcomes": FollowUp.Outcome.choices[1:4],
        "satisfactions": FollowUp.Satisfaction.choices[1:], "done": sum(1 for r in rows if r["f"].is_done),
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def followup_work(request, followup_id: int):
    actor = principal_of(request)
    fu = selectors.followup_get(actor=actor, followup_id=followup_id)
    error, errors = None, {}
    if request.method == "POST":
        try:
            services.followup_record(
                actor=actor, followup_id=fu.pk, outcome=request.POST.get("outcome", ""),
                satisfaction=request.POST.get("satisfaction", ""), notes=request.POST.get("notes", ""),
                problem=request.POST.get("problem", ""), measure=request.POST.get("measure", ""),
                owner_name=request.POST.get("owner_name", ""), working_days=request.POST.get("working_days") or None)
        except Invalid as exc:
            error, errors = exc.message, exc.field_errors
        else:
            messages.success(request, "回访结果已记录。")
            if fu.follow_list_id:
                return redirect("followups:list", fu.follow_list_id)
            return redirect("followups:ledger-followups")
    phone = mask_mobile(fu.contact_phone)
    return render(request, "followups/work.html", {
        "fu": fu, "name": mask_name(fu.contact_name), "phone": phone, "error": error, "errors": errors,
        "values": request.POST,
        "outcomes": FollowUp.Outcome.choices[1:4], "satisfactions": FollowUp.Satisfaction.choices[1:],
    }, status=422 if error else 200)


@login_required
@domain_errors
@require_POST
def followup_unmask(request, followup_id: int):
    """Show the full phone number to call: a permission, audited (accounts.unmask)."""
    from bianmin.accounts.services import unmask

    actor = principal_of(request)
    fu = selectors.followup_get(actor=actor, followup_id=followup_id)
    phone = unmask(actor=actor, record=fu, field="contact_phone", value=fu.contact_phone, area=fu.area)
    return render(request, "followups/work.html", {
        "fu": fu, "name": fu.contact_name, "phone": phone, "values": {}, "unmasked": True,
        "outcomes": FollowUp.Outcome.choices[1:4], "satisfactions": FollowUp.Satisfaction.choices[1:],
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def visit_new(request):
    """A home visit (上门回访) or a call outside the list, recorded like a call."""
    actor = principal_of(request)
    error = None
    if request.method == "POST":
        try:
            area = _area_param(request, actor)
            services.followup_log(
                actor=actor, area=area, method=request.POST.get("method", "visit"),
                contact_name=request.POST.get("contact_name", ""), contact_phone=request.POST.get("contact_phone", ""),
                address=request.POST.get("address", ""), outcome=request.POST.get("outcome", "reached"),
                satisfaction=request.POST.get("satisfaction", ""), notes=request.POST.get("notes", ""),
                problem=request.POST.get("problem", ""), measure=request.POST.get("measure", ""),
                owner_name=request.POST.get("owner_name", ""))
        except Invalid as exc:
            error = exc.message
        else:
            messages.success(request, "回访记录已保存。")
            return redirect("followups:ledger-followups")
    return render(request, "followups/visit.html", {
        "error": error, "values": request.POST, "home_area": _home_area(actor),
        "methods": FollowUp.Method.choices, "outcomes": FollowUp.Outcome.choices[1:4],
        "satisfactions": FollowUp.Satisfaction.choices[1:],
    }, status=422 if error else 200)


# --- bad-review handling -----------------------------------------------------------------------

@login_required
@domain_errors
def handling_list(request):
    actor = principal_of(request)
    status = request.GET.get("status") or None
    flag = request.GET.get("flag") or None
    today = timezone.localdate()
    qs = selectors.handling_list(actor=actor, status=status if status in BadReviewHandling.Status.values else None,
                                 flag=flag)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = [{"h": h, "flag": selectors.due_flag(h, today), "due": selectors.stage_due(h)} for h in page]
    return render(request, "followups/handling_list.html", {
        "page": page, "rows": rows, "statuses": BadReviewHandling.Status.choices, "status": status or "",
        "flag": flag or "",
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def handling_detail(request, handling_id: int):
    actor = principal_of(request)
    h = selectors.handling_get(actor=actor, handling_id=handling_id)
    error, errors, status = None, {}, 200
    if request.method == "POST":
        action = request.POST.get("action")
        p = request.POST
        try:
            if action == "verify":
                services.handling_verify(actor=actor, handling_id=h.pk, verdict=p.get("verdict", ""),
                                         verification=p.get("verification", ""), explanation=p.get("explanation", ""),
                                         problem=p.get("problem", ""), measure=p.get("measure", ""),
                                         owner_name=p.get("owner_name", ""), working_days=p.get("working_days") or None)
            elif action == "rectified":
                services.handling_rectified(actor=actor, handling_id=h.pk, result=p.get("result", ""))
            elif action == "follow_up":
                sat = p.get("satisfied")
                services.handling_follow_up(actor=actor, handling_id=h.pk,
                                            satisfied=None if sat in (None, "") else sat == "1", result=p.get("result", ""))
            elif action == "close":
                services.handling_close(actor=actor, handling_id=h.pk, note=p.get("note", ""))
            elif action == "appeal":
                services.handling_appeal(actor=actor, handling_id=h.pk, reason=p.get("reason", ""),
                                         evidence=p.get("evidence", ""), files=_uploads(request))
            elif action == "evidence":
                services.handling_appeal_evidence_add(actor=actor, handling_id=h.pk, files=_uploads(request))
            elif action == "decide":
                services.handling_appeal_decide(actor=actor, handling_id=h.pk, upheld=p.get("upheld") == "1",
                                                note=p.get("note", ""))
            else:
                raise Invalid("未知操作", field="action")
        except (Invalid, TooLarge, UnsupportedType) as exc:
            error, errors, status = exc.message, exc.field_errors, exc.status
        else:
            messages.success(request, "已保存。")
            return redirect("followups:handling", h.pk)
    h = selectors.handling_get(actor=actor, handling_id=handling_id)
    return render(request, "followups/handling.html", {
        "h": h, "e": h.evaluation, "events": h.events.all(), "error": error, "errors": errors, "values": request.POST,
        "flag": selectors.due_flag(h), "due": selectors.stage_due(h), "verdicts": BadReviewHandling.Verdict.choices,
        "actions": selectors.handling_actions(actor=actor, h=h),
        "decided_above": h.area.parent_id is not None,
        "default_days": services.rectification_default_days(),
        "applicant": mask_name(h.case.applicant_name),
        "evidence_files": h.evidence_files.select_related("file"),
        "max_file_mb": max_file_bytes() // (1024 * 1024), "max_files": services.MAX_EVIDENCE_FILES,
    }, status=status)


def _uploads(request) -> list[tuple[str, bytes]]:
    """The uploaded evidence files as (name, bytes); one too large is refused (413) before it is
    read into memory (Django has spooled it to a temporary file)."""
    return [read_upload(f, field="files", label="证据文件") for f in request.FILES.getlist("files")]


@login_required
@domain_errors
def evidence_download(request, handling_id: int, evidence_id: int):
    row, fh = services.appeal_evidence_open(actor=principal_of(request), handling_id=handling_id,
                                            evidence_id=evidence_id)
    return FileResponse(fh, content_type=row.file.content_type, as_attachment=True, filename=row.file_name)


# --- ledgers -----------------------------------------------------------------------------------

LEDGER_PAGE = 50
LEDGER_COUNT_CAP = 10_000  # 200 pages


class CappedPaginator(Paginator):
    """The ledgers' pages count at most ``LEDGER_COUNT_CAP`` rows (``capped`` says there are more).

    Why: an exact COUNT of a city-year ledger visits every row of the period (a million
    follow-ups at 10M evaluations: over a second on both engines, on every page view), while a
    page itself reads 50 rows from an index in the ledger's order. Counting through a LIMIT
    stops at the cap, so every page costs about the same whatever the period. Beyond 200
    pages, people narrow the period or take the xlsx export (which has every row)."""

    cap = LEDGER_COUNT_CAP

    @cached_property
    def count(self) -> int:
        # no ordering and no select_related joins in the count: only the filtered rows, up to the cap
        n = self.object_list.order_by().select_related(None)[: self.cap + 1].count()
        self.capped = n > self.cap
        return min(n, self.cap)

    capped = False

    def page(self, number):
        """A late row lookup: the page's ids first (a walk of the ledger's index, no joins, so a
        deep page's OFFSET skips index entries, not joined rows), then those rows with their
        related records by primary key."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        ids = list(self.object_list.select_related(None).values_list("pk", flat=True)[bottom:top])
        rows = self.object_list.model._default_manager.filter(pk__in=ids)
        rows.query.select_related = self.object_list.query.select_related
        position = {pk: i for i, pk in enumerate(ids)}
        return self._get_page(sorted(rows, key=lambda r: position[r.pk]), number, self)


def _ledger_page(qs, request):
    return CappedPaginator(qs, LEDGER_PAGE).get_page(request.GET.get("page"))


@login_required
@domain_errors
def ledger_followups(request):
    actor = principal_of(request)
    start, end = _period(request)
    qs = selectors.followup_ledger(actor=actor, start=start, end=end)
    if request.GET.get("format") == "xlsx":
        return _xlsx_or_job(request, qs, kind="followups.followups", params={"from": str(start), "to": str(end)},
                            build=exports.followup_ledger_xlsx, name=f"回访台账_{start}_{end}.xlsx")
    page = _ledger_page(qs, request)
    rows = [{"f": f, "name": mask_name(f.contact_name), "phone": mask_mobile(f.contact_phone)} for f in page]
    return render(request, "followups/ledger_followups.html", {"page": page, "rows": rows, "start": start, "end": end})


@login_required
@domain_errors
def ledger_problems(request):
    actor = principal_of(request)
    start, end = _period(request)
    qs = selectors.problem_list(actor=actor, start=start, end=end)
    if request.GET.get("format") == "xlsx":
        return _xlsx_or_job(request, qs, kind="followups.problems", params={"from": str(start), "to": str(end)},
                            build=exports.problem_list_xlsx, name=f"问题清单_{start}_{end}.xlsx")
    page = _ledger_page(qs, request)
    return render(request, "followups/ledger_problems.html", {"page": page, "start": start, "end": end})


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def ledger_rectifications(request):
    actor = principal_of(request)
    if request.method == "POST":
        try:
            raw = (request.POST.get("rectification_id") or "0").strip()
            if not raw.isdigit():
                raise NotFound("未找到该整改记录")
            rid = int(raw)
            if request.POST.get("action") == "plan":
                services.rectification_plan(actor=actor, rectification_id=rid, measure=request.POST.get("measure", ""),
                                            owner_name=request.POST.get("owner_name", ""),
                                            working_days=request.POST.get("working_days") or None)
            else:
                services.rectification_complete(actor=actor, rectification_id=rid, result=request.POST.get("result", ""))
            messages.success(request, "整改台账已更新。")
        except (Invalid, Conflict) as exc:
            messages.error(request, "；".join(exc.field_errors.values()))
        return redirect(request.get_full_path())
    start, end = _period(request)
    status = request.GET.get("status") or None
    status = status if status in Rectification.Status.values else None
    source = request.GET.get("source") or None
    source = source if source in Rectification.Source.values else None
    qs = selectors.rectification_ledger(actor=actor, start=start, end=end, status=status, source=source)
    if request.GET.get("format") == "xlsx":
        params = {"from": str(start), "to": str(end)}
        params.update({k: v for k, v in (("status", status), ("source", source)) if v})
        label = f"_{Rectification.Source(source).label}" if source else ""
        return _xlsx_or_job(request, qs, kind="followups.rectifications", params=params,
                            build=exports.rectification_ledger_xlsx, name=f"整改台账{label}_{start}_{end}.xlsx")
    page = _ledger_page(qs, request)
    today = timezone.localdate()
    rows = [{"r": r, "flag": selectors.rectification_flag(r, today),
             "notice": int(r.source_ref.split(":", 1)[1]) if r.source == Rectification.Source.INSPECTION else None}
            for r in page]
    return render(request, "followups/ledger_rectifications.html", {
        "page": page, "rows": rows, "start": start, "end": end, "status": status or "", "source": source or "",
        "sources": Rectification.Source.choices, "statuses": Rectification.Status.choices,
        "on_time": selectors.on_time_by_area(actor=actor, start=start, end=end, source=source, today=today)})


# --- questionnaires ----------------------------------------------------------------------------

def _parse_questions(raw: str) -> list[dict]:
    """One question a line: ``题型|题目|选项1;选项2``; 题型 单选/多选/填空/打分."""
    kinds = {"单选": "single", "多选": "multiple", "填空": "text", "打分": "scale"}
    out = []
    for n, line in enumerate((raw or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or parts[0] not in kinds:
            raise Invalid(f"第 {n} 行格式应为“题型|题目|选项1;选项2”，题型为单选、多选、填空或打分", field="questions")
        options = [o for o in (parts[2].split(";") if len(parts) > 2 else []) if o.strip()]
        out.append({"kind": kinds[parts[0]], "text": parts[1], "options": options})
    return out


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def questionnaire_list(request):
    actor = principal_of(request)
    error = None
    if request.method == "POST":
        try:
            q = services.questionnaire_create(actor=actor, area=_area_param(request, actor),
                                              title=request.POST.get("title", ""), intro=request.POST.get("intro", ""),
                                              questions=_parse_questions(request.POST.get("questions", "")))
        except Invalid as exc:
            error = exc.message
        else:
            return redirect("followups:questionnaire", q.pk)
    return render(request, "followups/questionnaires.html", {
        "items": selectors.questionnaires(actor=actor), "error": error, "values": request.POST,
        "home_area": _home_area(actor),
    }, status=422 if error else 200)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def questionnaire_detail(request, questionnaire_id: int):
    actor = principal_of(request)
    q = selectors.questionnaire_get(actor=actor, questionnaire_id=questionnaire_id)
    if request.method == "POST":
        phones = [p for p in request.POST.get("phones", "").replace("，", ",").replace("\n", ",").split(",") if p.strip()]
        try:
            n = services.survey_send(actor=actor, questionnaire_id=q.pk, phones=phones)
            messages.success(request, f"已发送问卷短信 {n} 条（已邀请过的号码不重复发送）。")
        except Invalid as exc:
            messages.error(request, exc.message)
        return redirect("followups:questionnaire", q.pk)
    if request.GET.get("format") == "xlsx":
        return _xlsx(exports.survey_answers_xlsx(q), f"{q.title}_答卷.xlsx")
    questions = list(q.questions.all())
    responses = [inv.response.answers for inv in q.invitations.filter(answered_at__isnull=False).select_related("response")]
    summary = []
    for question in questions:
        key = str(question.position)
        if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            counts = {o: 0 for o in question.options}
            for a in responses:
                v = a.get(key)
                for choice in (v if isinstance(v, list) else [v] if v else []):
                    counts[choice] = counts.get(choice, 0) + 1
            summary.append((question, list(counts.items())))
        elif question.kind == Question.Kind.SCALE:
            vals = [a.get(key) for a in responses if a.get(key)]
            summary.append((question, [("平均分", f"{sum(vals) / len(vals):.2f}" if vals else "—"), ("答题人数", len(vals))]))
        else:
            summary.append((question, [("填写人数", sum(1 for a in responses if a.get(key)))]))
    return render(request, "followups/questionnaire.html", {
        "q": q, "summary": summary, "invited": q.invitations.count(), "answered": len(responses)})


@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    """The citizen's questionnaire page: no log-in, no JavaScript."""
    from .models import SurveyInvitation

    inv = SurveyInvitation.objects.select_related("questionnaire").filter(token=token).first()
    if inv is None:
        return render(request, "followups/problem.html", {"title": "问卷链接无效", "message": "未找到该问卷，请核对短信中的链接。"},
                      status=404)
    if inv.answered_at is not None:
        return render(request, "followups/problem.html", {"title": "您已提交", "message": "您已提交过本问卷，感谢参与。"},
                      status=410)
    q = inv.questionnaire
    error = None
    if request.method == "POST":
        answers = {}
        for question in q.questions.all():
            key = str(question.position)
            answers[key] = request.POST.getlist(f"q{key}") if question.kind == Question.Kind.MULTIPLE else request.POST.get(f"q{key}", "")
        try:
            services.survey_answer(token=token, answers=answers)
        except DomainError as exc:
            error = exc.message
        else:
            return render(request, "followups/problem.html", {"title": "提交成功", "message": "感谢您参与问卷调查！"})
    return render(request, "followups/survey.html", {"q": q, "questions": q.questions.all(), "error": error,
                                                     "values": request.POST}, status=422 if error else 200)
