from django.apps import AppConfig


class KiosksConfig(AppConfig):
    name = "bianmin.kiosks"
    label = "kiosks"
    verbose_name = "自助终端"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        register("自助终端", "kiosks:terminals", Cap.VIEW, group="自助终端", order=60)
        register("终端使用统计", "kiosks:usage", Cap.VIEW, group="自助终端", order=61)
        register("自助打印证明", "kiosks:certificates", Cap.VIEW, group="自助终端", order=62)
        register("终端事项清单", "kiosks:items", Cap.VIEW, group="自助终端", order=63)
