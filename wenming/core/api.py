"""API: tokens, the organisation tree, skills and departments."""

from ninja import Query, Router, Schema
from pydantic import Field

from . import services
from .models import Department, OrgNode, Skill
from .pagination import IdFilter, PageParams, paginate
from .scoping import get_scoped, scoped

router = Router()


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=200)
    name: str = Field("API", max_length=50)


class TokenOut(Schema):
    token: str
    token_id: int
    name: str


@router.post("/auth/token", auth=None, response={200: TokenOut}, tags=["账号"], summary="用户名密码换取API令牌")
def issue_token(request, body: TokenIn):
    token, key = services.login_for_token(request, body.username, body.password, body.name)
    return {"token": key, "token_id": token.pk, "name": token.name}


@router.delete("/auth/token/{token_id}", tags=["账号"], summary="吊销自己的API令牌")
def revoke_token(request, token_id: int):
    services.revoke_api_token(request.auth, token_id)
    return {"revoked": True}


class OrgOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    division_code: str
    parent_id: int | None
    depth: int
    secretary: str
    contact_phone: str
    address: str
    lat: float | None
    lng: float | None
    is_demonstration: bool


def org_out(node: OrgNode, parent_ids: dict) -> dict:
    parent_path = node.path[: -node.steplen] if node.depth > 1 else None
    return {
        "id": node.pk, "name": node.name, "kind": node.kind, "kind_label": node.get_kind_display(),
        "division_code": node.division_code, "parent_id": parent_ids.get(parent_path),
        "depth": node.depth, "secretary": node.secretary, "contact_phone": node.contact_phone,
        "address": node.address, "lat": node.lat, "lng": node.lng, "is_demonstration": node.is_demonstration,
    }


def _serialize_nodes(rows):
    """Parent ids for a page of nodes in one query (treebeard keeps paths, not parent ids)."""
    paths = {n.path[: -n.steplen] for n in rows if n.depth > 1}
    parent_ids = dict(OrgNode.objects.filter(path__in=paths).values_list("path", "id"))
    return [org_out(n, parent_ids) for n in rows]


class OrgPage(Schema):
    items: list[OrgOut]
    count: int


class OrgFilter(Schema):
    kind: OrgNode.Kind | None = None
    parent_id: int | None = IdFilter()
    q: str | None = Field(None, max_length=50)


@router.get("/orgs", response=OrgPage, tags=["组织"], summary="实践组织列表（中心、所、站）")
def list_orgs(request, filters: Query[OrgFilter], page: Query[PageParams]):
    qs = scoped(OrgNode.objects.all(), request.auth).order_by("path")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.parent_id:
        parent = get_scoped(OrgNode.objects.all(), request.auth, filters.parent_id)
        qs = qs.filter(path__startswith=parent.path, depth=parent.depth + 1)
    if filters.q:
        qs = qs.filter(name__contains=filters.q)
    result = paginate(qs, page)
    result["items"] = _serialize_nodes(result["items"])
    return result


@router.get("/orgs/{org_id}", response=OrgOut, tags=["组织"])
def get_org(request, org_id: int):
    return _serialize_nodes([get_scoped(OrgNode.objects.all(), request.auth, org_id)])[0]


class OrgIn(Schema):
    parent_id: int | None = None
    name: str = Field(..., min_length=1, max_length=100)
    division_code: str = Field(..., min_length=1, max_length=20)
    secretary: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    is_demonstration: bool = False


class OrgPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    secretary: str | None = Field(None, max_length=50)
    contact_phone: str | None = Field(None, max_length=20)
    address: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    is_demonstration: bool | None = None


@router.post("/orgs", response={201: OrgOut}, tags=["组织"], summary="新增实践所或实践站")
def create_org(request, body: OrgIn):
    parent = get_scoped(OrgNode.objects.all(), request.auth, body.parent_id) if body.parent_id else None
    fields = body.dict(exclude={"parent_id", "name", "division_code"})
    node = services.create_node(request.auth, parent, name=body.name, division_code=body.division_code, **fields)
    return 201, _serialize_nodes([node])[0]


@router.patch("/orgs/{org_id}", response=OrgOut, tags=["组织"])
def update_org(request, org_id: int, body: OrgPatch):
    node = get_scoped(OrgNode.objects.all(), request.auth, org_id)
    node = services.update_node(request.auth, node, **body.dict(exclude_unset=True))
    return _serialize_nodes([node])[0]


class NamedOut(Schema):
    id: int
    name: str


class NamedPage(Schema):
    items: list[NamedOut]
    count: int


def named_out(row) -> dict:
    return {"id": row.pk, "name": row.name}


@router.get("/skills", response=NamedPage, tags=["字典"], summary="技能列表")
def list_skills(request, page: Query[PageParams]):
    return paginate(Skill.objects.order_by("ordering", "id"), page, named_out)


@router.get("/departments", response=NamedPage, tags=["字典"], summary="区直部门")
def list_departments(request, page: Query[PageParams]):
    return paginate(Department.objects.order_by("id"), page, named_out)
