"""Benchmark: importing a 100,000-row volunteer workbook (a real import, not a dry run).

    .venv/bin/python bench/import_volunteers.py              # a fresh SQLite database under /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wenming .venv/bin/python bench/import_volunteers.py
                                                             # PostgreSQL: a fresh database <name>_bench_import

Writes a workbook of synthetic volunteers (valid GB 11643 ID numbers, unique phones, ten
stations, a third with skills), then, each in its own process so that its memory peak is
its own:

    baseline  openpyxl read-only iteration over the same file (load + every row's values)
    ours      wenming.core.excel.run_import of the volunteers ledger: every check a console
              registration makes, encryption, blind indexes, pinyin, numbers, skills, one audit
              entry per volunteer

The figure is our import's wall time in seconds; the ratio to the baseline's must stay ≤ 4,
and our process's peak RSS ≤ 300 MB (printed before the result line).
"""

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

ROWS = int(os.environ.get("WENMING_BENCH_ROWS", 100_000))
TARGET_RATIO = 4
TARGET_RSS_MB = 300
SEED = 20260305
HEADERS = ["姓名", "身份证号码", "手机号码", "所属实践站区划代码", "政治面貌", "技能", "可服务时间", "已书面同意"]
STATIONS = [f"4305020{i // 5 + 1:02d}{i % 5 + 1:03d}" for i in range(10)]  # 2 institutes × 5 stations
SKILLS = ["医疗护理", "文艺演出", "理论宣讲", "法律咨询", "心理疏导", "助老助残"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅志文斌宇浩凯鹏飞晨欣怡子轩雨萱佳琪"
POLITICAL = ["群众"] * 6 + ["中共党员", "共青团员"]
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def id_number(i: int) -> str:
    """The i-th synthetic ID number: distinct for every i below 999 × 20,000, all adults."""
    birth = date(1950, 1, 1) + timedelta(days=i % 20_000)
    first17 = f"430502{birth:%Y%m%d}{i // 20_000 + 1:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def synthetic_rows(count: int, seed: int = SEED):
    rnd = random.Random(seed)
    for i in range(count):
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
        skills = "、".join(rnd.sample(SKILLS, rnd.choice((1, 2)))) if i % 3 == 0 else None
        yield (name, id_number(i), f"138{i:08d}", STATIONS[i % len(STATIONS)], rnd.choice(POLITICAL), skills,
               "周末" if i % 4 == 0 else None, "是")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# --- Phases, each run in its own process -----------------------------------------------------------


def phase_generate(path: str) -> dict:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("志愿者")
    ws.append(HEADERS)
    for row in synthetic_rows(ROWS):
        ws.append(row)
    wb.save(path)
    return {"bytes": os.path.getsize(path)}


def phase_baseline(path: str) -> dict:
    from openpyxl import load_workbook

    started = time.perf_counter()
    wb = load_workbook(path, read_only=True)
    count = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return {"seconds": time.perf_counter() - started, "rows": count - 1, "rss_mb": peak_rss_mb()}


def setup_django():
    import django

    django.setup()


def phase_prepare(_path: str) -> dict:
    """Migrate the fresh database and create the district: centre, 2 institutes, 10 stations, skills, an admin."""
    setup_django()
    from django.core.management import call_command

    from wenming.core.models import OrgNode, Skill, User

    call_command("migrate", verbosity=0)
    centre = OrgNode.add_root(name="基准区新时代文明实践中心", kind="centre", division_code="430502000000")
    for n in (1, 2):
        centre.refresh_from_db()
        institute = centre.add_child(name=f"基准街道{n}新时代文明实践所", kind="institute", division_code=f"4305020{n:02d}000")
        for code in (c for c in STATIONS if c.startswith(f"4305020{n:02d}")):
            institute.refresh_from_db()
            institute.add_child(name=f"基准社区{code[-3:]}新时代文明实践站", kind="station", division_code=code)
    for i, name in enumerate(SKILLS):
        Skill.objects.create(name=name, ordering=i)
    User.objects.create_superuser("bench", password="Bench#Pass2024")
    return {}


def phase_ours(path: str) -> dict:
    setup_django()
    from wenming.core.excel import get_dataset, run_import
    from wenming.core.models import User

    user = User.objects.get(username="bench")
    started = time.perf_counter()
    report = run_import(get_dataset("volunteers"), user, path)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "imported": report.imported, "errors": len(report.errors),
            "first_errors": [(e.row, e.column, e.message) for e in report.errors[:3]], "rss_mb": peak_rss_mb()}


