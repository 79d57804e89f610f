"""A year of activities in the demo district: what the platform looks like after a year in use.

About 0.6 activities per volunteer (1,200 for the default 2,000 volunteers), spread over
the year before today and the six weeks after it, by the stations, institutes and the
centre, with or without a team: published and recruiting (some full, with a waiting
list), in progress right now, finished and waiting for settlement, settled into the
ledger, cancelled, a few drafts. The seasons of the district's work are there: 学雷锋日
on 5 March, the four festivals of 我们的节日, 七彩假期 in the school holidays, 春风行动
before the Spring Festival, nursing homes visited at most once a day and twice a week.

Everything is relative to the anchor (now, rounded down to the half hour): the same seed
gives the same activities at the same offsets from it. Activities in progress straddle
the anchor, so there are some whenever the demo is loaded.

The ledger is written in bulk: service records are built in memory, each volunteer's in
the order they were approved, chained and sealed exactly as `ledger.services._append`
does (same hash, same head seal), then inserted with `bulk_create`; points are
double-entry movements (two entries each). The few steps the demo accounts will want to
see happen live — demo-volunteer signing up, moving up from a waiting list, an
activity cancelled, an activity settled, recorded hours entered by one admin and
approved by another, certificates — go through the real services.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Max
from django.utils import timezone

from wenming.activities import services as activity_services
from wenming.activities.models import Activity, Attendance, Brand, SignUp, Theme
from wenming.core.models import AuditEntry, OrgNode
from wenming.ledger import rules
from wenming.ledger import services as ledger
from wenming.ledger.chain import head_seal, ledger_key, record_hash
from wenming.ledger.models import (
    GENESIS_HASH,
    Account,
    HoursRequest,
    LedgerChain,
    PointEntry,
    PointMovement,
    ServiceRecord,
)
from wenming.notices.models import Notice
from wenming.org.models import Site
from wenming.people.models import Team, TeamMembership, Volunteer

BATCH = 1000
# Field types whose Python value goes to the database driver as it is (as in core.excel.bulk_insert).
PLAIN_FIELDS = {models.CharField, models.TextField, models.BooleanField, models.IntegerField, models.BigIntegerField,
                models.PositiveIntegerField, models.PositiveSmallIntegerField, models.SmallIntegerField,
                models.FloatField}
PAST_DAYS = 365
FUTURE_DAYS = 45

# The four festivals of 我们的节日 (lunar dates, so a table), 2024–2032.
FESTIVALS = {
    "春节": ["2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03",
           "2031-01-23", "2032-02-11"],
    "端午": ["2024-06-10", "2025-05-31", "2026-06-19", "2027-06-09", "2028-05-28", "2029-06-16", "2030-06-05",
           "2031-06-24", "2032-06-12"],
    "中秋": ["2024-09-17", "2025-10-06", "2026-09-25", "2027-09-15", "2028-10-03", "2029-09-22", "2030-09-12",
           "2031-10-01", "2032-09-19"],
    "重阳": ["2024-10-11", "2025-10-29", "2026-10-18", "2027-10-08", "2028-10-26", "2029-10-16", "2030-10-05",
           "2031-10-24", "2032-10-12"],
}
# Outside the table, a date close enough for a demo.
FESTIVAL_FALLBACK = {"春节": (2, 5), "端午": (6, 10), "中秋": (9, 20), "重阳": (10, 15)}
FESTIVAL_DATES = {name: [date.fromisoformat(d) for d in days] for name, days in FESTIVALS.items()}


def festival_day(name: str, year: int) -> date:
    for day in FESTIVAL_DATES[name]:
        if day.year == year:
            return day
    month, dom = FESTIVAL_FALLBACK[name]
    return date(year, month, dom)


# Project brands (项目品牌): name, where it belongs (centre, or an institute / station by name), what it is.
BRANDS = [
    ("四季同行·雷锋家乡学雷锋", "centre", "雷锋家乡的常态化学雷锋志愿服务，3月5日学雷锋日全区集中行动。"),
    ("七彩假期", "centre", "寒暑假为留守儿童、困境儿童开展课业辅导、兴趣课堂和安全教育。"),
    ("春风行动", "centre", "扶贫济困送温暖，春节前后走访慰问困难群众。"),
    ("理论宣讲轻骑兵", "centre", "“走出去送、请进来学、上阵地讲”，把党的创新理论送到群众身边。"),
    ("道德讲堂", "centre", "以村（社区）道德讲堂为阵地，讲身边好人故事，树文明新风。"),
    ("送文化下乡", "centre", "送演出、送电影、送戏曲到村（社区）文化广场。"),
    ("经典诵读", "centre", "走进中小学校和少年宫，诵读中华经典。"),
    ("非遗传承行", "centre", "邀请非遗传承人开展剪纸、竹编、花鼓戏等体验课。"),
    ("科普大篷车", "centre", "科技志愿者带着展品和实验走进学校和乡村。"),
    ("送医送药进乡村", "centre", "医务志愿者开展义诊、健康咨询和送药上门。"),
    ("法治进万家", "centre", "法律明白人以案说法，开展法律咨询和普法宣传。"),
    ("平安守护", "centre", "反诈宣传、防溺水、消防安全等平安建设志愿服务。"),
    ("文明出行", "centre", "路口交通劝导，倡导文明出行、礼让斑马线。"),
    ("垃圾分类进万家", "centre", "垃圾分类宣传和入户指导。"),
    ("温暖敬老院", "centre", "志愿者定期走进敬老院陪伴老人、整理内务、文艺慰问。"),
    ("我们的节日", "centre", "春节、端午、中秋、重阳等传统节日主题活动。"),
    ("点滴爱永恒·阳光暖人心", "centre", "对困境儿童、残障人士、空巢老人等特殊群体送医送药、送关爱送服务。"),
    ("把爱带回家", "centre", "“双百万结对”寒假特别行动，关爱留守儿童。"),
    ("蓝天应急课堂", "centre", "应急救援知识和技能培训进社区、进校园。"),
    ("心灵驿站", "centre", "社工志愿者提供心理疏导和情绪支持。"),
    ("惠农政策进村入户", "centre", "宣讲小组进村入户讲解惠农政策，解答涉农问题。"),
    ("夕阳红文艺进万家", "小江湖街道", "老年文艺志愿者的巡回演出。"),
    ("农技田间课堂", "高崇山镇", "农技志愿者在田间地头讲授种植养殖技术。"),
    ("银龄互助", "东风路街道", "低龄老人帮扶高龄老人，结对互助。"),
    ("好家风好家训", "兴隆街道", "好家风好家训评选、宣传和分享。"),
    ("移风易俗", "渡头桥镇", "倡导婚事新办、丧事简办，破除大操大办。"),
    ("文明餐桌", "汽车站街道", "“光盘行动”宣传，倡导文明用餐。"),
    ("四点半课堂", "龙须塘街道", "放学后为双职工家庭和留守儿童提供作业辅导。"),
    ("邻里守望", "鼓楼亭社区", "鼓楼亭社区志愿服务团队的周末便民服务和邻里互助。"),
    ("门前三包", "莲荷村", "倡导农户门前三包，共建美丽庭院。"),
    ("微型党课", "五井塘社区", "党员志愿者讲十五分钟的微型党课。"),
    ("最美庭院", "荷塘村", "庭院环境整治和最美庭院评选。"),
    ("健康小屋", "塔北社区", "社区健康小屋的血压血糖测量和健康咨询。"),
]

K = Site.Kind
S = Activity.Serves
SLOTS = {"am": [(8, 30), (9, 0), (9, 30)], "pm": [(14, 30), (15, 0)], "eve": [(19, 0), (19, 30)]}


@dataclass(frozen=True)
class Template:
    """A kind of activity the district runs, with where, when and who."""

    titles: tuple[str, ...]  # "{n}" is the organiser's short name
    platform: str
    themes: tuple[str, ...]
    skills: tuple[str, ...] = ()
    sites: tuple[str, ...] = (K.PRACTICE_VENUE,)
    levels: tuple[int, int, int] = (6, 3, 1)  # station, institute, centre
    minutes: tuple[int, ...] = (120, 150)
    slots: tuple[str, ...] = ("am", "pm")
    capacity: tuple[int, int] = (5, 12)
    brand: str = ""
    team: str = ""  # a named team (centre and social organisations), when it exists
    serves: str = S.PUBLIC
    season: tuple = ()  # ("months", (7, 8)) | ("festival", name, days before, days after) | ("leifeng",)
    weight: float = 1.0
    rural: bool | None = None  # True: villages and townships only
    walk_ins: bool = False
    beneficiaries: tuple[int, int] = (20, 80)
    text: str = ""


TEMPLATES = [
    Template(("{n}“理论宣讲轻骑兵”进社区：学习习近平新时代中国特色社会主义思想", "{n}理论宣讲：党的创新理论进万家"),
             "传思想习理论", ("理论宣讲",), ("理论宣讲", "政策解读"), (K.MORAL_HALL, K.PRACTICE_VENUE), (4, 3, 2),
             (90, 120), ("am", "eve"), (3, 8), "理论宣讲轻骑兵", "双清区理论宣讲志愿服务队", weight=1.4,
             text="宣讲员结合身边事例，用群众听得懂的话讲解党的创新理论，现场答疑。"),
    Template(("{n}“微型党课”：十五分钟讲一个道理",), "传思想习理论", ("理论宣讲",), ("理论宣讲",),
             (K.PRACTICE_VENUE, K.MORAL_HALL), (8, 1, 0), (90,), ("eve", "am"), (3, 6), "微型党课",
             text="党员志愿者讲微型党课，随后开展主题党日活动。"),
    Template(("{n}道德讲堂：身边好人故事会", "{n}道德讲堂：讲孝老爱亲好故事"), "传道德习风尚", ("理论宣讲",),
             ("理论宣讲", "文艺演出"), (K.MORAL_HALL,), (6, 2, 1), (120,), ("am", "eve"), (4, 10), "道德讲堂",
             text="请身边好人、道德模范讲述自己的故事，唱一首歌、诵一段经典、作一番点评。"),
    Template(("{n}惠农政策进村入户宣讲",), "传政策习富路", ("理论宣讲",), ("政策解读", "农业技术"),
             (K.PRACTICE_VENUE, K.CULTURE_SQUARE), (6, 2, 1), (120, 150), ("am",), (3, 8), "惠农政策进村入户",
             "双清区惠农政策宣讲志愿服务队", rural=True, text="发放惠农政策小册子，面对面讲解补贴申领、医保社保政策，解答涉农问题。"),
    Template(("{n}农技田间课堂：水稻病虫害防治", "{n}农技田间课堂：柑橘修剪与管护", "{n}农技田间课堂：生猪科学养殖"),
             "传科技习技能", ("科技普及",), ("农业技术",), (K.PRACTICE_VENUE, K.CULTURE_SQUARE, K.SCIENCE_BASE),
             (5, 3, 1), (150, 180), ("am",), (3, 6), "农技田间课堂", "双清区科技科普志愿服务队", rural=True,
             text="农技志愿者在田间地头现场示范，讲授实用种养技术。"),
    Template(("{n}科普大篷车进校园", "{n}青少年科学实验课"), "传科技习技能", ("科技普及", "教育关爱"),
             ("科技科普",), (K.SCHOOL, K.YOUTH_PALACE, K.SCIENCE_BASE, K.SCIENCE_MUSEUM), (2, 4, 3), (120,),
             ("pm",), (4, 10), "科普大篷车", "双清区科技科普志愿服务队", beneficiaries=(60, 200),
             text="科技志愿者带着展品和实验走进学校，和孩子们一起动手做实验。"),
    Template(("{n}学雷锋便民服务日：义务维修家电、理发", "{n}便民服务集市"), "传科技习技能", ("学雷锋",),
             ("家电维修", "理发", "医疗保健"), (K.CULTURE_SQUARE, K.SQUARE, K.SERVICE_STATION, K.PRACTICE_VENUE),
             (6, 3, 1), (150, 180), ("am",), (6, 15), "四季同行·雷锋家乡学雷锋", weight=1.5, walk_ins=True,
             beneficiaries=(50, 200), text="志愿者摆摊设点，义务维修小家电、理发、量血压，现场办理便民事项。"),
    Template(("{n}送医送药进乡村：义诊与健康咨询",), "传科技习技能", ("卫生健康",), ("医疗保健",),
             (K.PRACTICE_VENUE, K.CULTURE_SQUARE), (4, 3, 2), (150, 180), ("am",), (4, 10), "送医送药进乡村",
             "双清区卫生健康志愿服务队", rural=True, beneficiaries=(40, 150),
             text="医务志愿者为群众测血压、血糖，开展义诊和用药指导，为行动不便的老人送药上门。"),
    Template(("{n}健康大讲堂：老年人慢病防治", "{n}健康小屋：血压血糖免费测"), "传科技习技能", ("卫生健康",),
             ("医疗保健",), (K.PRACTICE_VENUE, K.SERVICE_STATION, K.MORAL_HALL), (6, 2, 1), (90, 120), ("am", "pm"),
             (3, 6), "健康小屋", "双清区卫生健康志愿服务队", text="讲解高血压、糖尿病等慢病的日常防治，免费测量血压血糖。"),
    Template(("{n}心理健康讲座与咨询",), "传道德习风尚", ("卫生健康",), ("心理疏导",),
             (K.PRACTICE_VENUE, K.SCHOOL), (3, 3, 2), (120,), ("pm", "eve"), (3, 6), "心灵驿站",
             "阳光社工志愿服务队", text="社工志愿者讲解情绪调适方法，提供一对一心理咨询。"),
    Template(("{n}“法律明白人”以案说法", "{n}法律咨询进社区"), "传法规习行为", ("平安法治",), ("法律咨询",),
             (K.PRACTICE_VENUE, K.MORAL_HALL, K.CULTURE_SQUARE), (5, 3, 2), (120,), ("am", "eve"), (3, 8),
             "法治进万家", "双清区平安法治志愿服务队", text="以身边案例讲解婚姻家庭、土地承包、劳动维权等法律知识，现场解答咨询。"),
    Template(("{n}反诈宣传进小区", "{n}防范电信网络诈骗宣传"), "传法规习行为", ("平安法治",), ("法律咨询", "交通劝导"),
             (K.SERVICE_STATION, K.SQUARE, K.CULTURE_SQUARE, K.PRACTICE_VENUE), (6, 2, 1), (120,), ("am", "pm"),
             (4, 10), "平安守护", walk_ins=True, text="发放反诈宣传资料，指导群众安装国家反诈中心App。"),
    Template(("{n}文明出行：路口交通劝导",), "传道德习风尚", ("平安法治", "学雷锋"), ("交通劝导",),
             (K.SQUARE, K.PRACTICE_VENUE, K.SERVICE_STATION), (4, 3, 2), (120,), ("am", "pm"), (6, 16), "文明出行",
             "双清区文明风尚志愿服务队", rural=False, text="在主要路口劝导行人和非机动车遵守交通信号，礼让斑马线。"),
    Template(("{n}“门前三包”环境卫生整治", "{n}清洁家园志愿服务"), "传道德习风尚", ("学雷锋",), ("环境整治",),
             (K.PRACTICE_VENUE, K.CULTURE_SQUARE, K.PARK), (8, 2, 1), (120, 150), ("am",), (6, 20), "门前三包",
             weight=2.0, walk_ins=True, text="清理卫生死角、乱堆乱放和小广告，倡导门前三包。"),
    Template(("{n}垃圾分类宣传指导", "{n}垃圾分类桶边督导"), "传道德习风尚", ("学雷锋",), ("垃圾分类", "环境整治"),
             (K.SERVICE_STATION, K.PRACTICE_VENUE, K.CULTURE_SQUARE), (7, 2, 1), (120,), ("am", "pm"), (4, 10),
             "垃圾分类进万家", "双清区文明风尚志愿服务队", rural=False, weight=1.3,
             text="入户发放宣传单，在投放点指导居民分类投放。"),
    Template(("{n}关爱空巢老人：上门走访送温暖", "{n}银龄互助：结对帮扶高龄老人"), "传道德习风尚", ("六关爱",),
             ("助老助残", "心理疏导"), (K.PRACTICE_VENUE,), (8, 2, 1), (120, 150), ("am", "pm"), (3, 6), "银龄互助",
             "博爱义工志愿服务队", serves=S.CARE_TARGETS, weight=1.6, beneficiaries=(5, 15),
             text="上门走访空巢、高龄老人，打扫卫生、陪伴聊天、检查用电用气安全。"),
    Template(("{n}关爱留守儿童：陪伴成长", "{n}“点滴爱永恒，阳光暖人心”关爱困境儿童"), "传道德习风尚",
             ("六关爱", "教育关爱"), ("关爱儿童", "课业辅导"), (K.PRACTICE_VENUE, K.YOUTH_PALACE, K.SCHOOL), (6, 3, 1),
             (120, 150), ("pm",), (3, 8), "点滴爱永恒·阳光暖人心", "双清区“六关爱”志愿服务队",
             serves=S.CARE_TARGETS, beneficiaries=(5, 20), text="陪伴留守儿童、困境儿童读书游戏，送去学习用品。"),
    Template(("{n}“四点半课堂”作业辅导",), "传文化习礼仪", ("教育关爱",), ("课业辅导", "关爱儿童"),
             (K.PRACTICE_VENUE, K.SCHOOL), (8, 2, 0), (120,), ("pm",), (3, 6), "四点半课堂", rural=False,
             beneficiaries=(10, 30), text="放学后为双职工家庭和留守儿童辅导作业。"),
    Template(("{n}“七彩假期”：暑期课业辅导", "{n}“七彩假期”：书法兴趣课堂", "{n}“七彩假期”：防溺水安全教育"),
             "传文化习礼仪", ("教育关爱",), ("课业辅导", "关爱儿童", "书法绘画"),
             (K.PRACTICE_VENUE, K.YOUTH_PALACE, K.SCHOOL), (5, 2, 3), (150, 180), ("am", "pm"), (4, 10), "七彩假期",
             "七彩假期志愿服务队", season=("months", (7, 8)), weight=5.0, beneficiaries=(15, 40),
             text="大学生志愿者为假期中的孩子开展课业辅导、兴趣课堂和安全教育。"),
    Template(("{n}“把爱带回家”寒假关爱留守儿童",), "传道德习风尚", ("六关爱", "教育关爱"), ("关爱儿童", "课业辅导"),
             (K.PRACTICE_VENUE, K.YOUTH_PALACE), (4, 3, 2), (150,), ("am", "pm"), (4, 10), "把爱带回家",
             "七彩假期志愿服务队", season=("months", (1, 2)), weight=3.0, beneficiaries=(10, 30),
             text="寒假期间结对关爱留守儿童，辅导寒假作业，送去新春礼物。"),
    Template(("{n}走进敬老院：陪伴老人、整理内务", "{n}温暖敬老院：为老人理发、剪指甲"), "传道德习风尚", ("六关爱",),
             ("助老助残", "理发"), (K.NURSING_HOME,), (4, 3, 3), (120, 150), ("am", "pm"), (4, 10), "温暖敬老院",
             "博爱义工志愿服务队", serves=S.NURSING_HOME, weight=1.5, beneficiaries=(20, 60),
             text="为敬老院老人理发、剪指甲、整理内务，陪老人聊天。"),
    Template(("{n}敬老院慰问演出",), "传文化习礼仪", ("文化惠民", "六关爱"), ("文艺演出",), (K.NURSING_HOME,),
             (2, 3, 4), (120,), ("pm",), (6, 15), "温暖敬老院", "夕阳红文艺志愿服务队", serves=S.NURSING_HOME,
             weight=0.8, beneficiaries=(20, 60), text="文艺志愿者为敬老院老人表演花鼓戏、歌舞和快板。"),
    Template(("{n}送文化下乡：文艺演出进村", "{n}广场文艺晚会"), "传文化习礼仪", ("文化惠民",), ("文艺演出",),
             (K.CULTURE_SQUARE, K.SQUARE), (3, 4, 3), (150,), ("eve",), (8, 20), "送文化下乡",
             "双清区文化文艺志愿服务队", beneficiaries=(100, 400), text="送演出、送电影、送戏曲到村（社区）文化广场。"),
    Template(("{n}夕阳红文艺巡演",), "传文化习礼仪", ("文化惠民",), ("文艺演出",), (K.CULTURE_SQUARE, K.SQUARE),
             (2, 5, 1), (120,), ("eve", "pm"), (8, 16), "夕阳红文艺进万家", "夕阳红文艺志愿服务队",
             beneficiaries=(80, 300), text="老年文艺志愿者带来广场舞、合唱和花鼓戏。"),
    Template(("{n}经典诵读进校园",), "传文化习礼仪", ("文化惠民", "教育关爱"), ("文艺演出", "课业辅导"),
             (K.SCHOOL, K.YOUTH_PALACE), (2, 4, 3), (90, 120), ("pm",), (3, 8), "经典诵读", beneficiaries=(40, 150),
             text="和孩子们一起诵读《弟子规》《论语》选段和古诗词。"),
    Template(("{n}非遗传承行：剪纸体验课", "{n}非遗传承行：竹编技艺体验", "{n}非遗传承行：邵阳花鼓戏进校园"),
             "传文化习礼仪", ("文化惠民",), ("书法绘画", "文艺演出"), (K.CULTURE_SQUARE, K.SCHOOL, K.YOUTH_PALACE),
             (2, 3, 4), (120, 150), ("pm", "am"), (3, 8), "非遗传承行", "双清区文化文艺志愿服务队",
             beneficiaries=(30, 100), text="邀请非遗传承人授课，群众和学生现场体验。"),
    Template(("{n}好家风好家训分享会", "{n}最美家庭故事会"), "传道德习风尚", ("文化惠民", "理论宣讲"), ("理论宣讲",),
             (K.MORAL_HALL, K.PRACTICE_VENUE), (6, 3, 1), (120,), ("eve", "am"), (3, 6), "好家风好家训",
             text="最美家庭代表分享家风家训故事。"),
    Template(("{n}移风易俗宣传：婚事新办 丧事简办",), "传道德习风尚", ("理论宣讲",), ("政策解读",),
             (K.CULTURE_SQUARE, K.PRACTICE_VENUE), (6, 3, 1), (120,), ("am",), (3, 8), "移风易俗", rural=True,
             text="宣传红白理事会章程，倡导婚事新办、丧事简办，抵制高价彩礼和大操大办。"),
    Template(("{n}文明餐桌“光盘行动”宣传",), "传道德习风尚", ("学雷锋",), ("环境整治",),
             (K.SERVICE_STATION, K.PRACTICE_VENUE, K.SQUARE), (5, 3, 1), (120,), ("am", "pm"), (4, 8), "文明餐桌",
             rural=False, text="走进餐馆和食堂张贴提示、发放倡议书，倡导适量点餐、剩菜打包。"),
    Template(("{n}应急救援知识进社区", "{n}心肺复苏与急救技能培训"), "传科技习技能", ("平安法治", "科技普及"),
             ("应急救援",), (K.PRACTICE_VENUE, K.SCHOOL, K.SQUARE), (2, 3, 4), (120, 150), ("am", "pm"), (4, 10),
             "蓝天应急课堂", "蓝天应急救援志愿服务队", text="蓝天救援队志愿者讲解应急避险知识，示范心肺复苏和止血包扎。"),
    Template(("{n}防溺水安全宣传",), "传法规习行为", ("平安法治", "教育关爱"), ("应急救援", "关爱儿童"),
             (K.SCHOOL, K.PRACTICE_VENUE, K.PARK), (5, 3, 1), (120,), ("am", "pm"), (4, 10), "平安守护",
             "蓝天应急救援志愿服务队", season=("months", (5, 6, 7, 8)), weight=1.5,
             text="在学校和河边水域宣传防溺水“六不”，巡查危险水域。"),
    Template(("{n}汛期巡堤值守",), "传科技习技能", ("平安法治",), ("应急救援",), (K.PRACTICE_VENUE, K.PARK),
             (5, 3, 1), (180, 240), ("am", "pm"), (4, 10), "平安守护", "蓝天应急救援志愿服务队",
             season=("months", (5, 6, 7)), text="协助巡查堤段和低洼地带，发现险情及时报告。"),
    # The calendar of the district's work.
    Template(("{n}“四季同行·雷锋家乡学雷锋”志愿服务集中行动", "{n}学雷锋日：雷锋家乡学雷锋"), "传道德习风尚",
             ("学雷锋",), ("环境整治", "助老助残", "家电维修", "理发", "医疗保健"),
             (K.CULTURE_SQUARE, K.SQUARE, K.PRACTICE_VENUE), (6, 3, 2), (150, 180), ("am",), (10, 40),
             "四季同行·雷锋家乡学雷锋", season=("leifeng",), weight=6.0, walk_ins=True, beneficiaries=(100, 500),
             text="学雷锋日集中行动：环境整治、便民服务、走访慰问，雷锋家乡人人学雷锋。"),
    Template(("{n}“我们的节日·春节”迎新春送温暖", "{n}春风行动：走访慰问困难群众"), "传道德习风尚",
             ("我们的节日·春节", "六关爱"), ("助老助残",), (K.PRACTICE_VENUE,), (7, 3, 1), (150,), ("am", "pm"),
             (4, 10), "春风行动", "博爱义工志愿服务队", serves=S.CARE_TARGETS, season=("festival", "春节", 20, 3),
             weight=6.0, beneficiaries=(10, 40), text="走访慰问困难群众、空巢老人，送去大米、食用油和节日祝福。"),
    Template(("{n}“我们的节日·春节”写春联 送祝福",), "传文化习礼仪", ("我们的节日·春节", "文化惠民"), ("书法绘画",),
             (K.CULTURE_SQUARE, K.PRACTICE_VENUE), (6, 3, 1), (150,), ("am",), (3, 8), "我们的节日",
             season=("festival", "春节", 15, 1), weight=5.0, walk_ins=True, beneficiaries=(50, 200),
             text="书法志愿者现场书写春联、福字，免费赠送群众。"),
    Template(("{n}“我们的节日·端午”包粽子 传民俗",), "传文化习礼仪", ("我们的节日·端午", "文化惠民"),
             ("文艺演出", "助老助残"), (K.PRACTICE_VENUE, K.CULTURE_SQUARE), (7, 3, 1), (150,), ("am",), (5, 12),
             "我们的节日", season=("festival", "端午", 6, 0), weight=12.0, beneficiaries=(30, 100),
             text="邻里一起包粽子、挂艾草、讲端午故事，把粽子送给独居老人。"),
    Template(("{n}“我们的节日·中秋”邻里团圆会",), "传文化习礼仪", ("我们的节日·中秋", "文化惠民"),
             ("文艺演出",), (K.PRACTICE_VENUE, K.CULTURE_SQUARE), (7, 3, 1), (150,), ("eve", "pm"), (5, 12),
             "我们的节日", season=("festival", "中秋", 6, 0), weight=12.0, beneficiaries=(30, 120),
             text="做月饼、猜灯谜、赏月诵诗，邻里共度中秋。"),
    Template(("{n}“我们的节日·重阳”孝老敬亲", "{n}重阳节敬老院慰问"), "传道德习风尚", ("我们的节日·重阳", "六关爱"),
             ("助老助残", "医疗保健", "文艺演出"), (K.NURSING_HOME,), (4, 3, 3), (150,), ("am",), (5, 12), "我们的节日",
             "博爱义工志愿服务队", serves=S.NURSING_HOME, season=("festival", "重阳", 5, 2), weight=14.0,
             beneficiaries=(20, 60), text="为老人义诊、理发、表演节目，陪老人过重阳。"),
    Template(("{n}“我们的节日·重阳”走访高龄老人",), "传道德习风尚", ("我们的节日·重阳", "六关爱"), ("助老助残",),
             (K.PRACTICE_VENUE,), (7, 2, 0), (120,), ("am", "pm"), (3, 6), "我们的节日", serves=S.CARE_TARGETS,
             season=("festival", "重阳", 5, 2), weight=10.0, beneficiaries=(5, 20),
             text="走访辖区高龄老人，送去重阳糕和慰问品。"),
]
# Only for what is in progress when the demo is loaded at night (never planned on a calendar day).
NIGHT_PATROL = Template(("{n}“平安守护”夜间巡逻",), "传法规习行为", ("平安法治",), ("交通劝导", "应急救援"),
                        (K.PRACTICE_VENUE, K.SQUARE), (6, 3, 1), (180,), ("eve",), (4, 10), "平安守护",
                        "双清区平安法治志愿服务队", beneficiaries=(0, 0),
                        text="志愿者分组巡查小区、街巷和沿河地段，提醒商户关好门窗，发现隐患及时报告。")


def season_factor(t: Template, day: date) -> float:
    if not t.season:
        return 1.0
    kind = t.season[0]
    if kind == "months":
        return 1.0 if day.month in t.season[1] else 0.0
    if kind == "leifeng":
        if (day.month, day.day) == (3, 5):
            return 8.0
        return 0.6 if day.month == 3 else 0.0
    _kind, name, before, after = t.season
    for year in (day.year - 1, day.year, day.year + 1):
        delta = (day - festival_day(name, year)).days
        if -before <= delta <= after:
            return 2.0 if delta == 0 or (name != "春节" and delta == -1) else 1.0
    return 0.0


def day_weight(day: date, offset: int) -> float:
    w = 1.7 if day.weekday() >= 5 else 1.0
    if (day.month, day.day) == (3, 5):
        w *= 6
    elif day.month == 3:
        w *= 1.4
    if day.month in (7, 8):
        w *= 1.2
    for name in ("端午", "中秋", "重阳"):
        if 0 <= (festival_day(name, day.year) - day).days <= 3:
            w *= 1.8
    spring = festival_day("春节", day.year)
    if 0 <= (spring - day).days <= 14:
        w *= 1.5
    elif 0 < (day - spring).days <= 4:
        w *= 0.2  # the first days of the new year: families at home
    if offset > 14:  # further ahead, fewer activities are published yet
        w *= max(0.15, 1 - (offset - 14) / 35)
    return w


@dataclass
class Plan:
    """One activity before it is written, with the people around it."""

    activity: Activity
    template: Template | None
    theme_names: tuple[str, ...]
    skill_names: tuple[str, ...]
    settler: object  # the user who organises and settles it
    phase: str
    confirmed: list = field(default_factory=list)  # volunteer ids, in sign-up order
    waiting: list = field(default_factory=list)
    cancelled_signup: int | None = None
    promoted: int | None = None
    walk_ins: list = field(default_factory=list)
    story: str = ""
    no_checkin: set = field(default_factory=set)  # confirmed but not checked in (in progress)
    promoted_at: datetime | None = None
    signups: dict = field(default_factory=dict)  # volunteer id → SignUp
    attendance: dict = field(default_factory=dict)  # volunteer id → (kind, check-in, check-out, walk-in)
    outcome: dict = field(default_factory=dict)  # volunteer id → what settlement made of it


@dataclass
class ActivitySummary:
    activities: int = 0
    phases: dict = field(default_factory=dict)
    brands: int = 0
    signups: int = 0
    waiting: int = 0
    attendances: int = 0
    verified_records: int = 0
    recorded_records: int = 0
    verified_hours: int = 0
    recorded_hours: int = 0
    points: int = 0
    starred: dict = field(default_factory=dict)
    certificates: int = 0
    pending_requests: int = 0
    anchor: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _sqlite_datetime(value: datetime) -> str:
    """What Django's SQLite backend stores for an aware datetime (UTC, naive, str)."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _hours_text(minutes: int) -> str:
    return f"{minutes / 60:g}小时" if minutes % 30 == 0 else f"{minutes}分钟"


