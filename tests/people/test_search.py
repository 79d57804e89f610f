"""Finding a volunteer: pinyin ("zhs" finds 张三), the start of a name, the volunteer number, and
exact ID / phone numbers through the blind index — never a part of a number, never out of reach."""

import pytest

from tests import factories as f
from wenming.people.models import Volunteer
from wenming.people.queries import volunteers_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    """World plus a few more names in S11: 张三 (the world's), 张三丰, 章子怡, 欧阳修."""
    world.extra = {
        "张三丰": f.make_volunteer(world.S11, "张三丰"),
        "章子怡": f.make_volunteer(world.S11, "章子怡"),
        "欧阳修": f.make_volunteer(world.S11, "欧阳修"),
    }
    return world


def names(user, text="", **kw):
    return sorted(v.name for v in volunteers_for(user, text=text, **kw))


@pytest.mark.parametrize(("text", "expected"), [
    ("zhs", ["张三", "张三丰"]),
    ("ZHS", ["张三", "张三丰"]),
    ("zhsf", ["张三丰"]),
    ("zhangsan", ["张三", "张三丰"]),
    ("zhang", ["张三", "张三丰", "章子怡"]),  # 章 is zhang too
    ("zh", ["张三", "张三丰", "章子怡", "赵六"]),
    ("oyx", ["欧阳修"]),
    ("ouyang", ["欧阳修"]),
    ("张", ["张三", "张三丰"]),
    ("张三", ["张三", "张三丰"]),
    ("章子", ["章子怡"]),
    ("xyz", []),
])
def test_pinyin_and_name_prefix(people, text, expected):
    assert names(people.district_admin, text) == sorted(expected)


def test_a_name_is_found_by_its_start_not_its_middle(people):
    assert names(people.district_admin, "三") == []
    assert names(people.district_admin, "阳修") == []


def test_exact_id_number_finds_one_person(people):
    v = people.volunteers["S12"]
    assert names(people.district_admin, v.plain_id_number) == ["李四"]


def test_id_number_with_lower_case_x(world):
    number = next(n for n in (f.make_id_number() for _ in range(200)) if n.endswith("X"))
    f.make_volunteer(world.S11, "周八", id_number=number)
    assert names(world.district_admin, number.lower()) == ["周八"]


def test_id_number_typed_with_full_width_digits(world):
    v = world.volunteers["S12"]
    full = v.plain_id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert names(world.district_admin, full) == ["李四"]


def test_part_of_a_number_finds_nothing(people):
    v = people.volunteers["S12"]
    for part in [v.plain_id_number[:6], v.plain_id_number[:17], v.plain_id_number[-4:], v.plain_id_number[6:14],
                 v.plain_phone[:7], v.plain_phone[-4:], v.plain_phone[:10]]:
        assert names(people.district_admin, part) == [], part


def test_phone_number_finds_its_owner(people):
    v = people.volunteers["S21"]
    assert names(people.district_admin, v.plain_phone) == ["王五"]


def test_volunteer_number_finds_its_owner(people):
    v = people.volunteers["S12"]
    assert names(people.district_admin, v.number) == ["李四"]
    assert names(people.district_admin, v.number[:-1]) == []


def test_search_stays_in_reach(people):
    v21 = people.volunteers["S21"]
    admin = people.station_admin
    for text in [v21.plain_id_number, v21.plain_phone, v21.number, "wangwu", "ww", "王"]:
        assert names(admin, text) == [], text
    assert names(people.institute_admin) == sorted(["张三", "张三丰", "章子怡", "欧阳修", "赵六", "李四"])
    assert names(people.users["volunteer"]) == ["张三"]
    assert names(people.users["volunteer"], "zhs") == ["张三"]


def test_blank_or_odd_text_lists_everything_in_reach_without_error(people):
    everyone = names(people.district_admin)
    assert len(everyone) == Volunteer.objects.count()
    for text in ["", "   ", None]:
        assert names(people.district_admin, text) == everyone
    for text in ["%", "_", "'", "\\", "张%", "z_s", "1" * 200]:
        assert names(people.district_admin, text) == [], text


def test_filters_by_station_and_skill(people):
    from wenming.core.models import Skill

    nursing = Skill.objects.create(name="医疗护理")
    people.extra["欧阳修"].skills.add(nursing)
    assert names(people.district_admin, station_id=people.S12.pk) == ["李四"]
    assert names(people.district_admin, skill_id=nursing.pk) == ["欧阳修"]
    assert names(people.district_admin, "oy", skill_id=nursing.pk) == ["欧阳修"]


def test_newest_first(people):
    ids = [v.pk for v in volunteers_for(people.district_admin)]
    assert ids == sorted(ids, reverse=True)


def test_search_through_the_api(people):
    api = people.api("institute_admin")
    r = api.get("/volunteers", {"q": "zhs"})
    assert r.status_code == 200
    assert sorted(i["name"] for i in r.json()["items"]) == ["张三", "张三丰"]
    assert r.json()["count"] == 2
    v = people.volunteers["S12"]
    r = api.get("/volunteers", {"q": v.plain_id_number})
    assert [i["id"] for i in r.json()["items"]] == [v.pk]
    assert v.plain_id_number not in r.content.decode()  # found by it, still shown masked
