from django.core.management.base import BaseCommand

from bianmin.accounts.models import User


class Command(BaseCommand):
    help = "停用并删除演示账号（对外开放前必须执行）。审计日志中的历史记录保留。"

    def handle(self, *args, **options):
        demo = User.objects.filter(is_demo=True)
        count = demo.count()
        # Audit rows reference users with PROTECT: deactivate those that acted, delete the rest.
        from bianmin.core.models import AuditEntry

        acted = set(AuditEntry.objects.filter(actor__in=demo).values_list("actor_id", flat=True).distinct())
        demo.filter(pk__in=acted).update(is_active=False, is_demo=False, password="!")
        demo.exclude(pk__in=acted).delete()
        self.stdout.write(f"已处理演示账号 {count} 个（有操作记录的 {len(acted)} 个已停用，其余已删除）")
