"""Benchmark: a volunteer with a long history opens their hours page (/me/hours/) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wenming .venv/bin/python bench/volunteer_ledger.py
                                        # a fresh database <name>_bench_ledger, dropped when done

Builds one volunteer with 10,000 service records (verified, recorded and corrections, one valid
hash chain with its sealed head, checked by `verify_chains` before timing) and 20,000 point
movements (40,000 double entries), written with bulk inserts: the records are hashed with the
ledger's own chain helpers, in sequence order, without going through a service per record.

Then times, for 200 runs after a warm-up, the real page: GET /me/hours/ through Django's test
client (middleware, session, log-in, `volunteer_summary`, star ladder, the mobile template with its
unread-messages badge). The figure is its p95 in ms; the baseline is the p95 of a primary-key fetch
of the volunteer in the same run, interleaved with it. The records, points and manager's ledger
pages (first page of each, with their counts) are timed and printed apart.
"""

import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

RECORDS = int(os.environ.get("WENMING_BENCH_RECORDS", 10_000))
MOVEMENTS = int(os.environ.get("WENMING_BENCH_MOVEMENTS", 20_000))
RUNS = 200
WARMUP = 20
TARGET_MS = 20
SEED = 20260305
CHUNK = 2000

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wenming")
os.environ.setdefault("WENMING_DATA_KEY", "wenming-bench-data-key-not-a-secret")
os.environ.pop("DEBUG", None)  # DEBUG keeps every query in memory: not what a server does

from import_volunteers import fresh_postgres  # noqa: E402

if not os.environ["DATABASE_URL"].startswith("postgres"):
    sys.exit("本基准测试需要 PostgreSQL（DATABASE_URL=postgres://…）。")
ORIGINAL_URL = os.environ["DATABASE_URL"]
os.environ["DATABASE_URL"] = fresh_postgres(ORIGINAL_URL, "bench_ledger")

import django  # noqa: E402

django.setup()

from _common import percentile, report  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from wenming.core.models import OrgNode, User  # noqa: E402
from wenming.ledger import rules  # noqa: E402
from wenming.ledger.chain import content_of, head_seal, record_hash, verify_chains, verify_points  # noqa: E402
from wenming.ledger.models import (  # noqa: E402
    GENESIS_HASH,
    Account,
    LedgerChain,
    PointEntry,
    PointMovement,
    ServiceRecord,
)
from wenming.ledger.queries import volunteer_summary  # noqa: E402
from wenming.people.models import Volunteer  # noqa: E402
from wenming.people.services import VolunteerData, register_volunteer  # noqa: E402

TITLES = ["敬老院志愿服务", "文明交通劝导", "“七彩假期”少儿课堂", "理论宣讲进小区", "垃圾分类宣传", "重阳节慰问空巢老人",
          "端午节包粽子送老人", "社区环境整治", "义诊进社区", "图书馆志愿服务"]
PLACES = ["鼓楼亭社区敬老院", "宝庆路与五一路交叉口", "社区新时代文明实践站", "社区党群服务中心", "小区广场", ""]


def id_number(birth) -> str:
    first17 = f"430502{birth:%Y%m%d}123"
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def setup_people():
    centre = OrgNode.objects.add_root({"name": "基准测试区新时代文明实践中心", "kind": "centre", "division_code": "430502000000"})
    institute = OrgNode.objects.add_child(
        centre, {"name": "基准街道新时代文明实践所", "kind": "institute", "division_code": "430502001000"})
    station = OrgNode.objects.add_child(
        institute, {"name": "基准社区新时代文明实践站", "kind": "station", "division_code": "430502001001"})
    recorder = User.objects.create_user("bench-station", role=User.Role.STATION_ADMIN, display_name="录入人")
    recorder.scopes.set([station])
    approver = User.objects.create_user("bench-institute", role=User.Role.INSTITUTE_ADMIN, display_name="审批人")
    approver.scopes.set([institute])
    vol_user = User.objects.create_user("bench-volunteer", role=User.Role.VOLUNTEER, display_name="基准志愿者")
    volunteer = register_volunteer(recorder, VolunteerData(
        name="张晓明", id_number=id_number(datetime(1990, 5, 17)), phone="13912345678", station=station,
        agreement_consent=True, privacy_consent=True,
    ))
    volunteer.user = vol_user
    volunteer.save(update_fields=["user"])
    return station, recorder, approver, vol_user, volunteer


