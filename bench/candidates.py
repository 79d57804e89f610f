"""Benchmark: dispatch candidates (`wenming.needs.candidates.candidates_for`, behind
GET /api/v1/needs/{id}/candidates) among 1,000,000 volunteers and 20,000 teams on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wenming .venv/bin/python bench/candidates.py
                                        # a fresh database <name>_bench_candidates, dropped when done
                                        # (WENMING_BENCH_KEEP=1 keeps it; WENMING_BENCH_PLANS=1 prints
                                        # every query's full EXPLAIN ANALYZE)

Builds, in SQL on the server (generate_series; no service per row; indexes built after the
load): the demo district's tree (1 centre, 11 institutes, 100 stations) with sites and their
coordinates (a few stations have none), 15 skills mapped to the need categories, 5 platforms;
1,000,000 volunteers (dummy but well-formed encrypted fields and blind indexes, 1–2 skills each,
a declared availability; drawn by hash, so that no station is short of a skill) spread over the
stations; 20,000 teams on every node (about 178 per node; 1–3 skills, a platform, capacity 3–8,
15 members each from their station); 200,000 closed rated needs and 40,000 held ones, half for
teams, half for volunteers; and 220 approved needs with a wished-for time, nine in ten with
coordinates. The volunteers have no accounts, so they are listed as ineligible: the work of
ranking them is the same.

Then times `candidates_for(need, dispatcher=…)` (limit 20 teams and 20 volunteers) for 200 of
the approved needs after 20 warm-up calls, as a district admin would dispatch (the widest reach:
every team of the district may be proposed). The need is fetched as the endpoint does (by id,
nothing joined) and the account's reach is read afresh each time. The figure is that p95 in ms;
the baseline is the p95 of a primary-key fetch of a need in the same run, interleaved with it.
The same calls by the station's admin and with no dispatcher are printed apart; so are the
queries of one call with their EXPLAIN ANALYZE times and top plan lines.
"""

import os
import random
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

VOLUNTEERS = int(os.environ.get("WENMING_BENCH_VOLUNTEERS", 1_000_000))  # smaller only to try the script out
TEAMS = int(os.environ.get("WENMING_BENCH_TEAMS", 20_000))
MEMBERS = 15
CLOSED_NEEDS = int(os.environ.get("WENMING_BENCH_CLOSED", 200_000))
HELD_NEEDS = CLOSED_NEEDS // 5
RUNS = 200
WARMUP = 20
TARGET_MS = 50
SEED = 20260305

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wenming")
os.environ.setdefault("WENMING_DATA_KEY", "wenming-bench-data-key-not-a-secret")
os.environ.pop("DEBUG", None)  # DEBUG keeps every query in memory: not what a server does

from import_volunteers import fresh_postgres  # noqa: E402

if not os.environ["DATABASE_URL"].startswith("postgres"):
    sys.exit("本基准测试需要 PostgreSQL（DATABASE_URL=postgres://…）。")
ORIGINAL_URL = os.environ["DATABASE_URL"]
os.environ["DATABASE_URL"] = fresh_postgres(ORIGINAL_URL, "bench_candidates")

import django  # noqa: E402

django.setup()

from _common import percentile, report  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from wenming.core import pii  # noqa: E402
from wenming.core.models import Department, OrgNode, Skill, User  # noqa: E402
from wenming.demo.district import INSTITUTES, station_rows  # noqa: E402
from wenming.needs.candidates import candidates_for, split  # noqa: E402
from wenming.needs.models import Need, NeedCategory  # noqa: E402
from wenming.org.models import Platform, Site  # noqa: E402
from wenming.people.models import Volunteer  # noqa: E402
from wenming.people.services import name_pinyin  # noqa: E402

CENTRE = "基准测试区新时代文明实践中心"
SKILLS = ["助老助残", "家电维修", "水电维修", "理发", "医疗护理", "心理咨询", "法律咨询", "课业辅导", "文艺演出",
          "摄影摄像", "驾驶", "环境保护", "科普宣讲", "农业技术", "计算机"]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "徐涛", "孙丽", "马超",
         "朱琳", "胡斌", "郭婷", "何平", "高峰", "林燕", "罗军", "郑爽", "梁晨", "谢红", "宋健", "唐雪", "许亮"]
