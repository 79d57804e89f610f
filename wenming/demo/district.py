"""The demo district: 双清区 (邵阳市, 湖南省), shaped like seed 000.

One centre, 11 institutes (the district's 乡镇、街道), about 100 stations, the
six platforms of 六传六习 with their lead departments, the 8 specialised
district teams, social organisations, sites, contact points, about 2,000
volunteers and one account per role.

The people are synthetic. `plan_volunteers` is a pure function of the seed and
the date, so two loads into empty databases give the same names and numbers.
"""

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from wenming.core import audit
from wenming.core.models import Department, OrgNode, Skill, User
from wenming.core.services import reserve_in_sequence
from wenming.demo.publicity import load_media_reports
from wenming.org.models import ContactPoint, GuidanceVisit, Platform, Site, SocialOrganization
from wenming.people.models import Team, TeamMembership, Volunteer
from wenming.people.services import AVAILABILITY, VolunteerData, build_volunteer, volunteer_number
from wenming.stats.rebuild import rebuild

from . import names
from .activities import ActivityBuilder
from .needs import NeedBuilder

SEED = 20200305  # 学雷锋日 of the year the seed's figures start from
DEFAULT_VOLUNTEERS = 2000
PASSWORD = "Wenming@2026"
URL = "http://127.0.0.1:8000"
BATCH = 500

CENTRE = {
    "name": "双清区新时代文明实践中心",
    "code": "430502000000",
    "address": "湖南省邵阳市双清区宝庆东路区委大院",
    "lat": 27.2335,
    "lng": 111.4935,
}

# (code digits 7–9, name, lat, lng, stations). Communities take codes 001…, villages 201….
INSTITUTES = [
    ("001", "兴隆街道", 27.2368, 111.4890,
     ["兴隆社区", "邵水东社区", "东塔社区", "双坡岭社区", "人民社区", "红旗社区", "马王塘社区", "龙桥社区", "城东社区"]),
    ("002", "龙须塘街道", 27.2452, 111.5065,
     ["五井塘社区", "东风社区", "龙须塘社区", "建设社区", "化工社区", "燎原社区", "邵阳大道社区", "九龙社区",
      "七里山村"]),
    ("003", "汽车站街道", 27.2290, 111.4995,
     ["昭东路社区", "沙子坡社区", "汽车站社区", "宝庆东路社区", "西湖社区", "井头社区", "桃花社区", "城南社区",
      "东大社区"]),
    ("004", "小江湖街道", 27.2490, 111.4870,
     ["塔北社区", "棕树岭社区", "长岭社区", "晏家垅社区", "双清社区", "五一社区", "江湖社区", "滨湖社区"]),
    ("005", "东风路街道", 27.2405, 111.4790,
     ["鼓楼亭社区", "东风路社区", "宝庆社区", "雨溪社区", "乾元巷社区", "花门社区", "青龙桥社区", "神滩渡社区",
      "西湖桥社区"]),
    ("006", "桥头街道", 27.2255, 111.4840,
     ["洛阳洞社区", "桥头社区", "松坡社区", "东大路社区", "双清路社区", "红星社区", "大埠头社区", "邵水社区"]),
    ("007", "石桥街道", 27.2150, 111.5120,
     ["石桥社区", "育才社区", "中心社区", "樟树社区", "和平社区", "丰江村", "石桥村", "双江村", "金江村"]),
    ("008", "爱莲街道", 27.2200, 111.4720,
     ["爱莲社区", "莲湖社区", "白马社区", "新华社区", "立新村", "茶亭村", "荷花村", "柳山村"]),
    ("100", "高崇山镇", 27.2050, 111.5950,
     ["高崇山社区", "佘湖村", "大马村", "金星村", "花桥村", "新坪村", "团山村", "梅子村", "云山村", "石马村"]),
    ("101", "渡头桥镇", 27.1720, 111.5480,
     ["渡头桥社区", "宝顶村", "杨柳村", "黄桥村", "长塘村", "石门村", "谭家村", "仁和村", "枫林村", "龙塘村"]),
    ("200", "火车站乡", 27.2700, 111.5450,
     ["火车站社区", "莲荷村", "新建村", "大元村", "梨树村", "龙山村", "荷塘村", "田心村", "栗山村", "白竹村",
      "新桥村"]),
]

# 示范点: the stations that civilised units are linked to (seed 000).
DEMONSTRATION = {
    "鼓楼亭社区", "五井塘社区", "莲荷村", "塔北社区", "兴隆社区", "昭东路社区", "洛阳洞社区", "石桥社区",
    "爱莲社区", "佘湖村", "宝顶村", "双清社区", "东风路社区", "荷塘村",
}

