"""`wenming stats verify | rebuild | tick`: check the roll-ups against the raw records, rebuild them, or
count the activities that have just ended (what the Celery beat job does every minute)."""

import time

from django.core.management.base import BaseCommand, CommandError

from wenming.stats import rebuild, rollups


class Command(BaseCommand):
    help = "统计数据：verify 核对汇总与原始记录；rebuild 由原始记录重算；tick 计入刚结束的活动"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "rebuild", "tick"])
        parser.add_argument("--limit", type=int, default=50, help="verify：最多列出的差异条数")

    def handle(self, *args, action, limit, **options):
        started = time.monotonic()
        if action == "tick":
            self.stdout.write(f"计入刚结束的活动 {rollups.advance_clock()} 场。")
        elif action == "rebuild":
            rows = rebuild.rebuild()
            rebuild.refresh_statistics()
            self.stdout.write(f"已重算：日汇总 {rows['rollup']} 行，月汇总 {rows['monthrollup']} 行，成员汇总 {rows['tally']} 行，"
                              f"去重人数 {rows['periodcount']} 行（{time.monotonic() - started:.1f} 秒）。")
        else:
            problems = rebuild.verify(limit=0)
            for line in problems[:limit]:
                self.stdout.write(line)
            if problems:
                raise CommandError(f"统计汇总与原始记录不一致：共 {len(problems)} 处差异。"
                                   "请运行 wenming stats rebuild 重算。")
            self.stdout.write(f"统计汇总与原始记录一致（{time.monotonic() - started:.1f} 秒）。")
