from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:job_id>/download/", views.job_download, name="download"),
    path("<int:job_id>/retry/", views.job_retry, name="retry"),
]
