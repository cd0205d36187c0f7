from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("", views.home, name="home"),
    path("cycles/new/", views.cycle_new, name="cycle-new"),
    path("cycles/<int:cycle_id>/", views.cycle_detail, name="cycle"),
    path("cycles/<int:cycle_id>/ranking/", views.cycle_ranking, name="cycle-ranking"),
    path("sites/<int:sampled_site_id>/", views.site_detail, name="site"),
    path("sites/<int:sampled_site_id>/materials/<int:material_id>/", views.material_download, name="material"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/<int:notice_id>/", views.notice_detail, name="notice"),
    path("notices/<int:notice_id>/pdf/", views.notice_pdf, name="notice-pdf"),
    path("notices/<int:notice_id>/evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("checks/", views.check_list, name="checks"),
    path("checks/new/", views.check_new, name="check-new"),
    path("checks/<int:check_id>/", views.check_detail, name="check"),
    path("checks/<int:check_id>/photos/<int:photo_id>/", views.photo_download, name="photo"),
    path("findings/", views.finding_list, name="findings"),
    path("assessment/", views.assessment, name="assessment"),
    path("settings/", views.settings_page, name="settings"),
    path("templates/<int:template_id>/", views.template_detail, name="template"),
    path("inbox/", views.inbox, name="inbox"),
]
