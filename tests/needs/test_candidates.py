"""Dispatch candidates (wenming.needs.candidates): who may take an approved need, ranked by skills,
distance, open load, past ratings and availability, with the reasons in Chinese; the region rules
of team_may_take; configurable weights; a bounded number of queries."""

import itertools
import re
from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from tests.ledger.helpers import make_user, make_volunteer
from tests.needs.conftest import approved
from wenming.core.models import Department, Skill, User
from wenming.needs import candidates as cand
from wenming.needs.candidates import Candidate, candidates_for, split, time_slots
from wenming.needs.models import Need
from wenming.org.models import Platform, Site
from wenming.people.models import Team, TeamMembership

S = Need.State
_n = itertools.count(1)
CJK = re.compile(r"[\u4e00-\u9fff]")

# Positions (lat, lng): the need's street, its station, a station ~9 km away.
HERE = (27.2405, 111.4790)
NEAR = (27.2415, 111.4800)
FAR = (27.3100, 111.5400)


def skill_of(category):
    """The skill the fixture maps the category to (助老助残, 家电维修)."""
    return Skill.objects.get(name={"elderly-visit": "助老助残", "repair-appliance": "家电维修"}[category.code])


def make_team(loop, name, *, node=None, skills=None, capacity=5, platform=None, members=()) -> Team:
    team = Team.objects.create(name=name, node=node or loop.tree.station, capacity=capacity, platform=platform)
    team.skills.set([skill_of(loop.care)] if skills is None else skills)
    for volunteer in members:
        TeamMembership.objects.create(team=team, volunteer=volunteer)
    return team


def person(loop, name, *, station=None, skills=None, availability=(), account=True):
    n = next(_n)
    user = make_user(f"cand_vol_{n}", User.Role.VOLUNTEER) if account else None
    volunteer = make_volunteer(loop.tree.admin, station or loop.tree.station, name, user=user)
    volunteer.skills.set([skill_of(loop.care)] if skills is None else skills)
    volunteer.availability = list(availability)
    volunteer.save(update_fields=["availability"])
    return volunteer


def site(node, position, name="道德讲堂"):
    return Site.objects.create(node=node, name=f"{name}{next(_n)}", kind=Site.Kind.MORAL_HALL,
                               lat=position[0], lng=position[1])


def clone(need: Need, **fields) -> Need:
    """Another need like `need` (a row written straight, as the loop leaves it: held, or closed with stars)."""
    copy = Need.objects.get(pk=need.pk)
    copy.pk, copy.code = None, f"T{next(_n):07d}"
    for key, value in fields.items():
        setattr(copy, key, value)
    copy.save()
    return copy


def hold(template, count, **assignee):
    for _ in range(count):
        clone(template, state=S.ACCEPTED, **assignee)


def rate(template, stars, **assignee):
    for s in stars:
        clone(template, state=S.CLOSED, stars=s, **assignee)


def next_day(weekday: int, hour: int) -> datetime:
    """The next such weekday (0 = Monday) at that hour, not a fixed-date holiday."""
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() != weekday or (day.month, day.day) in cand.FIXED_HOLIDAYS:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def order(result, kind="team"):
    return [c.id for c in result if c.kind == kind]


def by_id(result, obj, kind="team") -> Candidate:
    return next(c for c in result if c.kind == kind and c.id == obj.pk)


# --- Ranking follows the factors -------------------------------------------------------------------


def test_skill_beats_no_skill(loop):
    """A team without the category's skill ranks below, ineligible with team_may_take's reason;
    a volunteer without it is not proposed; more of the wanted skills beats fewer."""
    unskilled = make_team(loop, "东风社区文艺队", skills=[])
    need = approved(loop)
    result = candidates_for(need)
    assert order(result) == [loop.team.pk, unskilled.pk]
    low = by_id(result, unskilled)
    assert not low.eligible and low.why_not == "队伍专长与需求类别不符"
    assert low.parts["skill"] == 0 and "专长不对口" in low.reasons
    top = by_id(result, loop.team)
    assert top.eligible and top.parts["skill"] == 1 and "专长对口：助老助残" in top.reasons

    skilled = person(loop, "孙护工")
    plain = person(loop, "周文员", skills=[])
    vols = order(candidates_for(need), "volunteer")
    assert skilled.pk in vols and plain.pk not in vols

    both = [skill_of(loop.care), skill_of(loop.repair)]
    loop.care.skills.add(skill_of(loop.repair))
    one, two = person(loop, "吴一技"), person(loop, "郑两技", skills=both)
    team_two = make_team(loop, "东风社区综合服务队", skills=both)
    result = candidates_for(need)
    assert by_id(result, two, "volunteer").parts["skill"] == 1 > by_id(result, one, "volunteer").parts["skill"]
    assert order(result, "volunteer").index(two.pk) < order(result, "volunteer").index(one.pk)
    assert order(result)[0] == team_two.pk
    assert "专长对口：助老助残、家电维修" in by_id(result, team_two).reasons


