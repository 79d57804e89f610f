"""Open311 GeoReport v2 under /open311/v2/: driven by the third-party `georeport` client (PyPI) in JSON
and XML, plus direct calls for what the client does not do (POST, errors, filters, privacy)."""

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
import xmltodict
from django.test import Client
from django.utils import timezone
from georeport import GeoReport
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from tests.factories import make_token
from tests.ledger.helpers import build_tree, make_user
from tests.needs.conftest import PHONE, approved, completed, dispatched, raise_need
from wenming.core.models import ApiToken, OrgNode, User
from wenming.needs import open311, services
from wenming.needs.models import Need, NeedCategory
from wenming.org.models import Site

BASE = "/open311/v2/"
FORMATS = ["json", "xml"]
S = Need.State


class ThroughDjango(requests.adapters.BaseAdapter):
    """requests' transport swapped for Django's test client: the georeport client runs unchanged (its
    URLs, parameters, parsing and raise_for_status) against our views, inside the test's transaction."""

    def __init__(self):
        super().__init__()
        self.client = Client()

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        answer = self.client.generic(request.method, url.path + (f"?{url.query}" if url.query else ""),
                                     data=request.body or b"",
                                     content_type=request.headers.get("Content-Type", ""))
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.content
        response.headers = CaseInsensitiveDict(answer.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.url, response.request, response.reason = request.url, request, answer.reason_phrase
        return response

    def close(self):
        pass


@pytest.fixture
def georeport(monkeypatch):
    adapter = ThroughDjango()
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    return lambda fmt: GeoReport("http://testserver/open311/v2/", output_format=fmt)


@pytest.fixture
def key(loop):
    return make_token(loop.tree.admin)


def as_list(value):
    """xmltodict gives one element as a dict and several as a list."""
    return value if isinstance(value, list) else [value]


def parse(response, fmt):
    if fmt == "json":
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content)
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return xmltodict.parse(response.content)


def error_of(response, fmt) -> tuple[int, str]:
    data = parse(response, fmt)
    row = data[0] if fmt == "json" else data["errors"]["error"]
    return int(row["code"]), row["description"]


def post(client, fmt="json", **fields):
    return client.post(f"{BASE}requests.{fmt}", fields)


def form(loop, key, **extra):
    fields = {
        "api_key": key, "service_code": "elderly-visit", "attribute[station]": loop.tree.station.division_code,
        "description": "独居老人需要每周上门探访、陪同聊天", "address_string": "东风路12号3栋",
        "first_name": "奶奶", "last_name": "刘", "phone": PHONE,
    }
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