def insert_rows(progress, model, rows: list[dict], label: str = "") -> None:
    """INSERT dicts of attname → value (ids included) in one executemany, or COPY on PostgreSQL:
    bulk_create's per-value preparation would cost most of the demo's time. A missing value takes
    the field's default. The table's id sequence is moved past the ids written."""
    if not rows:
        return
    db = connections[DEFAULT_DB_ALIAS]
    fields = list(model._meta.concrete_fields)
    sqlite = db.vendor == "sqlite"

    def prep(f):
        if isinstance(f, models.DateTimeField):
            return _sqlite_datetime if sqlite else None
        if isinstance(f, models.DateField):
            return str if sqlite else None
        if type(f) in PLAIN_FIELDS or f.is_relation or isinstance(f, models.AutoField | models.BigAutoField):
            return None
        return lambda v, f=f: f.get_db_prep_save(v, db)

    preps = [prep(f) for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    names = [f.attname for f in fields]
    params = []
    for row in rows:
        values = []
        for name, p in zip(names, preps, strict=True):
            v = row[name] if name in row else defaults[name]
            values.append(v if p is None or v is None else p(v))
        params.append(values)
    task = progress.add_task(label or f"写入{model._meta.verbose_name}", total=len(params))
    qn = db.ops.quote_name
    table, columns = qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", params)
        for sql in db.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)
    progress.advance(task, len(params))


