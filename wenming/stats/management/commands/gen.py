"""`wenming gen`: a synthetic province-scale year for the benchmarks, into an empty database."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

from wenming.core.errors import DomainError
from wenming.stats import gen


class Command(BaseCommand):
    help = ("生成省级规模的模拟数据（一年的组织、志愿者、活动、服务记录和群众需求，符合全部业务规则），"
            "只能写入空数据库；用于基准测试。")

    def add_arguments(self, parser):
        # Plain strings: the generator checks them and says what is wrong in Chinese.
        parser.add_argument("--volunteers", required=True, metavar="N", help="志愿者人数")
        parser.add_argument("--records", required=True, metavar="M", help="服务记录条数")
        parser.add_argument("--needs", required=True, metavar="K", help="群众需求条数")
        parser.add_argument("--activities", default=None, metavar="A", help="活动场次（默认：服务记录条数÷25）")
        parser.add_argument("--stations", default=None, metavar="S",
                            help="实践站个数（默认：志愿者人数÷1000；实践所为其÷25）")
        parser.add_argument("--year", default=None, metavar="Y", help="数据所在年份（默认：去年）")
        parser.add_argument("--seed", default=gen.DEFAULT_SEED, metavar="SEED", help="随机种子（相同种子生成相同数据）")
        parser.add_argument("--no-rebuild", action="store_true", help="不重算统计汇总（仅供调试）")

    def handle(self, *args, volunteers, records, needs, activities, stations, year, seed, no_rebuild=False,
               verbosity=1, **options):
        try:
            opts = gen.make_options(volunteers=volunteers, records=records, needs=needs, activities=activities,
                                    stations=stations, year=year, seed=seed)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2)
        self._migrate_if_needed(verbosity)
        started = time.monotonic()

        def say(text: str) -> None:
            if verbosity:
                self.stdout.write(text)
                self.stdout.flush()

        say(_("生成 %(y)s 年的模拟数据：志愿者 %(v)s 名、服务记录 %(r)s 条、活动 %(a)s 场、群众需求 %(n)s 条、"
              "实践站 %(s)s 个（实践所 %(i)s 个），随机种子 %(seed)s；数据库 %(db)s") % {
            "y": opts.year, "v": f"{opts.volunteers:,}", "r": f"{opts.records:,}", "a": f"{opts.activities:,}",
            "n": f"{opts.needs:,}", "s": f"{opts.stations:,}", "i": opts.institutes, "seed": opts.seed,
            "db": f"{connections[DEFAULT_DB_ALIAS].vendor} {connections[DEFAULT_DB_ALIAS].settings_dict['NAME']}"})
        try:
            summary = gen.generate(opts, say, rebuild=not no_rebuild)
        except gen.NotEmpty as exc:
            raise CommandError(exc.message, returncode=3)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2)
        s = summary
        states = "、".join(f"{k} {v:,}" for k, v in sorted(s.need_states.items()))
        self.stdout.write(self.style.SUCCESS(_(
            "已生成：1个中心、%(i)s个实践所、%(st)s个实践站；账号 %(u)s 个；志愿服务队 %(t)s 支；志愿者 %(v)s 名；"
            "活动 %(a)s 场（已结算 %(sa)s 场）；服务记录 %(r)s 条（核验 %(vr)s、补录 %(rr)s，其中更正 %(c)s）；"
            "补录/更正申请 %(h)s 条；群众需求 %(n)s 条（%(states)s），时间线 %(e)s 条；宣传报道 %(m)s 篇。") % {
            "i": s.institutes, "st": f"{s.stations:,}", "u": f"{s.users:,}", "t": f"{s.teams:,}",
            "v": f"{s.volunteers:,}", "a": f"{s.activities:,}", "sa": f"{s.settled_activities:,}",
            "r": f"{s.records:,}", "vr": f"{s.verified_records:,}", "rr": f"{s.recorded_records:,}",
            "c": f"{s.corrections:,}", "h": f"{s.hours_requests:,}", "n": f"{s.needs:,}", "states": states or "—",
            "e": f"{s.need_events:,}", "m": f"{s.media_reports:,}"}))
        self.stdout.write(_("用时 %(s).1f 秒。") % {"s": time.monotonic() - started})

    def _migrate_if_needed(self, verbosity):
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            if verbosity:
                self.stdout.write(_("正在初始化数据库（执行迁移）……"))
            call_command("migrate", verbosity=0, interactive=False)
