"""Creating and editing an activity on the console: the form offers only what is in reach, the
service's rules come back as Chinese messages on the form, and a refused form writes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.ledger.helpers import make_user, make_volunteer
from wenming.activities.models import Activity, Brand, Theme
from wenming.core.models import AuditEntry, Skill, User
from wenming.org.models import Site
from wenming.people.models import Team

from .conftest import make_activity, shift
from .console_helpers import client_for, station_admin

NEW = "/activities/new/"


def when(days=2, hour=9):
    start = (timezone.localtime() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M"), (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")


def valid(tree, **extra):
    start, end = when()
    data = {"title": "重阳节敬老院慰问", "description": "为老人理发、读报", "node": tree.station.pk,
            "starts_at": start, "ends_at": end, "capacity": "10", "serves": "public",
            "expected_beneficiaries": "30", "contact_name": "刘老师"}
    data.update(extra)
    return data


def message(response) -> str:
    return response.content.decode()


def test_create_a_draft_with_everything(tree, site):
    theme = Theme.objects.get_or_create(name="学雷锋")[0]
    skill = Skill.objects.create(name="理发")
    home = Site.objects.create(name="东风敬老院", kind=Site.Kind.NURSING_HOME, node=tree.station)
    brand = Brand.objects.create(name="七彩假期", node=tree.centre)  # a district brand, usable below
    c = client_for(station_admin(tree))
    r = c.post(NEW, valid(tree, themes=[theme.pk], skills=[skill.pk], require_skills="on", site=site.pk,
                          serves="nursing_home", served_site=home.pk, brand=brand.pk, allow_walk_ins="on",
                          restrict_to_node=tree.station.pk, signup_deadline=when()[0]))
    assert r.status_code == 302, message(r)
    a = Activity.objects.get()
    assert r["Location"] == f"/activities/{a.pk}/"
    assert a.status == Activity.Status.DRAFT and a.node == tree.station and a.site == site
    assert a.served_site == home and a.brand == brand and a.require_skills and a.allow_walk_ins
    assert list(a.themes.all()) == [theme] and list(a.skills.all()) == [skill]
    assert timezone.localtime(a.starts_at).strftime("%Y-%m-%dT%H:%M") == when()[0]
    assert AuditEntry.objects.filter(action="activity.create", object_id=str(a.pk)).exists()


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"title": ""}, "请填写活动名称"),
        ({"starts_at": ""}, "请填写开始时间"),
        ({"capacity": ""}, "请填写招募人数"),
        ({"title": "   "}, "请填写活动名称"),
        ({"title": "长" * 101}, "100"),
        ({"description": "x" * 5001}, "5000"),
        ({"capacity": "0"}, "1"),
        ({"capacity": "100001"}, "招募人数须在1到100000之间"),
        ({"capacity": "9" * 40}, "招募人数须在1到100000之间"),
        ({"capacity": "abc"}, "招募人数须为正整数"),
        ({"expected_beneficiaries": "-5"}, "0"),
        ({"starts_at": "2025-02-30T09:00"}, "请填写正确的日期和时间"),
        ({"starts_at": "99999-01-01T09:00"}, "请填写正确的日期和时间"),
        ({"starts_at": "1900-01-01T09:00"}, "日期不在合理范围内"),
        ({"node": ""}, "请选择组织单位或组织队伍"),
        ({"serves": "care_targets"}, "请填写所服务的关爱对象"),
        ({"serves": "nursing_home"}, "请选择所服务的敬老院或阵地"),
        ({"serves": "everyone"}, "选择一个有效的选项"),
    ],
)
def test_wrong_or_missing_input_gets_a_clear_message_and_writes_nothing(tree, change, expected):
    r = client_for(station_admin(tree)).post(NEW, valid(tree, **change))
    assert r.status_code == 200
    assert expected in message(r)
    assert "请按红字提示修改后再提交" in message(r) or "msg-error" in message(r)
    assert not Activity.objects.exists()


def test_times_in_the_wrong_order_or_too_long(tree):
    c = client_for(station_admin(tree))
    start, end = when()
    r = c.post(NEW, valid(tree, starts_at=end, ends_at=start))
    assert "结束时间须晚于开始时间" in message(r)
    r = c.post(NEW, valid(tree, ends_at=(timezone.localtime() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M")))
    assert "一次活动不能超过31天" in message(r)
    r = c.post(NEW, valid(tree, signup_deadline=(timezone.localtime() + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")))
    assert "报名截止时间不能晚于活动结束时间" in message(r)
    assert not Activity.objects.exists()


def test_a_nursing_home_must_be_a_nursing_home(tree, site):
    r = client_for(station_admin(tree)).post(NEW, valid(tree, serves="nursing_home", served_site=site.pk))
    assert "所选阵地不是敬老院" in message(r) and not Activity.objects.exists()


def test_choices_outside_reach_are_refused(tree):
    far_site = Site.objects.create(name="东站文化广场", kind=Site.Kind.CULTURE_SQUARE, node=tree.other_station)
    far_brand = Brand.objects.create(name="东站品牌", node=tree.other_station)
    far_team = Team.objects.create(name="东站服务队", node=tree.other_station)
    c = client_for(station_admin(tree))
    form_page = message(c.get(NEW))
    assert "东站文化广场" not in form_page and "东站品牌" not in form_page and "东站服务队" not in form_page
    for change in ({"node": tree.other_station.pk}, {"site": far_site.pk}, {"served_site": far_site.pk, "serves": "site"},
                   {"brand": far_brand.pk}, {"team": far_team.pk}, {"restrict_to_node": tree.centre.pk},
                   {"node": "99999999999999999999"}):
        r = c.post(NEW, valid(tree, **change))
        assert r.status_code == 200 and "选择一个有效的选项" in message(r), change
    assert not Activity.objects.exists()


def test_hostile_text_is_stored_as_text_and_escaped(tree):
    c = client_for(station_admin(tree))
    r = c.post(NEW, valid(tree, title="<script>alert(1)</script>", description="<img src=x onerror=alert(1)>"))
    a = Activity.objects.get()
    page = message(c.get(f"/activities/{a.pk}/"))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
    assert r.status_code == 302


def test_roles_that_may_not_create(tree):
    viewer = make_user("console_viewer", User.Role.VIEWER, [tree.centre])
    assert client_for(viewer).get(NEW).status_code == 403
    assert client_for(tree.vol_user).get(NEW).status_code == 403
    assert client_for(tree.vol_user).post(NEW, valid(tree)).status_code == 403
    assert not Activity.objects.exists()


def test_a_team_leader_organises_for_their_own_team(tree):
    leader = make_user("console_leader2", User.Role.TEAM_LEADER, [tree.station])
    team = Team.objects.create(name="东风社区志愿服务队", node=tree.station,
                               leader=make_volunteer(tree.admin, tree.station, "王队长", user=leader))
    c = client_for(leader)
    r = c.post(NEW, valid(tree, node="", team=team.pk))
    assert r.status_code == 302, message(r)
    a = Activity.objects.get()
    assert a.team == team and a.node == tree.station
    # The node chooser is a manager's: a team leader has none to pick
    assert "选择一个有效的选项" in message(c.post(NEW, valid(tree, team=team.pk)))


def test_edit_a_draft_and_a_published_activity(tree):
    a = make_activity(tree.admin, tree.station, publish=False)
    c = client_for(station_admin(tree))
    page = c.get(f"/activities/{a.pk}/edit/")
    assert page.status_code == 200 and a.title in message(page)
    r = c.post(f"/activities/{a.pk}/edit/", valid(tree, title="改过的名称", capacity="5"))
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.title == "改过的名称" and a.capacity == 5
    # a published one cannot move to another organiser; a refused edit changes nothing
    p = make_activity(tree.admin, tree.station, title="已发布")
    r = client_for(tree.admin).post(f"/activities/{p.pk}/edit/", valid(tree, title="换组织", node=tree.institute.pk))
    p.refresh_from_db()
    assert r.status_code == 200 and "已发布的活动不能更换组织单位或队伍" in message(r) and p.title == "已发布"


def test_a_finished_activity_cannot_be_edited(tree):
    a = shift(make_activity(tree.admin, tree.station), timedelta(days=-5))
    c = client_for(station_admin(tree))
    r = c.get(f"/activities/{a.pk}/edit/", follow=True)
    assert "不能再修改" in message(r)
    r = c.post(f"/activities/{a.pk}/edit/", valid(tree, title="偷偷改"))
    a.refresh_from_db()
    assert a.title != "偷偷改"


def test_edit_out_of_reach_is_404(tree):
    a = make_activity(tree.admin, tree.other_station, publish=False)
    c = client_for(station_admin(tree))
    assert c.get(f"/activities/{a.pk}/edit/").status_code == 404
    assert c.post(f"/activities/{a.pk}/edit/", valid(tree)).status_code == 404
    a.refresh_from_db()
    assert a.node == tree.other_station