def build_records(volunteer, station, recorder, approver) -> tuple[LedgerChain, list[ServiceRecord]]:
    """The chain, in sequence order: 9,600 verified, 300 recorded, 100 corrections (ids assigned here,
    since a correction's hash covers the id of the record it corrects)."""
    rng = random.Random(SEED)
    start = timezone.make_aware(datetime(2016, 1, 1, 9))
    head = LedgerChain(volunteer_id=volunteer.pk)
    prev, records, roots = GENESIS_HASH, [], []
    corrections = {i for i in range(200, RECORDS, RECORDS // 100)}
    recorded_ = {i for i in range(137, RECORDS, RECORDS // 300)} - corrections
    for seq in range(1, RECORDS + 1):
        at = start + timedelta(hours=8 * seq)
        window_end = at + timedelta(hours=rng.choice((1, 2, 3)))
        if seq in corrections:
            root = roots.pop(rng.randrange(len(roots)))  # each service corrected at most once
            kind, minutes = root.kind, -30
            fields = {"title": f"更正：{root.title}", "adjustment_of_id": root.pk, "original_id": root.pk,
                      "window_start": root.window_start, "window_end": root.window_end, "place": root.place,
                      "service_date": timezone.localdate(at), "reason": "签退时间有误", "recorded_by_id": recorder.pk}
        else:
            kind = ServiceRecord.Kind.RECORDED if seq in recorded_ else ServiceRecord.Kind.VERIFIED
            minutes = rules.window_minutes(at, window_end)
            fields = {"title": TITLES[seq % len(TITLES)], "window_start": at, "window_end": window_end,
                      "place": PLACES[seq % len(PLACES)], "service_date": timezone.localdate(at),
                      "source_type": "activity", "source_id": str(seq)}
            if kind == ServiceRecord.Kind.VERIFIED:
                fields.update(started_at=at, ended_at=window_end, recorded_by_id=approver.pk)
            else:
                fields.update(reason="纸质签到表补录", recorded_by_id=recorder.pk)
        record = ServiceRecord(
            id=seq, volunteer_id=volunteer.pk, sequence=seq, kind=kind, minutes=minutes, node_id=station.pk,
            approved_by_id=approver.pk, approved_at=at, created_at=at, prev_hash=prev, **fields,
        )
        record.hash = record_hash(content_of(record), prev)
        prev = record.hash
        records.append(record)
        if record.adjustment_of_id is None and minutes >= 60:
            roots.append(record)
        if kind == ServiceRecord.Kind.VERIFIED:
            head.verified_minutes += minutes
        else:
            head.recorded_minutes += minutes
        head.services += record.adjustment_of_id is None
    head.length, head.head_hash = RECORDS, prev
    head.seal = head_seal(head)
    return head, records


def build_points(volunteer, records, by) -> tuple[list[PointMovement], list[PointEntry]]:
    """One movement per record (its hours' points), the rest bonuses and mall redemptions."""
    issuing = Account.objects.create(kind=Account.Kind.DISTRICT_ISSUING, name="区积分发放账户")
    mall = Account.objects.create(kind=Account.Kind.MALL, name="积分超市账户")
    mine = Account.objects.create(kind=Account.Kind.VOLUNTEER, volunteer=volunteer, name=str(volunteer))
    movements, entries, balance = [], [], 0
    for i in range(1, MOVEMENTS + 1):
        if i <= len(records):
            r = records[i - 1]
            points = rules.points_for_minutes(abs(r.minutes))
            kind = PointMovement.Kind.ADJUSTMENT if r.adjustment_of_id else PointMovement.Kind.HOURS
            payer, payee = (mine, issuing) if r.minutes < 0 else (issuing, mine)
            movement = PointMovement(id=i, kind=kind, memo=f"服务时长积分：{r.title}", record_id=r.pk,
                                     source_type=r.source_type, source_id=r.source_id, key=f"record:{r.pk}",
                                     created_at=r.created_at, rate=10)
        elif i % 3 and balance >= 50:
            points, payer, payee = 50, mine, mall
            movement = PointMovement(id=i, kind=PointMovement.Kind.REDEMPTION, memo="积分兑换：洗衣液一瓶",
                                     source_type="mall", source_id=str(i), created_by=by)
        else:
            points, payer, payee = 5, issuing, mine
            movement = PointMovement(id=i, kind=PointMovement.Kind.BONUS, memo="奖励积分：群众评单好评",
                                     source_type="need", source_id=str(i), key=f"bonus:need_rated:{i}")
        balance += points if payee is mine else -points
        movements.append(movement)
        entries += [PointEntry(movement_id=i, account=payer, amount=-points),
                    PointEntry(movement_id=i, account=payee, amount=points)]
    return movements, entries


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def drop() -> None:
    connections.close_all()
    if not os.environ.get("WENMING_BENCH_KEEP"):  # keep the database to look into it
        fresh_postgres(ORIGINAL_URL, "bench_ledger", create=False)


def main() -> None:
    t_start = time.perf_counter()
    print(f"数据库：{connection.settings_dict['NAME']}（PostgreSQL {connection.pg_version}）", flush=True)
    call_command("migrate", verbosity=0)
    with transaction.atomic():
        station, recorder, approver, vol_user, volunteer = setup_people()
        t = time.perf_counter()
        head, records = build_records(volunteer, station, recorder, approver)
        ServiceRecord.objects.bulk_create(records, batch_size=CHUNK)
        head.save()
        movements, entries = build_points(volunteer, records, approver)
        PointMovement.objects.bulk_create(movements, batch_size=CHUNK)
        PointEntry.objects.bulk_create(entries, batch_size=CHUNK * 2)
        with connection.cursor() as cursor:
            for table in ("ledger_servicerecord", "ledger_pointmovement"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    print(f"写入 {len(records)} 条服务记录、{len(movements)} 笔积分变动（{len(entries)} 条分录）："
          f"{time.perf_counter() - t:.1f} 秒", flush=True)
    with connection.cursor() as cursor:
        for table in ("ledger_servicerecord", "ledger_pointmovement", "ledger_pointentry", "ledger_ledgerchain"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    check = verify_points(report=verify_chains([volunteer.pk]))
    if not check.ok or check.records != RECORDS:
        sys.exit(f"哈希链校验失败：{[p.message for p in check.problems[:3]]}")
    summary = volunteer_summary(volunteer)
    print(f"哈希链校验通过（{check.records} 条记录，{check.movements} 笔积分变动）；"
          f"核验 {summary.verified_hours} 小时、补录 {summary.recorded_hours} 小时、{summary.stars} 星、"
          f"积分 {summary.points}", flush=True)

    client = Client()
    client.force_login(vol_user)
    manager = Client()
    manager.force_login(approver)
    page = client.get("/me/hours/")
    assert page.status_code == 200 and str(summary.points) in page.content.decode(), page.status_code

    hours_ms, base_ms, cpu_ms = [], [], []
    for i in range(WARMUP + RUNS):
        cpu = time.process_time()
        ms = timed(lambda: client.get("/me/hours/"))
        cpu = (time.process_time() - cpu) * 1000
        base = timed(lambda: Volunteer.objects.get(pk=volunteer.pk))
        if i >= WARMUP:
            hours_ms.append(ms)
            base_ms.append(base)
            cpu_ms.append(cpu)
    figure, base_p95 = percentile(hours_ms, 95), percentile(base_ms, 95)
    print(f"\n/me/hours/（{RUNS} 次）：p50 {percentile(hours_ms, 50):.2f} ms  p95 {figure:.2f} ms  "
          f"max {max(hours_ms):.2f} ms", flush=True)
    print(f"基线：主键查询志愿者     p50 {percentile(base_ms, 50):.2f} ms  p95 {base_p95:.2f} ms", flush=True)
    print(f"其中本进程 CPU（中间件、视图、模板，不含数据库服务器）：p50 {percentile(cpu_ms, 50):.2f} ms  "
          f"p95 {percentile(cpu_ms, 95):.2f} ms", flush=True)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/me/hours/")
    print(f"每次请求 {len(ctx)} 条 SQL（会话、用户、志愿者、链头、积分合计、未读消息、会话保存）", flush=True)
    only = [timed(lambda: volunteer_summary(volunteer.pk)) for _ in range(RUNS)]
    print(f"其中 volunteer_summary（2 条查询）：p95 {percentile(only, 95):.2f} ms", flush=True)

    print("\n其他页面（首页，含分页计数；各 50 次）：", flush=True)
    for label, c, url in (("我的服务记录 /me/records/", client, "/me/records/"),
                          ("我的积分 /me/points/", client, "/me/points/"),
                          ("管理员：志愿者台账", manager, f"/ledger/volunteers/{volunteer.pk}/")):
        assert c.get(url).status_code == 200, url
        ms = [timed(lambda c=c, url=url: c.get(url)) for _ in range(50)]
        print(f"  {label:<22} p50 {percentile(ms, 50):7.2f} ms  p95 {percentile(ms, 95):7.2f} ms", flush=True)

    print(f"\n主机负载（1/5/15分钟）：{'/'.join(f'{x:.1f}' for x in os.getloadavg())}，CPU {os.cpu_count()} 个")
    print(f"主指标：/me/hours/ p95 = {figure:.2f} ms，目标 ≤ {TARGET_MS} ms；总用时 {time.perf_counter() - t_start:.1f} 秒")
    drop()
    report("volunteer_ledger", figure, "ms", base_p95, TARGET_MS)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        drop()
        raise
