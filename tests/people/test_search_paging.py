"""The paged search of the volunteer list (console and API): each way of a search on its own
index, ids first, a count that stops at a cap and says so — and the same people, in the same
order, as the plain OR of every way."""

import pytest
from django.core.paginator import Paginator
from django.db.models import Q

from tests import factories as f
from wenming.core import pii
from wenming.core.validators import ascii_form
from wenming.people import queries
from wenming.people.queries import search_branches, search_volunteers, volunteers_for

pytestmark = pytest.mark.django_db

# Names whose pinyin and initials overlap in every way the search has to tell apart:
# zh/ch/sh initials (张三丰 zsf, 沙僧 ss, 陈晨 cc), pinyin that reads as initials (欧阳 ouyang, oy),
# a two-letter name (李四 ls), a surname read apart (曾 zeng), and the world's 张三 李四 王五 赵六.
NAMES = ["张三丰", "章子怡", "欧阳修", "沙僧", "陈晨", "史湘云", "曾国藩", "李思", "刘晓明", "刘小敏", "吕布", "安然"]
TEXTS = [
    "", "z", "zh", "zhs", "zs", "zsf", "zhang", "zhangsan", "zhangsanfeng", "zhsf", "s", "sh", "shs", "ss",
    "sha", "shaseng", "c", "ch", "chc", "cc", "chen", "o", "oy", "oyx", "ouyang", "l", "li", "liu", "lxm",
    "lv", "lb", "zeng", "zgf", "a", "an", "ar", "x", "ZHS", "Lxm", "张", "张三", "章子", "刘", "刘晓", "三",
    "%", "_", "z_s", "张%", "1" * 200, "xyz",
]


def old_search_q(text: str) -> Q:
    """The search as it was before it was split into ways: one OR over the three name columns."""
    text = ascii_form(text or "").strip()[:50]
    if not text:
        return Q()
    if queries.ID_RE.match(text):
        return Q(id_number_index=pii.blind_index(text.upper(), "id"))
    if queries.PHONE_RE.match(text):
        return Q(phone_index=pii.blind_index(text, "phone"))
    if queries.NUMBER_RE.match(text):
        return Q(number=text)
    if queries.LETTERS_RE.match(text):
        low = text.lower()
        q = Q(name_pinyin__startswith=low)
        for initials in queries.initials_variants(low):
            q |= Q(name_initials__startswith=initials)
        return q
    return Q(name__startswith=text)


@pytest.fixture
def crowd(world):
    world.extra = {name: f.make_volunteer(world.S11 if i % 2 else world.S21, name) for i, name in enumerate(NAMES)}
    return world


def paged_ids(user, text="", page_size=50, **kw) -> list[int]:
    """Every id of the paged search, page after page, as the console's Paginator walks it."""
    paginator = Paginator(search_volunteers(user, text=text, **kw), page_size)
    return [v.pk for n in paginator.page_range for v in paginator.page(n)]


def test_paged_search_finds_what_the_single_or_found_in_the_same_order(crowd):
    from wenming.people.models import Volunteer

    for role in ["district_admin", "institute_admin", "station_admin", "volunteer"]:
        user = crowd.users[role]
        for text in TEXTS + [crowd.volunteers["S12"].plain_phone, crowd.volunteers["S12"].number,
                             crowd.volunteers["S21"].plain_id_number]:
            before = list(volunteers_for(user).filter(old_search_q(text)).values_list("pk", flat=True))
            assert list(volunteers_for(user, text=text).values_list("pk", flat=True)) == before, (role, text)
            assert paged_ids(user, text) == before, (role, text)
            assert paged_ids(user, text, page_size=2) == before, (role, text)
    assert paged_ids(crowd.district_admin) == list(Volunteer.objects.order_by("-pk").values_list("pk", flat=True))


def test_filters_combine_with_the_ways(crowd):
    from wenming.core.models import Skill

    nursing = Skill.objects.create(name="医疗护理")
    for name in ["张三丰", "沙僧", "章子怡"]:
        crowd.extra[name].skills.add(nursing)
    admin = crowd.district_admin
    assert paged_ids(admin, "zh", skill_id=nursing.pk) == sorted(
        [crowd.extra["张三丰"].pk, crowd.extra["章子怡"].pk], reverse=True)
    assert paged_ids(admin, "shs", station_id=crowd.S11.pk) == [
        v.pk for v in volunteers_for(admin, text="shs", station_id=crowd.S11.pk)]


