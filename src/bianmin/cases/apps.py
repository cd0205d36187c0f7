from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "bianmin.cases"
    label = "cases"
    verbose_name = "办件"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        register("我的办件队列", "cases:queue", Cap.CASE_HANDLE, group="办件", order=10)
        register("窗口收件", "cases:intake", Cap.CASE_HANDLE, group="办件", order=11)
        register("场所办件总览", "cases:manage", Cap.CASE_MANAGE, group="办件", order=12)
        register("超期办件", "cases:overdue", Cap.VIEW, group="办件", order=13)
