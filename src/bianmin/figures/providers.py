"""Figures of apps that come and go (inspections, kiosks, policies…) without the apps importing
figures: an app may have a module ``<app>/metrics.py`` with either or both of

    def cockpit_figures(*, area_path: str, site_id: int | None, window_id: int | None,
                        start: date, end: date) -> list[dict]
        # each {"key", "label", "value", "unit" (optional), "url" (optional: the rows behind it)}

    def appraisal_scores(*, site_ids: list[int], start: date, end: date) -> dict[int, float]
        # a score 0–100 per site (e.g. the inspection score), used by the 人民满意基层单位 appraisal

figures finds these modules among the installed apps (it may read every app) and shows what they
return in the cockpit (its "其他业务" section) and the appraisal ("inspection" weight). A failing
provider is logged and left out: one app's bug does not take the cockpit down."""

from __future__ import annotations

import logging
from functools import cache
from importlib import import_module

from django.apps import apps

log = logging.getLogger(__name__)


@cache
def providers() -> list[tuple[str, object]]:
    out = []
    for config in apps.get_app_configs():
        if not config.name.startswith("bianmin.") or config.name == "bianmin.figures":
            continue
        try:
            module = import_module(f"{config.name}.metrics")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.metrics":
                log.exception("figures: %s.metrics failed to import", config.name)
            continue
        out.append((str(config.verbose_name), module))
    return out


def provided_figures(*, place, start, end) -> list[dict]:
    where = place.where
    out = []
    for label, module in providers():
        fn = getattr(module, "cockpit_figures", None)
        if fn is None:
            continue
        try:
            for fig in fn(area_path=where.path, site_id=where.site, window_id=where.window, start=start, end=end):
                out.append({"app": label, **fig})
        except Exception:
            log.exception("figures: the cockpit figures of %s failed", label)
    return out


def appraisal_scores(*, site_ids: list[int], start, end) -> dict[int, list[float]]:
    """Every provider's score per site (a site may have several: their mean is used)."""
    out: dict[int, list[float]] = {}
    for label, module in providers():
        fn = getattr(module, "appraisal_scores", None)
        if fn is None:
            continue
        try:
            for site_id, score in fn(site_ids=site_ids, start=start, end=end).items():
                out.setdefault(site_id, []).append(float(score))
        except Exception:
            log.exception("figures: the appraisal scores of %s failed", label)
    return out
