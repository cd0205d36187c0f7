from django.urls import path

from . import views

app_name = "policies"

urlpatterns: list = [
    path("", views.search_page, name="search"),
    path("match/", views.match_page, name="match"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscriptions/<str:token>/", views.subscription_page, name="subscription"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/new/", views.staff_new, name="staff-new"),
    path("staff/expiring/", views.staff_expiring, name="staff-expiring"),
    path("staff/import/", views.staff_import, name="staff-import"),
    path("staff/export/", views.staff_export, name="staff-export"),
    path("staff/profiles/", views.staff_profiles, name="staff-profiles"),
    path("staff/profiles/new/", views.staff_profile, name="staff-profile-new"),
    path("staff/profiles/<int:pk>/", views.staff_profile, name="staff-profile"),
    path("staff/<int:pk>/", views.staff_detail, name="staff-detail"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff-edit"),
    path("staff/<int:pk>/action/", views.staff_action, name="staff-action"),
    path("staff/<int:pk>/attachments/", views.staff_attachments, name="staff-attachments"),
    # A policy code is letters, digits, "-" and "_" (services.policy_create): "staff" and the other
    # fixed paths above are matched first.
    path("<str:code>/", views.detail_page, name="detail"),
    path("<str:code>/files/<int:pk>/", views.attachment_download, name="attachment"),
]
