from django.urls import path

from . import views

app_name = "figures"

urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("rates/", views.rates, name="rates"),
    path("rows/", views.rows, name="rows"),
    path("rollout/", views.rollout, name="rollout"),
]
