"""Every write of 好差评: submitting from each channel, links and invitations, default
evaluations, flags, exclusion after an upheld appeal, and reports to the provincial system.

All channels end in `evaluation_submit`, so the rules (grades, reasons, limits, one evaluation
and one 追评 per case, duplicates answered once, no staff evaluating) live in one place."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from bianmin.core.audit import audit
from bianmin.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from bianmin.core.masking import keyed
from bianmin.core.models import AuditEntry
from bianmin.core.prepared import PreparedQuery
from bianmin.core.principal import Principal
from bianmin.core.ratelimit import check_rate

from . import conf
from .links import new_nonce, new_short_code, nonce_from, short_code_display, short_code_from, token_for
from .models import (
    ASPECTS,
    ONSITE_CHANNELS,
    PROVINCIAL_CHANNELS,
    STAFF_CHANNELS,
    AspectSet,
    Channel,
    Evaluation,
    EvaluationLink,
    Grade,
    ProvincialReport,
    ReasonOption,
    is_bad_grade,
)
from .signals import evaluation_changed, evaluation_submitted

PROVINCIAL_CHANNEL = "provincial_eval"
# What a submission reads of a case besides the row: the area (scope, report), the item chain (report).
CASE_RELATED = ("site__area", "item__standard_item__competent_department")
# ... and only the columns it uses: the standard item carries long guide texts and search
# columns, and building and reading ~150 columns per submission cost more than the queries.
CASE_ONLY = (
    "state", "channel", "window", "owner", "mobile", "acceptance_number", "applicant_name", "id_number",
    "credit_code", "completed_at", "site__name", "site__area__code", "site__area__path", "site__area__name",
    "item__standard_item__code", "item__standard_item__name", "item__standard_item__version",
    "item__standard_item__competent_department__code",
)


def case_queryset():
    from bianmin.cases.models import Case

    return Case.objects.select_related(*CASE_RELATED).only(*CASE_ONLY).order_by()


@dataclass
class Submission:
    evaluation: Evaluation
    created: bool  # False: the same evaluation was submitted before and is answered as stored


# --- validation -------------------------------------------------------------------------------

def _clean_payload(*, grade, aspect_set: str, aspects: dict | None, reasons: list | None, text: str | None):
    try:
        grade = int(grade)
    except (TypeError, ValueError):
        raise Invalid("评价等级应为 1 至 5", field="grade") from None
    if grade not in Grade.values:
        raise Invalid("评价等级应为 1（非常不满意）至 5（非常满意）", field="grade")
    text = (text or "").strip()
    if len(text) > conf.text_limit():
        raise Invalid(f"评价内容不能超过 {conf.text_limit()} 字", field="text")
    allowed = dict(ASPECTS[aspect_set])
    clean_aspects: dict[str, int] = {}
    for key, value in (aspects or {}).items():
        if key not in allowed:
            raise Invalid(f"评价指标“{key}”不属于{AspectSet(aspect_set).label}指标", field="aspects")
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise Invalid(f"“{allowed[key]}”的评价应为 1 至 5", field="aspects") from None
        if value not in Grade.values:
            raise Invalid(f"“{allowed[key]}”的评价应为 1 至 5", field="aspects")
        clean_aspects[key] = value
    clean_aspects.setdefault("overall", grade)
    codes = [str(r).strip() for r in (reasons or []) if str(r).strip()]
    codes = list(dict.fromkeys(codes))
    if is_bad_grade(grade):
        if not codes:
            raise Invalid("差评须至少选择一项原因", field="reasons")
        known = set(ReasonOption.objects.filter(code__in=codes, active=True).values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise Invalid(f"差评原因“{unknown[0]}”不在可选范围内", field="reasons")
    else:
        codes = []  # reasons are asked only for a bad grade
    return grade, clean_aspects, codes, text


def _fingerprint(grade: int, aspects: dict, reasons: list, text: str) -> str:
    raw = json.dumps([grade, sorted(aspects.items()), sorted(reasons), text], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def aspect_set_for(channel: str, case) -> str:
    if channel in ONSITE_CHANNELS:
        return AspectSet.ONSITE
    if channel in PROVINCIAL_CHANNELS or channel in (Channel.SMS, Channel.WEB):
        # Evaluated away from the window: what was rated is the online handling when the case
        # came in online, the on-site service otherwise.
        return AspectSet.ONLINE if getattr(case, "channel", "") in ("online", "api") else AspectSet.ONSITE
    return AspectSet.ONSITE


# --- submitting -------------------------------------------------------------------------------

def _case_loaded(case_id: int):

    case = case_queryset().filter(pk=case_id).first()
    if case is None:
        raise NotFound("未找到该办件")
    return case


def _case_for_update(case_id: int):
    from bianmin.cases.models import Case

    case = (
        Case.objects.select_for_update()
        .select_related("site__area", "item__standard_item__competent_department")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound("未找到该办件")
    return case


def evaluation_submit_by_kiosk(*, actor: Principal, acceptance_number: str, mobile_last4: str, **fields) -> Submission:
    """The kiosk channel: a case within the kiosk key's area, found by its acceptance number and
    confirmed by the last four digits of the applicant's phone (a wrong pair is "not found", as an
    unknown number is). Used by the API's /evaluations/kiosk and by the kiosk screens (kiosks)."""
    import re

    from bianmin.core.capabilities import Cap

    from .selectors import case_by_acceptance_number

    if not re.fullmatch(r"[0-9]{4}", mobile_last4 or ""):
        raise Invalid("请输入手机号码后四位", field="mobile_last4")
    case = case_by_acceptance_number(actor=actor, capability=Cap.EVALUATION_KIOSK, acceptance_number=acceptance_number)
    # Every attempt on the case counts, right or wrong, from any kiosk: past the limit even the
    # right digits wait, or guessing the four digits would only be slower, not stopped.
    check_rate(f"eval-kiosk-case:{case.pk}", *conf.rate_per_kiosk_case(),
               message="该办件的验证尝试次数过多，请稍后再试或到窗口评价")
    if not case.mobile.endswith(mobile_last4):
        raise NotFound("未找到该办件", field="acceptance_number")
    return evaluation_submit(case_id=case.pk, case=case, channel=Channel.KIOSK, actor=actor, **fields)


