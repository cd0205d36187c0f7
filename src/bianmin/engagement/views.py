"""座谈培训与提案 pages: thin — services write, selectors read (scoped); a domain error is shown in
Chinese with its status (a form's error on the form itself). Two public pages without log-in: an
enterprise's training registration and a citizen's campaign questionnaire (QR link)."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bianmin.accounts.principals import principal_of
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError, Invalid, NotFound, error_pages
from bianmin.core.masking import mask_credit_code, mask_mobile, mask_name
from bianmin.core.uploads import read_upload

from . import documents, selectors, services
from .models import (
    Assignment,
    Campaign,
    CampaignEntry,
    MemberRating,
    Opinion,
    PlanItem,
    Proposal,
    ProposalClass,
    Reply,
    Representative,
    Suggestion,
    Symposium,
    Training,
)

domain_errors = error_pages("engagement/problem.html")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _date(raw, field: str, default=None) -> date | None:
    if not raw:
        if default is None:
            raise Invalid("请填写日期", field=field)
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid("日期格式应为 YYYY-MM-DD", field=field) from None


def _int(raw, field: str, what: str, default=None) -> int | None:
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Invalid(f"{what}应为整数", field=field) from None


def _home_area(actor):
    from bianmin.regions.models import Area

    paths = actor.area_paths_for(Cap.VIEW)
    if not paths:
        raise NotFound("您没有可查看的辖区")
    return Area.objects.get(code=paths[0].rstrip("/").rsplit("/", 1)[-1])


def _area(request, actor):
    from bianmin.regions.models import Area

    code = request.POST.get("area") or request.GET.get("area")
    if not code:
        return _home_area(actor)
    area = Area.objects.filter(code=code).first()
    if area is None or not actor.sees_area(area):
        raise NotFound("未找到该区划")
    return area


def _site(code, field: str = "site"):
    from bianmin.regions.models import ServiceSite

    if not code:
        return None
    site = ServiceSite.objects.select_related("area").filter(code=code).first()
    if site is None:
        raise Invalid("服务场所不存在", field=field)
    return site


def _sites(actor, area):
    from bianmin.regions.models import ServiceSite

    return ServiceSite.objects.filter(area__path__startswith=area.path, kind="center").select_related("area") \
        .order_by("code")[:300]


def _page(qs, request, per: int = 30):
    return Paginator(qs, per).get_page(request.GET.get("page"))


class _Values(dict):
    """A form's submitted values for re-display; a field not submitted is empty."""

    def __missing__(self, key):
        return ""


def _values(request) -> _Values:
    return _Values(request.POST.items()) if request.method == "POST" else _Values()


def _post(request, do, *, ok: str):
    """Run a write; on a domain error give (message, status) for the page to show."""
    try:
        do()
    except DomainError as exc:
        return exc.message, exc.status
    messages.success(request, ok)
    return None


def _download(data: bytes, name: str, content_type: str) -> HttpResponse:
    from urllib.parse import quote

    resp = HttpResponse(data, content_type=content_type)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


def _rep_name(rep: Representative) -> str:
    return mask_name(rep.name) if rep.name_is_personal else rep.name


@login_required
def home(request):
    return redirect("engagement:proposals")


# --- symposiums --------------------------------------------------------------------------------

