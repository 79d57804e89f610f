"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over the need intake, under /open311/v2/.

Services are the active leaf need categories (service_code = NeedCategory.code); service requests are
needs, known by their tracking code (never the database id). Reads are public: no contact name or
phone ever leaves here, and free text is scrubbed of the contact's name and of long digit runs
(phones, ID numbers). Writing (POST requests) needs an API token of an account that may enter needs
at the chosen station, given as `api_key`, and goes through `services.submit_need` like any other
intake. Every answer is JSON or XML, as the path's extension asks, errors included:
`[{"code": 400, "description": "…"}]` / `<errors><error><code>…</code><description>…</description></error></errors>`.
"""

import json
import logging
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from wenming.core.auth import BearerToken
from wenming.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from wenming.core.models import OrgNode
from wenming.core.pii import mask_name
from wenming.core.scoping import MANAGER_ROLES, require_manager
from wenming.core.validators import ascii_form
from wenming.org.models import Site

from . import services
from .models import Need, NeedCategory, NeedEvent

log = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00+08:00"  # when this endpoint last changed what it answers
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MEDIA_TYPES = ["application/json", "text/xml"]
MAX_RESULTS = 1000
WINDOW = timedelta(days=90)  # the spec's default and largest date range
MAX_PARAM = 12_000  # characters of one query or form value (1000 comma-separated codes fit)
STATION_FIELDS = ("attribute[station]", "attribute[division_code]", "station", "division_code")


# --- Reads ------------------------------------------------------------------------------------------


def leaf_categories():
    """Active categories that have no active children, under an active parent (or none)."""
    return (
        NeedCategory.objects.filter(active=True)
        .filter(Q(parent__isnull=True) | Q(parent__active=True))
        .exclude(children__active=True)
        .select_related("parent", "platform")
        .prefetch_related("skills")
    )


def find_leaf(code: str) -> NeedCategory | None:
    return leaf_categories().filter(code=code).first()


PUBLIC_NOTE_ACTIONS = ("rejected", "cancelled", "escalated", "closed_unrated")


def public_needs():
    """Needs with what the public answer needs: the last change and the latest public note."""
    events = NeedEvent.objects.filter(need=OuterRef("pk")).order_by("-at", "-id")
    # Only the notes that explain an outcome to the public (a rejection's or cancellation's reason, an
    # escalation): reports, ratings and dispatchers' remarks stay on the code-protected tracking page.
    notes = events.filter(public=True, action__in=PUBLIC_NOTE_ACTIONS).exclude(note="")
    return (
        Need.objects.select_related("category", "node", "team", "volunteer", "to_node", "department")
        .defer("phone_enc", "phone_index", "phone_masked", "report", "comment")
        .annotate(updated=Subquery(events.values("at")[:1]), public_note=Subquery(notes.values("note")[:1]))
    )


@dataclass
class Filters:
    codes: list[str] | None = None  # service_request_id: overrides everything else (spec)
    category_ids: list[int] | None = None
    start: datetime | None = None
    end: datetime | None = None
    states: list[str] | None = None


def find_needs(f: Filters) -> list[Need]:
    qs = public_needs()
    if f.codes is not None:
        qs = qs.filter(code__in=f.codes)
    else:
        qs = qs.filter(created_at__gte=f.start, created_at__lte=f.end)
        if f.category_ids is not None:
            qs = qs.filter(category_id__in=f.category_ids)
        if f.states is not None:
            qs = qs.filter(state__in=f.states)
    return list(qs.order_by("-created_at", "-id")[:MAX_RESULTS])


def need_by_code(code: str) -> Need:
    need = public_needs().filter(code=code.upper()).first()
    if need is None:
        raise NotFound(f"没有编号为 {code} 的服务请求。", code="request_not_found")
    return need


def _km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def nearest_station(lat: float, lng: float, within_km: float) -> OrgNode | None:
    """The station nearest to a point, by its own coordinates or its sites' (阵地), within a distance."""
    dlat = within_km / 111.0
    dlng = within_km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    box = {"lat__range": (lat - dlat, lat + dlat), "lng__range": (lng - dlng, lng + dlng)}
    station = OrgNode.Kind.STATION
    points = list(OrgNode.objects.filter(kind=station, **box).values_list("pk", "lat", "lng"))
    points += Site.objects.filter(node__kind=station, **box).values_list("node_id", "lat", "lng")
    best = min(((_km(lat, lng, a, b), pk) for pk, a, b in points), default=None)
    if best is None or best[0] > within_km:
        return None
    return OrgNode.objects.get(pk=best[1])


# --- Public text ------------------------------------------------------------------------------------

