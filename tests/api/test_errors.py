"""Every kind of bad input gets a structured JSON error: {"code", "message", "details"} with a
Chinese message and the right status — never HTML, never a traceback, never a 500."""

from __future__ import annotations

import json

import pytest

from tests import factories as f
from wenming.core.models import AuditEntry
from wenming.org.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(module_world):
    return module_world


def assert_structured(response, status: int, code: str | None = None) -> dict:
    text = response.content.decode("utf-8", "replace")
    assert response.status_code == status, text[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert "<html" not in text.lower() and "Traceback" not in text and 'File "' not in text
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert isinstance(body["code"], str) and body["code"]
    assert any("\u4e00" <= c <= "\u9fff" for c in body["message"]), f"message not in Chinese: {body['message']}"
    if code:
        assert body["code"] == code, body
    return body


def site_body(world, **over):
    return {"node_id": world.S11.pk, "name": "新阵地", "kind": "park", **over}


# --- Malformed bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["{bad", '{"name": ', "name=x&kind=park", "\xff\xfe", "[" * 100_000 + "]" * 100_000],
                         ids=["garbage", "truncated", "form-encoded", "not-utf8", "deeply-nested"])
def test_malformed_json_is_400(world, raw):
    r = world.api("district_admin").post("/sites", raw=raw.encode("latin-1") if raw == "\xff\xfe" else raw)
    assert_structured(r, 400, "malformed_request")


@pytest.mark.parametrize("raw", ["null", "[1, 2]", '"site"', "42", "{}"])
def test_json_that_is_not_the_expected_object_is_422(world, raw):
    body = assert_structured(world.api("district_admin").post("/sites", raw=raw), 422, "invalid_input")
    assert body["details"], "details name the fields"


def test_missing_fields_are_named(world):
    body = assert_structured(world.api("district_admin").post("/sites", {"kind": "park"}), 422, "invalid_input")
    missing = {tuple(d["loc"][-1:]) for d in body["details"] if d["type"] == "missing"}
    assert ("node_id",) in missing and ("name",) in missing


@pytest.mark.parametrize("over", [
    {"node_id": "abc"}, {"node_id": 1.5}, {"node_id": None}, {"node_id": [1]}, {"name": 123}, {"name": {"a": 1}},
    {"kind": "castle"}, {"lat": "north", "lng": 1}, {"radius_m": "far"}, {"radius_m": 9}, {"radius_m": 10**30},
    {"lat": 91, "lng": 0}, {"lat": 0, "lng": -181},
], ids=lambda o: json.dumps(o, ensure_ascii=False))
def test_wrong_types_and_ranges_are_422(world, over):
    before = Site.objects.count()
    assert_structured(world.api("district_admin").post("/sites", site_body(world, **over)), 422, "invalid_input")
    assert Site.objects.count() == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(world, literal):
    raw = json.dumps(site_body(world)).replace('"kind": "park"', f'"kind": "park", "lat": {literal}, "lng": 1')
    assert_structured(world.api("district_admin").post("/sites", raw=raw), 422, "invalid_input")


def test_huge_strings_are_refused(world):
    api = world.api("district_admin")
    assert_structured(api.post("/sites", site_body(world, name="长" * 100_000)), 422, "invalid_input")
    assert_structured(api.get("/volunteers", {"q": "张" * 10_000}), 422, "invalid_input")
    assert_structured(api.post("/volunteers", {"name": "x", "id_number": "1" * 5000, "phone": "1",
                                               "station_id": world.S11.pk, "agreement_consent": True,
                                               "privacy_consent": True}), 422, "invalid_input")


def test_a_body_over_the_upload_limit_is_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    r = world.api("district_admin").post("/sites", site_body(world, address="地" * 2000))
    assert_structured(r, 413, "request_too_large")


@pytest.mark.parametrize("where", ["body", "escaped-body", "query"])
def test_nul_characters_are_refused_on_every_database(world, where):
    api = world.api("district_admin")
    if where == "body":
        r = api.post("/sites", raw=json.dumps(site_body(world), ensure_ascii=False).replace("新阵地", "新\x00阵地"))
    elif where == "escaped-body":
        r = api.post("/sites", site_body(world, name="新\x00阵地"))  # json.dumps writes \\u0000
    else:
        r = api.get("/volunteers", {"q": "张\x00"})
    assert_structured(r, 422, "invalid_input")


def test_lone_surrogates_do_not_crash(world):
    raw = '{"node_id": NODE, "name": "\\ud800", "kind": "park"}'.replace("NODE", str(world.S11.pk))
    r = world.api("district_admin").post("/sites", raw=raw)
    assert_structured(r, 422, "invalid_input")


