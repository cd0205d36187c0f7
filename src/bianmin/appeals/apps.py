from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "bianmin.appeals"
    label = "appeals"
    verbose_name = "诉求"
