"""API: sites (阵地), platforms, social organisations, contact points."""

from datetime import date

from ninja import Query, Router, Schema
from pydantic import Field

from wenming.core.models import Department, OrgNode
from wenming.core.pagination import IdFilter, PageParams, paginate
from wenming.core.scoping import get_scoped

from . import queries, services
from .models import ContactPoint, Site

router = Router()


class SiteOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    node_id: int
    node_name: str
    address: str
    lat: float | None
    lng: float | None
    radius_m: int


def site_out(s: Site) -> dict:
    return {"id": s.pk, "name": s.name, "kind": s.kind, "kind_label": s.get_kind_display(), "node_id": s.node_id,
            "node_name": s.node.name, "address": s.address, "lat": s.lat, "lng": s.lng, "radius_m": s.radius_m}


class SitePage(Schema):
    items: list[SiteOut]
    count: int


class SiteFilter(Schema):
    node_id: int | None = IdFilter()
    kind: Site.Kind | None = None


class SiteIn(Schema):
    node_id: int
    name: str = Field(..., min_length=1, max_length=100)
    kind: Site.Kind
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    radius_m: int = Field(300, ge=10, le=5000)


class SitePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: Site.Kind | None = None
    address: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    radius_m: int | None = Field(None, ge=10, le=5000)


@router.get("/sites", response=SitePage, tags=["阵地"], summary="阵地列表")
def list_sites(request, filters: Query[SiteFilter], page: Query[PageParams]):
    return paginate(queries.sites_for(request.auth, node_id=filters.node_id, kind=filters.kind), page, site_out)


@router.get("/sites/{site_id}", response=SiteOut, tags=["阵地"])
def get_site(request, site_id: int):
    return site_out(get_scoped(Site.objects.select_related("node"), request.auth, site_id))


@router.post("/sites", response={201: SiteOut}, tags=["阵地"])
def create_site(request, body: SiteIn):
    node = get_scoped(OrgNode.objects.all(), request.auth, body.node_id)
    site = services.create_site(request.auth, node, **body.dict(exclude={"node_id"}))
    return 201, site_out(site)


@router.patch("/sites/{site_id}", response=SiteOut, tags=["阵地"])
def update_site(request, site_id: int, body: SitePatch):
    site = get_scoped(Site.objects.select_related("node"), request.auth, site_id)
    # null clears the position; for a field that cannot be empty it means "no change" (as for orgs).
    fields = {k: v for k, v in body.dict(exclude_unset=True).items() if v is not None or k in ("lat", "lng")}
    return site_out(services.update_site(request.auth, site, **fields))


class PlatformOut(Schema):
    id: int
    name: str
    lead_department_id: int
    lead_department: str
    description: str


def platform_out(p) -> dict:
    return {"id": p.pk, "name": p.name, "lead_department_id": p.lead_department_id,
            "lead_department": p.lead_department.name, "description": p.description}


class PlatformPage(Schema):
    items: list[PlatformOut]
    count: int


@router.get("/platforms", response=PlatformPage, tags=["平台"], summary="平台（六传六习等）")
def list_platforms(request, page: Query[PageParams]):
    return paginate(queries.platforms(), page, platform_out)


class PlatformIn(Schema):
    name: str = Field(..., min_length=1, max_length=50)
    lead_department_id: int
    description: str = Field("", max_length=2000)


@router.post("/platforms", response={201: PlatformOut}, tags=["平台"])
def create_platform(request, body: PlatformIn):
    dept = get_scoped(Department.objects.all(), request.auth, body.lead_department_id)
    p = services.create_platform(request.auth, name=body.name, lead_department=dept, description=body.description)
    return 201, platform_out(p)


class ContactPointOut(Schema):
    id: int
    kind: str
    kind_label: str
    party: str
    party_title: str
    node_id: int
    node_name: str
    frequency_days: int
    last_visit: date | None
    due_on: date
    overdue: bool


def cp_out(cp) -> dict:
    return {"id": cp.pk, "kind": cp.kind, "kind_label": cp.get_kind_display(), "party": cp.party,
            "party_title": cp.party_title, "node_id": cp.node_id, "node_name": cp.node.name,
            "frequency_days": cp.frequency_days, "last_visit": cp.last_visit, "due_on": cp.due_on,
            "overdue": cp.overdue}


class ContactPointPage(Schema):
    items: list[ContactPointOut]
    count: int


@router.get("/contact-points", response=ContactPointPage, tags=["联系点"], summary="联系点及是否逾期")
def list_contact_points(request, page: Query[PageParams], overdue: bool = False):
    return paginate(queries.contact_points_for(request.auth, overdue_only=overdue), page, cp_out)


@router.get("/contact-points/{cp_id}", response=ContactPointOut, tags=["联系点"])
def get_contact_point(request, cp_id: int):
    return cp_out(queries.contact_point_detail(request.auth, cp_id))


class ContactPointIn(Schema):
    node_id: int
    kind: ContactPoint.Kind
    party: str = Field(..., min_length=1, max_length=100)
    party_title: str = Field("", max_length=100)
    frequency_days: int = Field(30, ge=1, le=366)
    started_on: date | None = None


class ContactPointPatch(Schema):
    party: str | None = Field(None, min_length=1, max_length=100)
    party_title: str | None = Field(None, max_length=100)
    frequency_days: int | None = Field(None, ge=1, le=366)


@router.post("/contact-points", response={201: ContactPointOut}, tags=["联系点"], summary="新增联系点")
def create_contact_point(request, body: ContactPointIn):
    node = get_scoped(OrgNode.objects.all(), request.auth, body.node_id)
    cp = services.create_contact_point(request.auth, node, **body.dict(exclude={"node_id"}))
    return 201, cp_out(queries.contact_point_detail(request.auth, cp.pk))


@router.patch("/contact-points/{cp_id}", response=ContactPointOut, tags=["联系点"])
def update_contact_point(request, cp_id: int, body: ContactPointPatch):
    cp = get_scoped(ContactPoint.objects.select_related("node"), request.auth, cp_id)
    services.update_contact_point(request.auth, cp, **body.dict(exclude_unset=True))
    return cp_out(queries.contact_point_detail(request.auth, cp_id))


class VisitIn(Schema):
    visited_on: date
    summary: str = Field(..., min_length=1, max_length=2000)


@router.post("/contact-points/{cp_id}/visits", response={201: dict}, tags=["联系点"], summary="登记指导记录")
def log_visit(request, cp_id: int, body: VisitIn):
    cp = get_scoped(ContactPoint.objects.select_related("node"), request.auth, cp_id)
    visit = services.log_guidance_visit(request.auth, cp, visited_on=body.visited_on, summary=body.summary)
    return 201, {"id": visit.pk, "visited_on": visit.visited_on.isoformat()}


__all__ = ["router", "paginate", "PageParams"]
