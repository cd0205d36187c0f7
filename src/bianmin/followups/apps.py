from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "bianmin.followups"
    label = "followups"
    verbose_name = "回访与整改"
