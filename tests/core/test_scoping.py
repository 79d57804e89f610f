"""The scoping helper itself: reach, several scopes, owners, anonymous users, managers.
(The full role × resource matrix through the API is tests/api/test_scoping_matrix.py.)"""

import pytest
from django.contrib.auth.models import AnonymousUser

from tests import factories as f
from wenming.core.errors import Forbidden, NotFound
from wenming.core.models import OrgNode
from wenming.core.scoping import (
    can_manage,
    can_reveal,
    get_scoped,
    in_reach,
    nodes_in_reach,
    reach_paths,
    require_manager,
    scoped,
)
from wenming.org.models import Site
from wenming.people.models import Team, Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(module_world):
    return module_world


def keys(world, qs):
    return sorted(world.key_of(n) for n in qs)


def test_reach_is_the_subtree_of_each_scope(world):
    assert keys(world, nodes_in_reach(world.district_admin)) == sorted(world.NODE_KEYS)
    assert keys(world, nodes_in_reach(world.institute_admin)) == ["I1", "S11", "S12"]
    assert keys(world, nodes_in_reach(world.station_admin)) == ["S11"]
    assert keys(world, nodes_in_reach(world.users["volunteer"])) == []
    assert keys(world, nodes_in_reach(world.institute_admin, kind="station")) == ["S11", "S12"]


def test_several_scopes_add_up_and_nested_ones_collapse(world):
    user = f.make_user("multi", "institute_admin", [world.I1, world.S21, world.S11])
    assert keys(world, nodes_in_reach(user)) == ["I1", "S11", "S12", "S21"]
    assert len(reach_paths(user)) == 2  # S11 lies under I1


def test_a_path_prefix_is_not_a_subtree(world):
    # Sibling nodes whose paths share a prefix string must not leak into each other.
    stations = [f.make_child(world.I2, f"站{i}", f"43050200200{i}") for i in range(2, 10)]
    stations += [f.make_child(world.I2, f"站{i}", f"4305020020{i}") for i in range(10, 13)]
    user = f.make_user("one", "station_admin", [stations[0]])
    assert list(nodes_in_reach(user)) == [stations[0]]
    assert all(in_reach(user, s) is (s == stations[0]) for s in stations)


def test_anonymous_sees_nothing_and_gets_not_found(world):
    anon = AnonymousUser()
    assert reach_paths(anon) == ()
    assert not scoped(Volunteer.objects.all(), anon).exists()
    assert not scoped(OrgNode.objects.all(), anon).exists()
    with pytest.raises(NotFound):
        get_scoped(Site.objects.all(), anon, world.sites["S11"].pk)
    with pytest.raises(Forbidden) as exc:
        require_manager(anon, world.S11)
    assert exc.value.status == 401
    assert not can_reveal(anon)


def test_superuser_reaches_everything(world):
    root = f.make_user("root", "viewer", is_superuser=True)
    assert scoped(Volunteer.objects.all(), root).count() == Volunteer.objects.count()
    assert can_manage(root, world.S21) and can_manage(root) and can_reveal(root)


@pytest.mark.parametrize("bad", [None, "abc", "1.5", [], {}, -1, 2**70])
def test_get_scoped_turns_any_bad_id_into_not_found(world, bad):
    with pytest.raises(NotFound):
        get_scoped(Site.objects.all(), world.district_admin, bad)


def test_out_of_reach_and_nonexistent_raise_the_same(world):
    with pytest.raises(NotFound) as out_of_reach:
        get_scoped(Site.objects.all(), world.station_admin, world.sites["S21"].pk)
    with pytest.raises(NotFound) as nonexistent:
        get_scoped(Site.objects.all(), world.station_admin, 987654)
    assert out_of_reach.value.as_dict() == nonexistent.value.as_dict()


def test_owners_see_their_own_rows_outside_their_scope(world):
    # A team leader scoped to S11 who also leads a team in S21 sees that team, and only that one there.
    s21_leader = f.make_volunteer(world.S21, "钱队长", user=f.make_user("tl2", "team_leader", [world.S11]))
    team = Team.objects.create(node=world.S21, name="汽车站队", leader=s21_leader)
    user = s21_leader.user
    visible = set(scoped(Team.objects.all(), user).values_list("pk", flat=True))
    assert visible == {world.teams["S11"].pk, team.pk}
    assert set(scoped(Volunteer.objects.all(), user).values_list("pk", flat=True)) == {
        world.own_volunteer.pk, world.leader_volunteer.pk, s21_leader.pk}


def test_managers_manage_only_in_reach_and_district_wide_only_at_the_top(world):
    assert can_manage(world.district_admin) and can_manage(world.district_admin, world.S21)
    assert can_manage(world.institute_admin, world.S12) and not can_manage(world.institute_admin, world.S21)
    assert not can_manage(world.institute_admin)  # district-wide things (platforms) are the district's
    assert can_manage(world.station_admin, world.S11) and not can_manage(world.station_admin, world.I1)
    for role in ["department", "viewer", "team_leader", "volunteer"]:
        assert not can_manage(world.users[role], world.S11), role
        assert not can_reveal(world.users[role]), role
    with pytest.raises(Forbidden) as exc:
        require_manager(world.station_admin, world.S12)
    assert exc.value.code == "out_of_scope"
    with pytest.raises(Forbidden) as exc:
        require_manager(world.viewer, world.S11)
    assert exc.value.code == "role_forbidden"


def test_reach_follows_a_change_of_scope_on_the_next_request(world):
    api = world.api("station_admin")
    assert api.get("/sites").json()["count"] == 1
    world.station_admin.scopes.set([world.I2])
    ids = [s["id"] for s in api.get("/sites").json()["items"]]
    assert ids == [world.sites["S21"].pk]


def test_world_gives_console_clients_too(world):
    assert world.client("viewer").get("/").status_code == 200
    assert world.client(None).get("/").status_code == 302