def test_platform_match_counts_for_teams(loop):
    dept = Department.objects.create(name="区民政局")
    platform = Platform.objects.create(name="扶贫济困", lead_department=dept)
    other = Platform.objects.create(name="文化服务", lead_department=dept)
    loop.care.platform = platform
    loop.care.save(update_fields=["platform"])
    loop.team.platform = other
    loop.team.save(update_fields=["platform"])
    same = make_team(loop, "东风社区扶贫队", platform=platform)
    result = candidates_for(approved(loop))
    assert order(result)[:2] == [same.pk, loop.team.pk]
    assert "平台对口" in by_id(result, same).reasons and "平台对口" not in by_id(result, loop.team).reasons


def test_near_beats_far(loop):
    site(loop.tree.station, NEAR)
    site(loop.tree.other_station, FAR)
    need = approved(loop, lat=HERE[0], lng=HERE[1])
    result = candidates_for(need, dispatcher=loop.tree.admin)  # the far team is in the admin's reach
    assert order(result) == [loop.team.pk, loop.far_team.pk]
    near, far = by_id(result, loop.team), by_id(result, loop.far_team)
    assert near.parts["distance"] > 0.9 > 0.4 > far.parts["distance"]
    assert "距离约150米" in near.reasons  # 0.1′ of latitude and of longitude
    assert any(re.fullmatch(r"距离约(9|10)\.\d公里", r) for r in far.reasons), far.reasons


def test_a_loaded_team_ranks_lower_and_a_full_one_is_ineligible(loop):
    busy = make_team(loop, "东风社区忙碌队", capacity=5)
    free = make_team(loop, "东风社区空闲队", capacity=5)
    need = approved(loop)
    hold(need, 2, team=busy)
    result = candidates_for(need)
    assert order(result).index(free.pk) < order(result).index(busy.pk)
    assert by_id(result, busy).parts["load"] == 0.6 and "在办2/5项" in by_id(result, busy).reasons
    assert by_id(result, busy).eligible

    hold(need, 3, team=loop.team)  # loop.team's capacity is 3
    full_ranked_before = candidates_for(need, limit=3)
    full = by_id(full_ranked_before, loop.team)
    assert not full.eligible and full.why_not == "队伍已承接3项需求，已满"
    assert "在办3/3项（已满）" in full.reasons
    assert order(full_ranked_before)[-1] == loop.team.pk  # eligible ones first, whatever the score
    # The same answer as the dispatch service gives.
    from wenming.needs.services import team_may_take

    assert team_may_take(loop.team, need) == full.why_not


def test_a_loaded_volunteer_ranks_lower(loop):
    busy, free = person(loop, "钱忙"), person(loop, "孙闲")
    need = approved(loop)
    hold(need, 2, volunteer=busy)
    result = candidates_for(need)
    assert order(result, "volunteer").index(free.pk) < order(result, "volunteer").index(busy.pk)
    assert "在办2项" in by_id(result, busy, "volunteer").reasons
    assert "暂无在办需求" in by_id(result, free, "volunteer").reasons


def test_well_rated_ranks_higher_and_ratings_are_smoothed(loop):
    good = make_team(loop, "东风社区好评队")
    poor = make_team(loop, "东风社区差评队")
    lucky = make_team(loop, "东风社区一次五星队")
    steady = make_team(loop, "东风社区稳定好评队")
    need = approved(loop)
    rate(need, [5, 5, 4], team=good)
    rate(need, [2, 3], team=poor)
    rate(need, [5], team=lucky)
    rate(need, [5] * 40 + [4] * 10, team=steady)  # 50 ratings, 4.8 on average
    result = candidates_for(need)
    teams = order(result)
    assert teams.index(good.pk) < teams.index(loop.team.pk) < teams.index(poor.pk)  # no rating: the prior
    assert teams.index(steady.pk) < teams.index(lucky.pk)
    assert "历史评价4.8星（50次）" in by_id(result, steady).reasons
    assert "历史评价5.0星（1次）" in by_id(result, lucky).reasons
    assert "暂无评价" in by_id(result, loop.team).reasons

    rated, unrated = person(loop, "冯五星"), person(loop, "陈新人")
    rate(need, [5, 5, 5], volunteer=rated)
    vols = order(candidates_for(need), "volunteer")
    assert vols.index(rated.pk) < vols.index(unrated.pk)


