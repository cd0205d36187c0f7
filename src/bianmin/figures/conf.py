"""The figures' settings (defaults and meanings in the one table, bianmin/conf.py)."""

from __future__ import annotations

from datetime import date

from django.conf import settings


def repair_days() -> int:
    """How many recent days the daily job recounts from the raw rows (a lost news older than
    this waits for ``rebuild_rollups``)."""
    return int(settings.BIANMIN_FIGURES_REPAIR_DAYS)


def rollout_targets() -> dict[str, date]:
    """The seed's commitments: every township on the platform by 2021-06-01, every
    village/community by 2021-09-01."""
    return {"township": date.fromisoformat(settings.BIANMIN_ROLLOUT_TOWNSHIP_TARGET),
            "village": date.fromisoformat(settings.BIANMIN_ROLLOUT_VILLAGE_TARGET)}


DEFAULT_APPRAISAL_WEIGHTS = {"satisfaction": 40, "participation": 10, "followup": 10, "rectification": 10,
                             "fu_satisfaction": 10, "appeal_on_time": 10, "appeal_satisfaction": 10, "inspection": 0}


def appraisal_weights() -> dict[str, float]:
    """Weights of the 人民满意基层单位 score (they need not sum to 100: the score is normalised by
    the weights of the parts a unit has data for)."""
    raw = settings.BIANMIN_APPRAISAL_WEIGHTS or ""
    weights = dict(DEFAULT_APPRAISAL_WEIGHTS)
    for part in str(raw).split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            if k.strip() in weights:
                weights[k.strip()] = float(v)
    return weights