def evaluation_submit(
    *,
    case_id: int,
    grade: int,
    channel: str,
    actor: Principal | None,
    aspects: dict | None = None,
    reasons: list | None = None,
    text: str | None = "",
    kind: str | None = None,
    idempotency_key: str | None = None,
    external_id: str | None = None,
    evaluated_at: datetime | None = None,
    device_key=None,
    link: EvaluationLink | None = None,
    window_id: int | None = None,
    case=None,
) -> Submission:
    """Store one evaluation of a completed case (or answer a repeated submission as stored).

    ``kind`` None means "the first evaluation, or the 追评 if the first exists". ``window_id``
    is the window a device is bound to: a case of another window is refused (403)."""
    if channel not in Channel.values or channel == Channel.DEFAULT:
        raise Invalid("评价渠道无效", field="channel")
    if actor is not None and actor.user is not None and channel not in STAFF_CHANNELS:
        # 国办发〔2019〕51号: staff may not evaluate (nor guide or interfere). Recording a paper or
        # phone evaluation on the citizen's behalf is the only staff channel.
        raise Forbidden("工作人员账号不能参与评价")
    if channel in STAFF_CHANNELS and (actor is None or actor.user is None):
        raise Forbidden("纸质、电话评价须由工作人员录入")
    from bianmin.cases.models import State

    now = timezone.now()
    evaluated_at = evaluated_at or now
    if window_id is not None:
        # A device's own window before anything is answered, a replay included: an idempotency
        # key replayed with another window's case must not return that case's evaluation.
        if case is None or case.pk != case_id:
            case = _case_loaded(case_id)
        if case.window_id != window_id:
            raise Forbidden("该评价器只能评价本窗口办理的办件")
    # Replays first: the same key means the same request, answered as it was the first time.
    twin = _existing_twin(case_id=case_id, idempotency_key=idempotency_key, external_id=external_id)
    if twin is not None:
        if twin.case_id != case_id:
            raise Conflict("幂等键已用于另一办件的评价", field="idempotency_key")
        return Submission(twin, False)

    # Everything that only reads happens before the write transaction: on SQLite that
    # transaction holds the database's one write lock, so the shorter it is, the less the other
    # workers wait (and sleep in the busy handler).
    if case is None or case.pk != case_id:  # callers that looked the case up pass it (with its related rows)
        case = _case_loaded(case_id)
    if case.state != State.COMPLETED:
        raise Conflict("办件尚未办结，暂不能评价")
    aspect_set = aspect_set_for(channel, case)
    grade, clean_aspects, codes, text = _clean_payload(
        grade=grade, aspect_set=aspect_set, aspects=aspects, reasons=reasons, text=text)
    fingerprint = _fingerprint(grade, clean_aspects, codes, text)
    flag = _flag_for(case=case, channel=channel, text=text, device_key=device_key, now=now)
    evaluation = Evaluation(
        case=case, kind=kind or Evaluation.Kind.FIRST, grade=grade, aspect_set=aspect_set, aspects=clean_aspects,
        reasons=codes, text=text, channel=channel, area_id=case.site.area_id, site_id=case.site_id,
        window_id=case.window_id, clerk_id=case.owner_id, item_id=case.item_id, evaluated_at=evaluated_at,
        fingerprint=fingerprint, idempotency_key=idempotency_key or None, external_id=external_id or None,
        recorded_by=actor.user if channel in STAFF_CHANNELS else None, device_key=device_key, flag=flag,
        phone_key=keyed(case.mobile), text_key=keyed(text),
    )
    # The related rows come from the case itself: skip full_clean's one query per foreign key.
    evaluation.full_clean(exclude=_FK_FIELDS, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            return _store(evaluation=evaluation, case=case, kind=kind, actor=actor, link=link, now=now)
    except IntegrityError:
        # A concurrent twin won the race for (case, kind) or the key: answer with it when it is
        # the same evaluation, refuse otherwise. (PostgreSQL has no write lock to queue on: the
        # unique constraint is what keeps one evaluation per case and kind.)
        existing = _existing_twin(case_id=case_id, idempotency_key=idempotency_key, external_id=external_id)
        if existing is None:
            existing = Evaluation.objects.filter(case_id=case_id, fingerprint=fingerprint, channel=channel,
                                                 is_default=False).order_by("-id").first()
        if existing is not None:
            return Submission(existing, False)
        raise Conflict("该办件已评价") from None


def _existing_twin(*, case_id, idempotency_key, external_id):
    if idempotency_key:
        found = Evaluation.objects.filter(idempotency_key=idempotency_key).first()
        if found is not None:
            return found
    if external_id:
        found = Evaluation.objects.filter(external_id=external_id).first()
        if found is not None:
            return found
    return None


# Read inside every submission's write transaction (which holds SQLite's one write lock): compiled once.
_EVALUATIONS_OF_CASE = PreparedQuery(lambda case_id: Evaluation.objects.filter(case_id=case_id).order_by())


def _store(*, evaluation: Evaluation, case, kind, actor, link, now) -> Submission:
    """The write: the one read of the case's evaluations, the rules that depend on them, and
    the inserts (evaluation, audit, outbox message, report row)."""
    existing = {e.kind: e for e in _EVALUATIONS_OF_CASE(case_id=case.pk)}
    first = existing.get(Evaluation.Kind.FIRST)
    additional = existing.get(Evaluation.Kind.ADDITIONAL)
    # The same content again (a double tap, a resent form): answered once, stored once.
    for previous in (additional, first):
        if previous is not None and previous.fingerprint == evaluation.fingerprint and not previous.is_default \
                and previous.channel == evaluation.channel and kind in (None, previous.kind):
            return Submission(previous, False)
    if kind is None:
        kind = Evaluation.Kind.FIRST if first is None else Evaluation.Kind.ADDITIONAL
    if kind == Evaluation.Kind.FIRST and first is not None:
        raise Conflict("该办件已评价（一事一评）；如需补充，请在规定期限内追评")
    if kind == Evaluation.Kind.ADDITIONAL:
        if first is None:
            raise Conflict("尚未评价，不能追评")
        if additional is not None:
            raise Conflict("该办件已追评，每件只能追评一次")
        if evaluation.evaluated_at > first.evaluated_at + timedelta(days=conf.additional_period_days()):
            raise Conflict(f"追评须在首次评价后 {conf.additional_period_days()} 日内进行")
    if link is not None and kind == Evaluation.Kind.FIRST:
        if not EvaluationLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now):
            raise Conflict("该评价链接已使用")
    evaluation.kind = kind
    evaluation.save(force_insert=True)
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=evaluation, area_code=case.site.area.code,
          changes={"grade": evaluation.grade, "channel": evaluation.channel, "kind": kind, "flag": evaluation.flag})
    if evaluation.channel not in PROVINCIAL_CHANNELS:
        event = ProvincialReport.Event.ADDITIONAL if kind == Evaluation.Kind.ADDITIONAL else ProvincialReport.Event.EVALUATION
        report_to_province(evaluation=evaluation, event=event, case=case, new=True)
    transaction.on_commit(lambda: evaluation_submitted.send(sender=Evaluation, evaluation=evaluation, created=True))
    return Submission(evaluation, True)


