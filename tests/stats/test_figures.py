"""Each figure against a small dataset counted by hand (docs/FIGURES.md), through the roll-ups and
through the raw recount, for the centre, an institute and a station, a calendar year and a custom period."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories as f
from tests.stats import builders as b
from wenming.activities.models import Activity
from wenming.core.models import User
from wenming.needs.models import Need
from wenming.people.models import Volunteer
from wenming.stats import queries, rebuild, recount

Y = date(2025, 1, 1), date(2025, 12, 31)


@pytest.fixture
def data(world):
    w = world
    admin, admin2 = w.district_admin, f.make_user("admin2", User.Role.DISTRICT_ADMIN, [w.C])
    zhang, li, wang = w.volunteers["S11"], w.volunteers["S12"], w.volunteers["S21"]
    zhao = w.leader_volunteer
    t11, t21 = w.teams["S11"], w.teams["S21"]
    xl, wh = b.theme("学雷锋"), b.theme("文化惠民")
    a1 = b.activity(w.S11, b.at(date(2025, 3, 5), 11), platform=w.platform, themes=[xl, wh], team=t11,
                    beneficiaries=40)
    a2 = b.activity(w.S21, b.at(date(2025, 6, 1), 11), status=Activity.Status.SETTLED, themes=[xl], team=t21,
                    beneficiaries=25)
    b.activity(w.I1, b.at(date(2025, 3, 10), 11), status=Activity.Status.CANCELLED, beneficiaries=99)
    b.activity(w.S12, b.at(date(2025, 12, 31), 23, 30))  # the year's last half hour, local time
    b.activity(w.S12, b.at(date(2026, 1, 1), 0, 30), hours=1)  # UTC still 2025: belongs to 2026
    b.activity(w.C, b.at(date(2025, 5, 1), 11), status=Activity.Status.DRAFT)

    b.verified(admin, zhang, w.S11, date(2025, 3, 5), 120, ("activity", str(a1.pk)))
    r2 = b.verified(admin, li, w.S11, date(2025, 3, 5), 60, ("activity", str(a1.pk)))
    b.verified(admin, wang, w.S21, date(2025, 6, 1), 180, ("activity", str(a2.pk)))
    b.verified(admin, zhang, w.S21, date(2025, 6, 1), 60, ("activity", str(a2.pk)))
    b.recorded(admin, admin2, zhao, w.S11, date(2025, 4, 1), 90)
    b.adjust(admin, admin2, r2, -60)  # today: 李四's a1 comes to nothing

    S = Need.State
    n1 = b.at(date(2025, 2, 1), 10)
    b.need(w.S11, n1, state=S.CLOSED, approved_at=n1, dispatched_at=n1 + timedelta(hours=1),
           accepted_at=n1 + timedelta(hours=3), completed_at=n1 + timedelta(hours=72), stars=5,
           rated_at=n1 + timedelta(hours=80), team=t11, people_served=3)
    b.need(w.S11, b.at(date(2025, 2, 2)), state=S.REJECTED)
    b.need(w.S12, b.at(date(2025, 2, 3)), state=S.CANCELLED)
    n4 = b.at(date(2025, 2, 4), 10)
    b.need(w.S21, n4, state=S.CLOSED, approved_at=n4, dispatched_at=n4, accepted_at=n4 + timedelta(hours=4),
           completed_at=n4 + timedelta(hours=48), stars=3, rated_at=n4 + timedelta(hours=50), team=t21)
    b.need(w.S21, b.at(date(2025, 12, 31), 23), overdue=True)
    b.need(w.S11, b.at(date(2026, 1, 1), 0, 10))

    b.report(w.C, date(2025, 1, 8), "district")
    b.report(w.C, date(2025, 9, 9), "district", "第二篇")
    b.report(w.S11, date(2025, 3, 6), "city")
    b.report(w.I2, date(2025, 12, 31), "province")
    b.report(w.S21, date(2025, 7, 1), "central")
    b.report(w.S21, date(2026, 1, 1), "central", "次年")
    return w


def pick(figures: dict, *keys):
    return {k: figures[k] for k in keys}


def test_centre_year_by_hand(data):
    w = data
    got = queries.summary(w.C, *Y)
    assert pick(got, "activities", "people_served_activities", "people_served_needs", "people_served") == {
        "activities": 3, "people_served_activities": 65, "people_served_needs": 4, "people_served": 69}
    assert got["by_platform"] == [{"id": w.platform.pk, "name": "传思想习理论", "activities": 1, "people_served": 40}]
    assert [(t["name"], t["activities"]) for t in got["by_theme"]] == [("学雷锋", 2), ("文化惠民", 1)]
    assert pick(got, "minutes_verified", "minutes_recorded", "minutes_total", "hours_total") == {
        "minutes_verified": 420, "minutes_recorded": 90, "minutes_total": 510, "hours_total": 8.5}
    # 张三×a1, 张三×a2, 王五×a2, 赵六's recorded service; 李四×a1 was corrected to nothing.
    assert got["participations"] == 4
    # Records dated in 2025 with more than zero minutes (the correction is dated the day it was approved).
    assert got["volunteers"] == 4
    assert got["active_teams"] == 2
    assert got["new_volunteers"] == 0
    assert pick(got, "needs_collected", "needs_approved", "needs_rejected", "needs_cancelled", "needs_dispatched",
                "needs_accepted", "needs_fulfilled", "needs_rated", "needs_overdue") == {
        "needs_collected": 5, "needs_approved": 2, "needs_rejected": 1, "needs_cancelled": 1,
        "needs_dispatched": 2, "needs_accepted": 2, "needs_fulfilled": 2, "needs_rated": 2, "needs_overdue": 1}
    assert got["needs_completion_rate"] == 0.6667
    assert got["needs_average_rating"] == 4.0
    assert got["needs_mean_hours_to_accept"] == 3.0
    assert got["needs_mean_hours_to_complete"] == 60.0
    assert pick(got, "media_reports", "media_district", "media_city", "media_province", "media_central") == {
        "media_reports": 5, "media_district": 2, "media_city": 1, "media_province": 1, "media_central": 1}
    assert [(r["name"], r["hours_total"], r["activities"], r["people_served"], r["needs_fulfilled"])
            for r in got["rank_nodes"]] == [("东风路街道新时代文明实践所", 4.5, 2, 43, 1),
                                            ("汽车站街道新时代文明实践所", 4.0, 1, 26, 1)]
    hours_by_name = {r["name"]: r["hours_total"] for r in got["rank_volunteers_hours"]}
    assert hours_by_name == {"张三": 3.0, "王五": 3.0, "赵六": 1.5, "李四": 1.0}
    assert [r["hours_total"] for r in got["rank_volunteers_hours"]] == [3.0, 3.0, 1.5, 1.0]
    assert [(r["name"], r["hours_total"], r["events"]) for r in got["rank_teams_hours"]] == [
        ("S21志愿服务队", 4.0, 2), ("S11志愿服务队", 3.0, 2)]
    assert [(r["name"], r["average_rating"], r["ratings"]) for r in got["rank_teams_rating"]] == [
        ("S11志愿服务队", 5.0, 1), ("S21志愿服务队", 3.0, 1)]


def test_subtrees_by_hand(data):
    w = data
    i1 = queries.summary(w.I1, *Y)
    assert pick(i1, "activities", "participations", "volunteers", "minutes_verified", "minutes_recorded",
                "people_served", "needs_collected", "media_reports") == {
        "activities": 2, "participations": 2, "volunteers": 3, "minutes_verified": 180, "minutes_recorded": 90,
        "people_served": 43, "needs_collected": 3, "media_reports": 1}
    s21 = queries.summary(w.S21, *Y)
    assert pick(s21, "activities", "participations", "volunteers", "minutes_total", "people_served",
                "needs_collected", "needs_overdue", "media_reports", "active_teams") == {
        "activities": 1, "participations": 2, "volunteers": 2, "minutes_total": 240, "people_served": 26,
        "needs_collected": 2, "needs_overdue": 1, "media_reports": 1, "active_teams": 1}
    assert s21["rank_nodes"] == []


def test_this_year_counts_the_correction_and_the_new_volunteers(data):
    w = data
    today = timezone.localdate()
    got = queries.summary(w.C, date(today.year, 1, 1), date(today.year, 12, 31))
    assert got["minutes_verified"] == -60
    assert got["participations"] == 0
    assert got["new_volunteers"] == Volunteer.objects.count() == 4


@pytest.mark.parametrize("node_key", ["C", "I1", "I2", "S11", "S12", "S21"])
@pytest.mark.parametrize("period", [Y, (date(2025, 3, 1), date(2025, 6, 30)), (date(2025, 3, 1), date(2025, 3, 31)),
                                    (date(2025, 12, 31), date(2026, 1, 1)), (date(2024, 1, 1), date(2026, 12, 31))])
def test_rollups_equal_the_raw_recount(data, node_key, period):
    node = data.nodes[node_key]
    assert queries.summary(node, *period) == recount.summary(node, *period)


def test_verify_finds_nothing_then_a_tampered_rollup(data, capsys):
    assert rebuild.verify() == []
    call_command("stats", "verify")
    assert "一致" in capsys.readouterr().out
    from wenming.stats.models import Rollup

    row = Rollup.objects.filter(metric="activities").first()
    Rollup.objects.filter(pk=row.pk).update(value=row.value + 1)
    problems = rebuild.verify()
    assert len(problems) == 1 and "activities" in problems[0]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不一致"):
        call_command("stats", "verify")
    call_command("stats", "rebuild")
    assert rebuild.verify() == []
    from wenming.stats.models import MonthRollup

    MonthRollup.objects.filter(metric="minutes_verified", node=data.C).update(value=0)
    problems = rebuild.verify()
    assert problems and all("月汇总" in p and "minutes_verified" in p for p in problems)
    rebuild.rebuild()
    assert rebuild.verify() == []


def test_hours_of_a_need_count_for_the_team_that_served_it(data):
    """The needs' services write a need's code (not its id) as the ledger's source."""
    w = data
    n = Need.objects.get(team=w.teams["S21"])
    b.recorded(w.district_admin, User.objects.get(username="admin2"), w.volunteers["S21"], w.S21,
               date(2025, 2, 6), 120, ("need", n.code))
    got = queries.summary(w.C, *Y)
    assert [(r["name"], r["hours_total"]) for r in got["rank_teams_hours"]] == [
        ("S21志愿服务队", 6.0), ("S11志愿服务队", 3.0)]
    assert got == recount.summary(w.C, *Y)
    assert rebuild.verify() == []