DEMO_INSTITUTE = "东风路街道"
DEMO_STATION = "鼓楼亭社区"

# 六传六习: six platforms, each led by a department (seed 000).
PLATFORMS = [
    ("传思想习理论", "区委宣传部",
     "以村（社区）道德讲堂为阵地，以“走出去送、请进来学、上阵地讲”和“主题党日”“微型党课”等形式普及党的理论政策。"),
    ("传文化习礼仪", "区文旅广体局",
     "以文化广场、中小学校为阵地，开展“非遗传承行”“经典诵读”“我们的节日”和送文化下乡等活动。"),
    ("传科技习技能", "区科协",
     "实施农民素质提升工程，开展送政策、送科技、送健康、送法律、送保障、送农资、送信息等服务。"),
    ("传道德习风尚", "区文明办",
     "开展道德模范、身边好人、好婆婆好媳妇、最美家庭评选，推进移风易俗和文明出行、文明餐桌等实践行动。"),
    ("传政策习富路", "区农业农村局",
     "编印惠农政策小册子，组成宣讲小组进村入户讲解惠农政策，解答涉农问题。"),
    ("传法规习行为", "区司法局",
     "结合普法教育深入推进农村普法，引导群众自觉学法、知法、懂法、守法、用法。"),
]
# Departments that lead no platform but receive escalated needs (中心吹哨、部门报到).
OTHER_DEPARTMENTS = ["区民政局", "区卫健局", "区人社局", "区教育局", "团区委", "区妇联", "区城管局"]

SKILLS = [
    "理论宣讲", "政策解读", "文艺演出", "书法绘画", "医疗保健", "法律咨询", "心理疏导", "助老助残", "关爱儿童",
    "课业辅导", "家电维修", "理发", "环境整治", "垃圾分类", "科技科普", "农业技术", "摄影宣传", "驾驶",
    "应急救援", "交通劝导",
]
# How often each skill is held; common, practical skills lead.
SKILL_WEIGHTS = [6, 3, 5, 2, 3, 2, 2, 8, 6, 4, 2, 2, 8, 5, 3, 3, 3, 4, 2, 4]

# The 8 specialised district teams (seed 000: 8支特色志愿服务队伍), each on a platform.
CENTRE_TEAMS = [
    ("双清区理论宣讲志愿服务队", "传思想习理论", ["理论宣讲", "政策解读"]),
    ("双清区文化文艺志愿服务队", "传文化习礼仪", ["文艺演出", "书法绘画"]),
    ("双清区科技科普志愿服务队", "传科技习技能", ["科技科普", "农业技术", "家电维修"]),
    ("双清区卫生健康志愿服务队", "传科技习技能", ["医疗保健", "心理疏导"]),
    ("双清区“六关爱”志愿服务队", "传道德习风尚", ["助老助残", "关爱儿童", "心理疏导"]),
    ("双清区文明风尚志愿服务队", "传道德习风尚", ["环境整治", "垃圾分类", "交通劝导"]),
    ("双清区惠农政策宣讲志愿服务队", "传政策习富路", ["政策解读", "农业技术"]),
    ("双清区平安法治志愿服务队", "传法规习行为", ["法律咨询", "交通劝导"]),
]

# Social organisations (公益组织): name, GB 32100 entity type (1 社会团体, 2 民办非企业单位),
# organisation-code body, institute (None: the centre), team name, platform, team skills.
SOCIAL_ORGS = [
    ("双清区博爱义工协会", "1", "MJ430501", None, "博爱义工志愿服务队", "传道德习风尚", ["助老助残", "关爱儿童"]),
    ("双清区阳光社会工作服务中心", "2", "MJ430522", None, "阳光社工志愿服务队", "传道德习风尚",
     ["心理疏导", "关爱儿童"]),
    ("双清区蓝天应急救援协会", "1", "MJ430537", None, "蓝天应急救援志愿服务队", "传科技习技能",
     ["应急救援", "驾驶"]),
    ("双清区夕阳红文艺协会", "1", "MJ430546", "小江湖街道", "夕阳红文艺志愿服务队", "传文化习礼仪",
     ["文艺演出", "书法绘画"]),
    ("双清区七彩成长青少年服务中心", "2", "MJ430558", None, "七彩假期志愿服务队", "传文化习礼仪",
     ["课业辅导", "关爱儿童"]),
]

