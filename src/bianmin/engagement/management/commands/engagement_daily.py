from django.core.management.base import BaseCommand

from bianmin.engagement.services import opinions_sweep_rectified, proposals_remind


class Command(BaseCommand):
    help = "座谈培训与提案：发送提案办理催办提醒，补记已完成整改的座谈会意见（幂等）"

    def handle(self, *args, **options):
        self.stdout.write(f"催办提醒 {proposals_remind()} 条；意见反馈 {opinions_sweep_rectified()} 条")