AVAILABILITY = ['["weekend"]', '["weekday"]', '["weekend", "evening"]', '["weekday", "evening"]', '["evening"]',
                '["weekend", "holiday"]', '[]', '["weekday", "weekend", "evening", "holiday"]']


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@contextmanager
def bulk_load(*tables):
    """Load fast: the tables' secondary indexes and unique constraints are dropped while loading and
    built once afterwards (a sort each, instead of a million random inserts), and foreign-key
    triggers are skipped (the generated rows are consistent by construction)."""
    again = []
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for table in tables:
            cursor.execute("""
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname,
                       pg_get_constraintdef(c.oid)
                FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                WHERE i.indrelid = %s::regclass AND NOT i.indisprimary""", [table])
            for index, definition, constraint, constraint_def in cursor.fetchall():
                if constraint:
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
                    again.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraint_def}')
                else:
                    cursor.execute(f"DROP INDEX {index}")
                    again.append(definition)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for statement in again:
                cursor.execute(statement)
            cursor.execute("SET session_replication_role = DEFAULT")


def build_tree(rng: random.Random) -> tuple[list[int], list[int]]:
    """The demo district's tree, with 1–3 sites per node around its institute (a few stations have none);
    returns (every node id, the station ids)."""
    rows = station_rows()
    tree = {"data": {"name": CENTRE, "kind": "centre", "division_code": "430502000000"}, "children": [
        {"data": {"name": f"{name}新时代文明实践所", "kind": "institute", "division_code": f"430502{digits}000"},
         "children": [{"data": {"name": f"{st}新时代文明实践站", "kind": "station", "division_code": code}}
                      for inst, code, st in rows if inst == f"430502{digits}000"]}
        for digits, name, _lat, _lng, _stations in INSTITUTES
    ]}
    OrgNode.objects.load_bulk([tree], bulk_create=True)
    where = {f"430502{digits}000": (lat, lng) for digits, _n, lat, lng, _s in INSTITUTES}
    sites = []
    for node in OrgNode.objects.all():
        if node.kind == "centre":
            centre = (sum(p[0] for p in where.values()) / len(where), sum(p[1] for p in where.values()) / len(where))
            spots = [centre]
        else:
            lat, lng = where[node.division_code[:9] + "000"]
            if node.kind == "station" and rng.random() < 0.05:
                continue  # no site: the tree stands in
            spots = [(lat + rng.uniform(-0.02, 0.02), lng + rng.uniform(-0.02, 0.02))]
            spots += [(spots[0][0] + rng.uniform(-0.003, 0.003), spots[0][1] + rng.uniform(-0.003, 0.003))
                      for _ in range(rng.randint(0, 2))]
        sites += [Site(node=node, name=f"{node.name}阵地{i}", kind=Site.Kind.PRACTICE_VENUE, lat=a, lng=b)
                  for i, (a, b) in enumerate(spots)]
    Site.objects.bulk_create(sites)
    nodes = list(OrgNode.objects.order_by("path").values_list("pk", flat=True))
    stations = list(OrgNode.objects.filter(kind="station").order_by("path").values_list("pk", flat=True))
    return nodes, stations


def build_skills(rng: random.Random) -> list[int]:
    """15 skills; every need category asks for one (a few for two) and belongs to one of 5 platforms."""
    skills = [Skill.objects.create(name=n, ordering=i).pk for i, n in enumerate(SKILLS)]
    dept = Department.objects.create(name="基准区委宣传部")
    platforms = [Platform.objects.create(name=f"基准平台{i}", lead_department=dept) for i in range(5)]
    for i, category in enumerate(NeedCategory.objects.filter(parent__isnull=False).order_by("pk")):
        category.skills.set([skills[i % len(skills)]] + ([skills[(i + 7) % len(skills)]] if i % 4 == 0 else []))
        category.platform = platforms[i % len(platforms)]
        category.save(update_fields=["platform"])
    return skills


