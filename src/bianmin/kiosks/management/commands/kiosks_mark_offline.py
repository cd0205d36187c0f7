from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "自助终端：将超过设定时间无心跳的终端标记为离线，并通知所在县（市）区（可重复运行）。"

    def handle(self, *args, **options):
        from bianmin.kiosks.services import terminals_mark_offline

        marked = terminals_mark_offline()
        self.stdout.write(f"新标记离线终端 {len(marked)} 台" + (f"：{'、'.join(t.code for t in marked)}" if marked else ""))
