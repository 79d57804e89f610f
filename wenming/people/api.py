"""API: volunteers (志愿者) and teams (志愿服务队)."""

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import Field

from wenming.core.errors import InvalidInput
from wenming.core.models import OrgNode, Skill
from wenming.core.pagination import IdFilter, PageParams, paginate
from wenming.core.scoping import get_scoped, scoped
from wenming.org.models import Platform, SocialOrganization

from . import queries, services
from .models import Team, Volunteer

router = Router(tags=["志愿者"])
teams_router = Router(tags=["志愿服务队"])


class VolunteerOut(Schema):
    id: int
    number: str
    name: str
    gender: str
    # Not the birth date: it is the 8 digits the masked ID number hides, so the two together
    # would be the full number, seen without a (logged) reveal.
    age: int = Field(description="年龄（不提供出生日期：它与脱敏证件号合起来即为完整号码）")
    id_type: str
    id_number: str = Field(description="脱敏后的证件号码")
    phone: str = Field(description="脱敏后的手机号码")
    political_status: str
    skills: list[str]
    station_id: int
    station_name: str
    availability: list[str]
    guardian_name: str
    source: str
    created_at: datetime


def skill_names(v: Volunteer) -> list[str]:
    """A listed volunteer carries its skills' names (queries.VolunteerSearch); a single one asks."""
    names = getattr(v, "skill_names", None)
    return names if names is not None else [s.name for s in v.skills.all()]


def volunteer_out(v: Volunteer) -> dict:
    return {
        "id": v.pk, "number": v.number, "name": v.name, "gender": v.gender, "age": v.age,
        "id_type": v.id_type, "id_number": v.id_number_masked, "phone": v.phone_masked,
        "political_status": v.political_status, "skills": skill_names(v),
        "station_id": v.station_id, "station_name": v.station.name, "availability": v.availability,
        "guardian_name": v.guardian_name, "source": v.source, "created_at": v.created_at,
    }


class VolunteerPage(Schema):
    items: list[VolunteerOut]
    count: int = Field(description=f"符合条件的志愿者数，最多计到 {queries.COUNT_CAP}")
    count_is_capped: bool = Field(
        description=f"为 true 时实际多于 {queries.COUNT_CAP} 名（count 为 {queries.COUNT_CAP}）；"
                    "仍可继续翻页，直到某页 items 为空"
    )


class VolunteerFilter(Schema):
    q: str | None = Field(None, max_length=50, description="姓名、拼音（全拼或首字母）、志愿者编号、手机号或身份证号")
    station_id: int | None = IdFilter()
    skill_id: int | None = IdFilter()


class VolunteerIn(Schema):
    name: str = Field(..., min_length=1, max_length=50)
    id_number: str = Field(..., min_length=1, max_length=30, description="18位；可含空格，全角数字亦可")
    phone: str = Field(..., min_length=1, max_length=20)
    station_id: int
    political_status: Volunteer.Political = Volunteer.Political.MASSES
    skill_ids: list[int] = Field(default_factory=list, max_length=50)
    availability: list[str] = Field(default_factory=list, max_length=10)
    agreement_consent: bool
    privacy_consent: bool
    guardian_name: str = Field("", max_length=50)
    guardian_phone: str = Field("", max_length=20)
    guardian_consent: bool = False


class VolunteerPatch(Schema):
    phone: str | None = Field(None, min_length=1, max_length=20)
    political_status: Volunteer.Political | None = None
    station_id: int | None = None
    skill_ids: list[int] | None = Field(None, max_length=50)
    availability: list[str] | None = Field(None, max_length=10)


def _skills(ids: list[int]) -> list[Skill]:
    skills = list(Skill.objects.filter(pk__in=ids))
    if len(skills) != len(set(ids)):
        raise InvalidInput("技能不在可选范围内。", code="skill_invalid")
    return skills


def _volunteers(user):
    return scoped(Volunteer.objects.select_related("station").prefetch_related("skills"), user)


@router.get("", response=VolunteerPage, summary="志愿者列表与搜索")
def list_volunteers(request, filters: Query[VolunteerFilter], page: Query[PageParams]):
    start = (page.page - 1) * page.page_size
    results = queries.search_volunteers(request.auth, text=filters.q or "", station_id=filters.station_id,
                                         skill_id=filters.skill_id, window=(start, start + page.page_size))
    count = results.count()
    if start and start >= count and not results.count_is_capped:
        # Past the end of an exactly counted list: the same answer as every other list gives.
        if count:
            raise InvalidInput(f"页码超出范围：共 {count} 条，每页 {page.page_size} 条。", code="page_out_of_range")
        return {"items": [], "count": 0, "count_is_capped": False}
    items = [volunteer_out(v) for v in results[start : start + page.page_size]]
    return {"items": items, "count": count, "count_is_capped": results.count_is_capped}


@router.get("/{volunteer_id}", response=VolunteerOut, summary="志愿者详情（证件号、手机号脱敏）")
def get_volunteer(request, volunteer_id: int):
    return volunteer_out(get_scoped(_volunteers(request.auth), request.auth, volunteer_id))


@router.post("", response={201: VolunteerOut}, summary="登记志愿者")
def create_volunteer(request, body: VolunteerIn):
    station = get_scoped(OrgNode.objects.all(), request.auth, body.station_id)
    data = services.VolunteerData(
        station=station, skills=_skills(body.skill_ids),
        **body.dict(exclude={"station_id", "skill_ids"}),
    )
    v = services.register_volunteer(request.auth, data)
    return 201, volunteer_out(v)


