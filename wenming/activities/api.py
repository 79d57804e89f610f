"""API: activities (活动), sign-ups (报名) and check-in/out (签到/签退)."""

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import Field

from wenming.core.errors import InvalidInput, NotFound
from wenming.core.models import OrgNode, Skill
from wenming.core.pagination import IdFilter, PageParams, paginate
from wenming.core.scoping import get_scoped
from wenming.org.models import Platform, Site
from wenming.people.models import Team, Volunteer

from . import checkin, queries, services
from .models import Activity, Brand, SignUp, Theme

router = Router(tags=["活动与签到"])


class ActivityOut(Schema):
    id: int
    title: str
    description: str
    status: str = Field(description="draft 草稿 / published 已发布 / cancelled 已取消 / settled 时长已结算")
    phase: str = Field(description="draft / recruiting 招募中 / in_progress 进行中 / finished 已结束 / settled / cancelled")
    phase_label: str
    node_id: int
    node_name: str
    team_id: int | None
    team_name: str | None
    platform_id: int | None
    platform: str | None
    themes: list[str]
    site_id: int | None
    site_name: str | None
    address: str
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime | None
    capacity: int
    confirmed: int
    waiting: int
    skills: list[str]
    require_skills: bool
    allow_walk_ins: bool
    serves: str
    served_site_id: int | None
    served_target: str
    expected_beneficiaries: int
    beneficiaries: int | None
    brand_id: int | None
    brand: str | None
    cancel_reason: str


def activity_out(a: Activity) -> dict:
    confirmed = getattr(a, "confirmed_count", None)
    waiting = getattr(a, "waiting_count", None)
    if confirmed is None:
        confirmed = a.signups.filter(status=SignUp.Status.CONFIRMED).count()
        waiting = a.signups.filter(status=SignUp.Status.WAITING).count()
    return {
        "id": a.pk, "title": a.title, "description": a.description, "status": a.status, "phase": a.phase,
        "phase_label": a.get_phase_display(), "node_id": a.node_id, "node_name": a.node.name,
        "team_id": a.team_id, "team_name": a.team.name if a.team_id else None,
        "platform_id": a.platform_id, "platform": a.platform.name if a.platform_id else None,
        "themes": [t.name for t in a.themes.all()], "site_id": a.site_id,
        "site_name": a.site.name if a.site_id else None, "address": a.address,
        "starts_at": a.starts_at, "ends_at": a.ends_at, "signup_deadline": a.signup_deadline,
        "capacity": a.capacity, "confirmed": confirmed, "waiting": waiting,
        "skills": [s.name for s in a.skills.all()], "require_skills": a.require_skills,
        "allow_walk_ins": a.allow_walk_ins, "serves": a.serves, "served_site_id": a.served_site_id,
        "served_target": a.served_target, "expected_beneficiaries": a.expected_beneficiaries,
        "beneficiaries": a.beneficiaries, "brand_id": a.brand_id, "brand": a.brand.name if a.brand_id else None,
        "cancel_reason": a.cancel_reason,
    }


class ActivityPage(Schema):
    items: list[ActivityOut]
    count: int


class ActivityFilter(Schema):
    q: str | None = Field(None, max_length=50, description="活动名称关键字")
    node_id: int | None = IdFilter("组织单位（含下级）")
    team_id: int | None = IdFilter()
    theme_id: int | None = IdFilter()
    status: Activity.Status | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None


class ActivityIn(Schema):
    title: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=5000)
    node_id: int | None = None
    team_id: int | None = None
    platform_id: int | None = None
    theme_ids: list[int] = Field(default_factory=list, max_length=20)
    site_id: int | None = None
    address: str = Field("", max_length=200)
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime | None = None
    capacity: int = Field(..., ge=1, le=services.MAX_CAPACITY)
    skill_ids: list[int] = Field(default_factory=list, max_length=50)
    require_skills: bool = False
    restrict_to_node_id: int | None = None
    allow_walk_ins: bool = False
    serves: Activity.Serves = Activity.Serves.PUBLIC
    served_site_id: int | None = None
    served_target: str = Field("", max_length=100)
    expected_beneficiaries: int = Field(0, ge=0, le=10_000_000)
    brand_id: int | None = None
    contact_name: str = Field("", max_length=50)


def _some(model, ids: list[int], label: str) -> list:
    rows = list(model.objects.filter(pk__in=ids))
    if len(rows) != len(set(ids)):
        raise InvalidInput(f"{label}不在可选范围内。", code="choice_invalid")
    return rows


