"""Residents' needs in the demo district: three months of the four-order loop (群众点单 → 中心派单 →
志愿者接单 → 群众评单), as the platform holds them after a season in use.

What there is, for the default 2,000 volunteers (0.25 a volunteer, at least 160):

- the need categories mapped to the six platforms and to skills (an update of configuration rows:
  only what a district left empty is filled in);
- about twenty standing services (服务清单) of the demo teams: 爱心义剪 every Saturday morning,
  家电维修, 义诊, 法律咨询, 课业辅导 …;
- about 500 needs over the last three months across the stations, in every state: waiting for
  review, approved, dispatched to a team, a volunteer, a lower node or a department, in the grab
  pool, accepted, in service, completed, closed with or without a rating, rejected, cancelled;
  some overdue, some escalated to the institute or the centre, wishes waiting on the wall and
  wishes claimed, bookings of the service menu, needs from Open311 and from an Excel import.

How: each need is played through the same transitions as `wenming.needs.services`, in memory and
with the clock of the story instead of the wall clock. A person acts before the deadline of the
step (a reviewer within the review period, a team within the accept period …) unless the story
says they miss it; a missed deadline is handled as `services.sweep` handles it, a few minutes
after it passed (the sweep runs every few minutes); a step that would fall after now does not
happen, and the story stops there, so a recent need is naturally still open. Every step writes
what the service writes: the need's fields, a timeline entry (same action, notes and public flag)
and an audit entry (same action, before/after and note). The rows are then written in bulk.

Who acts is a demo account, as the services' permission checks require: the station's, the
institute's or the centre's admin for the node handling the need (demo-station for 鼓楼亭社区,
demo-institute within 东风路街道, demo-centre elsewhere), demo-leader for the 鼓楼亭 team (the only
team leader with an account, so the only one who grabs from the pool or claims wishes),
demo-volunteer for needs dispatched to them, demo-department for 区委宣传部; residents act as
"群众". A team never holds more open needs than its capacity at any moment, as `team_may_take`
requires. Recent completions by teams carry hours awaiting a second person's approval, written as
`ledger.services.request_reported_hours` writes them.

Deterministic: the same seed and the same now give the same needs; the tracking codes come from
a stream of their own (same alphabet as the service), so they depend on the seed alone.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Max
from django.utils import timezone

from wenming.core import audit, pii
from wenming.core.models import AuditEntry, OrgNode, User
from wenming.ledger.models import HoursRequest
from wenming.ledger.services import _request_snapshot
from wenming.needs import services as loop
from wenming.needs.models import Need, NeedCategory, NeedEvent, NeedHours, ServiceOffer
from wenming.org.models import Site
from wenming.people.models import Team, TeamMembership, Volunteer

from . import names
from .activities import insert_rows

S = Need.State
SRC = Need.Source
U = Need.Urgency
NEEDS_PER_VOLUNTEER = 0.25
MIN_NEEDS, MAX_NEEDS = 160, 600
PAST_DAYS = 90
RECENT_HOURS_DAYS = 14  # completions this recent still have their hours waiting for approval
# Field types whose Python value goes to the database driver as it is (as in core.excel.bulk_insert).
PLAIN_FIELDS = {models.CharField, models.TextField, models.BooleanField, models.IntegerField, models.BigIntegerField,
                models.PositiveIntegerField, models.PositiveSmallIntegerField, models.SmallIntegerField,
                models.FloatField, models.SlugField}

# --- Categories: platform and skills -----------------------------------------------------------

# Leaf code → (platform, skills). A parent gets the platform of its first child and all their skills.
CATEGORY_MAP = {
    "elderly-visit": ("传道德习风尚", ("助老助残",)),
    "elderly-chores": ("传道德习风尚", ("助老助残", "环境整治")),
    "elderly-escort": ("传道德习风尚", ("助老助残", "医疗保健")),
    "elderly-meal": ("传道德习风尚", ("助老助残",)),
    "children-tutoring": ("传文化习礼仪", ("课业辅导",)),
    "children-care": ("传道德习风尚", ("关爱儿童", "课业辅导")),
    "children-company": ("传道德习风尚", ("关爱儿童", "心理疏导")),
    "health-clinic": ("传科技习技能", ("医疗保健",)),
    "health-checkup": ("传科技习技能", ("医疗保健",)),
    "health-rehab": ("传科技习技能", ("医疗保健", "助老助残")),
    "legal-advice": ("传法规习行为", ("法律咨询",)),
    "legal-mediation": ("传法规习行为", ("法律咨询",)),
    "culture-show": ("传文化习礼仪", ("文艺演出",)),
    "culture-training": ("传文化习礼仪", ("文艺演出", "书法绘画")),
    "culture-reading": ("传文化习礼仪", ("课业辅导", "关爱儿童")),
    "lecture-policy": ("传政策习富路", ("政策解读", "理论宣讲")),
    "lecture-story": ("传思想习理论", ("理论宣讲",)),
    "science-popular": ("传科技习技能", ("科技科普", "应急救援")),
    "science-digital": ("传科技习技能", ("科技科普", "助老助残")),
    "science-farming": ("传政策习富路", ("农业技术",)),
    "environment-cleanup": ("传道德习风尚", ("环境整治",)),
    "environment-sorting": ("传道德习风尚", ("垃圾分类", "环境整治")),
    "environment-greening": ("传道德习风尚", ("环境整治",)),
    "repair-appliance": ("传科技习技能", ("家电维修",)),
    "repair-haircut": ("传道德习风尚", ("理发", "助老助残")),
    "repair-home": ("传科技习技能", ("家电维修",)),
    "mental-counselling": ("传道德习风尚", ("心理疏导",)),
    "mental-company": ("传道德习风尚", ("心理疏导", "助老助残")),
    "other-other": ("传道德习风尚", ()),  # no skills: any team may take it
}

# How often each kind of need is raised: (leaf code, weight, weight in villages).
CATEGORY_WEIGHTS = [
    ("elderly-visit", 10, 13), ("elderly-chores", 6, 6), ("elderly-escort", 5, 4), ("elderly-meal", 4, 3),
    ("children-tutoring", 6, 5), ("children-care", 4, 4), ("children-company", 4, 7),
    ("health-clinic", 5, 6), ("health-checkup", 3, 3), ("health-rehab", 2, 2),
    ("legal-advice", 4, 4), ("legal-mediation", 3, 4),
    ("culture-show", 3, 3), ("culture-training", 3, 2), ("culture-reading", 2, 2),
    ("lecture-policy", 3, 6), ("lecture-story", 2, 2),
    ("science-popular", 3, 2), ("science-digital", 7, 4), ("science-farming", 0, 8),
    ("environment-cleanup", 5, 5), ("environment-sorting", 2, 1), ("environment-greening", 2, 2),
    ("repair-appliance", 5, 4), ("repair-haircut", 5, 4), ("repair-home", 7, 4),
    ("mental-counselling", 2, 1), ("mental-company", 3, 2), ("other-other", 2, 2),
]
GROUP_CATEGORIES = {  # needs of a whole 小区 or village: tens of people served, at a site
    "health-clinic", "health-checkup", "culture-show", "culture-training", "culture-reading", "lecture-policy",
    "lecture-story", "science-popular", "environment-cleanup", "environment-sorting", "environment-greening",
}

# --- The service menu (服务清单) ---------------------------------------------------------------

# (team name, category code, title, schedule, description). A team missing from the demo is skipped.
OFFERS = [
    ("博爱义工志愿服务队", "repair-haircut", "爱心义剪", "每周六上午",
     "为行动不便的老人、残疾人上门理发，社区便民点现场理发。"),
    ("双清区科技科普志愿服务队", "repair-appliance", "家电义务维修", "每月第一个周六",
     "义务检修电视机、洗衣机、电饭煲等小家电，只收取配件成本费。"),
    ("双清区科技科普志愿服务队", "repair-home", "水电小修小补", "工作日预约，三日内上门",
     "更换灯泡、水龙头、开关插座，疏通下水道等小修小补。"),
    ("双清区卫生健康志愿服务队", "health-clinic", "义诊进社区", "每周三上午",
     "医务志愿者为群众测血压血糖、开展健康咨询和用药指导。"),
    ("双清区卫生健康志愿服务队", "health-checkup", "血压血糖免费测", "每周一、周四上午",
     "为老年人免费测量血压、血糖，建立简易健康档案。"),
    ("双清区平安法治志愿服务队", "legal-advice", "法律咨询", "每周二下午",
     "律师、法律明白人解答婚姻家庭、劳动、土地、继承等法律问题，指导申请法律援助。"),
    ("双清区平安法治志愿服务队", "legal-mediation", "邻里纠纷调解", "预约后三日内",
     "调解邻里、家庭矛盾纠纷，小事不出村、大事不出镇。"),
    ("七彩假期志愿服务队", "children-tutoring", "课业辅导·四点半课堂", "工作日16:30—18:00",
     "大学生和退休教师志愿者辅导中小学生作业。"),
    ("七彩假期志愿服务队", "children-care", "假期托管", "寒暑假工作日",
     "寒暑假为双职工家庭和留守儿童提供看护、作业辅导和安全教育。"),
    ("七彩假期志愿服务队", "culture-reading", "绘本共读", "每周日下午",
     "志愿者给孩子们讲绘本故事，组织图书漂流。"),
    ("阳光社工志愿服务队", "mental-counselling", "心理咨询", "每周五下午",
     "持证社工、心理咨询师提供一对一心理疏导，严格保密。"),
    ("双清区“六关爱”志愿服务队", "elderly-visit", "空巢老人上门探访", "每周二、周四",
     "定期上门探望独居、空巢老人，陪聊、测血压、排查安全隐患。"),
    ("双清区“六关爱”志愿服务队", "elderly-meal", "助餐送餐", "工作日中午",
     "为高龄、失能老人从社区助餐点送餐上门。"),
    ("博爱义工志愿服务队", "elderly-escort", "陪同就医", "提前一天预约",
     "陪同老人挂号、检查、取药，就医后送老人回家。"),
    ("双清区科技科普志愿服务队", "science-digital", "智能手机教学", "每周四下午",
     "手把手教老年人用手机挂号、视频通话、医保电子凭证和防诈骗。"),
    ("双清区惠农政策宣讲志愿服务队", "science-farming", "农技指导上门", "农忙时节每周一次",
     "农技志愿者到田间地头诊断病虫害、指导种养技术。"),
    ("双清区理论宣讲志愿服务队", "lecture-story", "理论宣讲进小区", "预约后一周内",
     "宣讲员用群众听得懂的话讲党的创新理论，一场约一小时。"),
    ("双清区惠农政策宣讲志愿服务队", "lecture-policy", "惠农政策明白课", "预约后一周内",
     "进村入户讲解医保社保、耕地地力保护补贴等惠农政策。"),
    ("双清区文化文艺志愿服务队", "culture-show", "文艺演出进社区", "节假日",
     "花鼓戏、快板、合唱、广场舞，送文化到小区和村部。"),
    ("夕阳红文艺志愿服务队", "culture-training", "广场舞与书法班", "每周三晚上",
     "老年文艺骨干教广场舞、书法，一期八次课。"),
    ("双清区文明风尚志愿服务队", "environment-sorting", "垃圾分类入户指导", "每周六上午",
     "入户讲解垃圾分类，投放点值守引导。"),
    ("蓝天应急救援志愿服务队", "science-popular", "应急救护培训", "每月一期",
     "心肺复苏、海姆立克急救、防溺水和消防逃生培训。"),
]
# The demo station's own team offers what its skills allow: (skill, category, title, schedule, text).
STATION_OFFERS = [
    ("助老助残", "elderly-visit", "邻里守望·上门探访", "每周六上午", "鼓楼亭社区志愿者就近上门探望独居老人。"),
    ("关爱儿童", "children-company", "周末陪伴", "每周日下午", "陪伴留守、困境儿童读书、做游戏。"),
    ("环境整治", "environment-cleanup", "楼道清扫", "每月最后一个周六", "清理楼道杂物、打扫公共区域。"),
    ("理论宣讲", "lecture-story", "微型党课进楼栋", "每月一次", "党员志愿者在楼栋长家中讲十五分钟微型党课。"),
    ("课业辅导", "children-tutoring", "作业小帮手", "工作日晚上", "社区大学生志愿者辅导作业。"),
]

# --- Words ------------------------------------------------------------------------------------

SLOTS = {
    "elder": ["独居老人", "空巢老人", "高龄老人", "孤寡老人", "行动不便的老人", "失独老人", "残疾老人"],
    "elder_who": ["我家老人", "家里老母亲", "我父亲", "隔壁的独居奶奶", "隔壁的孤寡爷爷", "我外婆", "家中老父亲",
                  "邻居王奶奶", "五保户刘爷爷"],
    "rel": ["子女在外地打工", "儿女都在广东上班", "子女长期在外地", "老伴前年去世了", "唯一的儿子在部队",
            "女儿嫁到了外省", "子女在长沙工作，一年回来一两次"],
    "weekday": ["周一", "周二", "周三", "周四", "周五", "周六", "周日", "这周末", "下周一", "下周三"],
    "kid": ["孩子", "我家小孩", "两个孩子", "留守的孙子", "上三年级的儿子", "读初一的女儿", "外孙女"],
    "grade": ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三"],
    "subject": ["数学", "英语", "语文作文", "物理", "数学和英语"],
    "app": ["微信视频通话", "手机挂号", "医保电子凭证", "手机缴电费水费", "手机银行", "国家反诈中心App",
            "湘易办", "网上预约挂号"],
    "appliance": ["洗衣机", "电饭煲", "电视机", "电风扇", "热水器", "微波炉", "空调", "电冰箱"],
    "problem": ["不转了", "通电没反应", "没有图像", "漏水", "一开就跳闸", "有异响", "不制冷了"],
    "home_issue": ["水龙头一直滴水", "下水道堵了", "插座跳闸", "电灯开关接触不良", "马桶水箱漏水", "门锁坏了",
                   "厨房灯不亮了"],
    "disease": ["高血压", "糖尿病", "老慢支", "腰腿疼", "中风后遗症", "冠心病"],
    "legal_issue": ["拖欠工资", "房屋继承", "赡养老人", "交通事故赔偿", "租房押金不退", "网购退款", "土地承包"],
    "neighbour_issue": ["宅基地界线", "楼上漏水", "空调外机噪音", "占用公共楼道", "排水沟堵塞", "鸡鸭乱放"],
    "festival": ["重阳节", "中秋节", "春节", "端午节", "元宵节"],
    "show": ["花鼓戏", "广场舞", "快板", "合唱", "太极拳", "腰鼓"],
    "policy": ["城乡居民医保缴费", "城乡居民养老保险", "耕地地力保护补贴", "高龄津贴", "残疾人两项补贴",
               "农村危房改造", "就业创业扶持", "退役军人优待"],
    "crop": ["水稻", "柑橘", "辣椒", "油茶", "玉米", "生猪", "西瓜"],
    "spot": ["后面空地", "河边", "停车棚", "公共绿地", "菜市场旁边的巷子", "路边排水沟"],
    "floor": ["三", "四", "五", "六", "七"],
}

TEXTS = {
    "elderly-visit": [
        "{elder}，今年{age}岁，{rel}，平时很少有人说话，希望每周有志愿者上门陪聊。",
        "独居老人希望每周有人上门陪聊，顺便看看身体情况。老人住{floor}楼，{rel}。",
        "我母亲{age}岁了，{rel}，我在外地工作，想请志愿者{weekday}上门看看她，陪她说说话。",
        "{elder_who}腿脚不好很少下楼，想请志愿者定期上门探访，帮忙量量血压。",
        "{festival}快到了，{elder}一个人过节，希望有志愿者来陪老人吃顿饭、聊聊天。",
        "城:楼上住着一位{age}岁的{elder}，这几天没见他出门，请志愿者上门看看。",
    ],
    "elderly-chores": [
        "{elder}，{rel}，家里很久没有大扫除了，想请志愿者帮忙打扫卫生、擦擦窗户。",
        "{elder_who}行动不便，被子床单没法自己洗，希望有人帮忙拆洗一下。",
        "老人家里杂物堆得多，有消防隐患，想请志愿者帮忙整理清运。",
        "{festival}前想给{elder}家里做一次大扫除，老人住{floor}楼，没有电梯。",
        "{elder_who}眼睛不好，换季的衣物被褥整理不过来，请志愿者搭把手。",
    ],
    "elderly-escort": [
        "{elder_who}{age}岁，有{disease}，{weekday}要去市中心医院复查，家里没人陪，想请志愿者陪同就医。",
        "老人要去医院做检查，不会用手机挂号，也看不懂指示牌，希望有志愿者全程陪同。",
        "{elder}每月要去医院开药，{rel}，想请志愿者陪同，帮忙排队取药。",
        "父亲刚出院，{weekday}要回医院换药，我上班走不开，请志愿者帮忙陪一下。",
    ],
    "elderly-meal": [
        "{elder}一个人做饭不方便，想问社区助餐点能不能每天送餐上门。",
        "{elder_who}{age}岁，有{disease}，需要清淡饮食，希望志愿者帮忙送午餐。",
        "老人腿摔伤了，近一个月没法下楼买菜做饭，请志愿者帮忙送餐。",
    ],
    "children-tutoring": [
        "{kid}上{grade}，{subject}跟不上，家长不会辅导，想请志愿者每周辅导两次作业。",
        "双职工家庭，{kid}放学后没人辅导作业，希望能参加“四点半课堂”。",
        "孩子读{grade}，{subject}成绩下滑，想找大学生志愿者周末帮忙补一补。",
        "留守儿童，跟着爷爷奶奶生活，{subject}作业没人辅导，请志愿者帮帮忙。",
    ],
    "children-care": [
        "孩子暑假无人看管，父母都要上班，希望社区能组织托管。",
        "寒假{kid}一个人在家，担心安全，想报名假期托管班。",
        "我们是双职工，{kid}{weekday}下午没人照看，希望有志愿者帮忙看护两小时。",
        "村:村里留守孩子多，希望组织防溺水安全教育和假期托管。",
    ],
    "children-company": [
        "留守儿童，父母在外地打工，孩子性格内向，希望有志愿者姐姐定期陪伴。",
        "{kid}跟着奶奶生活，想要一些课外书和学习用品。",
        "孩子过生日，父母不在身边，希望志愿者能陪他过个生日。",
        "单亲家庭，孩子最近不爱说话，希望有志愿者多陪他聊聊。",
    ],
    "health-clinic": [
        "城:小区老人多，{disease}患者不少，希望能组织一次义诊进小区。",
        "{elder_who}有{disease}，想请医生志愿者上门看看，调整一下用药。",
        "村:村里离卫生院远，希望医疗志愿者来村里义诊，量量血压血糖。",
        "想咨询{disease}日常用药和饮食注意事项，希望有医生志愿者解答。",
    ],
    "health-checkup": [
        "希望组织一次老年人免费健康体检，测血压、血糖、心电图。",
        "{elder}行动不便，想请志愿者上门帮忙测一下血压血糖。",
        "想给{here}独居老人建立健康档案，需要医护志愿者帮忙做基础检查。",
    ],
    "health-rehab": [
        "{elder_who}中风后在家康复，家人不懂康复训练方法，希望有康复师上门指导。",
        "父亲腿骨折术后恢复，想请志愿者指导康复锻炼。",
        "老人腰腿疼多年，想学几套适合在家做的康复操。",
    ],
    "legal-advice": [
        "遇到{legal_issue}的问题，不知道怎么维权，想咨询律师志愿者。",
        "想咨询{legal_issue}方面的法律问题，希望有法律志愿者解答。",
        "老人想立遗嘱，不知道需要哪些手续，请法律志愿者指导。",
        "在外务工被拖欠工资，想了解怎么申请法律援助。",
    ],
    "legal-mediation": [
        "和邻居因为{neighbour_issue}闹了矛盾，希望有人出面调解。",
        "家里兄弟几个因为老人赡养问题有矛盾，想请调解志愿者帮忙。",
        "楼上漏水到我家，协商多次没有结果，请求调解。",
    ],
    "culture-show": [
        "{festival}快到了，{here}想办一场文艺演出，希望文艺志愿者来表演{show}。",
        "村:村里老人喜欢看{show}，希望送文化下乡来村里演一场。",
        "社区办敬老活动，想请文艺志愿者来表演几个节目。",
    ],
    "culture-training": [
        "{here}的阿姨们想学{show}，希望有老师志愿者来教。",
        "想学书法，希望社区开一个书法兴趣班。",
        "老年朋友想学{show}，希望志愿者每周来教一次。",
    ],
    "culture-reading": [
        "村:农家书屋的书比较旧了，希望组织一次图书捐赠和阅读分享。",
        "想给孩子们办一个周末绘本阅读会，需要志愿者讲故事。",
        "村:村里孩子课外书少，希望有志愿者来组织读书活动。",
    ],
    "lecture-policy": [
        "想了解今年{policy}政策，希望有人来{here}讲一讲。",
        "对{policy}政策不太清楚，希望宣讲志愿者来{here}讲解。",
        "村:村民想知道{policy}怎么申请，请政策宣讲员上门解读。",
    ],
    "lecture-story": [
        "社区想请身边好人来讲讲自己的故事，给居民上一堂道德讲堂。",
        "希望组织一次“微型党课”进{here}，给老党员讲讲新精神。",
        "村:村里想办一场百姓宣讲，讲讲乡村振兴的新变化。",
    ],
    "science-popular": [
        "老人最近老接到诈骗电话，希望组织一次防范电信诈骗的讲座。",
        "想给孩子们办一场科学实验课，激发学习兴趣。",
        "希望有志愿者来讲讲消防安全和应急逃生知识。",
        "暑假快到了，想给孩子们上一堂防溺水安全课。",
    ],
    "science-digital": [
        "想学用智能手机挂号，每次去医院都要排很久的队。",
        "{elder_who}想学用{app}，希望志愿者耐心教一教。",
        "老人不会用手机，想学{app}，子女不在身边没人教。",
        "希望社区开一期老年人智能手机培训班，教大家用{app}。",
    ],
    "science-farming": [
        "今年{crop}长势不好，叶子发黄，希望农技志愿者来地里看看。",
        "想扩大{crop}种植，希望有农技人员指导技术。",
        "{crop}出现了病虫害，想请农技人员上门指导防治。",
    ],
    "environment-cleanup": [
        "{here}{spot}垃圾堆了好几天没人清理，希望组织志愿者清扫。",
        "村:村里{spot}杂草丛生，希望组织一次环境整治。",
        "城:楼道里堆满杂物，有消防隐患，希望志愿者帮忙清理。",
    ],
    "environment-sorting": [
        "{here}刚开始垃圾分类，很多居民不会分，希望有志愿者来指导。",
        "希望志愿者在垃圾投放点值守，引导居民分类投放。",
    ],
    "environment-greening": [
        "城:小区绿化带缺了很多苗，希望组织居民和志愿者一起补种。",
        "村:村口空地想建个小花园，希望志愿者帮忙美化。",
    ],
    "repair-appliance": [
        "家里{appliance}{problem}，老人自己修不了，希望志愿者上门看看。",
        "{elder}家的{appliance}坏了，想请家电维修志愿者帮忙修一下。",
        "{appliance}{problem}，送去修太远，请志愿者上门维修。",
    ],
    "repair-haircut": [
        "{elder_who}行动不便出不了门，想请志愿者上门理发。",
        "{elder}头发很长了，希望爱心义剪志愿者上门服务。",
        "想给家里瘫痪在床的老人理个发，请志愿者帮忙。",
    ],
    "repair-home": [
        "城:楼道灯坏了需要维修，晚上上下楼很不安全。",
        "家里{home_issue}，老人自己弄不了，想请志愿者帮忙。",
        "{elder}家{home_issue}，请志愿者上门修理。",
        "城:单元楼道的声控灯坏了一个多月，老人晚上摸黑上楼，希望尽快修好。",
    ],
    "mental-counselling": [
        "孩子马上中考，压力很大，晚上睡不着，想找心理咨询志愿者聊聊。",
        "家里老人老伴去世后情绪低落，希望有心理志愿者疏导。",
        "最近失业了，心情很差，想找人倾诉一下。",
    ],
    "mental-company": [
        "{elder}，{rel}，常常一个人掉眼泪，希望有志愿者多陪陪她。",
        "老人刚确诊阿尔茨海默病，家属压力大，希望有人陪伴和指导。",
        "残疾人朋友长期待在家里，希望有志愿者定期陪伴聊天。",
    ],
    "other-other": [
        "家里有些旧衣物想捐给有需要的人，希望社区帮忙联系。",
        "希望在{here}路口加装几个休息座椅，方便老人歇脚。",
        "想给{elder}申请一个爱心呼叫器，不知道找谁办理。",
    ],
}
# 微心愿: (category code, text).
WISHES = [
    ("children-company", "留守儿童{child}的微心愿：想要一个新书包和一套文具。"),
    ("children-company", "{child}的微心愿：想要一套《十万个为什么》。"),
    ("children-company", "{child}的微心愿：想要一双新运动鞋，参加学校运动会。"),
    ("children-company", "{child}的微心愿：想要一个篮球，和小伙伴一起打球。"),
    ("children-company", "困境儿童{child}的微心愿：想要一盏护眼台灯写作业。"),
    ("elderly-visit", "{age}岁的{elder}的微心愿：想要一台收音机，每天听听新闻和花鼓戏。"),
    ("elderly-visit", "{elder}的微心愿：希望冬天有一床厚棉被。"),
    ("elderly-visit", "{elder}的微心愿：想要一副老花镜，看得清手机上的字。"),
    ("elderly-visit", "{age}岁的{elder}的微心愿：想拍一张照片寄给在外打工的儿子。"),
    ("elderly-meal", "{elder}的微心愿：想要一个电饭煲。"),
    ("culture-reading", "村:村小学孩子们的微心愿：希望教室里有一个图书角。"),
    ("other-other", "困难家庭的微心愿：希望有一台旧电脑给孩子上网课。"),
]
WISH_REPORTS = ["志愿者把心愿物品送到了群众手中，心愿已圆梦。", "队员们凑钱买好心愿礼物，上门送到，还拍了合影。",
                "心愿礼物已送达，志愿者与家庭结成了长期帮扶对子。"]

REPORTS = {
    "elderly-visit": "志愿者{n}人上门探望，陪老人聊天一个多小时，帮忙量了血压，约好下周再来。",
    "elderly-chores": "志愿者{n}人上门打扫卫生、擦洗门窗、拆洗被褥，清理杂物{k}袋。",
    "elderly-escort": "志愿者陪同老人到医院挂号、检查、取药，全程约{k}小时，已安全送老人回家。",
    "elderly-meal": "已与社区助餐点对接，志愿者每天中午送餐上门，首周送餐{k}次。",
    "children-tutoring": "志愿者每周两次辅导作业，已辅导{k}次，孩子作业完成情况明显好转。",
    "children-care": "托管已安排，志愿者{n}人轮流看护，开展作业辅导和安全教育。",
    "children-company": "志愿者上门陪伴孩子，送去课外书和文具，与孩子结成长期帮扶对子。",
    "health-clinic": "医疗志愿者{n}人开展义诊，为{p}名群众测量血压血糖、提供用药指导。",
    "health-checkup": "为{p}名群众测量血压、血糖，建立健康档案，对指标异常的{k}人建议就医复查。",
    "health-rehab": "康复志愿者上门指导康复训练，教会家属{k}个动作，约定两周后回访。",
    "legal-advice": "律师志愿者当面解答咨询，帮助梳理证据材料，告知维权途径和法律援助申请方式。",
    "legal-mediation": "调解志愿者组织双方面对面协商，达成和解，签订了调解协议。",
    "culture-show": "文艺志愿者{n}人演出节目{k}个，观众约{p}人。",
    "culture-training": "开课{k}次，参加群众约{p}人。",
    "culture-reading": "组织读书分享会，捐赠图书{k}0册，{p}名孩子参加。",
    "lecture-policy": "宣讲员进村入户讲解政策，发放宣传资料{k}0份，{p}名群众参加，现场解答问题{k}个。",
    "lecture-story": "开展宣讲{k}场，{p}名群众参加。",
    "science-popular": "开展科普讲座，{p}名群众参加，发放宣传资料{k}0份。",
    "science-digital": "志愿者手把手教老人使用手机，已学会挂号和视频通话。",
    "science-farming": "农技志愿者到田间查看，诊断为{dx}，现场指导用药和管护。",
    "environment-cleanup": "志愿者{n}人清理垃圾{k}车，环境焕然一新，{p}户居民受益。",
    "environment-sorting": "志愿者在投放点值守{k}天，入户宣传{p}户。",
    "environment-greening": "补种绿植{k}0株，{p}名居民一同参与。",
    "repair-appliance": "志愿者上门检修，更换了损坏的零件，电器已恢复正常使用。",
    "repair-haircut": "志愿者上门为老人理发，顺便帮忙修剪了指甲。",
    "repair-home": "志愿者上门维修，更换了配件，已恢复正常使用。",
    "mental-counselling": "心理志愿者进行了{k}次谈话疏导，情绪明显好转，约定持续跟进。",
    "mental-company": "志愿者每周上门陪伴一次，已陪伴{k}次。",
    "other-other": "已协调办理，群众表示满意。",
}
# Services that go on for days once started (weekly visits, tutoring, meals …): in service for a while.
ONGOING = {"elderly-visit", "elderly-meal", "children-tutoring", "children-care", "children-company",
           "mental-company", "mental-counselling", "health-rehab"}
DIAGNOSES = ["缺肥引起的黄化", "稻飞虱为害", "炭疽病", "红蜘蛛为害", "根腐病"]

COMMENTS = {
    5: ["志愿者很耐心，非常感谢！", "服务很及时，点赞！", "小伙子们辛苦了，谢谢！", "态度好，手艺也好", "",
        "太感谢了，解决了大问题", "老人很开心，谢谢志愿者", "", "比预想的快，满意"],
    4: ["服务不错，就是来得晚了一点", "总体满意", "挺好的，希望以后多来", "", "有帮助，谢谢"],
    3: ["约好的时间推迟了两次", "问题只解决了一部分", "一般吧，沟通不太及时"],
    2: ["等了好几天才有人联系", "服务有点敷衍，没讲清楚"],
    1: ["问题没有解决，来看了一眼就走了"],
}
STAR_WEIGHTS = [(5, 62), (4, 25), (3, 8), (2, 3), (1, 2)]
# (categories it fits, by code prefix; "" fits all, "城" only 社区), reason.
REJECT_REASONS = [
    ("", "与已受理的需求重复，已合并处理"),
    ("", "联系电话无法接通，需求信息无法核实"),
    ("", "超出志愿服务范围，已转交村（居）委会协调"),
    ("城", "属于物业管理范围，已告知群众联系物业公司处理"),
    ("repair", "涉及商业维修，建议联系专业维修机构"),
    ("repair", "属于12345政务服务便民热线受理范围，已告知群众拨打12345"),
    ("environment", "属于12345政务服务便民热线受理范围，已告知群众拨打12345"),
    ("health", "涉及医疗诊断，已建议群众前往社区卫生服务中心就诊"),
    ("elderly", "需长期专业护理，已协助联系居家养老服务机构"),
    ("legal", "涉及诉讼代理，已引导群众向法律援助中心申请"),
]
CANCEL_BY_RESIDENT = ["问题已经自己解决了", "家人已经安排好了", "时间有变，暂时不需要了", "已经找物业处理了",
                      "老人住院了，暂时不需要"]
CANCEL_BY_HANDLER = ["群众来电告知不再需要", "与另一条需求重复", "群众已搬离本社区"]
DECLINE_REASONS = ["本周队员都有任务，人手不足", "该时段无法安排志愿者", "距离较远，建议派给就近队伍",
                   "队员临时有事，无法按期服务"]
DISPATCH_NOTES = ["", "", "", "请先电话联系群众", "就近安排", "请按约定时间到达", "需两名志愿者"]
ELDERLY_NOTE = "老人行动不便，请上门服务"
APPROVE_NOTES = ["", "", "", "", "情况属实", "已电话核实", "请尽快安排"]
ESTATES = ["建设", "光明", "东风", "幸福", "和平", "人民", "新华", "宝庆", "资江", "城南"]
HOURS_OF_DAY = [(7, 3), (8, 8), (9, 12), (10, 12), (11, 8), (12, 4), (13, 4), (14, 8), (15, 9), (16, 8), (17, 6),
                (18, 5), (19, 6), (20, 5), (21, 3), (22, 1)]
DEPARTMENT_FOR = {"elderly": "区民政局", "children": "区妇联", "health": "区卫健局", "legal": "区司法局",
                  "environment": "区城管局", "culture": "区文旅广体局", "science": "区科协", "repair": "区城管局",
                  "mental": "区卫健局", "lecture": "区委宣传部", "other": "区民政局"}
PROPAGANDA = "区委宣传部"  # the demo department account's department


class Stop(Exception):
    """The next step would happen after now: the story ends where it is."""


@dataclass
class Spec:
    """One need before its story is played: who raises it, where, what, and how it should go."""

    station: OrgNode
    category: NeedCategory
    created: datetime
    source: str
    description: str
    urgency: str
    wished_at: datetime | None
    is_wish: bool = False
    offer: ServiceOffer | None = None
    # The story: how far it goes and how.
    outcome: str = "serve"  # serve | reject | cancel
    cancel_at: str = ""  # submitted | approved | dispatched
    stop: str = ""  # submit | approve | dispatch | accept | start | complete: stop after this step
    review_misses: int = 0
    mode: str = "team"  # team | menu | pool | grab | claim | volunteer | volunteer_miss | department | dept_miss | node
    team: Team | None = None  # a team the story must use (the demo team)
    decline: bool = False
    accept_miss: bool = False
    late: bool = False
    start: bool = True
    rate: bool = True
    quick: bool = False  # forced recent stories: short delays, no waiting for the morning


@dataclass
class NeedSummary:
    needs: int = 0
    states: dict = field(default_factory=dict)
    overdue: int = 0
    escalated: int = 0
    wishes_on_wall: int = 0
    wishes_claimed: int = 0
    in_pool: int = 0
    offers: int = 0
    events: int = 0
    hours: int = 0
    sources: dict = field(default_factory=dict)
    elapsed: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _fits_place(template: str, station: OrgNode) -> bool:
    village = station.name.endswith("村")
    return not template.startswith("村:" if not village else "城:")


class Story:
    """One need played through the transitions of `needs.services`, on the story's clock."""

    def __init__(self, b: NeedBuilder, spec: Spec, need_id: int, code: str, contact: tuple, place: tuple):
        self.b, self.spec, self.rng = b, spec, b.rng
        self.events: list[dict] = []
        self.audit: list[dict] = []
        self.hours: list[tuple] = []  # (volunteer id, minutes, actor)
        self.holds: list[tuple] = []  # (team id, start, end or None)
        self._hold: tuple | None = None
        name, phone = contact
        address, lat, lng = place
        offer = spec.offer
        by = b.submitter(spec)
        # The source as submit_need settles it: a booking is 服务清单预约, a resident's wish 微心愿.
        source = spec.source
        if offer is not None and source in (SRC.PUBLIC, SRC.PROXY):
            source = SRC.MENU
        if spec.is_wish and spec.source == SRC.PUBLIC:
            source = SRC.WISH
        n = Need(
            id=need_id, code=code, category=spec.category, description=spec.description, station=spec.station,
            node=spec.station, address=address, lat=lat, lng=lng, contact_name=name,
            phone_enc=pii.encrypt(phone), phone_index=pii.blind_index(phone, "phone"),
            phone_masked=pii.mask_phone(phone), wished_at=spec.wished_at, urgency=spec.urgency,
            source=source, is_wish=spec.is_wish, offer=offer, requested_team=offer.team if offer else None,
            entered_by=by, created_at=spec.created, deadline=spec.created + loop.review_period(),
        )
        n.is_demo_data = True
        self.n, self.t = n, spec.created
        note = f"预约服务：{offer.title}（{offer.team.name}）" if offer else ""
        self._event(by, "submitted", "", note)
        self._audit(by, "need.submitted", None, loop._snapshot(n), b.source_labels[source])

    # --- The clock -----------------------------------------------------------------------------

    def later(self, lo: float, hi: float, *, day: bool = True) -> datetime:
        """When someone acts next: lo–hi hours after the last step, before the step's deadline
        (Stop when that is after now)."""
        n, b = self.n, self.b
        if self.spec.quick:  # a story that must reach its state by now: everyone answers within the hour
            lo, hi, day = lo / 10, min(hi / 10, 0.75), False
        earliest = self.t + timedelta(seconds=30)
        limit = n.deadline - timedelta(minutes=2) if n.deadline else None
        t = self.t + timedelta(hours=self.rng.uniform(lo, hi))
        if limit is not None and t > limit:
            t = earliest + (limit - earliest) * self.rng.random() if limit > earliest else earliest
        if day:
            t = b.daytime(t, limit)
        if t > b.now:
            raise Stop
        return t

    def at(self, t: datetime) -> datetime:
        """A planned moment (a wished-for time), kept after the last step and before the deadline."""
        limit = self.n.deadline - timedelta(minutes=2) if self.n.deadline else None
        t = max(t, self.t + timedelta(seconds=30))
        if limit is not None and t > limit:
            t = max(limit, self.t + timedelta(seconds=30))
        if t > self.b.now:
            raise Stop
        return t

    def miss(self) -> None:
        """Nobody acts in time: the sweep handles the missed deadline a few minutes after it."""
        if self.n.deadline is None:
            return
        at = self.b.sweep_time(self.n.deadline)
        if at > self.b.now:
            raise Stop
        self._sweep(at)

    def finish(self) -> None:
        """Every sweep that has run by now."""
        while self.n.deadline is not None:
            at = self.b.sweep_time(self.n.deadline)
            if at > self.b.now:
                break
            self._sweep(at)
        if self._hold is not None:
            self.holds.append((*self._hold, None))
            self._hold = None

    # --- Writing a step (services._save, _event, audit.record) ---------------------------------

    def _event(self, by, action: str, from_state: str, note: str = "", public: bool = True) -> None:
        self.events.append({
            "need_id": self.n.id, "at": self.t, "action": action, "from_state": from_state, "to_state": self.n.state,
            "actor_id": by.pk if isinstance(by, User) else None, "actor_label": loop._label(by), "note": note[:500],
            "public": public,
        })

    def _audit(self, by, action: str, before, after, note: str = "") -> None:
        actor = by if isinstance(by, User) else None
        self.audit.append({
            "at": self.t, "actor_id": actor.pk if actor else None, "actor_name": str(actor) if actor else "系统",
            "action": action, "object_type": "needs.need", "object_id": str(self.n.id),
            "object_repr": f"{self.n.code} {self.n.category.name}"[:200], "before": before, "after": after,
            "note": note[:500], "ip": None,
        })

    def _save(self, at: datetime, by, action: str, before: dict, note: str = "", *, public: bool = True) -> None:
        self.t = at
        self._track_hold()
        self._event(by, action, before["state"], note, public)
        old, new = audit.diff(before, loop._snapshot(self.n))
        self._audit(by, f"need.{action}", old, new, note)

    def _track_hold(self) -> None:
        """The team holding the need (dispatched, accepted, in service) and since when."""
        n = self.n
        holder = n.team_id if n.team_id and n.state in Need.HELD_STATES else None
        current = self._hold[0] if self._hold else None
        if holder != current:
            if self._hold is not None:
                self.holds.append((*self._hold, self.t))
            self._hold = (holder, self.t) if holder else None

    # --- The transitions (as in needs.services) ------------------------------------------------

    def approve(self, at: datetime, by, note: str = "") -> None:
        n, before = self.n, loop._snapshot(self.n)
        n.state, n.approved_at, n.overdue = S.APPROVED, at, False
        n.deadline = at + loop.dispatch_period(n)
        self._save(at, by, "approved", before, note)
        if n.requested_team_id:
            self.dispatch(at + timedelta(seconds=1), by, team=n.requested_team, note="按预约的服务清单派单")

    def reject(self, at: datetime, by, reason: str) -> None:
        n, before = self.n, loop._snapshot(self.n)
        n.state, n.reason, n.deadline, n.closed_at = S.REJECTED, reason, None, at
        self._save(at, by, "rejected", before, f"{n.node.name}驳回：{reason}")

    def _clear(self) -> None:
        n = self.n
        n.team = n.volunteer = n.to_node = n.department = None
        n.in_pool = False

    def dispatch(self, at: datetime, by, *, team=None, volunteer=None, node=None, department=None,
                 note: str = "") -> None:
        n, before = self.n, loop._snapshot(self.n)
        self._clear()
        if team is not None:
            n.team, label = team, team.name
        elif volunteer is not None:
            n.volunteer, label = volunteer, str(volunteer.name)
        elif node is not None:
            assert node.path.startswith(n.node.path) and node.pk != n.node_id
            n.to_node, label = node, node.name
        else:
            n.department, label = department, department.name
        n.state, n.dispatched_at, n.dispatched_by, n.overdue = S.DISPATCHED, at, by, False
        n.deadline = at + loop.accept_period()
        self._save(at, by, "dispatched", before, f"派单给{label}" + (f"：{note}" if note else ""))

    def publish(self, at: datetime, by, note: str = "") -> None:
        n, before = self.n, loop._snapshot(self.n)
        self._clear()
        n.state, n.in_pool, n.dispatched_at, n.dispatched_by = S.DISPATCHED, True, at, by
        n.deadline, n.overdue = at + loop.accept_period(), False
        self._save(at, by, "published", before, "发布到抢单池" + (f"：{note}" if note else ""))

    def grab(self, at: datetime, by, team: Team) -> None:
        n, before = self.n, loop._snapshot(self.n)
        n.in_pool, n.team = False, team
        n.state, n.accepted_at, n.overdue = S.ACCEPTED, at, False
        n.deadline = loop._finish_deadline(n, at)
        self._save(at, by, "grabbed", before, f"{team.name}抢单成功")

    def claim(self, at: datetime, by, team: Team) -> None:
        self.dispatch(at, by, team=team, note="认领微心愿")
        self.accept(at + timedelta(seconds=1), by, "claimed", f"{team.name}认领心愿")

    def accept(self, at: datetime, by, action: str = "accepted", note: str = "") -> None:
        n, before = self.n, loop._snapshot(self.n)
        if n.to_node_id:
            lower = n.to_node
            n.node, n.to_node = lower, None
            n.state, n.overdue, n.deadline = S.APPROVED, False, at + loop.dispatch_period()
            self._save(at, by, "accepted", before, note or f"{lower.name}接收，继续派单")
            return
        n.state, n.accepted_at, n.overdue = S.ACCEPTED, at, False
        n.deadline = loop._finish_deadline(n, at)
        self._save(at, by, action, before, note)

    def decline(self, at: datetime, by, reason: str) -> None:
        n = self.n
        label, before = n.assignee_label, loop._snapshot(n)
        self._clear()
        n.state, n.deadline, n.overdue = S.APPROVED, at + loop.dispatch_period(), False
        self._save(at, by, "declined", before, f"{label}拒单：{reason}")

    def start_service(self, at: datetime, by) -> None:
        n, before = self.n, loop._snapshot(self.n)
        n.state = S.IN_SERVICE
        self._save(at, by, "started", before)

    def complete(self, at: datetime, by, report: str, people: int | None, hours: list[tuple[int, int]]) -> None:
        n, before = self.n, loop._snapshot(self.n)
        n.state, n.completed_at, n.report, n.people_served = S.COMPLETED, at, report, people
        n.deadline, n.overdue = at + loop.rating_period(), False
        self._save(at, by, "completed", before, report[:200])
        self.hours = [(vid, minutes, by) for vid, minutes in hours]

    def rate(self, at: datetime, stars: int, comment: str, by=None) -> None:
        n, before = self.n, loop._snapshot(self.n)
        n.state, n.stars, n.comment, n.rated_at, n.closed_at = S.CLOSED, stars, comment, at, at
        n.deadline = None
        self._save(at, by, "rated", before, f"{stars}星" + (f"：{comment}" if comment else ""))

    def cancel(self, at: datetime, reason: str, by=None) -> None:
        n, before = self.n, loop._snapshot(self.n)
        self._clear()
        n.state, n.reason, n.deadline, n.closed_at = S.CANCELLED, reason, None, at
        self._save(at, by, "cancelled", before, reason)

    def _sweep(self, at: datetime) -> None:
        """services._sweep_one, run at `at`."""
        n, before = self.n, loop._snapshot(self.n)
        system = loop.SYSTEM
        if n.state in (S.SUBMITTED, S.APPROVED):
            n.overdue = True
            parent = self.b.parent.get(n.node_id)
            stage = "审核" if n.state == S.SUBMITTED else "派单"
            if parent is None:
                n.deadline = None
                self._save(at, system, "overdue", before, f"{stage}超时", public=False)
            else:
                n.escalations += 1
                n.node = parent
                n.deadline = at + (loop.review_period() if n.state == S.SUBMITTED else loop.dispatch_period(n))
                self._save(at, system, "escalated", before, f"{stage}超时，升级至{parent.name}办理")
        elif n.state == S.DISPATCHED:
            label = n.assignee_label
            self._clear()
            n.state, n.overdue, n.deadline = S.APPROVED, True, at + loop.dispatch_period()
            self._save(at, system, "accept_missed", before, f"{label}未在时限内接单，退回改派")
        elif n.state in (S.ACCEPTED, S.IN_SERVICE):
            n.overdue, n.deadline = True, None
            self._save(at, system, "overdue", before, "未在时限内完成服务", public=False)
        elif n.state == S.COMPLETED:
            n.state, n.closed_at, n.deadline = S.CLOSED, at, None
            self._save(at, system, "closed_unrated", before, "群众未在时限内评价，自动办结")


