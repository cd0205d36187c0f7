from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "bianmin.regions"
    label = "regions"
    verbose_name = "区划与服务场所"