@router.patch("/{volunteer_id}", response=VolunteerOut, summary="修改志愿者信息")
def update_volunteer(request, volunteer_id: int, body: VolunteerPatch):
    v = get_scoped(_volunteers(request.auth), request.auth, volunteer_id)
    fields = body.dict(exclude_unset=True)
    station = get_scoped(OrgNode.objects.all(), request.auth, fields.pop("station_id")) if fields.get("station_id") else None
    skills = _skills(fields.pop("skill_ids")) if fields.get("skill_ids") is not None else None
    fields.pop("station_id", None)
    fields.pop("skill_ids", None)
    v = services.update_volunteer(request.auth, v, station=station, skills=skills, **fields)
    return volunteer_out(get_scoped(_volunteers(request.auth), request.auth, v.pk))


class RevealOut(Schema):
    field: str
    value: str


@router.post("/{volunteer_id}/reveal/{field}", response=RevealOut, summary="查看完整证件号或手机号（记入审计日志）")
def reveal(request, volunteer_id: int, field: str):
    v = get_scoped(_volunteers(request.auth), request.auth, volunteer_id)
    return {"field": field, "value": services.reveal_volunteer_field(request.auth, v, field)}


# --- Teams -----------------------------------------------------------------


class TeamOut(Schema):
    id: int
    name: str
    node_id: int
    node_name: str
    platform_id: int | None
    platform: str | None
    social_org_id: int | None
    social_org: str | None
    leader_id: int | None
    leader: str | None
    skills: list[str]
    member_count: int
    capacity: int
    description: str


def team_out(t: Team) -> dict:
    return {
        "id": t.pk, "name": t.name, "node_id": t.node_id, "node_name": t.node.name,
        "platform_id": t.platform_id, "platform": t.platform.name if t.platform_id else None,
        "social_org_id": t.social_org_id, "social_org": t.social_org.name if t.social_org_id else None,
        "leader_id": t.leader_id, "leader": str(t.leader) if t.leader_id else None,
        "skills": [s.name for s in t.skills.all()], "member_count": getattr(t, "member_count", 0),
        "capacity": t.capacity, "description": t.description,
    }


class TeamPage(Schema):
    items: list[TeamOut]
    count: int


class TeamFilter(Schema):
    q: str | None = Field(None, max_length=50)
    node_id: int | None = IdFilter()


class TeamIn(Schema):
    node_id: int
    name: str = Field(..., min_length=1, max_length=100)
    platform_id: int | None = None
    social_org_id: int | None = None
    leader_id: int | None = None
    skill_ids: list[int] = Field(default_factory=list, max_length=50)
    description: str = Field("", max_length=2000)
    capacity: int = Field(5, ge=0, le=10000)


class TeamPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    platform_id: int | None = None
    social_org_id: int | None = None
    leader_id: int | None = None
    skill_ids: list[int] | None = Field(None, max_length=50)
    description: str | None = Field(None, max_length=2000)
    capacity: int | None = Field(None, ge=0, le=10000)


def _team_refs(request, fields: dict) -> dict:
    """Turn the ids of a team payload into rows the user may use."""
    out = {}
    if "platform_id" in fields:
        pid = fields["platform_id"]
        out["platform"] = get_scoped(Platform.objects.all(), request.auth, pid) if pid else None
    if "social_org_id" in fields:
        sid = fields["social_org_id"]
        out["social_org"] = get_scoped(SocialOrganization.objects.all(), request.auth, sid) if sid else None
    if "leader_id" in fields:
        lid = fields["leader_id"]
        out["leader"] = get_scoped(Volunteer.objects.select_related("station"), request.auth, lid) if lid else None
    for key in ("name", "description", "capacity"):
        if fields.get(key) is not None:  # null for a field that cannot be empty: no change
            out[key] = fields[key]
    return out


def _team(request, team_id):
    return get_scoped(queries.teams_for(request.auth), request.auth, team_id)


@teams_router.get("", response=TeamPage, summary="志愿服务队列表")
def list_teams(request, filters: Query[TeamFilter], page: Query[PageParams]):
    return paginate(queries.teams_for(request.auth, text=filters.q or "", node_id=filters.node_id), page, team_out)


@teams_router.get("/{team_id}", response=TeamOut)
def get_team(request, team_id: int):
    return team_out(_team(request, team_id))


@teams_router.post("", response={201: TeamOut}, summary="新建志愿服务队")
def create_team(request, body: TeamIn):
    node = get_scoped(OrgNode.objects.all(), request.auth, body.node_id)
    fields = body.dict()
    team = services.create_team(request.auth, node, skills=_skills(body.skill_ids), **_team_refs(request, fields))
    return 201, team_out(_team(request, team.pk))


@teams_router.patch("/{team_id}", response=TeamOut)
def update_team(request, team_id: int, body: TeamPatch):
    team = _team(request, team_id)
    fields = body.dict(exclude_unset=True)
    skills = _skills(fields["skill_ids"]) if fields.get("skill_ids") is not None else None
    services.update_team(request.auth, team, skills=skills, **_team_refs(request, fields))
    return team_out(_team(request, team_id))
