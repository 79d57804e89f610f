"""Property tests: whatever JSON arrives at a write endpoint, the answer is a success or a
structured 4xx — never a 500. (Random values for the real field names, and random shapes.)"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["", " ", "0", "-1", "430502001001", "13812341234", "park", "leader", "unit", "cpc",
                     "1990-01-01", "2999-12-31", "\u202e", "<script>", "'; DROP TABLE x; --", "\ufeff", "😀"]),
)
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=10), inner, max_size=3), max_leaves=6)

ENDPOINTS = {
    ("post", "/orgs"): ["parent_id", "name", "division_code", "secretary", "contact_phone", "address", "lat", "lng",
                        "is_demonstration"],
    ("post", "/sites"): ["node_id", "name", "kind", "address", "lat", "lng", "radius_m"],
    ("post", "/teams"): ["node_id", "name", "platform_id", "social_org_id", "leader_id", "skill_ids", "description",
                         "capacity"],
    ("post", "/volunteers"): ["name", "id_number", "phone", "station_id", "political_status", "skill_ids",
                              "availability", "agreement_consent", "privacy_consent", "guardian_name",
                              "guardian_phone", "guardian_consent"],
    ("post", "/contact-points"): ["node_id", "kind", "party", "party_title", "frequency_days", "started_on"],
    ("post", "/platforms"): ["name", "lead_department_id", "description"],
    ("post", "/auth/token"): ["username", "password", "name"],
    ("patch", "/orgs/{S11}"): ["name", "secretary", "contact_phone", "address", "lat", "lng", "is_demonstration"],
    ("patch", "/sites/{site}"): ["name", "kind", "address", "lat", "lng", "radius_m"],
    ("patch", "/teams/{team}"): ["name", "platform_id", "social_org_id", "leader_id", "skill_ids", "description",
                                 "capacity"],
    ("patch", "/volunteers/{volunteer}"): ["phone", "political_status", "station_id", "skill_ids", "availability"],
    ("patch", "/contact-points/{cp}"): ["party", "party_title", "frequency_days"],
    ("post", "/contact-points/{cp}/visits"): ["visited_on", "summary"],
}


@pytest.fixture
def world(module_world):
    return module_world


def bodies(fields):
    known = st.dictionaries(st.sampled_from(fields), json_value, max_size=len(fields))
    return st.one_of(known, json_value)


@pytest.mark.parametrize(("method", "path"), list(ENDPOINTS))
def test_no_input_makes_a_500(world, method, path):
    url = path.format(S11=world.S11.pk, site=world.sites["S11"].pk, team=world.teams["S11"].pk,
                      volunteer=world.volunteers["S11"].pk, cp=world.contact_points["S11"].pk)
    api = world.api("district_admin")

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(body=bodies(ENDPOINTS[(method, path)]))
    def check(body):
        from django.core.cache import cache

        cache.clear()  # the anonymous throttle of /auth/token
        r = getattr(api, method)(url, body)
        assert r.status_code < 500, (body, r.content.decode()[:300])
        if r.status_code >= 400:
            data = r.json()
            assert set(data) == {"code", "message", "details"}, data

    check()
