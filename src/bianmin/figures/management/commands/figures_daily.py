from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "统计每日任务：从原始数据核算近期汇总、生成上月月报和上季度季报（可重复运行）。"

    def handle(self, *args, **options):
        from bianmin.figures.tasks import daily

        result = daily()
        self.stdout.write(f"已重算日汇总 {result['rebuilt']} 条；生成报告 {result['reports']} 份")
