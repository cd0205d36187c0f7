"""Routes of the figures in the scope matrix: every figure of an area is its viewers' only; an
area of 鼓东 is reached by its own users and the district's, not by 鼓西's or 台江's."""

from __future__ import annotations

from datetime import date

from . import GUDONG, GULOU, Public, Scoped

ROUTES = [
    Scoped("figures:rates", make=lambda w: f"/figures/rates/?area={GUDONG}"),
    Scoped("figures:rows", make=lambda w: f"/figures/rows/?m=completed&area={GUDONG}"),
    Scoped("api:figures_rates", make=lambda w: f"/api/v1/figures/rates?area_code={GUDONG}&date_from=2030-01-01"
                                                 f"&date_to=2030-01-31"),
]
ROUTES += [
    Scoped("figures:cockpit", make=lambda w: f"/figures/?area={GUDONG}"),
    Scoped("api:figures_cockpit", make=lambda w: f"/api/v1/figures/cockpit?area_code={GUDONG}&date_from=2030-01-01"
                                                   f"&date_to=2030-01-31"),
]


def _report(w):
    from bianmin.figures.models import Report

    r, _ = Report.objects.get_or_create(kind="monthly", area=w.areas[GUDONG], period_start=date(2030, 1, 1),
                                        defaults={"period_end": date(2030, 1, 31)})
    return r


ROUTES += [
    Scoped("figures:rollout", make=lambda w: f"/figures/rollout/?area={GUDONG}"),
    Scoped("figures:appraisal", make=lambda w: f"/figures/appraisal/?area={GUDONG}"),
    Scoped("figures:coverage", make=lambda w: f"/figures/coverage/?area={GUDONG}"),
    Scoped("figures:reports", make=lambda w: f"/figures/reports/?area={GUDONG}"),
    # A report not made yet: its owner and the district get "not made yet" (404) as the others
    # get "not found" (404); the made file is tested in tests/figures/test_pages.py.
    Scoped("figures:report-file", ok=(404,), make=lambda w: f"/figures/reports/{_report(w).pk}.pdf"),
    Public("figures:public-site", make=lambda w: f"/figures/public/sites/{w.site(GUDONG).code}/"),
    Public("figures:public-district", make=lambda w: f"/figures/public/districts/{GULOU}/"),
]