def _one(model, pk, label: str, user=None):
    if pk is None:
        return None
    if user is not None:
        return get_scoped(model.objects.all(), user, pk)
    try:
        return model.objects.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise InvalidInput(f"{label}不存在。", code="choice_invalid")


def activity_data(user, body: ActivityIn) -> services.ActivityData:
    return services.ActivityData(
        title=body.title, description=body.description, starts_at=body.starts_at, ends_at=body.ends_at,
        capacity=body.capacity, signup_deadline=body.signup_deadline, address=body.address,
        node=_one(OrgNode, body.node_id, "组织单位", user), team=_one(Team, body.team_id, "队伍"),
        platform=_one(Platform, body.platform_id, "平台"), themes=_some(Theme, body.theme_ids, "主题"),
        site=_one(Site, body.site_id, "活动地点"), skills=_some(Skill, body.skill_ids, "技能"),
        require_skills=body.require_skills, restrict_to_node=_one(OrgNode, body.restrict_to_node_id, "限定组织"),
        allow_walk_ins=body.allow_walk_ins, serves=body.serves, served_site=_one(Site, body.served_site_id, "服务阵地"),
        served_target=body.served_target, expected_beneficiaries=body.expected_beneficiaries,
        brand=_one(Brand, body.brand_id, "项目品牌"), contact_name=body.contact_name,
    )


def _visible(user):
    return queries.activities_for(user).prefetch_related("themes", "skills")


