from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.intake, name="intake"),
    path("manage/", views.manage, name="manage"),
    path("overdue/", views.overdue, name="overdue"),
    path("track/", views.track, name="track"),
    path("dossiers.zip", views.dossiers_zip, name="dossiers-zip"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/dossier.pdf", views.dossier, name="dossier"),
    path("<int:case_id>/receipt/", views.acceptance_receipt, name="receipt"),
    path("<int:case_id>/receipt.pdf", views.acceptance_receipt, {"fmt": "pdf"}, name="receipt-pdf"),
    path("<int:case_id>/notice/", views.correction_notice, name="notice"),
    path("<int:case_id>/notice.pdf", views.correction_notice, {"fmt": "pdf"}, name="notice-pdf"),
    path("<int:case_id>/unmask/", views.unmask, name="unmask"),
    path("<int:case_id>/assign/", views.assign, name="assign"),
    path("<int:case_id>/materials/<int:material_id>/", views.material, name="material"),
    path("<int:case_id>/<str:action>/", views.act, name="act"),
]