@pytest.mark.parametrize(("text", "ways"), [
    ("张三", ["name"]),
    ("13912345678", ["phone_index"]),
    ("43050220260000", ["number"]),
    ("li", ["name_pinyin", "name_initials"]),
    ("zhangs", ["name_pinyin", "name_initials", "name_initials"]),  # zhangs…, or initials zhangs / zangs
    # No full pinyin starts with these: initials only.
    ("lxm", ["name_initials"]),
    ("zhs", ["name_initials", "name_initials"]),  # zhs, and zs for 张三
    # One letter as initials holds everyone whose pinyin starts with it: one way.
    ("l", ["name_initials"]),
    ("zh", ["name_initials"]),  # z… as initials holds zh… as pinyin and as initials
    ("   ", None),
])
def test_the_shape_of_the_text_picks_the_ways(text, ways):
    branches = search_branches(text)
    if ways is None:
        assert branches is None
    else:
        assert [child[0].split("__")[0] for q in branches for child in q.children] == ways


@pytest.mark.parametrize(("letters", "can"), [
    ("zhangsan", True), ("zhangs", True), ("zh", True), ("xiaom", True), ("ouyang", True), ("lv", True),
    ("er", True), ("ng", True), ("a", True),
    ("lxm", False), ("zhs", False), ("ly", False), ("oyx", False), ("xyz", False), ("zhangsv", False),
])
def test_letters_that_can_start_a_full_pinyin(letters, can):
    assert queries.could_be_pinyin(letters) is can