DIGIT_RUN = re.compile(r"(?<!\d)\d{7,}(?!\d)")  # phones, ID and card numbers written out
SPACED_MOBILE = re.compile(r"(?<!\d)(1\d{2})[ -]\d{4}[ -]\d{4}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-\d{7,8}(?!\d)")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def public_text(text: str, need: Need) -> str:
    """Free text as the public may read it: the contact's name masked, numbers that may be a phone
    or an ID reduced to their first three digits (the phone's last four are the tracking secret)."""
    text = text or ""
    name = (need.contact_name or "").strip()
    if len(name) >= 2:
        text = text.replace(name, mask_name(name))
    text = SPACED_MOBILE.sub(lambda m: m.group(1) + "********", text)
    text = LANDLINE.sub(lambda m: m.group(1) + "-********", text)
    return DIGIT_RUN.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), text)


def iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- Serialisation ----------------------------------------------------------------------------------


def service_row(category: NeedCategory) -> dict:
    words = [s.name for s in category.skills.all()]
    if category.platform_id:
        words.append(category.platform.name)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(words),
        "group": category.parent.name if category.parent_id else "",
    }


def attributes() -> list[dict]:
    """Our extensions to a request, given as attribute[code]=value."""
    return [
        {
            "variable": True, "code": "station", "datatype": "string", "required": False,
            "datatype_description": "新时代文明实践站的12位区划代码，如 430502001001",
            "order": 1, "description": "所属新时代文明实践站（不填时按经纬度就近选择）", "values": [],
        },
        {
            "variable": True, "code": "urgency", "datatype": "singlevaluelist", "required": False,
            "datatype_description": None, "order": 2, "description": "紧急程度",
            "values": [{"key": key, "name": str(label)} for key, label in Need.Urgency.choices],
        },
    ]


def request_row(need: Need) -> dict:
    return {
        "service_request_id": need.code,
        "status": "open" if need.state in Need.OPEN_STATES else "closed",
        "status_notes": public_text(need.public_note or "", need),
        "service_name": need.category.name,
        "service_code": need.category.code,
        "description": public_text(need.description, need),
        "agency_responsible": need.assignee_label or need.node.name,
        "service_notice": "",
        "requested_datetime": iso(need.created_at),
        "updated_datetime": iso(need.updated or need.created_at),
        "expected_datetime": iso(need.deadline),
        "address": public_text(need.address, need),
        "address_id": None,
        "zipcode": None,
        "lat": need.lat,
        "long": need.lng,
        "media_url": "",
    }


LIST_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, LIST_ITEMS.get(element.tag, "item")), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = NOT_XML.sub("", str(value))


