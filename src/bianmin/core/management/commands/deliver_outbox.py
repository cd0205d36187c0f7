import signal
import threading
import time

from django.core.management.base import BaseCommand

from bianmin.core.outbox import deliver_due
from bianmin.core.ratelimit import purge_expired

PURGE_EVERY_SECONDS = 3600


class Command(BaseCommand):
    help = "发送到期的外发消息（短信、12345、省好差评系统等）。--loop 持续运行，供后台进程使用。"

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="持续运行，直到收到停止信号")
        parser.add_argument("--interval", type=float, default=5.0, help="两轮之间的间隔秒数（默认 5）")
        parser.add_argument("--limit", type=int, default=100, help="每轮最多发送条数（默认 100）")

    def handle(self, *args, **options):
        stop = threading.Event()
        if options["loop"]:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        purged_at: float | None = None
        while True:
            if options["loop"] and (purged_at is None or time.monotonic() - purged_at > PURGE_EVERY_SECONDS):
                # The long-running worker also clears ended rate-limit windows (RateCounter rows).
                purge_expired()
                purged_at = time.monotonic()
            stats = deliver_due(limit=options["limit"])
            if options["verbosity"] >= 1 and (stats.claimed or not options["loop"]):
                self.stdout.write(
                    f"外发消息：取出 {stats.claimed} 条，成功 {stats.sent} 条，稍后重试 {stats.retried} 条，"
                    f"失败 {stats.failed} 条"
                )
            if not options["loop"] or stop.is_set():
                return
            # A full batch means more may be due: go again at once.
            if stats.claimed < options["limit"]:
                stop.wait(options["interval"])
            if stop.is_set():
                return