def build_volunteers(stations: list[int], skills: list[int]) -> None:
    """Volunteer i (id i) belongs to station stations[i % n]; 1 or 2 skills; one of 8 availabilities."""
    dummy = pii.encrypt("bench-placeholder")  # encryption is not what is measured: one ciphertext for all
    names = [(n, *name_pinyin(n)) for n in NAMES]
    sql(f"""
        INSERT INTO people_volunteer (id, number, name, name_pinyin, name_initials, gender, birth_date, id_type,
            id_number_enc, id_number_index, id_number_masked, phone_enc, phone_index, phone_masked,
            political_status, station_id, availability, agreement_consent_at, privacy_consent_at, guardian_name,
            guardian_phone_enc, guardian_phone_masked, source, created_at, is_demo_data)
        SELECT i, '430502' || lpad(i::text, 8, '0'), (%(names)s::text[])[1 + i %% {len(names)}],
            (%(pinyin)s::text[])[1 + i %% {len(names)}], (%(initials)s::text[])[1 + i %% {len(names)}],
            CASE WHEN i %% 2 = 1 THEN 'male' ELSE 'female' END, DATE '1960-01-01' + (i %% 18000),
            '居民身份证', %(dummy)s, md5('id' || i) || md5('id:' || i), '430502********' || lpad((i %% 10000)::text, 4, '0'),
            %(dummy)s, md5('ph' || i) || md5('ph:' || i), '139****' || lpad((i %% 10000)::text, 4, '0'),
            'masses', (%(stations)s::bigint[])[1 + i %% {len(stations)}], ((%(avail)s::text[])[1 + abs(hashtext('free' || i)) %% {len(AVAILABILITY)}])::jsonb,
            now(), now(), '', '', '', 'import', now() - (({VOLUNTEERS} - i) || ' seconds')::interval, false
        FROM generate_series(1, {VOLUNTEERS}) AS i
    """, {"names": [n[0] for n in names], "pinyin": [n[1] for n in names], "initials": [n[2] for n in names],
          "dummy": dummy, "stations": stations, "avail": AVAILABILITY})
    sql("SELECT setval(pg_get_serial_sequence('people_volunteer', 'id'), %s)", [VOLUNTEERS])
    k = len(skills)
    sql(f"""
        INSERT INTO people_volunteer_skills (volunteer_id, skill_id)
        SELECT i, (%(skills)s::bigint[])[1 + h %% {k}] FROM generate_series(1, {VOLUNTEERS}) AS i,
            LATERAL (SELECT abs(hashtext('skill' || i)) AS h) x
        UNION ALL
        SELECT i, (%(skills)s::bigint[])[1 + (h %% {k} + 1 + h / {k} %% {k - 1}) %% {k}]
        FROM generate_series(1, {VOLUNTEERS}) AS i, LATERAL (SELECT abs(hashtext('skill' || i)) AS h) x
        WHERE h / 7 %% 2 = 0
    """, {"skills": skills})