@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def symposium_list(request):
    actor = principal_of(request)
    today = timezone.localdate()
    year = _int(request.GET.get("year"), "year", "年度", today.year)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST
        if p.get("action") == "representative":
            do = lambda: services.representative_create(  # noqa: E731
                actor=actor, area=_area(request, actor), kind=p.get("kind", ""), name=p.get("name", ""),
                organisation=p.get("organisation", ""), phone=p.get("phone", ""))
            result = _post(request, do, ok="代表已登记。")
        else:
            do = lambda: services.symposium_schedule(  # noqa: E731
                actor=actor, area=_area(request, actor), year=_int(p.get("year"), "year", "年度", year),
                venue=p.get("venue", ""))
            result = _post(request, do, ok="年度座谈会计划已生成。")
        if result is None:
            return redirect(request.get_full_path())
        error, status = result
    area = _home_area(actor)
    kind = request.GET.get("kind") or None
    reps = _page(selectors.representatives(actor=actor, kind=kind if kind in Representative.Kind.values else None),
                 request)
    return render(request, "engagement/symposiums.html", {
        "year": year, "schedule": selectors.schedule(actor=actor, area=area, year=year), "home_area": area,
        "reps": [(r, _rep_name(r), mask_mobile(r.phone)) for r in reps], "page": reps, "kinds": Representative.Kind.choices,
        "kind": kind or "", "error": error, "values": _values(request), "can_manage": actor.can(Cap.ENGAGEMENT_MANAGE, area),
        "opinions_open": selectors.opinions(actor=actor, status=Opinion.Status.OPEN).count(),
    }, status=status)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def symposium_detail(request, symposium_id: int):
    actor = principal_of(request)
    s = selectors.symposium_get(actor=actor, symposium_id=symposium_id)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        actions = {
            "plan": (lambda: services.symposium_plan(actor=actor, symposium_id=s.pk,
                                                     planned_on=_date(p.get("planned_on"), "planned_on"),
                                                     venue=p.get("venue", "")), "计划已修改。"),
            "invite": (lambda: services.symposium_invite(actor=actor, symposium_id=s.pk,
                                                         representative_ids=[int(i) for i in p.getlist("rep")]),
                       "邀请已发出（短信经发件箱发送）。"),
            "attendance": (lambda: services.symposium_attendance(actor=actor, symposium_id=s.pk,
                                                                 attended_ids=[int(i) for i in p.getlist("inv")]),
                           "签到已保存。"),
            "minutes": (lambda: services.symposium_minutes(actor=actor, symposium_id=s.pk,
                                                           held_on=_date(p.get("held_on"), "held_on"),
                                                           minutes=p.get("minutes", "")), "会议纪要已保存。"),
            "opinion": (lambda: services.opinion_record(actor=actor, symposium_id=s.pk, content=p.get("content", ""),
                                                        invitation_id=_int(p.get("invitation"), "invitation", "提出人"),
                                                        working_days=_int(p.get("working_days"), "working_days",
                                                                          "办理时限")), "意见已登记。"),
            "answer": (lambda: services.opinion_answer(actor=actor, opinion_id=_int(p.get("opinion"), "opinion", "意见", 0),
                                                       answer=p.get("answer", "")), "已答复并反馈提出人。"),
            "rectify": (lambda: services.opinion_rectify(
                actor=actor, opinion_id=_int(p.get("opinion"), "opinion", "意见", 0), site=_site(p.get("site")),
                measure=p.get("measure", ""), owner_name=p.get("owner_name", ""),
                working_days=_int(p.get("working_days"), "working_days", "整改时限")), "已列入整改台账。"),
        }
        if action not in actions:
            error, status = "未知操作", 422
        else:
            do, ok = actions[action]
            result = _post(request, do, ok=ok)
            if result is None:
                return redirect("engagement:symposium", s.pk)
            error, status = result
    s = selectors.symposium_get(actor=actor, symposium_id=symposium_id)
    invitations = list(s.invitations.select_related("representative"))
    invited = {i.representative_id for i in invitations}
    candidates = [(r, _rep_name(r)) for r in selectors.representatives(actor=actor) if r.pk not in invited][:300]
    today = timezone.localdate()
    opinions = [(o, o.status == Opinion.Status.OPEN and o.due_on < today) for o in
                s.opinions.select_related("raised_by__representative", "rectification")]
    return render(request, "engagement/symposium.html", {
        "s": s, "invitations": [(i, _rep_name(i.representative), mask_mobile(i.representative.phone)) for i in invitations],
        "candidates": candidates, "opinions": opinions, "sites": _sites(actor, s.area), "error": error,
        "values": _values(request), "can_manage": actor.can(Cap.ENGAGEMENT_MANAGE, s.area),
        "default_days": services.opinion_days(),
    }, status=status)


