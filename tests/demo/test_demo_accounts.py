"""The seven demo accounts log in with the printed password and hold the right role and reach."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import get_hashers, identify_hasher
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from wenming.core.models import OrgNode, User
from wenming.core.scoping import in_reach, nodes_in_reach, reach_paths
from wenming.demo.district import PASSWORD


@pytest.mark.django_db
def test_demo_accounts_log_in_with_their_roles_and_scopes():
    call_command("demo", volunteers=120, stdout=StringIO(), verbosity=0)
    users = {u.username: u for u in User.objects.filter(is_demo_data=True)}
    assert set(users) == {"demo-centre", "demo-institute", "demo-station", "demo-department", "demo-leader",
                          "demo-volunteer", "demo-viewer", "demo-centre2"}
    for user in users.values():
        # The configured hasher (Argon2 in wenming.settings, checked by tests/core; MD5 in the suite for speed).
        assert identify_hasher(user.password).algorithm == get_hashers()[0].algorithm
        assert user.display_name and not user.is_superuser and not user.is_staff
        client = Client()
        response = client.post(reverse("core:login"), {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, user.username
        assert client.session["_auth_user_id"] == str(user.pk)

    R = User.Role
    assert {u.username: u.role for u in users.values()} == {
        "demo-centre": R.DISTRICT_ADMIN, "demo-institute": R.INSTITUTE_ADMIN, "demo-station": R.STATION_ADMIN,
        "demo-department": R.DEPARTMENT, "demo-leader": R.TEAM_LEADER, "demo-volunteer": R.VOLUNTEER,
        "demo-viewer": R.VIEWER, "demo-centre2": R.DISTRICT_ADMIN,
    }
    centre = OrgNode.objects.get(depth=1)
    institute = OrgNode.objects.get(name="东风路街道")
    station = OrgNode.objects.get(name="鼓楼亭社区")
    scopes = {name: list(u.scopes.all()) for name, u in users.items()}
    assert scopes["demo-centre"] == scopes["demo-viewer"] == scopes["demo-department"] == [centre]
    assert scopes["demo-centre2"] == [centre]  # the second approver of recorded hours
    assert scopes["demo-institute"] == [institute]
    assert scopes["demo-station"] == [station] and OrgNode.objects.get_parent(station) == institute
    assert users["demo-department"].department.name == "区委宣传部"
    assert users["demo-department"].department.platforms.filter(name="传思想习理论").exists()

    # The institute admin sees its subtree and nothing beside it.
    inst = users["demo-institute"]
    assert nodes_in_reach(inst).count() == 1 + OrgNode.objects.get_children_count(institute)
    assert not in_reach(inst, OrgNode.objects.get(name="小江湖街道"))

    leader = users["demo-leader"]
    team = leader.volunteer.led_teams.get()
    assert scopes["demo-leader"] == [team.node] and team.node == station
    assert team.members.filter(pk=leader.volunteer.pk).exists()

    volunteer = users["demo-volunteer"].volunteer
    assert volunteer.station == station and volunteer.age >= 18
    assert reach_paths(users["demo-volunteer"]) == ()