def build_teams(nodes: list[int], stations: list[int], skills: list[int]) -> None:
    """Team t sits on nodes[t % n]; 1–3 skills, a platform (most), capacity 3–8, 15 members of its
    station (of any station for an institute's or the centre's team)."""
    platforms = list(Platform.objects.values_list("pk", flat=True)) + [None]
    sql(f"""
        INSERT INTO people_team (id, name, node_id, platform_id, description, capacity, created_at, is_demo_data)
        SELECT t, '基准志愿服务队' || t, (%(nodes)s::bigint[])[1 + t %% {len(nodes)}],
            (%(platforms)s::bigint[])[1 + abs(hashtext('platform' || t)) %% {len(platforms)}], '', 3 + t %% 6, now(), false
        FROM generate_series(1, {TEAMS}) AS t
    """, {"nodes": nodes, "platforms": platforms})
    sql("SELECT setval(pg_get_serial_sequence('people_team', 'id'), %s)", [TEAMS])
    k = len(skills)
    sql(f"""
        INSERT INTO people_team_skills (team_id, skill_id)
        SELECT t, (%(skills)s::bigint[])[1 + (abs(hashtext('team' || t)) %% {k} + s * 5) %% {k}]
        FROM generate_series(1, {TEAMS}) AS t, generate_series(0, 2) AS s WHERE s <= t %% 3
    """, {"skills": skills})
    # Volunteer v is at stations[v % n]: a member of station position p is p + n·j (j < VOLUNTEERS / n).
    n, per = len(stations), VOLUNTEERS // len(stations)
    sql(f"""
        INSERT INTO people_teammembership (team_id, volunteer_id, joined_at)
        SELECT t.id, pos + {n} * ((t.id * 7919 + g * 104729) %% {per - 1}), now()
        FROM people_team t
        CROSS JOIN LATERAL (SELECT coalesce(array_position(%(stations)s::bigint[], t.node_id) - 1, t.id %% {n}) AS pos) p
        CROSS JOIN generate_series(1, {MEMBERS}) AS g
        WHERE pos + {n} * ((t.id * 7919 + g * 104729) %% {per - 1}) BETWEEN 1 AND {VOLUNTEERS}
        ON CONFLICT DO NOTHING
    """, {"stations": stations})


def build_needs(stations: list[int], rng: random.Random) -> list[int]:
    """Closed rated needs and held ones, half for teams, half for volunteers (a twentieth of the
    volunteers — the first ones, of every station — have served); then the approved needs to time, with coordinates and a wished-for time."""
    categories = list(NeedCategory.objects.filter(parent__isnull=False).order_by("pk").values_list("pk", flat=True))
    dummy = pii.encrypt("13800000000")
    n = len(stations)
    common = f"""
        (%(categories)s::bigint[])[1 + i %% {len(categories)}], '基准测试需求：上门服务', '', '基准联系人', %(dummy)s,
        md5('need' || i) || md5('need:' || i), '138****0000', 'normal', 'demo', false, false, false, 0,
        '', '', '', false"""
    columns = """code, category_id, description, address, contact_name, phone_enc, phone_index, phone_masked,
        urgency, source, is_wish, in_pool, overdue, escalations, reason, report, comment, is_demo_data"""
    for first, count, state in ((1, CLOSED_NEEDS, "closed"), (CLOSED_NEEDS + 1, HELD_NEEDS, "accepted")):
        last = first + count - 1
        stars = "CASE WHEN i %% 10 = 0 THEN 3 WHEN i %% 3 = 0 THEN 4 ELSE 5 END" if state == "closed" else "NULL"
        closed = "now() - (i %% 700 || ' days')::interval" if state == "closed" else "NULL"
        sql(f"""
            INSERT INTO needs_need ({columns}, station_id, node_id, state, team_id, volunteer_id, stars,
                                    created_at, accepted_at, closed_at)
            SELECT 'B' || lpad(i::text, 9, '0'), {common}, st, st, %(state)s, team, vol, {stars},
                now() - (i %% 700 || ' days')::interval, now() - (i %% 700 || ' days')::interval, {closed}
            FROM (
                SELECT i, CASE WHEN i %% 2 = 0 THEN 1 + abs(hashtext('team' || i)) %% {TEAMS} END AS team,
                    CASE WHEN i %% 2 = 1 THEN 1 + abs(hashtext('served' || i)) %% {VOLUNTEERS // 20} END AS vol
                FROM generate_series({first}, {last}) AS i
            ) AS x
            CROSS JOIN LATERAL (SELECT CASE WHEN vol IS NOT NULL THEN (%(stations)s::bigint[])[1 + vol %% {n}]
                ELSE coalesce((SELECT node_id FROM people_team WHERE id = team AND node_id = ANY(%(stations)s::bigint[])),
                              (%(stations)s::bigint[])[1 + i %% {n}]) END AS st) s
        """, {"categories": categories, "dummy": dummy, "stations": stations, "state": state})
    # The needs to time: at a random station, a few hundred metres from one of its sites.
    positions = {}
    for node_id, lat, lng in Site.objects.values_list("node_id", "lat", "lng"):
        positions.setdefault(node_id, (lat, lng))
    now, rows = timezone.now(), []
    for j in range(RUNS + WARMUP):
        station = rng.choice(stations)
        lat, lng = positions.get(station, (None, None))
        if lat is not None and j % 10:  # one in ten without coordinates
            lat, lng = lat + rng.uniform(-0.004, 0.004), lng + rng.uniform(-0.004, 0.004)
        else:
            lat = lng = None
        rows.append(Need(
            code=f"A{j:09d}", category_id=rng.choice(categories), description="基准测试需求：待派单", station_id=station,
            node_id=station, lat=lat, lng=lng, contact_name="基准联系人", phone_enc=dummy, phone_index=f"{j:064d}",
            phone_masked="138****0000", state=Need.State.APPROVED, approved_at=now, source=Need.Source.DEMO,
            wished_at=now + timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 23)),
        ))
    return [n.pk for n in Need.objects.bulk_create(rows)]