def test_rating_ranking_breaks_ties_by_name_beyond_the_cut(world):
    """Only the teams that can make the list have their names read; ties at the cut are kept apart
    by name, as the full sort would."""
    teams = {name: f.make_team(world.S11, name) for name in ("丙队", "乙队", "甲队", "丁队", "戊队")}
    ratings = [(teams["甲队"].pk, 10, 2), (teams["乙队"].pk, 5, 1), (teams["丙队"].pk, 5, 1),
               (teams["丁队"].pk, 5, 1), (teams["戊队"].pk, 4, 1), (999999, 0, 0)]
    top = queries.rating_rows(ratings, 2)
    assert [(r["name"], r["average_rating"], r["ratings"]) for r in top] == [("甲队", 5.0, 2), ("丁队", 5.0, 1)]
    assert [r["name"] for r in queries.rating_rows(ratings, 4)] == ["甲队", "丁队", "丙队", "乙队"]
    assert [r["name"] for r in queries.rating_rows(ratings, 10)][-1] == "戊队"
    assert queries.rating_rows(ratings, 0) == [] and queries.rating_rows([], 5) == []


def test_rating_ranking_from_the_tallies_equals_the_recount_at_a_tied_cut(world):
    w = world
    teams = [f.make_team(w.S11, name) for name in ("丙队", "乙队", "甲队", "丁队")]
    for team, stars in zip(teams, (4, 4, 4, 5), strict=True):
        t = b.at(date(2025, 5, 1), 10)
        b.need(w.S11, t, state=Need.State.CLOSED, approved_at=t, completed_at=t + timedelta(hours=5), stars=stars,
               rated_at=t + timedelta(hours=6), team=team)
    for limit in (1, 2, 3, 10):
        ours = queries.rankings(w.C, *Y, limit=limit)["rank_teams_rating"]
        assert ours == recount.rank_teams_rating(w.C, *Y, limit)
    assert [r["name"] for r in queries.rankings(w.C, *Y, limit=2)["rank_teams_rating"]] == ["丁队", "丙队"]


