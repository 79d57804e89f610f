"""Benchmark: the centre's summary for one year (`wenming.stats.queries.summary`, behind the dashboard and
GET /api/v1/stats/summary) at 100,000 and at 10,000,000 service records on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wenming .venv/bin/python bench/dashboard.py
        --small     20,000 and 200,000 records (a quick try)
        --keep      keep the databases <name>_bench_dashboard_<records> (dropped otherwise)
        --reuse     use such a kept database instead of generating it again
        --rebuild   with --reuse: recompute its roll-ups from the raw records first (after a change to them)
        --runs N    timed calls of the roll-up answer per size (default 20, after 2 warm-ups)

For each size, in its own process and its own fresh database: migrate, then `wenming gen` (stats.gen:
volunteers = records / 10, needs = records / 50, activities = records / 25, a province-like tree, every
record chained so that verify-ledger passes, roll-ups rebuilt from the raw records), VACUUM ANALYZE.
Then, for the centre and the dataset's year:

    ours      queries.summary(centre, 1 Jan, 31 Dec) — the roll-ups; 2 warm-ups, then median and p95
              of the timed calls
    baseline  recount.summary(centre, 1 Jan, 31 Dec) — the same dict by straightforward aggregation
              over the raw tables, measured in the same run (median of 3 calls, or fewer once the
              calls have taken two minutes)

Then, for the record and without a target, the centre's June and 15 March–10 September (periods whose
distinct volunteers, or teams too, come from the raw records through the covering index).

The two dicts must be equal: the bench fails loudly (exit 1) and prints the differing figures if not.
Printed: each size's figures and the roll-up's speed-up over the baseline; the scale ratio
latency(10M) / latency(100k). Targets: p95 ≤ 100 ms at 10M, scale ratio ≤ 2, answers equal. The last
line is the JSON result: figure = p95 at the large size, baseline = the baseline's median there.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

TARGET_MS = 100
TARGET_SCALE = 2
WARMUP = 2
BASELINE_RUNS = 3
BASELINE_BUDGET_MS = 120_000


def percentile(values, pct):
    from _common import percentile as p

    return p(values, pct)


# --- one size, in its own process ----------------------------------------------------------------------

def run_size(args) -> None:
    """Child process: generate (or reuse) the database of one size and time both answers on it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    os.environ.pop("DEBUG", None)  # DEBUG keeps every query in memory: not what a server does
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wenming.core.models import OrgNode
    from wenming.ledger.models import ServiceRecord
    from wenming.stats import gen, queries, recount

    out = {"records": args.records}
    print(f"\n=== {args.records:,} 条服务记录：数据库 {connection.settings_dict['NAME']}（PostgreSQL "
          f"{connection.pg_version}）", flush=True)
    call_command("migrate", verbosity=0)
    existing = ServiceRecord.objects.count() if args.reuse else 0
    if existing:
        print(f"沿用已有数据：{existing:,} 条服务记录", flush=True)
        out["gen_seconds"] = None
        from wenming.stats.rebuild import rebuild, refresh_statistics

        t = time.monotonic()
        rows = rebuild() if args.rebuild else "沿用"
        refresh_statistics()  # a migration may just have added an index: VACUUM ANALYZE, as autovacuum would
        out["rebuild_seconds"] = round(time.monotonic() - t, 1)
        print(f"统计汇总（{rows}），VACUUM ANALYZE：{out['rebuild_seconds']:.0f} 秒", flush=True)
    else:
        options = gen.make_options(volunteers=max(1, args.records // 10), records=args.records,
                                   needs=args.records // 50)
        t = time.monotonic()
        summary = gen.generate(options, lambda text: print("  " + text, flush=True))
        out["gen_seconds"] = round(time.monotonic() - t, 1)
        out["gen_stages"] = summary.seconds
        print(f"生成用时 {out['gen_seconds']:.0f} 秒（其中写入 {summary.seconds.get('total_write', 0):.0f} 秒）",
              flush=True)
    centre = OrgNode.objects.get(depth=1)
    year = ServiceRecord.objects.order_by("service_date").values_list("service_date", flat=True).first().year
    from datetime import date

    start, end = date(year, 1, 1), date(year, 12, 31)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('ledger_servicerecord')), "
                       "(SELECT count(*) FROM stats_rollup), (SELECT count(*) FROM stats_tally)")
        size, rollups, tallies = cursor.fetchone()
    out.update(year=year, records_in_db=ServiceRecord.objects.count())
    print(f"中心：{centre.name}；{year} 年；服务记录表 {size}；汇总行 {rollups:,}，名单行 {tallies:,}", flush=True)

    def timed(fn):
        t = time.perf_counter()
        value = fn()
        return (time.perf_counter() - t) * 1000, value

    for _i in range(WARMUP):
        timed(lambda: queries.summary(centre, start, end))
    ours, answer = [], None
    for _i in range(args.runs):
        ms, answer = timed(lambda: queries.summary(centre, start, end))
        ours.append(ms)
    print(f"汇总查询 queries.summary（{args.runs} 次，预热 {WARMUP} 次）：中位数 {statistics.median(ours):.1f} ms，"
          f"p95 {percentile(ours, 95):.1f} ms；接着测基线……", flush=True)
    base, expected = [], None
    while len(base) < BASELINE_RUNS and sum(base) < BASELINE_BUDGET_MS:  # minutes per call at 10M: fewer calls
        ms, expected = timed(lambda: recount.summary(centre, start, end))
        base.append(ms)
    # The roll-up answer once more after the baseline (whatever the baseline left in the cache).
    after = [timed(lambda: queries.summary(centre, start, end))[0] for _i in range(max(3, args.runs // 4))]
    out.update(median=statistics.median(ours), p95=percentile(ours, 95), max=max(ours),
               after_median=statistics.median(after), baseline_median=statistics.median(base),
               baseline_min=min(base), equal=answer == expected)
    print(f"汇总查询 queries.summary（{args.runs} 次，预热 {WARMUP} 次）：中位数 {out['median']:.1f} ms，"
          f"p95 {out['p95']:.1f} ms，最大 {out['max']:.1f} ms；基线之后再测中位数 {out['after_median']:.1f} ms", flush=True)
    print(f"基线 recount.summary（{len(base)} 次）：中位数 {out['baseline_median']:.0f} ms，"
          f"最快 {out['baseline_min']:.0f} ms；汇总比基线快 {out['baseline_median'] / out['median']:.0f} 倍", flush=True)
    headline = {k: answer[k] for k in ("activities", "participations", "volunteers", "hours_total",
                                       "people_served", "needs_collected", "needs_fulfilled")}
    print("主要数字：" + json.dumps(headline, ensure_ascii=False), flush=True)
    if not out["equal"]:
        diff = {k: (answer.get(k), expected.get(k)) for k in sorted(set(answer) | set(expected))
                if answer.get(k) != expected.get(k)}
        out["diff"] = {k: [str(a)[:300], str(b)[:300]] for k, (a, b) in diff.items()}
        print("!!! 汇总结果与基线不一致 / the roll-up answer differs from the baseline:", flush=True)
        for k, (a, b) in out["diff"].items():
            print(f"  {k}: 汇总 {a}  基线 {b}", flush=True)
    # Other periods the dashboard offers, for the record (no target): a month is served by the teams'
    # tallies; distinct volunteers of a month and any period that is not a calendar year or month are
    # counted from the raw records (the covering index), at their cost.
    others = {"month": (date(year, 6, 1), date(year, 6, 30)), "custom": (date(year, 3, 15), date(year, 9, 10))}
    out["other_periods"] = {}
    for name, (s, e) in others.items():
        timed(lambda s=s, e=e: queries.summary(centre, s, e))
        ms = statistics.median(timed(lambda s=s, e=e: queries.summary(centre, s, e))[0] for _i in range(3))
        out["other_periods"][name] = round(ms, 1)
        print(f"其他时段（无目标）{name} {s}—{e}：中位数 {ms:.1f} ms", flush=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False))


# --- the parent ------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # child: one size
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.size:
        args.records = args.size
        run_size(args)
        return

    from _common import report
    from import_volunteers import fresh_postgres

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wenming")
    if not url.startswith("postgres"):
        sys.exit("本基准测试需要 PostgreSQL（DATABASE_URL=postgres://…）。")
    sizes = (20_000, 200_000) if args.small else (100_000, 10_000_000)
    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="wenming-bench-dashboard-") as tmp:
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
        env["WENMING_VAR"] = tmp
        env.setdefault("WENMING_DATA_KEY", "wenming-bench-data-key-not-a-secret")
        for records in sizes:
            suffix = f"bench_dashboard_{records}"
            name_url = url.rsplit("/", 1)[0] + "/" + f"{url.rsplit('/', 1)[1]}_{suffix}"
            env["DATABASE_URL"] = name_url if args.reuse and _exists(url, suffix) else fresh_postgres(url, suffix)
            out = f"{tmp}/{records}.json"
            command = [sys.executable, os.path.abspath(__file__), "--size", str(records), "--out", out,
                       "--runs", str(args.runs)] + (["--reuse"] if args.reuse else []) + (["--rebuild"] if args.rebuild else [])
            code = subprocess.run(command, env=env).returncode
            if code != 0:
                _drop(url, sizes, args.keep)
                sys.exit(f"{records:,} 条的测量失败（退出码 {code}）/ the run at {records:,} records failed")
            results.append(json.loads(Path(out).read_text()))
    _drop(url, sizes, args.keep)

    small, large = results
    print("\n=== 结果 / results", flush=True)
    for r in results:
        gen_text = f"，生成 {r['gen_seconds']:.0f} 秒" if r.get("gen_seconds") else ""
        print(f"  {r['records']:>12,} 条：汇总 中位数 {r['median']:7.1f} ms、p95 {r['p95']:7.1f} ms；"
              f"基线 {r['baseline_median']:9.0f} ms；快 {r['baseline_median'] / r['median']:6.0f} 倍；"
              f"与基线一致：{'是' if r['equal'] else '否'}{gen_text}", flush=True)
    scale_median = large["median"] / small["median"]
    scale_p95 = large["p95"] / small["p95"]
    print(f"  规模比 latency({large['records']:,}) / latency({small['records']:,})：中位数 {scale_median:.2f}，"
          f"p95 {scale_p95:.2f}（目标 ≤ {TARGET_SCALE}）", flush=True)
    print(f"  {large['records']:,} 条 p95 {large['p95']:.1f} ms（目标 ≤ {TARGET_MS} ms）；"
          f"基线规模比 {large['baseline_median'] / small['baseline_median']:.0f}", flush=True)
    print(f"  总用时 {time.monotonic() - started:.0f} 秒；主机负载 {'/'.join(f'{x:.1f}' for x in os.getloadavg())}，"
          f"CPU {os.cpu_count()} 个", flush=True)
    if not all(r["equal"] for r in results):
        print("!!! 汇总结果与基线不一致：基准测试失败 / roll-up answer ≠ baseline: the bench FAILS", flush=True)
        report("dashboard", large["p95"], "ms", large["baseline_median"], TARGET_MS)
        sys.exit(1)
    report("dashboard", large["p95"], "ms", large["baseline_median"], TARGET_MS)


def _exists(url: str, suffix: str) -> bool:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    params = {k: v for k, v in {"host": cfg["HOST"], "port": cfg["PORT"] or None, "user": cfg["USER"],
                                "password": cfg["PASSWORD"]}.items() if v}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"{cfg['NAME']}_{suffix}"]).fetchone() \
            is not None


def _drop(url: str, sizes, keep: bool) -> None:
    if keep:
        return
    from import_volunteers import fresh_postgres

    for records in sizes:
        fresh_postgres(url, f"bench_dashboard_{records}", create=False)


if __name__ == "__main__":
    main()