# --- Discovery and services -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_spec_our_base_and_both_formats(client, db, fmt):
    data = parse(client.get(f"{BASE}discovery.{fmt}"), fmt)
    if fmt == "xml":
        data = data["discovery"]
        endpoint = data["endpoints"]["endpoint"]
        endpoint["formats"] = endpoint["formats"]["format"]
    else:
        endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production" and endpoint["formats"] == ["application/json", "text/xml"]
    assert data["changeset"] and data["contact"] and "/tokens/" in data["key_service"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_active_leaf_categories(loop, georeport, fmt):
    NeedCategory.objects.filter(code="elderly-meal").update(active=False)
    NeedCategory.objects.filter(code="legal").update(active=False)  # its children go with it
    rows = as_list(georeport(fmt).get_service_list())
    codes = [r["service_code"] for r in rows]
    assert codes[:3] == ["elderly-visit", "elderly-chores", "elderly-escort"]
    assert "elderly-meal" not in codes and "legal-advice" not in codes
    assert "elderly" not in codes and "children" not in codes  # groups are not services
    visit = rows[0]
    assert visit["service_name"] == "上门探访" and visit["group"] == "助老助残"
    assert visit["type"] == "realtime" and str(visit["metadata"]).lower() == "true"
    assert visit["keywords"] == "助老助残"  # the category's skills


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_lists_our_attributes_and_an_unknown_code_is_404(loop, georeport, fmt):
    client = georeport(fmt)
    definition = client.get_service_definition("repair-appliance")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    assert definition["service_code"] == "repair-appliance"
    assert [a["code"] for a in attributes] == ["station", "urgency"]
    urgency = attributes[1]
    values = urgency["values"] if fmt == "json" else urgency["values"]["value"]
    assert [v["key"] for v in values] == ["normal", "urgent", "critical"]
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_definition("no-such-service")
    assert caught.value.response.status_code == 404
    assert error_of(caught.value.response, fmt) == (404, "没有编码为 no-such-service 的服务类别。")
    with pytest.raises(requests.HTTPError):
        client.get_service_definition("elderly")  # a group, not a service


# --- Reading requests -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_through_the_client_carry_status_notes_agency_and_times(loop, georeport, fmt):
    t = loop.tree
    submitted = raise_need(loop)
    sent = dispatched(loop)
    rejected = services.review_need(t.admin, raise_need(loop), approve=False, reason="不属于本站服务范围")
    done = completed(loop, category=loop.care)
    client = georeport(fmt)

    rows = {r["service_request_id"]: r for r in as_list(client.get_service_requests())}
    assert set(rows) == {submitted.code, sent.code, rejected.code, done.code}
    assert [rows[n.code]["status"] for n in (submitted, sent, rejected, done)] == ["open", "open", "closed", "closed"]
    assert rows[sent.code]["agency_responsible"] == loop.team.name
    assert rows[sent.code]["status_notes"] in ("", None)  # dispatchers' remarks are not public
    assert rows[submitted.code]["agency_responsible"] == t.station.name
    assert rows[rejected.code]["status_notes"] == f"{t.station.name}驳回：不属于本站服务范围"
    assert rows[done.code]["status_notes"] in ("", None)  # the report stays on the code-protected page
    row = rows[sent.code]
    assert row["service_code"] == "elderly-visit" and row["service_name"] == "上门探访"
    assert row["description"] == "独居老人需要每周上门探访、陪同聊天" and row["address"] == "东风路12号3栋"
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert row[field].endswith("+08:00"), field
    assert row["requested_datetime"] == timezone.localtime(sent.created_at).isoformat(timespec="seconds")
    assert row["expected_datetime"] == timezone.localtime(sent.deadline).isoformat(timespec="seconds")
    assert row["updated_datetime"] >= row["requested_datetime"]

    one = client.get_service_request(rejected.code)
    assert one["service_request_id"] == rejected.code and one["status"] == "closed"
    assert one["expected_datetime"] in (None, "")  # a rejected need has no deadline
    assert {r["service_request_id"] for r in as_list(client.get_service_requests(status="closed"))} == {
        rejected.code, done.code}
    picked = as_list(client.get_service_requests(service_request_id=f"{sent.code},{done.code.lower()}"))
    assert {r["service_request_id"] for r in picked} == {sent.code, done.code}
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_request("ZZZZZZZZ")
    assert caught.value.response.status_code == 404


def test_filters_by_service_code_including_a_group_and_by_date(loop, client):
    care = raise_need(loop)
    repair = raise_need(loop, category=loop.repair, description="家里洗衣机坏了需要上门维修")
    old = raise_need(loop)
    Need.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=100))

    def codes(**query):
        response = client.get(f"{BASE}requests.json", query)
        assert response.status_code == 200, response.content
        return {r["service_request_id"] for r in response.json()}

    assert codes() == {care.code, repair.code}  # the last 90 days by default
    assert codes(service_code="repair-appliance") == {repair.code}
    assert codes(service_code="repair") == {repair.code}  # a group stands for its services
    assert codes(service_code="repair-appliance,elderly-visit") == {care.code, repair.code}
    start = timezone.localtime() - timedelta(days=120)
    assert codes(start_date=start.isoformat()) == {old.code}  # start + 90 days
    assert codes(start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ")) == {old.code}
    assert codes(start_date=start.date().isoformat(), end_date=(start + timedelta(days=30)).isoformat()) == {
        old.code}
    assert codes(end_date=timezone.now().isoformat()) == {care.code, repair.code}
    assert codes(service_request_id=old.code, status="open", service_code="repair") == {old.code}  # ids win


def test_at_most_the_limit_newest_first(loop, client, monkeypatch):
    made = [raise_need(loop) for _ in range(3)]
    monkeypatch.setattr(open311, "MAX_RESULTS", 2)
    rows = client.get(f"{BASE}requests.json").json()
    assert [r["service_request_id"] for r in rows] == [made[2].code, made[1].code]


@pytest.mark.parametrize(("state", "status"), [
    (S.SUBMITTED, "open"), (S.APPROVED, "open"), (S.DISPATCHED, "open"), (S.ACCEPTED, "open"),
    (S.IN_SERVICE, "open"), (S.COMPLETED, "closed"), (S.CLOSED, "closed"), (S.REJECTED, "closed"),
    (S.CANCELLED, "closed"),
])
def test_status_is_open_until_the_service_is_done_or_refused(loop, client, state, status):
    need = raise_need(loop)
    Need.objects.filter(pk=need.pk).update(state=state)
    assert client.get(f"{BASE}requests/{need.code}.json").json()[0]["status"] == status
    other = "closed" if status == "open" else "open"
    assert need.code in {r["service_request_id"] for r in client.get(f"{BASE}requests.json?status={status}").json()}
    assert need.code not in {r["service_request_id"] for r in client.get(f"{BASE}requests.json?status={other}").json()}


def test_a_pooled_need_is_with_the_pool_and_a_need_sent_down_with_the_lower_node(loop, client):
    t = loop.tree
    pooled = services.publish_need(t.admin, approved(loop))
    assert client.get(f"{BASE}requests/{pooled.code}.json").json()[0]["agency_responsible"] == "抢单池"
    to_dept = services.dispatch_need(t.admin, approved(loop), department=loop.department)
    assert client.get(f"{BASE}requests/{to_dept.code}.json").json()[0]["agency_responsible"] == "区卫生健康局"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_contact_name_or_phone_ever_leaves(loop, client, fmt):
    need = raise_need(loop, description="刘奶奶腿脚不便，请打13812345678或 139 8765 4321，座机0739-5123456",
                      phone="13912348765")
    need = services.review_need(loop.tree.admin, need, approve=False, reason="刘奶奶已由家属照顾，电话13912348765")
    bodies = [client.get(f"{BASE}{path}.{fmt}").content.decode() for path in (
        "requests", f"requests/{need.code}", f"tokens/{need.code}")]
    row = parse(client.get(f"{BASE}requests/{need.code}.{fmt}"), fmt)
    row = row[0] if fmt == "json" else row["service_requests"]["request"]
    assert row["description"] == "刘**腿脚不便，请打138********或 139********，座机0739-********"
    assert row["status_notes"].endswith("驳回：刘**已由家属照顾，电话139********")
    for body in bodies:
        for secret in ("刘奶奶", "13912348765", "8765", "5678", "4321", "5123456", need.phone_masked, "phone", "contact"):
            assert secret not in body, (secret, body)


def test_xml_stays_well_formed_whatever_the_text(loop, client):
    need = raise_need(loop, description="<b>请帮忙</b> & 打扫 ]]> \x07 卫生 \U0001f600")
    response = client.get(f"{BASE}requests/{need.code}.xml")
    row = ET.fromstring(response.content).find("request")
    assert row.findtext("description") == "<b>请帮忙</b> & 打扫 ]]>  卫生 \U0001f600"
    assert row.findtext("lat") == "" and row.findtext("account_id") is None


@pytest.mark.parametrize(("query", "status", "words"), [
    ("start_date=yesterday", 400, "ISO 8601"),
    ("start_date=2025-13-45T00:00:00Z", 400, "ISO 8601"),
    ("end_date=0001-01-01T00:00:00%2B14:00", 400, "ISO 8601"),
    ("start_date=9999-12-30", 400, "超出范围"),
    ("start_date=2025-03-01&end_date=2025-02-01", 400, "不能晚于"),
    ("start_date=2025-01-01&end_date=2025-06-01", 400, "90天"),
    ("status=pending", 400, "open 或 closed"),
    ("service_code=nope", 400, "未知的 service_code"),
    ("service_code=%3Cscript%3E", 400, "格式不正确"),
    ("service_request_id=AB-12", 400, "格式不正确"),
    ("service_request_id=" + ",".join(["ABCDEFGH"] * 1001), 400, "最多1000个"),
    ("service_code=" + "x" * 20000, 400, "过长"),
])
def test_bad_query_parameters_get_a_georeport_error(loop, client, query, status, words):
    for fmt in FORMATS:
        response = client.get(f"{BASE}requests.{fmt}?{query}")
        assert response.status_code == status
        code, message = error_of(response, fmt)
        assert code == status and words in message, message


@pytest.mark.parametrize(("method", "path", "status", "fmt"), [
    ("get", "requests.yaml", 400, "json"),
    ("get", "requests.JSON", 200, "json"),
    ("get", "services", 404, "json"),
    ("get", "services.json/", 404, "json"),
    ("get", "nothing-here.xml", 404, "xml"),
    ("get", "requests/AB%00CD.json", 404, "json"),
    ("get", "requests/ABCDEFGHJKMNP.xml", 404, "xml"),
    ("get", "", 404, "json"),
    ("post", "services.json", 405, "json"),
    ("delete", "requests.xml", 405, "xml"),
    ("put", "tokens/ABC.json", 405, "json"),
])
def test_every_wrong_address_or_method_answers_in_georeport_form(client, db, method, path, status, fmt):
    response = getattr(client, method)(BASE + path)
    assert response.status_code == status
    if status != 200:
        assert error_of(response, fmt)[0] == status
    if status == 405:
        assert "GET" in response["Allow"]


# --- Creating requests ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_a_need_from_open311_with_the_token_user_as_proxy(loop, client, key, fmt):
    t = loop.tree
    response = post(client, fmt, **form(loop, key, lat="27.2389", long="111.4672", **{"attribute[urgency]": "urgent"}))
    assert response.status_code == 201, response.content
    data = parse(response, fmt)
    row = data[0] if fmt == "json" else data["service_requests"]["request"]
    need = Need.objects.get(code=row["service_request_id"])
    assert row["token"] == need.code and row["service_notice"] in ("", None) and row["account_id"] in (None, "")
    assert need.source == Need.Source.OPEN311 and need.entered_by == t.admin and need.state == S.SUBMITTED
    assert need.category == loop.care and need.station == t.station and need.urgency == "urgent"
    assert need.contact_name == "刘奶奶" and need.phone_masked == "138****5678"
    assert (need.lat, need.lng, need.address) == (27.2389, 111.4672, "东风路12号3栋")
    assert need.events.get().action == "submitted"
    token = parse(client.get(f"{BASE}tokens/{need.code}.{fmt}"), fmt)
    token = token[0] if fmt == "json" else token["service_requests"]["request"]
    assert token == {"service_request_id": need.code, "token": need.code}


def test_post_takes_western_names_in_order_and_the_station_under_other_keys(loop, client, key):
    for field in ("attribute[division_code]", "station", "division_code"):
        fields = form(loop, key, first_name="Anna", last_name="Li", **{"attribute[station]": None})
        fields[field] = loop.tree.other_station.division_code
        response = post(client, **fields)
        assert response.status_code == 201, response.content
        need = Need.objects.get(code=response.json()[0]["service_request_id"])
        assert need.contact_name == "Anna Li" and need.station == loop.tree.other_station


def test_post_without_a_station_picks_the_nearest_one_with_coordinates(loop, client, key):
    t = loop.tree
    Site.objects.create(node=t.station, name="东风社区文化广场", kind=Site.Kind.CULTURE_SQUARE, lat=27.240, lng=111.470)
    OrgNode.objects.filter(pk=t.other_station.pk).update(lat=27.260, lng=111.500)
    fields = form(loop, key, **{"attribute[station]": None})
    near_other = post(client, **fields, lat="27.2590", long="111.4990")
    near_site = post(client, **fields, lat="27.2410", long="111.4710")
    assert Need.objects.get(code=near_other.json()[0]["service_request_id"]).station == t.other_station
    assert Need.objects.get(code=near_site.json()[0]["service_request_id"]).station == t.station
    far = post(client, **fields, lat="39.9042", long="116.4074")  # Beijing
    assert far.status_code == 400 and "20公里内没有" in error_of(far, "json")[1]
    nowhere = post(client, **fields)  # an address but no coordinates and no station
    assert nowhere.status_code == 400 and "attribute[station]" in error_of(nowhere, "json")[1]


@pytest.mark.parametrize(("change", "status", "words"), [
    ({"api_key": None}, 403, "缺少 api_key"),
    ({"api_key": "wm_not-a-real-token"}, 403, "无效或已吊销"),
    ({"api_key": "x" * 5000}, 403, "无效或已吊销"),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "elderly"}, 400, "service_code“elderly”无效"),
    ({"service_code": "no-such"}, 400, "无效"),
    ({"address_string": None}, 400, "请提供位置"),
    ({"lat": "27.2"}, 400, "同时提供"),
    ({"lat": "north", "long": "111"}, 400, "十进制度数"),
    ({"lat": "nan", "long": "111"}, 400, "超出范围"),
    ({"lat": "95", "long": "111"}, 400, "超出范围"),
    ({"attribute[station]": "430502001000"}, 400, "没有区划代码为 430502001000"),  # an institute
    ({"attribute[station]": "东风"}, 400, "12位区划代码"),
    ({"phone": "12345"}, 400, "手机号码"),
    ({"phone": None}, 400, "手机号码"),
    ({"first_name": None, "last_name": None}, 400, "联系人"),
    ({"first_name": "x" * 100}, 400, "不能超过50个字"),
    ({"first_name": "x" * 100_000}, 400, "first_name 过长"),
    ({"description": "帮忙"}, 400, "至少5个字"),
    ({"description": "长" * 1001}, 400, "不能超过1000个字"),
    ({"attribute[urgency]": "whenever"}, 400, "紧急程度"),
])
def test_post_refusals_are_georeport_errors_and_write_nothing(loop, client, key, change, status, words):
    for fmt in FORMATS:
        response = post(client, fmt, **form(loop, key, **change))
        assert response.status_code == status, response.content
        code, message = error_of(response, fmt)
        assert code == status and words in message, message
    assert not Need.objects.exists()


