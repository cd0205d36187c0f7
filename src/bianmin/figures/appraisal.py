"""人民满意基层单位 (the people's-satisfaction appraisal of grassroots units): a score per service
center combining what citizens said (evaluations: 满意率, 参评率; follow-up calls and
questionnaires: 回访满意率), how complaints were handled (差评回访率, 差评整改率; appeals: 按时答复率,
满意率) and, when an app provides it, inspections (providers.appraisal_scores).

score = Σ weightᵢ × rateᵢ × 100 / Σ weightᵢ over the parts the unit has data for (a part with no
denominator is left out rather than counted as 0, and listed as such), weights configurable
(``BIANMIN_APPRAISAL_WEIGHTS``). A unit with fewer than ``MIN_EVALUATED`` evaluated cases is
listed but not ranked (too few voices to compare). All counts follow cohorts.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count

from bianmin.core.capabilities import Cap
from bianmin.core.principal import Principal
from bianmin.core.scoping import require

from . import cohorts as C
from .conf import appraisal_weights
from .models import FIELDS
from .providers import appraisal_scores
from .rollups import slice_sums
from .selectors import rates_from, with_live

MIN_EVALUATED = 30
PART_LABELS = {"satisfaction": "满意率", "participation": "参评率", "followup": "差评回访率",
               "rectification": "差评整改率", "fu_satisfaction": "回访满意率", "appeal_on_time": "诉求按时答复率",
               "appeal_satisfaction": "诉求满意率", "inspection": "督查得分"}


@dataclass
class Unit:
    site: object
    counts: dict
    parts: dict[str, float | None] = field(default_factory=dict)  # 0–1, None: no data
    score: float | None = None
    rank: int | None = None
    ranked: bool = False


def appraisal(*, actor: Principal, area, start: date, end: date) -> list[Unit]:
    from bianmin.regions.models import ServiceSite

    require(actor, Cap.VIEW, area)
    weights = appraisal_weights()
    centers = list(ServiceSite.objects.filter(kind="center", area__path__startswith=area.path).select_related("area")
                   .order_by("area__code", "code"))
    ids = [s.pk for s in centers]
    got = {k[0]: v for k, v in slice_sums(start, end, sites=ids, by="site").items()}
    live: dict[int, dict] = {}
    for name in ("rect_overdue_open", "appeal_overdue_open"):
        for site_id, n in C.rows(name, C.Where(area.path), start, end).filter(site_id__in=ids) \
                .values_list("site_id").annotate(n=Count("pk")).order_by():
            live.setdefault(site_id, {})[name] = n
    inspections = appraisal_scores(site_ids=ids, start=start, end=end)
    zero = dict.fromkeys(FIELDS, 0)
    units = []
    for s in centers:
        counts = with_live(got.get(s.pk, zero), live.get(s.pk, {}))
        rates = {r.key: r.value for r in rates_from(counts, [k for k in PART_LABELS if k != "inspection"])}
        parts = dict(rates)
        scores = inspections.get(s.pk)
        parts["inspection"] = None if not scores else sum(scores) / len(scores) / 100
        have = {k: v for k, v in parts.items() if v is not None and weights.get(k, 0) > 0}
        total_w = sum(weights[k] for k in have)
        score = None if not total_w else sum(weights[k] * v for k, v in have.items()) * 100 / total_w
        units.append(Unit(s, counts, parts, score, ranked=counts["evaluated"] >= MIN_EVALUATED and score is not None))
    order = sorted((u for u in units if u.ranked), key=lambda u: (-u.score, -u.counts["evaluated"]))
    for i, u in enumerate(order, start=1):
        u.rank = i
    return sorted(units, key=lambda u: (u.rank is None, u.rank or 0, u.site.code))
