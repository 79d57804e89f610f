"""The four-order loop: 群众点单 → 中心派单 → 志愿者接单 → 群众评单.

Every change of a need's state is one function here. Each locks the need's row, checks who may do
it and from which state (409 `state_invalid` / 403 with a code naming why), writes the timeline
entry and the audit entry, and tells whoever it concerns. Nothing else changes `Need.state`.

Deadlines (settings WENMING_NEED_*): review and dispatch at the handling node, accept by the party
dispatched to, finish by the wished-for time (or within days), rate within days. `sweep` acts on the
missed ones; see its docstring.
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wenming.core import audit, pii, ratelimit
from wenming.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from wenming.core.models import Department, OrgNode, User
from wenming.core.scoping import MANAGER_ROLES, in_reach, require_manager
from wenming.core.validators import check_coordinates, validate_phone
from wenming.people.models import Team, Volunteer

from .models import Need, NeedCategory, NeedEvent, NeedHours, ServiceOffer

log = logging.getLogger(__name__)
S = Need.State
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud over the phone
RESIDENT = "群众"
TRACK_GUESSES_PER_HOUR = 20
SYSTEM = "系统"


# --- Settings --------------------------------------------------------------------------------------


def hours_setting(name: str, default: int) -> timedelta:
    return timedelta(hours=int(getattr(settings, name, default)))


def review_period() -> timedelta:
    return hours_setting("WENMING_NEED_REVIEW_HOURS", 24)


def dispatch_period(need: Need | None = None) -> timedelta:
    """A wish waits on the wall for a team to claim it: its period is days, not hours."""
    if need is not None and need.is_wish:
        return timedelta(days=int(getattr(settings, "WENMING_NEED_WISH_DAYS", 14)))
    return hours_setting("WENMING_NEED_DISPATCH_HOURS", 24)


def accept_period() -> timedelta:
    return hours_setting("WENMING_NEED_ACCEPT_HOURS", 12)


def finish_period() -> timedelta:
    return timedelta(days=int(getattr(settings, "WENMING_NEED_FINISH_DAYS", 7)))


def rating_period() -> timedelta:
    return timedelta(days=int(getattr(settings, "WENMING_NEED_RATING_DAYS", 7)))


# --- Input -----------------------------------------------------------------------------------------


@dataclass
class NeedData:
    """What a resident (or a proxy on their behalf) gives when raising a need."""

    category: NeedCategory | None = None
    description: str = ""
    station: OrgNode | None = None
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    contact_name: str = ""
    phone: str = ""
    wished_at: datetime | None = None
    urgency: str = Need.Urgency.NORMAL
    is_wish: bool = False
    offer: ServiceOffer | None = None
    photos: list = field(default_factory=list)  # bytes of already-checked images (see photos.py)


def _text(value, limit: int, label: str, *, required: bool = False, code: str = "text_invalid") -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{label}格式不正确。", code=code)
    text = (value or "").strip().replace("\x00", "")
    if required and not text:
        raise InvalidInput(f"请填写{label}。", code=code)
    if len(text) > limit:
        raise InvalidInput(f"{label}不能超过{limit}个字（现有{len(text)}个字）。", code=code)
    return text


def _reason(value, label: str = "原因") -> str:
    return _text(value, 200, label, required=True, code="reason_required")


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if not Need.objects.filter(code=code).exists():
            return code


def _check_need_data(data: NeedData) -> dict:
    category = data.category
    if category is None or not category.active:
        raise InvalidInput("请选择需求类别。", code="category_invalid")
    station = data.station
    if station is None or station.kind != OrgNode.Kind.STATION:
        raise InvalidInput("请选择您所在的新时代文明实践站。", code="station_invalid")
    description = _text(data.description, 1000, "需求描述", required=True, code="description_invalid")
    if len(description) < 5:
        raise InvalidInput("请把需求描述写清楚一些（至少5个字）。", code="description_invalid")
    name = _text(data.contact_name, 50, "联系人姓名", required=True, code="contact_invalid")
    if any(c in name for c in "<>\"'&;\\/"):
        raise InvalidInput("联系人姓名不能含特殊符号。", code="contact_invalid")
    phone = validate_phone(data.phone if isinstance(data.phone, str) else "")
    check_coordinates(data.lat, data.lng)
    wished_at = data.wished_at
    if wished_at is not None:
        if not isinstance(wished_at, datetime):
            raise InvalidInput("期望服务时间格式不正确。", code="wished_at_invalid")
        if timezone.is_naive(wished_at):
            wished_at = timezone.make_aware(wished_at)
        now = timezone.now()
        if wished_at < now - timedelta(hours=1) or wished_at > now + timedelta(days=180):
            raise InvalidInput("期望服务时间须在今后半年之内。", code="wished_at_invalid")
    if data.urgency not in Need.Urgency.values:
        raise InvalidInput("紧急程度不在可选范围内。", code="urgency_invalid")
    return {
        "category": category, "station": station, "node": station, "description": description,
        "address": _text(data.address, 200, "服务地址", code="address_invalid"),
        "lat": data.lat, "lng": data.lng, "contact_name": name,
        "phone_enc": pii.encrypt(phone), "phone_index": pii.blind_index(phone, "phone"),
        "phone_masked": pii.mask_phone(phone), "wished_at": wished_at, "urgency": data.urgency,
        "is_wish": bool(data.is_wish),
    }


# --- The timeline ----------------------------------------------------------------------------------


def _label(by) -> str:
    if by is None:
        return RESIDENT
    if by == SYSTEM:
        return SYSTEM
    return str(by)[:100]


def _event(need: Need, by, action: str, from_state: str, note: str = "", *, public: bool = True) -> NeedEvent:
    actor = by if isinstance(by, User) else None
    return NeedEvent.objects.create(
        need=need, action=action, from_state=from_state, to_state=need.state, actor=actor,
        actor_label=_label(by), note=note[:500], public=public,
    )


def _snapshot(need: Need) -> dict:
    return {
        "state": need.state, "node": need.node_id, "team": need.team_id, "volunteer": need.volunteer_id,
        "to_node": need.to_node_id, "department": need.department_id, "in_pool": need.in_pool,
        "deadline": need.deadline.isoformat() if need.deadline else None, "overdue": need.overdue,
    }


def _save(need: Need, by, action: str, before: dict, note: str = "", *, public: bool = True) -> Need:
    """Write the changed need, its timeline entry and its audit entry (inside the caller's transaction)."""
    need.save()
    _event(need, by, action, before["state"], note, public=public)
    old, new = audit.diff(before, _snapshot(need))
    audit.record(by if isinstance(by, User) else None, f"need.{action}", need, before=old, after=new, note=note)
    return need


def _locked(need: Need | int) -> Need:
    pk = getattr(need, "pk", need)
    try:
        # of=("self",): lock the need's row only, not the joined node and category rows (on PostgreSQL
        # those would block every other need of the station, and make the sweep skip them).
        return Need.objects.select_for_update(of=("self",)).select_related("node", "station", "category").get(pk=pk)
    except Need.DoesNotExist:
        raise NotFound("需求不存在。")


def _require_state(need: Need, *states: str, doing: str) -> None:
    if need.state not in states:
        raise Conflict(
            f"该需求当前为“{need.get_state_display()}”，不能{doing}。",
            code="state_invalid",
            details={"state": need.state, "allowed": list(states)},
        )


def _clear_assignee(need: Need) -> None:
    need.team = need.volunteer = need.to_node = need.department = None
    need.in_pool = False


# --- Who may act -----------------------------------------------------------------------------------


def can_handle(user, need: Need) -> bool:
    """Managers whose reach holds the node handling the need (its station, or the node above)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or (user.role in MANAGER_ROLES and in_reach(user, need.node))


def _require_handler(user, need: Need) -> None:
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。", code="not_authenticated", status=401)
    if not can_handle(user, need):
        raise Forbidden("该需求不在您的管辖范围内，或您的角色不能办理。", code="not_handler")


def is_assignee(user, need: Need) -> bool:
    """Whether the account speaks for the party the need is dispatched to."""
    if not getattr(user, "is_authenticated", False):
        return False
    if need.team_id:
        team = need.team
        return (team.leader_id is not None and team.leader.user_id == user.pk) or (
            user.role in MANAGER_ROLES and in_reach(user, team.node)
        ) or user.is_superuser
    if need.volunteer_id:
        return need.volunteer.user_id == user.pk
    if need.to_node_id:
        return user.is_superuser or (user.role in MANAGER_ROLES and in_reach(user, need.to_node))
    if need.department_id:
        return user.role == User.Role.DEPARTMENT and user.department_id == need.department_id
    return False


def _require_assignee(user, need: Need) -> None:
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。", code="not_authenticated", status=401)
    if not is_assignee(user, need):
        raise Forbidden("只有被派单的队伍、志愿者、组织或部门才能办理这一步。", code="not_assignee")


def _lock_team(team: Team) -> Team:
    """Taking a place in a team: its row is locked first, so that two needs dispatched, grabbed or
    claimed for it at once count its load one after the other and never exceed its capacity."""
    return Team.objects.select_for_update(of=("self",)).select_related("node").get(pk=team.pk)


def team_load(team: Team) -> int:
    return Need.objects.filter(team=team, state__in=Need.HELD_STATES).count()


def led_teams(user) -> list[Team]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Team.objects.filter(leader__user=user).select_related("node"))


def team_may_take(team: Team, need: Need, dispatcher=None) -> str | None:
    """Why a team may not take a need (None when it may): region, skills, capacity. A team's region
    is its node's subtree and the nodes above it; a dispatcher may also send it to any team in reach."""
    station_path, node_path, team_path = need.station.path, need.node.path, team.node.path
    near = station_path.startswith(team_path) or team_path.startswith(node_path)
    if not near and not (dispatcher is not None and in_reach(dispatcher, team.node)):
        return "不在该需求的服务区域内"
    wanted = set(need.category.skills.values_list("pk", flat=True))
    if wanted and not wanted & set(team.skills.values_list("pk", flat=True)):
        return "队伍专长与需求类别不符"
    if team_load(team) >= team.capacity:
        return f"队伍已承接{team.capacity}项需求，已满"
    return None


# --- Notifications ---------------------------------------------------------------------------------


def _tell_users(users, need: Need, title: str, body: str = "") -> None:
    from wenming.notices import services as notices

    ids = [u.pk for u in users if u is not None]
    if ids:
        notices.notify_users(ids, "need", title, body, f"/needs/{need.pk}/")


def _tell_node(node: OrgNode, need: Need, title: str, body: str = "") -> None:
    """The managers whose scope is exactly this node (not every admin above it)."""
    _tell_users(User.objects.filter(scopes=node, role__in=MANAGER_ROLES, is_active=True), need, title, body)


def _tell_assignee(need: Need, title: str, body: str = "") -> None:
    from wenming.notices import services as notices

    if need.team_id and need.team.leader_id:
        leader = need.team.leader
        if leader.user_id:
            _tell_users([leader.user], need, title, body)
        else:
            notices.notify(leader, "need", title, body)
    elif need.volunteer_id:
        notices.notify(need.volunteer, "need", title, body)
    elif need.to_node_id:
        _tell_node(need.to_node, need, title, body)
    elif need.department_id:
        _tell_users(User.objects.filter(department=need.department, role=User.Role.DEPARTMENT, is_active=True),
                    need, title, body)


# --- Intake (点单) ---------------------------------------------------------------------------------


def submit_need(data: NeedData, by=None, *, source: str = Need.Source.PUBLIC) -> Need:
    """A resident raises a need (by=None), or a station admin enters it on their behalf (帮办)."""
    fields = _check_need_data(data)
    if by is not None:
        require_manager(by, fields["station"])
        if source == Need.Source.PUBLIC:
            source = Need.Source.PROXY
    offer = data.offer
    if offer is not None and not offer.active:
        raise InvalidInput("该服务已下架，请选择其他服务。", code="offer_inactive")
    with transaction.atomic():
        need = Need(
            code=_new_code(), source=source, entered_by=by, offer=offer,
            requested_team=offer.team if offer else None,
            deadline=timezone.now() + review_period(), **fields,
        )
        if offer is not None:
            need.source = Need.Source.MENU if source in (Need.Source.PUBLIC, Need.Source.PROXY) else source
        if need.is_wish:
            need.source = Need.Source.WISH if source == Need.Source.PUBLIC else source
        need.save()
        from .photos import save_photos

        save_photos(need, data.photos, kind="need")
        note = f"预约服务：{offer.title}（{offer.team.name}）" if offer else ""
        _event(need, by, "submitted", "", note)
        audit.record(by, "need.submitted", need, after=_snapshot(need), note=need.get_source_display())
        _tell_node(need.node, need, f"新的群众点单：{need.category.name}", need.description[:100])
    return need


def submit_public_need(ip: str, data: NeedData) -> Need:
    """The public page (no account): limited per address per hour and per phone per day against floods."""
    per_ip = int(getattr(settings, "WENMING_NEED_INTAKE_PER_HOUR", 5))
    per_phone = int(getattr(settings, "WENMING_NEED_INTAKE_PER_PHONE_DAY", 3))
    ratelimit.check("needs:intake", ip, limit=per_ip, window=3600,
                    message=f"提交过于频繁：同一网络每小时最多提交{per_ip}条需求，请稍后再试或联系所在实践站。")
    phone = data.phone if isinstance(data.phone, str) else ""
    try:
        phone_key = pii.blind_index(validate_phone(phone), "phone")
    except InvalidInput:
        phone_key = ""  # refused below by the full check, without counting against anyone
    if phone_key:
        ratelimit.check("needs:phone", phone_key, limit=per_phone, window=86400,
                        message=f"同一手机号每天最多提交{per_phone}条需求。如有急事请直接联系所在实践站。")
    ratelimit.hit("needs:intake", ip, window=3600)
    need = submit_need(data)
    ratelimit.hit("needs:phone", phone_key, window=86400)
    return need


def track_need(ip: str, code: str, last4: str) -> Need:
    """find_by_code for the public tracking page, with wrong guesses limited per address."""
    ratelimit.check("needs:track", ip, limit=TRACK_GUESSES_PER_HOUR, window=3600,
                    message="查询失败次数过多，请一小时后再试。")
    try:
        return find_by_code(code, last4)
    except NotFound:
        ratelimit.hit("needs:track", ip, window=3600)
        raise


# --- Review, dispatch, pool ------------------------------------------------------------------------


def review_need(by, need: Need, *, approve: bool, reason: str = "") -> Need:
    """审核 by the handling node or a node above it. A rejection names the node and its reason."""
    with transaction.atomic():
        need = _locked(need)
        _require_handler(by, need)
        _require_state(need, S.SUBMITTED, doing="审核")
        before = _snapshot(need)
        now = timezone.now()
        if approve:
            need.state, need.approved_at, need.overdue = S.APPROVED, now, False
            need.deadline = now + dispatch_period(need)
            note = _text(reason, 200, "审核意见")
            team = _lock_team(need.requested_team) if need.requested_team_id else None
            why = team_may_take(team, need, by) if team is not None else None
            if why:  # approved all the same: the handler dispatches it elsewhere
                note = "；".join(x for x in (note, f"预约的“{team.name}”暂不能承接（{why}），请另行派单") if x)
            _save(need, by, "approved", before, note)
            if team is not None and not why:  # a booked service goes to the team that offers it
                _dispatch(by, need, team=team, note="按预约的服务清单派单")
        else:
            reason = _reason(reason, "驳回原因")
            need.state, need.reason, need.deadline, need.closed_at = S.REJECTED, reason, None, now
            _save(need, by, "rejected", before, f"{need.node.name}驳回：{reason}")
    return need


def _dispatch(by, need: Need, *, team=None, volunteer=None, node=None, department=None, note="") -> Need:
    before = _snapshot(need)
    _clear_assignee(need)
    if team is not None:
        team = _lock_team(team)
        why = team_may_take(team, need, by)
        if why:
            raise Conflict(f"不能派给“{team.name}”：{why}。", code="team_ineligible")
        need.team, label = team, team.name
    elif volunteer is not None:
        need.volunteer, label = volunteer, str(volunteer.name)
    elif node is not None:
        if node.pk == need.node_id or not node.path.startswith(need.node.path):
            raise InvalidInput("只能下派给本组织的下级组织。", code="node_not_below")
        need.to_node, label = node, node.name
    elif department is not None:
        need.department, label = department, department.name
    else:
        raise InvalidInput("请选择派单对象：队伍、志愿者、下级组织或部门。", code="assignee_missing")
    now = timezone.now()
    need.state, need.dispatched_at, need.dispatched_by, need.overdue = S.DISPATCHED, now, by, False
    need.deadline = now + accept_period()
    _save(need, by, "dispatched", before, f"派单给{label}" + (f"：{note}" if note else ""))
    _tell_assignee(need, f"新的派单：{need.category.name}", need.description[:100])
    return need


def dispatch_need(by, need: Need, *, team: Team | None = None, volunteer: Volunteer | None = None,
                  node: OrgNode | None = None, department: Department | None = None, note: str = "") -> Need:
    """派单 to a team, a volunteer, a lower node (层层派单) or a department (中心吹哨、部门报到)."""
    if sum(x is not None for x in (team, volunteer, node, department)) != 1:
        raise InvalidInput("请选择且只选择一个派单对象。", code="assignee_missing")
    note = _text(note, 200, "派单说明")
    with transaction.atomic():
        need = _locked(need)
        _require_handler(by, need)
        _require_state(need, S.APPROVED, doing="派单")
        return _dispatch(by, need, team=team, volunteer=volunteer, node=node, department=department, note=note)


def publish_need(by, need: Need, *, note: str = "") -> Need:
    """Put an approved need in the pool (抢单) where eligible teams grab it."""
    note = _text(note, 200, "说明")
    with transaction.atomic():
        need = _locked(need)
        _require_handler(by, need)
        _require_state(need, S.APPROVED, doing="发布到抢单池")
        before = _snapshot(need)
        _clear_assignee(need)
        now = timezone.now()
        need.state, need.in_pool, need.dispatched_at, need.dispatched_by = S.DISPATCHED, True, now, by
        need.deadline, need.overdue = now + accept_period(), False
        _save(need, by, "published", before, "发布到抢单池" + (f"：{note}" if note else ""))
    return need


def grab_need(by, need: Need, team: Team) -> Need:
    """A team leader grabs a pooled need for their team. The row lock makes exactly one grab win."""
    with transaction.atomic():
        need = _locked(need)
        if not (team.leader_id and team.leader.user_id == getattr(by, "pk", None)):
            raise Forbidden("只有队长可以为本队抢单。", code="not_team_leader")
        if not (need.state == S.DISPATCHED and need.in_pool):
            raise Conflict("手慢了，该需求已被其他队伍抢单或已撤回。", code="already_taken")
        team = _lock_team(team)
        why = team_may_take(team, need)
        if why:
            raise Conflict(f"本队不能抢这一单：{why}。", code="team_ineligible")
        before = _snapshot(need)
        now = timezone.now()
        need.in_pool, need.team = False, team
        need.state, need.accepted_at, need.overdue = S.ACCEPTED, now, False
        need.deadline = _finish_deadline(need, now)
        _save(need, by, "grabbed", before, f"{team.name}抢单成功")
    return need


def claim_wish(by, need: Need, team: Team) -> Need:
    """A team claims an approved wish on the wall: a dispatch to the claiming team, accepted at once."""
    with transaction.atomic():
        need = _locked(need)
        if not (team.leader_id and team.leader.user_id == getattr(by, "pk", None)):
            raise Forbidden("只有队长可以为本队认领心愿。", code="not_team_leader")
        if not need.is_wish:
            raise InvalidInput("只有微心愿可以认领。", code="not_a_wish")
        if need.state != S.APPROVED:
            raise Conflict("该心愿已被认领或暂不能认领。", code="already_taken")
        team = _lock_team(team)
        why = team_may_take(team, need)  # the wish's region, skills and the team's capacity
        if why:
            raise Conflict(f"本队不能认领这个心愿：{why}。", code="team_ineligible")
        _dispatch(by, need, team=team, note="认领微心愿")
        return _accept(by, need, "claimed", f"{team.name}认领心愿")


# --- Accept, decline, serve, complete --------------------------------------------------------------


def _finish_deadline(need: Need, now: datetime) -> datetime:
    if need.wished_at and need.wished_at > now:
        return need.wished_at + timedelta(hours=2)
    return now + finish_period()


def _accept(by, need: Need, action: str = "accepted", note: str = "") -> Need:
    before = _snapshot(need)
    now = timezone.now()
    if need.to_node_id:  # passed down: the lower node now handles it, to review and dispatch further
        lower = need.to_node
        need.node, need.to_node = lower, None
        need.state, need.overdue, need.deadline = S.APPROVED, False, now + dispatch_period(need)
        return _save(need, by, "accepted", before, note or f"{lower.name}接收，继续派单")
    need.state, need.accepted_at, need.overdue = S.ACCEPTED, now, False
    need.deadline = _finish_deadline(need, now)
    return _save(need, by, action, before, note)


def accept_need(by, need: Need) -> Need:
    """接单 by whoever it was dispatched to."""
    with transaction.atomic():
        need = _locked(need)
        _require_state(need, S.DISPATCHED, doing="接单")
        if need.in_pool:
            raise Conflict("抢单池中的需求请用“抢单”。", code="state_invalid")
        _require_assignee(by, need)
        return _accept(by, need)


def decline_need(by, need: Need, *, reason: str) -> Need:
    """Decline with a reason: back to 待派单 at the handling node, to be dispatched again (改派)."""
    reason = _reason(reason, "拒单原因")
    with transaction.atomic():
        need = _locked(need)
        _require_state(need, S.DISPATCHED, doing="拒单")
        if need.in_pool:
            if not can_handle(by, need):
                raise Forbidden("只有办理组织可以撤回抢单池中的需求。", code="not_handler")
        else:
            _require_assignee(by, need)
        label = need.assignee_label
        before = _snapshot(need)
        _clear_assignee(need)
        now = timezone.now()
        need.state, need.deadline, need.overdue = S.APPROVED, now + dispatch_period(need), False
        _save(need, by, "declined", before, f"{label}拒单：{reason}")
        _tell_node(need.node, need, f"需求被拒单，请改派：{need.category.name}", reason)
    return need


def start_service(by, need: Need) -> Need:
    with transaction.atomic():
        need = _locked(need)
        _require_state(need, S.ACCEPTED, doing="开始服务")
        _require_assignee(by, need)
        before = _snapshot(need)
        need.state = S.IN_SERVICE
        return _save(need, by, "started", before)


def link_activity(by, need: Need, activity) -> Need:
    """Serve through an activity created from the need (sign-up and check-in give verified hours)."""
    with transaction.atomic():
        need = _locked(need)
        _require_state(need, S.ACCEPTED, S.IN_SERVICE, doing="关联活动")
        _require_assignee(by, need)
        before = _snapshot(need)
        need.activity, need.state = activity, S.IN_SERVICE
        return _save(need, by, "activity", before, f"通过活动“{activity.title}”服务")


@dataclass
class ReportedHours:
    volunteer: Volunteer
    hours: float


def _minutes_of(hours) -> int:
    try:
        minutes = round(float(hours) * 60)
    except (TypeError, ValueError):
        raise InvalidInput("服务时长须为数字（小时）。", code="hours_invalid")
    if minutes <= 0 or minutes > 24 * 60:
        raise InvalidInput("每人服务时长须大于0且不超过24小时。", code="hours_invalid")
    return minutes


def complete_need(by, need: Need, *, report: str, people_served: int | None = None,
                  hours: list[ReportedHours] = (), photos: list = ()) -> Need:
    """The service is done: a report, photos, the people served and each volunteer's hours. Hours of a
    direct report become recorded hours awaiting a second person's approval in the ledger; hours of an
    activity come from its check-ins when it is settled."""
    report = _text(report, 2000, "服务报告", required=True, code="report_missing")
    if people_served is not None and (not isinstance(people_served, int) or not 0 <= people_served <= 100_000):
        raise InvalidInput("服务群众人数须为0到100000之间的整数。", code="people_served_invalid")
    reported = [(h.volunteer, _minutes_of(h.hours)) for h in hours]
    if len({v.pk for v, _ in reported}) != len(reported):
        raise InvalidInput("同一名志愿者只能填写一次时长。", code="hours_duplicate")
    if len(reported) > 200:
        raise InvalidInput("一次最多填写200名志愿者的时长。", code="hours_invalid")
    with transaction.atomic():
        need = _locked(need)
        _require_state(need, S.ACCEPTED, S.IN_SERVICE, doing="完成")
        _require_assignee(by, need)
        if need.team_id:
            members = set(need.team.members.values_list("pk", flat=True)) | {need.team.leader_id}
            strangers = [v.name for v, _ in reported if v.pk not in members]
            if strangers:
                raise InvalidInput(f"{'、'.join(strangers)}不是本队队员。", code="hours_not_member")
        elif need.volunteer_id and any(v.pk != need.volunteer_id for v, _ in reported):
            raise InvalidInput("只能填写接单志愿者本人的时长。", code="hours_not_member")
        before = _snapshot(need)
        now = timezone.now()
        need.state, need.completed_at, need.report, need.people_served = S.COMPLETED, now, report, people_served
        need.deadline, need.overdue = now + rating_period(), False
        _save(need, by, "completed", before, report[:200])
        from .photos import save_photos

        save_photos(need, list(photos), kind="service")
        start = need.accepted_at or need.dispatched_at or now
        for volunteer, minutes in reported:
            NeedHours.objects.create(need=need, volunteer=volunteer, minutes=minutes,
                                     request=_request_hours(by, need, volunteer, minutes, start, now))
        _tell_node(need.node, need, f"需求已完成，待群众评价：{need.category.name}")
    return need


def _request_hours(by, need: Need, volunteer: Volunteer, minutes: int, start: datetime, end: datetime):
    """Recorded hours for a direct report, awaiting approval by someone other than the reporter."""
    from wenming.ledger.services import request_reported_hours

    window_start = min(start, end - timedelta(minutes=minutes))
    return request_reported_hours(
        by, volunteer=volunteer, node=need.station, title=f"群众点单：{need.category.name}",
        window_start=window_start, window_end=end, minutes=minutes,
        reason=f"点单{need.code}完成后由承接方填报", source_type="need", source_id=need.code,
        content=need.report[:2000], place=need.address, beneficiaries=f"{need.people_served or 0}人",
    )


# --- Rating, cancelling, closing -------------------------------------------------------------------


def rate_need(need: Need, *, stars: int, comment: str = "", by=None) -> Need:
    """评单 by the resident (by=None, after the code and phone check) or a proxy admin for them."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise InvalidInput("请选择1到5星。", code="stars_invalid")
    comment = _text(comment, 500, "评价内容", code="comment_invalid")
    with transaction.atomic():
        need = _locked(need)
        if by is not None:
            _require_handler(by, need)
        _require_state(need, S.COMPLETED, doing="评价")
        before = _snapshot(need)
        now = timezone.now()
        need.state, need.stars, need.comment, need.rated_at, need.closed_at = S.CLOSED, stars, comment, now, now
        need.deadline = None
        _save(need, by, "rated", before, f"{stars}星" + (f"：{comment}" if comment else ""))
        if need.team_id or need.volunteer_id:
            _tell_assignee(need, f"群众评价：{stars}星", comment)
    return need


def cancel_need(need: Need, *, reason: str, by=None) -> Need:
    """The resident (by=None) or a handling admin cancels a need before it is accepted."""
    reason = _reason(reason, "取消原因")
    with transaction.atomic():
        need = _locked(need)
        if by is not None:
            _require_handler(by, need)
        _require_state(need, S.SUBMITTED, S.APPROVED, S.DISPATCHED, doing="取消（已接单的需求请联系实践站）")
        had = need.assignee if need.state == S.DISPATCHED else None
        before = _snapshot(need)
        if had is not None:
            _tell_assignee(need, f"需求已取消：{need.category.name}", reason)
        _clear_assignee(need)
        now = timezone.now()
        need.state, need.reason, need.deadline, need.closed_at = S.CANCELLED, reason, None, now
        _save(need, by, "cancelled", before, reason)
    return need


# --- Deadlines: the sweep --------------------------------------------------------------------------


@dataclass
class SweepResult:
    escalated: int = 0
    reassigned: int = 0
    overdue: int = 0
    closed_unrated: int = 0

    def total(self) -> int:
        return self.escalated + self.reassigned + self.overdue + self.closed_unrated


def sweep(now: datetime | None = None) -> SweepResult:
    """Act on every missed deadline, once. Run by Celery beat (REDIS_URL) or `wenming sweep` from cron.

    - not reviewed / not dispatched in time: overdue, and escalated one level up (station → institute →
      centre) with a fresh period there; at the centre it stays overdue on the centre's page;
    - not accepted in time: back to 待派单 to be dispatched again (改派); a department that missed
      it is reported to the centre;
    - not finished in time: overdue, and the node above is told (once);
    - not rated in time: closed as unrated.
    Each handled need's deadline moves (or is cleared), so a second run finds nothing to do twice.
    """
    now = now or timezone.now()
    result = SweepResult()
    due = Need.objects.filter(deadline__lte=now, state__in=[*Need.OPEN_STATES, S.COMPLETED]).order_by("deadline")
    for pk in due.values_list("pk", flat=True)[:5000]:
        with transaction.atomic():
            need = Need.objects.select_for_update(skip_locked=True, of=("self",)) \
                .select_related("node", "station", "category") \
                .filter(pk=pk, deadline__lte=now).first()
            if need is None:
                continue
            _sweep_one(need, now, result)
    return result


def _sweep_one(need: Need, now: datetime, result: SweepResult) -> None:
    before = _snapshot(need)
    if need.state in (S.SUBMITTED, S.APPROVED):
        need.overdue = True
        parent = need.node.get_parent()
        stage = "审核" if need.state == S.SUBMITTED else "派单"
        if parent is None:
            need.deadline = None  # at the top: shown on the centre's overdue page until someone acts
            _save(need, SYSTEM, "overdue", before, f"{stage}超时", public=False)
            result.overdue += 1
        else:
            need.escalations += 1
            need.node = parent
            need.deadline = now + (review_period() if need.state == S.SUBMITTED else dispatch_period(need))
            _save(need, SYSTEM, "escalated", before, f"{stage}超时，升级至{parent.name}办理")
            _tell_node(parent, need, f"超时升级：{need.category.name}", f"{stage}超时，请及时办理。")
            result.escalated += 1
    elif need.state == S.DISPATCHED:
        label, department = need.assignee_label, need.department
        _clear_assignee(need)
        need.state, need.overdue, need.deadline = S.APPROVED, True, now + dispatch_period(need)
        _save(need, SYSTEM, "accept_missed", before, f"{label}未在时限内接单，退回改派")
        _tell_node(need.node, need, f"接单超时，请改派：{need.category.name}")
        if department is not None:
            root = need.node.get_root()
            _tell_node(root, need, f"部门接单超时：{department.name}", f"需求{need.code}")
        result.reassigned += 1
    elif need.state in (S.ACCEPTED, S.IN_SERVICE):
        need.overdue, need.deadline = True, None
        _save(need, SYSTEM, "overdue", before, "未在时限内完成服务", public=False)
        parent = need.node.get_parent() or need.node
        _tell_node(parent, need, f"服务超时：{need.category.name}", f"{need.assignee_label}未在时限内完成。")
        if need.department_id:  # a department's lateness is the centre's business (中心吹哨、部门报到)
            _tell_node(need.node.get_root(), need, f"部门办理超时：{need.department.name}", f"需求{need.code}")
        result.overdue += 1
    elif need.state == S.COMPLETED:
        need.state, need.closed_at, need.deadline = S.CLOSED, now, None
        _save(need, SYSTEM, "closed_unrated", before, "群众未在时限内评价，自动办结")
        result.closed_unrated += 1


# --- Categories and the service menu ---------------------------------------------------------------


def save_offer(by, *, team: Team, category: NeedCategory, title: str, description: str = "",
               schedule: str = "", offer: ServiceOffer | None = None, active: bool = True) -> ServiceOffer:
    """A team's leader, or a manager over the team's node, publishes or edits a standing service."""
    leads = team.leader_id is not None and team.leader.user_id == getattr(by, "pk", None)
    if not leads:
        require_manager(by, team.node)
    if offer is not None and offer.team_id != team.pk:
        raise Forbidden("只能修改本队的服务清单。", code="not_team_leader")
    values = {
        "team": team, "category": category, "title": _text(title, 50, "服务名称", required=True, code="title_missing"),
        "description": _text(description, 1000, "服务内容"), "schedule": _text(schedule, 100, "服务时间"),
        "active": bool(active),
    }
    with transaction.atomic():
        offer = offer or ServiceOffer()
        for key, value in values.items():
            setattr(offer, key, value)
        offer.save()
        audit.record(by, "need.offer.save", offer, after={"title": offer.title, "active": offer.active})
    return offer


def find_by_code(code: str, last4: str) -> Need:
    """A resident's own need, by its tracking code and the last 4 digits of the phone they gave."""
    code = (code or "").strip().upper()[:12]
    last4 = (last4 or "").strip()
    need = Need.objects.select_related("category", "station", "node").filter(code=code).first() if code else None
    if need is None or len(last4) != 4 or not secrets.compare_digest(need.phone_last4, last4):
        raise NotFound("查询码或手机号后4位不正确。", code="need_not_found")
    return need