def test_only_a_live_token_of_a_manager_in_reach_may_post(loop, client):
    t = loop.tree
    revoked = make_token(t.admin2)
    ApiToken.objects.filter(user=t.admin2).update(revoked_at=timezone.now())
    inactive = make_token(t.inst_admin)
    User.objects.filter(pk=t.inst_admin.pk).update(is_active=False)
    volunteer = make_token(t.vol_user)
    out_of_scope = make_token(t.far_admin)  # station admin of the other station
    for token, words in [(revoked, "无效或已吊销"), (inactive, "无效或已吊销"), (volunteer, "无权代群众点单"),
                         (out_of_scope, "不在您的管辖范围内")]:
        response = post(client, **form(loop, token))
        assert response.status_code == 403 and words in error_of(response, "json")[1]
    assert not Need.objects.exists()
    station_admin = make_user("open311_station", User.Role.STATION_ADMIN, [t.station])
    response = client.post(f"{BASE}requests.json", {**form(loop, None)},
                           headers={"Authorization": f"Bearer {make_token(station_admin)}"})
    assert response.status_code == 201  # the usual bearer header works too
    assert Need.objects.get().entered_by == station_admin


def test_post_needs_no_csrf_token_and_a_too_big_body_is_refused(loop, key):
    client = Client(enforce_csrf_checks=True)
    assert post(client, **form(loop, key)).status_code == 201
    big = client.post(f"{BASE}requests.xml", {**form(loop, key), "description": "长" * 3_000_000})  # multipart
    assert big.status_code == 413 and error_of(big, "xml") == (413, "提交的内容过大。")


