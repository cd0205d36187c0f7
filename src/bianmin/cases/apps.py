from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "bianmin.cases"
    label = "cases"
    verbose_name = "办件"
