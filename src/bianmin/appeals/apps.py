from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "bianmin.appeals"
    label = "appeals"
    verbose_name = "诉求"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        from .signals import connect

        connect()  # every appeal saved announces itself on commit (appeal_changed)

        register("我负责的诉求", "appeals:mine", Cap.APPEAL_HANDLE, group="诉求", order=40)
        register("诉求登记（电话/接待/意见箱）", "appeals:new", Cap.APPEAL_HANDLE, group="诉求", order=41)
        register("诉求管理（超期/升级）", "appeals:manage", Cap.VIEW, group="诉求", order=42)
        register("高频诉求分析", "appeals:analysis", Cap.VIEW, group="诉求", order=43)
        register("诉求考核指标", "appeals:kpi", Cap.VIEW, group="诉求", order=44)
        register("12345工单导入", "appeals:import", Cap.APPEAL_MANAGE, group="诉求", order=45)