def test_available_ranks_higher(loop):
    saturday = next_day(5, 10)
    weekend = person(loop, "卫周末", availability=["weekend"])
    weekday = person(loop, "蒋工作日", availability=["weekday"])
    unknown = person(loop, "沈未填")
    need = approved(loop, wished_at=saturday)
    result = candidates_for(need)
    assert order(result, "volunteer") == [weekend.pk, unknown.pk, weekday.pk]
    assert "周末有空" in by_id(result, weekend, "volunteer").reasons
    assert "周末未登记有空" in by_id(result, weekday, "volunteer").reasons
    assert "未填写可服务时间" in by_id(result, unknown, "volunteer").reasons

    # A team: the share of its members free then.
    free_team = make_team(loop, "东风社区周末队", members=[weekend])
    busy_team = make_team(loop, "东风社区平日队", members=[weekday, unknown])
    result = candidates_for(need)
    assert order(result).index(free_team.pk) < order(result).index(busy_team.pk)
    assert "1/1名队员周末有空" in by_id(result, free_team).reasons
    assert "0/2名队员周末有空" in by_id(result, busy_team).reasons


def test_time_slots():
    tz = timezone.get_current_timezone()
    assert time_slots(None) == frozenset()
    assert time_slots(datetime(2025, 3, 8, 10, tzinfo=tz)) == {"weekend"}  # a Saturday
    assert time_slots(datetime(2025, 3, 11, 20, tzinfo=tz)) == {"weekday", "evening"}  # a Tuesday evening
    assert time_slots(datetime(2025, 10, 2, 9, tzinfo=tz)) == {"holiday"}  # 国庆, a Thursday
    assert time_slots(datetime(2025, 10, 4, 19, tzinfo=tz)) == {"holiday", "weekend", "evening"}
    with override_settings(WENMING_HOLIDAYS=["2025-01-29", date(2025, 6, 2)]):  # 春节, 端午 (a Monday)
        assert time_slots(datetime(2025, 1, 29, 9, tzinfo=tz)) == {"holiday"}
        assert time_slots(datetime(2025, 6, 2, 9, tzinfo=tz)) == {"holiday"}


# --- Weights ---------------------------------------------------------------------------------------


def test_the_weights_setting_changes_the_order(loop):
    site(loop.tree.station, NEAR)
    site(loop.tree.other_station, FAR)
    need = approved(loop, lat=HERE[0], lng=HERE[1])
    hold(need, 2, team=loop.team)  # near, 2 of 3 places taken; the far team is free
    with override_settings(WENMING_CANDIDATE_WEIGHTS={"distance": 1, "load": 0}):
        assert order(candidates_for(need, dispatcher=loop.tree.admin)) == [loop.team.pk, loop.far_team.pk]
    with override_settings(WENMING_CANDIDATE_WEIGHTS={"distance": 0, "load": 1}):
        assert order(candidates_for(need, dispatcher=loop.tree.admin)) == [loop.far_team.pk, loop.team.pk]
    only_load = {"skill": 0, "distance": 0, "load": 2, "rating": 0, "availability": 0}
    with override_settings(WENMING_CANDIDATE_WEIGHTS=only_load):
        result = candidates_for(need, dispatcher=loop.tree.admin)
        assert [c.score for c in result if c.kind == "team"] == [1.0, pytest.approx(1 / 3, abs=1e-3)]


@pytest.mark.parametrize("weights", [{"speed": 1}, {"skill": -1}, {"skill": "high"}, ["skill"],
                                     {k: 0 for k in cand.FACTORS}])
def test_bad_weights_are_a_configuration_error(weights):
    with override_settings(WENMING_CANDIDATE_WEIGHTS=weights), pytest.raises(ImproperlyConfigured):
        cand.candidate_weights()


def test_default_weights_sum_to_one_and_scores_stay_in_range(loop):
    assert sum(cand.candidate_weights().values()) == pytest.approx(1)
    person(loop, "韩有空", availability=["weekend"])
    rate(approved(loop), [5, 5], team=loop.team)
    for c in candidates_for(approved(loop, wished_at=next_day(5, 9)), dispatcher=loop.tree.admin):
        assert 0 <= c.score <= 1 and set(c.parts) == set(cand.FACTORS)
        assert all(0 <= v <= 1 for v in c.parts.values())
        assert c.score == pytest.approx(sum(cand.candidate_weights()[k] * c.parts[k] for k in c.parts), abs=2e-3)


