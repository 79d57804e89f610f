"""The scoping matrix: every role × resource × action through the API with a Bearer token.

Reading the table (see `world` in tests/conftest.py for the tree and the accounts):

- list    — the list holds exactly the rows in the role's reach (plus what the account owns).
- detail  — a row in reach answers 200; any other id answers 404 with the very body a
            nonexistent id gets (an id reveals nothing).
- create  — at a node in reach: 201 for the admins (WRITERS), 403 for read-only roles;
            at a node out of reach: 404. Whatever is refused writes nothing (no row, no audit entry).
- update  — the same rule per row; a volunteer may edit their own volunteer record.
- reveal  — full ID / phone numbers: 200 for admins in reach (and audited), 403 for roles that
            may see the row but not the number, 404 out of reach.
- visit   — logging a guidance visit at a contact point: 201 / 403 / 404 like an update.

To add an action (an export, a console page …): write `check_<action>(world, role, res)` and
add the action's name to the `actions` of the resources it applies to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.utils import timezone

from tests import factories as f
from tests.conftest import RESOURCES, ROLES, World
from wenming.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(module_world):
    """Every test here shares one world per module (see conftest), rolled back after each test."""
    return module_world


def _org_body(world: World, parent_key: str) -> dict:
    code = {"C": "430502003000", "I1": "430502001003", "I2": "430502002002"}[parent_key]
    return {"parent_id": world.nodes[parent_key].pk, "name": f"新建{code}", "division_code": code}


def _volunteer_body(world: World, key: str) -> dict:
    return {"name": "钱七", "id_number": f.make_id_number(), "phone": f.make_phone(),
            "station_id": world.nodes[key].pk, "agreement_consent": True, "privacy_consent": True}


def _team_body(world: World, key: str) -> dict:
    return {"node_id": world.nodes[key].pk, "name": f"{key}新志愿服务队"}


def _site_body(world: World, key: str) -> dict:
    return {"node_id": world.nodes[key].pk, "name": f"{key}文化广场", "kind": "culture_square"}


def _contact_point_body(world: World, key: str) -> dict:
    kind = "leader" if key.startswith("I") else "unit"
    return {"node_id": world.nodes[key].pk, "kind": kind, "party": f"{key}新联系单位"}


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    model: str
    create_targets: tuple[str, ...]  # node keys a new row is attempted at
    create_body: Callable[[World, str], dict]
    update: tuple[str, object]  # (field, new value): the same name in the API body and on the model
    actions: tuple[str, ...] = ("list", "detail", "create", "update")


RESOURCE_TABLE = {
    "orgs": Resource("orgs", "/orgs", "core.OrgNode", ("C", "I1", "I2"), _org_body, ("secretary", "新书记")),
    "volunteers": Resource("volunteers", "/volunteers", "people.Volunteer", ("S11", "S12", "S21"), _volunteer_body,
                           ("political_status", "cpc"), ("list", "detail", "create", "update", "reveal")),
    "teams": Resource("teams", "/teams", "people.Team", ("I1", "S11", "S12", "S21"), _team_body,
                      ("description", "新简介")),
    "sites": Resource("sites", "/sites", "org.Site", ("S11", "S12", "S21"), _site_body, ("address", "新地址")),
    "contact_points": Resource("contact_points", "/contact-points", "org.ContactPoint", ("I1", "I2", "S11", "S21"),
                               _contact_point_body, ("party_title", "新职务"),
                               ("list", "detail", "create", "update", "visit")),
}
assert set(RESOURCE_TABLE) == set(RESOURCES)


def self_volunteer_id(world: World, role: str) -> int | None:
    """The volunteer record an account owns (a volunteer, or a team leader who is a volunteer)."""
    return {"volunteer": world.own_volunteer.pk, "team_leader": world.leader_volunteer.pk}.get(role)


def expected_create(world: World, role: str, key: str) -> int:
    if key not in world.REACH[role]:
        return 404
    return 201 if role in world.WRITERS else 403


def expected_update(world: World, role: str, res: Resource, pk: int) -> int:
    if res.name == "volunteers" and pk == self_volunteer_id(world, role):
        return 200
    if pk not in world.visible(role, res.name):
        return 404
    return 200 if role in world.WRITERS else 403


def expected_reveal(world: World, role: str, pk: int) -> int:
    if pk not in world.visible(role, "volunteers"):
        return 404
    key = world.rows("volunteers")[pk]
    return 200 if role in world.REVEALERS and key in world.REACH[role] else 403


def missing_id(world: World, res: Resource) -> int:
    return max(world.rows(res.name)) + 10_000


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    return body


def snapshot(res: Resource) -> tuple[int, int]:
    return apps.get_model(res.model).objects.count(), AuditEntry.objects.count()


# --- The checks, one per action ----------------------------------------------------------------


def check_list(world: World, role: str, res: Resource) -> None:
    r = world.api(role).get(res.path, {"page_size": 500})
    assert r.status_code == 200, r.content.decode()
    body = r.json()
    ids = [item["id"] for item in body["items"]]
    assert sorted(ids) == sorted(world.visible(role, res.name))
    assert body["count"] == len(ids)
    if res.name == "volunteers":  # lists never carry full numbers
        text = r.content.decode()
        for v in [*world.volunteers.values(), world.leader_volunteer]:
            assert v.plain_id_number not in text and v.plain_phone not in text


def check_detail(world: World, role: str, res: Resource) -> None:
    api = world.api(role)
    nonexistent = api.get(f"{res.path}/{missing_id(world, res)}")
    missing_body = assert_error(nonexistent, 404)
    assert missing_body["code"] == "not_found"
    visible = world.visible(role, res.name)
    for pk in world.rows(res.name):
        r = api.get(f"{res.path}/{pk}")
        if pk in visible:
            assert r.status_code == 200, (pk, r.content.decode())
            assert r.json()["id"] == pk
        else:
            assert_error(r, 404)
            assert r.json() == missing_body, f"{res.name} {pk} outside reach must look nonexistent"


def check_create(world: World, role: str, res: Resource) -> None:
    api = world.api(role)
    for key in res.create_targets:
        before = snapshot(res)
        r = api.post(res.path, res.create_body(world, key))
        expected = expected_create(world, role, key)
        if expected == 201:
            assert r.status_code == 201, (key, r.content.decode())
            assert snapshot(res)[0] == before[0] + 1
        else:
            assert_error(r, expected)
            assert snapshot(res) == before, f"refused create at {key} wrote something"


def check_update(world: World, role: str, res: Resource) -> None:
    api = world.api(role)
    field, value = res.update
    Model = apps.get_model(res.model)
    for pk in world.rows(res.name):
        old = getattr(Model.objects.get(pk=pk), field)
        audit_before = AuditEntry.objects.count()
        r = api.patch(f"{res.path}/{pk}", {field: value})
        expected = expected_update(world, role, res, pk)
        row = Model.objects.get(pk=pk)
        if expected == 200:
            assert r.status_code == 200, (pk, r.content.decode())
            assert getattr(row, field) == value
            setattr(row, field, old)  # put it back for the next row's comparisons
            row.save(update_fields=[field])
        else:
            assert_error(r, expected)
            assert getattr(row, field) == old, f"refused update of {res.name} {pk} changed it"
            assert AuditEntry.objects.count() == audit_before


def check_reveal(world: World, role: str, res: Resource) -> None:
    api = world.api(role)
    user = world.users[role]
    for pk in world.rows("volunteers"):
        volunteer = res_volunteer(world, pk)
        for field, plain in (("id_number", volunteer.plain_id_number), ("phone", volunteer.plain_phone)):
            reveals = AuditEntry.objects.filter(action="volunteer.reveal", object_id=str(pk))
            count = reveals.count()
            r = api.post(f"/volunteers/{pk}/reveal/{field}")
            expected = expected_reveal(world, role, pk)
            if expected == 200:
                assert r.status_code == 200, r.content.decode()
                assert r.json() == {"field": field, "value": plain}
                assert reveals.count() == count + 1
                assert reveals.first().actor_id == user.pk
            else:
                assert_error(r, expected)
                assert plain not in r.content.decode()
                assert reveals.count() == count


def check_visit(world: World, role: str, res: Resource) -> None:
    """Logging a guidance visit at a contact point: a write on the row."""
    from wenming.org.models import GuidanceVisit

    api = world.api(role)
    for pk, key in world.rows(res.name).items():
        before = GuidanceVisit.objects.count(), AuditEntry.objects.count()
        r = api.post(f"{res.path}/{pk}/visits", {"visited_on": str(timezone.localdate()), "summary": "指导工作"})
        expected = 404 if pk not in world.visible(role, res.name) else (201 if role in world.WRITERS else 403)
        if expected == 201:
            assert r.status_code == 201, (key, r.content.decode())
        else:
            assert_error(r, expected)
            assert (GuidanceVisit.objects.count(), AuditEntry.objects.count()) == before


def res_volunteer(world: World, pk: int):
    return next(v for v in [*world.volunteers.values(), world.leader_volunteer] if v.pk == pk)


CHECKS = {
    "list": check_list,
    "detail": check_detail,
    "create": check_create,
    "update": check_update,
    "reveal": check_reveal,
    "visit": check_visit,
}

MATRIX = [
    pytest.param(role, name, action, id=f"{role}-{name}-{action}")
    for role in ROLES
    for name, res in RESOURCE_TABLE.items()
    for action in res.actions
]


@pytest.mark.parametrize(("role", "resource", "action"), MATRIX)
def test_matrix(world, role, resource, action):
    CHECKS[action](world, role, RESOURCE_TABLE[resource])


# --- Writes that point outside the reach -----------------------------------------------------


def test_moving_a_volunteer_out_of_reach_is_refused(world):
    v = world.volunteers["S11"]
    r = world.api("institute_admin").patch(f"/volunteers/{v.pk}", {"station_id": world.S21.pk})
    assert_error(r, 404)
    v.refresh_from_db()
    assert v.station_id == world.S11.pk


def test_moving_a_volunteer_within_reach_is_allowed(world):
    v = world.volunteers["S11"]
    r = world.api("institute_admin").patch(f"/volunteers/{v.pk}", {"station_id": world.S12.pk})
    assert r.status_code == 200, r.content.decode()
    v.refresh_from_db()
    assert v.station_id == world.S12.pk


def test_volunteer_cannot_move_themselves_to_another_station(world):
    v = world.own_volunteer
    r = world.api("volunteer").patch(f"/volunteers/{v.pk}", {"station_id": world.S21.pk})
    assert_error(r, 404)
    v.refresh_from_db()
    assert v.station_id == world.S11.pk


def test_team_leader_from_outside_reach_is_refused(world):
    before = snapshot(RESOURCE_TABLE["teams"])
    r = world.api("institute_admin").post(
        "/teams", {"node_id": world.S11.pk, "name": "越界队", "leader_id": world.volunteers["S21"].pk})
    assert_error(r, 404)
    assert snapshot(RESOURCE_TABLE["teams"]) == before


def test_team_leader_must_belong_under_the_team_node(world):
    r = world.api("institute_admin").post(
        "/teams", {"node_id": world.S11.pk, "name": "邻站队长", "leader_id": world.volunteers["S12"].pk})
    assert assert_error(r, 422)["code"] == "leader_out_of_node"


def test_changing_a_team_leader_to_someone_out_of_reach_is_refused(world):
    team = world.teams["S11"]
    r = world.api("station_admin").patch(f"/teams/{team.pk}", {"leader_id": world.volunteers["S12"].pk})
    assert_error(r, 404)
    team.refresh_from_db()
    assert team.leader_id == world.leader_volunteer.pk


def test_site_at_the_parent_of_ones_station_is_out_of_reach(world):
    before = snapshot(RESOURCE_TABLE["sites"])
    r = world.api("station_admin").post("/sites", {"node_id": world.I1.pk, "name": "上级阵地", "kind": "park"})
    assert_error(r, 404)
    assert snapshot(RESOURCE_TABLE["sites"]) == before


def test_only_district_admin_creates_a_centre_level_node(world):
    r = world.api("institute_admin").post("/orgs", {"name": "另一个中心", "division_code": "430503000000"})
    assert_error(r, 403)
    r = world.api("district_admin").post("/orgs", {"name": "另一个中心", "division_code": "430503000000"})
    assert assert_error(r, 409)["code"] == "centre_exists"


def test_listing_children_of_an_out_of_reach_parent_is_404(world):
    r = world.api("institute_admin").get("/orgs", {"parent_id": world.I2.pk})
    assert_error(r, 404)
    r = world.api("institute_admin").get("/orgs", {"parent_id": world.I1.pk})
    assert sorted(i["id"] for i in r.json()["items"]) == sorted([world.S11.pk, world.S12.pk])


def test_filtering_lists_by_an_out_of_reach_node_shows_nothing(world):
    api = world.api("station_admin")
    for path, param in [("/volunteers", "station_id"), ("/teams", "node_id"), ("/sites", "node_id")]:
        r = api.get(path, {param: world.S21.pk})
        assert r.status_code == 200
        body = r.json()
        assert (body["items"], body["count"], body.get("count_is_capped", False)) == ([], 0, False), path


def test_searching_finds_nothing_out_of_reach(world):
    v = world.volunteers["S21"]
    api = world.api("station_admin")
    for q in [v.plain_id_number, v.plain_phone, v.number, "wangwu", "ww", "王"]:
        r = api.get("/volunteers", {"q": q})
        assert r.json()["count"] == 0, q
    assert world.api("district_admin").get("/volunteers", {"q": v.plain_id_number}).json()["count"] == 1


# --- District-wide reference data --------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_platforms_are_district_wide_and_only_the_district_admin_adds_one(world, role):
    api = world.api(role)
    r = api.get("/platforms")
    assert r.status_code == 200
    assert [p["id"] for p in r.json()["items"]] == [world.platform.pk]
    before = apps.get_model("org.Platform").objects.count()
    r = api.post("/platforms", {"name": "传文化习礼仪", "lead_department_id": world.department.pk})
    if role == "district_admin":
        assert r.status_code == 201, r.content.decode()
    else:
        assert_error(r, 403)
        assert apps.get_model("org.Platform").objects.count() == before


def test_superuser_sees_everything(world):
    admin = f.make_user("root", "viewer", is_superuser=True, is_staff=True)
    api = f.Api(f.make_token(admin))
    for name, res in RESOURCE_TABLE.items():
        r = api.get(res.path, {"page_size": 500})
        assert sorted(i["id"] for i in r.json()["items"]) == sorted(world.rows(name)), name
