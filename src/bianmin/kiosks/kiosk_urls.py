"""The kiosk's screens (/kiosk/) and the public verification page of its certificates."""

from django.urls import path

from . import kiosk_views as views

app_name = "kiosk"

urlpatterns = [
    path("", views.home, name="home"),
    path("pair/", views.pair, name="pair"),
    path("items/<str:code>/", views.item, name="item"),
    path("identify/", views.identify, name="identify"),
    path("done/", views.done, name="done"),
    path("certificate.pdf", views.certificate_pdf, name="certificate-pdf"),
    path("evaluate/", views.evaluate, name="evaluate"),
    path("end/", views.end, name="end"),
    path("reader/demo/", views.demo_reader, name="demo-reader"),
    path("v/<str:number>/<str:code>/", views.verify, name="verify"),
]
