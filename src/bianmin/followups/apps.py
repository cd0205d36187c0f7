from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "bianmin.followups"
    label = "followups"
    verbose_name = "回访与整改"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.core.capabilities import Cap

        from . import receivers  # noqa: F401  (bad reviews → handling; appeal groups → rectification)
        from .signals import connect

        connect()  # every handling, rectification and follow-up saved announces itself on commit

        register("回访工作台", "followups:desk", Cap.FOLLOWUP_WORK, group="回访与整改", order=50)
        register("差评处理", "followups:handlings", Cap.BADREVIEW_HANDLE, group="回访与整改", order=51)
        register("回访台账", "followups:ledger-followups", Cap.VIEW, group="回访与整改", order=52)
        register("问题清单", "followups:ledger-problems", Cap.VIEW, group="回访与整改", order=53)
        register("整改台账", "followups:ledger-rectifications", Cap.VIEW, group="回访与整改", order=54)
        register("问卷调查", "followups:questionnaires", Cap.FOLLOWUP_WORK, group="回访与整改", order=56)

        # The three ledgers as background exports (导出任务) for when they are too large to download at once.
        from bianmin.exports.registry import register as register_export

        from .exports import EXPORTERS

        for kind, label, prepare in EXPORTERS:
            register_export(kind, label, prepare, capability=Cap.VIEW)