class ActivityBuilder:
    """Adds a year of activities and their ledger to a freshly built demo district."""

    def __init__(self, district):
        self.d = district
        self.seed = district.seed
        self.rng = random.Random(district.seed + 3)
        self.tz = timezone.get_default_timezone()
        self.now = timezone.now()
        local = timezone.localtime(self.now)
        self.anchor = local.replace(minute=local.minute - local.minute % 30, second=0, microsecond=0)
        self.today = local.date()
        self.summary = ActivitySummary(anchor=self.anchor.isoformat())
        self.step = rules.configured_step_minutes()
        self.share = rules.configured_min_share()
        self.rate = rules.points_per_hour()
        self.audit: list[dict] = []
        self.notices: list[dict] = []
        self.ids: dict = {}
        self._template_weights: dict = {}
        self.checked_in: set[int] = set()  # volunteers checked in at a live activity: one place at a time

    # --- Helpers ---------------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, dtime(hour, minute), tzinfo=self.tz)

    def between(self, start: datetime, end: datetime) -> datetime:
        """A moment between two others, to the second (start when the span is empty)."""
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(span)) if span > 1 else start

    def _audit(self, user, action: str, obj_type: str, obj_id, text: str, at: datetime, after=None, note=""):
        self.audit.append({
            "id": self._id(AuditEntry), "at": at, "actor_id": getattr(user, "pk", None),
            "actor_name": str(user) if user is not None else "系统", "action": action, "object_type": obj_type,
            "object_id": str(obj_id), "object_repr": text[:200], "before": None, "after": after, "note": note[:500],
            "ip": None,
        })

    def _notice(self, volunteer_id: int, kind: str, title: str, body: str, url: str, at: datetime):
        read = at + timedelta(hours=self.rng.randint(1, 48)) if at < self.now - timedelta(days=7) else None
        self.notices.append({"id": self._id(Notice), "volunteer_id": volunteer_id, "kind": kind, "title": title[:100],
                             "body": body[:500], "url": url[:200], "created_at": at, "read_at": read})

    # --- The whole -------------------------------------------------------------------------------

    def build(self) -> ActivitySummary:
        if Activity.objects.filter(is_demo_data=True).exists():
            return self.summary
        self._context()
        self._brands()
        plans = self._plan()
        self._write_activities(plans)
        self._write_signups(plans)
        self.demo_volunteer_id = self.demo_volunteer.id if self.demo_volunteer else None
        self._ledger(plans)
        self._write_attendances(plans)
        self._insert(Notice, self.notices, "写入站内消息")
        self._insert(AuditEntry, self.audit, "写入审计日志")
        self._stories(plans)
        self._certificates()
        self._count()
        return self.summary

    # --- What there is ---------------------------------------------------------------------------

    def _context(self) -> None:
        d = self.d
        self.users = {u.username: u for u in d.summary.accounts}
        self.centre = d.centre
        self.inst_of = {}  # station id → institute node
        for inst in d.institutes.values():
            for st in d.stations.values():
                if st.path.startswith(inst.path):
                    self.inst_of[st.id] = inst
        self.demo_station = d.station_by_name["鼓楼亭社区"]
        self.demo_institute = d.institutes["东风路街道"]
        self.nodes = {n.id: n for n in [self.centre, *d.institutes.values(), *d.stations.values()]}
        self.themes = {}
        for name, festival in [("学雷锋", False), ("六关爱", False), ("我们的节日·春节", True),
                               ("我们的节日·端午", True), ("我们的节日·中秋", True), ("我们的节日·重阳", True),
                               ("理论宣讲", False), ("文化惠民", False), ("平安法治", False), ("卫生健康", False),
                               ("科技普及", False), ("教育关爱", False)]:
            theme = Theme.objects.filter(name=name).first()
            if theme is None:  # a district removed a default theme: the demo brings its own back
                theme = Theme(name=name, is_festival=festival, sort_order=len(self.themes) + 1)
                theme.is_demo_data = True
                theme.save()
            self.themes[name] = theme
        self.sites_at: dict[int, list[Site]] = defaultdict(list)
        self.nursing_homes = []
        for site in Site.objects.filter(is_demo_data=True).order_by("id"):
            self.sites_at[site.node_id].append(site)
            if site.kind == K.NURSING_HOME:
                self.nursing_homes.append(site)
        self.teams_at: dict[int, list[Team]] = defaultdict(list)
        self.team_by_name = {}
        for team in Team.objects.filter(is_demo_data=True).select_related("leader").order_by("id"):
            self.teams_at[team.node_id].append(team)
            self.team_by_name[team.name] = team
        self.team_skills = defaultdict(set)
        for team_id, name in Team.skills.through.objects.filter(team__is_demo_data=True).values_list(
                "team_id", "skill__name").order_by("team_id", "skill__name"):
            self.team_skills[team_id].add(name)
        self.members = defaultdict(list)
        for team_id, vid in TeamMembership.objects.filter(team__is_demo_data=True).order_by(
                "team_id", "volunteer_id").values_list("team_id", "volunteer_id"):
            self.members[team_id].append(vid)
        self.volunteers = {v.id: v for v in d.volunteers}
        self.demo_volunteer = Volunteer.objects.filter(user__username="demo-volunteer").first()
        self.demo_leader = Volunteer.objects.filter(user__username="demo-leader").first()
        rng = random.Random(self.seed + 4)
        self.weight = {}
        for v in d.volunteers:
            tier = rng.random()
            self.weight[v.id] = 6.0 if tier < 0.12 else 1.5 if tier < 0.5 else 0.4
        for special in (self.demo_volunteer, self.demo_leader):
            if special:
                self.weight[special.id] = 6.0
        self.by_station = defaultdict(list)
        for v in d.volunteers:
            self.by_station[v.station_id].append(v.id)
        self.busy: dict[tuple[int, int], list[tuple[datetime, datetime]]] = defaultdict(list)
        self._pools: dict = {}

    def _brands(self) -> None:
        rows = []
        for name, where, text in BRANDS:
            node = (self.centre if where == "centre" else self.d.institutes.get(where)
                    or self.d.station_by_name.get(where))
            if node is None:
                continue
            brand = Brand(name=name, node=node, description=text)
            brand.is_demo_data = True
            rows.append(brand)
        Brand.objects.bulk_create(rows)
        self.brands = {b.name: b for b in Brand.objects.filter(is_demo_data=True).select_related("node")}
        self.summary.brands = len(self.brands)

    # --- Planning --------------------------------------------------------------------------------

    def _settler(self, node: OrgNode, team: Team | None):
        u = self.users
        if node.id == self.demo_station.id:
            if team is not None and self.demo_leader and team.leader_id == self.demo_leader.id:
                return u["demo-leader"]
            return u["demo-station"]
        if node.path.startswith(self.demo_institute.path):
            return u["demo-institute"]
        return u["demo-centre"]

    def _recorder(self, settler):
        """Who enters recorded hours for an activity (a team leader cannot), and who approves them."""
        u = self.users
        entered = u["demo-station"] if settler.username == "demo-leader" else settler
        approver = u["demo-centre2"] if entered.username == "demo-centre" else u["demo-centre"]
        return entered, approver

    def _pool(self, key, ids_of):
        """Volunteer ids and their cumulative weights, computed once per key (`ids_of()` gives the ids)."""
        pool = self._pools.get(key)
        if pool is None:
            ids = sorted(set(ids_of()))
            cum, total = [], 0.0
            for vid in ids:
                total += self.weight[vid]
                cum.append(total)
            pool = self._pools[key] = (ids, cum)
        return pool

    def _free(self, vid: int, start: datetime, end: datetime) -> bool:
        for s, e in self.busy[(vid, start.toordinal())]:
            if s < end and start < e:
                return False
        return True

    def _take(self, vid: int, start: datetime, end: datetime) -> None:
        self.busy[(vid, start.toordinal())].append((start, end))
        if end.toordinal() != start.toordinal():
            self.busy[(vid, end.toordinal())].append((start, end))

    def _eligible(self, vid: int, a: Activity, joined_by: datetime) -> bool:
        v = self.volunteers[vid]
        if v.created_at >= joined_by:
            return False
        if v.guardian_name and timezone.localtime(a.starts_at).hour >= 18:
            return False  # minors do not serve in the evening
        return self._free(vid, a.starts_at, a.ends_at)

    def _draw(self, pool, k: int, a: Activity, chosen: set, joined_by: datetime) -> list[int]:
        ids, cum = pool
        if not ids or k <= 0:
            return []
        out = []
        total = cum[-1]
        for _ in range(k * 4 + 10):
            vid = ids[min(bisect.bisect_right(cum, self.rng.random() * total), len(ids) - 1)]
            if vid in chosen or not self._eligible(vid, a, joined_by):
                continue
            chosen.add(vid)
            out.append(vid)
            if len(out) == k:
                break
        return out

    def _people(self, a: Activity, k: int, joined_by: datetime, chosen: set) -> list[int]:
        """k volunteers for an activity: the team's members first, then the organiser's people."""
        picked = []
        team = a.team
        if team is not None:
            if team.leader_id and team.leader_id not in chosen and self._eligible(team.leader_id, a, joined_by):
                chosen.add(team.leader_id)
                picked.append(team.leader_id)
            picked += self._draw(self._pool(("team", team.id), lambda: self.members[team.id]),
                                 round(k * 0.7) - len(picked), a, chosen, joined_by)
        node = a.node
        if node.kind == OrgNode.Kind.STATION:
            picked += self._draw(self._pool(("node", node.id), lambda: self.by_station[node.id]), k - len(picked), a, chosen,
                                 joined_by)
            if len(picked) < k:  # a small station borrows from its institute
                inst = self.inst_of[node.id]
                picked += self._draw(self._pool(("node", inst.id), lambda: self._ids_under(inst)), k - len(picked), a,
                                     chosen, joined_by)
        elif node.kind == OrgNode.Kind.INSTITUTE:
            picked += self._draw(self._pool(("node", node.id), lambda: self._ids_under(node)), k - len(picked), a, chosen,
                                 joined_by)
        else:
            picked += self._draw(self._pool(("node", node.id), lambda: list(self.volunteers)), k - len(picked), a, chosen,
                                 joined_by)
        return picked

    def _ids_under(self, node: OrgNode) -> list[int]:
        return [vid for st_id, ids in self.by_station.items() if self.nodes[st_id].path.startswith(node.path)
                for vid in ids]

    def _choose_template(self, day: date) -> Template:
        weights = self._template_weights.get(day)
        if weights is None:
            weights = self._template_weights[day] = [t.weight * season_factor(t, day) for t in TEMPLATES]
        return self.rng.choices(TEMPLATES, weights)[0]

    def _choose_node(self, t: Template) -> OrgNode:
        rng = self.rng
        brand = self.brands.get(t.brand)
        if brand is not None and brand.node.kind != OrgNode.Kind.CENTRE and rng.random() < 0.5:
            return brand.node
        level = rng.choices(["station", "institute", "centre"], t.levels)[0]
        if level == "centre":
            return self.centre
        rural_inst = [i for i in self.d.institutes.values() if not i.name.endswith("街道")]
        if level == "institute":
            insts = list(self.d.institutes.values())
            if t.rural is True:
                insts = rural_inst
            elif t.rural is False:
                insts = [i for i in insts if i.name.endswith("街道")]
            return rng.choice(insts)
        stations = list(self.d.stations.values())
        if t.rural is True:
            stations = [s for s in stations if s.name.endswith("村")]
        elif t.rural is False:
            stations = [s for s in stations if not s.name.endswith("村")]
        weights = [5 if s.id == self.demo_station.id else 2 if s.is_demonstration else 1 for s in stations]
        return rng.choices(stations, weights)[0]

    def _choose_team(self, t: Template, node: OrgNode) -> Team | None:
        rng = self.rng
        if t.team and node.kind == OrgNode.Kind.CENTRE:
            team = self.team_by_name.get(t.team)
            if team is not None and rng.random() < 0.85:
                return team
        here = self.teams_at.get(node.id, [])
        if node.kind == OrgNode.Kind.CENTRE:
            here = [tm for tm in here if tm.social_org_id is None] or here
        if not here or rng.random() < 0.35:
            return None
        fitting = [tm for tm in here if self.team_skills[tm.id] & set(t.skills)]
        return rng.choice(fitting or here)

    def _choose_site(self, t: Template, node: OrgNode) -> Site | None:
        sites = self.sites_at.get(node.id, [])
        for kind in t.sites:
            here = [s for s in sites if s.kind == kind]
            if here:
                return self.rng.choice(here)
        if node.kind == OrgNode.Kind.STATION:  # a station's own venue, else its institute's
            here = sites or self.sites_at.get(self.inst_of[node.id].id, [])
        else:
            here = sites
        venues = [s for s in here if s.kind == K.PRACTICE_VENUE] or here
        return self.rng.choice(venues) if venues else None

    def _nursing_home(self, day: date, load: dict) -> Site | None:
        """A nursing home that has not had a visit that day nor two that week (not too much of a good thing)."""
        homes = list(self.nursing_homes)
        self.rng.shuffle(homes)
        week = day.toordinal() - day.weekday()
        for home in homes:
            if load[(home.id, day)] < 1 and load[(home.id, week)] < 2:
                load[(home.id, day)] += 1
                load[(home.id, week)] += 1
                return home
        return None

    def _new_activity(self, t: Template, node: OrgNode, team: Team | None, site: Site | None, start: datetime,
                      minutes: int, served_site: Site | None = None, title: str = "") -> Activity:
        rng = self.rng
        short = "" if node.kind == OrgNode.Kind.CENTRE else node.name
        if not title:
            title = rng.choice(t.titles).format(n=short)
        served_target = ""
        if t.serves == S.CARE_TARGETS:
            place = node.name if node.kind != OrgNode.Kind.CENTRE else "全区"
            who = "留守儿童" if "儿童" in title else "困难群众" if "春风" in title or "春节" in title else "空巢老人"
            served_target = f"{place}{who}"
        capacity = rng.randint(*t.capacity)
        if node.kind == OrgNode.Kind.CENTRE:
            capacity = capacity * 2
        leader = team.leader if team is not None and team.leader_id else None
        contact = leader.name if leader else (node.secretary or "")
        brand = self.brands.get(t.brand)
        if brand is not None and not node.path.startswith(brand.node.path):
            brand = None
        a = Activity(
            title=title[:100], description=t.text, platform=self.d.platforms.get(t.platform), node=node, team=team,
            site=site, address=site.address if site else node.address, starts_at=start,
            ends_at=start + timedelta(minutes=minutes), capacity=capacity, allow_walk_ins=t.walk_ins,
            serves=t.serves if (t.serves != S.NURSING_HOME or served_site) else S.PUBLIC,
            served_site=served_site, served_target=served_target,
            expected_beneficiaries=rng.randint(*t.beneficiaries), brand=brand, contact_name=contact[:50],
        )
        a.is_demo_data = True
        if rng.random() < 0.3:
            a.signup_deadline = a.starts_at - timedelta(hours=rng.choice([2, 12, 24]))
        return a

    def _times(self, a: Activity, offset: int) -> None:
        """When it was created and published: days before it starts, never after now."""
        rng = self.rng
        created = a.starts_at - timedelta(days=rng.randint(5, 21), hours=rng.randint(0, 9))
        latest = self.now - timedelta(hours=rng.randint(2, 72))
        a.created_at = min(created, latest)
        a.published_at = min(a.created_at + timedelta(minutes=rng.randint(10, 1440)), self.now - timedelta(hours=1))

    def _plan(self) -> list[Plan]:
        rng = self.rng
        count = max(40, min(2400, round(len(self.volunteers) * 0.6)))
        offsets = [o for o in range(-PAST_DAYS, FUTURE_DAYS + 1) if o != 0]
        days = [self.today + timedelta(days=o) for o in offsets]
        per_day = defaultdict(int)
        for o in rng.choices(offsets, [day_weight(d, o) for d, o in zip(days, offsets, strict=True)], k=count):
            per_day[o] += 1
        plans: list[Plan] = self._story_plans()
        live = max(3, count // 300)
        home_load: dict = defaultdict(int)
        for p in plans:
            if p.activity.served_site_id:
                self._count_home(p.activity, home_load)
        # Live ones first (they straddle the anchor), then the days in order; one of each seasonal kind
        # on its day whatever the draw gave (so every theme is in use however small the demo).
        schedule = [(0, None)] * live
        for o in sorted(per_day):
            schedule += [(o, None)] * per_day[o]
        for t in TEMPLATES:
            if t.season and t.season[0] != "months":
                best = max(offsets, key=lambda o, t=t: (season_factor(t, self.today + timedelta(days=o)), -abs(o)))
                schedule.append((best, t))
        task = self.d.progress.add_task("规划一年的活动", total=len(schedule))
        for offset, chosen in schedule:
            day = self.today + timedelta(days=offset)
            t = chosen or self._choose_template(day)
            if offset == 0 and self._night():
                t = NIGHT_PATROL  # what is in progress at night is a patrol
            served_site = None
            if t.serves == S.NURSING_HOME:
                served_site = self._nursing_home(day, home_load)
                if served_site is None:
                    t = next(x for x in TEMPLATES if x.serves == S.CARE_TARGETS and not x.season)
            if served_site is not None:
                node = served_site.node if rng.random() < 0.5 else self._station_near(served_site.node)
                site = served_site
            else:
                node = self._choose_node(t)
                site = None
            team = self._choose_team(t, node)
            site = site or self._choose_site(t, node)
            minutes = rng.choice(t.minutes)
            if offset == 0:
                start = self.anchor - timedelta(minutes=rng.choice([30, 60, 90]))
                minutes = max(minutes, int((self.anchor - start).total_seconds() // 60) + 60)
            else:
                hour, minute = rng.choice(SLOTS[rng.choice(t.slots)])
                start = self.at(day, hour, minute)
            a = self._new_activity(t, node, team, site, start, minutes, served_site)
            phase = self._phase(offset, a)
            plan = Plan(a, t, t.themes, t.skills, self._settler(node, team), phase)
            self._times(a, offset)
            self._fill(plan, offset)
            plans.append(plan)
            self.d.progress.advance(task)
        return plans

    def _night(self) -> bool:
        return self.anchor.hour >= 20 or self.anchor.hour < 7

    def _count_home(self, a: Activity, load: dict) -> None:
        day = timezone.localtime(a.starts_at).date()
        load[(a.served_site_id, day)] += 1
        load[(a.served_site_id, day.toordinal() - day.weekday())] += 1

    def _station_near(self, node: OrgNode) -> OrgNode:
        """A station that visits a nursing home: one of the home's township, or any town station."""
        if node.kind == OrgNode.Kind.INSTITUTE:
            stations = [s for s in self.d.stations.values() if s.path.startswith(node.path)]
        else:
            stations = [s for s in self.d.stations.values() if self.inst_of[s.id].name.endswith("街道")]
        return self.rng.choice(stations)

    def _phase(self, offset: int, a: Activity) -> str:
        r = self.rng.random()
        P = Activity.Phase
        if offset == 0:
            return P.IN_PROGRESS
        if offset < 0:
            if r < 0.04:
                return P.CANCELLED
            if offset >= -4 and r < 0.45:
                return P.FINISHED
            return P.SETTLED
        if r < 0.04:
            return P.CANCELLED
        if offset > 7 and r < 0.10:
            return P.DRAFT
        return P.RECRUITING

    def _fill(self, plan: Plan, offset: int, *, exclude=()) -> None:
        """Sign-ups (confirmed, waiting, one cancelled and a promotion now and then), and who came."""
        rng = self.rng
        a = plan.activity
        P = Activity.Phase
        if plan.phase == P.DRAFT:
            return
        cap = a.capacity
        popular = rng.random() < 0.15 and (offset <= 10)
        if offset > 0:
            progress = min(1.0, max(0.1, 1 - (offset - 1) / 30))
            want = cap if popular else max(0, round(cap * progress * rng.uniform(0.5, 1.0)))
        else:
            want = cap if popular else max(1, round(cap * rng.uniform(0.5, 1.0)))
        waiting = rng.randint(1, 3) if popular else 0
        joined_by = a.published_at  # registered before it was published: signed up after both
        chosen = set(exclude)
        people = self._people(a, want + waiting, joined_by, chosen)
        plan.confirmed, plan.waiting = people[:cap], people[cap:]
        if plan.confirmed and rng.random() < 0.12:
            # Someone cancelled before it started; the first on the waiting list moved up.
            plan.cancelled_signup = plan.confirmed.pop(rng.randrange(len(plan.confirmed)))
            if plan.waiting:
                plan.promoted = plan.waiting.pop(0)
                plan.confirmed.append(plan.promoted)
        if a.allow_walk_ins and plan.phase in (P.SETTLED, P.FINISHED) and rng.random() < 0.5:
            plan.walk_ins = self._people(a, rng.randint(1, 3), joined_by, chosen)
        for vid in plan.confirmed + plan.waiting + plan.walk_ins:
            self._take(vid, a.starts_at, a.ends_at)

    # --- demo-volunteer's year, and the steps that go through the services later ------------------

    def _story_plans(self) -> list[Plan]:
        """The demo station's activities that the demo accounts will look at first."""
        plans = []
        dv, station = self.demo_volunteer, self.demo_station
        team = self.d.station_team
        if dv is None or team is None:
            return plans
        P = Activity.Phase
        venue = next((s for s in self.sites_at[station.id] if s.kind == K.PRACTICE_VENUE), None)
        hall = next((s for s in self.sites_at[station.id] if s.kind == K.MORAL_HALL), venue)
        day = self.today

        def story(name, t, offset, hour, minute, minutes, phase, site=venue, team=team, title="", cap=None,
                  waiting=0, confirmed=None, with_dv=True):
            if offset == 0:
                start = self.anchor - timedelta(minutes=60)
            else:
                start = self.at(day + timedelta(days=offset), hour, minute)
            a = self._new_activity(t, station, team, site, start, minutes, title=title)
            if cap:
                a.capacity = cap
            a.signup_deadline = None
            plan = Plan(a, t, t.themes, t.skills, self._settler(station, team), phase, story=name)
            self._times(a, offset)
            joined_by = a.published_at  # registered before it was published: signed up after both
            chosen = {dv.id}
            n = a.capacity if confirmed is None else confirmed
            others = self._people(a, n - (1 if with_dv else 0) + waiting, joined_by, chosen)
            # Small demo loads may not have enough people at the station: the story still holds.
            plan.confirmed = ([dv.id] if with_dv else []) + others[: max(0, n - (1 if with_dv else 0))]
            plan.waiting = others[len(plan.confirmed) - (1 if with_dv else 0):]
            self._take(dv.id, a.starts_at, a.ends_at)
            for vid in plan.confirmed + plan.waiting:
                self._take(vid, a.starts_at, a.ends_at)
            plans.append(plan)
            return plan

        neighbour = next(t for t in TEMPLATES if t.brand == "四季同行·雷锋家乡学雷锋" and not t.season)
        sorting = next(t for t in TEMPLATES if t.brand == "垃圾分类进万家")
        homework = next(t for t in TEMPLATES if t.brand == "四点半课堂")
        lecture = next(t for t in TEMPLATES if t.brand == "道德讲堂")
        clean = next(t for t in TEMPLATES if t.brand == "门前三包")
        health = next(t for t in TEMPLATES if t.brand == "健康小屋")
        if self._night():
            live = story("live", NIGHT_PATROL, 0, 0, 0, 180, P.IN_PROGRESS, title="鼓楼亭社区“邻里守望”平安夜巡",
                         cap=10, confirmed=8)
        else:
            live = story("live", neighbour, 0, 0, 0, 180, P.IN_PROGRESS, title="鼓楼亭社区“邻里守望”便民服务",
                         cap=10, confirmed=8)
        live.no_checkin = {dv.id}  # the demo volunteer has yet to scan the code
        live.activity.brand = self.brands.get("邻里守望")
        live.activity.allow_walk_ins = True
        story("signup", sorting, 3, 9, 0, 150, P.RECRUITING, cap=12, confirmed=5, with_dv=False)
        story("promote", homework, 6, 14, 30, 120, P.RECRUITING, cap=5, confirmed=5, with_dv=False)
        story("waiting", lecture, 10, 19, 0, 120, P.RECRUITING, site=hall, cap=4, confirmed=4, waiting=2,
              with_dv=False)
        story("cancel", clean, 8, 8, 30, 150, P.RECRUITING, cap=10, confirmed=6)
        story("settle", health, -2, 9, 0, 150, P.FINISHED, cap=8, confirmed=6)
        story("finished", clean, -1, 14, 30, 150, P.FINISHED, cap=10, confirmed=7)
        return plans

    # --- Writing ---------------------------------------------------------------------------------

    def _id(self, model) -> int:
        """The next id of a table: rows written in bulk carry their ids, so links are set before insert."""
        if model not in self.ids:
            self.ids[model] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        value = self.ids[model]
        self.ids[model] += 1
        return value

    def _insert(self, model, rows: list[dict], label: str = "") -> None:
        insert_rows(self.d.progress, model, rows, label)

    def _write_activities(self, plans: list[Plan]) -> None:
        rng = self.rng
        task = self.d.progress.add_task("写入活动", total=len(plans))
        P, St = Activity.Phase, Activity.Status
        for p in plans:
            a = p.activity
            a.created_by = p.settler
            if p.phase == P.DRAFT:
                a.status, a.published_at = St.DRAFT, None
            elif p.phase == P.CANCELLED:
                a.status = St.CANCELLED
                latest = min(a.starts_at - timedelta(hours=2), self.now - timedelta(minutes=30))
                a.cancelled_at = self.between(a.published_at, latest) if latest > a.published_at else a.published_at
                a.cancel_reason = rng.choice([
                    "天气预报有大到暴雨，为保证安全，活动取消。", "场地临时另有安排，活动取消，另行通知。",
                    "服务对象另有安排，活动取消。", "报名人数不足，活动取消。",
                ])
            elif p.phase == P.SETTLED:
                a.status = St.SETTLED
                a.settled_at = min(a.ends_at + timedelta(minutes=rng.randint(60, 4 * 1440)),
                                   self.now - timedelta(minutes=30))
                a.settled_by = p.settler
                a.beneficiaries = max(0, round(a.expected_beneficiaries * rng.uniform(0.7, 1.2)))
            else:
                a.status = St.PUBLISHED
        Activity.objects.bulk_create([p.activity for p in plans], batch_size=BATCH)
        skill_ids = {name: s.id for name, s in self.d.skills.items()}
        themes = Activity.themes.through
        skills = Activity.skills.through
        self._insert(themes, [{"id": self._id(themes), "activity_id": p.activity.pk, "theme_id": self.themes[n].id}
                              for p in plans for n in p.theme_names], "活动主题")
        self._insert(skills, [{"id": self._id(skills), "activity_id": p.activity.pk, "skill_id": skill_ids[n]}
                              for p in plans for n in p.skill_names if n in skill_ids], "活动所需技能")
        for p in plans:
            a = p.activity
            self._audit(p.settler, "activity.create", "activities.activity", a.pk, a.title, a.created_at,
                        after={"title": a.title, "status": "draft", "node": a.node_id, "team": a.team_id,
                               "starts_at": a.starts_at.isoformat(), "ends_at": a.ends_at.isoformat(),
                               "capacity": a.capacity})
            if a.published_at:
                self._audit(p.settler, "activity.publish", "activities.activity", a.pk, a.title, a.published_at,
                            after={"overserving_confirmed": False})
            if a.status == St.CANCELLED:
                self._audit(p.settler, "activity.cancel", "activities.activity", a.pk, a.title, a.cancelled_at,
                            after={"reason": a.cancel_reason}, note=a.cancel_reason)
        self.d.progress.advance(task, len(plans))

    def _write_signups(self, plans: list[Plan]) -> None:
        """Sign-ups in the order they came: confirmed while there was room, then the waiting list;
        now and then someone cancelled and the first waiting moved up."""
        rng = self.rng
        SS = SignUp.Status
        rows = []
        for p in plans:
            a = p.activity
            if not (p.confirmed or p.waiting or p.cancelled_signup):
                continue
            opened = a.published_at
            closed = min(a.signup_deadline or a.starts_at, a.starts_at - timedelta(hours=1), self.now)
            if a.status == Activity.Status.CANCELLED:
                closed = min(closed, a.cancelled_at)
            order = list(p.confirmed)
            if p.promoted is not None:
                order.remove(p.promoted)
            if p.cancelled_signup is not None:
                order.insert(rng.randrange(len(order) + 1), p.cancelled_signup)
            order += ([p.promoted] if p.promoted is not None else []) + p.waiting
            times = sorted(self.between(opened, closed) for _ in order)
            for vid, at in zip(order, times, strict=True):
                row = {"id": self._id(SignUp), "activity_id": a.pk, "volunteer_id": vid, "created_at": at,
                       "status": SS.WAITING if vid in p.waiting else SS.CONFIRMED}
                if vid == p.cancelled_signup:
                    row["status"] = SS.CANCELLED
                    row["cancelled_at"] = self.between(at, closed)
                    row["cancel_reason"] = rng.choice(["临时有事", "身体不适", "家中有事", ""])
                    p.promoted_at = row["cancelled_at"]
                elif vid == p.promoted:
                    row["promoted_at"] = max(p.promoted_at or at, at)
                    self._notice(vid, "waitlist_promoted", f"候补成功：{a.title}",
                                 f"有志愿者取消报名，您已由候补转为正式报名。活动时间："
                                 f"{timezone.localtime(a.starts_at):%m月%d日 %H:%M}。", f"/a/{a.pk}/",
                                 row["promoted_at"])
                if row["status"] != SS.CANCELLED:
                    p.signups[vid] = row["id"]
                rows.append(row)
            if a.status == Activity.Status.CANCELLED:
                for vid in p.confirmed + p.waiting:
                    self._notice(vid, "activity_cancelled", f"活动已取消：{a.title}",
                                 f"原定{timezone.localtime(a.starts_at):%m月%d日 %H:%M}的活动已取消。原因："
                                 f"{a.cancel_reason}", f"/a/{a.pk}/", a.cancelled_at)
        self._insert(SignUp, rows, "写入报名")
        self.summary.signups = sum(1 for r in rows if r["status"] != SS.CANCELLED)
        self.summary.waiting = sum(1 for r in rows if r["status"] == SS.WAITING)

    def _attend(self, p: Plan) -> None:
        """Check-ins and check-outs of a finished or live activity, kept on the plan."""
        rng = self.rng
        a = p.activity
        window = a.ends_at - a.starts_at
        P = Activity.Phase
        for vid in p.confirmed + p.walk_ins:
            walk_in = vid in p.walk_ins
            if p.phase == P.IN_PROGRESS:
                if vid in p.no_checkin or rng.random() < 0.2 or vid in self.checked_in:
                    continue
                check_in = a.starts_at - timedelta(minutes=rng.randint(0, 25))
                if rng.random() < 0.3:
                    check_in = a.starts_at + timedelta(minutes=rng.randint(0, 20))
                check_in = min(check_in, self.now - timedelta(minutes=1))
                p.attendance[vid] = ("in", check_in, None, walk_in)
                self.checked_in.add(vid)
                continue
            r = rng.random()
            if r < 0.08 and not walk_in and p.story != "settle":
                continue  # did not come
            check_in = a.starts_at - timedelta(minutes=rng.randint(0, 25), seconds=rng.randint(0, 59))
            if rng.random() < 0.25:
                check_in = a.starts_at + timedelta(minutes=rng.randint(1, 20), seconds=rng.randint(0, 59))
            if vid == self.demo_volunteer_id:
                check_in = a.starts_at - timedelta(minutes=12, seconds=rng.randint(0, 59))
                r = 1.0
            if r < 0.11:
                p.attendance[vid] = ("forgot", check_in, None, walk_in)
            elif r < 0.14:
                out = a.starts_at + window * rng.uniform(0.25, 0.5)
                p.attendance[vid] = ("out", check_in, out, walk_in)
            else:
                out = a.ends_at + timedelta(minutes=rng.randint(-4, 25), seconds=rng.randint(0, 59))
                p.attendance[vid] = ("out", check_in, out, walk_in)
        if p.story == "finished" and not any(v[0] == "forgot" for v in p.attendance.values()):
            # The organiser's list shows one forgotten check-out to decide on.
            for vid, (_kind, check_in, _out, walk_in) in p.attendance.items():
                if vid != self.demo_volunteer_id:
                    p.attendance[vid] = ("forgot", check_in, None, walk_in)
                    break

    def _record(self, **fields) -> dict:
        """A service record as a row: every hashed field present, links by id."""
        row = {"content": "", "place": "", "beneficiaries": "", "started_at": None, "ended_at": None,
               "window_start": None, "window_end": None, "source_type": "", "source_id": "",
               "responsible_person": "", "quality_rating": None, "reason": "", "adjustment_of_id": None,
               "original_id": None}
        row.update(fields)
        row["id"] = self._id(ServiceRecord)
        return row

    def _ledger(self, plans: list[Plan]) -> None:
        rng = self.rng
        P = Activity.Phase
        entries: list[tuple] = []  # (volunteer id, approved at, order, record, request or None, plan)
        order = 0
        for p in plans:
            if p.phase not in (P.SETTLED, P.FINISHED, P.IN_PROGRESS):
                continue
            self._attend(p)
            if p.phase != P.SETTLED:
                continue
            a = p.activity
            place = (a.site.name if a.site else a.address)[:200]
            served = (a.served_site.name if a.served_site else (a.served_target or "社会公众"))[:200]
            entered, approver = self._recorder(p.settler)
            for vid, (kind, check_in, out, _walk_in) in p.attendance.items():
                order += 1
                common = dict(
                    volunteer_id=vid, node_id=a.node_id, title=a.title, place=place, window_start=a.starts_at,
                    window_end=a.ends_at, source_type="activity", source_id=str(a.pk),
                )
                if kind == "out":
                    minutes = rules.served_minutes(check_in, out, a.starts_at, a.ends_at, self.step, self.share)
                    if minutes <= 0:
                        p.outcome[vid] = ("no_hours", None, None, "服务时长不足活动时长的规定比例，不计时长")
                        continue
                    rec = self._record(
                        kind=ServiceRecord.Kind.VERIFIED, service_date=timezone.localdate(a.starts_at),
                        started_at=check_in, ended_at=out, minutes=minutes, recorded_by_id=p.settler.pk,
                        approved_by_id=p.settler.pk, approved_at=a.settled_at, created_at=a.settled_at,
                        content=a.description[:2000], beneficiaries=served,
                        responsible_person=a.contact_name[:50] or str(p.settler)[:50], **common,
                    )
                    entries.append((vid, a.settled_at, order, rec, None, p))
                    p.outcome[vid] = ("settled", rec, None, "")
                elif rng.random() < 0.6:
                    # A forgotten check-out, confirmed from the paper sign-in sheet: recorded hours (补录).
                    minutes = rules.window_minutes(a.starts_at, a.ends_at)
                    minutes -= minutes % self.step
                    note = "现场签到表核实全程参加，系统未签退"
                    decided = min(a.settled_at + timedelta(minutes=rng.randint(60, 2 * 1440)),
                                  self.now - timedelta(minutes=10))
                    rec = self._record(
                        kind=ServiceRecord.Kind.RECORDED, service_date=timezone.localdate(check_in),
                        started_at=check_in, minutes=minutes, recorded_by_id=entered.pk, approved_by_id=approver.pk,
                        approved_at=decided, created_at=decided, reason=f"未签退补录：{note}", **common,
                    )
                    req = {
                        "id": self._id(HoursRequest), "kind": HoursRequest.Kind.RECORDED,
                        "status": HoursRequest.Status.APPROVED, "volunteer_id": vid, "node_id": a.node_id,
                        "title": a.title, "place": place, "window_start": a.starts_at, "window_end": a.ends_at,
                        "started_at": check_in, "minutes": minutes, "source_type": "activity",
                        "source_id": str(a.pk), "reason": rec["reason"], "requested_by_id": entered.pk,
                        "requested_at": a.settled_at, "decided_by_id": approver.pk, "decided_at": decided,
                        "record_id": rec["id"],
                    }
                    entries.append((vid, decided, order, rec, req, p))
                    p.outcome[vid] = ("recorded", rec, req, note)
                else:
                    p.outcome[vid] = ("no_hours", None, None, "未签退且无法核实服务时长，不计时长")
        entries += self._paper_history(order)
        self._chain(entries)

    def _paper_history(self, order: int) -> list[tuple]:
        """Long-serving volunteers' services from before the platform, entered from paper records
        (补录) by one district admin and approved by another: the demo's stars."""
        rng = random.Random(self.seed + 5)
        entered, approver = self.users["demo-centre2"], self.users["demo-centre"]
        year_ago = self.now - timedelta(days=PAST_DAYS)
        veterans = [v for v in self.d.volunteers if not v.guardian_name and v.created_at < year_ago
                    and self.weight[v.id] >= 1.5]
        rng.shuffle(veterans)
        veterans = veterans[: max(3, len(self.volunteers) * 3 // 100)]
        # The demo leader has served for years (two stars); the demo volunteer is close to one star
        # on paper alone and passes it with this year's activities.
        targets = {}
        for special, hours in ((self.demo_leader, (310, 360)), (self.demo_volunteer, (88, 94))):
            if special is not None:
                targets[special.id] = hours
                if special.id not in {v.id for v in veterans}:
                    veterans.append(self.volunteers[special.id])
        veterans.sort(key=lambda v: v.id)
        titles = ["防汛抗洪志愿服务", "社区疫情防控值守", "创建文明城市志愿服务", "敬老院志愿服务", "关爱留守儿童",
                  "学雷锋志愿服务", "文明交通劝导", "环境卫生整治", "扶贫济困走访慰问", "文艺演出志愿服务"]
        reason = "平台启用前的纸质服务台账，经核对签到表和服务单位证明后补录"
        out = []
        for v in veterans:
            target = rng.choices([rng.randint(100, 180), rng.randint(300, 420), rng.randint(600, 760),
                                  rng.randint(1000, 1080)], [60, 25, 10, 5])[0] * 60
            if v.id in targets:
                target = rng.randint(*targets[v.id]) * 60
            requested = min(v.created_at + timedelta(days=rng.randint(3, 40)), self.now - timedelta(days=2))
            # Served from the age of 16 at the earliest, within the last six years.
            earliest = max(self.today - timedelta(days=6 * 365), date(v.birth_date.year + 16, v.birth_date.month, 1))
            latest = min(timezone.localdate(v.created_at), self.today - timedelta(days=PAST_DAYS)) - timedelta(days=1)
            span = (latest - earliest).days
            if span < 30:
                continue
            station = self.nodes[v.station_id]
            place = next((s.name for s in self.sites_at[station.id] if s.kind == K.PRACTICE_VENUE), station.name)
            total, days = 0, []
            while total < target:
                minutes = rng.choice([120, 150, 180, 240, 300, 360, 480])
                days.append((earliest + timedelta(days=rng.randrange(span)), minutes))
                total += minutes
            days.sort()
            approved_from = requested + timedelta(hours=rng.randint(2, 30))
            for i, (day, minutes) in enumerate(days):
                order += 1
                start = self.at(day, 8, 30)
                title = f"{day.year}年{rng.choice(titles)}（纸质台账补录）"
                approved = min(approved_from, self.now - timedelta(hours=1)) + timedelta(seconds=i)
                rec = self._record(
                    volunteer_id=v.id, kind=ServiceRecord.Kind.RECORDED, title=title, place=place,
                    responsible_person=station.secretary[:50], service_date=day, window_start=start,
                    window_end=start + timedelta(minutes=minutes), minutes=minutes, source_type="history",
                    node_id=station.id, recorded_by_id=entered.pk, approved_by_id=approver.pk, approved_at=approved,
                    created_at=approved, reason=reason,
                )
                req = {
                    "id": self._id(HoursRequest), "kind": HoursRequest.Kind.RECORDED,
                    "status": HoursRequest.Status.APPROVED, "volunteer_id": v.id, "node_id": station.id,
                    "title": title, "place": place, "responsible_person": rec["responsible_person"],
                    "window_start": start, "window_end": rec["window_end"], "minutes": minutes,
                    "source_type": "history", "reason": reason, "requested_by_id": entered.pk,
                    "requested_at": requested + timedelta(seconds=i), "decided_by_id": approver.pk,
                    "decided_at": approved, "record_id": rec["id"],
                }
                out.append((v.id, approved, order, rec, req, None))
        return out

    def _chain(self, entries: list[tuple]) -> None:
        """Sequence, link and seal every volunteer's records as ledger.services._append does, then
        write them, the chain heads, the approved requests and the points (two entries each)."""
        key = ledger_key()
        entries.sort(key=lambda e: (e[0], e[1], e[2]))
        heads: dict[int, dict] = {}
        users = {u.pk: u for u in self.users.values()}
        thresholds = rules.star_thresholds()
        for vid, _at, _order, rec, req, _plan in entries:
            head = heads.get(vid)
            if head is None:
                head = heads[vid] = LedgerChain(volunteer_id=vid, length=0, head_hash=GENESIS_HASH)
            rec["sequence"] = head.length + 1
            rec["prev_hash"] = head.head_hash
            rec["hash"] = record_hash(rec, rec["prev_hash"], key)
            before = head.verified_minutes + head.recorded_minutes
            head.length, head.head_hash = rec["sequence"], rec["hash"]
            if rec["kind"] == ServiceRecord.Kind.VERIFIED:
                head.verified_minutes += rec["minutes"]
            else:
                head.recorded_minutes += rec["minutes"]
            head.services += 1
            head.updated_at = rec["created_at"]
            after = before + rec["minutes"]
            approver = users[rec["approved_by_id"]]
            if rules.star_level(after, thresholds) > rules.star_level(before, thresholds):
                level = rules.star_level(after, thresholds)
                self._notice(vid, "star_reached", f"恭喜您成为{level}星级志愿者！",
                             f"您累计服务时长已达{after // 60}小时，感谢您的坚持与奉献。", "/me/hours/",
                             rec["created_at"])
                self._audit(approver, "ledger.star.reached", "people.volunteer", vid, self.volunteers[vid].name,
                            rec["created_at"], after={"level": level, "total_minutes": after})
            verified = rec["kind"] == ServiceRecord.Kind.VERIFIED
            self._notice(vid, "hours_settled", f"新增{'核验' if verified else '补录'}时长{rec['minutes'] / 60:g}小时",
                         f"{rec['title']}（{rec['service_date']:%Y-%m-%d}）", "/me/records/", rec["created_at"])
            text = f"{rec['title']}（{rec['minutes']}分钟）"
            snapshot = {"volunteer": vid, "sequence": rec["sequence"], "kind": rec["kind"], "title": rec["title"],
                        "minutes": rec["minutes"], "source": f"{rec['source_type']}:{rec['source_id']}",
                        "adjustment_of": None, "hash": rec["hash"]}
            if req is None:
                self._audit(approver, "ledger.verified.record", "ledger.servicerecord", rec["id"], text,
                            rec["created_at"], after=snapshot)
            else:
                self._audit(users[req["requested_by_id"]], "ledger.recorded.request", "ledger.hoursrequest",
                            req["id"], f"补录时长：{text}", req["requested_at"], note=req["reason"])
                self._audit(approver, "ledger.recorded.approve", "ledger.hoursrequest", req["id"],
                            f"补录时长：{text}", rec["created_at"], after={**snapshot, "record": rec["id"]})
        chains = []
        for head in heads.values():
            head.seal = head_seal(head, key)
            chains.append({"volunteer_id": head.volunteer_id, "length": head.length, "head_hash": head.head_hash,
                           "verified_minutes": head.verified_minutes, "recorded_minutes": head.recorded_minutes,
                           "services": head.services, "seal": head.seal, "updated_at": head.updated_at})
        self._insert(ServiceRecord, [e[3] for e in entries], "写入服务记录（哈希链）")
        self._insert(LedgerChain, chains, "写入时长链链头")
        self._insert(HoursRequest, [e[4] for e in entries if e[4] is not None], "写入补录申请")
        self._points(entries)
        records = [e[3] for e in entries]
        self.summary.verified_records = sum(1 for r in records if r["kind"] == ServiceRecord.Kind.VERIFIED)
        self.summary.recorded_records = len(records) - self.summary.verified_records

    def _points(self, entries: list[tuple]) -> None:
        """Points for every record at the configured rate (as services._points_for_record gives them),
        and the festival bonus for those who served at a festival activity: a movement, two entries."""
        issuing = ledger.issuing_account()
        rate = Decimal(self.rate.numerator) / Decimal(self.rate.denominator)
        rate = rate.quantize(Decimal("0.01"))
        movements, sides = [], []
        for _vid, _at, _order, rec, _req, _plan in entries:
            points = rules.points_for_minutes(rec["minutes"], self.rate)
            if points <= 0:
                continue
            memo = f"服务时长积分：{rec['title']}（+{_hours_text(rec['minutes'])}）"
            m = {"id": self._id(PointMovement), "kind": PointMovement.Kind.HOURS, "memo": memo[:200],
                 "record_id": rec["id"], "source_type": rec["source_type"], "source_id": rec["source_id"],
                 "rate": rate, "key": f"record:{rec['id']}", "created_by_id": rec["approved_by_id"],
                 "created_at": rec["created_at"]}
            movements.append(m)
            sides.append((m, rec["volunteer_id"], points))
        bonus = rules.bonuses().get("festival_activity")
        if bonus and bonus[1] > 0:
            label, points = bonus
            for vid, _at, _order, rec, req, p in entries:
                if p is None or req is not None or not any(self.themes[n].is_festival for n in p.theme_names):
                    continue
                aid = p.activity.pk
                m = {"id": self._id(PointMovement), "kind": PointMovement.Kind.BONUS, "memo": f"奖励积分：{label}",
                     "source_type": "activity", "source_id": str(aid), "created_at": rec["created_at"],
                     "key": f"bonus:festival_activity:{vid}:activity:{aid}"}
                movements.append(m)
                sides.append((m, vid, points))
        accounts = {}
        for _m, vid, _p in sides:
            if vid not in accounts:
                v = self.volunteers[vid]
                accounts[vid] = {"id": self._id(Account), "kind": Account.Kind.VOLUNTEER, "volunteer_id": vid,
                                 "name": f"{v.name}（{v.number}）", "created_at": v.created_at}
        self._insert(Account, list(accounts.values()), "写入积分账户")
        self._insert(PointMovement, movements, "写入积分变动")
        rows = []
        for m, vid, points in sides:
            rows.append({"id": self._id(PointEntry), "movement_id": m["id"], "account_id": issuing.pk,
                         "amount": -points})
            rows.append({"id": self._id(PointEntry), "movement_id": m["id"], "account_id": accounts[vid]["id"],
                         "amount": points})
        self._insert(PointEntry, rows, "写入积分分录（复式记账）")
        self.summary.points = sum(points for _m, _v, points in sides)

    def _write_attendances(self, plans: list[Plan]) -> None:
        A = Attendance.Status
        rows = []
        for p in plans:
            for vid, (kind, check_in, out, walk_in) in p.attendance.items():
                row = {"id": self._id(Attendance), "activity_id": p.activity.pk, "volunteer_id": vid,
                       "signup_id": None if walk_in else p.signups.get(vid), "is_walk_in": walk_in,
                       "checked_in_at": check_in, "checked_out_at": out}
                if kind == "in":
                    row["status"] = A.CHECKED_IN
                elif p.phase != Activity.Phase.SETTLED:
                    row["status"] = A.CHECKED_OUT if kind == "out" else A.AWAITING_DECISION
                else:
                    what, rec, req, note = p.outcome[vid]
                    if what == "settled":
                        row.update(status=A.SETTLED, record_id=rec["id"], minutes=rec["minutes"])
                    elif what == "recorded":
                        row.update(status=A.SETTLED, hours_request_id=req["id"], decision_note=note)
                    else:
                        row.update(status=A.NO_HOURS, minutes=0, decision_note=note)
                rows.append(row)
        self._insert(Attendance, rows, "写入签到签退")
        self.summary.attendances = len(rows)
        for p in plans:
            a = p.activity
            if p.phase == Activity.Phase.SETTLED:
                settled = sum(1 for o in p.outcome.values() if o[0] == "settled")
                self._audit(p.settler, "activity.settle", "activities.activity", a.pk, a.title, a.settled_at,
                            after={"settled": settled, "minutes": sum(o[1]["minutes"] for o in p.outcome.values()
                                                                      if o[0] == "settled"),
                                   "no_hours": sum(1 for o in p.outcome.values() if o[0] == "no_hours"),
                                   "awaiting": 0})

    # --- Through the services: what the demo accounts see first -----------------------------------

    def _stories(self, plans: list[Plan]) -> None:
        u = self.users
        stories = {p.story: p.activity for p in plans if p.story}
        dv = self.demo_volunteer
        if dv is None or not stories:
            return
        volunteer_user = u["demo-volunteer"]
        station_admin = u["demo-station"]
        # Signs up for an activity in three days, a confirmed place.
        activity_services.sign_up(volunteer_user, stories["signup"])
        # Joins a full activity's waiting list; someone cancels; moves up (and is told).
        activity_services.sign_up(volunteer_user, stories["promote"])
        first = (SignUp.objects.filter(activity=stories["promote"], status=SignUp.Status.CONFIRMED)
                 .exclude(volunteer=dv).order_by("created_at", "id").first())
        if first is not None:
            activity_services.cancel_signup(station_admin, first, reason="临时有事，由社区代为取消")
        # Waits behind two others for the lecture.
        activity_services.sign_up(volunteer_user, stories["waiting"])
        # An activity it was signed up for is called off.
        activity_services.cancel_activity(station_admin, stories["cancel"],
                                          reason="天气预报当天有大到暴雨，活动延期，另行通知。")
        # Two days ago's activity is settled now by the station admin: verified hours, points.
        activity_services.settle_activity(station_admin, stories["settle"], beneficiaries=46)
        # Paper records of services before the platform: entered by the station, approved by the centre.
        history = [
            (date(self.today.year - 3, 7, 12), "社区防汛值守（纸质台账补录）", 240),
            (date(self.today.year - 3, 10, 23), "重阳节走访高龄老人（纸质台账补录）", 180),
        ]
        for day, title, minutes in history:
            req = ledger.request_recorded_hours(
                station_admin, volunteer=dv, node=self.demo_station, title=title,
                window_start=self.at(day, 8, 30), window_end=self.at(day, 8, 30) + timedelta(minutes=minutes),
                minutes=minutes, reason="平台启用前的纸质服务台账，经核对社区签到表后补录",
                place="鼓楼亭社区新时代文明实践站", responsible_person=self.demo_station.secretary[:50],
            )
            ledger.approve_hours_request(u["demo-centre"], req, note="已核对纸质签到表")
        # One still waits for the centre's approval, and two of the neighbours' too.
        day = date(self.today.year - 2, 3, 5)
        pending = [(dv, "学雷锋日环境整治（纸质台账补录）", 150)]
        neighbours = [vid for vid in self.by_station[self.demo_station.id]
                      if vid not in (dv.id, getattr(self.demo_leader, "id", None))
                      and not self.volunteers[vid].guardian_name][:2]
        for vid in neighbours:
            pending.append((Volunteer.objects.get(pk=vid), "学雷锋日环境整治（纸质台账补录）", 150))
        for volunteer, title, minutes in pending:
            ledger.request_recorded_hours(
                station_admin, volunteer=volunteer, node=self.demo_station, title=title,
                window_start=self.at(day, 8, 30), window_end=self.at(day, 8, 30) + timedelta(minutes=minutes),
                minutes=minutes, reason="学雷锋日集中行动的纸质签到表，活动时平台尚未启用",
                place="鼓楼亭社区新时代文明实践站",
            )
        self.summary.pending_requests = len(pending)

    def _certificates(self) -> None:
        """A few service record certificates (志愿服务记录证明), through the ledger's service."""
        issue = getattr(ledger, "issue_certificate", None)
        if issue is None:
            return
        issued = 0
        dv = self.demo_volunteer
        start = self.today - timedelta(days=6 * 365)
        if dv is not None:
            dv.refresh_from_db()
            issue(self.users["demo-volunteer"], dv, start, self.today)
            issued += 1
        # The three longest-serving volunteers, issued by the centre.
        top = (LedgerChain.objects.filter(volunteer__is_demo_data=True)
               .exclude(volunteer__user__username__in=["demo-volunteer"])
               .order_by("-recorded_minutes", "volunteer_id").select_related("volunteer__station")[:3])
        for head in top:
            issue(self.users["demo-centre"], head.volunteer, start, self.today)
            issued += 1
        self.summary.certificates = issued

    def _count(self) -> None:
        now = self.now
        phases = defaultdict(int)
        for status, starts, ends in Activity.objects.filter(is_demo_data=True).values_list(
                "status", "starts_at", "ends_at"):
            phases[str(Activity(status=status, starts_at=starts, ends_at=ends).phase_at(now))] += 1
        self.summary.activities = sum(phases.values())
        self.summary.phases = dict(sorted(phases.items()))
        stars = defaultdict(int)
        verified = recorded = 0
        for v, r in LedgerChain.objects.filter(volunteer__is_demo_data=True).values_list(
                "verified_minutes", "recorded_minutes"):
            verified, recorded = verified + v, recorded + r
            level = rules.star_level(v + r)
            if level:
                stars[str(level)] += 1
        self.summary.starred = dict(sorted(stars.items()))
        self.summary.verified_hours, self.summary.recorded_hours = verified // 60, recorded // 60
        records = ServiceRecord.objects.filter(volunteer__is_demo_data=True)
        self.summary.verified_records = records.filter(kind=ServiceRecord.Kind.VERIFIED).count()
        self.summary.recorded_records = records.filter(kind=ServiceRecord.Kind.RECORDED).count()
