from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bianmin.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self):
        from bianmin.core.capabilities import Cap
        from bianmin.core.principal import install_request_principal

        from . import signals  # noqa: F401  (audit of log-ins and log-outs)
        from .menu import STAFF_ONLY, register
        from .principals import principal_of

        install_request_principal(principal_of)

        register("账号管理", "accounts:users", Cap.USERS_MANAGE, group="账号与安全", order=880)
        register("接口密钥管理（评价器、自助终端、外部系统）", "accounts:keys", Cap.KEYS_MANAGE, group="账号与安全", order=890)
        register("修改密码", "accounts:password_change", None, group="账号与安全", order=900)
        register("审计日志", "accounts:audit", Cap.AUDIT_VIEW, group="账号与安全", order=910)
        register("管理后台（用户、角色、密钥、区划、日历）", "admin:index", STAFF_ONLY, group="账号与安全", order=920)
        register("接口文档", "api:openapi-view", None, group="账号与安全", order=930)
