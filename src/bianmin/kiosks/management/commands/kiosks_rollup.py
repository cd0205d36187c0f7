from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "自助终端：汇总以往各日的使用记录（按终端和日、按区划事项和月；可重复运行）。"

    def handle(self, *args, **options):
        from bianmin.kiosks.services import usage_rollup

        result = usage_rollup()
        self.stdout.write(f"汇总 {result['days']} 天，更新 {result['months']} 个月的事项统计")
