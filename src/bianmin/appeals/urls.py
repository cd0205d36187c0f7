from django.urls import path

from . import views

app_name = "appeals"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("manage/", views.manage, name="manage"),
    path("new/", views.new, name="new"),
    path("analysis/", views.analysis, name="analysis"),
    path("analysis/rectify/", views.rectify, name="rectify"),
    path("kpi/", views.kpi, name="kpi"),
    path("import/", views.import_upload, name="import"),
    path("import/<int:job_id>/", views.import_job, name="import_job"),
    path("submit/", views.submit, name="submit"),
    path("track/", views.track, name="track"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
]