# --- Pages and ids ------------------------------------------------------------------------------


BAD_PAGES = [
    ({"page": -1}, "invalid_input"), ({"page": 0}, "invalid_input"), ({"page": 10**30}, "invalid_input"),
    ({"page": "abc"}, "invalid_input"), ({"page_size": 501}, "invalid_input"), ({"page_size": 0}, "invalid_input"),
    ({"page_size": -5}, "invalid_input"), ({"page_size": 10**12}, "invalid_input"), ({"page": 99}, "page_out_of_range"),
]


@pytest.mark.parametrize("path", ["/orgs", "/volunteers", "/teams", "/sites", "/platforms", "/contact-points",
                                  "/departments"])
def test_bad_pages_are_422(world, path):
    api = world.api("district_admin")
    for params, code in BAD_PAGES:
        assert_structured(api.get(path, params), 422, code)


@pytest.mark.parametrize("path", ["/orgs/{}", "/volunteers/{}", "/teams/{}", "/sites/{}", "/contact-points/{}"])
@pytest.mark.parametrize("pk", [987654, 2**63, 10**30])
def test_unknown_ids_are_404(world, path, pk):
    assert_structured(world.api("district_admin").get(path.format(pk)), 404, "not_found")


@pytest.mark.parametrize("path", ["/orgs/-1", "/sites/1.5", "/teams/abc", "/nope", "/volunteers/1/reveal", "/"])
def test_unknown_routes_and_odd_ids_are_json(world, path):
    r = world.api("district_admin").get(path)
    assert r.status_code in (404, 422)
    body = assert_structured(r, r.status_code)
    assert body["code"] in ("not_found", "invalid_input")


def test_unknown_referenced_ids_are_404_and_write_nothing(world):
    api = world.api("district_admin")
    before = AuditEntry.objects.count()
    assert_structured(api.post("/sites", site_body(world, node_id=987654)), 404, "not_found")
    assert_structured(api.post("/teams", {"node_id": world.S11.pk, "name": "新队", "platform_id": 987654}), 404)
    assert_structured(api.post("/teams", {"node_id": world.S11.pk, "name": "新队", "leader_id": 987654}), 404)
    assert_structured(api.post("/platforms", {"name": "新平台", "lead_department_id": 987654}), 404)
    assert AuditEntry.objects.count() == before


def test_unknown_skill_is_422(world):
    r = world.api("district_admin").post("/teams", {"node_id": world.S11.pk, "name": "新队", "skill_ids": [987654]})
    assert_structured(r, 422, "skill_invalid")


# --- Who may call -------------------------------------------------------------------------------

