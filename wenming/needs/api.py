"""API: residents' needs (群众点单) and one endpoint per transition of the loop."""

from datetime import date, datetime

from ninja import Query, Router, Schema
from pydantic import Field

from wenming.core.errors import Forbidden, InvalidInput, NotFound
from wenming.core.models import Department, OrgNode
from wenming.core.pagination import IdFilter, PageParams, paginate
from wenming.core.scoping import get_scoped, in_reach
from wenming.people.models import Team, Volunteer

from . import queries, services
from .models import Need, NeedCategory

router = Router(tags=["群众点单"])


class EventOut(Schema):
    at: datetime
    action: str
    from_state: str
    to_state: str
    actor: str
    note: str


class NeedOut(Schema):
    id: int
    code: str = Field(description="群众查询码")
    state: str = Field(description="submitted 待审核 / approved 待派单 / dispatched 已派单 / accepted 已接单 / "
                                   "in_service 服务中 / completed 待评价 / closed 已完成 / rejected 已驳回 / cancelled 已取消")
    state_label: str
    category_id: int
    category: str
    description: str
    station_id: int
    station_name: str
    node_id: int
    node_name: str
    address: str
    lat: float | None
    lng: float | None
    contact_name: str
    phone_masked: str
    wished_at: datetime | None
    urgency: str
    source: str
    is_wish: bool
    team_id: int | None
    volunteer_id: int | None
    to_node_id: int | None
    department_id: int | None
    in_pool: bool
    assignee: str
    deadline: datetime | None
    overdue: bool
    escalations: int
    created_at: datetime
    reason: str
    report: str
    people_served: int | None
    stars: int | None
    comment: str


class NeedDetailOut(NeedOut):
    timeline: list[EventOut]


def need_out(n: Need) -> dict:
    return {
        "id": n.pk, "code": n.code, "state": n.state, "state_label": n.get_state_display(),
        "category_id": n.category_id, "category": str(n.category), "description": n.description,
        "station_id": n.station_id, "station_name": n.station.name, "node_id": n.node_id, "node_name": n.node.name,
        "address": n.address, "lat": n.lat, "lng": n.lng, "contact_name": n.contact_name,
        "phone_masked": n.phone_masked, "wished_at": n.wished_at, "urgency": n.urgency, "source": n.source,
        "is_wish": n.is_wish, "team_id": n.team_id, "volunteer_id": n.volunteer_id, "to_node_id": n.to_node_id,
        "department_id": n.department_id, "in_pool": n.in_pool, "assignee": n.assignee_label,
        "deadline": n.deadline, "overdue": n.overdue, "escalations": n.escalations, "created_at": n.created_at,
        "reason": n.reason, "report": n.report, "people_served": n.people_served, "stars": n.stars,
        "comment": n.comment,
    }


def detail_out(n: Need) -> dict:
    return need_out(n) | {"timeline": [
        {"at": e.at, "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
         "actor": e.actor_label, "note": e.note} for e in queries.timeline(n)
    ]}


class NeedPage(Schema):
    items: list[NeedOut]
    count: int


class NeedFilter(Schema):
    state: Need.State | None = None
    node_id: int | None = IdFilter("办理组织（含下级）")
    category_id: int | None = IdFilter("类别（含子类别）")
    team_id: int | None = IdFilter()
    overdue: bool | None = None
    in_pool: bool | None = None
    q: str | None = Field(None, max_length=50, description="查询码或描述关键字")
    created_after: datetime | None = None
    created_before: datetime | None = None


def _visible_one(user, need_id: int) -> Need:
    try:
        return queries.needs_for(user).get(pk=need_id)
    except (Need.DoesNotExist, ValueError, TypeError):
        raise NotFound("需求不存在或不在您的管辖范围内。")


def _pick(model, pk, label: str):
    if pk is None:
        return None
    try:
        return model.objects.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise InvalidInput(f"{label}不存在。", code="choice_invalid")


@router.get("", response=NeedPage, summary="需求列表")
def list_needs(request, filters: Query[NeedFilter], page: Query[PageParams]):
    qs = queries.needs_for(request.auth)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.node_id:
        node = _pick(OrgNode, filters.node_id, "组织")
        qs = qs.filter(node__path__startswith=node.path)
    if filters.category_id:
        qs = qs.filter(category_id=filters.category_id) | qs.filter(category__parent_id=filters.category_id)
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    if filters.overdue is not None:
        qs = qs.filter(overdue=filters.overdue)
    if filters.in_pool is not None:
        qs = qs.filter(in_pool=filters.in_pool)
    if filters.q:
        qs = qs.filter(code=filters.q.strip().upper()) | qs.filter(description__contains=filters.q)
    if filters.created_after:
        qs = qs.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        qs = qs.filter(created_at__lt=filters.created_before)
    return paginate(qs.order_by("-created_at", "-id"), page, need_out)