def test_every_syllable_a_name_can_hold_is_known():
    """A syllable missing from the list would hide people from a pinyin search: every reading
    pypinyin gives, of every character and of words (a sample), and the surname readings, is in it."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    from wenming.people.services import SURNAME_READINGS, name_pinyin

    syllables, _starts = queries.pinyin_syllables()
    chars = "".join(map(chr, pinyin_dict))
    words = "，".join(list(phrases_dict)[::7])
    given = {s for s in lazy_pinyin(chars + words, style=Style.NORMAL, errors="ignore") if s.isascii()}
    given |= {s for readings in SURNAME_READINGS.values() for s in readings}
    assert given - syllables == set()
    for name in ["张三", "尉迟恭", "曾国藩", "吕布", "欧阳修", "女娲", "嗯哼"]:
        assert queries.could_be_pinyin(name_pinyin(name)[0]), name


def test_count_stops_at_the_cap_and_says_so(crowd, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    admin = crowd.district_admin
    everyone = list(volunteers_for(admin).values_list("pk", flat=True))
    assert len(everyone) > 4

    results = search_volunteers(admin)
    assert results.count() == 3 and results.count_is_capped
    # Past the counted ones, a slice still gives the next matches (the API pages on).
    assert [v.pk for v in results[0:2]] == everyone[0:2]
    assert [v.pk for v in results[3:6]] == everyone[3:6]
    assert results[len(everyone) : len(everyone) + 5] == []

    # Exactly at the cap: not capped. Two ways (pinyin zh…, initials zs…) are counted as one set.
    exact = search_volunteers(admin, text="zhang")
    names = sorted(v.name for v in volunteers_for(admin, text="zhang"))
    assert names == ["张三", "张三丰", "章子怡"]
    assert exact.count() == 3 and not exact.count_is_capped
    few = search_volunteers(admin, text="zhs")
    assert few.count() == 2 and not few.count_is_capped


def test_multi_way_union_is_capped_on_the_whole(crowd, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    admin = crowd.district_admin
    # "li": pinyin li… (李四 李思 刘晓明 刘小敏) or initials li… (nobody) — two ways.
    assert len(search_branches("li")) == 2
    expected = list(volunteers_for(admin, text="li").values_list("pk", flat=True))
    assert len(expected) == 4
    results = search_volunteers(admin, text="li")
    assert results.count() == 2 and results.count_is_capped
    assert [v.pk for v in results[0:2]] == expected[:2]
    assert [v.pk for v in results[2:4]] == expected[2:4]  # beyond the counted head: its own query


def test_a_page_reads_its_rows_with_station_and_skills(crowd, django_assert_max_num_queries):
    from wenming.core.models import Skill

    law = Skill.objects.create(name="法律咨询", ordering=2)
    care = Skill.objects.create(name="医疗护理", ordering=1)
    crowd.extra["张三丰"].skills.add(law, care)
    admin = crowd.district_admin
    admin._reach_paths = None
    # Reach (2); the count, the page's ids and its rows with their station in one statement; skills.
    with django_assert_max_num_queries(4):
        paginator = Paginator(search_volunteers(admin, text="zhs"), 50)
        rows = {v.name: (v.station.name, v.skill_names) for v in paginator.get_page(1)}
    assert rows == {"张三丰": (crowd.S21.name, ["医疗护理", "法律咨询"]), "张三": (crowd.S11.name, [])}
    body = crowd.api("district_admin").get("/volunteers", {"q": "zhsf"}).json()
    assert body["items"][0]["skills"] == ["医疗护理", "法律咨询"]


@pytest.mark.parametrize("window", [(0, 50), (0, 4), (4, 8), (8, 12), (100, 150)])
def test_any_window_gives_the_same_pages(crowd, window):
    """The slice read along with the count is a guess of the caller's: any guess, right or wrong,
    gives the same pages and the same count."""
    admin = crowd.district_admin
    everyone = list(volunteers_for(admin).values_list("pk", flat=True))
    for size in (4, 5, 50):
        paginator = Paginator(search_volunteers(admin, window=window), size)
        assert paginator.count == len(everyone)
        assert [v.pk for n in paginator.page_range for v in paginator.page(n)] == everyone, (window, size)
    nobody = search_volunteers(admin, text="xyz", window=window)
    assert (nobody.count(), nobody[0:4]) == (0, [])


def test_slices_only(crowd):
    results = search_volunteers(crowd.district_admin)
    with pytest.raises(TypeError):
        results[0]
    with pytest.raises(TypeError):
        results[0:10:2]
    assert results[5:5] == []


# --- The faces ---------------------------------------------------------------------------


def test_api_says_when_the_count_is_capped(crowd, monkeypatch):
    api = crowd.api("district_admin")
    body = api.get("/volunteers", {"q": "zhs"}).json()
    assert (body["count"], body["count_is_capped"]) == (2, False)

    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    everyone = list(volunteers_for(crowd.district_admin).values_list("pk", flat=True))
    seen, page = [], 1
    while True:
        r = api.get("/volunteers", {"page": page, "page_size": 2})
        assert r.status_code == 200, r.content
        body = r.json()
        assert (body["count"], body["count_is_capped"]) == (3, True)
        if not body["items"]:
            break
        seen += [item["id"] for item in body["items"]]
        page += 1
    assert seen == everyone  # a capped count does not stop the pages


def test_api_page_out_of_range_when_counted_exactly(crowd):
    r = crowd.api("district_admin").get("/volunteers", {"q": "zhs", "page": 2, "page_size": 2})
    assert r.status_code == 422
    assert r.json()["code"] == "page_out_of_range"


def test_openapi_documents_the_capped_count(crowd):
    spec = crowd.api("district_admin").get("/openapi.json").json()
    schema = spec["components"]["schemas"]["VolunteerPage"]
    assert {"items", "count", "count_is_capped"} <= set(schema["required"])
    assert "1000" in schema["properties"]["count_is_capped"]["description"]


def test_console_shows_a_capped_count_as_cap_plus(crowd, monkeypatch):
    client = crowd.client("district_admin")
    page = client.get("/people/volunteers/").content.decode()
    n = len(NAMES) + 4
    assert f"共 {n} 名志愿者" in page and "+ 名志愿者" not in page

    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    page = client.get("/people/volunteers/").content.decode()
    assert "共 3+ 名志愿者" in page
    assert "请输入更完整的姓名或拼音" in page
    assert f"共 {n} 名志愿者" not in page
    # The htmx swap of the results says the same.
    part = client.get("/people/volunteers/", {"q": "z"}, HTTP_HX_REQUEST="true",
                      HTTP_HX_TARGET="volunteer-results").content.decode()
    assert "共 3+ 名志愿者" in part


def test_console_pager_of_a_capped_list(crowd, monkeypatch):
    from wenming.people import views

    monkeypatch.setattr(queries, "COUNT_CAP", 4)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = crowd.client("district_admin")
    page = client.get("/people/volunteers/", {"page": 2}).content.decode()
    assert "第 2 / 2 页，共 4+ 条" in page
    everyone = list(volunteers_for(crowd.district_admin).values_list("pk", flat=True))
    assert f'/people/volunteers/{everyone[2]}/' in page and f'/people/volunteers/{everyone[0]}/' not in page


@pytest.mark.parametrize("page", ["2", "999", str(2**63 - 1), str(2**64), "last", "-1", "0", "x"])
def test_console_page_numbers_of_any_kind(crowd, page):
    r = crowd.client("district_admin").get("/people/volunteers/", {"page": page})
    assert r.status_code == 200
    assert "张三" in r.content.decode()  # one page for everyone: every odd number shows it