@login_required
@domain_errors
@require_POST
def representative_unmask(request, representative_id: int):
    """The full phone of a representative (and a citizen's name): a permission, audited."""
    from bianmin.accounts.services import unmask
    from bianmin.core.scoping import get_scoped

    actor = principal_of(request)
    r = get_scoped(Representative.objects.select_related("area"), actor, Cap.VIEW, pk=representative_id)
    phone = unmask(actor=actor, record=r, field="phone", area=r.area)
    return render(request, "engagement/representative.html", {"r": r, "phone": phone})


# --- trainings ---------------------------------------------------------------------------------

@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def training_list(request):
    actor = principal_of(request)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST

        def do():
            try:
                starts = timezone.make_aware(datetime.fromisoformat(p.get("starts_at", "")))
            except ValueError:
                raise Invalid("请填写培训时间", field="starts_at") from None
            t = services.training_create(actor=actor, area=_area(request, actor), title=p.get("title", ""),
                                         topic=p.get("topic", ""), starts_at=starts, venue=p.get("venue", ""),
                                         capacity=_int(p.get("capacity"), "capacity", "名额", 100),
                                         site=_site(p.get("site")))
            request._created = t

        result = _post(request, do, ok="培训会已创建。")
        if result is None:
            return redirect("engagement:training", request._created.pk)
        error, status = result
    status_filter = request.GET.get("status") or None
    page = _page(selectors.trainings(actor=actor, status=status_filter if status_filter in Training.Status.values
                                     else None), request)
    area = _home_area(actor)
    return render(request, "engagement/trainings.html", {
        "page": page, "statuses": Training.Status.choices, "status": status_filter or "", "error": error,
        "values": _values(request), "home_area": area, "sites": _sites(actor, area),
        "can_manage": actor.can(Cap.ENGAGEMENT_MANAGE, area)}, status=status)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def training_detail(request, training_id: int):
    actor = principal_of(request)
    t = selectors.training_get(actor=actor, training_id=training_id)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST
        action = p.get("action")

        def material():
            f = request.FILES.get("file")
            if f is None:
                raise Invalid("请选择文件", field="file")
            name, data = read_upload(f, field="file")
            services.training_material_add(actor=actor, training_id=t.pk, file_name=name, data=data)

        def feedback():
            n = services.training_feedback_send(actor=actor, training_id=t.pk)
            messages.info(request, f"已发送反馈问卷短信 {n} 条（已发送过的号码不重复发送）。")

        actions = {
            "register": (lambda: services.training_register(
                actor=actor, training_id=t.pk, enterprise_name=p.get("enterprise_name", ""),
                credit_code=p.get("credit_code", ""), contact_name=p.get("contact_name", ""),
                contact_phone=p.get("contact_phone", ""), attendees=p.get("attendees") or 1,
                pilot_override=p.get("pilot_override") == "1"), "报名已登记。"),
            "attendance": (lambda: services.training_attendance(actor=actor, training_id=t.pk,
                                                                attended_ids=[int(i) for i in p.getlist("reg")]),
                           "签到已保存。"),
            "status": (lambda: services.training_status(actor=actor, training_id=t.pk, status=p.get("status", "")),
                       "状态已更新。"),
            "material": (material, "资料已上传。"),
            "feedback": (feedback, "反馈问卷已发送。"),
        }
        if action not in actions:
            error, status = "未知操作", 422
        else:
            result = _post(request, actions[action][0], ok=actions[action][1])
            if result is None:
                return redirect("engagement:training", t.pk)
            error, status = result
    t = selectors.training_get(actor=actor, training_id=training_id)
    regs = [(r, mask_credit_code(r.credit_code), mask_name(r.contact_name), mask_mobile(r.contact_phone))
            for r in t.registrations.select_related("pilot_confirmed_by")]
    url = request.build_absolute_uri(reverse("engagement:training-register", args=[t.token]))
    from bianmin.core.qr import qr_svg

    return render(request, "engagement/training.html", {
        "t": t, "regs": regs, "figures": selectors.training_figures(t), "materials": t.materials.select_related("file"),
        "register_url": url, "qr": qr_svg(url, scale=3), "error": error, "values": _values(request),
        "pilot_hint": error and "试点" in error, "statuses": Training.Status.choices,
        "can_manage": actor.can(Cap.ENGAGEMENT_MANAGE, t.area)}, status=status)