class NeedIn(Schema):
    category_id: int = Field(..., ge=1, le=2**63 - 1)
    description: str = Field(..., min_length=1, max_length=1000)
    station_id: int = Field(..., ge=1, le=2**63 - 1)
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    contact_name: str = Field(..., min_length=1, max_length=50)
    phone: str = Field(..., min_length=1, max_length=20)
    wished_at: datetime | None = None
    urgency: Need.Urgency = Need.Urgency.NORMAL
    is_wish: bool = False
    offer_id: int | None = Field(None, ge=1, le=2**63 - 1)


@router.post("", response={201: NeedDetailOut}, summary="代群众点单（帮办）")
def create_need(request, body: NeedIn):
    from .models import ServiceOffer

    station = get_scoped(OrgNode.objects.all(), request.auth, body.station_id)
    data = services.NeedData(
        category=_pick(NeedCategory, body.category_id, "需求类别"), description=body.description, station=station,
        address=body.address, lat=body.lat, lng=body.lng, contact_name=body.contact_name, phone=body.phone,
        wished_at=body.wished_at, urgency=body.urgency, is_wish=body.is_wish,
        offer=_pick(ServiceOffer, body.offer_id, "服务清单"),
    )
    need = services.submit_need(data, by=request.auth)
    return 201, detail_out(_visible_one(request.auth, need.pk))


@router.get("/{need_id}", response=NeedDetailOut, summary="需求详情（含办理时间线）")
def get_need(request, need_id: int):
    return detail_out(_visible_one(request.auth, need_id))


# --- Transitions -----------------------------------------------------------------------------------


def _done(request, need: Need) -> dict:
    return detail_out(_visible_one(request.auth, need.pk))


class ReviewIn(Schema):
    approve: bool
    reason: str = Field("", max_length=200)


@router.post("/{need_id}/review", response=NeedDetailOut, summary="审核（通过或驳回）")
def review(request, need_id: int, body: ReviewIn):
    need = services.review_need(request.auth, _visible_one(request.auth, need_id), approve=body.approve,
                                reason=body.reason)
    return _done(request, need)


class DispatchIn(Schema):
    team_id: int | None = Field(None, ge=1, le=2**63 - 1)
    volunteer_id: int | None = Field(None, ge=1, le=2**63 - 1)
    node_id: int | None = Field(None, ge=1, le=2**63 - 1)
    department_id: int | None = Field(None, ge=1, le=2**63 - 1)
    note: str = Field("", max_length=200)


@router.post("/{need_id}/dispatch", response=NeedDetailOut, summary="派单（队伍、志愿者、下级组织或部门，四选一）")
def dispatch(request, need_id: int, body: DispatchIn):
    need = _visible_one(request.auth, need_id)
    need = services.dispatch_need(
        request.auth, need, team=_pick(Team, body.team_id, "队伍"),
        volunteer=_pick(Volunteer, body.volunteer_id, "志愿者"), node=_pick(OrgNode, body.node_id, "组织"),
        department=_pick(Department, body.department_id, "部门"), note=body.note,
    )
    return _done(request, need)


class NoteIn(Schema):
    note: str = Field("", max_length=200)


@router.post("/{need_id}/publish", response=NeedDetailOut, summary="发布到抢单池")
def publish(request, need_id: int, body: NoteIn | None = None):
    need = services.publish_need(request.auth, _visible_one(request.auth, need_id), note=body.note if body else "")
    return _done(request, need)


class GrabIn(Schema):
    team_id: int | None = Field(None, ge=1, le=2**63 - 1, description="带领多支队伍时指定；只带一支可不填")


def _my_team(user, team_id: int | None) -> Team:
    teams = services.led_teams(user)
    if team_id is not None:
        teams = [t for t in teams if t.pk == team_id]
    if not teams:
        raise Forbidden("只有队长可以为本队抢单或认领。", code="not_team_leader")
    if len(teams) > 1:
        raise InvalidInput("您带领多支队伍，请指定 team_id。", code="team_required")
    return teams[0]


@router.post("/{need_id}/grab", response=NeedDetailOut, summary="抢单（队长为本队）")
def grab(request, need_id: int, body: GrabIn | None = None):
    team = _my_team(request.auth, body.team_id if body else None)
    need = services.grab_need(request.auth, _visible_one(request.auth, need_id), team)
    return _done(request, need)


@router.post("/{need_id}/claim", response=NeedDetailOut, summary="认领微心愿（队长为本队）")
def claim(request, need_id: int, body: GrabIn | None = None):
    team = _my_team(request.auth, body.team_id if body else None)
    try:
        need = Need.objects.get(pk=need_id, is_wish=True)
    except Need.DoesNotExist:
        raise NotFound("心愿不存在。")
    return _done(request, services.claim_wish(request.auth, need, team))


