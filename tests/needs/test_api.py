"""The needs API: one endpoint per transition, scoping, and structured errors for every bad input."""

import pytest

from tests import factories as f
from tests.needs.conftest import PHONE, approved, completed, dispatched, raise_need
from wenming.needs.models import Need

S = Need.State


def api(user):
    return f.Api(f.make_token(user))


def structured(response, status, code=None) -> dict:
    text = response.content.decode("utf-8", "replace")
    assert response.status_code == status, text[:500]
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert any("\u4e00" <= c <= "\u9fff" for c in body["message"]), body["message"]
    if code:
        assert body["code"] == code, body
    return body


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.content.decode()[:500]
    return response.json()


def test_the_loop_through_the_api(loop):
    t = loop.tree
    admin, leader = api(t.admin), api(t.team_leader)
    need = ok(admin.post("/api/v1/needs", {
        "category_id": loop.care.pk, "description": "代老人点单：上门探访", "station_id": t.station.pk,
        "contact_name": "刘奶奶", "phone": PHONE}), 201)
    assert need["state"] == "submitted" and need["phone_masked"] == "138****5678" and "phone" not in need
    nid = need["id"]
    assert ok(admin.post(f"/api/v1/needs/{nid}/review", {"approve": True}))["state"] == "approved"
    assert ok(admin.post(f"/api/v1/needs/{nid}/dispatch", {"team_id": loop.team.pk}))["assignee"] == loop.team.name
    assert ok(leader.post(f"/api/v1/needs/{nid}/accept", {}))["state"] == "accepted"
    done = ok(leader.post(f"/api/v1/needs/{nid}/complete", {
        "report": "上门探访1小时", "people_served": 1, "hours": [{"volunteer_id": t.li.pk, "hours": 1}]}))
    assert done["state"] == "completed"
    rated = ok(admin.post(f"/api/v1/needs/{nid}/rate", {"stars": 5, "comment": "好"}))
    assert rated["state"] == "closed" and [e["action"] for e in rated["timeline"]] == [
        "submitted", "approved", "dispatched", "accepted", "completed", "rated"]


def test_list_filters_and_scoping(loop):
    t = loop.tree
    mine = raise_need(loop)
    raise_need(loop, station=t.other_station)
    items = ok(api(t.admin).get("/api/v1/needs"))
    assert items["count"] == 2
    far = ok(api(t.far_admin).get("/api/v1/needs"))
    assert far["count"] == 1 and far["items"][0]["station_id"] == t.other_station.pk
    assert ok(api(t.admin).get(f"/api/v1/needs?q={mine.code}"))["count"] == 1
    assert ok(api(t.admin).get("/api/v1/needs?state=approved"))["count"] == 0
    structured(api(t.far_admin).get(f"/api/v1/needs/{mine.pk}"), 404, "not_found")
    structured(api(t.vol_user).get(f"/api/v1/needs/{mine.pk}"), 404)


def test_an_assignee_sees_what_is_dispatched_to_it(loop):
    need = dispatched(loop)
    assert ok(api(loop.tree.team_leader).get(f"/api/v1/needs/{need.pk}"))["id"] == need.pk
    structured(api(loop.other_leader_user).get(f"/api/v1/needs/{need.pk}"), 404)


def test_the_pool_is_seen_and_grabbed_by_team_leaders(loop):
    t = loop.tree
    need = approved(loop)
    ok(api(t.admin).post(f"/api/v1/needs/{need.pk}/publish", {}))
    assert ok(api(t.team_leader).get("/api/v1/needs?in_pool=true"))["count"] == 1
    assert ok(api(t.team_leader).post(f"/api/v1/needs/{need.pk}/grab", {}))["state"] == "accepted"
    structured(api(loop.other_leader_user).post(f"/api/v1/needs/{need.pk}/grab", {}), 404)
    structured(api(t.admin).post(f"/api/v1/needs/{need.pk}/grab", {}), 403, "not_team_leader")


def test_wrong_state_is_409_and_wrong_person_403(loop):
    t = loop.tree
    need = raise_need(loop)
    structured(api(t.admin).post(f"/api/v1/needs/{need.pk}/accept", {}), 409, "state_invalid")
    structured(api(t.inst_admin).post(f"/api/v1/needs/{need.pk}/rate", {"stars": 3}), 409, "state_invalid")
    need = dispatched(loop)
    structured(api(t.admin).post(f"/api/v1/needs/{need.pk}/review", {"approve": True}), 409, "state_invalid")
    structured(api(t.vol_user).post(f"/api/v1/needs/{need.pk}/accept", {}), 404)