@functools.lru_cache(maxsize=8)
def _recent_by_phone(n: int) -> PreparedQuery:
    """The times of a phone's latest evaluations (at most ``n``), for its rate limit: run before
    every citizen's submission, so compiled once (core/prepared.py)."""
    return PreparedQuery(lambda phone_key, since: Evaluation.objects.filter(phone_key=phone_key, evaluated_at__gte=since)
                         .order_by().only("evaluated_at")[:n])


_FK_FIELDS = ["case", "area", "site", "window", "clerk", "item", "recorded_by", "device_key"]


def _flag_for(*, case, channel, text, device_key, now) -> str:
    """Rate limits per device and phone (429), and the flags for review: a burst of evaluations
    from one device or one phone, or a text already seen at the same site (刷好评)."""
    from bianmin.core.errors import RateLimited

    flag = ""
    burst_n, burst_s = conf.burst_threshold()
    if device_key is not None:
        limit, window = conf.rate_per_device()
        recent = Evaluation.objects.filter(device_key=device_key, evaluated_at__gte=now - timedelta(seconds=max(window, burst_s)))
        if window == burst_s:
            count = recent.count()
            in_burst = count
        else:
            count = recent.filter(evaluated_at__gte=now - timedelta(seconds=window)).count()
            in_burst = recent.filter(evaluated_at__gte=now - timedelta(seconds=burst_s)).count()
        if count >= limit:
            raise RateLimited("评价过于频繁，请稍后再试")
        if in_burst >= burst_n:
            flag = Evaluation.Flag.BURST
    elif channel not in STAFF_CHANNELS and channel not in PROVINCIAL_CHANNELS and case.mobile:
        limit, window = conf.rate_per_phone()
        since = now - timedelta(seconds=max(window, burst_s))
        times = [e.evaluated_at for e in _recent_by_phone(limit + burst_n + 1)(phone_key=keyed(case.mobile), since=since)]
        if sum(1 for t in times if t >= now - timedelta(seconds=window)) >= limit:
            raise RateLimited("该手机号评价过于频繁，请稍后再试")
        if sum(1 for t in times if t >= now - timedelta(seconds=burst_s)) >= burst_n:
            flag = Evaluation.Flag.BURST
    if not flag and len(text) >= 6:
        since = now - timedelta(days=conf.repeated_text_days())
        if Evaluation.objects.filter(text_key=keyed(text), evaluated_at__gte=since, site_id=case.site_id,
                                     text=text).exists():
            flag = Evaluation.Flag.REPEATED_TEXT
    return flag