# --- Reasons, shape, positions ---------------------------------------------------------------------


def test_reasons_are_short_chinese_phrases(loop):
    person(loop, "杨志愿", availability=["evening"])
    person(loop, "朱无号", account=False)
    site(loop.tree.station, NEAR)
    result = candidates_for(approved(loop, lat=HERE[0], lng=HERE[1], wished_at=next_day(1, 19)),
                            dispatcher=loop.tree.admin)
    assert {c.kind for c in result} == {"team", "volunteer"}
    for c in result:
        assert len(c.reasons) >= 5
        for reason in c.reasons + ([c.why_not] if c.why_not else []):
            assert CJK.search(reason) and not re.search(r"[A-Za-z]", reason) and len(reason) <= 20, reason
    no_account = next(c for c in result if c.name == "朱无号")
    assert not no_account.eligible and no_account.why_not == "尚未开通平台账号，无法在线接单"
    assert "晚间有空" in next(c for c in result if c.name == "杨志愿").reasons


def test_one_list_with_at_most_limit_of_each_kind_eligible_first(loop):
    for i in range(4):
        make_team(loop, f"东风社区第{i}服务队")
        person(loop, f"志愿者{i}号")
    person(loop, "无账号", account=False)
    need = approved(loop)
    result = candidates_for(need, limit=3)
    teams, volunteers = split(result)
    assert len(teams) == 3 and len(volunteers) == 3
    assert [c for c in result if c.kind == "team"] == teams  # split keeps the order
    keys = [(not c.eligible, -c.score) for c in result]
    assert keys == sorted(keys)
    assert all(c.place == "东风社区新时代文明实践站" for c in result)
    assert candidates_for(need, limit=0) == []


def test_a_need_without_position_ranks_by_the_tree(loop):
    tree = loop.tree
    at_institute = make_team(loop, "东风路街道志愿服务队", node=tree.institute)
    at_centre = make_team(loop, "区志愿服务总队", node=tree.centre)
    need = approved(loop)
    assert need.lat is None
    result = candidates_for(need)
    assert order(result) == [loop.team.pk, at_institute.pk, at_centre.pk]
    assert "同一实践站" in by_id(result, loop.team).reasons
    assert "同一实践所辖区" in by_id(result, at_institute).reasons
    assert "同一区（县）内" in by_id(result, at_centre).reasons

    # The station has a site: the need is placed at its station.
    site(tree.station, NEAR)
    site(tree.institute, FAR)
    result = candidates_for(need)
    assert "同一实践站" in by_id(result, loop.team).reasons and by_id(result, loop.team).parts["distance"] == 1
    assert any(re.fullmatch(r"距实践站约(9|10)\.\d公里", r) for r in by_id(result, at_institute).reasons)
    assert by_id(result, at_centre).parts["distance"] == cand.TREE_NEARNESS["district"]  # the centre has no site


def test_a_node_without_sites_uses_its_own_coordinates(loop):
    tree = loop.tree
    tree.other_station.lat, tree.other_station.lng = FAR
    tree.other_station.save(update_fields=["lat", "lng"])
    need = approved(loop, lat=HERE[0], lng=HERE[1])
    far = by_id(candidates_for(need, dispatcher=tree.admin), loop.far_team)
    assert 0 < far.parts["distance"] < 0.4


# --- Who is considered -----------------------------------------------------------------------------


def test_teams_outside_the_region_only_within_the_dispatchers_reach(loop):
    tree = loop.tree
    need = approved(loop)
    assert loop.far_team.pk not in order(candidates_for(need))
    station_admin = make_user("cand_station_admin", User.Role.STATION_ADMIN, [tree.station])
    assert loop.far_team.pk not in order(candidates_for(need, dispatcher=station_admin))
    assert loop.far_team.pk in order(candidates_for(need, dispatcher=tree.admin))
    assert loop.far_team.pk in order(candidates_for(need, dispatcher=tree.far_admin))

    # A need escalated to the institute: the institute's subtree is the region.
    sibling = tree.institute.add_child(name="光明社区新时代文明实践站", kind="station", division_code="430502001002")
    sibling_team = make_team(loop, "光明社区志愿服务队", node=sibling)
    assert sibling_team.pk not in order(candidates_for(need))
    Need.objects.filter(pk=need.pk).update(node=tree.institute)
    need.refresh_from_db()
    assert sibling_team.pk in order(candidates_for(need))


