"""`wenming demo`: load the demo district (双清区) into an empty database, once."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from wenming.demo.district import (
    DEFAULT_VOLUNTEERS,
    PASSWORD,
    SEED,
    URL,
    AlreadyLoaded,
    DistrictBuilder,
    NotEmpty,
    account_rows,
)


class Command(BaseCommand):
    help = ("加载演示区县（双清区）：中心、所、站、平台、队伍、阵地、联系点、约2000名志愿者、各角色演示账号，"
            "以及一年的活动、报名、签到签退、服务时长、积分和星级。")

    def add_arguments(self, parser):
        parser.add_argument("--volunteers", type=int, default=DEFAULT_VOLUNTEERS,
                            help=f"志愿者人数（默认 {DEFAULT_VOLUNTEERS}）")
        parser.add_argument("--seed", type=int, default=SEED, help="随机种子（相同种子生成相同数据）")

    def handle(self, *args, volunteers, seed, verbosity=1, **options):
        if not 20 <= volunteers <= 200_000:
            raise CommandError("志愿者人数须在20至200000之间。")
        started = time.monotonic()
        self._migrate_if_needed(verbosity)
        # The bar goes to stderr, so the accounts printed on stdout stay clean for scripts.
        console = Console(stderr=True)
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, disable=verbosity < 1, transient=False,
        )
        try:
            with progress:
                summary = DistrictBuilder(volunteers=volunteers, seed=seed, progress=progress).load()
        except AlreadyLoaded:
            self.stdout.write("演示数据已存在，未重复加载。")
            self._print_accounts()
            return
        except NotEmpty as exc:
            raise CommandError(
                f"数据库中已有非演示数据（{exc}），演示数据只能加载到空数据库，以免与真实数据混在一起。"
                "请换用新的数据库（设置 WENMING_VAR 或 DATABASE_URL）后再运行 wenming demo。"
            )
        s = summary
        self.stdout.write(self.style.SUCCESS(
            f"演示区县已加载：1个中心、{s.institutes}个实践所、{s.stations}个实践站、{s.platforms}个平台、"
            f"{s.teams}支队伍（{s.memberships}人次入队）、{s.social_orgs}个公益组织、{s.sites}处阵地、"
            f"{s.contact_points}个联系点、{s.volunteers}名志愿者。"
        ))
        a = s.activities
        if a.get("activities"):
            ph = a["phases"]
            self.stdout.write(
                f"一年的活动：{a['activities']}场（招募中{ph.get('recruiting', 0)}、进行中{ph.get('in_progress', 0)}、"
                f"已结束待结算{ph.get('finished', 0)}、已结算{ph.get('settled', 0)}、已取消{ph.get('cancelled', 0)}、"
                f"草稿{ph.get('draft', 0)}），{a['brands']}个项目品牌；报名{a['signups']}人次（候补{a['waiting']}），"
                f"签到{a['attendances']}人次；服务记录{a['verified_records'] + a['recorded_records']}条"
                f"（核验{a['verified_records']}、补录{a['recorded_records']}），积分{a['points']}分，"
                f"星级志愿者{sum(a['starred'].values())}名，服务记录证明{a['certificates']}份。"
            )
        n = s.needs
        if n.get("needs"):
            st = n["states"]
            self.stdout.write(
                f"群众点单：{n['needs']}项（待审核{st.get('submitted', 0)}、待派单{st.get('approved', 0)}、"
                f"已派单{st.get('dispatched', 0)}、办理中{st.get('accepted', 0) + st.get('in_service', 0)}、"
                f"待评价{st.get('completed', 0)}、已完成{st.get('closed', 0)}、已驳回{st.get('rejected', 0)}、"
                f"已取消{st.get('cancelled', 0)}），超时{n['overdue']}项，心愿墙{n['wishes_on_wall']}个，"
                f"服务清单{n['offers']}项。"
            )
        m = s.publicity
        if m.get("media_reports"):
            lv = m["levels"]
            self.stdout.write(
                f"宣传报道：{m['media_reports']}篇（区级{lv.get('district', 0)}、市级{lv.get('city', 0)}、"
                f"省级{lv.get('province', 0)}、中央{lv.get('central', 0)}）；数据统计见 /stats/，数据大屏 /stats/screen/。"
            )
        self.stdout.write(f"用时 {time.monotonic() - started:.1f} 秒（写入数据 {s.elapsed:.1f} 秒）。")
        self._print_accounts()

    def _migrate_if_needed(self, verbosity):
        """A fresh machine has an empty database: create the tables first (one command to the demo)."""
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            if verbosity:
                self.stdout.write("正在初始化数据库（执行迁移）……")
            call_command("migrate", verbosity=0, interactive=False)

    def _print_accounts(self):
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {PASSWORD}）：")
        for username, role, display_name, scope in account_rows():
            self.stdout.write(f"  {username:<16} {role} · {display_name} · {scope}")
        self.stdout.write("")
        self.stdout.write(f"启动：wenming runserver，然后在浏览器打开 {URL}")
