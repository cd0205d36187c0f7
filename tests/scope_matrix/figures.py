"""Routes of the figures in the scope matrix: every figure of an area is its viewers' only; an
area of 鼓东 is reached by its own users and the district's, not by 鼓西's or 台江's."""

from __future__ import annotations

from . import GUDONG, Scoped

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