class NeedBuilder:
    """Adds the service menu and three months of needs to a freshly built demo district."""

    def __init__(self, district):
        self.d = district
        self.seed = district.seed
        self.rng = random.Random(district.seed + 5)
        self.code_rng = random.Random(district.seed + 6)  # codes depend on the seed alone
        self.now = timezone.now()
        self.tz = timezone.get_default_timezone()
        self.summary = NeedSummary()
        self.ids: dict = {}
        self.holds: dict[int, list[tuple]] = defaultdict(list)  # team id → [(start, end or None)]
        self.codes: set[str] = set()

    # --- The whole -----------------------------------------------------------------------------

    def build(self) -> NeedSummary:
        if Need.objects.filter(is_demo_data=True).exists() or ServiceOffer.objects.filter(is_demo_data=True).exists():
            return self.summary
        started = time.monotonic()
        self._categories()
        self._context()
        self._offers()
        specs = self._plan()
        task = self.d.progress.add_task("群众点单（四单闭环）", total=len(specs))
        stories = []
        for spec in specs:
            stories.append(self._play(spec))
            self.d.progress.advance(task)
        self._write(stories)
        self._count(stories)
        self.summary.elapsed = round(time.monotonic() - started, 3)
        return self.summary

    # --- Categories ----------------------------------------------------------------------------

    def _categories(self) -> None:
        """Platform and skills for the default categories, where the district left them empty."""
        platforms, skills = self.d.platforms, self.d.skills
        cats = {c.code: c for c in NeedCategory.objects.all()}
        Through = NeedCategory.skills.through
        has_skills = set(Through.objects.values_list("needcategory_id", flat=True))
        parents: dict[str, tuple[str, list[str]]] = {}
        for code, (platform, wanted) in CATEGORY_MAP.items():
            parent = code.split("-")[0]
            first, union = parents.get(parent, (platform, []))
            parents[parent] = (first, union + [s for s in wanted if s not in union])
        wanted_all = {**CATEGORY_MAP, **{code: (p, tuple(s)) for code, (p, s) in parents.items()}}
        links = []
        for code, (platform, wanted) in wanted_all.items():
            cat = cats.get(code)
            if cat is None:
                continue
            if cat.platform_id is None and platform in platforms:
                NeedCategory.objects.filter(pk=cat.pk, platform=None).update(platform=platforms[platform])
            if cat.pk not in has_skills:
                links += [Through(needcategory_id=cat.pk, skill_id=skills[s].pk) for s in wanted if s in skills]
        Through.objects.bulk_create(links, ignore_conflicts=True)

    # --- What there is -------------------------------------------------------------------------

    def _context(self) -> None:
        d = self.d
        self.users = {u.username: u for u in d.summary.accounts}
        self.centre = d.centre
        self.demo_station = d.station_by_name["鼓楼亭社区"]
        self.demo_institute = d.institutes["东风路街道"]
        self.parent: dict[int, OrgNode] = {}  # the node above (the sweep escalates to it)
        for inst in d.institutes.values():
            self.parent[inst.id] = self.centre
            for st in d.stations.values():
                if st.path.startswith(inst.path):
                    self.parent[st.id] = inst
        self.stations = sorted(d.stations.values(), key=lambda s: s.division_code)
        leaves = NeedCategory.objects.filter(active=True, parent__isnull=False, parent__active=True)
        self.categories = {c.code: c for c in leaves.select_related("parent")}
        self.category_skills: dict[int, set[int]] = defaultdict(set)
        for cid, sid in NeedCategory.skills.through.objects.values_list("needcategory_id", "skill_id"):
            self.category_skills[cid].add(sid)
        self.sites: dict[int, list[Site]] = defaultdict(list)
        for site in Site.objects.filter(is_demo_data=True).order_by("id"):
            self.sites[site.node_id].append(site)
        self.teams = list(Team.objects.filter(is_demo_data=True).select_related("node", "leader").order_by("id"))
        self.team_by_name = {t.name: t for t in self.teams}
        self.team_by_id = {t.id: t for t in self.teams}
        self.team_skills: dict[int, set[int]] = defaultdict(set)
        for tid, sid in Team.skills.through.objects.filter(team__is_demo_data=True).values_list("team_id", "skill_id"):
            self.team_skills[tid].add(sid)
        self.team_rows = [(t, t.node.path, self.team_skills[t.id]) for t in self.teams]
        self._eligible: dict[tuple, list[Team]] = {}
        self.station_weights = [6 if s.id == self.demo_station.id else 2 if s.is_demonstration else 1
                                for s in self.stations]
        self.source_labels = {value: str(label) for value, label in Need.Source.choices}
        self.members: dict[int, list[int]] = defaultdict(list)
        for tid, vid in TeamMembership.objects.filter(team__is_demo_data=True).order_by(
                "team_id", "volunteer_id").values_list("team_id", "volunteer_id"):
            self.members[tid].append(vid)
        # Volunteers with an account of their own (demo-leader's and demo-volunteer's records).
        linked = dict(Volunteer.objects.filter(is_demo_data=True, user__isnull=False).values_list("id", "user_id"))
        self.own_records = defaultdict(set)  # user id → the volunteer records of that account
        for vid, uid in linked.items():
            self.own_records[uid].add(vid)
        self.skill_names = {s.pk: name for name, s in d.skills.items()}
        self.demo_volunteer = next(
            (v for v in d.volunteers if linked.get(v.id) == self.users["demo-volunteer"].pk), None)
        leader_user = self.users["demo-leader"]
        self.demo_team = next((t for t in self.teams if t.leader_id and linked.get(t.leader_id) == leader_user.pk),
                              None)
        self.skills_of = {v.id: set(spec.skills) for v, spec in zip(d.volunteers, d.plan, strict=True)}
        self.adults_at: dict[int, list] = defaultdict(list)  # who a station admin may send (no account, adult)
        for v in d.volunteers:
            if not v.guardian_name and v.id not in linked:
                self.adults_at[v.station_id].append(v)
        self.departments = d.departments

    # --- People --------------------------------------------------------------------------------

    def manager_for(self, node: OrgNode) -> User:
        """The demo account that handles a node: its station's or institute's admin, or the centre's."""
        u = self.users
        if node.pk == self.demo_station.pk:
            return u["demo-station"]
        if node.path.startswith(self.demo_institute.path):
            return u["demo-institute"]
        return u["demo-centre2"] if self.rng.random() < 0.15 else u["demo-centre"]

    def team_actor(self, team: Team) -> User:
        """Who acts for a team: its leader's account, or an admin over the team's node."""
        if self.demo_team is not None and team.pk == self.demo_team.pk:
            return self.users["demo-leader"]
        return self.manager_for(team.node)

    def assignee_actor(self, n: Need) -> User:
        if n.team_id:
            return self.team_actor(n.team)
        if n.volunteer_id:
            return self.users["demo-volunteer"]
        if n.department_id:
            return self.users["demo-department"]
        return self.manager_for(n.node)

    def submitter(self, spec: Spec):
        if spec.source in (SRC.PROXY, SRC.IMPORT, SRC.OPEN311):
            return self.manager_for(spec.station)
        return None

    # --- Time ----------------------------------------------------------------------------------

    def daytime(self, t: datetime, limit: datetime | None) -> datetime:
        """People act between 7:00 and 21:00: a step at night waits for the morning (if its deadline allows)."""
        local = timezone.localtime(t, self.tz)
        if 7 <= local.hour < 21:
            return t
        day = local.date() + timedelta(days=1 if local.hour >= 21 else 0)
        moved = datetime(day.year, day.month, day.day, 8, 0, tzinfo=self.tz) + timedelta(
            minutes=self.rng.randint(0, 90), seconds=self.rng.randint(0, 59))
        return t if limit is not None and moved > limit else moved

    def sweep_time(self, deadline: datetime) -> datetime:
        return deadline + timedelta(seconds=self.rng.randint(20, 540))

    def _id(self, model) -> int:
        if model not in self.ids:
            self.ids[model] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        value = self.ids[model]
        self.ids[model] += 1
        return value

    def _code(self) -> str:
        while True:
            code = "".join(self.code_rng.choice(loop.CODE_ALPHABET) for _ in range(8))
            if code not in self.codes:
                self.codes.add(code)
                return code

    # --- The service menu ----------------------------------------------------------------------

    def _offers(self) -> None:
        rng = self.rng
        rows, audit_rows = [], []
        chosen = [row for row in OFFERS if row[0] in self.team_by_name]
        if self.demo_team is not None:
            skills = {s.name for s in self.demo_team.skills.all()}
            chosen += [(self.demo_team.name, *row[1:]) for row in STATION_OFFERS if row[0] in skills][:2]
        self.offers: list[ServiceOffer] = []
        for team_name, code, title, schedule, text in chosen:
            team, category = self.team_by_name[team_name], self.categories.get(code)
            if category is None or not self._skilled(team, category):
                continue
            created = max(team.created_at, self.now - timedelta(days=rng.randint(110, 400))) + timedelta(
                minutes=rng.randint(30, 600))
            offer = ServiceOffer(id=self._id(ServiceOffer), team=team, category=category, title=title,
                                 description=text, schedule=schedule, active=True, created_at=created)
            offer.is_demo_data = True
            by = self.team_actor(team)
            rows.append(offer)
            audit_rows.append({
                "at": created, "actor_id": by.pk, "actor_name": str(by), "action": "need.offer.save",
                "object_type": "needs.serviceoffer", "object_id": str(offer.id), "object_repr": title,
                "before": None, "after": {"title": title, "active": True}, "note": "", "ip": None,
            })
            self.offers.append(offer)
        self._insert(ServiceOffer, [self._row(o) for o in rows], "服务清单")
        self.offer_audit = audit_rows
        self.summary.offers = len(rows)

    # --- Which team ----------------------------------------------------------------------------

    def _skilled(self, team: Team, category: NeedCategory) -> bool:
        wanted = self.category_skills.get(category.pk, set())
        return not wanted or bool(wanted & self.team_skills.get(team.pk, set()))

    def eligible(self, n: Need, *, exclude=()) -> list[Team]:
        """services.team_may_take without the capacity (checked over the whole story, see _fits): the
        team's region holds the need's station, or the team is under the node handling it; skills match."""
        key = (n.category_id, n.station_id, n.node_id)
        found = self._eligible.get(key)
        if found is None:
            wanted = self.category_skills.get(n.category_id, set())
            station_path, node_path = n.station.path, n.node.path
            found = self._eligible[key] = [
                team for team, path, skills in self.team_rows
                if (not wanted or wanted & skills) and (station_path.startswith(path) or path.startswith(node_path))
            ]
        return [t for t in found if t.id not in exclude] if exclude else list(found)

    def pick_team(self, n: Need, exclude) -> Team | None:
        """A team for the need: its station's own team first, then its institute's, then the centre's."""
        teams = self.eligible(n, exclude=exclude)
        near = [t for t in teams if n.station.path.startswith(t.node.path)]
        teams = near or teams
        if not teams:
            return None
        platform = n.category.platform_id
        weights = [(5 if t.node_id == n.station_id else 3 if t.node.depth == 2 else 1.5)
                   * (2 if platform and t.platform_id == platform else 1) for t in teams]
        return self.rng.choices(teams, weights)[0]

    def _fits(self, team_id: int, segments: list[tuple]) -> bool:
        """At no moment does the team hold more needs than its capacity (the demo team keeps a place
        free, so demo-leader can grab from the pool). The load only rises where a hold starts, so the
        starts within the new holds are the moments to check."""
        team = self.team_by_id[team_id]
        cap = team.capacity - (1 if self.demo_team is not None and team_id == self.demo_team.id else 0)
        far = self.now + timedelta(days=3650)
        new = [(s, e or far) for s, e in segments]
        spans = [(s, e or far) for s, e in self.holds[team_id]] + new
        for start, end in new:
            for moment in [start] + [s for s, _e in spans if start < s < end]:
                if sum(1 for s, e in spans if s <= moment < e) > cap:
                    return False
        return True

    # --- Planning ------------------------------------------------------------------------------

    def _plan(self) -> list[Spec]:
        total = max(MIN_NEEDS, min(MAX_NEEDS, round(self.d.count * NEEDS_PER_VOLUNTEER)))
        specs = self._must()
        while len(specs) < total:
            specs.append(self._random_spec())
        return specs

    def _hours_ago(self, lo: float, hi: float) -> datetime:
        return self.now - timedelta(hours=self.rng.uniform(lo, hi))

    def _station(self) -> OrgNode:
        return self.rng.choices(self.stations, self.station_weights)[0]

    def _category(self, station: OrgNode) -> NeedCategory:
        village = station.name.endswith("村")
        rows = [(self.categories[c], wv if village else w) for c, w, wv in CATEGORY_WEIGHTS if c in self.categories]
        rows = [(c, w) for c, w in rows if w > 0]
        return self.rng.choices([c for c, _ in rows], [w for _, w in rows])[0]

    def _fill(self, template: str, station: OrgNode) -> str:
        rng = self.rng
        values = {k: rng.choice(v) for k, v in SLOTS.items()}
        values["here"] = "村里" if station.name.endswith("村") else rng.choice(["小区", "社区", "我们小区"])
        values["age"] = rng.randint(72, 93)
        values["child"] = "小" + rng.choice("明红军芳华丽杰敏强婷宇欣阳")
        return template.format(**values)

    def _description(self, category: NeedCategory, station: OrgNode) -> str:
        """A resident's words: a template of the category (村: only in villages, 城: only in 社区)."""
        texts = [t for t in TEXTS.get(category.code) or TEXTS["other-other"] if _fits_place(t, station)]
        return self._fill(self.rng.choice(texts).split(":", 1)[-1], station)

    def _created(self) -> datetime:
        """A moment in the last three months, a little more often recent; residents raise needs by day."""
        rng = self.rng
        back = timedelta(days=PAST_DAYS * rng.random() ** 1.2)
        t = self.now - back
        if back > timedelta(days=1):
            hour = rng.choices([h for h, _ in HOURS_OF_DAY], [w for _, w in HOURS_OF_DAY])[0]
            local = timezone.localtime(t, self.tz)
            t = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
        return t

    def _recent(self) -> datetime:
        """In the last six days; residents write by day (the last hours as they come)."""
        t = self._hours_ago(0.5, 24 * 6)
        local = timezone.localtime(t, self.tz)
        if local.hour < 7:
            moved = local.replace(hour=self.rng.randint(7, 9))
            t = moved if moved < self.now else t
        return t

    def _wished(self, created: datetime, category: NeedCategory) -> datetime | None:
        rng = self.rng
        if rng.random() < (0.75 if category.code in ONGOING else 0.4):
            return None
        day = timezone.localtime(created, self.tz).date() + timedelta(days=rng.randint(1, 6))
        hour, minute = rng.choice([(9, 0), (9, 30), (10, 0), (14, 30), (15, 0), (16, 0)])
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)

    def _urgency(self) -> str:
        return self.rng.choices([U.NORMAL, U.URGENT, U.CRITICAL], [76, 19, 5])[0]

    def _spec(self, station: OrgNode, category: NeedCategory, created: datetime, *, keep_time: bool = False,
              **kw) -> Spec:
        rng = self.rng
        source = kw.pop("source", None) or rng.choices(
            [SRC.PUBLIC, SRC.PROXY, SRC.OPEN311, SRC.IMPORT], [55, 25, 10, 10])[0]
        if source == SRC.IMPORT and not keep_time:  # imported in office hours
            local = timezone.localtime(created, self.tz)
            moved = local.replace(hour=rng.randint(9, 16), minute=rng.randrange(60))
            created = moved if moved < self.now else created
        wished = kw.pop("wished_at", "draw")
        spec = Spec(station=station, category=category, created=created, source=source,
                    description=kw.pop("description", None) or self._description(category, station),
                    urgency=self._urgency(), wished_at=self._wished(created, category) if wished == "draw" else wished,
                    **kw)
        return spec

    def _random_spec(self) -> Spec:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return self._wish_spec(self._station(), self._created())
        if roll < 0.20 and self.offers:  # a booking from the service menu
            offer = rng.choice(self.offers)
            stations = [s for s in self.stations if s.path.startswith(offer.team.node.path)]
            station = rng.choice(stations)
            created = self._created()
            text = f"预约“{offer.title}”：{self._description(offer.category, station)}"
            story = {**self._story(), "mode": "menu", "review_misses": 0}
            return self._spec(station, offer.category, created, source=SRC.PUBLIC if rng.random() < 0.7 else SRC.PROXY,
                              offer=offer, description=text, **story)
        station = self._station()
        category = self._category(station)
        created = self._created() if rng.random() < 0.85 else self._recent()
        kind = rng.random()
        if kind < 0.08:
            return self._spec(station, category, created, outcome="reject",
                              review_misses=rng.choices([0, 1, 2], [80, 15, 5])[0])
        if kind < 0.17:
            return self._spec(station, category, created, outcome="cancel",
                              cancel_at=rng.choice(["submitted", "approved", "approved", "dispatched"]))
        if kind < 0.185:  # nobody reviews it: escalated, then overdue at the centre
            return self._spec(station, category, self._hours_ago(26, 24 * 6), stop="submit")
        if kind < 0.20:  # approved, nobody dispatches it
            return self._spec(station, category, self._hours_ago(30, 24 * 5), stop="approve")
        return self._spec(station, category, created, **self._story(category))

    def _story(self, category: NeedCategory | None = None) -> dict:
        """How a served need goes: whom it is dispatched to, and what goes wrong on the way."""
        rng = self.rng
        mode = rng.choices(["team", "pool", "volunteer_miss", "department", "dept_miss", "node"],
                           [70, 8, 4, 4, 4, 10])[0]
        if category is not None:
            if category.code.startswith("lecture") and rng.random() < 0.5:
                mode = "department"
            elif mode == "department" and not category.code.startswith(("lecture", "culture")):
                mode = "dept_miss"  # another department: no account of its own answers in the demo
        story = {"mode": mode, "decline": rng.random() < 0.08, "accept_miss": rng.random() < 0.04,
                 "late": rng.random() < 0.06, "start": rng.random() < 0.7, "rate": rng.random() < 0.85}
        if mode == "node":
            story["review_misses"] = 1
        elif mode in ("department", "dept_miss"):
            story["review_misses"] = rng.choice([0, 0, 2])
        return story

    def _wish_spec(self, station: OrgNode, created: datetime, *, for_team: Team | None = None, **kw) -> Spec:
        rng = self.rng
        rows = [(c, t) for c, t in WISHES if c in self.categories and _fits_place(t, station)]
        if for_team is not None:  # a wish the team may claim
            rows = [(c, t) for c, t in rows if self._skilled(for_team, self.categories[c])] or rows
        code, text = rng.choice(rows)
        story = kw.pop("story", None) or self._story()
        if "mode" not in kw and rng.random() < 0.3 and self.demo_team is not None and (
                station.path.startswith(self.demo_institute.path)):
            story["mode"] = "claim"
        story.pop("review_misses", None)
        story.update(kw)
        return self._spec(station, self.categories[code], created, source=SRC.PUBLIC if rng.random() < 0.75
                          else SRC.PROXY, is_wish=True, keep_time=True, description=self._fill(text.split(":", 1)[-1],
                                                                                                   station),
                          wished_at=None, **story)

    def _demo_category(self) -> NeedCategory:
        """A category the demo team may take (its skills), else one that needs none."""
        ok = [self.categories[c] for c, _w, _v in CATEGORY_WEIGHTS
              if c in self.categories and self.demo_team is not None and self._skilled(self.demo_team,
                                                                                      self.categories[c])]
        skilled = [c for c in ok if self.category_skills.get(c.pk)]
        return self.rng.choice(skilled or ok or list(self.categories.values()))

    def _must(self) -> list[Spec]:
        """What every demo account finds on its pages, whatever the seed."""
        rng, home = self.rng, self.demo_station
        specs = []

        def add(station, created, category=None, **kw):
            specs.append(self._spec(station, category or self._category(station), created, keep_time=True, **kw))

        # demo-station: needs to review, one to dispatch, one waiting for rating.
        for _ in range(3):
            add(home, self._hours_ago(0.3, 18), stop="submit", quick=True)
        add(home, self._hours_ago(2, 12), stop="approve", quick=True)
        add(home, self._hours_ago(30, 60), stop="complete", rate=False, quick=True, wished_at=None)
        add(home, self._hours_ago(4, 20), outcome="cancel", cancel_at="submitted", quick=True)
        add(home, self._hours_ago(24 * 3, 24 * 30), outcome="reject")
        if self.demo_team is not None:
            team = self.demo_team
            # demo-leader: a need to accept, one in service, one in the pool to grab, a wish to claim.
            add(home, self._hours_ago(1, 8), self._demo_category(), stop="dispatch", team=team, quick=True)
            add(home, self._hours_ago(24, 60), self._demo_category(), stop="start", team=team, quick=True,
                wished_at=None)
            add(home, self._hours_ago(1, 8), self._demo_category(), stop="dispatch", mode="pool", quick=True)
            add(home, self._hours_ago(24 * 20, 24 * 60), self._demo_category(), mode="grab", rate=True)
            specs.append(self._wish_spec(home, self._hours_ago(2, 14), for_team=team, stop="approve", quick=True))
            specs.append(self._wish_spec(home, self._hours_ago(24 * 10, 24 * 50), for_team=team, mode="claim",
                                         rate=True))
        if self.demo_volunteer is not None:
            add(home, self._hours_ago(1, 8), stop="dispatch", mode="volunteer", quick=True)
            add(home, self._hours_ago(24 * 10, 24 * 60), mode="volunteer", rate=True)
        # demo-department (区委宣传部): a need to accept, and one served.
        lectures = [c for code, c in self.categories.items() if code.startswith("lecture")] or list(
            self.categories.values())
        add(self._station(), self._hours_ago(1, 8), rng.choice(lectures), stop="dispatch", mode="department",
            quick=True)
        add(self._station(), self._hours_ago(24 * 10, 24 * 60), rng.choice(lectures), mode="department", rate=True)
        # demo-institute: escalated to 东风路街道 for want of a review; passed down to a station.
        inst_stations = [s for s in self.stations if s.path.startswith(self.demo_institute.path)]
        add(rng.choice(inst_stations), self._hours_ago(25, 45), stop="submit")
        add(rng.choice(inst_stations), self._hours_ago(24 * 5, 24 * 40), mode="node", review_misses=1)
        # …and one passed down from 东风路街道 to 鼓楼亭社区 just now, for demo-station to take on.
        add(home, self._hours_ago(25.5, 28), mode="node", review_misses=1, stop="dispatch", quick=True)
        # The centre: overdue at the top, waiting at the centre, overdue in service, a whistle to a department.
        for _ in range(3):
            add(self._station(), self._hours_ago(24 * 4, 24 * 20), stop="submit")
        add(self._station(), self._hours_ago(50, 70), stop="submit")
        add(self._station(), self._hours_ago(24 * 3, 24 * 9), stop="approve")
        for _ in range(3):
            add(self._station(), self._hours_ago(24 * 12, 24 * 40), stop="accept", wished_at=None)
        add(self._station(), self._hours_ago(24 * 5, 24 * 30), mode="dept_miss", review_misses=2)
        # Wishes on the wall across the district, fresh and escalated.
        for lo, hi in [(2, 20), (2, 20), (30, 60), (24 * 3, 24 * 8)]:
            specs.append(self._wish_spec(self._station(), self._hours_ago(lo, hi), stop="approve",
                                         quick=hi < 24))
        # Across the district: dispatched to teams and not yet accepted, in the pool, in service for days.
        for _ in range(4):
            add(self._station(), self._hours_ago(1, 9), stop="dispatch", quick=True)
        for _ in range(3):
            add(self._station(), self._hours_ago(1, 9), stop="dispatch", mode="pool", quick=True)
        ongoing = [self.categories[c] for c in sorted(ONGOING) if c in self.categories]
        for _ in range(4):
            add(self._station(), self._hours_ago(30, 24 * 4), rng.choice(ongoing), stop="start", quick=True,
                wished_at=None)
        # Open311 and import, recent ones in early states.
        add(self._station(), self._hours_ago(0.5, 10), source=SRC.OPEN311, stop="submit", quick=True)
        add(self._station(), self._hours_ago(24 * 3, 24 * 40), source=SRC.IMPORT)
        return specs

    # --- Playing a story -----------------------------------------------------------------------

    def _play(self, spec: Spec) -> Story:
        """Play the story; if a team would hold more than its capacity at some moment, play it again
        without that team (the service would have refused it)."""
        code = self._code()
        need_id = self._id(Need)
        rng = self.rng
        name = names.person_name(rng, rng.random() < 0.45)
        contact = (name, names.mobile(rng))
        place = self._place(spec)
        exclude: set[int] = set()
        for _attempt in range(8):
            story = Story(self, spec, need_id, code, contact, place)
            try:
                self._script(story, exclude)
            except Stop:
                pass
            story.finish()
            full = next((tid for tid, segs in self._segments(story).items() if not self._fits(tid, segs)), None)
            if full is None:
                break
            exclude.add(full)
            if spec.offer is not None and spec.offer.team_id == full:  # the booked team is full: a plain need
                spec.offer, spec.mode = None, "team"
                spec.description = spec.description.split("：", 1)[-1]
        else:  # no team had room all along: nobody was dispatched
            story = Story(self, spec, need_id, code, contact, place)
            try:
                self._script(story, exclude, no_team=True)
            except Stop:
                pass
            story.finish()
        for tid, segs in self._segments(story).items():
            self.holds[tid].extend(segs)
        return story

    @staticmethod
    def _segments(story: Story) -> dict[int, list[tuple]]:
        out: dict[int, list[tuple]] = defaultdict(list)
        for tid, start, end in story.holds:
            out[tid].append((start, end))
        return out

    def _place(self, spec: Spec) -> tuple[str, float, float]:
        rng, st = self.rng, spec.station
        sites = self.sites.get(st.pk) or []
        base = st.address.removesuffix("党群服务中心").removesuffix("村部")
        if spec.category.code in GROUP_CATEGORIES and sites:
            site = rng.choice(sites)
            return f"{base}{site.name.removeprefix(st.name)}", round(site.lat + rng.uniform(-0.0005, 0.0005), 6), round(
                site.lng + rng.uniform(-0.0005, 0.0005), 6)
        anchor = rng.choice(sites) if sites else st
        lat = round(anchor.lat + rng.uniform(-0.002, 0.002), 6)
        lng = round(anchor.lng + rng.uniform(-0.002, 0.002), 6)
        if st.name.endswith("村"):
            address = f"{base}{rng.randint(1, 12)}组{rng.randint(1, 60)}号"
        else:
            address = (f"{base}{rng.choice(ESTATES)}小区{rng.randint(1, 24)}栋{rng.randint(1, 4)}单元"
                       f"{rng.randint(1, 7)}0{rng.randint(1, 4)}室")
        return address, lat, lng

    def _script(self, s: Story, exclude: set[int], no_team: bool = False) -> None:
        spec, n, rng = s.spec, s.n, self.rng
        # Review at the station (or wherever a missed review took it).
        for _ in range(spec.review_misses):
            s.miss()
        if spec.stop == "submit":
            return
        if spec.outcome == "cancel" and spec.cancel_at == "submitted":
            s.cancel(s.later(0.5, 16), rng.choice(CANCEL_BY_RESIDENT))
            return
        if spec.outcome == "reject":
            s.reject(s.later(0.3, 18), self.manager_for(n.node), self._reject_reason(n))
            return
        if spec.mode == "menu" and (spec.offer is None or spec.offer.team_id in exclude):
            spec.mode = "team"
        s.approve(s.later(0.3, 16), self.manager_for(n.node), rng.choice(APPROVE_NOTES))
        if spec.stop == "approve":
            return
        if spec.outcome == "cancel" and spec.cancel_at == "approved":
            by = None if rng.random() < 0.6 else self.manager_for(n.node)
            reasons = CANCEL_BY_RESIDENT if by is None else CANCEL_BY_HANDLER
            s.cancel(s.later(0.5, 14), rng.choice(reasons), by)
            return
        self._assign(s, exclude, no_team)
        if spec.stop == "dispatch":
            return
        if spec.outcome == "cancel":  # cancel_at == "dispatched", before anyone accepts
            if n.state == S.DISPATCHED:
                by = self.manager_for(n.node) if rng.random() < 0.6 else None
                s.cancel(s.later(0.2, 8), rng.choice(CANCEL_BY_HANDLER if by else CANCEL_BY_RESIDENT), by)
            return
        self._accept(s, exclude, no_team)
        if spec.stop == "accept":
            return
        self._serve(s)

    def _assign(self, s: Story, exclude: set[int], no_team: bool) -> None:
        """From 待派单 to 已派单 (or straight to 已接单 for a grab or a claim), as the mode says."""
        spec, n, rng = s.spec, s.n, self.rng
        mode = spec.mode
        if n.state == S.DISPATCHED:  # a booking: dispatched to the offering team on approval
            return
        by = self.manager_for(n.node)
        if mode == "claim" and self.demo_team is not None and self.demo_team.pk not in exclude and self._skilled(
                self.demo_team, n.category):
            s.claim(s.later(0.5, 20), self.users["demo-leader"], self.demo_team)
            return
        if mode in ("pool", "grab"):
            s.publish(s.later(0.1, 4), by, rng.choice(["", "", "欢迎就近队伍接单"]))
            if spec.stop == "dispatch":
                return
            team = self.demo_team
            grabbable = (team is not None and team.pk not in exclude and self._skilled(team, n.category) and (
                n.station.path.startswith(team.node.path) or team.node.path.startswith(n.node.path)))
            if grabbable and (mode == "grab" or rng.random() < 0.6):
                s.grab(s.later(0.2, 6), self.users["demo-leader"], team)
                return
            s.miss()  # nobody grabbed it in time: back to 待派单
            by = self.manager_for(n.node)
        elif mode == "volunteer" and self.demo_volunteer is not None and n.station_id == self.demo_station.pk:
            s.dispatch(s.later(0.1, 4), by, volunteer=self.demo_volunteer, note=self._note(n))
            return
        elif mode == "volunteer_miss" and self.adults_at.get(n.station_id):
            people = self.adults_at[n.station_id]
            wanted = {self.skill_names.get(sid) for sid in self.category_skills.get(n.category_id, ())}
            volunteer = rng.choice([v for v in people if self.skills_of[v.id] & wanted] or people)
            s.dispatch(s.later(0.1, 6), by, volunteer=volunteer, note=self._note(n))
            s.miss()
            by = self.manager_for(n.node)
        elif mode == "department":
            department = self.departments.get(PROPAGANDA)
            if department is not None:
                s.dispatch(s.later(0.1, 6), by, department=department, note="请部门派员服务")
                return
        elif mode == "dept_miss":
            department = self.departments.get(DEPARTMENT_FOR.get(n.category.parent.code, ""))
            if department is not None and department.name != PROPAGANDA:
                note = "中心吹哨，请部门报到" if n.node_id == self.centre.id else "请部门协助办理"
                s.dispatch(s.later(0.1, 6), by, department=department, note=note)
                s.miss()
                by = self.manager_for(n.node)
        elif mode == "node" and n.node_id != n.station_id:
            lower = n.station if n.station.path.startswith(n.node.path) else None
            if lower is not None:
                s.dispatch(s.later(0.2, 8), by, node=lower, note="请站点就近安排")
                if spec.stop == "dispatch":
                    return
                s.accept(s.later(0.2, 8), self.manager_for(lower))
                by = self.manager_for(n.node)
        missed: set[int] = set()
        if spec.accept_miss and spec.team is None and not no_team:  # the first team does not answer in time
            team = self.pick_team(n, exclude)
            if team is not None and self.pick_team(n, exclude | {team.pk}) is not None:
                s.dispatch(s.later(0.1, 8), by, team=team, note=self._note(n))
                s.miss()
                by = self.manager_for(n.node)
                missed.add(team.pk)
        team = spec.team if spec.team is not None and spec.team.pk not in exclude else None
        team = team or (None if no_team else self.pick_team(n, exclude | missed))
        if team is None:
            raise Stop  # no team with room: it waits (and the sweep escalates it)
        s.dispatch(s.later(0.1, 8), by, team=team, note=self._note(n))

    def _accept(self, s: Story, exclude: set[int], no_team: bool) -> None:
        spec, n, rng = s.spec, s.n, self.rng
        if n.state == S.ACCEPTED:  # grabbed or claimed
            return
        other = None if no_team or not (spec.decline and n.team_id) else self.pick_team(n, exclude | {n.team_id})
        if other is not None:  # declined, and dispatched again to a team that can take it (改派)
            s.decline(s.later(0.2, 6), self.team_actor(n.team), rng.choice(DECLINE_REASONS))
            s.dispatch(s.later(0.1, 8), self.manager_for(n.node), team=other, note=self._note(n))
        s.accept(s.later(0.2, 8), self.assignee_actor(n))

    def _serve(self, s: Story) -> None:
        spec, n, rng = s.spec, s.n, self.rng
        by = self.assignee_actor(n)
        wished = n.wished_at if n.wished_at and n.wished_at > n.accepted_at else None
        if spec.late:
            s.miss()  # not finished in time: overdue
        ongoing = n.category.code in ONGOING and wished is None
        if spec.start or ongoing:
            if wished is not None and not spec.late:
                s.start_service(s.at(wished - timedelta(minutes=rng.randint(0, 25))), by)
            else:
                s.start_service(s.later(2, 30 if ongoing else 60), by)
        if spec.stop == "start":
            return
        if wished is not None and not spec.late:
            done = s.at(wished + timedelta(minutes=rng.randint(40, 110)))
        elif ongoing:
            done = s.later(24, 150)
        else:
            done = s.later(1, 72) if not spec.start else s.later(1, 4)
        report, people = self._report(n)
        s.complete(done, by, report, people, self._hours(n, by, done))
        if spec.stop == "complete" or not spec.rate:
            return
        stars = rng.choices([x for x, _ in STAR_WEIGHTS], [w for _, w in STAR_WEIGHTS])[0]
        comment = rng.choice(COMMENTS[stars])
        rater = None if rng.random() < 0.88 else self.manager_for(n.node)  # 帮办: an admin rates for the resident
        s.rate(s.later(0.5, 100), stars, comment, rater)

    def _reject_reason(self, n: Need) -> str:
        urban = not n.station.name.endswith("村")
        reasons = [text for where, text in REJECT_REASONS
                   if not where or (where == "城" and urban) or n.category.code.startswith(where)]
        return self.rng.choice(reasons)

    def _note(self, n: Need) -> str:
        if n.category.code.startswith("elderly") and self.rng.random() < 0.3:
            return ELDERLY_NOTE
        return self.rng.choice(DISPATCH_NOTES)

    def _report(self, n: Need) -> tuple[str, int]:
        rng = self.rng
        group = n.category.code in GROUP_CATEGORIES
        people = rng.randint(15, 90) if group else rng.choice([1, 1, 1, 2, 2, 3])
        if n.is_wish:
            return rng.choice(WISH_REPORTS), people
        text = REPORTS.get(n.category.code, REPORTS["other-other"])
        return text.format(n=rng.randint(2, 8), k=rng.randint(2, 6), p=people, dx=rng.choice(DIAGNOSES)), people

    def _hours(self, n: Need, by: User, done: datetime) -> list[tuple[int, int]]:
        """Hours for a team's recent completion: a few members (never the reporter's own record)."""
        rng = self.rng
        if not n.team_id or done < self.now - timedelta(days=RECENT_HOURS_DAYS) or rng.random() < 0.3:
            return []
        own = self.own_records.get(by.pk, set())
        people = [vid for vid in dict.fromkeys(self.members.get(n.team_id, []) + [n.team.leader_id]) if
                  vid and vid not in own]
        if not people:
            return []
        chosen = rng.sample(people, min(len(people), rng.randint(1, 3)))
        minutes = rng.choice([60, 90, 120, 150, 180, 240])
        return [(vid, minutes) for vid in chosen]

    # --- Writing -------------------------------------------------------------------------------

    def _row(self, obj) -> dict:
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    def _insert(self, model, rows: list[dict], label: str = "") -> None:
        insert_rows(self.d.progress, model, rows, label)

    def _write(self, stories: list[Story]) -> None:
        needs, events, audit_rows, requests, hours = [], [], list(self.offer_audit), [], []
        for story in stories:
            n = story.n
            needs.append(self._row(n))
            for e in story.events:
                events.append({"id": self._id(NeedEvent), **e})
            audit_rows += story.audit
            for vid, minutes, by in story.hours:
                req = self._hours_request(n, vid, minutes, by)
                requests.append(self._row(req))
                audit_rows.append({
                    "at": req.requested_at, "actor_id": by.pk, "actor_name": str(by),
                    "action": "ledger.recorded.request", "object_type": "ledger.hoursrequest",
                    "object_id": str(req.id), "object_repr": str(req)[:200], "before": None,
                    "after": _request_snapshot(req), "note": req.reason[:500], "ip": None,
                })
                hours.append({"id": self._id(NeedHours), "need_id": n.id, "volunteer_id": vid, "minutes": minutes,
                              "request_id": req.id})
        # The audit trail in the order things happened (ids follow time, as when written live).
        audit_rows.sort(key=lambda r: r["at"])
        for row in audit_rows:
            row["id"] = self._id(AuditEntry)
        self._insert(Need, needs, "写入群众需求")
        self._insert(NeedEvent, events, "写入需求办理过程")
        self._insert(HoursRequest, requests, "写入点单服务时长申请")
        self._insert(NeedHours, hours, "写入点单服务时长")
        self._insert(AuditEntry, audit_rows, "写入审计日志（点单）")
        self.summary.events = len(events)
        self.summary.hours = len(hours)

    def _hours_request(self, n: Need, vid: int, minutes: int, by: User) -> HoursRequest:
        """What ledger.services.request_reported_hours writes for complete_need's hours."""
        end = n.completed_at
        start = n.accepted_at or n.dispatched_at or end
        req = HoursRequest(
            id=self._id(HoursRequest), kind=HoursRequest.Kind.RECORDED, volunteer_id=vid, node_id=n.station_id,
            title=f"群众点单：{n.category.name}", content=n.report[:2000], place=n.address,
            beneficiaries=f"{n.people_served or 0}人", window_start=min(start, end - timedelta(minutes=minutes)),
            window_end=end, minutes=minutes, source_type="need", source_id=n.code,
            reason=f"点单{n.code}完成后由承接方填报", requested_by=by, requested_at=end,
        )
        return req

    def _count(self, stories: list[Story]) -> None:
        s = self.summary
        needs = [story.n for story in stories]
        s.needs = len(needs)
        s.states = {str(k): v for k, v in sorted(Counter(n.state for n in needs).items())}
        s.overdue = sum(n.overdue and n.state in Need.OPEN_STATES for n in needs)
        s.escalated = sum(n.escalations > 0 for n in needs)
        s.wishes_on_wall = sum(n.is_wish and n.state == S.APPROVED for n in needs)
        s.wishes_claimed = sum(any(e["action"] == "claimed" for e in st.events) for st in stories)
        s.in_pool = sum(n.in_pool and n.state == S.DISPATCHED for n in needs)
        s.sources = {str(k): v for k, v in sorted(Counter(n.source for n in needs).items())}
