from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "bianmin.engagement"
    label = "engagement"
    verbose_name = "座谈培训与提案办理"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        from . import receivers  # noqa: F401  (a completed rectification → the opinion / finding it came from)

        register("座谈会", "engagement:symposiums", Cap.ENGAGEMENT_MANAGE, group="座谈培训与提案", order=60)
        register("培训会", "engagement:trainings", Cap.ENGAGEMENT_MANAGE, group="座谈培训与提案", order=61)
        register("民意诉求征集", "engagement:campaigns", Cap.VIEW, group="座谈培训与提案", order=62)
        register("提案建议办理", "engagement:proposals", Cap.VIEW, group="座谈培训与提案", order=63)
