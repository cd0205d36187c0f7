from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "bianmin.catalog"
    label = "catalog"
    verbose_name = "事项目录"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        register("事项与进驻（本辖区场所）", "catalog:staff", Cap.STATIONING_EDIT, group="事项目录", order=20)
        register("“应进必进”落实情况", "catalog:staff-compliance", Cap.VIEW, group="事项目录", order=21)
        register("事项目录导入导出", "catalog:staff-import", Cap.CATALOG_EDIT, group="事项目录", order=22)
        register("办事指南查询（公众页面）", "catalog:search", None, group="事项目录", order=23)