PHASES = {"generate": phase_generate, "baseline": phase_baseline, "prepare": phase_prepare, "ours": phase_ours}


# --- Orchestration --------------------------------------------------------------------------------


def drop_bench_database(suffix: str) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        fresh_postgres(url, suffix, create=False)


def bench_environment(tmp: str, suffix: str = "bench_import") -> dict:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    env["WENMING_VAR"] = tmp  # keep the project's var/ untouched
    env.setdefault("WENMING_DATA_KEY", "wenming-bench-data-key-not-a-secret")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        env["DATABASE_URL"] = fresh_postgres(url, suffix)
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    return env


def fresh_postgres(url: str, suffix: str, *, create: bool = True) -> str:
    """Drop <name>_<suffix> on the server of `url` and (unless create=False) create it anew; returns its URL."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    name = f"{cfg['NAME']}_{suffix}"
    params = {k: v for k, v in {"host": cfg["HOST"], "port": cfg["PORT"] or None, "user": cfg["USER"],
                                "password": cfg["PASSWORD"]}.items() if v}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.rsplit("/", 1)[0] + "/" + name


def run_phase(script: str, phase: str, path: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, script, "--phase", phase, path], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        sys.exit(f"阶段 {phase} 失败 / phase {phase} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from _common import report

    with tempfile.TemporaryDirectory(prefix="wenming-bench-import-") as tmp:
        env = bench_environment(tmp)
        path = f"{tmp}/volunteers.xlsx"
        me = os.path.abspath(__file__)
        print(f"生成 {ROWS} 行志愿者工作簿 …", flush=True)
        size = run_phase(me, "generate", path, env)["bytes"]
        print(f"  {size / 1048576:.1f} MB", flush=True)
        run_phase(me, "prepare", path, env)
        # The machine's speed drifts over minutes: the baseline runs before and after ours, and counts as their mean.
        before = run_phase(me, "baseline", path, env)
        ours = run_phase(me, "ours", path, env)
        after = run_phase(me, "baseline", path, env)
        base = {"seconds": (before["seconds"] + after["seconds"]) / 2, "rows": before["rows"],
                "rss_mb": max(before["rss_mb"], after["rss_mb"])}
        print(f"基线 openpyxl 只读遍历：{base['seconds']:.1f} s（之前 {before['seconds']:.1f} s，之后 {after['seconds']:.1f} s），"
              f"{base['rows']} 行，峰值 RSS {base['rss_mb']:.0f} MB", flush=True)
        db = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
        print(f"本系统导入（{db}）：{ours['seconds']:.1f} s，导入 {ours['imported']} 行，错误 {ours['errors']} 条，"
              f"峰值 RSS {ours['rss_mb']:.0f} MB（目标 ≤ {TARGET_RSS_MB} MB）", flush=True)
        if ours["errors"]:
            print("  前几条错误：", ours["first_errors"], flush=True)
        print(f"每行 {ours['seconds'] / max(ROWS, 1) * 1e6:.0f} µs；比值目标 ≤ {TARGET_RATIO}", flush=True)
        drop_bench_database("bench_import")
        report("import_volunteers", ours["seconds"], "s", base["seconds"], TARGET_RATIO)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--phase":
        print(json.dumps(PHASES[sys.argv[2]](sys.argv[3])), flush=True)
    else:
        main()
