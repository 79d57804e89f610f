"""Every list endpoint answers {"items": [...], "count": N}, with an id on every item,
pages that add up to the whole, and the documented page-size limit."""

import pytest

from tests import factories as f
from wenming.core.models import Department, Skill
from wenming.core.pagination import MAX_PAGE_SIZE, PageParams, paginate
from wenming.org.models import Platform

pytestmark = pytest.mark.django_db

LISTS = ["/orgs", "/volunteers", "/teams", "/sites", "/platforms", "/contact-points", "/skills", "/departments"]
DISTRICT_WIDE = {"/platforms", "/skills", "/departments"}  # reference data, the same for everyone
# Lists whose count stops at a cap (1000) and say so; the others count exactly.
CAPPED_COUNT = {"/volunteers"}


def keys(path: str) -> set[str]:
    return {"items", "count", "count_is_capped"} if path in CAPPED_COUNT else {"items", "count"}


@pytest.fixture
def world(module_world):
    return module_world


@pytest.fixture
def crowded(world):
    """Enough rows that every list spans several pages of 2."""
    for i in range(3):
        f.make_volunteer(world.S12, f"李{'一二三'[i]}")
        f.make_team(world.S12, f"第{i}队")
        f.make_site(world.S12, f"第{i}阵地")
        f.make_contact_point(world.S12, f"第{i}单位")
        Platform.objects.create(name=f"第{i}平台", lead_department=world.department)
        Skill.objects.create(name=f"第{i}技能")
        Department.objects.create(name=f"第{i}部门")
    Skill.objects.create(name="第4技能")
    return world


@pytest.mark.parametrize("path", LISTS)
def test_list_shape(world, path):
    if path == "/skills":
        Skill.objects.create(name="医疗护理")
    r = world.api("district_admin").get(path)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == keys(path)
    assert body["count"] == len(body["items"]) > 0
    assert body.get("count_is_capped") in (None, False)
    assert all(isinstance(item["id"], int) for item in body["items"])


@pytest.mark.parametrize("path", LISTS)
def test_pages_add_up_to_the_whole_without_repeats(crowded, path):
    api = crowded.api("district_admin")
    whole = api.get(path, {"page_size": MAX_PAGE_SIZE}).json()
    seen, page = [], 1
    while True:
        body = api.get(path, {"page": page, "page_size": 2}).json()
        assert body["count"] == whole["count"]
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        if len(seen) >= body["count"]:
            break
        page += 1
    assert seen == [item["id"] for item in whole["items"]]
    assert len(set(seen)) == len(seen) == whole["count"] > 2


@pytest.mark.parametrize("path", LISTS)
def test_default_and_largest_page_size(crowded, path):
    api = crowded.api("district_admin")
    assert api.get(path, {"page_size": MAX_PAGE_SIZE}).status_code == 200
    assert api.get(path, {"page_size": MAX_PAGE_SIZE + 1}).status_code == 422
    assert api.get(path, {"page_size": 1}).json()["count"] == api.get(path).json()["count"]


@pytest.mark.parametrize("path", LISTS)
def test_an_empty_list_has_a_first_page(world, path):
    # The volunteer account reaches no node: an empty list, not an error.
    r = world.api("volunteer").get(path, {"q": "无此人"} if path == "/volunteers" else {})
    assert r.status_code == 200
    body = r.json()
    if path in DISTRICT_WIDE:
        assert body["count"] == world.api("district_admin").get(path).json()["count"]
    else:
        assert body == {"items": [], "count": 0} | ({"count_is_capped": False} if path in CAPPED_COUNT else {})
    assert world.api("volunteer").get(path, {"page": 2}).status_code in (200, 422)


def test_paginate_accepts_querysets_and_lists():
    params = PageParams(page=2, page_size=2)
    assert paginate([1, 2, 3, 4, 5], params) == {"items": [3, 4], "count": 5}
    assert paginate([1, 2, 3], params, lambda n: n * 10) == {"items": [30], "count": 3}
    assert paginate([], PageParams(page=3, page_size=2)) == {"items": [], "count": 0}


def test_openapi_documents_the_page_parameters(world):
    spec = world.api("district_admin").get("/openapi.json").json()
    for path in LISTS:
        params = {p["name"]: p for p in spec["paths"]["/api/v1" + path]["get"]["parameters"]}
        assert params["page_size"]["schema"]["maximum"] == MAX_PAGE_SIZE, path
        assert params["page"]["schema"]["minimum"] == 1, path
