"""Benchmark: QR check-in (签到) under load, served by gunicorn (2 workers) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wenming .venv/bin/python bench/checkin_load.py
                     # a fresh database <name>_bench_checkin, dropped at the end

Builds 20 published activities in progress at one site, 2,000 volunteers (100 per activity,
WENMING_BENCH_VOLUNTEERS to change) signed up, each with an account and an API token. Then
starts gunicorn (wenming.wsgi, 2 workers of 4 threads, as docs/DEPLOY.md runs it) on the scratch database with the same
SECRET_KEY (so the QR tokens made here validate in the server) and drives 200 concurrent
clients (threads, urllib, one request at a time each, released together by a barrier):

    baseline  GET /api/v1/themes with each volunteer's token (a trivial authenticated endpoint),
              before and after the check-ins; their mean rate counts
    ours      POST /api/v1/activities/{id}/checkin {"token", "scan_id", "lat", "lng", "scanned_at"}
              once per volunteer, the token from checkin.token_for as the organiser's screen shows it

The figure is check-ins per second; the run fails unless every check-in answered 200, none
was a duplicate, and the database holds exactly one attendance and one scan per volunteer.
Target: ≥ 0.4 of the baseline's rate.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

ACTIVITIES = 20
VOLUNTEERS = int(os.environ.get("WENMING_BENCH_VOLUNTEERS", 2000))
CLIENTS = int(os.environ.get("WENMING_BENCH_CLIENTS", 200))
WORKERS = 2
THREADS = int(os.environ.get("WENMING_BENCH_THREADS", 4))  # as docs/DEPLOY.md runs it (--threads 4)
TARGET = 0.4
SITE_LAT, SITE_LNG = 27.2389, 111.4677


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(tmp: str) -> dict:
    """The environment of this process and of the server: scratch database, fixed keys."""
    from import_volunteers import fresh_postgres

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wenming")
    if not url.startswith("postgres"):
        sys.exit("本基准测试需要 PostgreSQL（DATABASE_URL=postgres://…）。")
    env = {
        "DJANGO_SETTINGS_MODULE": "wenming.settings",
        "DATABASE_URL": fresh_postgres(url, "bench_checkin"),
        "WENMING_VAR": tmp,
        "SECRET_KEY": "wenming-bench-secret-key-not-a-secret-" + "x" * 20,
        "WENMING_DATA_KEY": "wenming-bench-data-key-not-a-secret",
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
    }
    os.environ.update(env)
    return dict(os.environ)


def build_data() -> list[tuple[int, int, str]]:
    """20 activities in progress, volunteers signed up with tokens: [(activity id, volunteer id, key)]."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from wenming.activities import services
    from wenming.activities.models import Activity, SignUp
    from wenming.core.models import ApiToken, OrgNode, User
    from wenming.org.models import Site
    from wenming.people.models import Volunteer
    from wenming.people.services import VolunteerData, build_volunteer, volunteer_number

    sys.path.insert(0, str(ROOT))
    from tests.factories import make_id_number

    call_command("migrate", verbosity=0)
    centre = OrgNode.add_root(name="基准区新时代文明实践中心", kind="centre", division_code="430502000000")
    institute = centre.add_child(name="基准街道新时代文明实践所", kind="institute", division_code="430502001000")
    institute.refresh_from_db()
    station = institute.add_child(name="基准社区新时代文明实践站", kind="station", division_code="430502001001")
    admin = User.objects.create_user("bench-admin", password="Bench#Pass2024", role=User.Role.DISTRICT_ADMIN)
    admin.scopes.set([centre])
    site = Site.objects.create(name="基准道德讲堂", kind=Site.Kind.MORAL_HALL, node=station, lat=SITE_LAT,
                               lng=SITE_LNG, radius_m=500)
    start = timezone.now() + timedelta(days=1)
    activities = []
    per = -(-VOLUNTEERS // ACTIVITIES)
    for i in range(ACTIVITIES):
        data = services.ActivityData(title=f"基准活动{i + 1}", starts_at=start, ends_at=start + timedelta(hours=3),
                                     capacity=per, node=station, site=site)
        activities.append(services.publish_activity(admin, services.create_activity(admin, data),
                                                    confirm_overserving=True))

    # Accounts, volunteers, tokens and sign-ups in bulk (their own services are tested elsewhere;
    # building 2,000 of them one by one would take longer than the benchmark).
    users = User.objects.bulk_create([
        User(username=f"bench-vol-{n}", role=User.Role.VOLUNTEER, password="!") for n in range(VOLUNTEERS)
    ])
    volunteers = []
    for n, user in enumerate(users):
        v = build_volunteer(VolunteerData(name=f"志愿者{n}", id_number=make_id_number(), phone=f"139{n:08d}",
                                          station=station, agreement_consent=True, privacy_consent=True))
        v.number = volunteer_number(n + 1)
        v.user = user
        v.source = Volunteer.Source.SELF
        volunteers.append(v)
    volunteers = Volunteer.objects.bulk_create(volunteers)
    keys = [ApiToken.generate() for _ in users]
    ApiToken.objects.bulk_create([
        ApiToken(user=u, name="bench", prefix=k[3:9], key_hash=ApiToken.hash(k)) for u, k in zip(users, keys, strict=True)
    ])
    now = timezone.now()
    SignUp.objects.bulk_create([
        SignUp(activity=activities[n // per], volunteer=v, status=SignUp.Status.CONFIRMED, created_at=now)
        for n, v in enumerate(volunteers)
    ])
    # The clock moves on: every activity started ten minutes ago.
    Activity.objects.filter(pk__in=[a.pk for a in activities]).update(
        starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=3)
    )
    from django.db import connection

    connection.close()
    return [(activities[n // per].pk, v.pk, key) for n, (v, key) in enumerate(zip(volunteers, keys, strict=True))]


def start_server(env: dict, port: int) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    # WENMING_BENCH_PYSPY=<file>: sample the workers with py-spy (collapsed stacks) to find what costs.
    profile = os.environ.get("WENMING_BENCH_PYSPY")
    wrap = ["py-spy", "record", "--subprocesses", "--idle", "--format", "raw", "-r", "200", "-o", profile,
            "--"] if profile else []
    proc = subprocess.Popen(
        [*wrap, gunicorn, "wenming.wsgi", "-w", str(WORKERS), "--threads", str(THREADS), "-b", f"127.0.0.1:{port}", "--backlog", "2048",
         "--log-level", "warning", "--timeout", "60"],
        cwd=str(ROOT), env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/themes", timeout=2)
        except urllib.error.HTTPError:
            return proc  # 401: the server answers
        except OSError:
            time.sleep(0.2)
            continue
        return proc
    proc.terminate()
    sys.exit("gunicorn 未能启动 / gunicorn did not start")


def call(base: str, method: str, path: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except ValueError:
            return e.code, {}
    except OSError as e:
        return 0, {"error": str(e)}


def run_clients(jobs: list, work) -> tuple[float, list]:
    """Share the jobs among CLIENTS threads released together; returns (seconds, results)."""
    shares = [jobs[i::CLIENTS] for i in range(CLIENTS)]
    results = [[] for _ in shares]
    barrier = threading.Barrier(len(shares) + 1)

    def client(i):
        barrier.wait()
        for job in shares[i]:
            results[i].append(work(job))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(shares))]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, [r for rs in results for r in rs]


def main() -> None:
    from _common import percentile, report

    tmp = tempfile.mkdtemp(prefix="wenming-bench-checkin-")
    env = setup(tmp)
    proc = None
    try:
        print(f"准备数据：{ACTIVITIES} 个进行中的活动，{VOLUNTEERS} 名已报名的志愿者 …", flush=True)
        t0 = time.perf_counter()
        jobs = build_data()
        print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
        port = free_port()
        proc = start_server(env, port)
        base = f"http://127.0.0.1:{port}"

        from wenming.activities.checkin import token_for

        def trivial(job):
            t = time.perf_counter()
            status, _body = call(base, "GET", "/api/v1/themes", job[2])
            return status, time.perf_counter() - t

        def check_in(job):
            activity_id, _volunteer_id, key = job
            body = {"token": token_for(activity_id, "in"), "scan_id": uuid.uuid4().hex, "lat": SITE_LAT + 0.001,
                    "lng": SITE_LNG, "scanned_at": None}
            t = time.perf_counter()
            status, answer = call(base, "POST", f"/api/v1/activities/{activity_id}/checkin", key, body)
            return status, time.perf_counter() - t, answer

        run_clients(jobs[:CLIENTS], trivial)  # warm both workers up (imports, connections)
        before_s, before = run_clients(jobs, trivial)
        ours_s, ours = run_clients(jobs, check_in)
        after_s, after = run_clients(jobs, trivial)

        base_errors = [s for s, _ in before + after if s != 200]
        errors = [(s, a) for s, _, a in ours if s != 200]
        duplicates = [a for s, _, a in ours if s == 200 and a.get("duplicate")]
        baseline_rate = (len(before) / before_s + len(after) / after_s) / 2
        rate = len(ours) / ours_s
        print(f"基线 GET /api/v1/themes：之前 {len(before) / before_s:.0f} 次/秒，之后 {len(after) / after_s:.0f} 次/秒，"
              f"p95 {percentile([t for _, t in before + after], 95) * 1000:.0f} ms，非200 {len(base_errors)} 次", flush=True)
        print(f"签到 POST /checkin：{len(ours)} 次用时 {ours_s:.1f} s，{rate:.0f} 次/秒，"
              f"p95 {percentile([t for _, t, _ in ours], 95) * 1000:.0f} ms，错误 {len(errors)}，重复 {len(duplicates)}",
              flush=True)
        for status, answer in errors[:5]:
            print("  错误示例：", status, answer, flush=True)

        from django.db.models import Count

        from wenming.activities.models import Attendance, Scan

        attendances = Attendance.objects.count()
        scans = Scan.objects.count()
        doubled = Attendance.objects.values("volunteer").annotate(n=Count("id")).filter(n__gt=1).count()
        print(f"数据库：签到记录 {attendances}，扫码 {scans}，志愿者 {len(jobs)}，重复签到的志愿者 {doubled}", flush=True)
        ok = (not errors and not duplicates and not base_errors and attendances == len(jobs) == scans
              and doubled == 0)
        if not ok:
            print("失败：存在错误、重复或丢失的签到 / FAILED: errors, duplicates or lost check-ins", flush=True)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)  # gunicorn stops, py-spy (when sampling) writes its file
            proc.wait(30)
        from django.db import connections

        connections.close_all()
        from import_volunteers import drop_bench_database

        os.environ["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("_bench_checkin", 1)[0]
        drop_bench_database("bench_checkin")
    report("checkin_load", rate if ok else 0.0, "check-ins/s", baseline_rate, TARGET)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