# --- links, QR and SMS invitations -----------------------------------------------------------

def link_url(link: EvaluationLink, *, via: str = "qr") -> str:
    from django.urls import reverse

    path = reverse("evaluations:public-form", args=[token_for(link.nonce)])
    return f"{conf.public_base_url()}{path}?via={via}"


def _link_create(*, case_id: int, expires_at) -> EvaluationLink:
    """A new link; a short code already taken (about one in 15,000 draws at ten million links)
    is drawn again rather than failing the completion."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                return EvaluationLink.objects.create(case_id=case_id, nonce=new_nonce(), created_at=timezone.now(),
                                                     short_code=new_short_code(), expires_at=expires_at)
        except IntegrityError:
            if attempt == 4 or EvaluationLink.objects.filter(case_id=case_id).exists():
                raise
    raise AssertionError("unreachable")


def link_short_url(link: EvaluationLink) -> str:
    """The short link printed on the slip for typing (``/e/ABCD-EFGH``), leading to the same
    page as the QR code. A link made before short codes existed gets its code here, once."""
    from bianmin.core.public_url import public_url

    for _attempt in range(5):
        if link.short_code:
            break
        code = new_short_code()
        try:
            with transaction.atomic():
                if EvaluationLink.objects.filter(pk=link.pk, short_code__isnull=True).update(short_code=code):
                    link.short_code = code
                else:  # given one meanwhile
                    link.short_code = EvaluationLink.objects.values_list("short_code", flat=True).get(pk=link.pk)
        except IntegrityError:
            continue  # the code is taken: draw another
    return public_url(f"/e/{short_code_display(link.short_code)}")


def link_by_short_code(raw: str) -> EvaluationLink | None:
    code = short_code_from(raw)
    if code is None:
        return None
    return EvaluationLink.objects.filter(short_code=code).first()


def evaluation_link_issue(*, case, send_sms: bool = True) -> EvaluationLink:
    """The link of a completed case, created once (idempotent), with the SMS invitation queued in
    the same transaction: a gateway outage delays the SMS (outbox retries), never loses or doubles
    it (the outbox dedupes on the case)."""
    from bianmin.core.outbox import enqueue

    with transaction.atomic():
        link = EvaluationLink.objects.select_for_update().filter(case_id=case.pk).first()
        if link is None:
            base = case.completed_at or timezone.now()
            link = _link_create(case_id=case.pk, expires_at=base + timedelta(days=conf.link_valid_days()))
        if send_sms and not link.sms_invited and case.mobile:
            site_name = case.site.name if case.site_id else ""
            text = (f"【便民服务】您在{site_name}办理的业务（受理编号 {case.acceptance_number or case.pk}）已办结。"
                    f"请对本次服务进行评价：{link_url(link, via='sms')} "
                    f"链接{conf.link_valid_days()}日内有效，逾期未评价视为满意。")
            enqueue(channel="sms", recipient=case.mobile, payload={"text": text, "case_id": case.pk},
                    dedupe_key=f"eval-invite:{case.pk}", ordering_key=f"sms:{case.mobile}")
            EvaluationLink.objects.filter(pk=link.pk).update(sms_invited=True)
            link.sms_invited = True
    return link


class LinkProblem(DomainError):
    """Why a link cannot be used; ``status`` and ``message`` (Chinese) for the citizen's page,
    and the same as a JSON error through the API (forged 400, unknown 404, used or expired 410)."""

    def __init__(self, status: int, title: str, message: str):
        code = {400: "link_invalid", 404: "link_not_found", 409: "link_used_up", 410: "link_gone"}.get(
            status, "link_invalid")
        super().__init__(message, code=code)
        self.status = status
        self.title = title


def _link_of(token: str) -> EvaluationLink:
    """The stored link of a genuine token (forged 400, unknown 404)."""
    nonce = nonce_from(token)
    if nonce is None:
        raise LinkProblem(400, "评价链接无效", "该评价链接无效，请核对短信中的链接或重新扫描办结单上的二维码。")
    link = EvaluationLink.objects.select_related("case__site", "case__item__standard_item").filter(nonce=nonce).first()
    if link is None:
        raise LinkProblem(404, "评价链接不存在", "未找到该评价链接，请核对短信中的链接或重新扫描办结单上的二维码。")
    return link


def _link_expired() -> LinkProblem:
    return LinkProblem(410, "评价链接已过期",
                       f"该评价链接已过期（办结后 {conf.link_valid_days()} 日内有效），逾期未评价的业务按“满意”记录。")


def link_resolve(token: str) -> EvaluationLink:
    link = _link_of(token)
    if link.used_at is not None:
        raise LinkProblem(410, "您已评价", "该办件已经评价过了，感谢您的参与。每件业务只能评价一次。")
    if link.is_expired:
        raise _link_expired()
    return link


@dataclass
class LinkState:
    """Where a citizen's link stands. ``stage``: "first" (the evaluation form), "additional" (the
    追评 form, open until ``additional_until``), "additional_given" or "additional_closed"."""

    link: EvaluationLink
    stage: str
    first: Evaluation | None = None
    additional: Evaluation | None = None
    additional_until: datetime | None = None


def link_state(token: str, *, now: datetime | None = None) -> LinkState:
    """What the link's page offers. A forged or unknown token is refused as by ``link_resolve``;
    an unused link past its expiry (or a case already given the default 满意) is refused too;
    once the citizen has evaluated, the link stays the door to the one 追评 for the 追评 period
    (counted from the first evaluation, as ``evaluation_submit`` counts it)."""
    link = _link_of(token)
    found = {e.kind: e for e in Evaluation.objects.filter(case_id=link.case_id).order_by()}
    first, additional = found.get(Evaluation.Kind.FIRST), found.get(Evaluation.Kind.ADDITIONAL)
    if first is None or first.is_default:
        if link.used_at is not None:
            raise LinkProblem(410, "您已评价", "该办件已经评价过了，感谢您的参与。每件业务只能评价一次。")
        if link.is_expired or first is not None:
            raise _link_expired()
        return LinkState(link=link, stage="first")
    now = now or timezone.now()
    until = first.evaluated_at + timedelta(days=conf.additional_period_days())
    if additional is not None:
        stage = "additional_given"
    elif now > until:
        stage = "additional_closed"
    else:
        stage = "additional"
    return LinkState(link=link, stage=stage, first=first, additional=additional, additional_until=until)


def additional_problem(state: LinkState) -> LinkProblem:
    """Why a link's 追评 cannot be given (already given 409, period over 410)."""
    if state.stage == "additional_given":
        return LinkProblem(409, "您已追评", "该办件已经评价并追评过了，每件业务只能追评一次。感谢您的参与。")
    if state.stage == "additional_closed":
        until = timezone.localtime(state.additional_until)
        return LinkProblem(410, "追评期已过",
                           f"本次业务的追评期已过（追评须在首次评价后 {conf.additional_period_days()} 日内进行，"
                           f"已于{until.year}年{until.month}月{until.day}日 {until:%H:%M}结束）。感谢您的参与。")
    return LinkProblem(409, "尚未评价", "该办件尚未评价，不能追评；请先对本次服务进行评价。")


