"""Routes of regions: the public area and site API and the public site page (no personal data;
every area and active site is public)."""

from scope_matrix import GUDONG, Public

ROUTES = [
    Public("api:area_detail", make=lambda w: f"/api/v1/areas/{GUDONG}"),
    Public("api:area_children", make=lambda w: f"/api/v1/areas/{GUDONG}/children"),
    Public("api:area_sites", make=lambda w: f"/api/v1/areas/{GUDONG}/sites"),
    Public("api:sites_nearby", make=lambda w: "/api/v1/sites/nearby?lng=119.30&lat=26.08"),
    Public("api:site_detail", make=lambda w: f"/api/v1/sites/{w.site(GUDONG).code}"),
    Public("regions:site-detail", make=lambda w: f"/regions/sites/{w.site(GUDONG).code}/"),
]