def test_volunteers_outside_the_region_are_never_proposed(loop):
    tree = loop.tree
    sibling = tree.institute.add_child(name="光明社区新时代文明实践站", kind="station", division_code="430502001002")
    here = person(loop, "本站甲")
    neighbour = person(loop, "邻站乙", station=sibling)
    stranger = person(loop, "外所丙", station=tree.other_station)
    need = approved(loop)
    for dispatcher in (None, tree.admin, tree.far_admin):
        vols = order(candidates_for(need, dispatcher=dispatcher), "volunteer")
        assert stranger.pk not in vols and tree.wang.pk not in vols
        assert here.pk in vols and neighbour.pk in vols  # the station has fewer than `limit`
    # Enough at the station: the institute's other stations are not asked.
    vols = order(candidates_for(need, limit=1), "volunteer")
    assert vols == [here.pk]
    stranger.station = tree.station  # moved: now proposed
    stranger.save(update_fields=["station"])
    assert stranger.pk in order(candidates_for(need), "volunteer")


def test_a_category_without_skills_fits_everyone(loop):
    loop.care.skills.clear()
    plain = person(loop, "马全能", skills=[])
    no_skill_team = make_team(loop, "东风社区杂务队", skills=[])
    result = candidates_for(approved(loop))
    assert plain.pk in order(result, "volunteer")
    team = by_id(result, no_skill_team)
    assert team.eligible and team.parts["skill"] == 1 and "该类别不限专长" in team.reasons


def test_volunteers_who_served_here_are_in_the_pool(loop, monkeypatch):
    """Only the station's newest volunteers are scored, and those who served its latest needs."""
    monkeypatch.setattr(cand, "VOLUNTEERS_PER_LIMIT", 1)
    veteran = person(loop, "老志愿者", availability=["weekend"])
    need = approved(loop, wished_at=next_day(5, 10))
    rate(need, [5, 5, 5, 5], volunteer=veteran)
    newcomers = [person(loop, f"新志愿者{i}", availability=["weekend"]) for i in range(5)]
    vols = order(candidates_for(need, limit=3), "volunteer")
    assert vols == [veteran.pk, newcomers[4].pk, newcomers[3].pk]  # then the newest first


# --- Cost ------------------------------------------------------------------------------------------


# The category, the dispatcher's reach, the tree; teams (fitting, then others) and their skills;
# volunteers (who served here, the station's newest, the institute's) and their skills; everyone's
# loads and ratings; the members' availability.
MAX_QUERIES = 12


def _queries(need_pk, dispatcher_pk) -> int:
    need = Need.objects.get(pk=need_pk)
    dispatcher = User.objects.get(pk=dispatcher_pk)
    with CaptureQueriesContext(connection) as ctx:
        result = candidates_for(need, dispatcher=dispatcher)
    assert result
    return len(ctx)


def test_the_number_of_queries_is_bounded(loop, django_assert_max_num_queries):
    tree = loop.tree
    two = approved(loop, wished_at=next_day(5, 10))
    two.category.skills.add(skill_of(loop.repair))  # two wanted skills: the skills are read back too
    person(loop, "甲")
    rate(two, [4], team=loop.team)
    small = _queries(two.pk, tree.admin.pk)
    for i in range(12):
        make_team(loop, f"东风社区第{i}队", members=[person(loop, f"队员{i}", availability=["weekend"])])
        make_team(loop, f"东站社区第{i}队", node=tree.other_station)
    rate(two, [5, 4, 3], team=loop.far_team)
    # More candidates, no more queries (fewer here: enough fitting teams, no fill-up with the others).
    assert _queries(two.pk, tree.admin.pk) <= small <= MAX_QUERIES
    need = Need.objects.get(pk=two.pk)
    admin = User.objects.get(pk=tree.admin.pk)
    with django_assert_max_num_queries(MAX_QUERIES):
        candidates_for(need, dispatcher=admin)


def test_the_reasons_speak_the_reader_s_language():
    from django.utils import translation

    from wenming.needs import candidates

    assert candidates._distance_text(0.43, True) == "距离约430米"
    assert candidates._distance_text(2.54, False) == "距实践站约2.5公里"
    assert candidates._rating(14, 66)[1] == "历史评价4.7星（14次）"
    assert candidates._slot_label({"weekend", "evening"}) == "周末、晚间"
    with translation.override("en"):
        assert candidates._distance_text(0.43, True) == "about 430 m away"
        assert candidates._distance_text(2.54, False) == "about 2.5 km from the station"
        assert candidates._rating(14, 66)[1] == "rated 4.7 stars (14 ratings)"
        assert candidates._rating(0, 0)[1] == "not rated yet"
        assert candidates._rating(1, 5)[1] == "rated 5.0 stars (1 rating)"
        assert candidates._slot_label({"weekend", "evening"}) == "weekends, evenings"
