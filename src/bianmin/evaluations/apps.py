from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "bianmin.evaluations"
    label = "evaluations"
    verbose_name = "好差评"
