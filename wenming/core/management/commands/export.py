"""wenming export <台账> <输出.xlsx> [--as 用户名] [--full] [--node 区划代码]"""

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from wenming.core import excel
from wenming.core.errors import DomainError


def progress_bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


class Command(BaseCommand):
    help = "把台账导出为 Excel（.xlsx），列与导入模板相同；仅导出该账号管辖范围内的数据，并记入审计日志。"

    def add_arguments(self, parser):
        parser.add_argument("dataset", help="台账：" + "、".join(f"{d.name}（{d.title}）" for d in excel.datasets()))
        parser.add_argument("out", help="输出的 .xlsx 文件")
        parser.add_argument("--as", dest="username", help="以该账号的身份和管辖范围导出（默认：第一个超级管理员）")
        parser.add_argument("--full", action="store_true", help="导出完整的证件号码和手机号码（须有查看权限，记入审计日志）")
        parser.add_argument("--node", help="只导出该区划代码的组织及其下级")

    def handle(self, *args, dataset, out, username, full, node, **options):
        try:
            ds = excel.get_dataset(dataset)
            user = excel.account_for_command(username)
            within = excel.node_within(user, node)
            excel.require_export(user, ds, full)
            total = excel.count_for_export(ds, user, within)
        except DomainError as exc:
            raise CommandError(exc.message)
        with progress_bar(Console(stderr=True)) as bar:
            task = bar.add_task("导出", total=total)
            try:
                count = excel.export_workbook(ds, user, out, full=full, within=within,
                                              progress=lambda done: bar.update(task, completed=done))
            except DomainError as exc:
                raise CommandError(exc.message)
        shown = "（完整号码，已记入审计日志）" if full and ds.reveals else ("（证件号码、手机号码已脱敏）" if ds.reveals else "")
        self.stdout.write(f"已导出{ds.title}{count}条{shown}：{out}")