def explain(need: Need, user) -> None:
    """The queries of one call, each with its EXPLAIN ANALYZE execution time and top plan lines."""
    user._reach_paths = None
    with CaptureQueriesContext(connection) as ctx:
        candidates_for(need, dispatcher=user)
    full = bool(os.environ.get("WENMING_BENCH_PLANS"))
    print(f"\n一次调用的 {len(ctx)} 条 SQL（EXPLAIN ANALYZE）：", flush=True)
    total = 0.0
    with connection.cursor() as cursor:
        for i, q in enumerate(ctx.captured_queries, 1):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            plan = [r[0] for r in cursor.fetchall()]
            ms = next((float(line.split(":")[1].split()[0]) for line in plan if line.startswith("Execution Time")), 0)
            total += ms
            head = q["sql"].split(" FROM ")[1].split()[0] if " FROM " in q["sql"] else q["sql"][:40]
            print(f"  {i:2}. {ms:6.2f} ms  FROM {head}", flush=True)
            for line in plan if full else [line for line in plan if "Scan" in line][:3]:
                print(f"        {line.strip()[:150]}")
    print(f"  合计（服务器执行时间）{total:.2f} ms", flush=True)


def check_region(need_ids: list[int]) -> None:
    """What the timed calls answer, checked: a full list, volunteers of the need's institute only,
    ineligible ones last."""
    step = OrgNode.steplen
    paths = dict(OrgNode.objects.values_list("pk", "path"))
    for pk in need_ids:
        need = Need.objects.get(pk=pk)
        result = candidates_for(need)
        teams, volunteers = split(result)
        assert len(teams) == 20 and len(volunteers) == 20, (pk, len(teams), len(volunteers))
        institute = paths[need.station_id][:-step]
        stations = dict(Volunteer.objects.filter(pk__in=[c.id for c in volunteers]).values_list("pk", "station_id"))
        assert all(paths[s].startswith(institute) for s in stations.values()), pk
        ranks = [(not c.eligible, -c.score) for c in teams]
        assert ranks == sorted(ranks), pk
    print(f"核对 {len(need_ids)} 个需求的候选：各 20 支队伍、20 名志愿者，志愿者均在本实践所辖区内，排序正确", flush=True)


def drop() -> None:
    connections.close_all()
    if not os.environ.get("WENMING_BENCH_KEEP"):  # keep the database to look into it
        fresh_postgres(ORIGINAL_URL, "bench_candidates", create=False)