def _check_link_rates(link: EvaluationLink) -> None:
    from bianmin.core.ratelimit import check_rate

    limit, window = conf.rate_per_link()
    check_rate(f"eval-link:{link.pk}", limit, window)
    if link.case.mobile:
        limit, window = conf.rate_per_phone()
        check_rate(f"eval-phone:{link.case.mobile}", limit, window)


def _additional_by_link(*, token, grade, actor, channel, aspects, reasons, text, idempotency_key) -> Submission:
    state = link_state(token)
    given = state.additional
    if given is not None:
        # The same 追评 sent again (a double tap, a resent form): answered as stored.
        if idempotency_key and given.idempotency_key == idempotency_key:
            return Submission(given, False)
        try:
            g, a, r, t = _clean_payload(grade=grade, aspect_set=given.aspect_set, aspects=aspects, reasons=reasons,
                                        text=text)
        except Invalid:
            g = None
        if g is not None and _fingerprint(g, a, r, t) == given.fingerprint:
            return Submission(given, False)
    if state.stage != "additional":
        raise additional_problem(state)
    _check_link_rates(state.link)
    return evaluation_submit(case_id=state.link.case_id, grade=grade, channel=channel, actor=actor, aspects=aspects,
                             reasons=reasons, text=text, idempotency_key=idempotency_key, link=state.link,
                             kind=Evaluation.Kind.ADDITIONAL)


