from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "好差评每日任务：补发漏发的评价邀请；办结超过7日未评价的办件记为默认满意（可重复运行）。"

    def handle(self, *args, **options):
        from bianmin.evaluations.services import evaluations_apply_defaults, evaluations_invite_missing

        invited = evaluations_invite_missing()
        defaults = evaluations_apply_defaults()
        self.stdout.write(f"补发评价邀请 {invited} 件；默认好评 {defaults} 件")