def main() -> None:
    t_start = time.perf_counter()
    rng = random.Random(SEED)
    print(f"数据库：{connection.settings_dict['NAME']}（PostgreSQL {connection.pg_version}）", flush=True)
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    with transaction.atomic():
        nodes, stations = build_tree(rng)
        skills = build_skills(rng)
        print(f"组织树：{len(nodes)} 个组织（{len(stations)} 个实践站），{Site.objects.count()} 个阵地；"
              f"{time.perf_counter() - t:.1f} 秒", flush=True)
        t = time.perf_counter()
        with bulk_load("people_volunteer", "people_volunteer_skills"):
            build_volunteers(stations, skills)
        print(f"写入志愿者及其技能（含建索引）：{time.perf_counter() - t:.1f} 秒", flush=True)
        t = time.perf_counter()
        build_teams(nodes, stations, skills)
        print(f"写入队伍、专长与队员：{time.perf_counter() - t:.1f} 秒", flush=True)
        t = time.perf_counter()
        with bulk_load("needs_need"):
            need_ids = build_needs(stations, rng)
        print(f"写入需求（含建索引）：{time.perf_counter() - t:.1f} 秒", flush=True)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE：{time.perf_counter() - t:.1f} 秒", flush=True)
    with connection.cursor() as cursor:
        counts = {}
        for table in ("people_volunteer", "people_volunteer_skills", "people_team", "people_team_skills",
                      "people_teammembership", "needs_need"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    print("行数：" + "，".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)

    centre = OrgNode.objects.get(depth=1)
    admin = User.objects.create_user("bench-district", role=User.Role.DISTRICT_ADMIN, display_name="区管理员")
    admin.scopes.set([centre])
    station_admins = {}

    def station_admin(station_id):
        if station_id not in station_admins:
            user = User.objects.create_user(f"bench-station-{station_id}", role=User.Role.STATION_ADMIN)
            user.scopes.set([station_id])
            station_admins[station_id] = user
        return station_admins[station_id]

    sample = candidates_for(Need.objects.get(pk=need_ids[0]), dispatcher=admin)
    teams, volunteers = split(sample)
    assert len(teams) == 20 and len(volunteers) == 20, (len(teams), len(volunteers))
    print(f"\n示例（需求 {need_ids[0]}）：", flush=True)
    for c in teams[:3] + volunteers[:3]:
        print(f"  {c.kind:9} {c.name:12} {c.score:.3f} {'可派' if c.eligible else c.why_not}  {'；'.join(c.reasons)}")

    views = {"区管理员（全区队伍可选）": lambda need: admin,
             "实践站管理员": lambda need: station_admin(need.station_id),
             "不指定派单人": lambda need: None}
    times = {label: [] for label in views}
    base, queries = [], 0
    for i, pk in enumerate(need_ids):
        for label, who in views.items():
            need = Need.objects.get(pk=pk)  # as the endpoint reads it: by id, nothing joined
            user = who(need)
            if user is not None:
                user._reach_paths = None  # a request reads the account's reach afresh
            with CaptureQueriesContext(connection) as ctx:
                ms = timed(lambda need=need, user=user: candidates_for(need, dispatcher=user))
            queries = max(queries, len(ctx))
            if i >= WARMUP:
                times[label].append(ms)
        ms = timed(lambda pk=pk: list(Need.objects.filter(pk=pk)))
        if i >= WARMUP:
            base.append(ms)

    print(f"\ncandidates_for（各 {RUNS} 次，预热 {WARMUP} 次；limit=20；每次 ≤ {queries} 条 SQL）：", flush=True)
    for label, ms in times.items():
        print(f"  {label:<18} p50 {percentile(ms, 50):7.2f} ms  p95 {percentile(ms, 95):7.2f} ms  "
              f"max {max(ms):7.2f} ms", flush=True)
    base_p95 = percentile(base, 95)
    print(f"  {'基线：主键查询需求':<18} p50 {percentile(base, 50):7.2f} ms  p95 {base_p95:7.2f} ms", flush=True)
    check_region(need_ids[:WARMUP])
    explain(Need.objects.get(pk=need_ids[1]), admin)

    figure = percentile(times["区管理员（全区队伍可选）"], 95)
    print(f"\n主机负载（1/5/15分钟）：{'/'.join(f'{x:.1f}' for x in os.getloadavg())}，CPU {os.cpu_count()} 个")
    print(f"主指标：区管理员视角 candidates_for p95 = {figure:.2f} ms，目标 ≤ {TARGET_MS} ms；"
          f"总用时 {time.perf_counter() - t_start:.1f} 秒")
    drop()
    report("candidates", figure, "ms", base_p95, TARGET_MS)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        drop()
        raise
