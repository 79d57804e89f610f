"""Synthetic province-scale data for the benchmarks (`wenming gen`).

One year of a province-like district, consistent with the platform's rules, written fast:

- the tree: one centre, institutes (所) and stations (站) under the existing `OrgNode` model, the
  materialised paths computed as treebeard computes them (steplen, alphabet, order by division code);
- reference data: five platforms with their lead departments; the themes and need categories of the
  migrations;
- accounts: two admins for the centre and each institute, one per station, an account for each team
  leader and for a few volunteers of each station (whom needs are dispatched to);
- volunteers: valid ID numbers (GB 11643 check digit, known region codes) and mobile numbers, encrypted
  and blind-indexed by `core.pii` exactly as a registration is, unique volunteer numbers from the
  district's counter; 70% registered in earlier years, the others during the year;
- teams of the stations, institutes and the centre, with their members;
- activities across the year (published or settled, ended in the past; a few cancelled), with their
  platform, themes (M2M through table), team and number of people served;
- service records: verified hours of the settled activities' participants (check-in and check-out
  around the activity's window, minutes as `ledger.rules.served_minutes` counts them), recorded hours
  (a forgotten check-out, approved by a second person, with their `HoursRequest`), recorded hours of
  needs completed directly (`NeedHours`), paper history without a source, and corrections; every
  volunteer's records chained and sealed exactly as `ledger.services._append` does, so
  `wenming verify-ledger` passes;
- needs raised during the year, each in a state its timestamps agree with (rejected, cancelled, served
  and rated or closed unrated, served through an activity, or stuck: escalated to the centre and
  overdue), with the timeline the services would have written.

A participant only serves after registering; dates are calendar days in Asia/Shanghai inside the year;
nothing is later than now. PostgreSQL: COPY into tables whose secondary indexes are built once at the
end; SQLite: executemany (small numbers, for tests). Then `stats.rebuild.rebuild()` computes the
roll-ups from the raw records.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
import math
import os
import random
import time
from array import array
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.activities.models import Activity, Theme
from wenming.core import pii
from wenming.core.errors import DomainError, InvalidInput
from wenming.core.models import AuditEntry, Department, OrgNode, User
from wenming.core.services import reserve_in_sequence
from wenming.core.validators import id_check_digit
from wenming.ledger import rules
from wenming.ledger.chain import HASH_VERSION, head_seal, ledger_key
from wenming.ledger.models import GENESIS_HASH, HoursRequest, LedgerChain, ServiceRecord
from wenming.needs import services as need_services
from wenming.needs.models import Need, NeedCategory, NeedEvent, NeedHours
from wenming.org.models import Platform
from wenming.people.models import Team, TeamMembership, Volunteer
from wenming.people.services import name_pinyin, volunteer_number
from wenming.publicity.models import MediaReport

# --- Limits of the options --------------------------------------------------------------------------

MAX_VOLUNTEERS = 20_000_000
MAX_RECORDS = 200_000_000
MAX_NEEDS = 50_000_000
MAX_ACTIVITIES = 20_000_000
MAX_STATIONS = 100_000
MAX_PER_ACTIVITY = 200  # participants of one activity
MAX_PER_VOLUNTEER = 400  # services of one volunteer in a year
EARLIEST_YEAR = 2000
DEFAULT_SEED = 20260305
PROVINCE = "4399"  # division codes: 4399 + institute (3 digits) + station (5 digits)

PLATFORMS = [
    ("传思想习理论", "区委宣传部"), ("传政策习富路", "区农业农村局"), ("传道德习风尚", "区文明办"),
    ("传文化习礼仪", "区文旅广体局"), ("传科技习技能", "区科协"),
]
TITLES = {
    "传思想习理论": ["理论宣讲进社区", "微型党课", "百姓宣讲团走基层", "学习二十大精神宣讲"],
    "传政策习富路": ["惠农政策进村入户", "农技田间课堂", "就业政策宣讲", "医保社保政策解读"],
    "传道德习风尚": ["关爱空巢老人上门走访", "文明出行交通劝导", "清洁家园环境整治", "垃圾分类宣传指导",
               "关爱留守儿童", "走进敬老院"],
    "传文化习礼仪": ["送文化下乡文艺演出", "经典诵读进校园", "非遗传承体验课", "七彩假期兴趣课堂"],
    "传科技习技能": ["科普大篷车进校园", "义诊与健康咨询", "智能手机使用教学", "便民服务集市"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "玉兰", "志强", "海燕", "小红", "晨", "宇", "浩然", "子涵",
         "欣怡", "梓轩", "雨桐", "佳怡", "一鸣", "思远", "国庆", "建国", "春梅", "秋菊", "德胜", "卫东", "丹", "婷",
         "雪", "琳", "斌", "鹏", "辉", "鑫", "颖", "倩", "俊", "凯", "慧", "新民"]
REGIONS = ["430102", "430103", "430104", "430105", "430111", "430202", "430203", "430204", "430302", "430304",
           "430402", "430405", "430502", "430503", "430511", "430602", "430702", "430802", "430902", "431002",
           "431102", "431202", "431302", "433101"]
PHONE_PREFIXES = ["130", "133", "135", "137", "138", "139", "150", "151", "152", "155", "158", "159", "166", "170",
                  "173", "176", "177", "180", "181", "185", "186", "187", "188", "189", "191", "198", "199"]
POLITICAL = ["masses"] * 6 + ["cpc"] * 2 + ["cyl", "cpc_probation", "democratic", "other"]
AVAILABILITY = ['["weekend"]', '["weekday"]', '["weekend", "evening"]', '["evening"]', '[]',
                '["weekday", "weekend", "evening", "holiday"]']
SLOTS = [(8, 30), (9, 0), (9, 30), (14, 30), (15, 0), (19, 0), (19, 30)]
DURATIONS = [90, 120, 120, 150, 180]
CODE_ALPHABET = need_services.CODE_ALPHABET
CODE_SPACE = len(CODE_ALPHABET) ** 8
RESIDENT = need_services.RESIDENT
SYSTEM = need_services.SYSTEM
NEED_TEXTS = ["家中老人行动不便，希望有志愿者上门陪伴聊天、打扫卫生。", "孩子放学后无人看管，希望有人辅导作业。",
              "家里的电视机坏了，希望有志愿者帮忙看看。", "想学用智能手机挂号、视频通话。",
              "小区垃圾分类投放点需要志愿者督导。", "老人需要陪同去医院复查。", "想请志愿者来村里讲讲医保政策。"]
MEDIA = [("邵阳日报", "city"), ("湖南日报", "province"), ("新湖南客户端", "province"), ("人民网", "central"),
         ("区融媒体中心", "district"), ("学习强国", "central"), ("红网", "province")]


class NotEmpty(DomainError):
    status = 409
    code = "database_not_empty"


@dataclass(frozen=True)
class Options:
    volunteers: int
    records: int
    needs: int
    activities: int
    stations: int
    institutes: int
    year: int
    seed: int = DEFAULT_SEED


@dataclass
class Summary:
    institutes: int = 0
    stations: int = 0
    users: int = 0
    teams: int = 0
    memberships: int = 0
    volunteers: int = 0
    activities: int = 0
    settled_activities: int = 0
    records: int = 0
    verified_records: int = 0
    recorded_records: int = 0
    corrections: int = 0
    hours_requests: int = 0
    needs: int = 0
    need_states: dict = field(default_factory=dict)
    need_events: int = 0
    media_reports: int = 0
    seconds: dict = field(default_factory=dict)
    rebuilt: dict | None = None


def _int(value, label: str, low: int, high: int, grouped: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise InvalidInput(_("%(label)s须为整数。") % {"label": label}, code="gen_option_invalid")
    if not low <= value <= high:
        form = "{:,}" if grouped else "{}"
        raise InvalidInput(_("%(label)s须在%(low)s到%(high)s之间（现为%(value)s）。") % {
            "label": label, "low": form.format(low), "high": form.format(high), "value": form.format(value)},
            code="gen_option_invalid")
    return value


def make_options(*, volunteers, records, needs, activities=None, stations=None, year=None, seed=DEFAULT_SEED,
                 now: datetime | None = None) -> Options:
    """Check the options of `wenming gen` and fill in the defaults; raises InvalidInput (Chinese)."""
    now = now or timezone.now()
    this_year = timezone.localtime(now).year
    volunteers = _int(volunteers, _("志愿者人数"), 1, MAX_VOLUNTEERS)
    records = _int(records, _("服务记录条数"), 1, MAX_RECORDS)
    needs = _int(needs, _("群众需求条数"), 0, MAX_NEEDS)
    if activities is None:
        activities = max(1, min(MAX_ACTIVITIES, records // 25))
    activities = _int(activities, _("活动场次"), 1, MAX_ACTIVITIES)
    if stations is None:
        stations = max(1, min(MAX_STATIONS, volunteers // 1000, max(1, volunteers // 20)))
    stations = _int(stations, _("实践站个数"), 1, MAX_STATIONS)
    year = _int(this_year - 1 if year is None else year, _("年份"), EARLIEST_YEAR, this_year, grouped=False)
    seed = _int(seed, _("随机种子"), 0, 2**63 - 1, grouped=False)
    if stations > volunteers:
        raise InvalidInput(_("实践站个数（%(s)s）不能多于志愿者人数（%(v)s）：每个站至少要有一名志愿者。") % {
            "s": f"{stations:,}", "v": f"{volunteers:,}"}, code="gen_option_invalid")
    if records > activities * MAX_PER_ACTIVITY:
        raise InvalidInput(_("服务记录太多而活动太少：每场活动至多%(n)s人参加，%(a)s场活动容不下%(r)s条服务记录。") % {
            "n": MAX_PER_ACTIVITY, "a": f"{activities:,}", "r": f"{records:,}"}, code="gen_option_invalid")
    if records > volunteers * MAX_PER_VOLUNTEER:
        raise InvalidInput(_("服务记录太多而志愿者太少：一名志愿者一年至多服务%(n)s次。") % {"n": MAX_PER_VOLUNTEER},
                           code="gen_option_invalid")
    if activities > records:
        raise InvalidInput(_("活动场次不能多于服务记录条数。"), code="gen_option_invalid")
    if year == this_year and timezone.localtime(now).timetuple().tm_yday < 31:
        raise InvalidInput(_("今年才开始不久，请选择往年（--year）。"), code="gen_option_invalid")
    institutes = max(1, min(999, round(stations / 25)))
    return Options(volunteers, records, needs, activities, stations, institutes, year, seed)


def found_data() -> list[str]:
    """What the database already holds: the generator only writes into an empty one."""
    found = []
    checks = [(OrgNode, _("实践组织")), (Volunteer, _("志愿者")), (Activity, _("活动")), (ServiceRecord, _("服务记录")),
              (Need, _("群众需求")), (Team, _("志愿服务队"))]
    for model, label in checks:
        if model.objects.exists():
            found.append(str(label))
    if User.objects.filter(is_superuser=False).exists():
        found.append(str(_("账号")))
    return found


# --- Writing rows ------------------------------------------------------------------------------------

def _utc_text(value: datetime) -> str:
    return str(value.astimezone(UTC).replace(tzinfo=None))


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def tsv(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_TSV_ESCAPES)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


class UtcText:
    """Whole-second epoch times as chain.canonical_json writes datetimes (…T08:30:00.000000Z), fast."""

    def __init__(self):
        self.days: dict[int, str] = {}

    def __call__(self, epoch: int) -> str:
        day, rest = divmod(epoch, 86400)
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
        h, rest = divmod(rest, 3600)
        m, sec = divmod(rest, 60)
        return f"{text}{h:02d}:{m:02d}:{sec:02d}.000000Z"


class Writer:
    """Rows of one model as tuples in its concrete fields' order: COPY on PostgreSQL, executemany on
    SQLite (datetimes as Django's SQLite backend stores them)."""

    def __init__(self, model, *, table: str | None = None, columns: list[str] | None = None):
        self.db = connections[DEFAULT_DB_ALIAS]
        self.model = model
        fields = list(model._meta.concrete_fields) if table is None else []
        self.columns = columns or [f.column for f in fields]
        self.table = table or model._meta.db_table
        self.pg = self.db.vendor == "postgresql"
        self.count = 0
        convert = []
        for f in fields:
            if isinstance(f, models.DateTimeField):
                convert.append(_utc_text)
            elif isinstance(f, models.DateField):
                convert.append(str)
            elif isinstance(f, models.JSONField):
                convert.append(None)  # given as JSON text
            else:
                convert.append(None)
        self.convert = [(i, c) for i, c in enumerate(convert) if c is not None]
        self._rows: list = []
        self._lines: list[str] = []
        self._copy = None
        self._cursor = None

    def __enter__(self):
        qn = self.db.ops.quote_name
        self._cursor = self.db.cursor()
        if self.pg:
            cols = ", ".join(qn(c) for c in self.columns)
            self._cm = self._cursor.cursor.copy(f"COPY {qn(self.table)} ({cols}) FROM STDIN")
            self._copy = self._cm.__enter__()
        return self

    def write(self, row) -> None:
        self.count += 1
        if self.pg:
            self._lines.append("\t".join([tsv(v) for v in row]) + "\n")
            if len(self._lines) >= 500:
                self._send()
            return
        if self.convert:
            row = list(row)
            for i, c in self.convert:
                if row[i] is not None:
                    row[i] = c(row[i])
        self._rows.append(row)
        if len(self._rows) >= 5000:
            self._flush()

    def write_line(self, line: str) -> None:
        """PostgreSQL only: a row already in COPY text format, newline included."""
        self.count += 1
        self._lines.append(line)
        if len(self._lines) >= 500 or len(line) > 65536:
            self._send()

    def _send(self) -> None:
        """Lines go to the server 500 at a time: each write to psycopg's COPY is a round of the protocol."""
        self._copy.write("".join(self._lines))
        self._lines = []

    def _flush(self) -> None:
        if self._rows:
            qn = self.db.ops.quote_name
            cols = ", ".join(qn(c) for c in self.columns)
            marks = ", ".join(["%s"] * len(self.columns))
            self._cursor.executemany(f"INSERT INTO {qn(self.table)} ({cols}) VALUES ({marks})", self._rows)
            self._rows = []

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.pg:
                if exc_type is None and self._lines:
                    self._send()
                self._cm.__exit__(exc_type, exc, tb)
            elif exc_type is None:
                self._flush()
        finally:
            self._cursor.close()
        return False


def reset_sequences(*models_) -> None:
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        for statement in db.ops.sequence_reset_sql(no_style(), list(models_)):
            cursor.execute(statement)


@contextmanager
def bulk_load(tables: list[str], say: Callable[[str], None]):
    """PostgreSQL: the tables' secondary indexes and unique constraints are dropped while loading and
    built once afterwards (a sort each instead of millions of random inserts); foreign-key triggers are
    skipped where the session may (the rows are consistent by construction, and checked by the tests)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        yield
        return
    again = []
    replica = False
    with db.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
            replica = True
        except Exception:  # not a superuser: the triggers stay on, the load is slower
            replica = False
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
    yield
    started = time.monotonic()
    with db.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
        for statement in again:
            cursor.execute(statement)
        if replica:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    say(_("建索引：%(n)s 个，%(s).1f 秒") % {"n": len(again), "s": time.monotonic() - started})


# --- Fast, exact copies of what the services compute ---------------------------------------------------

class Sealer:
    """AES-GCM and blind indexes as core.pii computes them, the key objects made once."""

    def __init__(self):
        master = settings.WENMING_DATA_KEY
        self.aead = AESGCM(pii._derive(master, b"encrypt"))
        self.index_keys = {k: pii._derive(master, b"index:" + k.encode()) for k in ("id", "phone")}

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self.aead.encrypt(nonce, value.encode(), None)).decode()

    def index(self, value: str, kind: str) -> str:
        return hmac.new(self.index_keys[kind], value.encode(), hashlib.sha256).hexdigest()


def _json(value) -> str:
    if isinstance(value, datetime):
        return '"' + value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + '"'
    if isinstance(value, date):
        return '"' + value.isoformat() + '"'
    return json.dumps(value, ensure_ascii=False)


# The hashed fields with prev_hash and v, in the sorted order of chain.canonical_json.
_CANON_KEYS = sorted(["volunteer_id", "sequence", "kind", "title", "content", "place", "beneficiaries",
                      "service_date", "started_at", "ended_at", "window_start", "window_end", "minutes",
                      "source_type", "source_id", "node_id", "responsible_person", "quality_rating",
                      "recorded_by_id", "approved_by_id", "approved_at", "reason", "adjustment_of_id",
                      "original_id", "created_at", "prev_hash", "v"])


def canonical(values: dict) -> bytes:
    """chain.canonical_json(content, prev_hash), built from already JSON-encoded values (the same bytes:
    the tests compare it with the chain's own function)."""
    return ("{" + ",".join(f'"{k}":{values[k]}' for k in _CANON_KEYS) + "}").encode()


# --- The generator -------------------------------------------------------------------------------------

@dataclass
class Station:
    id: int
    institute: int  # index into institutes
    seq0: int = 0  # the position of its first volunteer in the run (volunteer numbers, ID numbers)
    lo: int = 0  # its volunteers are ids lo … hi-1, oldest registration first
    hi: int = 0
    joined: list = field(default_factory=list)  # registration times (epoch seconds), ascending
    admin: int = 0
    teams: list = field(default_factory=list)
    users: list = field(default_factory=list)  # volunteers with an account: (volunteer id, user id)
    activities: list = field(default_factory=list)  # (start, end, activity id) of settled activities


class Generator:
    def __init__(self, options: Options, say: Callable[[str], None] | None = None, now: datetime | None = None):
        self.o = options
        self.say = say or (lambda text: None)
        self.now = now or timezone.now()
        self.rng = random.Random(options.seed)
        self.tz = timezone.get_default_timezone()
        self.db = connections[DEFAULT_DB_ALIAS]
        self.pg = self.db.vendor == "postgresql"
        self.summary = Summary()
        self.year_start = datetime(options.year, 1, 1, tzinfo=self.tz)
        self.year_end = min(datetime(options.year + 1, 1, 1, tzinfo=self.tz), self.now - timedelta(days=1))
        self.key = ledger_key()
        self.sealer = Sealer()
        self._pinyin: dict[str, tuple[str, str]] = {}
        self.first_names: dict[int, str] = {}

    # --- helpers ---------------------------------------------------------------------------------------

    def _stage(self, label: str, started: float) -> None:
        seconds = time.monotonic() - started
        self.summary.seconds[label] = round(seconds, 1)
        self.say(_("%(label)s：%(s).1f 秒") % {"label": label, "s": seconds})

    def _local(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, self.tz)

    def joined_of(self, v: int) -> float:
        """When volunteer v registered (epoch seconds)."""
        if not hasattr(self, "_los"):
            self._los = [st.lo for st in self.stations]
        st = self.stations[bisect.bisect_right(self._los, v) - 1]
        return st.joined[v - st.lo]

    def _next_id(self, model) -> int:
        value = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return (value or 0) + 1

    # --- the whole run -----------------------------------------------------------------------------------

    def run(self, rebuild: bool = True) -> Summary:
        found = found_data()
        if found:
            raise NotEmpty(_("数据库中已有数据（%(what)s）。生成的模拟数据只能写入空数据库，以免与真实数据混在一起；"
                             "请换用新的数据库（设置 DATABASE_URL 或 WENMING_VAR）。") % {"what": "、".join(found)})
        started = time.monotonic()
        with transaction.atomic():
            self._reference()
            self._tree()
            self._volunteers()
            self._accounts_and_teams()
            self._activities()
            self._needs()
            self._records()
            self._media()
            AuditEntry.objects.create(
                action="stats.gen", object_type="core.orgnode", object_id=str(self.centre_id),
                object_repr=self.centre_name, actor_name="系统",
                after={"volunteers": self.o.volunteers, "records": self.o.records, "needs": self.o.needs,
                       "activities": self.summary.activities, "year": self.o.year, "seed": self.o.seed},
                note="wenming gen：生成模拟数据")
        if self.pg:
            t = time.monotonic()
            with self.db.cursor() as cursor:
                # VACUUM (visibility map: index-only scans) cannot run inside a caller's transaction.
                cursor.execute("ANALYZE" if self.db.in_atomic_block else "VACUUM ANALYZE")
            self._stage(_("VACUUM ANALYZE"), t)
        self.summary.seconds["total_write"] = round(time.monotonic() - started, 1)
        if rebuild:
            t = time.monotonic()
            from wenming.stats.rebuild import rebuild as rebuild_rollups
            from wenming.stats.rebuild import refresh_statistics

            self.summary.rebuilt = rebuild_rollups(now=self.now)
            refresh_statistics()  # the roll-up tables were empty when the database was analysed above
            self._stage(_("重算统计汇总（stats.rebuild）"), t)
        return self.summary

    # --- reference data, tree ------------------------------------------------------------------------------

    def _reference(self) -> None:
        self.platforms = []
        for i, (name, dept) in enumerate(PLATFORMS):
            d, _created = Department.objects.get_or_create(name=dept)
            p, _created = Platform.objects.get_or_create(name=name, defaults={"lead_department": d, "ordering": i + 1})
            self.platforms.append((p.pk, name))
        self.themes = list(Theme.objects.order_by("sort_order", "pk").values_list("pk", flat=True))
        self.categories = list(NeedCategory.objects.filter(parent__isnull=False, active=True)
                               .select_related("parent").order_by("pk"))
        if not self.categories:
            raise InvalidInput(_("没有可用的需求类别（迁移的默认类别被删除了？）。"), code="gen_no_categories")

    def _tree(self) -> None:
        t = time.monotonic()
        o, rng = self.o, self.rng
        per = [0] * o.institutes
        for s in range(o.stations):
            per[s % o.institutes] += 1
        step = OrgNode.steplen
        next_id = self._next_id(OrgNode)
        self.centre_id, self.centre_name = next_id, "模拟省新时代文明实践中心"
        root_path = OrgNode._get_path(None, 1, 1)
        rows = [dict(id=next_id, path=root_path, depth=1, numchild=o.institutes, name=self.centre_name,
                     kind="centre", division_code=f"{PROVINCE}00000000", secretary="王建国",
                     lat=27.24, lng=111.47)]
        next_id += 1
        self.institutes, self.stations = [], []
        for i in range(o.institutes):
            path = OrgNode._get_path(root_path, 2, i + 1)
            iid = next_id
            next_id += 1
            lat, lng = 26.0 + rng.random() * 3, 110.0 + rng.random() * 3
            rows.append(dict(id=iid, path=path, depth=2, numchild=per[i], name=f"模拟第{i + 1}县新时代文明实践所",
                             kind="institute", division_code=f"{PROVINCE}{i + 1:03d}00000", lat=lat, lng=lng))
            self.institutes.append({"id": iid, "stations": [], "path": path})
            for j in range(per[i]):
                sid = next_id
                next_id += 1
                rows.append(dict(id=sid, path=OrgNode._get_path(path, 3, j + 1), depth=3, numchild=0,
                                 name=f"模拟第{i + 1}县第{j + 1}村（社区）新时代文明实践站", kind="station",
                                 division_code=f"{PROVINCE}{i + 1:03d}{j + 1:05d}",
                                 lat=round(lat + rng.uniform(-0.1, 0.1), 6), lng=round(lng + rng.uniform(-0.1, 0.1), 6)))
                self.institutes[i]["stations"].append(len(self.stations))
                self.stations.append(Station(id=sid, institute=i))
        assert all(len(r["path"]) == r["depth"] * step for r in rows)
        nodes = [OrgNode(is_demo_data=True, **r) for r in rows]
        OrgNode.objects.bulk_create(nodes, batch_size=2000)
        reset_sequences(OrgNode)
        self.summary.institutes, self.summary.stations = o.institutes, o.stations
        self._stage(_("组织架构：1个中心、%(i)s个实践所、%(s)s个实践站") % {"i": o.institutes, "s": o.stations}, t)

    # --- volunteers --------------------------------------------------------------------------------------

    def _name(self, rng) -> tuple[str, str, str]:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in self._pinyin:
            self._pinyin[name] = name_pinyin(name)
        return (name, *self._pinyin[name])

    def _volunteers(self) -> None:
        t = time.monotonic()
        o, rng = self.o, random.Random(self.o.seed + 1)
        n_st = len(self.stations)
        weights = [0.5 + rng.random() for _s in range(n_st)]
        total = sum(weights)
        counts = [max(1, int(o.volunteers * w / total)) for w in weights]
        diff = o.volunteers - sum(counts)
        i = 0
        while diff:
            s = i % n_st
            if diff > 0:
                counts[s] += 1
                diff -= 1
            elif counts[s] > 1:
                counts[s] -= 1
                diff += 1
            i += 1
        y0 = self.year_start.timestamp()
        earliest = datetime(o.year - 4, 1, 1, tzinfo=self.tz).timestamp()
        joined_end = min(self.year_end.timestamp(), datetime(o.year, 12, 1, tzinfo=self.tz).timestamp())
        first_number = reserve_in_sequence("volunteer_number", o.volunteers)
        vid = self._next_id(Volunteer)
        self.first_volunteer = vid
        seq = 0
        for st, n in zip(self.stations, counts, strict=True):
            st.joined = sorted(rng.uniform(earliest, y0) if rng.random() < 0.7 else rng.uniform(y0, joined_end)
                               for _k in range(n))
            st.lo, st.hi, st.seq0 = vid, vid + n, seq
            vid, seq = vid + n, seq + n
        born_from, born_to = date(o.year - 75, 1, 1), date(o.year - 23, 1, 1)
        birth_days = (born_to - born_from).days
        space = len(REGIONS) * birth_days * 1000
        self._people = {
            "first_number": first_number, "born_from": born_from, "birth_days": birth_days, "space": space,
            "factor": next(p for p in (1_000_003, 1_000_033, 1_000_037, 1_000_039) if math.gcd(p, space) == 1),
            "columns": [f.attname for f in Volunteer._meta.concrete_fields],
        }
        name_pinyin("张三")  # pypinyin's dictionaries loaded once, before any fork
        # Chunks of whole stations, about 20,000 volunteers each, each with its own random stream.
        bounds, first = [], 0
        for k, st in enumerate(self.stations):
            if st.hi - self.stations[first].lo >= VOLUNTEER_CHUNK:
                bounds.append((first, k + 1))
                first = k + 1
        if first < len(self.stations):
            bounds.append((first, len(self.stations)))
        workers = min(os.cpu_count() or 1, 4) if self.pg and o.volunteers >= 5 * VOLUNTEER_CHUNK else 1
        global _ACTIVE
        _ACTIVE = self
        with bulk_load(["people_volunteer"], self.say), Writer(Volunteer) as w:
            pool = None
            if workers > 1:
                import multiprocessing

                pool = multiprocessing.get_context("fork").Pool(workers)
                results = pool.imap(_volunteer_chunk, bounds)
            else:
                results = map(_volunteer_chunk, bounds)
            try:
                for out, names in results:
                    before = w.count
                    if self.pg:
                        w.write_line(out)
                        w.count = before + out.count("\n")
                    else:
                        for row in out:
                            w.write(row)
                    self.first_names.update(names)
                    if w.count // 200_000 > before // 200_000:
                        self.say(_("  志愿者 %(n)s / %(t)s") % {"n": f"{w.count:,}", "t": f"{o.volunteers:,}"})
            finally:
                if pool is not None:
                    pool.close()
                    pool.join()
        _ACTIVE = None
        reset_sequences(Volunteer)
        self.summary.volunteers = o.volunteers
        self._stage(_("志愿者：%(n)s 名（加密、盲索引）") % {"n": f"{o.volunteers:,}"}, t)

    # --- accounts and teams --------------------------------------------------------------------------------

    def volunteer_chunk(self, s_lo: int, s_hi: int):
        """The volunteers of stations[s_lo:s_hi], validated, encrypted and blind-indexed as a registration
        is: their rows (PostgreSQL: one block of COPY text) and the names of each station's first three."""
        o, p, seal, pg = self.o, self._people, self.sealer, self.pg
        rng = random.Random(o.seed * 1_000_003 + 17 + s_lo)
        first_number, born_from, birth_days = p["first_number"], p["born_from"], p["birth_days"]
        space, factor, columns = p["space"], p["factor"], p["columns"]
        n_regions = len(REGIONS)
        weights = [2 ** (17 - i) % 11 for i in range(17)]
        region_sums = {r: sum(int(d) * w for d, w in zip(r, weights[:6], strict=True)) for r in REGIONS}
        order_sums = [sum(int(d) * w for d, w in zip(f"{k:03d}", weights[14:], strict=True)) for k in range(1000)]
        birth_sums: dict = {}
        out, names = [], {}
        for st in self.stations[s_lo:s_hi]:
            for k, ts in enumerate(st.joined):
                vid, seq = st.lo + k, st.seq0 + k
                name, full, initials = self._name(rng)
                # Unique by construction: the row number, permuted, is region × birth date × sequence.
                x = (seq * factor + o.seed) % space
                region = REGIONS[x % n_regions]
                day = (x // n_regions) % birth_days
                order = x // (n_regions * birth_days)
                found = birth_sums.get(day)
                if found is None:
                    birth = born_from + timedelta(days=day)
                    text = f"{birth:%Y%m%d}"
                    found = birth_sums[day] = (birth, text, sum(int(d) * w for d, w in zip(text, weights[6:14],
                                                                                             strict=True)))
                birth, birth_text, birth_sum = found
                number = (f"{region}{birth_text}{order:03d}"
                          + "10X98765432"[(region_sums[region] + birth_sum + order_sums[order]) % 11])
                gender = "male" if int(number[16]) % 2 else "female"
                phone = f"{PHONE_PREFIXES[seq % len(PHONE_PREFIXES)]}{(seq * 7919 + o.seed) % 100_000_000:08d}"
                created = self._local(ts)
                if pg:
                    created = created.isoformat()
                values = {
                    "id": vid, "number": volunteer_number(first_number + seq), "name": name,
                    "name_pinyin": full, "name_initials": initials, "gender": gender, "birth_date": birth,
                    "id_type": "居民身份证", "id_number_enc": seal.encrypt(number),
                    "id_number_index": seal.index(number, "id"), "id_number_masked": pii.mask_id_number(number),
                    "phone_enc": seal.encrypt(phone), "phone_index": seal.index(phone, "phone"),
                    "phone_masked": pii.mask_phone(phone), "political_status": rng.choice(POLITICAL),
                    "station_id": st.id, "availability": rng.choice(AVAILABILITY),
                    "agreement_consent_at": created, "privacy_consent_at": created, "guardian_name": "",
                    "guardian_phone_enc": "", "guardian_phone_masked": "", "guardian_consent_at": None,
                    "user_id": None, "source": Volunteer.Source.IMPORT, "registered_by_id": None,
                    "created_at": created, "is_demo_data": True,
                }
                row = [values[c] for c in columns]
                out.append("\t".join([tsv(v) for v in row]) + "\n" if pg else row)
                if k < 3:  # the station's first volunteers get accounts: needs name them
                    names[vid] = name
                    assert number[-1] == id_check_digit(number), number  # the sums above are GB 11643's
        return ("".join(out) if pg else out), names

    def _accounts_and_teams(self) -> None:
        t = time.monotonic()
        rng = random.Random(self.o.seed + 2)
        uid = self._next_id(User)
        users, scopes = [], []
        now = self.now

        def user(username, role, display, scope=None, volunteer=None):
            nonlocal uid
            users.append(User(id=uid, username=username, password="!" + "".join(rng.choices("abcdefghjk", k=30)),
                              role=role, display_name=display, is_demo_data=True, date_joined=now))
            if scope:
                scopes.append(User.scopes.through(user_id=uid, orgnode_id=scope))
            uid += 1
            return uid - 1

        R = User.Role
        self.centre_admins = [user("gen-centre-1", R.DISTRICT_ADMIN, "中心管理员甲", self.centre_id),
                              user("gen-centre-2", R.DISTRICT_ADMIN, "中心管理员乙", self.centre_id)]
        for i, inst in enumerate(self.institutes):
            inst["admins"] = [user(f"gen-inst-{i + 1}-{k}", R.INSTITUTE_ADMIN, f"第{i + 1}县实践所管理员{k}",
                                   inst["id"]) for k in (1, 2)]
        for n, st in enumerate(self.stations):
            st.admin = user(f"gen-station-{n + 1}", R.STATION_ADMIN, f"实践站管理员{n + 1}", st.id)
        # Teams: about one per 60 volunteers of a station (at least one), two per institute, five at the centre.
        teams, members = [], []
        tid = self._next_id(Team)
        self.teams: dict[int, dict] = {}

        def team(node_id, name, pool: list[int]):
            nonlocal tid
            size = min(len(pool), rng.randint(8, 20))
            chosen = rng.sample(pool, size)
            platform = rng.choice(self.platforms)
            created = self.year_start.timestamp() - rng.uniform(30, 700) * 86400
            teams.append(Team(id=tid, name=name, node_id=node_id, platform_id=platform[0], leader_id=chosen[0],
                              description="", capacity=rng.choice([3, 5, 5, 8]), created_at=self._local(created),
                              is_demo_data=True))
            for v in chosen:
                joined = max(created, self.joined_of(v)) + rng.uniform(0, 30) * 86400
                members.append(TeamMembership(team_id=tid, volunteer_id=v,
                                              joined_at=self._local(min(joined, self.year_start.timestamp()))))
            self.teams[tid] = {"node": node_id, "members": chosen, "leader": chosen[0], "name": name}
            tid += 1
            return tid - 1

        old = self.year_start.timestamp()
        for n, st in enumerate(self.stations):
            pool = list(range(st.lo, st.lo + bisect.bisect_left(st.joined, old))) or [st.lo]
            for k in range(max(1, (st.hi - st.lo) // 60)):
                st.teams.append(team(st.id, f"第{n + 1}站志愿服务队{k + 1}", pool))
        for i, inst in enumerate(self.institutes):
            pool = [v for s in inst["stations"] for v in range(self.stations[s].lo, self.stations[s].hi)
                    if self.stations[s].joined[v - self.stations[s].lo] < old]
            pool = pool or [self.stations[inst["stations"][0]].lo]
            inst["teams"] = [team(inst["id"], f"第{i + 1}县志愿服务队{k + 1}", pool) for k in (1, 2)]
        everyone = [v for st in self.stations[:200] for v in range(st.lo, st.lo + bisect.bisect_left(st.joined, old))]
        everyone = everyone or [self.stations[0].lo]
        self.centre_teams = [team(self.centre_id, f"模拟省志愿服务总队第{k + 1}分队", everyone) for k in range(5)]
        # Accounts: every team leader, and up to three volunteers of each station (needs are dispatched to them).
        vol_user: dict[int, int] = {}
        for tinfo in self.teams.values():
            lead = tinfo["leader"]
            if lead not in vol_user:
                vol_user[lead] = user(f"gen-v{lead}", R.TEAM_LEADER, "队长", None)
        for st in self.stations:
            for v in range(st.lo, min(st.hi, st.lo + 3)):
                if v not in vol_user:
                    vol_user[v] = user(f"gen-v{v}", R.VOLUNTEER, "志愿者", None)
                st.users.append((v, vol_user[v]))
        User.objects.bulk_create(users, batch_size=2000)
        User.scopes.through.objects.bulk_create(scopes, batch_size=2000)
        # Link accounts to volunteers in one statement per batch.
        with self.db.cursor() as cursor:
            pairs = list(vol_user.items())
            for k in range(0, len(pairs), 1000):
                chunk = pairs[k:k + 1000]
                cases = " ".join("WHEN %s THEN %s" for _p in chunk)
                params = [x for p in chunk for x in p] + [p[0] for p in chunk]
                cursor.execute(f"UPDATE people_volunteer SET user_id = CASE id {cases} END "
                               f"WHERE id IN ({', '.join('%s' for _p in chunk)})", params)
        Team.objects.bulk_create(teams, batch_size=2000)
        TeamMembership.objects.bulk_create(members, batch_size=5000)
        reset_sequences(User, Team, TeamMembership)
        self.vol_user = vol_user
        self.summary.users, self.summary.teams, self.summary.memberships = len(users), len(teams), len(members)
        self._stage(_("账号 %(u)s 个，志愿服务队 %(t)s 支（队员 %(m)s 人次）") % {
            "u": f"{len(users):,}", "t": f"{len(teams):,}", "m": f"{len(members):,}"}, t)

    # --- activities ----------------------------------------------------------------------------------------

    def _activities(self) -> None:
        """Plan every activity and its participants, then write the activities and their themes."""
        t = time.monotonic()
        o, rng = self.o, random.Random(self.o.seed + 3)
        y0, y1 = self.year_start.timestamp(), self.year_end.timestamp()
        days = max(1, int((y1 - y0) // 86400) - 1)
        n_st, n_inst = len(self.stations), len(self.institutes)
        # How many activity records: the rest goes to needs, paper history and corrections.
        self.n_history = o.records // 200
        self.n_corrections = o.records // 200
        self.need_budget = min(o.records // 10, o.needs * 2)
        activity_records = o.records - self.n_history - self.n_corrections - self.need_budget
        settled_share = 0.94
        n_settled = max(1, round(o.activities * settled_share))
        if activity_records > n_settled * MAX_PER_ACTIVITY:
            n_settled = o.activities
        plans = []
        for _k in range(o.activities):
            level = rng.random()
            if level < 0.82 or n_inst == 0:
                s = rng.randrange(n_st)
                node, kind, where = self.stations[s].id, "station", s
            elif level < 0.96:
                i = rng.randrange(n_inst)
                node, kind, where = self.institutes[i]["id"], "institute", i
            else:
                node, kind, where = self.centre_id, "centre", None
            day = rng.randrange(days)
            hour, minute = rng.choice(SLOTS)
            start = self._local(y0 + day * 86400).replace(hour=hour, minute=minute)
            end = start + timedelta(minutes=rng.choice(DURATIONS))
            if end.timestamp() > y1:
                start, end = start - timedelta(days=2), end - timedelta(days=2)
            plans.append([start, end, node, kind, where])
        plans.sort(key=lambda p: p[0])
        # Statuses: settled ones get the records; a few finished but not settled yet, a few cancelled.
        order = list(range(len(plans)))
        rng.shuffle(order)
        settled = set(order[:n_settled])
        rest = order[n_settled:]
        cancelled = set(rest[: len(rest) // 2])
        # Participants per settled activity: a random share of the activity records, capped.
        settled_list = sorted(settled)
        parts = self._split(activity_records, len(settled_list), rng, MAX_PER_ACTIVITY)
        want = dict(zip(settled_list, parts, strict=True))
        aid = self._next_id(Activity)
        # Per activity index: (id, start, end, node id, node kind, its index, settled_at or None, cancelled).
        self.act: list[tuple] = []
        rec_vol, rec_act = array("q"), array("q")
        shortfall = 0
        for idx, (start, end, node, kind, where) in enumerate(plans):
            a_id = aid + idx
            settled_at = None
            if idx in settled:
                settled_at = min(end + timedelta(hours=rng.uniform(1, 72)), self.now - timedelta(hours=1))
                k = want[idx] + shortfall
                chosen = self._participants(kind, where, start.timestamp(), min(k, MAX_PER_ACTIVITY), rng)
                shortfall = k - len(chosen)
                for v in chosen:
                    rec_vol.append(v)
                    rec_act.append(idx)
            self.act.append((a_id, start, end, node, kind, where, settled_at, idx in cancelled))
            if settled_at is not None and kind == "station":
                self.stations[where].activities.append((start.timestamp(), end.timestamp(), idx))
        # Too few registered volunteers early in the year carry over to later activities; what the last
        # ones cannot take becomes paper history (the records' total stays as asked).
        self.rec_vol, self.rec_act = rec_vol, rec_act
        self.summary.activities, self.summary.settled_activities = len(plans), len(settled)
        self._write_activities(rng)
        self._stage(_("活动：%(a)s 场（已结算 %(s)s 场），参与 %(r)s 人次") % {
            "a": f"{len(plans):,}", "s": f"{len(settled):,}", "r": f"{len(rec_vol):,}"}, t)

    @staticmethod
    def _split(total: int, parts: int, rng, cap: int) -> list[int]:
        """`total` split into `parts` positive-ish numbers around the mean, none above `cap`."""
        if parts == 0:
            return []
        mean = total / parts
        raw = [max(0.0, rng.gauss(mean, mean * 0.45)) for _p in range(parts)]
        s = sum(raw) or 1.0
        out = [min(cap, int(x * total / s)) for x in raw]
        diff = total - sum(out)
        while diff > 0:
            open_ = [j for j in range(parts) if out[j] < cap]
            if not open_:
                break
            each = max(1, diff // len(open_))
            for j in open_:
                add = min(cap - out[j], each, diff)
                out[j] += add
                diff -= add
                if not diff:
                    break
        return out

    def _participants(self, kind, where, start_ts: float, k: int, rng) -> list[int]:
        """k distinct volunteers of the node's subtree registered before the activity started."""
        if k <= 0:
            return []
        if kind == "station":
            stations = [self.stations[where]]
        elif kind == "institute":
            stations = [self.stations[s] for s in self.institutes[where]["stations"]]
        else:
            stations = self.stations
        if kind == "station":
            st = stations[0]
            n = bisect.bisect_left(st.joined, start_ts)
            if n <= k:
                return list(range(st.lo, st.lo + n))
            return [st.lo + x for x in rng.sample(range(n), k)]
        chosen: set[int] = set()
        tries = 0
        while len(chosen) < k and tries < k * 6:
            tries += 1
            st = stations[rng.randrange(len(stations))]
            n = bisect.bisect_left(st.joined, start_ts)
            if n:
                chosen.add(st.lo + rng.randrange(n))
        return list(chosen)

    def _settler(self, kind, where) -> tuple[int, int]:
        """Who settles an activity of this node, and who approves recorded hours there (someone else)."""
        if kind == "station":
            st = self.stations[where]
            return st.admin, self.institutes[st.institute]["admins"][0]
        if kind == "institute":
            a = self.institutes[where]["admins"]
            return a[0], a[1]
        return self.centre_admins[0], self.centre_admins[1]

    def _write_activities(self, rng) -> None:
        self.act_info = []  # per activity index: what a record of it repeats (title, place, team …)
        columns = [f.attname for f in Activity._meta.concrete_fields]
        theme_rows = []
        through = Activity.themes.through
        with bulk_load(["activities_activity"], self.say), Writer(Activity) as w:
            for idx, (a_id, start, end, node, kind, where, settled_at, cancelled) in enumerate(self.act):
                platform_id, platform = self.platforms[idx % len(self.platforms)] if rng.random() < 0.2 \
                    else rng.choice(self.platforms)
                title = rng.choice(TITLES[platform])
                if kind == "station":
                    teams = self.stations[where].teams
                elif kind == "institute":
                    teams = self.institutes[where]["teams"]
                else:
                    teams = self.centre_teams
                team = rng.choice(teams) if teams and rng.random() < 0.6 else None
                settler, second = self._settler(kind, where)
                status = "settled" if settled_at else ("cancelled" if cancelled else "published")
                published = start - timedelta(days=rng.randint(3, 14))
                expected = rng.randint(20, 150)
                beneficiaries = None
                if status == "settled" and rng.random() < 0.92:
                    beneficiaries = max(0, int(expected * rng.uniform(0.6, 1.3)))
                elif status == "published" and rng.random() < 0.3:
                    beneficiaries = expected
                place = f"{self._node_name(kind, where)}新时代文明实践阵地"
                values = {
                    "id": a_id, "title": title, "description": f"{title}：志愿者为群众提供服务。",
                    "platform_id": platform_id, "node_id": node, "team_id": team, "site_id": None, "address": place,
                    "starts_at": start, "ends_at": end, "signup_deadline": start - timedelta(hours=12),
                    "capacity": 0, "require_skills": False, "restrict_to_node_id": None, "allow_walk_ins": False,
                    "serves": "public", "served_site_id": None, "served_target": "",
                    "expected_beneficiaries": expected, "beneficiaries": beneficiaries, "brand_id": None,
                    "contact_name": "联系人", "status": status,
                    "cancel_reason": "天气原因，活动取消" if status == "cancelled" else "",
                    "published_at": published,
                    "cancelled_at": start - timedelta(days=1) if status == "cancelled" else None,
                    "settled_at": settled_at, "settled_by_id": settler if settled_at else None,
                    "created_by_id": settler, "created_at": published - timedelta(days=1), "is_demo_data": True,
                }
                self.act_info.append((title, place, team, settler, second, beneficiaries))
                row = values
                theme_rows.extend((a_id, th) for th in rng.sample(self.themes, min(len(self.themes),
                                                                                   rng.choice([1, 1, 1, 2]))))
                counts = self._participant_counts()
                row["capacity"] = max(5, counts[idx] + rng.randint(0, 10))
                w.write([row[c] for c in columns])
        with Writer(through) as tw:
            for k, (a_id, th) in enumerate(theme_rows, start=1):
                tw.write((k, a_id, th))
        reset_sequences(Activity, through)

    def _participant_counts(self) -> list[int]:
        if not hasattr(self, "_counts"):
            counts = [0] * len(self.act)
            for a in self.rec_act:
                counts[a] += 1
            self._counts = counts
        return self._counts

    def _node_name(self, kind, where) -> str:
        if kind == "station":
            st = self.stations[where]
            return f"第{st.institute + 1}县第{where + 1}站"
        if kind == "institute":
            return f"第{where + 1}县"
        return "模拟省"

    # --- needs ---------------------------------------------------------------------------------------------

    def _code(self, i: int) -> str:
        """A tracking code like the services' (8 characters of CODE_ALPHABET), unique by construction and
        never all digits (a code of digits only could be taken for an id)."""
        n = (i * 48_271 + self.o.seed * 7 + 1) % CODE_SPACE
        while True:
            chars = []
            x = n
            for _k in range(8):
                x, r = divmod(x, len(CODE_ALPHABET))
                chars.append(CODE_ALPHABET[r])
            code = "".join(chars)
            if not code.isdigit():
                return code
            n = (n + CODE_SPACE // 2 + 1) % CODE_SPACE  # a different, still unused, number (odd i·k never lands here)

    def _needs(self) -> None:
        t = time.monotonic()
        o, rng = self.o, random.Random(self.o.seed + 4)
        S = Need.State
        review, dispatch, accept = (need_services.review_period(), need_services.dispatch_period(),
                                    need_services.accept_period())
        finish, rating = need_services.finish_period(), need_services.rating_period()
        wish_period = timedelta(days=int(getattr(settings, "WENMING_NEED_WISH_DAYS", 14)))
        y0 = self.year_start.timestamp()
        last = min(self.year_end - timedelta(days=20), self.now - timedelta(days=45)).timestamp()
        last = max(last, y0 + 3600)
        nid, eid = self._next_id(Need), self._next_id(NeedEvent)
        self.need_records: list[tuple] = []  # (volunteer, approved, need id, code, minutes, ws, we, by, approver, station, title, report, people)
        budget = self.need_budget
        states: dict[str, int] = {}
        columns = [f.attname for f in Need._meta.concrete_fields]
        ev_columns = [f.attname for f in NeedEvent._meta.concrete_fields]
        events: list = []
        user_label = {st.admin: f"实践站管理员{n + 1}" for n, st in enumerate(self.stations)}
        leader_label, volunteer_label = "队长", "志愿者"
        centre = self.centre_id
        with bulk_load(["needs_need"], self.say), Writer(Need) as w:
            for i in range(o.needs):
                s = rng.randrange(len(self.stations))
                st = self.stations[s]
                cat = self.categories[rng.randrange(len(self.categories))]
                created = self._local(rng.uniform(y0, last))
                is_wish = rng.random() < 0.05
                source = "wish" if is_wish else rng.choice(["public", "public", "proxy", "import", "open311"])
                entered_by = st.admin if source == "proxy" else None
                admin, admin_label = st.admin, user_label[st.admin]
                row = {
                    "id": nid, "code": self._code(i), "category_id": cat.pk, "description": rng.choice(NEED_TEXTS),
                    "station_id": st.id, "node_id": st.id, "address": f"{self._node_name('station', s)}某小区",
                    "lat": None, "lng": None, "contact_name": rng.choice(SURNAMES) + rng.choice(["先生", "女士", "大爷", "阿姨"]),
                    "phone_enc": "", "phone_index": "", "phone_masked": "", "wished_at": None, "urgency": "normal",
                    "source": source, "is_wish": is_wish, "offer_id": None, "requested_team_id": None,
                    "entered_by_id": entered_by, "state": S.SUBMITTED, "team_id": None, "volunteer_id": None,
                    "to_node_id": None, "department_id": None, "in_pool": False, "dispatched_by_id": None,
                    "deadline": None, "overdue": False, "escalations": 0, "created_at": created, "approved_at": None,
                    "dispatched_at": None, "accepted_at": None, "completed_at": None, "closed_at": None, "reason": "",
                    "report": "", "people_served": None, "activity_id": None, "stars": None, "comment": "",
                    "rated_at": None, "is_demo_data": True,
                }
                phone = f"{PHONE_PREFIXES[i % len(PHONE_PREFIXES)]}{(i * 104_729 + 17) % 100_000_000:08d}"
                row["phone_enc"] = self.sealer.encrypt(phone)
                row["phone_index"] = self.sealer.index(phone, "phone")
                row["phone_masked"] = pii.mask_phone(phone)
                timeline = [(created, "submitted", "", S.SUBMITTED, entered_by, admin_label if entered_by else RESIDENT,
                             "", True)]

                def ev(at, action, frm, to, actor, label, note="", public=True, _t=timeline):
                    _t.append((at, action, frm, to, actor, label, note, public))

                roll = rng.random()
                if roll < 0.03:  # rejected at review
                    at = created + review * rng.uniform(0.05, 0.9)
                    row.update(state=S.REJECTED, reason="不属于志愿服务范围，已告知群众向有关部门反映", closed_at=at)
                    ev(at, "rejected", S.SUBMITTED, S.REJECTED, admin, admin_label, row["reason"])
                else:
                    approved = created + review * rng.uniform(0.02, 0.9)
                    row["approved_at"] = approved
                    ev(approved, "approved", S.SUBMITTED, S.APPROVED, admin, admin_label)
                    period = wish_period if is_wish else dispatch
                    if roll < 0.06:  # cancelled by the resident before it was dispatched
                        at = approved + period * rng.uniform(0.05, 0.8)
                        row.update(state=S.CANCELLED, reason="问题已自行解决", closed_at=at)
                        ev(at, "cancelled", S.APPROVED, S.CANCELLED, None, RESIDENT, row["reason"])
                    elif roll < 0.07 and not is_wish:  # nobody dispatched it: escalated twice, overdue at the centre
                        inst_name = f"模拟第{st.institute + 1}县新时代文明实践所"
                        ev(approved + dispatch, "escalated", S.APPROVED, S.APPROVED, None, SYSTEM,
                           f"派单超时，升级至{inst_name}办理")
                        ev(approved + 2 * dispatch, "escalated", S.APPROVED, S.APPROVED, None, SYSTEM,
                           f"派单超时，升级至{self.centre_name}办理")
                        ev(approved + 3 * dispatch, "overdue", S.APPROVED, S.APPROVED, None, SYSTEM, "派单超时",
                           public=False)
                        row.update(state=S.APPROVED, node_id=centre, escalations=2, overdue=True, deadline=None)
                    else:
                        dispatched = approved + period * rng.uniform(0.02, 0.9)
                        use_team = is_wish or not st.users or rng.random() < 0.65
                        if use_team:
                            team = rng.choice(st.teams)
                            who = self.teams[team]
                            assignee_user, assignee_label = self.vol_user[who["leader"]], leader_label
                            row["team_id"] = team
                            target = who["name"]
                        else:
                            vol, assignee_user = rng.choice(st.users)
                            assignee_label = volunteer_label
                            row["volunteer_id"] = vol
                            target = self.first_names.get(vol, "志愿者")
                        row.update(dispatched_at=dispatched, dispatched_by_id=admin)
                        if is_wish:  # claim_wish: a dispatch to the claiming team, accepted at once
                            accepted = dispatched
                            row["dispatched_by_id"] = assignee_user
                            ev(accepted, "dispatched", S.APPROVED, S.DISPATCHED, assignee_user, assignee_label,
                               f"派单给{target}：认领微心愿")
                            ev(accepted, "claimed", S.DISPATCHED, S.ACCEPTED, assignee_user, assignee_label,
                               f"{target}认领心愿")
                        else:
                            ev(dispatched, "dispatched", S.APPROVED, S.DISPATCHED, admin, admin_label, f"派单给{target}")
                            accepted = dispatched + accept * rng.uniform(0.02, 0.9)
                            ev(accepted, "accepted", S.DISPATCHED, S.ACCEPTED, assignee_user, assignee_label)
                        row["accepted_at"] = accepted
                        state = S.ACCEPTED
                        completed = None
                        # Served through one of the station's activities, now and then.
                        if st.activities and rng.random() < 0.08:
                            k = bisect.bisect_left(st.activities, (accepted.timestamp() + 3600, 0, 0))
                            if k < len(st.activities) and st.activities[k][0] < (accepted + finish * 0.5).timestamp():
                                a_start, a_end, a_idx = st.activities[k]
                                at = accepted + (self._local(a_start) - accepted) * rng.uniform(0.1, 0.9)
                                title = self.act_info[a_idx][0]
                                ev(at, "activity", S.ACCEPTED, S.IN_SERVICE, assignee_user, assignee_label,
                                   f"通过活动“{title}”服务")
                                row["activity_id"] = self.act[a_idx][0]
                                state = S.IN_SERVICE
                                completed = self._local(a_end) + timedelta(hours=rng.uniform(0.5, 12))
                        if completed is None:
                            if rng.random() < 0.3:
                                at = accepted + finish * rng.uniform(0.01, 0.2)
                                ev(at, "started", S.ACCEPTED, S.IN_SERVICE, assignee_user, assignee_label)
                                state = S.IN_SERVICE
                                completed = at + finish * rng.uniform(0.05, 0.6)
                            else:
                                completed = accepted + finish * rng.uniform(0.05, 0.8)
                            completed = max(completed, accepted + timedelta(hours=3))
                        people = rng.randint(1, 6) if rng.random() < 0.7 else None
                        report = "已上门完成服务，群众满意。"
                        row.update(completed_at=completed, people_served=people, report=report)
                        ev(completed, "completed", state, S.COMPLETED, assignee_user, assignee_label, report)
                        # Hours of a direct report: team members other than the leader, who reported them.
                        if use_team and not row["activity_id"] and budget > 0:
                            others = [v for v in who["members"] if v != who["leader"]]
                            for v in rng.sample(others, min(len(others), rng.randint(1, 3), budget)):
                                minutes = rng.choice([60, 90, 120, 150, 180])
                                ws = min(accepted, completed - timedelta(minutes=minutes))
                                approved_at = completed + timedelta(hours=rng.uniform(1, 48))
                                self.need_records.append((v, approved_at, nid, row["code"], minutes, ws, completed,
                                                          assignee_user, admin, st.id, f"群众点单：{cat.name}", report,
                                                          people, row["address"]))
                                budget -= 1
                        if rng.random() < 0.78:
                            rated = completed + rating * rng.uniform(0.01, 0.9)
                            stars = rng.choice([5, 5, 5, 5, 4, 4, 3, 2, 1])
                            row.update(state=S.CLOSED, stars=stars, rated_at=rated, closed_at=rated,
                                       comment="谢谢志愿者" if stars >= 4 else "")
                            ev(rated, "rated", S.COMPLETED, S.CLOSED, None, RESIDENT,
                               f"{stars}星" + (f"：{row['comment']}" if row["comment"] else ""))
                        else:
                            at = completed + rating
                            row.update(state=S.CLOSED, closed_at=at)
                            ev(at, "closed_unrated", S.COMPLETED, S.CLOSED, None, SYSTEM, "群众未在时限内评价，自动办结")
                w.write([row[c] for c in columns])
                states[row["state"]] = states.get(row["state"], 0) + 1
                for at, action, frm, to, actor, label, note, public in timeline:
                    events.append((eid, nid, at, action, frm, to, actor, label, note[:500], public))
                    eid += 1
                nid += 1
        by_column = dict(zip(["id", "need_id", "at", "action", "from_state", "to_state", "actor_id", "actor_label",
                              "note", "public"], range(10), strict=True))
        with bulk_load(["needs_needevent"], self.say), Writer(NeedEvent) as w:
            for e in events:
                w.write([e[by_column[c]] for c in ev_columns])
        reset_sequences(Need, NeedEvent)
        self.n_history += budget  # what the needs did not use
        self.summary.needs, self.summary.need_states, self.summary.need_events = o.needs, states, len(events)
        self._stage(_("群众需求：%(n)s 条（时间线 %(e)s 条）") % {"n": f"{o.needs:,}", "e": f"{len(events):,}"}, t)

    # --- service records ------------------------------------------------------------------------------

    def _records(self) -> None:
        """Every record planned, ordered by volunteer and approval; then chained, sealed and written in one
        pass (COPY), with the chain heads, the approved requests and the needs' hours."""
        import numpy as np

        t = time.monotonic()
        o, rng = self.o, random.Random(self.o.seed + 5)
        y0, y1 = self.year_start.timestamp(), self.year_end.timestamp()
        # Planned records: typ 0 activity participant, 1 need, 2 paper history, 3 correction.
        n_act = len(self.rec_act)
        settled_ts = np.array([a[6].timestamp() if a[6] else 0.0 for a in self.act], dtype=np.float64)
        vol = np.frombuffer(self.rec_vol, dtype=np.int64) if n_act else np.zeros(0, dtype=np.int64)
        ref = np.frombuffer(self.rec_act, dtype=np.int64) if n_act else np.zeros(0, dtype=np.int64)
        appr = settled_ts[ref] if n_act else np.zeros(0)
        typ = np.zeros(n_act, dtype=np.int8)
        parts_vol, parts_appr, parts_typ, parts_ref = [vol], [appr], [typ], [np.arange(n_act, dtype=np.int64)]
        if self.need_records:
            nr = self.need_records
            parts_vol.append(np.array([r[0] for r in nr], dtype=np.int64))
            parts_appr.append(np.array([r[1].timestamp() for r in nr]))
            parts_typ.append(np.ones(len(nr), dtype=np.int8))
            parts_ref.append(np.arange(len(nr), dtype=np.int64))
        # Corrections of activity records settled before December: a week or three later.
        corrections = []
        if n_act and self.n_corrections:
            dec = datetime(o.year, 12, 1, tzinfo=self.tz).timestamp()
            early = np.nonzero(appr < min(dec, y1 - 25 * 86400))[0]
            if len(early):
                picks = rng.sample(range(len(early)), min(len(early), self.n_corrections))
                for p in picks:
                    target = int(early[p])
                    approved = appr[target] + rng.uniform(3, 20) * 86400
                    corrections.append((target, approved, rng.random() < 0.1))
        # Paper history: recorded hours of services before the platform's activities, at the volunteer's station.
        history = []
        wanted = o.records - n_act - len(self.need_records) - len(corrections)
        tries = 0
        while len(history) < wanted and tries < wanted * 20 + 100:
            tries += 1
            st = self.stations[rng.randrange(len(self.stations))]
            n = bisect.bisect_left(st.joined, y1 - 20 * 86400)
            if not n:
                continue
            v = st.lo + rng.randrange(n)
            day_ts = max(st.joined[v - st.lo], y0) + rng.uniform(0, 1) * (y1 - 20 * 86400 - max(st.joined[v - st.lo], y0))
            start = self._local(day_ts).replace(hour=rng.choice([8, 9, 14, 15]), minute=rng.choice([0, 30]),
                                                second=0, microsecond=0)
            minutes = rng.choice([60, 90, 120, 180, 240])
            approved = start + timedelta(days=rng.uniform(1, 15))
            history.append((v, approved, st, start, minutes))
        if history:
            parts_vol.append(np.array([h[0] for h in history], dtype=np.int64))
            parts_appr.append(np.array([h[1].timestamp() for h in history]))
            parts_typ.append(np.full(len(history), 2, dtype=np.int8))
            parts_ref.append(np.arange(len(history), dtype=np.int64))
        if corrections:
            parts_vol.append(vol[[c[0] for c in corrections]])
            parts_appr.append(np.array([c[1] for c in corrections]))
            parts_typ.append(np.full(len(corrections), 3, dtype=np.int8))
            parts_ref.append(np.arange(len(corrections), dtype=np.int64))
        vol = np.concatenate(parts_vol)
        appr = np.concatenate(parts_appr)
        typ = np.concatenate(parts_typ)
        ref = np.concatenate(parts_ref)
        total = len(vol)
        # Chained per volunteer in the order they were approved; ids in the order written, so that the
        # primary key grows at its right edge (a random-order insert into a 10-million-row B-tree
        # costs far more than the rest of the row).
        first_id = self._next_id(ServiceRecord)
        chain_order = np.lexsort((ref, typ, appr, vol))
        ids = np.empty(total, dtype=np.int64)
        ids[chain_order] = np.arange(first_id, first_id + total, dtype=np.int64)
        corrected = {c[0]: k for k, c in enumerate(corrections)}  # activity record index → correction
        self._stage(_("服务记录排序：%(n)s 条") % {"n": f"{total:,}"}, t)
        t = time.monotonic()

        self._chain = {"vol": vol, "typ": typ, "ref": ref, "ids": ids, "corrected": corrected, "history": history,
                       "corrections": corrections, "first_id": first_id, "first_req": self._next_id(HoursRequest),
                       "columns": [f.attname for f in ServiceRecord._meta.concrete_fields], "order": chain_order}
        # Chunks of about 50,000 records that never split a volunteer's chain: each is chained apart
        # (its own random stream, so the data do not depend on how many processes do the work).
        changes = np.flatnonzero(np.diff(vol[chain_order])) + 1
        wanted = np.arange(CHUNK, total, CHUNK)
        cuts = sorted({int(changes[k]) for k in np.searchsorted(changes, wanted) if k < len(changes)})
        bounds = list(zip([0, *cuts], [*cuts, total], strict=True))
        heads: list[tuple] = []
        req_rows: list[dict] = []
        need_hours: list[tuple] = []
        counts = {"verified": 0, "recorded": 0, "corrections": 0}
        workers = min(os.cpu_count() or 1, 4) if self.pg and total >= 4 * CHUNK else 1
        global _ACTIVE
        _ACTIVE = self
        with bulk_load(["ledger_servicerecord"], self.say), Writer(ServiceRecord) as w:
            if workers > 1:
                import multiprocessing

                # Forked workers share the plan (copy-on-write) and return text; only this process
                # talks to the database.
                pool = multiprocessing.get_context("fork").Pool(workers)
                results = pool.imap(_chain_chunk, bounds)
            else:
                pool, results = None, map(_chain_chunk, bounds)
            try:
                done, step_say = 0, 1_000_000
                for out, c_heads, c_reqs, c_hours, c_counts in results:
                    if self.pg:
                        w.write_line(out)
                    else:
                        for row in out:
                            w.write(row)
                    heads += c_heads
                    req_rows += c_reqs
                    need_hours += c_hours
                    for k, n in c_counts.items():
                        counts[k] += n
                    before, done = done, done + sum(c_counts[k] for k in ("verified", "recorded"))
                    if done // step_say > before // step_say:
                        self.say(_("  服务记录 %(n)s / %(t)s（%(s).0f 秒）") % {
                            "n": f"{done:,}", "t": f"{total:,}", "s": time.monotonic() - t})
            finally:
                if pool is not None:
                    pool.close()
                    pool.join()
        _ACTIVE = None
        key = self.key
        req_columns = [f.attname for f in HoursRequest._meta.concrete_fields]
        self._stage(_("服务记录：%(n)s 条（哈希链）") % {"n": f"{total:,}"}, t)
        t = time.monotonic()
        with Writer(LedgerChain) as w:
            columns = [f.attname for f in LedgerChain._meta.concrete_fields]
            head = LedgerChain()
            for v, length, last_hash, vm, rm, services, at in heads:
                head.volunteer_id, head.length, head.head_hash = v, length, last_hash
                head.verified_minutes, head.recorded_minutes, head.services = vm, rm, services
                values = {"volunteer_id": v, "length": length, "head_hash": last_hash, "verified_minutes": vm,
                          "recorded_minutes": rm, "services": services, "seal": head_seal(head, key), "updated_at": at}
                w.write([values[c] for c in columns])
        with bulk_load(["ledger_hoursrequest"], self.say), Writer(HoursRequest) as w:
            for values in req_rows:
                w.write([values[c] for c in req_columns])
        first = self._next_id(NeedHours)
        with Writer(NeedHours) as w:
            for k, (need_id, v, minutes, rq) in enumerate(need_hours, start=first):
                w.write((k, need_id, v, minutes, rq))
        reset_sequences(ServiceRecord, HoursRequest, NeedHours)
        s = self.summary
        s.records, s.corrections, s.hours_requests = total, counts["corrections"], len(req_rows)
        s.verified_records, s.recorded_records = counts["verified"], counts["recorded"]
        self._stage(_("时长链链头 %(h)s 个，补录/更正申请 %(r)s 条") % {"h": f"{len(heads):,}", "r": f"{len(req_rows):,}"}, t)

    def chain_chunk(self, lo: int, hi: int):
        """Chain and seal the records chain_order[lo:hi] (whole chains), as ledger.services._append does.
        Returns the rows (PostgreSQL: one block of COPY text), the chain heads, the approved requests,
        the needs' hours and the counts."""
        c = self._chain
        vol, typ, ref, ids, corrected = c["vol"], c["typ"], c["ref"], c["ids"], c["corrected"]
        history, corrections, columns = c["history"], c["corrections"], c["columns"]
        first_id, first_req = c["first_id"], c["first_req"]
        rng = random.Random(self.o.seed * 1_000_003 + lo)
        step, share = rules.configured_step_minutes(), rules.configured_min_share()
        key = self.key
        lines: list = []
        req_rows: list[dict] = []
        heads: list[tuple] = []
        targets: dict[int, tuple] = {}  # activity record index → (id, kind, minutes, fixed) for its correction
        need_hours: list[tuple] = []
        cache: dict = {}
        counts = {"verified": 0, "recorded": 0, "corrections": 0}
        J = _json
        null = "null"
        pg = self.pg

        def activity_parts(idx: int, kind: str):
            """What every record of an activity repeats, as column values and as JSON."""
            found = cache.get((idx, kind))
            if found is not None:
                return found
            a_id, start, end, node, a_kind, where, settled_at, _c = self.act[idx]
            title, place, team, settler, second, beneficiaries = self.act_info[idx]
            benef = f"{beneficiaries}人" if beneficiaries else ""
            recorded_by, approved_by = (settler, settler) if kind == "verified" else (settler, second)
            reason = "" if kind == "verified" else "忘记签退，经组织者核实后补录"
            day = start.astimezone(self.tz).date()
            fixed = {
                "kind": kind, "title": title, "content": "", "place": place, "beneficiaries": benef,
                "service_date": day, "window_start": start, "window_end": end, "source_type": "activity",
                "source_id": str(a_id), "node_id": node, "responsible_person": "", "quality_rating": None,
                "recorded_by_id": recorded_by, "approved_by_id": approved_by, "approved_at": settled_at,
                "reason": reason, "adjustment_of_id": None, "original_id": None, "created_at": settled_at,
            }
            enc = {k: J(v) for k, v in fixed.items()}
            enc["v"] = str(HASH_VERSION)
            slots = {"ended_at": "\x00e", "minutes": "\x00m", "prev_hash": "\x00p", "sequence": "\x00s",
                     "started_at": "\x00a", "volunteer_id": "\x00v"}
            enc.update(slots)
            template = canonical(enc).decode().replace("%", "%%")
            for token in slots.values():
                template = template.replace(token, "%s")
            line = None
            if pg:  # the COPY line, its varying columns left as %s in this order
                varying = ("id", "volunteer_id", "sequence", "started_at", "ended_at", "minutes", "prev_hash", "hash")
                line = "\t".join("%s" if c in varying else tsv(fixed[c]).replace("%", "%%") for c in columns) + "\n"
                order = [c for c in columns if c in varying]
                assert order == list(varying), order
            found = (fixed, template, line, int(start.timestamp()), int(end.timestamp()))
            cache[(idx, kind)] = found
            return found

        window_step = 60 * step
        utc = UtcText()
        random_ = rng.random
        cur, seq, prev, vmin, rmin, services, last_at = -1, 0, GENESIS_HASH, 0, 0, 0, None
        for pos in c["order"][lo:hi].tolist():
            v = int(vol[pos])
            if v != cur:
                if cur >= 0:
                    heads.append((cur, seq, prev, vmin, rmin, services, last_at))
                cur, seq, prev, vmin, rmin, services = v, 0, GENESIS_HASH, 0, 0, 0
            seq += 1
            rid = int(ids[pos])
            req_id = first_req + rid - first_id  # a request's id follows its record's: unique, no counter to share
            kind_of = int(typ[pos])
            r = int(ref[pos])
            if kind_of == 0:
                a_idx = int(self.rec_act[r])
                kind = "verified" if random_() < 0.93 else "recorded"
                fixed, template, line, ws, we = activity_parts(a_idx, kind)
                window = we - ws
                check_in = ws - 900 + int(random_() * 1501)  # a quarter of an hour early … ten minutes late
                if kind == "verified":
                    check_out = we - 600 + int(random_() * 1801)
                    overlap = min(check_out, we) - max(check_in, ws)
                    minutes = overlap // 60
                    minutes -= minutes % step
                    if overlap < share * window or minutes <= 0:  # cannot happen with these times; keep the rule
                        check_in, check_out, minutes = ws, we, window // 60 - (window // 60) % step
                    ended_text = utc(check_out)
                    ended_json = f'"{ended_text}"'
                else:
                    check_out, ended_text, ended_json = None, "\\N", null
                    minutes = (window // window_step) * step
                started_text = utc(check_in)
                payload = template % (ended_json, minutes, f'"{prev}"', seq, f'"{started_text}"', v)
                h = hmac.digest(key, payload.encode(), "sha256").hex()
                if line is not None and kind == "verified" and r not in corrected:
                    lines.append(line % (rid, v, seq, started_text, ended_text, minutes, prev, h))
                    counts["verified"] += 1
                    vmin += minutes
                    services += 1
                    prev, last_at = h, fixed["created_at"]
                    continue
                row = dict(fixed)
                row.update(id=rid, volunteer_id=v, sequence=seq, minutes=minutes, prev_hash=prev, hash=h,
                           started_at=datetime.fromtimestamp(check_in, UTC),
                           ended_at=datetime.fromtimestamp(check_out, UTC) if check_out else None)
                if r in corrected:
                    targets[r] = (rid, kind, minutes, fixed)
                if kind == "recorded":
                    req_rows.append(self._request(req_id, "recorded", row, fixed["recorded_by_id"]))
            else:
                if kind_of == 1:
                    (_v, approved_at, need_id, code, minutes, ws, we, by, approver, station, title, report,
                     people, address) = self.need_records[r]
                    row = {"kind": "recorded", "title": title, "content": report, "place": address,
                           "beneficiaries": f"{people or 0}人", "service_date": ws.astimezone(self.tz).date(),
                           "started_at": None, "ended_at": None, "window_start": ws, "window_end": we,
                           "minutes": minutes, "source_type": "need", "source_id": code, "node_id": station,
                           "responsible_person": "", "quality_rating": None, "recorded_by_id": by,
                           "approved_by_id": approver, "approved_at": approved_at,
                           "reason": f"点单{code}完成后由承接方填报", "adjustment_of_id": None, "original_id": None,
                           "created_at": approved_at}
                    need_hours.append((need_id, v, minutes, req_id))
                elif kind_of == 2:
                    _v, approved_at, st, start, minutes = history[r]
                    inst = self.institutes[st.institute]
                    row = {"kind": "recorded", "title": "志愿服务（纸质台账补录）", "content": "", "place": "",
                           "beneficiaries": "", "service_date": start.astimezone(self.tz).date(),
                           "started_at": None, "ended_at": None, "window_start": start,
                           "window_end": start + timedelta(minutes=minutes), "minutes": minutes,
                           "source_type": "history", "source_id": "", "node_id": st.id,
                           "responsible_person": "", "quality_rating": None, "recorded_by_id": st.admin,
                           "approved_by_id": inst["admins"][0], "approved_at": approved_at,
                           "reason": "平台启用前的纸质服务台账，经核对签到表后补录", "adjustment_of_id": None,
                           "original_id": None, "created_at": approved_at}
                else:
                    target, approved_ts, whole = corrections[r]
                    t_id, t_kind, t_minutes, fixed = targets[target]
                    approved_at = self._local(approved_ts)
                    change = -t_minutes if whole else -min(step, t_minutes)
                    recorder = fixed["recorded_by_id"]
                    second = self.act_info[int(self.rec_act[target])][4]
                    row = {"kind": t_kind, "title": f"更正：{fixed['title']}"[:200], "content": "",
                           "place": fixed["place"], "beneficiaries": fixed["beneficiaries"],
                           "service_date": approved_at.date(), "started_at": None, "ended_at": None,
                           "window_start": fixed["window_start"], "window_end": fixed["window_end"],
                           "minutes": change, "source_type": "activity", "source_id": fixed["source_id"],
                           "node_id": fixed["node_id"], "responsible_person": "", "quality_rating": None,
                           "recorded_by_id": recorder, "approved_by_id": second, "approved_at": approved_at,
                           "reason": "签到记录核对有误，更正时长" if not whole else "未实际参加服务，撤销时长",
                           "adjustment_of_id": t_id, "original_id": t_id, "created_at": approved_at}
                    counts["corrections"] += 1
                enc = {k: J(row[k]) for k in row}
                enc.update(volunteer_id=str(v), sequence=str(seq), prev_hash=f'"{prev}"', v=str(HASH_VERSION))
                h = hmac.digest(key, canonical(enc), "sha256").hex()
                row.update(id=rid, volunteer_id=v, sequence=seq, prev_hash=prev, hash=h)
                kind = row["kind"]
                req_kind = "adjustment" if kind_of == 3 else "recorded"
                req_rows.append(self._request(req_id, req_kind, row, row["recorded_by_id"]))
            values = [row[c] for c in columns]
            lines.append("\t".join([tsv(x) for x in values]) + "\n" if pg else values)
            counts[kind] += 1
            if kind == "verified":
                vmin += row["minutes"]
            else:
                rmin += row["minutes"]
            services += row["adjustment_of_id"] is None
            prev, last_at = h, row["created_at"]
        if cur >= 0:
            heads.append((cur, seq, prev, vmin, rmin, services, last_at))
        return ("".join(lines) if pg else lines), heads, req_rows, need_hours, counts

    @staticmethod
    def _request(req_id: int, kind: str, record: dict, requested_by: int) -> dict:
        """The approved request a recorded or corrected record came from."""
        at = record["approved_at"]
        return {
            "id": req_id, "kind": kind, "status": "approved", "volunteer_id": record["volunteer_id"],
            "node_id": record["node_id"], "title": record["title"], "content": record["content"],
            "place": record["place"], "beneficiaries": record["beneficiaries"],
            "responsible_person": record["responsible_person"], "window_start": record["window_start"],
            "window_end": record["window_end"], "started_at": record["started_at"], "ended_at": record["ended_at"],
            "minutes": record["minutes"], "source_type": record["source_type"], "source_id": record["source_id"],
            "adjustment_of_id": record["adjustment_of_id"], "reason": record["reason"] or "补录",
            "requested_by_id": requested_by, "requested_at": at - timedelta(hours=6),
            "decided_by_id": record["approved_by_id"], "decided_at": at, "decision_note": "", "record_id": record["id"],
        }

    # --- media reports ------------------------------------------------------------------------------------

    def _media(self) -> None:
        rng = random.Random(self.o.seed + 6)
        n = max(3, min(50_000, self.o.activities // 200))
        y0, y1 = self.year_start.timestamp(), self.year_end.timestamp()
        reports = []
        for k in range(n):
            outlet, level = rng.choice(MEDIA)
            a_idx = rng.randrange(len(self.act))
            a = self.act[a_idx]
            day = self._local(rng.uniform(y0, y1)).date()
            reports.append(MediaReport(title=f"{self.act_info[a_idx][0]}：志愿服务暖民心（{k + 1}）", outlet=outlet,
                                       level=level, published_on=day, node_id=a[3], is_demo_data=True))
        MediaReport.objects.bulk_create(reports, batch_size=2000)
        self.summary.media_reports = n


CHUNK = 50_000  # records chained by one task
VOLUNTEER_CHUNK = 20_000  # volunteers written by one task
_ACTIVE: Generator | None = None  # the generator whose records the (forked) workers chain


def _chain_chunk(bounds: tuple[int, int]):
    return _ACTIVE.chain_chunk(*bounds)


def _volunteer_chunk(bounds: tuple[int, int]):
    return _ACTIVE.volunteer_chunk(*bounds)


def generate(options: Options, say: Callable[[str], None] | None = None, *, rebuild: bool = True,
             now: datetime | None = None) -> Summary:
    """Fill an empty database with `options`' synthetic year; raises NotEmpty when it is not empty."""
    return Generator(options, say, now).run(rebuild=rebuild)