@router.get("", response=ActivityPage, summary="活动列表")
def list_activities(request, filters: Query[ActivityFilter], page: Query[PageParams]):
    qs = _visible(request.auth)
    if filters.q:
        qs = qs.filter(title__icontains=filters.q)
    if filters.node_id:
        node = _one(OrgNode, filters.node_id, "组织单位")
        qs = qs.filter(node__path__startswith=node.path)
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    if filters.theme_id:
        qs = qs.filter(themes__id=filters.theme_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.starts_after:
        qs = qs.filter(starts_at__gte=filters.starts_after)
    if filters.starts_before:
        qs = qs.filter(starts_at__lt=filters.starts_before)
    return paginate(queries._with_counts(qs), page, activity_out)


def _visible_one(user, activity_id: int) -> Activity:
    """One activity the user may see (activities_for is already scoped), or NotFound."""
    try:
        return _visible(user).get(pk=activity_id)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise NotFound("活动不存在或不在您的管辖范围内。")


@router.get("/{activity_id}", response=ActivityOut, summary="活动详情")
def get_activity(request, activity_id: int):
    return activity_out(_visible_one(request.auth, activity_id))


def _public(activity_id: int) -> Activity:
    try:
        return queries.public_activities().get(pk=activity_id)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise NotFound("活动不存在。")




@router.post("", response={201: ActivityOut}, summary="创建活动（草稿）")
def create_activity(request, body: ActivityIn):
    a = services.create_activity(request.auth, activity_data(request.auth, body))
    return 201, activity_out(a)


@router.put("/{activity_id}", response=ActivityOut, summary="修改活动")
def update_activity(request, activity_id: int, body: ActivityIn):
    a = services.update_activity(request.auth, _visible_one(request.auth, activity_id), activity_data(request.auth, body))
    return activity_out(a)


class PublishIn(Schema):
    confirm_overserving: bool = Field(False, description="服务对象当日/当周活动已多时，确认仍要发布")


@router.post("/{activity_id}/publish", response=ActivityOut, summary="发布活动（开始招募）")
def publish_activity(request, activity_id: int, body: PublishIn):
    a = services.publish_activity(
        request.auth, _visible_one(request.auth, activity_id), confirm_overserving=body.confirm_overserving
    )
    return activity_out(a)


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


@router.post("/{activity_id}/cancel", response=ActivityOut, summary="取消活动（通知已报名的志愿者）")
def cancel_activity(request, activity_id: int, body: ReasonIn):
    return activity_out(services.cancel_activity(request.auth, _visible_one(request.auth, activity_id), reason=body.reason))


class SettleIn(Schema):
    beneficiaries: int | None = Field(None, ge=0, le=10_000_000, description="实际服务人数")


class SettlementOut(Schema):
    settled: int
    minutes: int
    no_hours: int
    awaiting: int


@router.post("/{activity_id}/settle", response=SettlementOut, summary="结算活动时长（生成服务记录）")
def settle_activity(request, activity_id: int, body: SettleIn):
    result = services.settle_activity(
        request.auth, _visible_one(request.auth, activity_id), beneficiaries=body.beneficiaries
    )
    return result.__dict__


# --- Sign-ups --------------------------------------------------------------------------------------


class SignUpOut(Schema):
    id: int
    activity_id: int
    volunteer_id: int
    volunteer_number: str
    volunteer_name: str
    status: str
    status_label: str
    created_at: datetime
    promoted_at: datetime | None


def signup_out(s: SignUp) -> dict:
    return {
        "id": s.pk, "activity_id": s.activity_id, "volunteer_id": s.volunteer_id,
        "volunteer_number": s.volunteer.number, "volunteer_name": s.volunteer.name, "status": s.status,
        "status_label": s.get_status_display(), "created_at": s.created_at, "promoted_at": s.promoted_at,
    }


class SignUpPage(Schema):
    items: list[SignUpOut]
    count: int


class SignUpIn(Schema):
    volunteer_id: int | None = Field(None, description="组织者代为报名时填写；志愿者本人报名不填")


@router.get("/{activity_id}/signups", response=SignUpPage, summary="报名名单（组织者）")
def list_signups(request, activity_id: int, page: Query[PageParams]):
    activity = _visible_one(request.auth, activity_id)
    services.require_organiser(request.auth, activity.node, activity.team)
    return paginate(queries.signups_of(activity), page, signup_out)


@router.post("/{activity_id}/signups", response={201: SignUpOut}, summary="报名（名额已满时进入候补）")
def create_signup(request, activity_id: int, body: SignUpIn):
    volunteer = None
    if body.volunteer_id is not None:
        volunteer = get_scoped(Volunteer.objects.all(), request.auth, body.volunteer_id)
        activity = _visible_one(request.auth, activity_id)
    else:
        activity = _public(activity_id)
    signup = services.sign_up(request.auth, activity, volunteer)
    return 201, signup_out(signup)


@router.delete("/{activity_id}/signups/{signup_id}", response=SignUpOut, summary="取消报名（候补依次递补）")
def cancel_signup(request, activity_id: int, signup_id: int):
    signup = get_scoped(SignUp.objects.filter(activity_id=activity_id).select_related("activity", "volunteer"),
                        request.auth, signup_id)
    return signup_out(services.cancel_signup(request.auth, signup))


# --- Check-in and check-out -----------------------------------------------------------------------


class ScanIn(Schema):
    token: str = Field(..., max_length=64, description="二维码中的令牌")
    scan_id: str = Field(..., max_length=64, description="手机端生成的扫码编号（8-64位字母数字），重复提交只计一次")
    lat: float | None = Field(None, description="纬度（手机提供定位时）")
    lng: float | None = Field(None, description="经度")
    scanned_at: datetime | None = Field(None, description="扫码时间（离线扫码稍后提交时必填）")


class ScanOut(Schema):
    attendance_id: int
    activity_id: int
    kind: str
    duplicate: bool
    status: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    distance_m: int | None
    message: str


def scan_out(result: checkin.ScanResult) -> dict:
    a = result.attendance
    return {
        "attendance_id": a.pk, "activity_id": a.activity_id, "kind": result.kind, "duplicate": result.duplicate,
        "status": a.status, "checked_in_at": a.checked_in_at, "checked_out_at": a.checked_out_at,
        "distance_m": a.check_in_distance_m if result.kind == "in" else a.check_out_distance_m,
        "message": result.message,
    }


@router.post("/{activity_id}/checkin", response=ScanOut, summary="扫码签到")
def check_in(request, activity_id: int, body: ScanIn):
    return scan_out(checkin.check_in(request.auth, activity_id, **body.dict()))


@router.post("/{activity_id}/checkout", response=ScanOut, summary="扫码签退")
def check_out(request, activity_id: int, body: ScanIn):
    return scan_out(checkin.check_out(request.auth, activity_id, **body.dict()))


class CodeOut(Schema):
    activity: int
    kind: str
    token: str
    url: str = Field(description="二维码内容：志愿者手机扫码后打开的完整地址")
    expires_at: datetime
    refresh_seconds: int


@router.get("/{activity_id}/checkin-code", response=CodeOut, summary="组织者签到屏的当前二维码")
def checkin_code(request, activity_id: int, kind: str = "in"):
    code = checkin.checkin_code(request.auth, _visible_one(request.auth, activity_id), kind)
    code["url"] = request.build_absolute_uri(code["url"])
    return code


class ThemeOut(Schema):
    id: int
    name: str
    is_festival: bool


themes_router = Router(tags=["活动与签到"])


@themes_router.get("", response=list[ThemeOut], summary="活动主题")
def list_themes(request):
    return [{"id": t.pk, "name": t.name, "is_festival": t.is_festival} for t in Theme.objects.all()]