def evaluation_submit_by_link(*, token: str, grade, actor: Principal | None, via: str = "qr", aspects=None,
                              reasons=None, text="", idempotency_key=None, kind: str | None = None) -> Submission:
    """Submit through a link (QR, SMS, web). A replay of the same content after the link was
    used is answered with the stored evaluation; anything else on a used link is refused.
    ``kind="additional"``: the one 追评 through the same link, within the 追评 period."""
    channel = {"sms": Channel.SMS, "web": Channel.WEB}.get(via, Channel.QR)
    if kind == Evaluation.Kind.ADDITIONAL:
        return _additional_by_link(token=token, grade=grade, actor=actor, channel=channel, aspects=aspects,
                                   reasons=reasons, text=text, idempotency_key=idempotency_key)
    if kind not in (None, Evaluation.Kind.FIRST):
        raise Invalid("评价类型应为 first（评价）或 additional（追评）", field="kind")
    nonce = nonce_from(token)
    if nonce is not None:
        used = EvaluationLink.objects.filter(nonce=nonce, used_at__isnull=False).values_list("case_id", flat=True).first()
        if used is not None:
            first = Evaluation.objects.filter(case_id=used, kind=Evaluation.Kind.FIRST).first()
            if first is not None:
                try:
                    g, a, r, t = _clean_payload(grade=grade, aspect_set=first.aspect_set, aspects=aspects,
                                                reasons=reasons, text=text)
                except Invalid:
                    g = None
                if g is not None and _fingerprint(g, a, r, t) == first.fingerprint:
                    return Submission(first, False)
    link = link_resolve(token)
    _check_link_rates(link)
    return evaluation_submit(case_id=link.case_id, grade=grade, channel=channel, actor=actor, aspects=aspects,
                             reasons=reasons, text=text, idempotency_key=idempotency_key, link=link, kind=kind)


