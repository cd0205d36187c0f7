from django.urls import path

from . import views

app_name = "figures"

urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("rates/", views.rates, name="rates"),
    path("rows/", views.rows, name="rows"),
    path("rollout/", views.rollout, name="rollout"),
    path("appraisal/", views.appraisal, name="appraisal"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:report_id>.<str:fmt>", views.report_file, name="report-file"),
    path("coverage/", views.coverage, name="coverage"),
    path("public/sites/<str:code>/", views.public_site, name="public-site"),
    path("public/districts/<str:code>/", views.public_district, name="public-district"),
]