# District leaders linked to institutes (在职区级领导联系乡镇（街道）).
LEADER_TITLES = [
    "区委书记", "区委副书记、区长", "区人大常委会主任", "区政协主席", "区委副书记", "区委常委、宣传部部长",
    "区委常委、组织部部长", "区委常委、常务副区长", "区委常委、政法委书记", "区委常委、纪委书记", "副区长",
]
# Civilised units (区级及以上文明单位) linked to demonstration stations.
CIVILISED_UNITS = [
    "国家税务总局邵阳市双清区税务局", "双清区人民法院", "双清区人民检察院", "邵阳市公安局双清分局",
    "双清区人民医院", "邵阳市第六中学", "中国农业银行邵阳双清支行", "国网邵阳供电公司双清供电服务中心",
    "双清区教育局", "双清区市场监督管理局", "双清区融媒体中心", "中国邮政邵阳市双清区分公司",
    "双清区自然资源局", "双清区住房和城乡建设局",
]

# The demo accounts: username, role, display name, scope.
ACCOUNTS = [
    ("demo-centre", User.Role.DISTRICT_ADMIN, "centre"),
    ("demo-institute", User.Role.INSTITUTE_ADMIN, "institute"),
    ("demo-station", User.Role.STATION_ADMIN, "station"),
    ("demo-department", User.Role.DEPARTMENT, "centre"),
    ("demo-leader", User.Role.TEAM_LEADER, "team"),
    ("demo-volunteer", User.Role.VOLUNTEER, "station"),
    ("demo-viewer", User.Role.VIEWER, "centre"),
    # A second district admin: recorded hours (补录) need someone other than the one who entered them.
    ("demo-centre2", User.Role.DISTRICT_ADMIN, "centre"),
]


@dataclass(frozen=True)
class VolunteerSpec:
    """One synthetic volunteer, before validation and encryption."""

    name: str
    male: bool
    birth: date
    id_number: str
    phone: str
    station: str  # division code
    political: str
    skills: tuple[str, ...]
    availability: tuple[str, ...]
    registered_at: datetime
    guardian_name: str = ""
    guardian_phone: str = ""


@dataclass
class Summary:
    institutes: int = 0
    stations: int = 0
    platforms: int = 0
    teams: int = 0
    social_orgs: int = 0
    sites: int = 0
    contact_points: int = 0
    volunteers: int = 0
    memberships: int = 0
    elapsed: float = 0.0
    accounts: list = field(default_factory=list)
    activities: dict = field(default_factory=dict)  # see activities.ActivitySummary
    needs: dict = field(default_factory=dict)  # see needs.NeedSummary
    publicity: dict = field(default_factory=dict)  # see publicity.load_media_reports


def station_rows() -> list[tuple[str, str, str]]:
    """(institute code, station code, station name) for every station, in code order."""
    rows = []
    for digits, _name, _lat, _lng, stations in INSTITUTES:
        institute_code = f"430502{digits}000"
        community = village = 0
        for name in stations:
            if name.endswith("村"):
                village += 1
                seq = 200 + village
            else:
                community += 1
                seq = community
            rows.append((institute_code, f"430502{digits}{seq:03d}", name))
    return rows


def _age(rng: random.Random) -> int:
    """Age reached this year, 15–75: most 20–60, some pupils, many active retirees.

    Born in year `year - age`, a volunteer is `age - 1` or `age` all year long: 14–75.
    """
    bucket = rng.random()
    if bucket < 0.07:
        return rng.randint(15, 18)
    if bucket < 0.25:
        return rng.randint(19, 29)
    if bucket < 0.80:
        return rng.randint(30, 59)
    return rng.randint(60, 75)


def _political(rng: random.Random, age: int) -> str:
    P = Volunteer.Political
    if age <= 18:
        return P.CYL if rng.random() < 0.6 else P.MASSES
    if age <= 28:
        return rng.choices([P.CYL, P.CPC, P.CPC_PROBATION, P.MASSES], [40, 15, 5, 40])[0]
    return rng.choices([P.CPC, P.MASSES, P.DEMOCRATIC, P.CPC_PROBATION, P.OTHER], [32, 60, 3, 2, 3])[0]


