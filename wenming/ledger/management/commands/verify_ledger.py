"""`wenming verify-ledger`: recompute every volunteer's hash chain and check that every
points movement balances. Exit code 1 when anything was changed, removed or inserted
behind the application's back."""

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from wenming.ledger.chain import verify_chains, verify_points
from wenming.ledger.models import PointMovement, ServiceRecord
from wenming.people.models import Volunteer


class Command(BaseCommand):
    help = "核对志愿服务记录哈希链与积分分录（verify the ledger's hash chains and double entry）"

    def add_arguments(self, parser):
        parser.add_argument(
            "--volunteer",
            action="append",
            default=None,
            metavar="编号",
            help="只核对这名志愿者（志愿者编号；可重复）",
        )
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, volunteer=None, no_progress=False, **options):
        console = Console(file=self.stdout._out, highlight=False, soft_wrap=True)
        ids = None
        if volunteer:
            found = dict(Volunteer.objects.filter(number__in=volunteer).values_list("number", "pk"))
            unknown = [n for n in volunteer if n not in found]
            if unknown:
                raise CommandError(f"志愿者编号不存在：{'、'.join(unknown)}", returncode=2)
            ids = list(found.values())
        records = (
            ServiceRecord.objects.filter(volunteer_id__in=ids).count()
            if ids
            else ServiceRecord.objects.count()
        )
        movements = 0 if ids else PointMovement.objects.count()
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=no_progress,
            transient=True,
        ) as progress:
            chains_task = progress.add_task("核对服务记录哈希链", total=records)
            report = verify_chains(ids, advance=lambda n: progress.advance(chains_task, n))
            if ids is None:
                points_task = progress.add_task("核对积分分录", total=movements)
                verify_points(advance=lambda n: progress.advance(points_task, n), report=report)
        summary = f"{report.chains}条时长链、{report.records}条服务记录"
        if ids is None:
            summary += f"、{report.movements}笔积分变动"
        if report.ok:
            console.print(f"[green]台账完好[/green]：已核对{summary}，未发现改动、删除或插入。")
            return
        console.print(f"[red]发现 {len(report.problems)} 处问题[/red]（已核对{summary}）：")
        for problem in report.problems:
            console.print(f"  [{problem.kind}] {problem.message}", markup=False)
        raise CommandError(f"台账核对未通过：{len(report.problems)} 处问题。", returncode=1)
