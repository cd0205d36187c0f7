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
]
