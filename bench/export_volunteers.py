"""Benchmark: exporting 100,000 volunteers to Excel as the console's export does (streaming).

    .venv/bin/python bench/export_volunteers.py              # a fresh SQLite database under /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wenming .venv/bin/python bench/export_volunteers.py
                                                             # PostgreSQL: a fresh database <name>_bench_export

Loads 100,000 synthetic volunteers (a third with skills) into a fresh database, then, each in
its own process so that its memory peak is its own:

    baseline  openpyxl write-only writing the same 100,000 rows (16 columns: text, dates,
              datetimes), already in memory, to a file
    ours      wenming.core.excel.export_workbook of the volunteers ledger for a district admin:
              the scoped query streamed in chunks of 2,000 (values_list + iterator), skills by one
              grouped query per chunk, labels, masking, the write-only workbook, the audit entry

The figure is our export's wall time in seconds; the ratio to the baseline's must stay ≤ 2,
and our process's peak RSS ≤ 150 MB (printed before the result line).
"""

import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from import_volunteers import (  # noqa: E402
    SEED,
    SKILLS,
    bench_environment,
    drop_bench_database,
    peak_rss_mb,
    phase_prepare,
    run_phase,
    setup_django,
    synthetic_rows,
)

ROWS = int(os.environ.get("WENMING_BENCH_ROWS", 100_000))
TARGET_RATIO = 2
TARGET_RSS_MB = 150
POLITICAL = {"群众": "masses", "中共党员": "cpc", "共青团员": "cyl"}


def mask_id(n: str) -> str:
    return n[:6] + "********" + n[-4:]


def mask_phone(p: str) -> str:
    return p[:3] + "****" + p[-4:]


def export_like_rows(count: int):
    """The rows an export of the loaded volunteers holds, built in memory for the baseline."""
    created = datetime(2026, 3, 5, 9, 30)
    stations = {}
    for i, (name, number, phone, code, political, skills, avail, _) in enumerate(synthetic_rows(count)):
        stations.setdefault(code, f"基准社区{code[-3:]}新时代文明实践站")
        birth = datetime.strptime(number[6:14], "%Y%m%d")
        yield (f"430502{i + 1:08d}", name, mask_id(number), "男" if int(number[16]) % 2 else "女", birth,
               mask_phone(phone), code, stations[code], political, skills, avail, None, None, "是",
               created + timedelta(seconds=i), "批量导入")


# --- Phases ---------------------------------------------------------------------------------------


def phase_load(_path: str) -> dict:
    """The district of the import bench, then the volunteers, inserted in bulk (not timed)."""
    phase_prepare(_path)
    from django.db import transaction

    from wenming.core import pii
    from wenming.core.models import OrgNode, Skill
    from wenming.people.models import Volunteer

    stations = {n.division_code: n for n in OrgNode.objects.filter(kind="station")}
    skills = {s.name: s.pk for s in Skill.objects.all()}
    through = Volunteer.skills.through
    now = datetime(2026, 3, 5, 1, 30).astimezone()
    batch, links = [], []

    def flush():
        with transaction.atomic():
            Volunteer.objects.bulk_create(batch, batch_size=1000)
            through.objects.bulk_create([through(volunteer_id=v.pk, skill_id=s) for v, names in links
                                         for s in names], batch_size=2000)
        batch.clear()
        links.clear()

    for i, (name, number, phone, code, political, skill_names, avail, _) in enumerate(synthetic_rows(ROWS)):
        v = Volunteer(
            number=f"430502{i + 1:08d}", name=name, name_pinyin="", name_initials="",
            gender="male" if int(number[16]) % 2 else "female",
            birth_date=datetime.strptime(number[6:14], "%Y%m%d").date(),
            id_number_enc=pii.encrypt(number), id_number_index=pii.blind_index(number, "id"),
            id_number_masked=mask_id(number), phone_enc=pii.encrypt(phone),
            phone_index=pii.blind_index(phone, "phone"), phone_masked=mask_phone(phone),
            political_status=POLITICAL[political], station=stations[code],
            availability=["weekend"] if avail else [], agreement_consent_at=now, privacy_consent_at=now,
            source="import", created_at=now + timedelta(seconds=i),
        )
        batch.append(v)
        links.append((v, [skills[s] for s in skill_names.split("、")] if skill_names else []))
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    return {"volunteers": Volunteer.objects.count()}


def phase_baseline(path: str) -> dict:
    from openpyxl import Workbook

    rows = list(export_like_rows(ROWS))
    started = time.perf_counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("志愿者")
    ws.append([f"列{i}" for i in range(16)])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return {"seconds": time.perf_counter() - started, "rss_mb": peak_rss_mb()}


def phase_ours(path: str) -> dict:
    setup_django()
    from wenming.core.excel import export_workbook, get_dataset
    from wenming.core.models import User

    user = User.objects.get(username="bench")
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    count = export_workbook(get_dataset("volunteers"), user, path)
    return {"seconds": time.perf_counter() - started, "rows": count, "rss_mb": peak_rss_mb(),
            "rss_before_mb": rss_before, "bytes": os.path.getsize(path)}


PHASES = {"load": phase_load, "baseline": phase_baseline, "ours": phase_ours}


def main() -> None:
    from _common import report

    random.seed(SEED)
    with tempfile.TemporaryDirectory(prefix="wenming-bench-export-") as tmp:
        env = bench_environment(tmp, "bench_export")
        me = os.path.abspath(__file__)
        print(f"载入 {ROWS} 名志愿者（含技能：{'、'.join(SKILLS[:2])} …）…", flush=True)
        run_phase(me, "load", f"{tmp}/unused", env)
        # The machine's speed drifts over minutes: the baseline runs before and after ours, and counts as their mean.
        before = run_phase(me, "baseline", f"{tmp}/baseline.xlsx", env)
        ours = run_phase(me, "ours", f"{tmp}/ours.xlsx", env)
        after = run_phase(me, "baseline", f"{tmp}/baseline.xlsx", env)
        base = {"seconds": (before["seconds"] + after["seconds"]) / 2, "rss_mb": max(before["rss_mb"], after["rss_mb"])}
        print(f"基线 openpyxl 只写模式写入同样的 {ROWS} 行：{base['seconds']:.1f} s（之前 {before['seconds']:.1f} s，"
              f"之后 {after['seconds']:.1f} s），峰值 RSS {base['rss_mb']:.0f} MB（行先全部放在内存里）", flush=True)
        db = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
        print(f"本系统导出（{db}，脱敏）：{ours['seconds']:.1f} s，{ours['rows']} 行，{ours['bytes'] / 1048576:.1f} MB，"
              f"峰值 RSS {ours['rss_mb']:.0f} MB（导出前已 {ours['rss_before_mb']:.0f} MB，导出本身 "
              f"+{ours['rss_mb'] - ours['rss_before_mb']:.0f} MB；目标 ≤ {TARGET_RSS_MB} MB）",
              flush=True)
        print(f"比值目标 ≤ {TARGET_RATIO}", flush=True)
        drop_bench_database("bench_export")
        report("export_volunteers", ours["seconds"], "s", base["seconds"], TARGET_RATIO)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--phase":
        print(json.dumps(PHASES[sys.argv[2]](sys.argv[3])), flush=True)
    else:
        main()
