from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "bianmin.evaluations"
    label = "evaluations"
    verbose_name = "好差评"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        from . import receivers  # noqa: F401  (case completed → link and SMS invitation)

        register("好差评", "evaluations:list", Cap.VIEW, group="好差评", order=40)
        register("异常评价复核", "evaluations:flagged", Cap.BADREVIEW_HANDLE, group="好差评", order=41)
        register("省级上报状态", "evaluations:reports", Cap.VIEW, group="好差评", order=42)