def plan_volunteers(count: int = DEFAULT_VOLUNTEERS, seed: int = SEED, today: date | None = None) -> list[VolunteerSpec]:
    """The synthetic volunteers: a pure function of (count, seed, today).

    Birth years count from `today`'s year, so every volunteer is 14–75 all
    year long and the names and ID numbers stay the same within a year.
    """
    today = today or timezone.localdate()
    rng = random.Random(seed)
    tz = timezone.get_default_timezone()
    year = today.year
    stations = station_rows()
    # The demo station gets a crowd, demonstration stations more than the rest.
    weights = [6 if n == DEMO_STATION else 2 if n in DEMONSTRATION else 1 for _i, _c, n in stations]
    codes = [c for _i, c, _n in stations]
    used_ids: set[str] = set()
    used_phones: set[str] = set()
    volunteers = []
    demo_code = next(c for _i, c, n in stations if n == DEMO_STATION)
    for i in range(count):
        male = rng.random() < 0.46
        name = names.person_name(rng, male)
        age = _age(rng)
        # The first three are adults of the demo station: its team leader and the demo volunteer are among them.
        while i < 3 and age <= 18:
            age = _age(rng)
        start = date(year - age, 1, 1)
        birth = start + timedelta(days=rng.randrange((date(year - age, 12, 31) - start).days + 1))
        area = names.area_for(rng, birth)
        number = names.id_number(birth, rng.randrange(500), male, area)
        while number in used_ids:
            number = names.id_number(birth, rng.randrange(500), male, area)
        used_ids.add(number)
        phone = names.mobile(rng)
        while phone in used_phones:
            phone = names.mobile(rng)
        used_phones.add(phone)
        n_skills = rng.choices([0, 1, 2, 3], [15, 40, 30, 15])[0]
        skills = tuple(sorted(set(rng.choices(SKILLS, SKILL_WEIGHTS, k=n_skills)), key=SKILLS.index))
        availability = tuple(k for k in AVAILABILITY if rng.random() < 0.45) or ("weekend",)
        # Registered in the last three years, never before turning 14.
        earliest = date(birth.year + 14, birth.month, 28 if (birth.month, birth.day) == (2, 29) else birth.day)
        days_back = min(rng.randrange(1095), max((today - earliest).days, 0))
        at = dtime(rng.randint(8, 21), rng.randrange(60))
        # Today's registrations happen just after midnight, so none lies in the future.
        registered_at = datetime.combine(today - timedelta(days=days_back), at if days_back else dtime(0, 5), tzinfo=tz)
        guardian_name = guardian_phone = ""
        if age <= 18:  # under 18 for part of the year: registered with a guardian's consent
            guardian_name = names.parent_name(rng, name)
            guardian_phone = names.mobile(rng)
        volunteers.append(VolunteerSpec(
            name=name, male=male, birth=birth, id_number=number, phone=phone,
            station=demo_code if i < 3 else rng.choices(codes, weights)[0], political=_political(rng, age), skills=skills,
            availability=availability, registered_at=registered_at,
            guardian_name=guardian_name, guardian_phone=guardian_phone,
        ))
    return volunteers


# --- Loading -------------------------------------------------------------------


class AlreadyLoaded(Exception):
    pass


class NotEmpty(Exception):
    pass


def demo_loaded() -> bool:
    return OrgNode.objects.filter(depth=1, is_demo_data=True).exists()


def foreign_data() -> list[str]:
    """What in the database is not demo data (the demo never mixes with real data)."""
    found = []
    if OrgNode.objects.filter(is_demo_data=False).exists():
        found.append("实践组织")
    if Volunteer.objects.filter(is_demo_data=False).exists():
        found.append("志愿者")
    if User.objects.filter(is_demo_data=False, is_superuser=False).exists():
        found.append("账号")
    return found


class _NoProgress:
    """Stands in for a rich Progress when the caller wants no bar."""

    def add_task(self, *args, **kwargs):
        return 0

    def advance(self, *args, **kwargs):
        pass

    def update(self, *args, **kwargs):
        pass


def _batches(items: list, size: int = BATCH) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _jitter(rng: random.Random, lat: float, lng: float, spread: float) -> tuple[float, float]:
    return round(lat + rng.uniform(-spread, spread), 6), round(lng + rng.uniform(-spread, spread), 6)


