"""GET/POST/PATCH/DELETE /api/v1/media-reports: scoped like the console, every refusal a
structured error {"code", "message", "details"} with a Chinese message."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from wenming.core.models import AuditEntry
from wenming.publicity.models import MediaReport

from .conftest import make_activity, make_brand, make_report

URL = "/media-reports"


def body(node, **fields) -> dict:
    return {"title": "东风社区：志愿服务暖人心", "outlet": "双清区融媒体中心", "level": "district",
            "published_on": "2025-03-05", "node_id": node.pk} | fields


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content)
    data = response.json()
    assert set(data) == {"code", "message", "details"} and data["code"] == code, data
    assert any("\u4e00" <= c <= "\u9fff" for c in data["message"]), data
    return data


# --- Reading ----------------------------------------------------------------------------------------


def test_the_list_is_scoped_paged_and_counted_per_level(world):
    make_report(world.S11, "东风社区报道", level="district")
    make_report(world.S12, "光明社区报道", level="city")
    make_report(world.S21, "东站社区报道", level="central")
    data = world.api("district_admin").get(URL).json()
    assert data["count"] == 3 and len(data["items"]) == 3
    assert data["by_level"] == {"district": 1, "city": 1, "province": 0, "central": 1, "total": 3}
    item = next(i for i in data["items"] if i["title"] == "东站社区报道")
    assert item["level"] == "central" and item["level_label"] == "中央" and item["node_name"] == "东站社区新时代文明实践站"
    assert item["published_on"] == "2025-03-05"

    data = world.api("institute_admin").get(URL, {"level": "city"}).json()
    assert [i["title"] for i in data["items"]] == ["光明社区报道"]
    assert data["by_level"] == {"district": 1, "city": 1, "province": 0, "central": 0, "total": 2}
    assert world.api("volunteer").get(URL).json() == {"items": [], "count": 0, "by_level": {
        "district": 0, "city": 0, "province": 0, "central": 0, "total": 0}}

    page = world.api("district_admin").get(URL, {"page": 2, "page_size": 2}).json()
    assert page["count"] == 3 and len(page["items"]) == 1
    error(world.api("district_admin").get(URL, {"page": 5, "page_size": 2}), 422, "page_out_of_range")


def test_list_filters(world):
    activity = make_activity(world.S11)
    brand = make_brand(world.C, "七彩假期")
    make_report(world.S11, "东风社区：七彩假期", brand=brand, activity=activity, outlet="邵阳日报")
    make_report(world.S12, "光明社区报道", published_on=date(2023, 6, 1))
    api = world.api("district_admin")

    def titles(**params):
        return [i["title"] for i in api.get(URL, params).json()["items"]]

    assert titles(node_id=world.S11.pk) == ["东风社区：七彩假期"]
    assert titles(activity_id=activity.pk) == titles(brand_id=brand.pk) == ["东风社区：七彩假期"]
    assert titles(q="七彩") == ["东风社区：七彩假期"]
    assert titles(year=2025) == ["东风社区：七彩假期"]
    assert titles(published_after="2025-03-05", published_before="2025-03-05") == ["东风社区：七彩假期"]
    error(api.get(URL, {"published_after": "2025-03-06", "published_before": "2025-03-05"}), 422, "period_invalid")
    error(world.api("station_admin").get(URL, {"node_id": world.S21.pk}), 422, "node_invalid")
    for bad in ({"level": "national"}, {"year": 1800}, {"node_id": 0}, {"node_id": "x"}, {"q": "字" * 51},
                {"published_after": "2025-13-01"}, {"page_size": 501}, {"node_id": 2**64}):
        error(api.get(URL, bad), 422, "invalid_input")


def test_one_report_and_404_outside_reach(world):
    mine = make_report(world.S11)
    other = make_report(world.S21, "东站社区报道")
    api = world.api("station_admin")
    assert api.get(f"{URL}/{mine.pk}").json()["title"] == "双清区：志愿服务暖人心"
    outside = error(api.get(f"{URL}/{other.pk}"), 404, "not_found")
    missing = error(api.get(f"{URL}/999999"), 404, "not_found")
    assert outside["message"] == missing["message"]  # ids reveal nothing
    error(api.get(f"{URL}/{2**70}"), 404, "not_found")
    error(api.get(f"{URL}/abc"), 422, "invalid_input")
    error(world.api(None).get(f"{URL}/{mine.pk}"), 401, "not_authenticated")
    error(world.api("volunteer").get(f"{URL}/{mine.pk}"), 404, "not_found")


# --- Writing ----------------------------------------------------------------------------------------


def test_create_change_and_delete(world):
    activity = make_activity(world.S11)
    brand = make_brand(world.C, "七彩假期")
    api = world.api("station_admin")
    response = api.post(URL, body(world.S11, activity_id=activity.pk, brand_id=brand.pk,
                                  url="https://example.com/1", note="头版"))
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["activity_title"] == "学雷锋志愿服务" and created["brand_name"] == "七彩假期"
    assert created["created_by"] == str(world.station_admin)
    pk = created["id"]

    changed = api.patch(f"{URL}/{pk}", {"level": "province", "outlet": "湖南日报", "activity_id": None}).json()
    assert changed["level"] == "province" and changed["outlet"] == "湖南日报" and changed["activity_id"] is None
    assert changed["brand_id"] == brand.pk and changed["title"] == "东风社区：志愿服务暖人心"
    assert api.patch(f"{URL}/{pk}", {"url": None, "note": ""}).json()["url"] == ""
    assert AuditEntry.objects.filter(action="media_report.update", object_id=str(pk)).count() == 2

    assert api.delete(f"{URL}/{pk}").status_code == 204
    assert not MediaReport.objects.exists()
    error(api.delete(f"{URL}/{pk}"), 404, "not_found")


@pytest.mark.parametrize("fields, status, code", [
    ({"level": "national"}, 422, "invalid_input"),
    ({"title": ""}, 422, "invalid_input"),
    ({"title": "字" * 201}, 422, "invalid_input"),
    ({"title": "   "}, 422, "title_required"),
    ({"outlet": None}, 422, "invalid_input"),
    ({"published_on": "2025-02-30"}, 422, "invalid_input"),
    ({"published_on": "1999-12-31"}, 422, "published_on_too_early"),
    ({"url": "ftp://example.com/a"}, 422, "url_invalid"),
    ({"url": "https://example.com/" + "a" * 500}, 422, "invalid_input"),
    ({"node_id": 0}, 422, "invalid_input"),
    ({"node_id": 999999}, 422, "node_invalid"),
    ({"activity_id": 999999}, 422, "activity_invalid"),
    ({"brand_id": 999999}, 422, "brand_invalid"),
    ({"note": "备" * 501}, 422, "invalid_input"),
])
def test_bad_bodies_are_structured_errors(world, fields, status, code):
    error(world.api("district_admin").post(URL, body(world.S11, **fields)), status, code)
    assert not MediaReport.objects.exists()


def test_a_future_date_and_a_duplicate(world):
    api = world.api("district_admin")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    error(api.post(URL, body(world.S11, published_on=tomorrow)), 422, "published_on_future")
    assert api.post(URL, body(world.S11)).status_code == 201
    data = error(api.post(URL, body(world.S11, outlet="红网")), 409, "report_duplicate")
    assert data["details"]["id"] == MediaReport.objects.get().pk


def test_hostile_requests(world):
    api = world.api("district_admin")
    error(api.post(URL, raw="{not json"), 400, "malformed_request")
    error(api.post(URL, body(world.S11, title="东风\x00社区")), 422, "invalid_input")
    error(api.post(URL, raw="[]"), 422, "invalid_input")
    error(api.put(URL, body(world.S11)), 405, "method_not_allowed")
    assert not MediaReport.objects.exists()


def test_writes_follow_the_reach(world):
    other = make_report(world.S21, "东站社区报道")
    mine = make_report(world.S11, "东风社区报道")
    station = world.api("station_admin")
    error(station.post(URL, body(world.S21)), 422, "node_invalid")
    error(station.patch(f"{URL}/{other.pk}", {"title": "改"}), 404, "not_found")
    error(station.delete(f"{URL}/{other.pk}"), 404, "not_found")
    error(station.patch(f"{URL}/{mine.pk}", {"node_id": world.S21.pk}), 422, "node_invalid")
    error(world.api("institute_admin").patch(f"{URL}/{mine.pk}", {"node_id": world.S21.pk}), 422, "node_invalid")
    for role in ("viewer", "department", "team_leader", "volunteer"):
        error(world.api(role).post(URL, body(world.S11, title=role)), 403, "role_forbidden")
        error(world.api(role).patch(f"{URL}/{mine.pk}", {"title": role}), 403, "role_forbidden")
        error(world.api(role).delete(f"{URL}/{mine.pk}"), 403, "role_forbidden")
    error(world.api(None).post(URL, body(world.S11)), 401, "not_authenticated")
    other.refresh_from_db()
    mine.refresh_from_db()
    assert (other.title, mine.title, mine.node) == ("东站社区报道", "东风社区报道", world.S11)
    assert MediaReport.objects.count() == 2


def test_patch_refuses_null_for_required_fields(world):
    report = make_report(world.S11)
    api = world.api("district_admin")
    for field in ("title", "outlet", "level", "published_on", "node_id"):
        data = error(api.patch(f"{URL}/{report.pk}", {field: None}), 422, "field_null")
        assert data["details"] == {"field": field}
    error(api.patch(f"{URL}/{report.pk}", {"published_on": "2100-01-01"}), 422, "published_on_future")
    assert api.patch(f"{URL}/{report.pk}", {}).status_code == 200


def test_patch_keeps_a_link_the_caller_could_not_choose(world):
    activity = make_activity(world.C, "全区学雷锋集中行动")
    report = make_report(world.S11, activity=activity)
    api = world.api("station_admin")
    data = api.patch(f"{URL}/{report.pk}", {"title": "新标题", "activity_id": activity.pk}).json()
    assert data["title"] == "新标题" and data["activity_id"] == activity.pk
    error(api.patch(f"{URL}/{report.pk}", {"activity_id": make_activity(world.S21).pk}), 422, "activity_invalid")


def test_the_schema_is_documented_in_chinese(world):
    schema = world.api("district_admin").get("/openapi.json").json()
    ops = schema["paths"]["/api/v1/media-reports"]
    assert ops["get"]["summary"] == "宣传报道列表（含按级别统计）" and ops["post"]["summary"] == "录入宣传报道"
    assert ops["get"]["tags"] == ["宣传报道"]
    assert set(schema["paths"]["/api/v1/media-reports/{report_id}"]) == {"get", "patch", "delete"}