# --- Over real HTTP ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_georeport_client_over_http(live_server):
    """The same client over a real socket (the other tests swap requests' transport for the test
    client). A transactional test: it builds its own categories, as the flush may have removed them."""
    tree = build_tree()
    group, _ = NeedCategory.objects.get_or_create(code="repair", defaults={"name": "便民维修"})
    NeedCategory.objects.get_or_create(code="repair-haircut", defaults={"name": "爱心义剪", "parent": group})
    key = make_token(tree.admin)
    answer = requests.post(f"{live_server.url}{BASE}requests.json", data={
        "api_key": key, "service_code": "repair-haircut", "attribute[station]": tree.station.division_code,
        "description": "行动不便的老人需要上门理发", "lat": "27.24", "long": "111.47",
        "first_name": "大爷", "last_name": "王", "phone": "13600001111",
    }, timeout=10)
    assert answer.status_code == 201, answer.text
    code = answer.json()[0]["service_request_id"]
    for fmt in FORMATS:
        client = GeoReport(f"{live_server.url}/open311/v2", output_format=fmt)
        assert "repair-haircut" in [s["service_code"] for s in as_list(client.get_service_list())]
        row = client.get_service_request(code)
        assert row["status"] == "open" and row["service_name"] == "爱心义剪"
        assert row["agency_responsible"] == tree.station.name
        assert float(row["lat"]) == 27.24 and float(row["long"]) == 111.47
        assert "王大爷" not in json.dumps(row, ensure_ascii=False)
        assert [r["service_request_id"] for r in as_list(client.get_service_requests(service_code="repair"))] == [code]
