from django.urls import path

from . import views

app_name = "kiosks"

urlpatterns = [
    path("", views.terminal_list, name="terminals"),
    path("terminals/new/", views.terminal_new, name="terminal-new"),
    path("terminals/<str:code>/", views.terminal_detail, name="terminal"),
    path("terminals/<str:code>/maintenance/", views.terminal_maintenance, name="terminal-maintenance"),
    path("terminals/<str:code>/pairing/", views.terminal_pairing, name="terminal-pairing"),
    path("terminals/<str:code>/key/", views.terminal_key, name="terminal-key"),
    path("usage/", views.usage_home, name="usage"),
    path("areas/<str:code>/", views.area_page, name="area"),
    path("areas/<str:code>/usage.xlsx", views.area_xlsx, name="area-xlsx"),
    path("sites/<str:code>/", views.site_page, name="site"),
    path("items/", views.item_list, name="items"),
    path("certificates/", views.certificate_list, name="certificates"),
    path("certificates/<str:number>/", views.certificate_detail, name="certificate"),
    path("certificates/<str:number>/pdf", views.certificate_file, name="certificate-pdf"),
]
