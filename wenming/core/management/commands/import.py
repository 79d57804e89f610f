"""wenming import <台账> <文件.xlsx> [--dry-run] [--as 用户名] [--report 结果.xlsx]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from wenming.core import excel
from wenming.core.errors import DomainError

from .export import progress_bar

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "从 Excel（.xlsx）导入台账：志愿者、志愿服务队、实践组织、阵地、群众需求。每行单独写入；已存在的行跳过。"

    def add_arguments(self, parser):
        parser.add_argument("dataset", help="台账：" + "、".join(f"{d.name}（{d.title}）" for d in excel.datasets()))
        parser.add_argument("file", help="要导入的 .xlsx 文件")
        parser.add_argument("--dry-run", action="store_true", help="只预检，不写入任何数据")
        parser.add_argument("--as", dest="username", help="以该账号的身份和管辖范围导入（默认：第一个超级管理员）")
        parser.add_argument("--report", help="把逐行结果（有误和跳过的行）写入该 .xlsx 文件")

    def handle(self, *args, dataset, file, dry_run, username, report, **options):
        try:
            ds = excel.get_dataset(dataset)
            user = excel.account_for_command(username)
        except DomainError as exc:
            raise CommandError(self._known(exc.message))
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        console = Console(stderr=True)
        with progress_bar(console) as bar:
            task = bar.add_task("预检" if dry_run else "导入", total=None)
            try:
                result = excel.run_import(ds, user, path, dry_run=dry_run, filename=path.name,
                                          progress=lambda done, total: bar.update(task, completed=done, total=total))
            except DomainError as exc:
                raise CommandError(exc.message)
            bar.update(task, total=result.total, completed=result.total)
        self._show(result)
        if report:
            count = excel.write_error_report(report, result)
            self.stdout.write(f"逐行结果（{count}条）已写入 {report}")

    def _known(self, message: str) -> str:
        if "没有这类台账" in message:
            return message + "可选：" + "、".join(d.name for d in excel.datasets())
        return message

    def _show(self, result) -> None:
        prefix = "预检（未写入）" if result.dry_run else "导入完成"
        self.stdout.write(f"{prefix}：{result.summary()}")
        if result.errors:
            table = Table("行号", "列", "原因", title=f"有误的行（显示前{SHOWN_ERRORS}条，共{len(result.errors)}条）")
            for e in result.errors[:SHOWN_ERRORS]:
                table.add_row(str(e.row), f"{e.letter} {e.column}".strip() or "—", e.message)
            Console(file=self.stdout, width=120).print(table)