def test_one_five_star_rating_does_not_head_teams_rated_many_times(world):
    """The ranking orders by the mean smoothed toward the prior (as if five more ratings of 4 stars):
    4.8 stars from five ratings outranks 5 stars from one; each row still shows the plain mean."""
    w = world
    once, often = f.make_team(w.S11, "甲队"), f.make_team(w.S11, "乙队")
    for team, stars in [(once, 5), *((often, s) for s in (5, 5, 5, 4, 5))]:
        t = b.at(date(2025, 5, 1), 10)
        b.need(w.S11, t, state=Need.State.CLOSED, approved_at=t, completed_at=t + timedelta(hours=5), stars=stars,
               rated_at=t + timedelta(hours=6), team=team)
    ours = queries.rankings(w.C, *Y, limit=10)["rank_teams_rating"]
    assert [(r["name"], r["average_rating"], r["ratings"]) for r in ours] == [("乙队", 4.8, 5), ("甲队", 5.0, 1)]
    assert ours == recount.rank_teams_rating(w.C, *Y, 10)


@pytest.mark.parametrize("limit", [0, 1, 2, 10])
def test_one_grouping_gives_the_count_and_the_ranking_of_volunteers(data, limit):
    """Outside the tallied periods, distinct volunteers and their ranking come from one grouping of the
    records (a window counts the groups): the same as counting and ranking apart."""
    period = (date(2025, 1, 2), date(2025, 12, 30))  # not a calendar year: no tallies
    assert recount.volunteers(data.C, *period) >= 3
    for node in data.nodes.values():
        count, top = recount.volunteer_activity(node, *period, limit)
        assert count == recount.volunteers(node, *period)
        assert queries.volunteer_rows(top) == recount.rank_volunteers_hours(node, *period, limit)
    assert recount.volunteer_activity(data.C, date(2030, 1, 1), date(2030, 1, 31), 10) == (0, [])
