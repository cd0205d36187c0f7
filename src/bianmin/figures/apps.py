from django.apps import AppConfig


class FiguresConfig(AppConfig):
    name = "bianmin.figures"
    label = "figures"
    verbose_name = "统计与决策"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        from . import receivers  # noqa: F401  (the apps' news after commit → the roll-ups)

        register("指挥驾驶舱", "figures:cockpit", Cap.VIEW, group="统计与决策", order=60)
        register("好差评指标", "figures:rates", Cap.VIEW, group="统计与决策", order=61)
        register("上线推进", "figures:rollout", Cap.VIEW, group="统计与决策", order=62)
        register("月报与季报", "figures:reports", Cap.VIEW, group="统计与决策", order=63)
        register("人民满意基层单位评选", "figures:appraisal", Cap.VIEW, group="统计与决策", order=64)
        register("15分钟便民服务圈", "figures:coverage", Cap.VIEW, group="统计与决策", order=65)
