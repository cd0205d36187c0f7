from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "bianmin.evaluations"
    label = "evaluations"
    verbose_name = "好差评"

    def ready(self):
        from . import receivers  # noqa: F401  (case completed → link and SMS invitation)