@login_required
@domain_errors
def training_material(request, training_id: int, material_id: int):
    from django.core.files.storage import default_storage

    t = selectors.training_get(actor=principal_of(request), training_id=training_id)
    m = t.materials.select_related("file").filter(pk=material_id).first()
    if m is None:
        raise NotFound("未找到该资料")
    return FileResponse(default_storage.open(m.file.path, "rb"), content_type=m.file.content_type, as_attachment=True,
                        filename=m.file_name)


@require_http_methods(["GET", "POST"])
def training_register(request, token: str):
    """An enterprise's registration page (no log-in, no JavaScript)."""
    t = Training.objects.filter(token=token).first()
    if t is None:
        return render(request, "engagement/problem.html", {"title": "报名链接无效", "message": "未找到该培训，请核对链接。"},
                      status=404)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST
        try:
            services.training_register(actor=None, token=token, enterprise_name=p.get("enterprise_name", ""),
                                       credit_code=p.get("credit_code", ""), contact_name=p.get("contact_name", ""),
                                       contact_phone=p.get("contact_phone", ""), attendees=p.get("attendees") or 1)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            return render(request, "engagement/problem.html", {
                "title": "报名成功", "message": f"您已报名“{t.title}”，请按时参加（{timezone.localtime(t.starts_at):%Y年%m月%d日 %H:%M}，"
                                            f"{t.venue or '地点另行通知'}）。"})
    return render(request, "engagement/training_register.html", {"t": t, "error": error, "values": _values(request)},
                  status=status)


# --- campaigns ---------------------------------------------------------------------------------

