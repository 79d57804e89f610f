"""Synthetic people for the demo district: names, ID numbers, phone numbers, credit codes.

Everything here is a pure function of a `random.Random`, so a fixed seed gives
the same district every time. None of it belongs to a real person: the ID
numbers carry a valid GB 11643 check digit but are made up.
"""

import random
from datetime import date

from wenming.core.validators import id_check_digit

# Common surnames, weighted roughly as in Hunan (刘、李、王、陈、张 lead; 曾、谭、彭、唐 are frequent there).
SURNAMES = (
    ("刘", 60), ("李", 58), ("王", 55), ("陈", 50), ("张", 48), ("罗", 30), ("唐", 28), ("彭", 26),
    ("谭", 24), ("曾", 24), ("周", 24), ("邓", 22), ("肖", 20), ("蒋", 18), ("胡", 18), ("黄", 18),
    ("杨", 18), ("赵", 14), ("吴", 14), ("欧阳", 6), ("孙", 10), ("朱", 10), ("何", 12), ("贺", 10),
    ("谢", 12), ("袁", 10), ("宁", 8), ("姜", 6), ("龙", 8), ("文", 8), ("伍", 8), ("郭", 8),
    ("戴", 8), ("钟", 8), ("廖", 8), ("邹", 8), ("易", 6), ("尹", 6), ("雷", 6), ("夏", 6),
    ("马", 6), ("高", 6), ("林", 6), ("梁", 6), ("宋", 6), ("许", 6), ("邵", 6), ("石", 6),
    ("魏", 4), ("段", 4), ("毛", 4), ("向", 4), ("颜", 4), ("阳", 4), ("田", 4), ("粟", 4),
)

GIVEN_MALE = "建国志强伟杰明军勇斌涛磊浩鹏辉俊峰华平刚波宇凯东海林超新文武健永春祥富德亮坤晨阳博洋泽宏"
GIVEN_FEMALE = "丽娟静敏燕艳芳霞玲红梅婷雪琳慧颖萍兰凤秀英云佳欣怡雨晴悦瑶蓉倩娜妍丹珍春桂琴莉彤"
GIVEN_ANY = "小子思嘉一明晓雅若梓诗可志新国文"

AREA_CODE = "430502"  # 湖南省邵阳市双清区
# Where residents' numbers were first issued: mostly the district itself (430502 since 1983)
# and its neighbours; people born earlier carry the 邵阳地区 county codes of their time, which
# also passes python-stdnum's stricter ric.validate (it ties a region code to the birth year).
AREAS_SINCE_1983 = (("430502", 80), ("430503", 6), ("430511", 5), ("430522", 5), ("430521", 4))
AREAS_BEFORE_1983 = (("432621", 25), ("432622", 20), ("432523", 20), ("432525", 15), ("432524", 10),
                     ("432624", 10))

# Mobile prefixes in use on the mainland (China Mobile, Unicom, Telecom).
PHONE_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159", "178",
    "182", "183", "187", "188", "198", "130", "131", "132", "155", "156", "166", "175", "176", "185",
    "186", "133", "149", "153", "173", "177", "180", "181", "189", "199",
)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_SURNAME_NAMES = [s for s, _ in SURNAMES]
_SURNAME_WEIGHTS = [w for _, w in SURNAMES]


def person_name(rng: random.Random, male: bool) -> str:
    """A plausible Chinese name: surname and a one- or two-character given name."""
    surname = rng.choices(_SURNAME_NAMES, _SURNAME_WEIGHTS)[0]
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    if rng.random() < 0.22:
        return surname + rng.choice(pool)
    first = rng.choice(GIVEN_ANY + pool) if rng.random() < 0.3 else rng.choice(pool)
    second = rng.choice(pool)
    if second == first:
        second = rng.choice(pool)
    return surname + first + second


def id_number(birth: date, sequence: int, male: bool, area: str = AREA_CODE) -> str:
    """An 18-digit resident ID number: area, birth date, sequence (odd for men), check digit."""
    seq = sequence % 500 * 2 + (1 if male else 0)
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_digit(body)


def area_for(rng: random.Random, birth: date) -> str:
    areas = AREAS_SINCE_1983 if birth.year >= 1983 else AREAS_BEFORE_1983
    return rng.choices([a for a, _ in areas], [w for _, w in areas])[0]


def mobile(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"


def landline(rng: random.Random) -> str:
    """A 邵阳 (0739) office number."""
    return f"0739-{rng.choice('2345')}{rng.randrange(10 ** 6):06d}"


def org_code(body8: str) -> str:
    """GB 11714 organisation code: eight characters and their check character."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def uscc(authority: str, kind: str, area: str, body8: str) -> str:
    """GB 32100 unified social credit code with its check character."""
    code = f"{authority}{kind}{area}{org_code(body8)}"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code, USCC_WEIGHTS, strict=True))
    return code + USCC_ALPHABET[(31 - total % 31) % 31]


def surname_of(name: str) -> str:
    return name[:2] if name[:2] in _SURNAME_NAMES else name[:1]


def parent_name(rng: random.Random, child: str) -> str:
    """A guardian's name: the child's father (same surname) or mother."""
    if rng.random() < 0.55:
        father = person_name(rng, True)
        return surname_of(child) + father[len(surname_of(father)):]
    return person_name(rng, False)
