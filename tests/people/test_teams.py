"""Volunteer service teams: a node, a leader from under that node who is always a member,
members within reach, unique names per node, every change audited."""

import pytest

from tests import factories as f
from wenming.core.errors import Conflict, Forbidden, InvalidInput
from wenming.core.models import AuditEntry, Skill
from wenming.org.models import SocialOrganization
from wenming.people import services
from wenming.people.models import Team, TeamMembership

pytestmark = pytest.mark.django_db


def members(team):
    return sorted(team.members.values_list("name", flat=True))


# --- Creating and changing -----------------------------------------------------------------------


def test_create_a_team_with_leader_skills_platform(world):
    skill = Skill.objects.create(name="文艺演出")
    leader = world.volunteers["S12"]
    team = services.create_team(world.institute_admin, world.I1, name=" 光明文艺队 ", leader=leader,
                                platform=world.platform, skills=[skill], capacity=3, description="唱歌跳舞")
    assert team.name == "光明文艺队"
    assert team.node == world.I1  # a team may belong to an institute; its leader comes from under it
    assert members(team) == ["李四"]
    assert list(team.skills.all()) == [skill]
    entry = AuditEntry.objects.get(action="team.create")
    assert entry.after["leader"] == leader.number and entry.after["skills"] == ["文艺演出"]


def test_create_through_the_api(world):
    r = world.api("station_admin").post("/teams", {"node_id": world.S11.pk, "name": "东风护理队",
                                                   "leader_id": world.own_volunteer.pk, "capacity": 2})
    assert r.status_code == 201, r.content.decode()
    body = r.json()
    assert body["leader_id"] == world.own_volunteer.pk and body["member_count"] == 1 and body["capacity"] == 2
    assert body["leader"] == str(world.own_volunteer)


@pytest.mark.parametrize(("name", "code"), [("", "name_invalid"), ("   ", "name_invalid"), ("队" * 101, "name_invalid")])
def test_team_name_rules(world, name, code):
    with pytest.raises(InvalidInput) as exc:
        services.create_team(world.district_admin, world.S11, name=name)
    assert exc.value.code == code


def test_team_names_are_unique_per_node(world):
    with pytest.raises(Conflict) as exc:
        services.create_team(world.district_admin, world.S11, name="S11志愿服务队")
    assert exc.value.code == "team_name_taken"
    assert services.create_team(world.district_admin, world.S12, name="S11志愿服务队").node == world.S12
    r = world.api("district_admin").post("/teams", {"node_id": world.S11.pk, "name": " S11志愿服务队 "})
    assert r.status_code == 409 and r.json()["code"] == "team_name_taken"


def test_renaming_to_ones_own_name_is_fine(world):
    team = world.teams["S11"]
    services.update_team(world.station_admin, team, name="S11志愿服务队")


def test_leader_must_come_from_under_the_team_node(world):
    with pytest.raises(InvalidInput) as exc:
        services.create_team(world.district_admin, world.S11, name="跨站队", leader=world.volunteers["S12"])
    assert exc.value.code == "leader_out_of_node"
    with pytest.raises(InvalidInput):
        services.update_team(world.district_admin, world.teams["S12"], leader=world.volunteers["S21"])
    assert not Team.objects.filter(name="跨站队").exists()


def test_a_new_leader_becomes_a_member_and_the_old_one_stays(world):
    team = world.teams["S11"]
    services.update_team(world.station_admin, team, leader=world.own_volunteer)
    team.refresh_from_db()
    assert team.leader == world.own_volunteer
    assert members(team) == ["张三", "赵六"]
    entry = AuditEntry.objects.get(action="team.update")
    assert entry.before["leader"] == world.leader_volunteer.number
    assert entry.after["leader"] == world.own_volunteer.number


def test_update_that_changes_nothing_is_not_audited(world):
    services.update_team(world.station_admin, world.teams["S11"], name="S11志愿服务队", capacity=5)
    assert not AuditEntry.objects.filter(action="team.update").exists()