def respond(fmt: str, data, *, root: str, item: str = "", status: int = 200) -> HttpResponse:
    """JSON as is; XML under `root`, a list as one `item` element per row."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        element = ET.Element(root)
        for row in data if isinstance(data, list) else [data]:
            _fill(ET.SubElement(element, item) if isinstance(data, list) else element, row)
        body = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt: str, status: int, message: str) -> HttpResponse:
    return respond(fmt, [{"code": status, "description": message}], root="errors", item="error", status=status)


# --- Input ------------------------------------------------------------------------------------------


def _param(data, name: str) -> str:
    value = data.get(name, "")
    if len(value) > MAX_PARAM:
        raise InvalidInput(f"参数 {name} 过长。", code="param_too_long")
    return value.strip()


def _items(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _when(value: str, name: str) -> datetime:
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise ValueError(value)
            moment = datetime.combine(day, time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        moment.astimezone(UTC)  # an offset that runs off the calendar fails here
        return moment
    except (ValueError, OverflowError):
        raise InvalidInput(f"{name} 须为 ISO 8601 时间，如 2025-03-05T00:00:00+08:00。", code="date_invalid")


def read_filters(query) -> Filters:
    ids = _param(query, "service_request_id")
    if ids:
        codes = _items(ids)
        if len(codes) > MAX_RESULTS:
            raise InvalidInput(f"service_request_id 一次最多{MAX_RESULTS}个。", code="too_many_ids")
        if not all(re.fullmatch(r"[A-Za-z0-9]{1,12}", c) for c in codes):
            raise InvalidInput("service_request_id 格式不正确（为需求查询码，以逗号分隔）。", code="id_invalid")
        return Filters(codes=[c.upper() for c in codes])
    f = Filters()
    if service_codes := _items(_param(query, "service_code")):
        if not all(re.fullmatch(r"[-A-Za-z0-9_]{1,40}", c) for c in service_codes):
            raise InvalidInput("service_code 格式不正确。", code="service_code_invalid")
        found = dict(NeedCategory.objects.filter(code__in=service_codes).values_list("code", "pk"))
        unknown = [c for c in service_codes if c not in found]
        if unknown:
            raise InvalidInput(f"未知的 service_code：{'、'.join(unknown[:5])}。", code="service_code_unknown")
        ids = set(found.values())
        ids |= set(NeedCategory.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
        f.category_ids = sorted(ids)
    if statuses := _items(_param(query, "status").lower()):
        if not set(statuses) <= {"open", "closed"}:
            raise InvalidInput("status 只能为 open 或 closed。", code="status_invalid")
        if len(set(statuses)) == 1:
            opened = [str(s) for s in Need.OPEN_STATES]
            f.states = opened if statuses[0] == "open" else [s for s in Need.State.values if s not in opened]
    start_text, end_text = _param(query, "start_date"), _param(query, "end_date")
    start = _when(start_text, "start_date") if start_text else None
    end = _when(end_text, "end_date") if end_text else None
    try:
        if start is None and end is None:
            end = timezone.now()
            start = end - WINDOW
        elif start is None:
            start = end - WINDOW
        elif end is None:
            end = start + WINDOW
    except OverflowError:
        raise InvalidInput("查询时间超出范围。", code="date_invalid")
    if start > end:
        raise InvalidInput("start_date 不能晚于 end_date。", code="date_range_invalid")
    if end - start > WINDOW:
        raise InvalidInput("查询时间跨度不能超过90天（GeoReport v2 规范）。", code="date_range_too_long")
    f.start, f.end = start, end
    return f


def _token_user(request, form):
    key = _param(form, "api_key")
    header = request.headers.get("Authorization", "")
    if not key and header[:7].lower() == "bearer ":
        key = header[7:].strip()
    if not key:
        raise Forbidden("缺少 api_key：请使用控制台“API令牌”页面创建的令牌。", code="api_key_missing")
    user = BearerToken().authenticate(request, key[:200])
    if user is None:
        raise Forbidden("api_key 无效或已吊销。", code="api_key_invalid")
    if not (user.is_superuser or user.role in MANAGER_ROLES):
        raise Forbidden("该令牌的账号无权代群众点单（须为实践站及以上管理员）。", code="role_forbidden")
    return user


def _coordinates(form) -> tuple[float | None, float | None]:
    lat, lng = _param(form, "lat"), _param(form, "long")
    if not lat and not lng:
        return None, None
    if not lat or not lng:
        raise InvalidInput("lat 与 long 须同时提供。", code="coordinates_partial")
    try:
        a, b = float(lat[:40]), float(lng[:40])
    except ValueError:
        raise InvalidInput("lat 与 long 须为十进制度数（WGS84），如 27.2389。", code="coordinates_invalid")
    if not (math.isfinite(a) and math.isfinite(b) and -90 <= a <= 90 and -180 <= b <= 180):
        raise InvalidInput("经纬度超出范围。", code="coordinates_invalid")
    return a, b


def _station(form, lat: float | None, lng: float | None) -> OrgNode:
    value = next((v for v in (_param(form, k) for k in STATION_FIELDS) if v), "")
    if value:
        code = ascii_form(value)
        if not re.fullmatch(r"[0-9]{12}", code):
            raise InvalidInput("attribute[station] 须为实践站的12位区划代码。", code="station_invalid")
        station = OrgNode.objects.filter(division_code=code, kind=OrgNode.Kind.STATION).first()
        if station is None:
            raise InvalidInput(f"没有区划代码为 {code} 的新时代文明实践站。", code="station_invalid")
        return station
    if lat is None:
        raise InvalidInput("请用 attribute[station] 指明实践站的区划代码，或提供经纬度以就近选择实践站。",
                           code="station_missing")
    within = float(getattr(settings, "WENMING_OPEN311_NEAREST_KM", 20))
    station = nearest_station(lat, lng, within)
    if station is None:
        raise InvalidInput(f"{within:g}公里内没有登记了坐标的实践站，请用 attribute[station] 指明实践站的区划代码。",
                           code="station_missing")
    return station


def _contact_name(form) -> str:
    first, last = _param(form, "first_name"), _param(form, "last_name")
    if re.search(r"[\u3400-\u9fff]", first + last):
        return last + first  # 姓 then 名
    return " ".join(p for p in (first, last) if p)


def create_request(request, fmt: str) -> HttpResponse:
    form = request.POST
    user = _token_user(request, form)
    code = _param(form, "service_code")
    category = find_leaf(code) if re.fullmatch(r"[-A-Za-z0-9_]{1,40}", code) else None
    if category is None:
        raise InvalidInput(f"service_code“{code[:40]}”无效，请从 services 列表中选择。", code="service_code_unknown")
    lat, lng = _coordinates(form)
    address = _param(form, "address_string")
    if lat is None and not address:
        raise InvalidInput("请提供位置：lat 与 long，或 address_string。", code="location_missing")
    station = _station(form, lat, lng)
    require_manager(user, station)
    urgency = _param(form, "attribute[urgency]") or Need.Urgency.NORMAL
    data = services.NeedData(
        category=category, description=_param(form, "description"), station=station, address=address,
        lat=lat, lng=lng, contact_name=_contact_name(form), phone=_param(form, "phone"), urgency=urgency,
    )
    need = services.submit_need(data, by=user, source=Need.Source.OPEN311)
    row = {"service_request_id": need.code, "token": need.code, "service_notice": "", "account_id": None}
    return respond(fmt, [row], root="service_requests", item="request", status=201)


# --- Views ------------------------------------------------------------------------------------------


def _status(exc: DomainError) -> int:
    if exc.status in (401, 403):
        return 403
    return 400 if exc.status == 422 else exc.status


def endpoint(*methods: str):
    """A GeoReport endpoint: the format from the path, errors in that format, never a page or a 500."""

    def wrap(view):
        @csrf_exempt
        @wraps(view)
        def run(request, fmt: str, **kwargs):
            answer = fmt.lower() if fmt.lower() in CONTENT_TYPES else "json"
            try:
                if fmt.lower() not in CONTENT_TYPES:
                    raise InvalidInput(f"不支持的格式“.{fmt}”，请使用 .json 或 .xml。", code="format_invalid")
                if request.method not in methods:
                    response = error(answer, 405, f"此地址不支持 {request.method[:10]} 请求。")
                    response["Allow"] = ", ".join(methods)
                    return response
                return view(request, answer, **kwargs)
            except DomainError as exc:
                return error(answer, _status(exc), exc.message)
            except RequestDataTooBig:
                return error(answer, 413, "提交的内容过大。")
            except TooManyFieldsSent:
                return error(answer, 400, "提交的字段过多。")
            except Exception:
                log.exception("open311: %s %s", request.method, request.path)
                return error(answer, 500, "服务器内部错误，请稍后再试。")

        return run

    return wrap


def _base_url(request) -> str:
    return request.build_absolute_uri(reverse("open311:discovery", args=["json"])).removesuffix("discovery.json")


@endpoint("GET", "HEAD")
def discovery(request, fmt):
    contact = getattr(settings, "WENMING_OPEN311_CONTACT", "") or "区新时代文明实践中心（平台管理员）"
    key_service = (f"请用实践站及以上管理员账号登录控制台，在“API令牌”页面创建令牌："
                   f"{request.build_absolute_uri(reverse('core:tokens'))}")
    endpoint_row = {
        "specification": SPECIFICATION, "url": _base_url(request), "changeset": CHANGESET,
        "type": "production", "formats": MEDIA_TYPES,
    }
    data = {"changeset": CHANGESET, "contact": contact, "key_service": key_service, "endpoints": [endpoint_row]}
    return respond(fmt, data, root="discovery")


@endpoint("GET", "HEAD")
def service_list(request, fmt):
    rows = sorted(leaf_categories(), key=lambda c: (
        (c.parent.sort_order, c.parent_id) if c.parent_id else (c.sort_order, c.pk), c.sort_order, c.pk))
    return respond(fmt, [service_row(c) for c in rows], root="services", item="service")


@endpoint("GET", "HEAD")
def service_definition(request, fmt, code):
    category = find_leaf(code)
    if category is None:
        raise NotFound(f"没有编码为 {code} 的服务类别。", code="service_not_found")
    return respond(fmt, {"service_code": category.code, "attributes": attributes()}, root="service_definition")


@endpoint("GET", "HEAD", "POST")
def service_requests(request, fmt):
    if request.method == "POST":
        return create_request(request, fmt)
    rows = [request_row(n) for n in find_needs(read_filters(request.GET))]
    return respond(fmt, rows, root="service_requests", item="request")


@endpoint("GET", "HEAD")
def service_request(request, fmt, code):
    return respond(fmt, [request_row(need_by_code(code))], root="service_requests", item="request")


@endpoint("GET", "HEAD")
def token_lookup(request, fmt, token):
    need = need_by_code(token)
    return respond(fmt, [{"service_request_id": need.code, "token": need.code}], root="service_requests",
                   item="request")


@csrf_exempt
def not_found(request, path=""):
    return error("xml" if request.path.lower().endswith(".xml") else "json", 404,
                 "没有这个 Open311 地址。可用：discovery、services、services/{service_code}、requests、"
                 "requests/{service_request_id}、tokens/{token}，后缀 .json 或 .xml。")
