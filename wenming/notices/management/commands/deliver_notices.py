"""`wenming deliver_notices`: send the notices that are due to the outside channels (webhook …).

Without Celery (no REDIS_URL) this is what sends them: run it every minute or so from cron
or a systemd timer, or keep `wenming deliver_notices --loop 60` running. Running it twice
at once, or while Celery also sends, is safe: every delivery is sent once."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from wenming.notices import services


class Command(BaseCommand):
    help = "发送到期的站内消息外部推送（send the notices due to outside channels, with retries）"

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, metavar="秒",
                            help="不退出，每隔这么多秒再发送一次（keep running, sending every N seconds）")
        parser.add_argument("--retry-failed", action="store_true",
                            help="先把发送失败的推送重新排队（requeue failed deliveries first）")

    def handle(self, *args, loop=0, retry_failed=False, **options):
        if retry_failed:
            n = services.requeue_failed()
            self.stdout.write(f"已重新排队 {n} 条发送失败的推送")
        while True:
            report = services.deliver_due()
            if report.outcomes or not loop:
                self.stdout.write(
                    f"已发送 {report.sent} 条，待重试 {report.retrying} 条，失败 {report.failed} 条"
                )
            if not loop:
                return
            # A long-running process must not keep a connection the database has dropped.
            close_old_connections()
            try:
                time.sleep(loop)
            except KeyboardInterrupt:
                return