class DistrictBuilder:
    """Builds the demo district in one transaction; `progress` is a rich Progress (or None)."""

    def __init__(self, volunteers: int = DEFAULT_VOLUNTEERS, seed: int = SEED, progress=None):
        self.count = volunteers
        self.seed = seed
        self.progress = progress or _NoProgress()
        self.rng = random.Random(seed + 1)  # the organisation's own stream, apart from the volunteers'
        self.today = timezone.localdate()
        self.summary = Summary()

    def load(self) -> Summary:
        if demo_loaded():
            raise AlreadyLoaded()
        found = foreign_data()
        if found:
            raise NotEmpty("、".join(found))
        started = time.monotonic()
        with transaction.atomic():
            self._reference_data()
            self._tree()
            self._sites()
            self._social_orgs()
            self._contact_points()
            self._volunteers()
            self._teams()
            self._accounts()
            self.summary.activities = ActivityBuilder(self).build().as_dict()
            self.summary.needs = NeedBuilder(self).build().as_dict()
            self.summary.publicity = load_media_reports(self)
            # The stages above write in bulk, past the roll-ups' save listeners: count everything once.
            rebuild()
            audit.record(None, "demo.load", self.centre, after=self._counts(), note="加载演示区县数据（双清区）")
        self.summary.elapsed = time.monotonic() - started
        return self.summary

    def _counts(self) -> dict:
        s = self.summary
        return {"institutes": s.institutes, "stations": s.stations, "platforms": s.platforms, "teams": s.teams,
                "social_orgs": s.social_orgs, "sites": s.sites, "contact_points": s.contact_points,
                "volunteers": s.volunteers, "seed": self.seed, "activities": s.activities}

    # Configuration rows have no demo flag; reuse them if a district already configured them.
    def _reference_data(self) -> None:
        rng = self.rng
        self.departments = {}
        for name in [d for _p, d, _t in PLATFORMS] + OTHER_DEPARTMENTS:
            self.departments[name], _ = Department.objects.get_or_create(
                name=name, defaults={"contact": names.person_name(rng, rng.random() < 0.5), "phone": names.landline(rng)}
            )
        self.skills = {}
        for i, name in enumerate(SKILLS):
            self.skills[name], _ = Skill.objects.get_or_create(name=name, defaults={"ordering": i + 1})
        self.platforms = {}
        for i, (name, dept, text) in enumerate(PLATFORMS):
            self.platforms[name], _ = Platform.objects.get_or_create(
                name=name, defaults={"lead_department": self.departments[dept], "description": text, "ordering": i + 1}
            )
        self.summary.platforms = len(self.platforms)

    def _tree(self) -> None:
        """Centre, institutes and stations in one treebeard bulk load (paths computed, not queried per node)."""
        rng = self.rng
        rows = station_rows()
        task = self.progress.add_task("组织架构（中心、所、站）", total=1 + len(INSTITUTES) + len(rows))
        institutes = []
        for digits, name, lat, lng, _stations in INSTITUTES:
            code = f"430502{digits}000"
            kind_word = "街道办事处" if name.endswith("街道") else "人民政府"
            spread = 0.006 if name.endswith("街道") else 0.025
            stations = []
            for inst_code, st_code, st_name in rows:
                if inst_code != code:
                    continue
                s_lat, s_lng = _jitter(rng, lat, lng, spread)
                hall = "党群服务中心" if st_name.endswith("社区") else "村部"
                stations.append({"data": {
                    "name": st_name, "kind": OrgNode.Kind.STATION, "division_code": st_code,
                    "secretary": names.person_name(rng, rng.random() < 0.6), "contact_phone": names.mobile(rng),
                    "address": f"湖南省邵阳市双清区{name}{st_name}{hall}", "lat": s_lat, "lng": s_lng,
                    "is_demonstration": st_name in DEMONSTRATION, "is_demo_data": True,
                }})
            institutes.append({"data": {
                "name": name, "kind": OrgNode.Kind.INSTITUTE, "division_code": code,
                "secretary": names.person_name(rng, rng.random() < 0.7), "contact_phone": names.landline(rng),
                "address": f"湖南省邵阳市双清区{name}{kind_word}", "lat": lat, "lng": lng, "is_demo_data": True,
            }, "children": sorted(stations, key=lambda n: n["data"]["division_code"])})
        centre = {"data": {
            "name": CENTRE["name"], "kind": OrgNode.Kind.CENTRE, "division_code": CENTRE["code"],
            "secretary": names.person_name(rng, True), "contact_phone": names.landline(rng),
            "address": CENTRE["address"], "lat": CENTRE["lat"], "lng": CENTRE["lng"], "is_demo_data": True,
        }, "children": sorted(institutes, key=lambda n: n["data"]["division_code"])}
        # Children come in division-code order, the tree's node_order_by, so no reordering is needed.
        OrgNode.objects.load_bulk([centre], bulk_create=True)
        self.progress.advance(task, 1 + len(INSTITUTES) + len(rows))
        nodes = list(OrgNode.objects.filter(is_demo_data=True).order_by("path"))
        self.centre = next(n for n in nodes if n.kind == OrgNode.Kind.CENTRE)
        self.institutes = {n.name: n for n in nodes if n.kind == OrgNode.Kind.INSTITUTE}
        self.stations = {n.division_code: n for n in nodes if n.kind == OrgNode.Kind.STATION}
        self.station_by_name = {n.name: n for n in self.stations.values()}
        self.summary.institutes = len(self.institutes)
        self.summary.stations = len(self.stations)

    def _sites(self) -> None:
        rng = self.rng
        K = Site.Kind
        sites = []

        def add(node, name, kind, spread=0.003, radius=None):
            lat, lng = _jitter(rng, node.lat, node.lng, spread)
            sites.append(Site(
                name=name, kind=kind, node=node, address=f"{node.address.removesuffix('党群服务中心').removesuffix('村部')}{name}",
                lat=lat, lng=lng, radius_m=radius or rng.choice([200, 300, 300, 500]), is_demo_data=True,
            ))

        c = self.centre
        add(c, "双清区新时代文明实践中心", K.PRACTICE_VENUE, 0.0005, 200)
        add(c, "双清公园", K.PARK, 0.01, 500)
        add(c, "双清区人民广场", K.SQUARE, 0.008, 400)
        add(c, "双清区青少年科普教育基地", K.SCIENCE_BASE, 0.01)
        add(c, "双清区社会福利中心", K.NURSING_HOME, 0.01)
        add(c, "双清区文化馆道德讲堂", K.MORAL_HALL, 0.006)
        for name, inst in self.institutes.items():
            add(inst, f"{name}新时代文明实践所", K.PRACTICE_VENUE, 0.001, 200)
            add(inst, f"{name}文化广场", K.CULTURE_SQUARE, 0.004)
            if name.endswith("街道"):
                add(inst, f"{name.removesuffix('街道')}小学", K.SCHOOL, 0.005)
            else:
                # Seed 000: 3家敬老院, one per township; rural schools host the 少年宫.
                add(inst, f"{name}敬老院", K.NURSING_HOME, 0.01)
                add(inst, f"{name}中心学校乡村学校少年宫", K.YOUTH_PALACE, 0.01)
                add(inst, f"{name}中心学校", K.SCHOOL, 0.01)
        add(self.institutes["高崇山镇"], "高崇山镇乡村科技馆", K.SCIENCE_MUSEUM, 0.01)
        add(self.institutes["渡头桥镇"], "渡头桥镇农业科普教育基地", K.SCIENCE_BASE, 0.02)
        add(self.institutes["小江湖街道"], "资江风光带健身广场", K.SQUARE, 0.006, 500)
        for station in self.stations.values():
            add(station, f"{station.name}新时代文明实践站", K.PRACTICE_VENUE, 0.0005, 150)
            if station.is_demonstration or rng.random() < 0.45:
                add(station, f"{station.name}道德讲堂", K.MORAL_HALL, 0.001)
            if station.name.endswith("村"):
                if rng.random() < 0.6:
                    add(station, f"{station.name}文化广场", K.CULTURE_SQUARE, 0.003)
            elif rng.random() < 0.4:
                add(station, f"{station.name}便民服务站", K.SERVICE_STATION, 0.001, 150)
        Site.objects.bulk_create(sites, batch_size=BATCH)
        self.summary.sites = len(sites)

    def _social_orgs(self) -> None:
        rng = self.rng
        self.social_orgs = {}
        for name, kind, body, inst, *_team in SOCIAL_ORGS:
            self.social_orgs[name] = SocialOrganization.objects.create(
                name=name, credit_code=names.uscc("5", kind, "430502", body),
                node=self.institutes[inst] if inst else self.centre,
                contact=names.person_name(rng, rng.random() < 0.5), phone=names.mobile(rng), is_demo_data=True,
            )
        self.summary.social_orgs = len(self.social_orgs)

    def _contact_points(self) -> None:
        """Leaders ↔ institutes and civilised units ↔ demonstration stations, some visits overdue."""
        rng = self.rng
        today = self.today
        started = today - timedelta(days=400)
        visits = []
        points = []
        for inst, title in zip(self.institutes.values(), LEADER_TITLES, strict=True):
            points.append(ContactPoint(
                kind=ContactPoint.Kind.LEADER, party=names.person_name(rng, rng.random() < 0.75), party_title=title,
                node=inst, frequency_days=60, started_on=started, is_demo_data=True,
            ))
        demo_stations = [s for s in self.stations.values() if s.is_demonstration]
        for unit, station in zip(CIVILISED_UNITS, demo_stations, strict=False):
            points.append(ContactPoint(
                kind=ContactPoint.Kind.UNIT, party=unit, party_title="文明单位", node=station,
                frequency_days=90, started_on=started, is_demo_data=True,
            ))
        ContactPoint.objects.bulk_create(points)
        points = list(ContactPoint.objects.filter(is_demo_data=True).select_related("node").order_by("id"))
        topics = ["调研新时代文明实践所（站）建设情况", "指导“我们的节日”主题活动", "督导志愿服务“四单”闭环工作",
                  "检查文明实践阵地运行", "指导“六关爱”志愿服务行动", "座谈群众需求征集与回应情况"]
        for i, cp in enumerate(points):
            # Every third link is overdue: its last visit is older than its frequency.
            overdue = i % 3 == 2
            last_gap = cp.frequency_days + rng.randint(5, 60) if overdue else rng.randint(3, cp.frequency_days - 5)
            day = today - timedelta(days=last_gap)
            n = 0
            while day >= cp.started_on and n < 5:
                visits.append(GuidanceVisit(
                    contact_point=cp, visited_on=day,
                    summary=f"{cp.party}{cp.party_title if cp.kind == ContactPoint.Kind.LEADER else ''}到{cp.node.name}{rng.choice(topics)}。",
                ))
                day -= timedelta(days=cp.frequency_days + rng.randint(-10, 10))
                n += 1
        GuidanceVisit.objects.bulk_create(visits)
        self.summary.contact_points = len(points)

    def _volunteers(self) -> None:
        plan = plan_volunteers(self.count, self.seed, self.today)
        self.plan = plan
        task = self.progress.add_task("生成志愿者（校验、加密）", total=len(plan))
        first = reserve_in_sequence("volunteer_number", len(plan)) if plan else 1
        rows = []
        for i, spec in enumerate(plan):
            data = VolunteerData(
                name=spec.name, id_number=spec.id_number, phone=spec.phone, station=self.stations[spec.station],
                political_status=spec.political, availability=list(spec.availability),
                agreement_consent=True, privacy_consent=True, guardian_name=spec.guardian_name,
                guardian_phone=spec.guardian_phone, guardian_consent=bool(spec.guardian_name),
            )
            # The same validation and encryption as every other registration channel.
            v = build_volunteer(data, self.today)
            v.number = volunteer_number(first + i)
            v.source = Volunteer.Source.DEMO
            v.created_at = v.agreement_consent_at = v.privacy_consent_at = spec.registered_at
            if v.guardian_consent_at:
                v.guardian_consent_at = spec.registered_at
            v.is_demo_data = True
            rows.append(v)
            self.progress.advance(task)
        task = self.progress.add_task("写入志愿者", total=len(rows))
        for batch in _batches(rows):
            Volunteer.objects.bulk_create(batch)
            self.progress.advance(task, len(batch))
        # Ids by number: bulk_create returns them on PostgreSQL and recent SQLite, but ask to be sure.
        ids = dict(Volunteer.objects.filter(is_demo_data=True).values_list("number", "id"))
        for v in rows:
            v.id = ids[v.number]
        self.volunteers = rows
        Through = Volunteer.skills.through
        links = [Through(volunteer_id=v.id, skill_id=self.skills[s].id) for v, spec in zip(rows, plan, strict=True) for s in spec.skills]
        Through.objects.bulk_create(links, batch_size=2000)
        self.summary.volunteers = len(rows)

    def _teams(self) -> None:
        rng = random.Random(self.seed + 2)
        now = timezone.now()
        spec_of = {v.id: s for v, s in zip(self.volunteers, self.plan, strict=True)}
        adults = [v for v in self.volunteers if not v.guardian_name]
        memberships: dict[tuple[int, int], datetime] = {}
        teams = []

        def skilled(people, skills):
            return [v for v in people if set(spec_of[v.id].skills) & set(skills)]

        led: set[int] = set()

        def leader_of(people):
            # One team per leader; a party member leads where there is one (the usual practice).
            free = [v for v in people if v.id not in led] or people
            leader = next((v for v in free if v.political_status == Volunteer.Political.CPC), free[0])
            led.add(leader.id)
            return leader

        def make_team(name, node, platform, skills, people, size, social_org=None, description=""):
            members = rng.sample(people, min(size, len(people)))
            leader = leader_of(members)
            created = now - timedelta(days=rng.randint(400, 1400))
            team = Team.objects.create(
                name=name, node=node, platform=self.platforms.get(platform), social_org=social_org, leader=leader,
                description=description, capacity=rng.choice([3, 5, 5, 8]), created_at=created, is_demo_data=True,
            )
            team.skills.set([self.skills[s] for s in skills])
            for v in members:
                joined = max(v.created_at, created) + timedelta(days=rng.randrange(60), minutes=rng.randrange(600))
                memberships[(team.id, v.id)] = min(joined, now)
            teams.append(team)
            return team

        by_station: dict[int, list[Volunteer]] = {}
        for v in adults:
            by_station.setdefault(v.station_id, []).append(v)

        def station_team(station):
            people = by_station.get(station.id, [])
            # Seed 000 names this one: 东风路街道鼓楼亭社区志愿服务团队.
            name = "鼓楼亭社区志愿服务团队" if station.name == DEMO_STATION else f"{station.name}志愿服务队"
            counts: dict[str, int] = {}
            for v in people:
                for s in spec_of[v.id].skills:
                    counts[s] = counts.get(s, 0) + 1
            skills = sorted(counts, key=lambda s: (-counts[s], SKILLS.index(s)))[:3]
            return make_team(name, station, None, skills, people, max(4, len(people) * 2 // 3),
                             description=f"{station.name}志愿者组成的志愿服务队伍，就近服务辖区群众。")

        task = self.progress.add_task("队伍与队员", total=len(CENTRE_TEAMS) + len(SOCIAL_ORGS) + len(self.stations))
        # The demo station's team first, so the demo leader leads that team only.
        demo_station = self.station_by_name[DEMO_STATION]
        self.station_team = station_team(demo_station)
        for name, platform, skills in CENTRE_TEAMS:
            make_team(name, self.centre, platform, skills, skilled(adults, skills) or adults, rng.randint(30, 60),
                      description=f"区级特色志愿服务队伍，依托“{platform}”平台开展服务。")
            self.progress.advance(task)
        for org_name, _kind, _body, _inst, team_name, platform, skills in SOCIAL_ORGS:
            org = self.social_orgs[org_name]
            local = [v for v in adults if v.station.path.startswith(org.node.path)]
            make_team(team_name, org.node, platform, skills, skilled(local, skills) or local, rng.randint(15, 30),
                      social_org=org, description=f"{org_name}组建的志愿服务队伍。")
            self.progress.advance(task)
        # Other station teams: every demonstration station and about a quarter of the rest.
        for station in self.stations.values():
            wanted = station.is_demonstration or rng.random() < 0.25
            if station != demo_station and len(by_station.get(station.id, [])) >= 4 and wanted:
                station_team(station)
            self.progress.advance(task)
        TeamMembership.objects.bulk_create(
            [TeamMembership(team_id=t, volunteer_id=v, joined_at=at) for (t, v), at in memberships.items()],
            batch_size=2000,
        )
        self.summary.teams = len(teams)
        self.summary.memberships = len(memberships)

    def _accounts(self) -> None:
        rng = self.rng
        team = self.station_team
        station = self.station_by_name[DEMO_STATION]
        leader = team.leader if team else None
        others = [v for v in self.volunteers if v.station_id == station.id and v.guardian_name == "" and v != leader]
        volunteer = others[0] if others else None
        scopes = {
            "centre": self.centre, "institute": self.institutes[DEMO_INSTITUTE], "station": station,
            "team": team.node if team else station,
        }
        # One Argon2 hash for all seven: they share a published password, so separate salts would
        # protect nothing, and each hash costs about half a second.
        password_hash = make_password(PASSWORD)
        for username, role, scope in ACCOUNTS:
            linked = leader if username == "demo-leader" else volunteer if username == "demo-volunteer" else None
            user = User(
                username=username, role=role, is_demo_data=True,
                display_name=linked.name if linked else names.person_name(rng, rng.random() < 0.5),
                department=self.departments["区委宣传部"] if role == User.Role.DEPARTMENT else None,
            )
            user.password = password_hash
            user.save()
            if role != User.Role.VOLUNTEER:
                user.scopes.set([scopes[scope]])
            if linked:
                Volunteer.objects.filter(pk=linked.pk).update(user=user)
            self.summary.accounts.append(user)


def account_rows() -> list[tuple[str, str, str, str]]:
    """(username, role in Chinese, display name, scope) of the demo accounts, in a fixed order."""
    order = {name: i for i, (name, _r, _s) in enumerate(ACCOUNTS)}
    users = User.objects.filter(is_demo_data=True, username__in=order).prefetch_related("scopes")
    rows = []
    for user in sorted(users, key=lambda u: order[u.username]):
        scope = "、".join(n.name for n in user.scopes.all())
        if user.role == User.Role.VOLUNTEER:
            v = Volunteer.objects.filter(user=user).select_related("station").first()
            scope = f"本人（{v.station.name}志愿者）" if v else "本人"
        if user.department_id:
            scope = f"{user.department.name}（{scope}，只读）"
        rows.append((user.username, user.get_role_display(), user.display_name, scope))
    return rows
