from django.urls import path

from . import views

app_name = "evaluations"

urlpatterns = [
    path("", views.evaluation_list, name="list"),
    path("e/<str:token>/", views.public_form, name="public-form"),
    path("cases/<int:case_id>/slip/", views.case_slip, name="case-slip"),
    path("cases/<int:case_id>/qr.svg", views.case_qr, {"fmt": "svg"}, name="case-qr-svg"),
    path("cases/<int:case_id>/qr.png", views.case_qr, {"fmt": "png"}, name="case-qr-png"),
    path("cases/<int:case_id>/record/", views.record, name="record"),
    path("windows/<int:window_id>/screen/", views.window_screen, name="window-screen"),
    path("flagged/", views.flagged, name="flagged"),
    path("reports/", views.reports, name="reports"),
]
