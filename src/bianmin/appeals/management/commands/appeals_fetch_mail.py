import os

from django.core.management.base import BaseCommand, CommandError

from bianmin.appeals import mail
from bianmin.appeals.models import AppealKind
from bianmin.regions.models import Area


class Command(BaseCommand):
    help = "读取诉求电子邮箱（Maildir 目录或 IMAP），每封邮件登记为一件诉求；按 Message-ID 去重，可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--area", required=True, help="邮箱所属区划代码（诉求登记到该区划）")
        parser.add_argument("--maildir", help="Maildir 目录")
        parser.add_argument("--imap-host")
        parser.add_argument("--imap-port", type=int, default=993)
        parser.add_argument("--imap-user")
        parser.add_argument("--imap-password-env", default="BIANMIN_IMAP_PASSWORD",
                            help="存放 IMAP 密码的环境变量名（密码不写在命令行）")
        parser.add_argument("--imap-folder", default="INBOX")
        parser.add_argument("--no-ssl", action="store_true")
        parser.add_argument("--kind", default=AppealKind.CONSULT, choices=AppealKind.values,
                            help="主题未标明【投诉】【建议】等类型时的默认类型")

    def handle(self, *args, **opts):
        area = Area.objects.filter(code=opts["area"].ljust(12, "0")).first()
        if area is None:
            raise CommandError(f"区划代码 {opts['area']} 不存在")
        if opts["maildir"]:
            if not os.path.isdir(opts["maildir"]):
                raise CommandError(f"Maildir 目录不存在：{opts['maildir']}")
            source = mail.from_maildir(opts["maildir"])
        elif opts["imap_host"]:
            password = os.environ.get(opts["imap_password_env"], "")
            if not opts["imap_user"] or not password:
                raise CommandError(f"请提供 --imap-user，并在环境变量 {opts['imap_password_env']} 中设置密码")
            source = mail.from_imap(host=opts["imap_host"], port=opts["imap_port"], user=opts["imap_user"],
                                    password=password, folder=opts["imap_folder"], ssl=not opts["no_ssl"])
        else:
            raise CommandError("请指定 --maildir 或 --imap-host")
        result = mail.ingest(source, area=area, default_kind=opts["kind"], received_by=f"{area.name}诉求邮箱")
        for message_id, reason in result.failed:
            self.stderr.write(f"未登记 {message_id}：{reason}")
        self.stdout.write(f"新登记 {len(result.created)} 件，已登记过 {result.skipped} 件，失败 {len(result.failed)} 件")
