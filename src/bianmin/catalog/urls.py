from django.urls import path

from . import views

app_name = "catalog"

urlpatterns: list = [
    path("", views.search_page, name="search"),
    path("guide/<str:code>/", views.guide_page, name="guide"),
    path("guide/<str:code>/compare/", views.guide_compare_page, name="guide-compare"),
    path("site/<str:code>/", views.site_list_page, name="site-list"),
    path("staff/", views.staff_home, name="staff"),
    path("staff/site/<str:code>/", views.staff_site, name="staff-site"),
    path("staff/site/<str:code>/stationing/", views.staff_stationing_save, name="staff-stationing"),
    path("staff/item/<int:pk>/", views.staff_item_edit, name="staff-item"),
    path("staff/compliance/", views.staff_compliance, name="staff-compliance"),
    path("staff/import/", views.staff_import, name="staff-import"),
    path("staff/import/<int:job_id>/", views.staff_import_job, name="staff-import-job"),
    path("staff/export/", views.staff_export, name="staff-export"),
]
