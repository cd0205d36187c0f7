from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "bianmin.inspections"
    label = "inspections"
    verbose_name = "督查"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        register("督查工作台", "inspections:home", Cap.VIEW, group="督查", order=60)
        register("整改通知", "inspections:notices", Cap.VIEW, group="督查", order=61)
        register("实地查访/暗访/电话抽查", "inspections:checks", Cap.VIEW, group="督查", order=62)
        register("督查排名与年度考核", "inspections:assessment", Cap.VIEW, group="督查", order=63)
        register("评分模板与周期计划", "inspections:settings", Cap.INSPECT, group="督查", order=64)
