"""Scoping of activities, sign-ups, attendances and scans across roles: who sees what, who
organises what (publish, cancel, settle, the code screen, the sign-up list)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests import factories as f
from tests.ledger.helpers import make_volunteer
from wenming.activities import queries, services
from wenming.activities.models import Activity, Attendance, Scan, SignUp
from wenming.core.models import User
from wenming.core.scoping import scoped
from wenming.people.models import Team

from .conftest import make_activity
from .helpers import account, running, scan

ROLES = ["admin", "inst_admin", "far_admin", "team_leader", "vol_user", "viewer", "other_leader"]
ACTIVITIES = ["station", "other_station", "team", "other_team", "draft"]

# Who sees which activity (API list and detail).
SEES = {
    "admin": set(ACTIVITIES),
    "inst_admin": {"station", "team", "other_team", "draft"},
    "far_admin": {"other_station"},
    "team_leader": {"station", "team", "other_team", "draft"},
    "vol_user": {"station", "other_station", "team", "other_team"},  # every published one, no drafts
    "viewer": set(ACTIVITIES),
    "other_leader": {"station", "team", "other_team", "draft"},
}
# Who organises which (publish / cancel / settle / code screen / sign-up list).
ORGANISES = {
    "admin": set(ACTIVITIES),
    "inst_admin": {"station", "team", "other_team", "draft"},
    "far_admin": {"other_station"},
    "team_leader": {"team"},
    "vol_user": set(),
    "viewer": set(),
    "other_leader": {"other_team"},
}


@pytest.fixture
def scene(tree, site):
    leader_volunteer = make_volunteer(tree.admin, tree.station, "队长赵")
    leader_volunteer.user = tree.team_leader
    leader_volunteer.save(update_fields=["user"])
    team = Team.objects.create(node=tree.station, name="东风志愿服务队", leader=leader_volunteer)
    other_leader = f.make_user("other_leader", User.Role.TEAM_LEADER, [tree.station])
    other_lv = make_volunteer(tree.admin, tree.station, "队长钱", user=other_leader)
    other_team = Team.objects.create(node=tree.station, name="光明志愿服务队", leader=other_lv)
    viewer = f.make_user("viewer", User.Role.VIEWER, [tree.centre])
    activities = {
        "station": make_activity(tree.admin, tree.station, title="站里的活动", site=site),
        "other_station": make_activity(tree.admin, tree.other_station, title="别站的活动"),
        "team": make_activity(tree.admin, tree.station, team=team, title="本队活动"),
        "other_team": make_activity(tree.admin, tree.station, team=other_team, title="别队活动"),
        "draft": make_activity(tree.admin, tree.station, publish=False, title="草稿"),
    }
    users = {"admin": tree.admin, "inst_admin": tree.inst_admin, "far_admin": tree.far_admin,
             "team_leader": tree.team_leader, "vol_user": tree.vol_user, "viewer": viewer,
             "other_leader": other_leader}
    return SimpleNamespace(team=team, other_team=other_team, activities=activities, users=users,
                           names={a.pk: k for k, a in activities.items()})


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_which_activity(scene, role):
    user = scene.users[role]
    seen = {scene.names[a.pk] for a in queries.activities_for(user)}
    assert seen == SEES[role]
    api = f.Api(f.make_token(user))
    listed = {scene.names[i["id"]] for i in api.get("/activities", {"page_size": 100}).json()["items"]}
    assert listed == SEES[role]
    for key, activity in scene.activities.items():
        r = api.get(f"/activities/{activity.pk}")
        assert r.status_code == (200 if key in SEES[role] else 404), (key, r.content)


@pytest.mark.parametrize("role", ROLES)
def test_who_organises_which_activity(scene, role):
    user = scene.users[role]
    for key, activity in scene.activities.items():
        assert services.can_organise(user, activity) == (key in ORGANISES[role]), key


@pytest.mark.parametrize("role", ROLES)
def test_organiser_endpoints_across_roles(scene, role):
    api = f.Api(f.make_token(scene.users[role]))
    for key, activity in scene.activities.items():
        allowed, visible = key in ORGANISES[role], key in SEES[role]
        expected = 200 if allowed else (403 if visible else 404)
        r = api.get(f"/activities/{activity.pk}/signups")
        assert r.status_code == expected, (key, r.content)
        if key != "draft":
            r = api.get(f"/activities/{activity.pk}/checkin-code")
            assert r.status_code == expected, (key, r.content)
        r = api.post(f"/activities/{activity.pk}/settle", {})
        # Allowed: refused only because the activity has not finished yet.
        assert r.status_code == (409 if allowed else expected), (key, r.content)
        if allowed:
            assert r.json()["code"] == "not_finished"
    # Nothing was changed by anyone.
    assert not Activity.objects.filter(status=Activity.Status.SETTLED).exists()


@pytest.mark.parametrize("role", ROLES)
def test_who_may_publish_the_draft_and_cancel(scene, role):
    api = f.Api(f.make_token(scene.users[role]))
    draft = scene.activities["draft"]
    r = api.post(f"/activities/{draft.pk}/publish", {})
    if "draft" in ORGANISES[role]:
        assert r.status_code == 200
    else:
        assert r.status_code in (403, 404) and r.json()["code"] in ("role_forbidden", "out_of_scope", "not_found")
        assert Activity.objects.get(pk=draft.pk).status == Activity.Status.DRAFT
    team_activity = scene.activities["team"]
    r = api.post(f"/activities/{team_activity.pk}/cancel", {"reason": "测试取消"})
    if "team" in ORGANISES[role]:
        assert r.status_code == 200
    else:
        assert r.status_code in (403, 404)
        assert Activity.objects.get(pk=team_activity.pk).status == Activity.Status.PUBLISHED


def test_a_team_leader_creates_only_for_their_own_team(tree, scene):
    leader = tree.team_leader
    own = services.create_activity(leader, services.ActivityData(
        title="队里的活动", starts_at=scene.activities["station"].starts_at + timedelta(days=1),
        ends_at=scene.activities["station"].starts_at + timedelta(days=1, hours=2), capacity=5, team=scene.team))
    assert own.node == tree.station and own.team == scene.team
    assert services.publish_activity(leader, own).status == Activity.Status.PUBLISHED
    for team, node in ((scene.other_team, None), (None, tree.station)):
        with pytest.raises(services.Forbidden) as e:
            services.create_activity(leader, services.ActivityData(
                title="越权", starts_at=own.starts_at, ends_at=own.ends_at, capacity=5, team=team, node=node))
        assert e.value.code == "role_forbidden"


def test_a_station_admin_cannot_touch_another_stations_activity(tree, scene):
    activity = scene.activities["station"]
    for action in (
        lambda: services.publish_activity(tree.far_admin, scene.activities["draft"]),
        lambda: services.cancel_activity(tree.far_admin, activity, reason="越权"),
        lambda: services.settle_activity(tree.far_admin, activity),
        lambda: services.sign_up(tree.far_admin, activity, tree.li),
    ):
        with pytest.raises(services.Forbidden) as e:
            action()
        assert e.value.code == "out_of_scope"


def test_sign_ups_attendances_and_scans_are_scoped(tree, scene, site):
    live_here = running(tree, site=site, signed_up=[tree.zhang, tree.li], title="本站进行中")
    live_there = running(tree, node=tree.other_station, signed_up=[tree.wang], title="别站进行中")
    for volunteer, activity in ((tree.zhang, live_here), (tree.li, live_here), (tree.wang, live_there)):
        scan(account(volunteer), activity)
    here = {tree.zhang.pk, tree.li.pk}
    expect = {
        "admin": here | {tree.wang.pk},
        "inst_admin": here,
        "far_admin": {tree.wang.pk},
        "vol_user": {tree.zhang.pk},  # their own only
        "viewer": here | {tree.wang.pk},
    }
    for role, volunteers in expect.items():
        user = scene.users[role]
        for model in (SignUp, Attendance, Scan):
            got = set(scoped(model.objects.all(), user).values_list("volunteer_id", flat=True))
            assert got == volunteers, (role, model.__name__)


def test_a_volunteer_cannot_list_sign_ups_nor_cancel_others(tree, scene):
    activity = scene.activities["station"]
    services.sign_up(account(tree.li), activity)
    theirs = SignUp.objects.get(volunteer=tree.li)
    api = f.Api(f.make_token(tree.vol_user))
    assert api.get(f"/activities/{activity.pk}/signups").status_code == 403
    assert api.delete(f"/activities/{activity.pk}/signups/{theirs.pk}").status_code == 404
    far = f.Api(f.make_token(tree.far_admin))
    assert far.delete(f"/activities/{activity.pk}/signups/{theirs.pk}").status_code == 404
    assert SignUp.objects.get(pk=theirs.pk).status == SignUp.Status.CONFIRMED