PROTECTED = [("get", "/orgs"), ("get", "/orgs/1"), ("post", "/orgs"), ("get", "/volunteers"), ("post", "/volunteers"),
             ("post", "/volunteers/1/reveal/id_number"), ("get", "/teams"), ("get", "/sites"), ("patch", "/sites/1"),
             ("get", "/platforms"), ("get", "/contact-points"), ("get", "/skills"), ("get", "/departments"),
             ("delete", "/auth/token/1")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_unauthenticated_is_401(world, method, path):
    r = getattr(f.Api(), method)(path)
    assert_structured(r, 401, "not_authenticated")


@pytest.mark.parametrize("role", ["viewer", "department", "team_leader"])
def test_wrong_role_is_403(world, role):
    before = Site.objects.count()
    assert_structured(world.api(role).post("/sites", site_body(world)), 403)
    assert Site.objects.count() == before


def test_wrong_method_is_405_json(world):
    r = world.api("district_admin").put("/sites", site_body(world))
    body = assert_structured(r, 405, "method_not_allowed")
    assert "POST" in r["Allow"] and "GET" in r["Allow"]
    assert body["details"]["allowed"]


# --- Rules of the domain ------------------------------------------------------------------------


def test_duplicate_is_409(world):
    api = world.api("district_admin")
    assert api.post("/sites", site_body(world)).status_code == 201
    assert_structured(api.post("/sites", site_body(world)), 409, "site_name_taken")
    assert_structured(api.post("/orgs", {"parent_id": world.I1.pk, "name": "重复", "division_code": "430502001001"}),
                      409, "division_code_taken")


@pytest.mark.parametrize(("path", "body", "code"), [
    ("/sites", {"lat": 27.2}, "coordinates_partial"),
    ("/orgs", {"division_code": "430502001000"}, "division_code_level"),
    ("/orgs", {"division_code": "430502002005"}, "division_code_parent"),
    ("/orgs", {"division_code": "43050200100X"}, "division_code_format"),
    ("/volunteers", {"id_number": "43050219900101123"}, "id_number_format"),
    ("/volunteers", {"phone": "12345"}, "phone_format"),
    ("/volunteers", {"agreement_consent": False}, "consent_missing"),
    ("/volunteers", {"availability": ["midnight"]}, "availability_invalid"),
    ("/contact-points", {"kind": "unit"}, "contact_point_level"),
])
def test_invalid_by_the_rules_is_422(world, path, body, code):
    base = {
        "/sites": site_body(world),
        "/orgs": {"parent_id": world.I1.pk, "name": "新站"},
        "/volunteers": {"name": "钱七", "id_number": f.make_id_number(), "phone": f.make_phone(),
                        "station_id": world.S11.pk, "agreement_consent": True, "privacy_consent": True},
        "/contact-points": {"node_id": world.I1.pk, "party": "某单位", "kind": "leader"},
    }[path]
    before = AuditEntry.objects.count()
    assert_structured(world.api("district_admin").post(path, {**base, **body}), 422, code)
    assert AuditEntry.objects.count() == before


def test_rate_limit_is_429_json(world):
    api = f.Api()
    statuses = [api.post("/auth/token", {}).status_code for _ in range(61)]
    assert statuses[:60] == [422] * 60
    assert_structured(api.post("/auth/token", {}), 429, "rate_limited")


def test_an_unexpected_error_is_a_500_json_without_details(world, monkeypatch):
    from wenming.org import queries

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(queries, "sites_for", boom)
    r = world.api("district_admin").get("/sites")
    body = assert_structured(r, 500, "internal_error")
    assert "secret" not in r.content.decode() and body["details"] is None


def test_error_messages_follow_no_language_header(world):
    r = world.api("district_admin").get("/sites/987654", headers={"accept-language": "en"})
    assert_structured(r, 404, "not_found")


# --- null for every field of every update ---------------------------------------------------------

PATCHES = {
    "/orgs/{S11}": ["name", "secretary", "contact_phone", "address", "lat", "lng", "is_demonstration"],
    "/sites/{site}": ["name", "kind", "address", "lat", "lng", "radius_m"],
    "/teams/{team}": ["name", "platform_id", "social_org_id", "leader_id", "skill_ids", "description", "capacity"],
    "/volunteers/{volunteer}": ["phone", "political_status", "station_id", "skill_ids", "availability"],
    "/contact-points/{cp}": ["party", "party_title", "frequency_days"],
}


@pytest.mark.parametrize(("path", "field"), [(p, fld) for p, fields in PATCHES.items() for fld in fields])
def test_null_for_any_field_is_either_no_change_a_clearing_or_a_422(world, path, field):
    url = path.format(S11=world.S11.pk, site=world.sites["S11"].pk, team=world.teams["S11"].pk,
                      volunteer=world.volunteers["S11"].pk, cp=world.contact_points["S11"].pk)
    r = world.api("district_admin").patch(url, {field: None})
    assert r.status_code in (200, 422), r.content.decode()[:300]
    if r.status_code == 422:
        assert_structured(r, 422)


@pytest.mark.parametrize("path", ["/orgs/{S11}", "/sites/{site}", "/teams/{team}", "/volunteers/{volunteer}",
                                  "/contact-points/{cp}"])
def test_an_empty_update_changes_nothing(world, path):
    url = path.format(S11=world.S11.pk, site=world.sites["S11"].pk, team=world.teams["S11"].pk,
                      volunteer=world.volunteers["S11"].pk, cp=world.contact_points["S11"].pk)
    before = AuditEntry.objects.count()
    r = world.api("district_admin").patch(url, {})
    assert r.status_code == 200, r.content.decode()[:300]
    assert AuditEntry.objects.count() == before


def test_a_nul_in_a_form_field_of_an_upload_is_refused(world):
    from django.test import Client

    client = Client()
    r = client.post("/api/v1/sites", {"name": "新\x00阵地"}, headers={"authorization": f"Bearer {world.tokens['district_admin']}"})
    assert_structured(r, 422, "invalid_input")


FILTERS = {"/orgs": ["kind", "parent_id", "q"], "/volunteers": ["q", "station_id", "skill_id"],
           "/teams": ["q", "node_id"], "/sites": ["node_id", "kind"], "/contact-points": ["overdue"]}


@pytest.mark.parametrize(("path", "param"), [(p, q) for p, params in FILTERS.items() for q in params])
def test_odd_filter_values_never_crash(world, path, param):
    api = world.api("district_admin")
    for value in [str(2**63), str(10**30), "-1", "0", "abc", "", "　", "%", "1e3", "true"]:
        r = api.get(path, {param: value})
        assert r.status_code in (200, 404, 422), (value, r.content.decode()[:300])
        if r.status_code != 200:
            assert_structured(r, r.status_code)
