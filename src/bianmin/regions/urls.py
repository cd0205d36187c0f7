from django.urls import path

from . import views

app_name = "regions"

urlpatterns: list = [
    path("sites/<str:code>/", views.site_detail, name="site-detail"),
]
