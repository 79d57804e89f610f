"""The demo district's media reports (宣传报道台账), shaped like seed 000.

Seed 000 counts 区级120余篇, 市级50余篇, 中央省级30余篇 since the work began: about 200 reports over the
two calendar years before this one and this year up to today, at every level — the district's own
media (双清区融媒体中心, 双清发布 …) writing about stations and institutes, the city's (邵阳日报 …) and
the province's (湖南日报, 红网 …) about institutes and the district, the central ones (新华网, 人民网 …)
about the district as a whole. About a third are about one of the demo's finished activities (dated a
few days after it ended, at its organiser or the organiser's institute), the others about a project brand
or the work in general, the later years more than the earlier ones. Every level has reports this month and this year, so dashboards of
any period are full; the demo station and its institute have their own.

Everything follows from the seed and the date: the same seed on the same day gives the same reports.
Links point at `https://<outlet>.example/…` (a reserved domain): the articles are invented, so the
links must not look like real pages of real outlets.

The rows and their audit entries (as `services.create_report` writes them) are bulk-inserted.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from wenming.activities.models import Activity, Brand
from wenming.core.models import AuditEntry, OrgNode, User
from wenming.publicity.models import MediaReport
from wenming.publicity.services import snapshot

DEFAULT_COUNT = 200
# Seed 000: 区级120余篇, 市级50余篇, 中央省级30余篇.
LEVEL_SHARE = {"district": 120, "city": 50, "province": 18, "central": 12}
L = MediaReport.Level

# Outlets per level: (name, link host or None for broadcast-only, weight).
OUTLETS = {
    L.DISTRICT: [("双清区融媒体中心", "sqrmt", 5), ("双清发布", "sqfb", 4), ("今日双清", "jrsq", 2),
                 ("双清区文明网", "sqwmw", 2)],
    L.CITY: [("邵阳日报", "syrb", 5), ("邵阳晚报", "sywb", 3), ("邵阳新闻网", "shaoyangnews", 3),
             ("邵阳广播电视台", None, 2), ("邵阳文明网", "sywmw", 2)],
    L.PROVINCE: [("湖南日报", "hnrb", 4), ("红网", "rednet", 4), ("新湖南", "xhn", 3), ("湖南卫视", None, 1),
                 ("湖南文明网", "hnwmw", 2)],
    L.CENTRAL: [("新华网", "xinhua", 3), ("人民网", "people", 3), ("光明网", "gmw", 2), ("中国文明网", "wenming", 3),
                ("学习强国", "xuexi", 2), ("央视新闻客户端", "cctvnews", 1)],
}

# Headlines. {place}: the organisation's short name (鼓楼亭社区, 东风路街道); {brand}: a project brand;
# {activity}: the activity's title; {topic}: the activity's subject (after its "：").
ACTIVITY_TITLES = {
    L.DISTRICT: ["{activity}", "{place}：{topic}", "{place}开展{topic}活动",
                 "{place}志愿者：{topic}，服务在身边", "{place}{topic}受居民欢迎"],
    L.CITY: ["双清区{place}：{topic}", "双清区{place}开展{topic}", "双清区{place}：{topic}，群众家门口享服务"],
    L.PROVINCE: ["邵阳双清区{place}：{topic}", "邵阳双清：{place}{topic}"],
    L.CENTRAL: ["湖南邵阳双清区：{topic}", "湖南双清：{place}{topic}"],
}
BRAND_TITLES = {
    L.DISTRICT: ["{place}：“{brand}”志愿服务暖人心", "{place}开展“{brand}”志愿服务活动", "“{brand}”走进{place}",
                 "双清区：“{brand}”志愿服务活动走深走实", "{place}“{brand}”项目常态化开展"],
    L.CITY: ["双清区{place}：“{brand}”让群众家门口享服务", "双清区“{brand}”志愿服务常态化",
             "双清：“{brand}”项目擦亮文明实践品牌"],
    L.PROVINCE: ["邵阳双清：“{brand}”志愿服务温暖人心", "邵阳双清区：“{brand}”让文明实践有声有色"],
    L.CENTRAL: ["湖南邵阳双清区：“{brand}”志愿服务暖民心", "湖南双清：“{brand}”擦亮志愿服务品牌"],
}
GENERAL_TITLES = {
    L.DISTRICT: ["{place}：志愿服务暖人心", "{place}：小小实践站 服务大民生", "{place}新时代文明实践站成为群众“加油站”",
                 "{place}：“四单”服务解民忧", "{place}志愿者：哪里需要就到哪里", "{place}：文明新风扑面来",
                 "{place}：党员志愿者冲在前", "双清区：新时代文明实践“点亮”群众幸福生活"],
    L.CITY: ["双清区：新时代文明实践打通服务群众“最后一公里”", "双清区{place}：文明实践润民心",
             "双清：“六传六习”让文明实践落地生根", "双清区“四单”模式精准对接群众需求",
             "双清区：群众“点单” 志愿者“接单”", "双清区{place}：志愿服务成为靓丽风景线"],
    L.PROVINCE: ["邵阳双清：新时代文明实践“四单”服务解民忧", "邵阳双清区：“六传六习”让文明实践落地生根",
                 "邵阳双清：雷锋家乡学雷锋 志愿服务蔚然成风", "邵阳双清区{place}：文明实践站成为群众“连心桥”"],
    L.CENTRAL: ["湖南邵阳双清区：雷锋家乡学雷锋 志愿服务蔚然成风", "湖南双清：新时代文明实践中心建设激发基层治理新活力",
                "湖南邵阳：“四单”闭环让志愿服务精准对接群众需求",
                "湖南双清：“六传六习”打通宣传群众、服务群众“最后一公里”"],
}
NOTES = ["头版", "第2版", "第3版", "客户端首页推荐", "视频报道", "图片新闻", "专题报道", "被学习强国转载"]
# Who the story is about, by level: (centre, institute, station) weights.
WHERE = {L.DISTRICT: (1, 3, 6), L.CITY: (3, 4, 3), L.PROVINCE: (6, 3, 1), L.CENTRAL: (9, 1, 0)}
ACCOUNTS = ("demo-centre", "demo-institute", "demo-station")


def _short(node: OrgNode) -> str:
    return node.name.replace("新时代文明实践中心", "").replace("新时代文明实践所", "").replace("新时代文明实践站", "")


def _topic(activity: Activity) -> str:
    """The subject of an activity's title: what follows the organiser's name (and a "：")."""
    title = activity.title
    short = _short(activity.node)
    if title.startswith(short):
        title = title[len(short):]
    if "：" in title:
        head, tail = title.split("：", 1)
        title = tail if len(tail) >= 4 else head
    if title.startswith("“") and title.endswith("”") and title.count("“") == 1:
        title = title[1:-1]
    return title or activity.title


class _Plan:
    """Builds the reports in memory (no query per report)."""

    def __init__(self, *, seed: int, today: date, count: int):
        self.rng = random.Random(seed + 11)
        self.today = today
        self.now = timezone.now()
        self.start = date(today.year - 2, 1, 1)
        self.count = count
        self.tz = timezone.get_default_timezone()
        self.taken: set[tuple[int, str, date]] = set()

    def load_world(self) -> bool:
        self.centre = OrgNode.objects.filter(depth=1, is_demo_data=True).order_by("path").first()
        if self.centre is None:
            return False
        nodes = list(OrgNode.objects.filter(path__startswith=self.centre.path).order_by("path"))
        self.by_path = {n.path: n for n in nodes}
        self.institutes = [n for n in nodes if n.kind == OrgNode.Kind.INSTITUTE]
        self.stations = [n for n in nodes if n.kind == OrgNode.Kind.STATION]
        self.users = {u.username: u for u in User.objects.filter(username__in=ACCOUNTS, is_demo_data=True)}
        self.scope = {name: set(u.scopes.values_list("path", flat=True)) for name, u in self.users.items()}
        ended_by = min(self.now, datetime.combine(self.today, time(0), tzinfo=self.tz))
        self.activities = list(
            Activity.objects.filter(is_demo_data=True, node__path__startswith=self.centre.path,
                                    status__in=[Activity.Status.PUBLISHED, Activity.Status.SETTLED],
                                    ends_at__lt=ended_by)
            .select_related("node", "brand").order_by("starts_at", "id"))
        self.brands = list(Brand.objects.filter(node__path__startswith=self.centre.path)
                           .select_related("node").order_by("id"))
        self.demo_station = next((n for n in self.stations if n.path in self.scope.get("demo-station", ())), None)
        return True

    # --- Choices -------------------------------------------------------------------------------

    def level_plan(self) -> list[str]:
        total = sum(LEVEL_SHARE.values())
        levels = []
        for level, share in LEVEL_SHARE.items():
            levels += [level] * max(1, round(self.count * share / total))
        return levels

    def outlet(self, level: str) -> tuple[str, str | None]:
        options = OUTLETS[level]
        name, host, _w = self.rng.choices(options, weights=[w for *_x, w in options])[0]
        return name, host

    def node_for(self, level: str) -> OrgNode:
        centre_w, inst_w, station_w = WHERE[level]
        kind = self.rng.choices(["centre", "institute", "station"], weights=[centre_w, inst_w, station_w])[0]
        if kind == "centre" or not self.institutes:
            return self.centre
        if kind == "institute" or not self.stations:
            return self.rng.choice(self.institutes)
        if self.demo_station is not None and self.rng.random() < 0.12:
            return self.demo_station  # the demo station's account has its own to look at
        return self.rng.choice(self.stations)

    def institute_of(self, node: OrgNode) -> OrgNode:
        return self.by_path.get(node.path[: 2 * OrgNode.steplen], self.centre)

    def day_between(self, first: date, last: date) -> date:
        first = max(first, self.start)
        last = min(last, self.today)
        if last <= first:
            return last
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))

    def random_day(self) -> date:
        """A day of the three years, the later years weighing more (the work, and its coverage, grew)."""
        year = self.rng.choices([self.today.year - 2, self.today.year - 1, self.today.year], weights=[35, 40, 25])[0]
        return self.day_between(date(year, 1, 1), date(year, 12, 31))

    # --- Reports -------------------------------------------------------------------------------

    def make(self, level: str, *, day: date | None = None, kind: str | None = None,
             node: OrgNode | None = None) -> MediaReport | None:
        """One report at `level` (None when it would repeat one already planned)."""
        rng = self.rng
        kind = kind or rng.choices(["activity", "brand", "general"], weights=[30, 40, 30])[0]
        activity = brand = None
        if kind == "activity" and node is None and self.activities:
            activity = self._pick_activity(day)
        if activity is not None:
            node = activity.node
            if level in (L.CITY, L.PROVINCE) and node.kind == OrgNode.Kind.STATION and rng.random() < 0.5:
                node = self.institute_of(node)
            elif level == L.CENTRAL:
                node = self.centre
            brand = activity.brand
            ended = timezone.localtime(activity.ends_at).date()
            day = day or self.day_between(ended, ended + timedelta(days=rng.choice([0, 1, 1, 2, 3, 5, 9])))
            title = rng.choice(ACTIVITY_TITLES[level]).format(
                activity=activity.title, topic=_topic(activity), place=_short(activity.node))
        else:
            node = node or self.node_for(level)
            day = day or self.random_day()
            line = [b for b in self.brands if node.path.startswith(b.node.path) or b.node.path.startswith(node.path)]
            if kind != "general" and line:
                brand = rng.choice(line)
                title = rng.choice(BRAND_TITLES[level]).format(brand=brand.name, place=_short(node))
            else:
                title = rng.choice(GENERAL_TITLES[level]).format(place=_short(node))
        title = title.replace("双清区双清区", "双清区").replace("双清：双清区", "双清区：")[:200]
        key = (node.pk, title, day)
        if key in self.taken:
            return None
        self.taken.add(key)
        outlet, host = self.outlet(level)
        url = ""
        if host and rng.random() < 0.85:
            url = f"https://{host}.example/{day:%Y}/{day:%m%d}/{rng.randrange(10**6, 10**7)}.html"
        note = rng.choice(NOTES) if rng.random() < (0.45 if level != L.DISTRICT else 0.12) else ""
        created = datetime.combine(day + timedelta(days=rng.choice([0, 0, 1, 1, 2, 3])),
                                   time(rng.randint(8, 17), rng.randrange(60)), tzinfo=self.tz)
        report = MediaReport(title=title, outlet=outlet, level=level, published_on=day, url=url, node=node,
                             activity=activity, brand=brand, note=note, created_by=self.entered_by(node),
                             created_at=min(created, self.now))
        report.is_demo_data = True
        return report

    def _pick_activity(self, day: date | None) -> Activity | None:
        pool = self.activities
        if day is not None:
            pool = [a for a in pool if timezone.localtime(a.ends_at).date() <= day]
            pool = pool[-60:]  # a report soon after the activity
        if not pool:
            return None
        # Bigger days of the district (学雷锋日, festivals, 七彩假期) get reported more: weigh by size.
        return self.rng.choices(pool, weights=[min(a.capacity, 40) + 5 for a in pool])[0]

    def entered_by(self, node: OrgNode) -> User | None:
        for name in ("demo-station", "demo-institute", "demo-centre"):
            if any(node.path.startswith(p) for p in self.scope.get(name, ())):
                return self.users[name]
        return None

    def _add(self, reports: list, level: str, **how) -> None:
        for _try in range(20):
            report = self.make(level, **how)
            if report is not None:
                reports.append(report)
                return

    def build(self) -> list[MediaReport]:
        reports: list[MediaReport] = []
        # Every level this month and earlier this year, whatever the day the demo is loaded.
        month_start = self.today.replace(day=1)
        year_start = self.today.replace(month=1, day=1)
        for level in LEVEL_SHARE:
            for first in (month_start, year_start, year_start):
                self._add(reports, level, day=self.day_between(first, self.today))
        # The demo station has several of its own (its account's list is not empty).
        if self.demo_station is not None:
            for _i in range(4):
                self._add(reports, L.DISTRICT, node=self.demo_station, kind="brand",
                          day=self.day_between(self.today - timedelta(days=330), self.today))
        remaining = Counter(self.level_plan()) - Counter(r.level for r in reports)
        levels = [level for level, n in sorted(remaining.items()) for _i in range(n)]
        self.rng.shuffle(levels)
        for level in levels:
            self._add(reports, level)
        reports.sort(key=lambda r: (r.published_on, r.created_at, r.title))
        return reports


def load_media_reports(district=None, *, seed: int | None = None, today: date | None = None,
                       count: int = DEFAULT_COUNT, progress=None) -> dict:
    """Add the demo district's media reports (once): `district` is the demo's DistrictBuilder (its seed,
    date and progress bar are used), or give `seed` / `today`. Returns a summary for the command."""
    from .district import SEED

    if district is not None:
        seed = district.seed if seed is None else seed
        today = district.today if today is None else today
        progress = progress or district.progress
    seed = SEED if seed is None else seed
    today = today or timezone.localdate()
    existing = MediaReport.objects.filter(is_demo_data=True)
    if existing.exists():
        return _summary(existing)
    plan = _Plan(seed=seed, today=today, count=count)
    if not plan.load_world():
        return {}
    reports = plan.build()
    task = progress.add_task("写入宣传报道", total=len(reports)) if progress else None
    created = MediaReport.objects.bulk_create(reports, batch_size=500)
    if any(r.pk is None for r in created):  # a backend that does not return ids: read them back
        ids = dict(((n, t, d), pk) for pk, n, t, d in MediaReport.objects.filter(is_demo_data=True)
                   .values_list("pk", "node_id", "title", "published_on"))
        for r in created:
            r.pk = ids[(r.node_id, r.title, r.published_on)]
    AuditEntry.objects.bulk_create([
        AuditEntry(at=r.created_at, actor=r.created_by, actor_name=str(r.created_by) if r.created_by else "系统",
                   action="media_report.create", object_type=MediaReport._meta.label_lower, object_id=str(r.pk),
                   object_repr=r.title[:200], after=snapshot(r), note="演示数据")
        for r in created
    ], batch_size=500)
    if task is not None:
        progress.advance(task, len(reports))
    return _summary(existing)


def _summary(reports) -> dict:
    levels = dict.fromkeys(LEVEL_SHARE, 0)
    for level, n in Counter(reports.values_list("level", flat=True)).items():
        levels[level] = n
    first = reports.order_by("published_on").values_list("published_on", flat=True).first()
    return {
        "media_reports": sum(levels.values()), "levels": levels,
        "with_activity": reports.exclude(activity=None).count(), "with_brand": reports.exclude(brand=None).count(),
        "since": first.isoformat() if first else None,
    }
