"""Demo evaluations for the demo cases.

Most completed cases get their evaluation on a bulk path that applies the same rule functions
as the service (payload cleaning, fingerprint, aspect set), so the months of history load in
seconds; the recent cases of the demo log-ins' townships (鼓东, 鼓西) are evaluated through
``evaluation_submit`` itself, so bad reviews open their handling records (followups listens)
and reports wait in the outbox. Cases left unevaluated for 7 days get the default 满意."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from .models import Channel, Evaluation, Grade, is_bad_grade

LIVE_TOWNSHIPS = ("350102001000", "350102002000")  # 鼓东, 鼓西 (the demo clerks' townships)

GRADE_WEIGHTS = [(5, 70), (4, 17), (3, 7), (2, 3.5), (1, 2.5)]
CHANNEL_WEIGHTS = [(Channel.QR, 32), (Channel.SMS, 25), (Channel.DEVICE, 25), (Channel.KIOSK, 6), (Channel.WEB, 7),
                   (Channel.PROVINCIAL_APP, 5)]
PRAISE = ["工作人员很耐心，一次就办好了", "办事效率高，流程清楚", "窗口服务热情，指引到位", "", "", "", "", "环境整洁，等候时间短"]
COMPLAINTS = {
    "attitude": "窗口人员态度冷淡，问了几遍才回答",
    "slow": "等了一个多小时才轮到，办理也慢",
    "many_trips": "材料要求没有一次说清楚，跑了三趟",
    "unclear_guide": "网上指南和窗口说法不一致",
    "not_done": "最后还是没办成，也没说清楚原因",
    "environment": "大厅座位太少，排队时间长",
    "system": "系统一直卡，网上提交不了",
}


def _pick(rng: random.Random, weighted):
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for value, w in weighted:
        x -= w
        if x <= 0:
            return value
    return weighted[-1][0]


def load_demo_evaluations(*, seed: int = 2026, rate: float = 0.75) -> dict[str, int]:
    """Idempotent: does nothing when evaluations exist."""
    from bianmin.cases.models import Case

    from . import services

    if Evaluation.objects.exists():
        return {"skipped": 1, "evaluations": Evaluation.objects.count()}
    services.reason_options_ensure_defaults()
    rng = random.Random(seed)
    now = timezone.now()
    live_from = now - timedelta(days=21)
    rows: list[Evaluation] = []
    live: list[tuple[int, int, str, list, str, object]] = []
    counts = {"bulk": 0, "live": 0, "default": 0}
    cases = (Case.objects.filter(state="completed", completed_at__isnull=False).select_related("site__area")
             .order_by("completed_at", "id"))
    for case in cases.iterator(chunk_size=2000):
        if rng.random() >= rate:
            continue  # left for the default (or still within the 7 days)
        grade = _pick(rng, GRADE_WEIGHTS)
        channel = _pick(rng, CHANNEL_WEIGHTS)
        if channel == Channel.DEVICE and not case.window_id:
            channel = Channel.QR
        reasons: list[str] = []
        text = rng.choice(PRAISE)
        if is_bad_grade(grade):
            reasons = rng.sample(list(COMPLAINTS), rng.choice([1, 1, 2]))
            text = COMPLAINTS[reasons[0]]
        at = case.completed_at + timedelta(minutes=rng.randint(2, 60 * 24 * 3))
        if at > now:
            at = now - timedelta(minutes=rng.randint(1, 60))
        if case.site.area.code in LIVE_TOWNSHIPS and case.completed_at >= live_from:
            # Canned praise repeated at one site would be flagged as 刷评 (as it should): live ones stay short.
            live.append((case.pk, grade, channel, reasons, text if is_bad_grade(grade) else "", at))
            continue
        aspect_set = services.aspect_set_for(channel, case)
        g, aspects, codes, clean_text = services._clean_payload(grade=grade, aspect_set=aspect_set, aspects={},
                                                                 reasons=reasons, text=text)
        rows.append(Evaluation(
            case_id=case.pk, kind=Evaluation.Kind.FIRST, grade=g, aspect_set=aspect_set, aspects=aspects, reasons=codes,
            text=clean_text, channel=channel, area_id=case.site.area_id, site_id=case.site_id, window_id=case.window_id,
            clerk_id=case.owner_id, item_id=case.item_id, evaluated_at=at,
            fingerprint=services._fingerprint(g, aspects, codes, clean_text),
            external_id=f"DEMO-MZT-{case.pk}" if channel == Channel.PROVINCIAL_APP else None,
            phone_key=services.keyed(case.mobile), text_key=services.keyed(clean_text),
        ))
        if len(rows) >= 2000:
            Evaluation.objects.bulk_create(rows)
            counts["bulk"] += len(rows)
            rows = []
    Evaluation.objects.bulk_create(rows)
    counts["bulk"] += len(rows)
    # Default 满意 on the bulk path too: completed more than 7 days ago, never evaluated.
    cutoff = now - timedelta(days=services.conf.default_after_days())
    defaults = []
    for case in (Case.objects.filter(state="completed", completed_at__lte=cutoff)
                 .exclude(site__area__code__in=LIVE_TOWNSHIPS, completed_at__gte=live_from)
                 .exclude(evaluations__kind=Evaluation.Kind.FIRST).select_related("site").iterator(chunk_size=2000)):
        grade = Grade.SATISFIED
        defaults.append(Evaluation(
            case_id=case.pk, kind=Evaluation.Kind.FIRST, grade=grade, aspect_set=services.aspect_set_for(Channel.DEFAULT, case),
            aspects={"overall": grade}, channel=Channel.DEFAULT, is_default=True, area_id=case.site.area_id,
            site_id=case.site_id, window_id=case.window_id, clerk_id=case.owner_id, item_id=case.item_id,
            evaluated_at=case.completed_at + timedelta(days=services.conf.default_after_days()),
            fingerprint=services._fingerprint(grade, {"overall": grade}, [], ""), phone_key=services.keyed(case.mobile)))
    Evaluation.objects.bulk_create(defaults, batch_size=2000)
    counts["default"] = len(defaults)
    # The recent weeks of 鼓东 and 鼓西 through the service (handling records, reports in the outbox).
    for case_id, grade, channel, reasons, text, at in sorted(live, key=lambda x: x[5]):
        if channel == Channel.PROVINCIAL_APP:
            channel = Channel.SMS
        try:
            services.evaluation_submit(case_id=case_id, grade=grade, channel=channel, actor=None, reasons=reasons,
                                       text=text, evaluated_at=at)
            counts["live"] += 1
        except Exception:  # a rule said no (e.g. a repeated phone): the demo skips it
            continue
    counts["default"] += services.evaluations_apply_defaults()
    counts["evaluations"] = Evaluation.objects.count()
    return counts