def test_capacity_limits_in_the_api(world):
    api = world.api("district_admin")
    for capacity in [-1, 10001, "many"]:
        r = api.patch(f"/teams/{world.teams['S11'].pk}", {"capacity": capacity})
        assert r.status_code == 422, capacity


def test_social_organisation_out_of_reach_is_404(world):
    org = SocialOrganization.objects.create(name="汽车站公益协会", credit_code="91110000600037341L", node=world.I2)
    api = world.api("institute_admin")
    r = api.post("/teams", {"node_id": world.S11.pk, "name": "公益队", "social_org_id": org.pk})
    assert r.status_code == 404
    r = world.api("district_admin").post("/teams", {"node_id": world.S11.pk, "name": "公益队", "social_org_id": org.pk})
    assert r.status_code == 201 and r.json()["social_org"] == "汽车站公益协会"


def test_clearing_platform_and_leader(world):
    team = world.teams["S11"]
    team.platform = world.platform
    team.save()
    r = world.api("station_admin").patch(f"/teams/{team.pk}", {"platform_id": None, "leader_id": None})
    assert r.status_code == 200, r.content.decode()
    team.refresh_from_db()
    assert team.platform is None and team.leader is None
    assert members(team) == ["赵六"]  # no longer leader, still a member


# --- Who may ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "department", "team_leader", "volunteer"])
def test_read_only_roles_change_no_team(world, role):
    user = world.users[role]
    with pytest.raises(Forbidden):
        services.create_team(user, world.S11, name="不该有的队")
    with pytest.raises(Forbidden):
        services.update_team(user, world.teams["S11"], description="改")
    with pytest.raises(Forbidden):
        services.add_team_member(user, world.teams["S11"], world.own_volunteer)


def test_admins_change_teams_only_in_reach(world):
    with pytest.raises(Forbidden):
        services.create_team(world.station_admin, world.S12, name="越界队")
    with pytest.raises(Forbidden):
        services.update_team(world.institute_admin, world.teams["S21"], description="改")


def test_team_leader_sees_their_team(world):
    r = world.api("team_leader").get(f"/teams/{world.teams['S11'].pk}")
    assert r.status_code == 200
    assert r.json()["leader_id"] == world.leader_volunteer.pk


# --- Members ----------------------------------------------------------------------------------------


def test_add_and_remove_a_member(world):
    team = world.teams["S11"]
    services.add_team_member(world.station_admin, team, world.own_volunteer)
    assert members(team) == ["张三", "赵六"]
    with pytest.raises(Conflict) as exc:
        services.add_team_member(world.station_admin, team, world.own_volunteer)
    assert exc.value.code == "already_member"
    services.remove_team_member(world.station_admin, team, world.own_volunteer)
    assert members(team) == ["赵六"]
    with pytest.raises(Conflict) as exc:
        services.remove_team_member(world.station_admin, team, world.own_volunteer)
    assert exc.value.code == "not_member"
    actions = list(AuditEntry.objects.filter(object_type="people.team").values_list("action", flat=True))
    assert sorted(actions) == ["team.member_add", "team.member_remove"]


def test_the_leader_cannot_be_removed(world):
    team = world.teams["S11"]
    with pytest.raises(Conflict) as exc:
        services.remove_team_member(world.station_admin, team, world.leader_volunteer)
    assert exc.value.code == "is_leader"
    assert members(team) == ["赵六"]


def test_members_come_from_within_reach(world):
    team = world.teams["S11"]
    with pytest.raises(Forbidden):
        services.add_team_member(world.station_admin, team, world.volunteers["S21"])
    # An institute admin may bring in a volunteer of a neighbouring station in their reach.
    services.add_team_member(world.institute_admin, team, world.volunteers["S12"])
    assert "李四" in members(team)
    assert TeamMembership.objects.filter(team=team).count() == 2


def test_member_count_in_lists(world):
    team = world.teams["S11"]
    f.make_volunteer(world.S11, "孙九")
    services.add_team_member(world.station_admin, team, world.own_volunteer)
    items = {t["id"]: t for t in world.api("station_admin").get("/teams").json()["items"]}
    assert items[team.pk]["member_count"] == 2