@pytest.mark.parametrize(("path", "payload", "status", "code"), [
    ("dispatch", {}, 422, "assignee_missing"),
    ("dispatch", {"team_id": 10**12}, 422, "choice_invalid"),
    ("dispatch", {"team_id": "abc"}, 422, "invalid_input"),
    ("dispatch", {"team_id": -1}, 422, "invalid_input"),
    ("dispatch", {"team_id": 1, "volunteer_id": 1}, 422, None),
    ("review", {"approve": "perhaps"}, 422, "invalid_input"),
    ("review", {"approve": False}, 422, "reason_required"),
    ("review", {"approve": False, "reason": "x" * 201}, 422, "invalid_input"),
    ("rate", {"stars": 6}, 422, "invalid_input"),
    ("cancel", {}, 422, "invalid_input"),
])
def test_bad_transition_input_is_structured(loop, path, payload, status, code):
    need = approved(loop) if path != "review" else raise_need(loop)
    structured(api(loop.tree.admin).post(f"/api/v1/needs/{need.pk}/{path}", payload), status, code)


def test_bad_json_and_bad_ids(loop):
    admin = api(loop.tree.admin)
    need = raise_need(loop)
    structured(admin.post(f"/api/v1/needs/{need.pk}/review", "not json"), 422)
    structured(admin.get("/api/v1/needs/99999999999999999999999"), 404)
    structured(admin.post("/api/v1/needs", {"category_id": loop.care.pk}), 422, "invalid_input")
    structured(admin.post("/api/v1/needs", {
        "category_id": loop.care.pk, "description": "x" * 5000, "station_id": loop.tree.station.pk,
        "contact_name": "刘", "phone": PHONE}), 422, "invalid_input")


def test_completion_hours_for_unknown_volunteers(loop):
    need = dispatched(loop)
    leader = api(loop.tree.team_leader)
    ok(leader.post(f"/api/v1/needs/{need.pk}/accept", {}))
    structured(leader.post(f"/api/v1/needs/{need.pk}/complete", {
        "report": "完成", "hours": [{"volunteer_id": 10**9, "hours": 1}]}), 422, "choice_invalid")
    structured(leader.post(f"/api/v1/needs/{need.pk}/complete", {
        "report": "完成", "hours": [{"volunteer_id": loop.tree.li.pk, "hours": 30}]}), 422, "invalid_input")


def test_figures_equal_a_recount(loop):
    from django.utils import timezone

    from wenming.needs import queries

    completed(loop)
    dispatched(loop)
    raise_need(loop, station=loop.tree.other_station)
    today = timezone.localdate()
    body = ok(api(loop.tree.admin).get(
        f"/api/v1/needs/figures/summary?node_id={loop.tree.centre.pk}&start={today}&end={today}"))
    assert body["collected"] == 3 and body["fulfilled"] == 1 and body["dispatched"] == 2
    assert queries.need_figures(loop.tree.centre, today, today) == queries.recount_figures(loop.tree.centre, today, today)
    structured(api(loop.tree.far_admin).get(
        f"/api/v1/needs/figures/summary?node_id={loop.tree.centre.pk}&start={today}&end={today}"), 404)


def test_candidates_are_ranked_with_reasons(loop):
    need = approved(loop)
    body = ok(api(loop.tree.admin).get(f"/api/v1/needs/{need.pk}/candidates"))
    teams = [c for c in body["items"] if c["kind"] == "team"]
    assert teams[0]["id"] == loop.team.pk and teams[0]["reasons"] and 0 < teams[0]["score"] <= 1
    assert set(teams[0]["parts"]) == {"skill", "distance", "load", "rating", "availability"}
    structured(api(loop.tree.team_leader).get(f"/api/v1/needs/{need.pk}/candidates"), 403, "not_handler")
    structured(api(loop.tree.far_admin).get(f"/api/v1/needs/{need.pk}/candidates"), 404)
    structured(api(loop.tree.admin).get(f"/api/v1/needs/{need.pk}/candidates?limit=0"), 422)