@router.post("/{need_id}/accept", response=NeedDetailOut, summary="接单")
def accept(request, need_id: int):
    return _done(request, services.accept_need(request.auth, _visible_one(request.auth, need_id)))


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post("/{need_id}/decline", response=NeedDetailOut, summary="拒单（退回改派）")
def decline(request, need_id: int, body: ReasonIn):
    return _done(request, services.decline_need(request.auth, _visible_one(request.auth, need_id), reason=body.reason))


@router.post("/{need_id}/start", response=NeedDetailOut, summary="开始服务")
def start(request, need_id: int):
    return _done(request, services.start_service(request.auth, _visible_one(request.auth, need_id)))


class HoursIn(Schema):
    volunteer_id: int = Field(..., ge=1, le=2**63 - 1)
    hours: float = Field(..., gt=0, le=24)


class CompleteIn(Schema):
    report: str = Field(..., min_length=1, max_length=2000)
    people_served: int | None = Field(None, ge=0, le=100_000)
    hours: list[HoursIn] = Field(default_factory=list, max_length=200)


@router.post("/{need_id}/complete", response=NeedDetailOut, summary="完成服务（报告、服务人数、志愿者时长）")
def complete(request, need_id: int, body: CompleteIn):
    need = _visible_one(request.auth, need_id)
    volunteers = {v.pk: v for v in Volunteer.objects.filter(pk__in=[h.volunteer_id for h in body.hours])}
    missing = [h.volunteer_id for h in body.hours if h.volunteer_id not in volunteers]
    if missing:
        raise InvalidInput(f"志愿者不存在：{missing[:5]}", code="choice_invalid")
    hours = [services.ReportedHours(volunteers[h.volunteer_id], h.hours) for h in body.hours]
    need = services.complete_need(request.auth, need, report=body.report, people_served=body.people_served,
                                  hours=hours)
    return _done(request, need)


class RateIn(Schema):
    stars: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


@router.post("/{need_id}/rate", response=NeedDetailOut, summary="评单（帮办员代群众评价）")
def rate(request, need_id: int, body: RateIn):
    need = services.rate_need(_visible_one(request.auth, need_id), stars=body.stars, comment=body.comment,
                              by=request.auth)
    return _done(request, need)


@router.post("/{need_id}/cancel", response=NeedDetailOut, summary="取消（接单之前）")
def cancel(request, need_id: int, body: ReasonIn):
    need = services.cancel_need(_visible_one(request.auth, need_id), reason=body.reason, by=request.auth)
    return _done(request, need)


# --- Candidates ------------------------------------------------------------------------------------


class CandidateOut(Schema):
    kind: str = Field(description="team 队伍 / volunteer 志愿者")
    id: int
    name: str
    score: float = Field(description="0–1，各因素加权之和")
    parts: dict[str, float] = Field(description="skill 专长、distance 距离、load 在办、rating 评价、availability 时间，各0–1")
    reasons: list[str]
    eligible: bool
    why_not: str
    place: str


class CandidatesOut(Schema):
    need_id: int
    items: list[CandidateOut]


@router.get("/{need_id}/candidates", response=CandidatesOut, summary="派单候选（队伍与志愿者，按综合得分排序，附理由）")
def candidates(request, need_id: int, limit: int = Query(20, ge=1, le=100)):
    from .candidates import candidates_for

    need = _visible_one(request.auth, need_id)
    if not services.can_handle(request.auth, need):
        raise Forbidden("只有办理组织可以查看派单候选。", code="not_handler")
    return {"need_id": need.pk, "items": [c.__dict__ for c in candidates_for(need, limit=limit, dispatcher=request.auth)]}


# --- Figures -----------------------------------------------------------------------------------------


class FiguresOut(Schema):
    node_id: int
    start: date
    end: date
    collected: int
    approved: int
    rejected: int
    dispatched: int
    fulfilled: int
    cancelled: int
    overdue: int
    completion_rate: float | None
    median_hours_to_accept: float | None
    median_hours_to_complete: float | None
    rated: int
    average_rating: float | None


class FiguresQuery(Schema):
    node_id: int = Field(..., ge=1, le=2**63 - 1)
    start: date
    end: date


@router.get("/figures/summary", response=FiguresOut, summary="点单统计：收集、审核、派单、办结、时效、评价")
def figures(request, params: Query[FiguresQuery]):
    node = get_scoped(OrgNode.objects.all(), request.auth, params.node_id)
    if params.end < params.start or (params.end - params.start).days > 3660:
        raise InvalidInput("统计期间不正确（结束不能早于开始，最长10年）。", code="period_invalid")
    if not in_reach(request.auth, node):
        raise Forbidden("该组织不在您的管辖范围内。", code="out_of_scope")
    result = queries.need_figures(node, params.start, params.end)
    return {"node_id": node.pk, "start": params.start, "end": params.end, **result.__dict__}