def _campaign_questions(raw: str) -> list[dict] | None:
    """The questionnaire typed one question a line, ``题型|题目|选项1;选项2``; empty → the default four."""
    kinds = {"单选": "single", "多选": "multiple", "填空": "text", "打分": "scale"}
    out = []
    for n, line in enumerate((raw or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [x.strip() for x in line.split("|")]
        if len(parts) < 2 or parts[0] not in kinds:
            raise Invalid(f"第 {n} 行格式应为“题型|题目|选项1;选项2”，题型为单选、多选、填空或打分", field="questions")
        out.append({"kind": kinds[parts[0]], "text": parts[1],
                    "options": [o for o in (parts[2].split(";") if len(parts) > 2 else []) if o.strip()],
                    "required": kinds[parts[0]] != "text"})
    return out or None


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def campaign_list(request):
    actor = principal_of(request)
    area = _home_area(actor)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST

        def do():
            sites = [_site(code, "sites") for code in p.getlist("sites")]
            request._created = services.campaign_create(
                actor=actor, area=_area(request, actor), title=p.get("title", ""),
                starts_on=_date(p.get("starts_on"), "starts_on"), ends_on=_date(p.get("ends_on"), "ends_on"),
                sites=sites, questions=_campaign_questions(p.get("questions", "")))

        result = _post(request, do, ok="征集活动已发起。")
        if result is None:
            return redirect("engagement:campaign", request._created.pk)
        error, status = result
    page = _page(selectors.campaigns(actor=actor), request)
    default_questions = "\n".join(f"单选|{q['text']}|{';'.join(q['options'])}" if q["kind"] == "single" else f"填空|{q['text']}"
                                  for q in services.CAMPAIGN_QUESTIONS)
    return render(request, "engagement/campaigns.html", {
        "page": page, "error": error, "values": _values(request), "home_area": area, "sites": _sites(actor, area),
        "default_questions": default_questions, "can_manage": actor.can(Cap.ENGAGEMENT_MANAGE, area)}, status=status)


def _campaign_xlsx(c: Campaign, actor, ledger: str) -> HttpResponse:
    from bianmin.core.xlsx import book

    if ledger == "followups":
        header = ["序号", "时间", "服务场所", "方式", "回访对象", "联系电话", "反映问题", "录入人"]
        rows = [[i, timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"), e.site.name, e.get_channel_display(),
                 mask_name(e.contact_name), mask_mobile(e.contact_phone), e.problem, str(e.entered_by or "")]
                for i, e in enumerate(selectors.campaign_entries(actor=actor, campaign=c).order_by("created_at", "id"), 1)]
        return _download(book("回访台账", header, rows), f"{c.title}_回访台账.xlsx", XLSX)
    findings = selectors.campaign_findings(actor=actor, campaign=c)
    if ledger == "problems":
        header = ["序号", "服务场所", "存在问题", "整改台账编号", "状态"]
        rows = [[i, f.site.name, f.problem, f.rectification.number, f.rectification.get_status_display()]
                for i, f in enumerate(findings, 1)]
        return _download(book("问题清单", header, rows), f"{c.title}_问题清单.xlsx", XLSX)
    if ledger == "plan":
        header = ["整改台账编号", "服务场所", "存在问题", "整改措施", "责任人", "整改期限", "状态", "整改结果"]
        rows = [[f.rectification.number, f.site.name, f.problem, f.rectification.measure, f.rectification.owner_name,
                 f.rectification.deadline.isoformat(), f.rectification.get_status_display(), f.rectification.result]
                for f in findings]
        return _download(book("整改计划", header, rows), f"{c.title}_整改计划.xlsx", XLSX)
    raise Invalid("台账类型无效", field="ledger")


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def campaign_detail(request, campaign_id: int):
    actor = principal_of(request)
    c = selectors.campaign_get(actor=actor, campaign_id=campaign_id)
    if request.GET.get("format") == "xlsx":
        return _campaign_xlsx(c, actor, request.GET.get("ledger", ""))
    questions = list(c.questionnaire.questions.all())
    error, status = None, 200
    if request.method == "POST":
        p = request.POST
        action = p.get("action")

        def entry():
            answers = {str(q.position): (p.getlist(f"q{q.position}") if q.kind == "multiple" else p.get(f"q{q.position}", ""))
                       for q in questions}
            site = _site(p.get("site"))
            if site is None:
                raise Invalid("请选择服务场所", field="site")
            services.campaign_entry_record(actor=actor, campaign_id=c.pk, site=site, channel=p.get("channel", ""),
                                           contact_name=p.get("contact_name", ""),
                                           contact_phone=p.get("contact_phone", ""), answers=answers,
                                           notes=p.get("notes", ""), problem=p.get("problem", ""),
                                           measure=p.get("measure", ""), owner_name=p.get("owner_name", ""))

        def finding():
            site = _site(p.get("site"))
            if site is None:
                raise Invalid("请选择服务场所", field="site")
            services.campaign_finding_raise(actor=actor, campaign_id=c.pk, site=site, problem=p.get("problem", ""),
                                            measure=p.get("measure", ""), owner_name=p.get("owner_name", ""),
                                            working_days=_int(p.get("working_days"), "working_days", "整改时限"))

        actions = {"entry": (entry, "回访问卷已录入。"), "finding": (finding, "问题已列入整改台账。"),
                   "close": (lambda: services.campaign_close(actor=actor, campaign_id=c.pk,
                                                             summary=p.get("summary", "")), "征集活动已结束。")}
        if action not in actions:
            error, status = "未知操作", 422
        else:
            result = _post(request, actions[action][0], ok=actions[action][1])
            if result is None:
                return redirect("engagement:campaign", c.pk)
            error, status = result
    c = selectors.campaign_get(actor=actor, campaign_id=campaign_id)
    from bianmin.core.qr import qr_svg

    links = []
    for cs in c.sites.select_related("site__area").order_by("site__code"):
        if actor.sees_area(cs.site.area):
            url = request.build_absolute_uri(reverse("engagement:campaign-answer", args=[cs.token]))
            links.append((cs.site, url, qr_svg(url, scale=2)))
    entries = _page(selectors.campaign_entries(actor=actor, campaign=c).order_by("-created_at", "-id"), request, 20)
    return render(request, "engagement/campaign.html", {
        "c": c, "results": selectors.campaign_results(actor=actor, campaign=c), "links": links,
        "entries": [(e, mask_name(e.contact_name), mask_mobile(e.contact_phone)) for e in entries], "page": entries,
        "findings": selectors.campaign_findings(actor=actor, campaign=c), "questions": questions, "error": error,
        "values": _values(request), "channels": CampaignEntry.Channel.choices[1:],
        "can_manage": actor.can(Cap.ENGAGEMENT_MANAGE, c.area), "can_enter": actor.can(Cap.FOLLOWUP_WORK, c.area)
        or any(actor.can(Cap.FOLLOWUP_WORK, s.area) for s, _u, _q in links)}, status=status)


@require_http_methods(["GET", "POST"])
def campaign_answer(request, token: str):
    """The citizen's questionnaire by a site's QR code (no log-in, no JavaScript)."""
    from .models import CampaignSite

    cs = CampaignSite.objects.select_related("campaign__questionnaire", "site").filter(token=token).first()
    if cs is None:
        return render(request, "engagement/problem.html", {"title": "问卷链接无效", "message": "未找到该问卷，请核对二维码。"},
                      status=404)
    questions = list(cs.campaign.questionnaire.questions.all())
    error, status = None, 200
    if request.method == "POST":
        from bianmin.core.ratelimit import check_rate

        answers = {str(q.position): (request.POST.getlist(f"q{q.position}") if q.kind == "multiple"
                                     else request.POST.get(f"q{q.position}", "")) for q in questions}
        try:
            from bianmin.core.audit import client_ip

            # One phone scanning and resubmitting is not many citizens: a few sheets per address an hour.
            check_rate(f"campaign-answer:{cs.pk}:{client_ip(request)}", 10, 3600)
            services.campaign_answer_qr(token=token, answers=answers)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            return render(request, "engagement/problem.html", {"title": "提交成功", "message": "感谢您参与民意诉求征集！"})
    return render(request, "engagement/campaign_answer.html", {"cs": cs, "c": cs.campaign, "questions": questions,
                                                               "error": error, "values": _values(request)}, status=status)


# --- proposals ---------------------------------------------------------------------------------

@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def proposal_list(request):
    actor = principal_of(request)
    area = _home_area(actor)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST

        def do():
            request._created = services.proposal_intake(
                actor=actor, area=_area(request, actor), kind=p.get("kind", ""), session=p.get("session", ""),
                number=p.get("number", ""), letter_number=p.get("letter_number", ""), title=p.get("title", ""),
                proposer=p.get("proposer", ""), proposer_kind=p.get("proposer_kind", "member"),
                content=p.get("content", ""), received_on=_date(p.get("received_on"), "received_on"))

        result = _post(request, do, ok="提案建议已登记。")
        if result is None:
            return redirect("engagement:proposal", request._created.pk)
        error, status = result
    st = request.GET.get("status") or None
    kind = request.GET.get("kind") or None
    qs = selectors.proposals(actor=actor, status=st if st in Proposal.Status.values else None,
                             kind=kind if kind in Proposal.Kind.values else None, q=request.GET.get("q", "")[:50],
                             overdue=request.GET.get("overdue") == "1")
    page = _page(qs, request)
    return render(request, "engagement/proposals.html", {
        "page": page, "statuses": Proposal.Status.choices, "kinds": Proposal.Kind.choices, "status": st or "",
        "kind": kind or "", "q": request.GET.get("q", ""), "overdue": request.GET.get("overdue") == "1",
        "error": error, "values": _values(request), "home_area": area, "can_handle": actor.can(Cap.PROPOSAL_HANDLE, area)},
        status=status)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def proposal_detail(request, proposal_id: int):
    from bianmin.regions.models import Area

    actor = principal_of(request)
    pr = selectors.proposal_get(actor=actor, proposal_id=proposal_id)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        aid = _int(p.get("assignment"), "assignment", "交办", 0)

        def assign():
            units = []
            for role, code, name, phone in zip(p.getlist("role"), p.getlist("unit_area"), p.getlist("unit_name"),
                                               p.getlist("contact_phone"), strict=False):
                if not name.strip():
                    continue
                a = Area.objects.filter(code=code).first()
                if a is None or not actor.sees_area(a):
                    raise Invalid("承办单位区划不存在", field="units")
                units.append({"role": role, "area": a, "unit_name": name, "contact_phone": phone})
            services.proposal_assign(actor=actor, proposal_id=pr.pk, units=units,
                                     assigned_on=_date(p.get("assigned_on"), "assigned_on", timezone.localdate()),
                                     months=_int(p.get("months"), "months", "办理期限"))

        actions = {
            "assign": (assign, "已交办。"),
            "return": (lambda: services.assignment_return(actor=actor, assignment_id=aid, reason=p.get("reason", "")),
                       "已退回交办机关。"),
            "extend": (lambda: services.assignment_extend(actor=actor, assignment_id=aid,
                                                          due_on=_date(p.get("due_on"), "due_on"),
                                                          reason=p.get("reason", "")), "已延期。"),
            "opinion": (lambda: services.joint_opinion(actor=actor, assignment_id=aid, opinion=p.get("opinion", "")),
                        "会办意见已送主办单位。"),
            "problem": (lambda: services.proposal_problem_raise(actor=actor, proposal_id=pr.pk,
                                                                problem=p.get("problem", ""), site=_site(p.get("site")),
                                                                measure=p.get("measure", ""),
                                                                owner_name=p.get("owner_name", "")),
                        "已列入整改台账。"),
        }
        if action not in actions:
            error, status = "未知操作", 422
        else:
            result = _post(request, actions[action][0], ok=actions[action][1])
            if result is None:
                return redirect("engagement:proposal", pr.pk)
            error, status = result
    pr = selectors.proposal_get(actor=actor, proposal_id=proposal_id)
    today = timezone.localdate()
    assignments = [(a, a.status == Assignment.Status.HANDLING and a.due_on < today, actor.can(Cap.PROPOSAL_HANDLE, a.area),
                    list(a.replies.all())) for a in pr.assignments.select_related("area")]
    units = Area.objects.filter(path__startswith=pr.area.path, level__in=("city", "district")).order_by("code")
    return render(request, "engagement/proposal.html", {
        "p": pr, "assignments": assignments, "events": pr.events.all(), "error": error, "values": _values(request),
        "roles": Assignment.Role.choices, "units": units, "months": services.reply_months(),
        "can_handle": actor.can(Cap.PROPOSAL_HANDLE, pr.area), "sites": _sites(actor, pr.area)}, status=status)


def _rows(p, prefix: str, fields: tuple[str, ...]) -> list[dict]:
    """Repeated form lines (``prefix-field`` lists) as dicts, blank lines dropped."""
    columns = [p.getlist(f"{prefix}-{f}") for f in fields]
    out = []
    for values in zip(*columns, strict=False):
        row = dict(zip(fields, values, strict=False))
        if any(str(v).strip() for k, v in row.items() if k not in ("adoption", "suggestion")):
            out.append(row)
    return out


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def reply_edit(request, assignment_id: int):
    """拟稿 / 修改答复: the document's fields, the adoption of each suggestion and the plan items."""
    from bianmin.core.scoping import get_scoped

    actor = principal_of(request)
    a = get_scoped(Assignment.objects.select_related("proposal__area", "area"), actor, Cap.VIEW, pk=assignment_id)
    reply = a.replies.order_by("-round").first()
    draft = reply if reply is not None and not reply.is_signed else None
    error, status = None, 200
    if request.method == "POST":
        p = request.POST

        def do():
            fields = {f: p.get(f, "") for f in services.REPLY_FIELDS}
            for f in ("written_on", "printed_on"):
                fields[f] = _date(p.get(f), f, None) if p.get(f) else None
            request._saved = services.reply_draft(
                actor=actor, assignment_id=a.pk, result_class=p.get("result_class", ""),
                suggestions=_rows(p, "s", ("content", "adoption", "reason")),
                plan_items=_rows(p, "i", ("title", "content", "deadline_text", "due_on", "owner_name", "suggestion")),
                **fields)

        result = _post(request, do, ok="答复已保存。")
        if result is None:
            return redirect("engagement:reply", request._saved.pk)
        error, status = result
    if draft is not None:
        values = {f: getattr(draft, f) for f in services.REPLY_FIELDS}
        values["result_class"] = draft.result_class.code if draft.result_class_id else ""
        suggestions = list(draft.suggestions.all())
        items = list(draft.plan_items.select_related("suggestion"))
    else:
        values = {**services.reply_defaults(a), "result_class": ""}
        suggestions, items = [], []
    return render(request, "engagement/reply_edit.html", {
        "a": a, "p": a.proposal, "draft": draft, "v": values, "error": error,
        "suggestions": suggestions + [None] * (3 if not suggestions else 1),
        "items": items + [None] * (3 if not items else 1), "classes": ProposalClass.objects.filter(active=True),
        "adoptions": Suggestion.Adoption.choices, "qualities": Reply.Quality.choices,
        "disclosures": Reply.Disclosure.choices}, status=status)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def reply_detail(request, reply_id: int):
    actor = principal_of(request)
    r = selectors.reply_get(actor=actor, reply_id=reply_id)
    error, status = None, 200
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        actions = {
            "countersign": (lambda: services.reply_countersign(
                actor=actor, reply_id=r.pk, assignment_id=_int(p.get("assignment"), "assignment", "会办单位", 0),
                agreed=p.get("agreed") == "1", note=p.get("note", "")), "已会签。"),
            "sign": (lambda: services.reply_sign(actor=actor, reply_id=r.pk, signer_name=p.get("signer_name", "")),
                     "答复已签发。"),
            "rating": (lambda: services.member_rate(actor=actor, reply_id=r.pk, attitude=p.get("attitude", ""),
                                                    result=p.get("result", ""), note=p.get("note", ""),
                                                    rated_on=_date(p.get("rated_on"), "rated_on", timezone.localdate())),
                       "委员评价已登记。"),
            "progress": (lambda: services.plan_progress(actor=actor, item_id=_int(p.get("item"), "item", "措施", 0),
                                                        status=p.get("status", ""), note=p.get("note", "")),
                         "实施进展已登记。"),
        }
        if action not in actions:
            error, status = "未知操作", 422
        else:
            result = _post(request, actions[action][0], ok=actions[action][1])
            if result is None:
                return redirect("engagement:reply", r.pk)
            error, status = result
    r = selectors.reply_get(actor=actor, reply_id=reply_id)
    a = r.assignment
    joints = [(j, actor.can(Cap.PROPOSAL_HANDLE, j.area)) for j in a.proposal.assignments.filter(
        role=Assignment.Role.JOINT).exclude(status=Assignment.Status.RETURNED).select_related("area")]
    signed = {c.assignment_id: c for c in r.countersigns.select_related("assignment", "signed_by")}
    rating = MemberRating.objects.filter(reply=r).first()
    return render(request, "engagement/reply.html", {
        "r": r, "a": a, "p": a.proposal, "doc": documents.reply_document(r), "joints": joints, "signed": signed,
        "rating": rating, "items": r.plan_items.all(), "suggestions": r.suggestions.all(), "error": error,
        "values": _values(request), "grades": MemberRating.Grade.choices, "item_statuses": PlanItem.Status.choices,
        "can_sign": actor.can(Cap.PROPOSAL_SIGN, a.area) and not r.is_signed,
        "can_edit": actor.can(Cap.PROPOSAL_HANDLE, a.area) and not r.is_signed,
        "can_rate": actor.can(Cap.PROPOSAL_HANDLE, a.proposal.area) and r.is_signed and rating is None,
        "can_progress": actor.can(Cap.PROPOSAL_HANDLE, a.area) and r.is_signed}, status=status)


@login_required
@domain_errors
def reply_document(request, reply_id: int, fmt: str):
    r = selectors.reply_get(actor=principal_of(request), reply_id=reply_id)
    if fmt == "docx":
        return _download(documents.reply_docx(r), documents.file_name(r, "docx"), DOCX)
    if fmt == "pdf":
        return _download(documents.reply_pdf(r), documents.file_name(r, "pdf"), "application/pdf")
    raise NotFound("未找到该文件")


__all__ = ["Symposium"]
