"""`wenming sweep`: the periodic jobs, for a server without Redis/Celery (run it from cron every few
minutes). It acts on the needs' missed deadlines (escalation, re-dispatch, closing unrated needs) and
turns stale open check-ins into "awaiting decision", and counts the activities that have ended in the
statistics. Running it twice changes nothing twice."""

from django.core.management.base import BaseCommand

from wenming.activities.services import expire_open_checkins
from wenming.needs.services import sweep
from wenming.stats.rollups import advance_clock


class Command(BaseCommand):
    help = "处理超时的群众点单（升级、改派、自动办结）和未签退的签到（periodic sweep, for cron）"

    def handle(self, *args, **options):
        result = sweep()
        expired = expire_open_checkins()
        ended = advance_clock()
        self.stdout.write(
            f"升级 {result.escalated} 项，退回改派 {result.reassigned} 项，标记超时 {result.overdue} 项，"
            f"自动办结 {result.closed_unrated} 项；未签退转待处理 {expired} 条；统计计入刚结束的活动 {ended} 场。"
        )
