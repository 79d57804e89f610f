"""Scoping of needs for every role (the shared `world`: centre C, institutes I1/I2, stations
S11/S12/S21, one account per role): who sees which needs in the API and the console list, and who
may act on them."""

import pytest

from wenming.needs import services
from wenming.needs.models import Need, NeedCategory

STATIONS = ("S11", "S12", "S21")
# Which stations' needs each role sees (by its reach), before anything is dispatched to it.
SEES = {
    "district_admin": {"S11", "S12", "S21"},
    "institute_admin": {"S11", "S12"},
    "station_admin": {"S11"},
    "department": {"S11", "S12", "S21"},  # scope C, read-only
    "team_leader": {"S11"},
    "volunteer": set(),
    "viewer": {"S11", "S12", "S21"},
}
HANDLERS = {"district_admin", "institute_admin", "station_admin"}


@pytest.fixture
def needs(world):
    parent, _ = NeedCategory.objects.get_or_create(code="elderly", defaults={"name": "助老助残"})
    care, _ = NeedCategory.objects.get_or_create(code="elderly-visit", defaults={"name": "上门探访", "parent": parent})
    out = {}
    for i, key in enumerate(STATIONS):
        out[key] = services.submit_need(services.NeedData(
            category=care, description=f"{key}：老人需要上门探访", station=world.nodes[key],
            contact_name="刘奶奶", phone=f"1381234567{i}"))
    return out


@pytest.mark.parametrize("role", list(SEES))
def test_each_role_sees_the_needs_in_its_reach(world, needs, role):
    body = world.api(role).get("/api/v1/needs").json()
    assert {n["station_id"] for n in body["items"]} == {world.nodes[k].pk for k in SEES[role]}, role
    html = world.client(role).get("/needs/").content.decode()
    for key, need in needs.items():
        assert (need.code in html) == (key in SEES[role]), (role, key)
    for key, need in needs.items():
        status = world.api(role).get(f"/api/v1/needs/{need.pk}").status_code
        assert status == (200 if key in SEES[role] else 404), (role, key)


@pytest.mark.parametrize("role", list(SEES))
def test_only_handlers_in_reach_review(world, needs, role):
    need = needs["S11"]
    r = world.api(role).post(f"/api/v1/needs/{need.pk}/review", {"approve": True})
    if role in HANDLERS:
        assert r.status_code == 200, r.content
    else:
        assert r.status_code in (403, 404), (role, r.status_code)
        assert Need.objects.get(pk=need.pk).state == Need.State.SUBMITTED


def test_what_is_dispatched_to_an_account_becomes_visible_to_it(world, needs):
    need = services.review_need(world.district_admin, needs["S21"], approve=True)
    services.dispatch_need(world.district_admin, need, volunteer=world.own_volunteer)
    assert world.api("volunteer").get(f"/api/v1/needs/{need.pk}").status_code == 200
    other = services.review_need(world.district_admin, needs["S12"], approve=True)
    services.dispatch_need(world.district_admin, other, team=world.teams["S11"])
    assert world.api("team_leader").get(f"/api/v1/needs/{other.pk}").status_code == 200
    assert world.api("station_admin").get(f"/api/v1/needs/{other.pk}").status_code == 404


def test_anonymous_gets_nothing(world, needs):
    assert world.api(None).get("/api/v1/needs").status_code == 401
    assert world.client(None).get("/needs/").status_code == 302