# --- default evaluations ---------------------------------------------------------------------

def evaluations_apply_defaults(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Record a default 满意 for every case completed more than the set days ago without an
    evaluation (Fujian rule). Idempotent: the unique (case, kind) makes a rerun store nothing."""
    from bianmin.cases.models import Case, State

    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.default_after_days())
    due = (
        Case.objects.filter(state=State.COMPLETED, completed_at__lte=cutoff)
        .exclude(evaluations__kind=Evaluation.Kind.FIRST)
        .values_list("pk", flat=True)[:limit]
    )
    created = 0
    for case_id in list(due):
        try:
            with transaction.atomic():
                case = _case_for_update(case_id)
                if Evaluation.objects.filter(case_id=case_id, kind=Evaluation.Kind.FIRST).exists():
                    continue
                grade = Grade.SATISFIED
                evaluation = Evaluation.objects.create(
                    case=case, kind=Evaluation.Kind.FIRST, grade=grade, aspect_set=aspect_set_for(Channel.DEFAULT, case),
                    aspects={"overall": grade}, channel=Channel.DEFAULT, is_default=True,
                    area_id=case.site.area_id, site_id=case.site_id, window_id=case.window_id, clerk_id=case.owner_id,
                    item_id=case.item_id, evaluated_at=now, fingerprint=_fingerprint(grade, {"overall": grade}, [], ""),
                    phone_key=keyed(case.mobile),
                )
                audit(actor=None, action=AuditEntry.Action.CREATE, target=evaluation, area_code=case.site.area.code,
                      changes={"grade": grade, "default": True})
                report_to_province(evaluation=evaluation, event=ProvincialReport.Event.DEFAULT, case=case)
                transaction.on_commit(lambda e=evaluation: evaluation_submitted.send(sender=Evaluation, evaluation=e,
                                                                                     created=True))
                created += 1
        except IntegrityError:
            continue  # evaluated meanwhile (or another worker ran the same sweep)
    return created


# --- reports to the provincial 好差评 system ----------------------------------------------------

def provincial_payload(*, evaluation: Evaluation, case, event: str, outcome: dict | None = None) -> dict:
    """The fields STANDARDS.md lists for the national/provincial interface, plus the grade."""
    item = case.item
    std = item.standard_item if item is not None else None
    dept = std.competent_department if std is not None else None
    return {
        "event": event,
        "evaluation_id": evaluation.pk,
        "case_number": case.acceptance_number or str(case.pk),
        "item_code": std.code if std else "",
        "item_version": str(getattr(std, "version", "") or ""),
        "department_code": dept.code if dept else "",
        "applicant_name": case.applicant_name,
        "applicant_id": case.id_number or case.credit_code,
        "applicant_phone": case.mobile,
        "handling_state": case.state,
        "region_code": case.site.area.code,
        "source": evaluation.channel,
        "evaluated_person": str(evaluation.clerk_id or ""),
        "grade": evaluation.grade,
        "grade_label": str(Grade(evaluation.grade).label),
        "is_default": evaluation.is_default,
        "kind": evaluation.kind,
        "reasons": evaluation.reasons,
        "text": evaluation.text,
        "evaluated_at": evaluation.evaluated_at.isoformat(),
        "outcome": outcome or {},
    }


def report_to_province(*, evaluation: Evaluation, event: str, case=None, outcome: dict | None = None,
                       dedupe_suffix: str = "", new: bool = False) -> ProvincialReport:
    """Queue one report in the caller's transaction. The outbox delivers once (dedupe key) and in
    order per case (ordering key), retrying while the provincial side is down. ``new``: the
    evaluation was inserted in this transaction, so its report cannot have been queued before."""
    from bianmin.core.outbox import enqueue

    case = case or evaluation.case
    dedupe = f"prov:{evaluation.pk}:{event}{dedupe_suffix}"
    started = timezone.now()
    message = enqueue(channel=PROVINCIAL_CHANNEL, recipient=case.site.area.code,
                      payload=provincial_payload(evaluation=evaluation, case=case, event=event, outcome=outcome),
                      dedupe_key=dedupe, ordering_key=f"case:{case.pk}", new_key=new)
    if new:
        return ProvincialReport.objects.create(message=message, evaluation=evaluation, event=event,
                                               area_id=evaluation.area_id)
    if message.created_at < started:
        # Enqueued before (the same report requested again): its report row exists already.
        return ProvincialReport.objects.get(message=message)
    return ProvincialReport.objects.create(message=message, evaluation=evaluation, event=event,
                                           area_id=evaluation.area_id)


# --- review of flags and exclusion -----------------------------------------------------------

def evaluation_flag_review(*, actor: Principal, evaluation_id: int, keep_in_figures: bool, note: str = "") -> Evaluation:
    from bianmin.core.capabilities import Cap
    from bianmin.core.scoping import get_scoped

    with transaction.atomic():
        evaluation = get_scoped(Evaluation.objects.select_for_update(), actor, Cap.BADREVIEW_HANDLE, pk=evaluation_id)
        if not evaluation.flag:
            raise Conflict("该评价没有异常标记")
        evaluation.flag_reviewed = True
        if not keep_in_figures:
            evaluation.excluded = True
        evaluation.save(update_fields=["flag_reviewed", "excluded"])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=evaluation,
              changes={"flag_reviewed": True, "excluded": evaluation.excluded, "note": note[:200]})
        transaction.on_commit(lambda: evaluation_changed.send(sender=Evaluation, evaluation=evaluation))
    return evaluation


def evaluation_set_excluded(*, actor: Principal | None, evaluation: Evaluation, excluded: bool, reason: str) -> Evaluation:
    """Called by followups when an appeal (申诉) of a bad review is upheld: the evaluation stays,
    marked, and leaves the figures. Runs inside the caller's transaction."""
    Evaluation.objects.filter(pk=evaluation.pk).update(excluded=excluded)
    evaluation.excluded = excluded
    audit(actor=actor, action=AuditEntry.Action.UPDATE, target=evaluation,
          changes={"excluded": excluded, "reason": reason[:200]})
    transaction.on_commit(lambda: evaluation_changed.send(sender=Evaluation, evaluation=evaluation))
    return evaluation


def reason_options_ensure_defaults() -> None:
    """The default list of bad-review reasons (idempotent)."""
    defaults = [
        ("attitude", "服务态度差"), ("slow", "办理时间长、效率低"), ("many_trips", "多次跑动、反复提交材料"),
        ("unclear_guide", "办事指南不清楚、告知不一次到位"), ("not_done", "未能办成"), ("fee", "乱收费"),
        ("environment", "办事环境差、排队久"), ("system", "系统故障、网上办理不便"), ("other", "其他"),
    ]
    for i, (code, label) in enumerate(defaults):
        ReasonOption.objects.get_or_create(code=code, defaults={"label": label, "order": i * 10})


def evaluations_invite_missing(*, limit: int = 5000) -> int:
    """Issue the links a lost ``case_completed`` signal missed (completed, no link, still
    within the evaluation period). Idempotent."""
    from bianmin.cases.models import Case, State

    since = timezone.now() - timedelta(days=conf.link_valid_days())
    cases = (Case.objects.filter(state=State.COMPLETED, completed_at__gte=since, evaluation_link__isnull=True)
             .select_related("site")[:limit])
    n = 0
    for case in cases:
        evaluation_link_issue(case=case)
        n += 1
    return n
