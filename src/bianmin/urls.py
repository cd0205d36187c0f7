from django.contrib import admin
from django.urls import include, path

from bianmin.api import api
from bianmin.core.health import healthz
from bianmin.evaluations.views import short_link

from . import views

admin.site.site_header = "便民 政务服务平台 管理后台"
admin.site.site_title = "便民管理后台"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("", views.public_home, name="public-home"),
    path("staff/", views.staff_home, name="staff-home"),
    path("healthz", healthz, name="healthz"),
    path("e/<str:code>", short_link, name="evaluation-short-link"),  # typed from the completion slip
    path("api/", api.urls),
    path("accounts/", include("bianmin.accounts.urls")),
    path("admin/", admin.site.urls),
    path("regions/", include("bianmin.regions.urls")),
    path("catalog/", include("bianmin.catalog.urls")),
    path("cases/", include("bianmin.cases.urls")),
    path("evaluations/", include("bianmin.evaluations.urls")),
    path("followups/", include("bianmin.followups.urls")),
    path("appeals/", include("bianmin.appeals.urls")),
    path("inspections/", include("bianmin.inspections.urls")),
    path("engagement/", include("bianmin.engagement.urls")),
    path("exports/", include("bianmin.exports.urls")),
    path("figures/", include("bianmin.figures.urls")),
    path("policies/", include("bianmin.policies.urls")),
    path("kiosks/", include("bianmin.kiosks.urls")),
    path("kiosk/", include("bianmin.kiosks.kiosk_urls")),
    path("open311/v2/", include("bianmin.appeals.open311_urls")),
]

handler400 = "bianmin.views.bad_request"
handler403 = "bianmin.views.permission_denied"
handler404 = "bianmin.views.page_not_found"
handler500 = "bianmin.views.server_error"
