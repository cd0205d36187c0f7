from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("audit/", views.audit_list, name="audit"),
    path("audit/export.csv", views.audit_export, {"fmt": "csv"}, name="audit_export_csv"),
    path("audit/export.xlsx", views.audit_export, {"fmt": "xlsx"}, name="audit_export_xlsx"),
    path("users/", views.users_list, name="users"),
    path("users/export.xlsx", views.users_export, name="users_export"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("users/<int:user_id>/roles/", views.user_role_assign, name="user_role_assign"),
    path("users/<int:user_id>/roles/<int:assignment_id>/revoke/", views.user_role_revoke, name="user_role_revoke"),
    path("users/<int:user_id>/password/", views.user_password_reset, name="user_password_reset"),
    path("users/<int:user_id>/unlock/", views.user_unlock, name="user_unlock"),
    path("keys/", views.keys_list, name="keys"),
    path("keys/export.xlsx", views.keys_export, name="keys_export"),
    path("keys/new/", views.key_new, name="key_new"),
    path("keys/<int:key_id>/", views.key_detail, name="key_detail"),
    path("keys/<int:key_id>/issued/", views.key_issued, name="key_issued"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
]
