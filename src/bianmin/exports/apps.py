from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "bianmin.exports"
    label = "exports"
    verbose_name = "导出任务"

    def ready(self):
        from bianmin.accounts.menu import register

        # Every logged-in user: the page lists only their own jobs.
        register("我的导出", "exports:list", None, group="常用", order=5)
