"""Use cases of activities: create, publish, cancel, sign up, cancel a sign-up, settle.

The only place that writes activities and sign-ups (check-in and check-out are in
checkin.py). Each use case checks who may do it and from which state, writes the audit
entry and tells the volunteers it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from wenming.core import audit
from wenming.core.errors import Conflict, Forbidden, InvalidInput
from wenming.core.models import OrgNode, Skill, User
from wenming.core.scoping import MANAGER_ROLES, can_manage, in_reach
from wenming.ledger import services as ledger
from wenming.notices.services import notify, notify_many
from wenming.org.models import Platform, Site
from wenming.people.models import Team, Volunteer

from .models import Activity, Attendance, Brand, SignUp, Theme

MAX_CAPACITY = 100_000
MAX_DAYS = 31  # one activity lasts at most a month; longer work is a project brand


# --- Who may organise ----------------------------------------------------------------------------


def can_organise(user, activity: Activity) -> bool:
    try:
        require_organiser(user, activity.node, activity.team)
    except Forbidden:
        return False
    return True


def require_organiser(user, node: OrgNode, team: Team | None = None) -> None:
    """Managers in reach of the node organise; a team leader organises their own team's activities."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。", code="not_authenticated", status=401)
    if user.is_superuser:
        return
    if user.role in MANAGER_ROLES:
        if not in_reach(user, node):
            raise Forbidden("该活动的组织单位不在您的管辖范围内。", code="out_of_scope")
        return
    if user.role == User.Role.TEAM_LEADER and team is not None and team.leader and team.leader.user_id == user.pk:
        return
    raise Forbidden("您无权组织此项活动。", code="role_forbidden")


def _volunteer_of(user) -> Volunteer:
    volunteer = getattr(user, "volunteer", None) if getattr(user, "is_authenticated", False) else None
    if volunteer is None:
        raise Forbidden("您的账号尚未关联志愿者身份，请先注册为志愿者。", code="not_volunteer")
    return volunteer


# --- Creating and editing ------------------------------------------------------------------------


@dataclass
class ActivityData:
    """What an activity carries, from the console form or the API."""

    title: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    node: OrgNode | None = None
    team: Team | None = None
    description: str = ""
    platform: Platform | None = None
    themes: list[Theme] = field(default_factory=list)
    site: Site | None = None
    address: str = ""
    signup_deadline: datetime | None = None
    skills: list[Skill] = field(default_factory=list)
    require_skills: bool = False
    restrict_to_node: OrgNode | None = None
    allow_walk_ins: bool = False
    serves: str = Activity.Serves.PUBLIC
    served_site: Site | None = None
    served_target: str = ""
    expected_beneficiaries: int = 0
    brand: Brand | None = None
    contact_name: str = ""


def _clean(data: ActivityData) -> dict:
    title = (data.title or "").strip()
    if not title:
        raise InvalidInput("请填写活动名称。", code="title_missing")
    if len(title) > 100:
        raise InvalidInput("活动名称不能超过100字。", code="title_too_long")
    if len(data.description or "") > 5000:
        raise InvalidInput("活动内容不能超过5000字。", code="description_too_long")
    for label, value, limit in (("详细地址", data.address, 200), ("服务的关爱对象", data.served_target, 100),
                                ("联系人", data.contact_name, 50)):
        if len(value or "") > limit:
            raise InvalidInput(f"{label}不能超过{limit}字。", code="text_too_long")
    start, end = data.starts_at, data.ends_at
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        raise InvalidInput("请填写活动的开始和结束时间。", code="time_missing")
    start = start if timezone.is_aware(start) else timezone.make_aware(start)
    end = end if timezone.is_aware(end) else timezone.make_aware(end)
    if end <= start:
        raise InvalidInput("结束时间须晚于开始时间。", code="ends_before_start")
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"一次活动不能超过{MAX_DAYS}天；长期项目请建立项目品牌，分次发布活动。", code="too_long")
    deadline = data.signup_deadline
    if deadline is not None:
        deadline = deadline if timezone.is_aware(deadline) else timezone.make_aware(deadline)
        if deadline > end:
            raise InvalidInput("报名截止时间不能晚于活动结束时间。", code="deadline_after_end")
    try:
        capacity = int(data.capacity)
    except (TypeError, ValueError):
        raise InvalidInput("招募人数须为正整数。", code="capacity_invalid")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"招募人数须在1到{MAX_CAPACITY}之间。", code="capacity_invalid")
    try:
        expected = int(data.expected_beneficiaries or 0)
    except (TypeError, ValueError):
        raise InvalidInput("预计服务人数须为整数。", code="beneficiaries_invalid")
    if not 0 <= expected <= 10_000_000:
        raise InvalidInput("预计服务人数不在合理范围内。", code="beneficiaries_invalid")
    node = data.team.node if data.node is None and data.team is not None else data.node
    if node is None:
        raise InvalidInput("请选择组织单位或组织队伍。", code="organiser_missing")
    if data.serves not in Activity.Serves.values:
        raise InvalidInput("服务对象类型不正确。", code="serves_invalid")
    if data.serves in (Activity.Serves.NURSING_HOME, Activity.Serves.SITE) and data.served_site is None:
        raise InvalidInput("请选择所服务的敬老院或阵地。", code="served_site_missing")
    if data.serves == Activity.Serves.NURSING_HOME and data.served_site.kind != Site.Kind.NURSING_HOME:
        raise InvalidInput("所选阵地不是敬老院。", code="served_site_invalid")
    if data.serves == Activity.Serves.CARE_TARGETS and not (data.served_target or "").strip():
        raise InvalidInput("请填写所服务的关爱对象（如某户困难老人）。", code="served_target_missing")
    return {
        "title": title,
        "description": (data.description or "").strip(),
        "platform": data.platform,
        "node": node,
        "team": data.team,
        "site": data.site,
        "address": (data.address or "").strip(),
        "starts_at": start,
        "ends_at": end,
        "signup_deadline": deadline,
        "capacity": capacity,
        "require_skills": bool(data.require_skills),
        "restrict_to_node": data.restrict_to_node,
        "allow_walk_ins": bool(data.allow_walk_ins),
        "serves": data.serves,
        "served_site": data.served_site if data.serves in (Activity.Serves.NURSING_HOME, Activity.Serves.SITE) else None,
        "served_target": (data.served_target or "").strip() if data.serves == Activity.Serves.CARE_TARGETS else "",
        "expected_beneficiaries": expected,
        "brand": data.brand,
        "contact_name": (data.contact_name or "").strip(),
    }


def _snapshot(activity: Activity) -> dict:
    return {
        "title": activity.title,
        "status": activity.status,
        "node": activity.node_id,
        "team": activity.team_id,
        "starts_at": activity.starts_at.isoformat(),
        "ends_at": activity.ends_at.isoformat(),
        "capacity": activity.capacity,
    }


def _same_line(node: OrgNode, other: OrgNode) -> bool:
    """`other` is `node`, above it or below it: the venue or brand of a station's activity may be
    the station's own, its town's or the district's, or one of a station below an institute."""
    return node.path.startswith(other.path) or other.path.startswith(node.path)


def _check_organiser_line(fields: dict) -> None:
    node = fields["node"]
    if fields["team"] is not None and not fields["team"].node.path.startswith(node.path):
        raise InvalidInput("组织队伍不属于所选组织单位。", code="team_outside_node")
    if fields["site"] is not None and not _same_line(node, fields["site"].node):
        raise InvalidInput("活动地点不属于组织单位或其上级、下级的阵地。", code="site_outside_node")
    if fields["brand"] is not None and not _same_line(node, fields["brand"].node):
        raise InvalidInput("项目品牌不属于组织单位或其上级、下级。", code="brand_outside_node")


def create_activity(by, data: ActivityData) -> Activity:
    fields = _clean(data)
    require_organiser(by, fields["node"], fields["team"])
    _check_organiser_line(fields)
    with transaction.atomic():
        activity = Activity.objects.create(created_by=by, **fields)
        activity.themes.set(data.themes)
        activity.skills.set(data.skills)
        audit.record(by, "activity.create", activity, after=_snapshot(activity))
    return activity


def update_activity(by, activity: Activity, data: ActivityData) -> Activity:
    """A draft can change in everything; a published activity that has not started yet in
    everything but its organiser, with its waiting list moving up if places were added."""
    require_organiser(by, activity.node, activity.team)
    fields = _clean(data)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        phase = activity.phase
        if phase not in (Activity.Phase.DRAFT, Activity.Phase.RECRUITING):
            raise Conflict("活动已开始、结束或取消，不能再修改。", code="not_editable")
        require_organiser(by, fields["node"], fields["team"])
        _check_organiser_line(fields)
        before = _snapshot(activity)
        if phase == Activity.Phase.RECRUITING:
            if fields["node"] != activity.node or fields["team"] != activity.team:
                raise Conflict("已发布的活动不能更换组织单位或队伍。", code="organiser_locked")
            confirmed = activity.signups.filter(status=SignUp.Status.CONFIRMED).count()
            if fields["capacity"] < confirmed:
                raise Conflict(
                    f"已有{confirmed}人报名，招募人数不能少于已报名人数。", code="capacity_below_confirmed"
                )
            if fields["starts_at"] <= timezone.now():
                raise InvalidInput("已发布活动的开始时间须晚于现在。", code="starts_in_past")
        for name, value in fields.items():
            setattr(activity, name, value)
        activity.save()
        activity.themes.set(data.themes)
        activity.skills.set(data.skills)
        if phase == Activity.Phase.RECRUITING:
            _promote_waiting(activity)
        before, after = audit.diff(before, _snapshot(activity))
        audit.record(by, "activity.update", activity, before=before, after=after)
    return activity


# --- Publishing: not too much of a good thing ----------------------------------------------------


def _target_q(activity: Activity) -> Q | None:
    """The activities that serve the same target as this one, or None when it serves the public."""
    if activity.served_site_id:
        return Q(served_site_id=activity.served_site_id)
    if activity.serves == Activity.Serves.CARE_TARGETS and activity.served_target:
        return Q(serves=Activity.Serves.CARE_TARGETS, served_target=activity.served_target)
    return None


def overserving(activity: Activity) -> dict | None:
    """Other live activities serving this one's target on the same day / in the same week,
    when there are more than the configured number; None when all is well."""
    target = _target_q(activity)
    if target is None:
        return None
    day = timezone.localtime(activity.starts_at).date()
    week_start = day - timedelta(days=day.weekday())
    tz = timezone.get_current_timezone()
    week_from = datetime.combine(week_start, datetime.min.time(), tzinfo=tz)
    week_to = week_from + timedelta(days=7)
    day_from = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    day_to = day_from + timedelta(days=1)
    others = list(
        Activity.objects.filter(target, starts_at__gte=week_from, starts_at__lt=week_to)
        .filter(status__in=[Activity.Status.PUBLISHED, Activity.Status.SETTLED])
        .exclude(pk=activity.pk)
        .select_related("node", "team")
        .order_by("starts_at")
    )
    same_day = [a for a in others if day_from <= a.starts_at < day_to]
    per_day, per_week = settings.WENMING_OVERSERVE_PER_DAY, settings.WENMING_OVERSERVE_PER_WEEK
    if len(same_day) <= per_day and len(others) <= per_week:
        return None
    return {
        "target": str(activity.served_site or activity.served_target),
        "day": [_brief(a) for a in same_day],
        "week": [_brief(a) for a in others],
        "per_day": per_day,
        "per_week": per_week,
    }


def _brief(activity: Activity) -> dict:
    return {
        "id": activity.pk,
        "title": activity.title,
        "starts_at": timezone.localtime(activity.starts_at).strftime("%Y-%m-%d %H:%M"),
        "organiser": str(activity.team or activity.node),
    }


def publish_activity(by, activity: Activity, *, confirm_overserving: bool = False) -> Activity:
    require_organiser(by, activity.node, activity.team)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.status != Activity.Status.DRAFT:
            raise Conflict("只有草稿状态的活动可以发布。", code="not_draft")
        if activity.starts_at <= timezone.now():
            raise InvalidInput("活动开始时间已过，请修改时间后再发布。", code="starts_in_past")
        warning = overserving(activity)
        if warning and not confirm_overserving:
            raise Conflict(
                f"“{warning['target']}”当天已有{len(warning['day'])}场、当周已有{len(warning['week'])}场活动，"
                "服务过多会打扰服务对象。确需发布，请确认后再发布。",
                code="overserving",
                details=warning,
            )
        activity.status = Activity.Status.PUBLISHED
        activity.published_at = timezone.now()
        activity.save(update_fields=["status", "published_at"])
        audit.record(by, "activity.publish", activity, after={"overserving_confirmed": bool(warning)})
    return activity


def cancel_activity(by, activity: Activity, *, reason: str) -> Activity:
    require_organiser(by, activity.node, activity.team)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写取消原因，报名的志愿者会收到通知。", code="reason_missing")
    if len(reason) > 500:
        raise InvalidInput("取消原因不能超过500字。", code="reason_too_long")
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.phase not in (Activity.Phase.DRAFT, Activity.Phase.RECRUITING, Activity.Phase.IN_PROGRESS):
            raise Conflict("活动已结束、已结算或已取消，不能再取消。", code="not_cancellable")
        was_published = activity.status == Activity.Status.PUBLISHED
        activity.status = Activity.Status.CANCELLED
        activity.cancel_reason = reason
        activity.cancelled_at = timezone.now()
        activity.save(update_fields=["status", "cancel_reason", "cancelled_at"])
        Attendance.objects.filter(activity=activity, status=Attendance.Status.CHECKED_IN).update(
            status=Attendance.Status.NO_HOURS, decision_note="活动已取消"
        )
        told = 0
        if was_published:
            volunteer_ids = list(
                activity.signups.exclude(status=SignUp.Status.CANCELLED).values_list("volunteer_id", flat=True)
            )
            told = notify_many(
                volunteer_ids,
                "activity_cancelled",
                f"活动已取消：{activity.title}",
                f"原定{timezone.localtime(activity.starts_at):%m月%d日 %H:%M}的活动已取消。原因：{reason}",
                f"/a/{activity.pk}/",
            )
        audit.record(by, "activity.cancel", activity, after={"reason": reason, "notified": told})
    return activity


# --- Sign-up and the waiting list ----------------------------------------------------------------


def _check_eligible(activity: Activity, volunteer: Volunteer) -> None:
    if activity.restrict_to_node_id and not volunteer.station.path.startswith(activity.restrict_to_node.path):
        raise Forbidden(f"本活动仅限{activity.restrict_to_node.name}的志愿者报名。", code="station_restricted")
    if activity.require_skills:
        wanted = set(activity.skills.values_list("pk", flat=True))
        if wanted and not wanted & set(volunteer.skills.values_list("pk", flat=True)):
            names = "、".join(activity.skills.values_list("name", flat=True))
            raise Forbidden(f"本活动需要以下技能之一：{names}。", code="skills_required")


def _check_overlap(activity: Activity, volunteer: Volunteer) -> None:
    clash = (
        SignUp.objects.filter(volunteer=volunteer, status__in=[SignUp.Status.CONFIRMED, SignUp.Status.WAITING])
        .exclude(activity=activity)
        .exclude(activity__status=Activity.Status.CANCELLED)
        .filter(activity__starts_at__lt=activity.ends_at, activity__ends_at__gt=activity.starts_at)
        .select_related("activity")
        .first()
    )
    if clash:
        other = clash.activity
        raise Conflict(
            f"您已报名的“{other.title}”（{timezone.localtime(other.starts_at):%m月%d日 %H:%M}—"
            f"{timezone.localtime(other.ends_at):%H:%M}）与本活动时间重叠，不能同时报名。",
            code="time_overlap",
            details={"activity": other.pk},
        )


def sign_up(by, activity: Activity, volunteer: Volunteer | None = None) -> SignUp:
    """Sign a volunteer up: a confirmed place while there is one, else the waiting list.

    `by` is the volunteer themselves, or an organiser signing someone up. The activity row
    is locked, so places are given first come, first served whatever arrives at once."""
    if volunteer is None:
        volunteer = _volunteer_of(by)
    elif getattr(by, "volunteer", None) != volunteer:
        require_organiser(by, activity.node, activity.team)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()  # one volunteer's sign-ups queue
        now = timezone.now()
        if activity.phase_at(now) != Activity.Phase.RECRUITING:
            raise Conflict("该活动当前不在招募中。", code="not_recruiting")
        if activity.signup_deadline and now > activity.signup_deadline:
            raise Conflict("报名已截止。", code="signup_closed")
        if SignUp.objects.filter(activity=activity, volunteer=volunteer).exclude(
            status=SignUp.Status.CANCELLED
        ).exists():
            raise Conflict("您已报名该活动。", code="already_signed_up")
        _check_eligible(activity, volunteer)
        _check_overlap(activity, volunteer)
        confirmed = SignUp.objects.filter(activity=activity, status=SignUp.Status.CONFIRMED).count()
        status = SignUp.Status.CONFIRMED if confirmed < activity.capacity else SignUp.Status.WAITING
        try:
            with transaction.atomic():
                signup = SignUp.objects.create(activity=activity, volunteer=volunteer, status=status, created_at=now)
        except IntegrityError:
            raise Conflict("您已报名该活动。", code="already_signed_up")
        audit.record(by, "activity.signup", signup, after={"status": status, "volunteer": volunteer.pk})
    return signup


def cancel_signup(by, signup: SignUp, *, reason: str = "") -> SignUp:
    """Cancel a place before the activity starts; the first on the waiting list moves up and is told."""
    if getattr(by, "volunteer", None) != signup.volunteer:
        require_organiser(by, signup.activity.node, signup.activity.team)
    if len(reason or "") > 200:
        raise InvalidInput("取消原因不能超过200字。", code="reason_too_long")
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=signup.activity_id)
        signup = SignUp.objects.select_for_update().get(pk=signup.pk)
        if signup.status == SignUp.Status.CANCELLED:
            raise Conflict("该报名已取消。", code="already_cancelled")
        if activity.phase != Activity.Phase.RECRUITING:
            raise Conflict("活动已开始或已结束，不能再取消报名。", code="not_recruiting")
        was_confirmed = signup.status == SignUp.Status.CONFIRMED
        signup.status = SignUp.Status.CANCELLED
        signup.cancelled_at = timezone.now()
        signup.cancel_reason = (reason or "").strip()
        signup.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        audit.record(by, "activity.signup.cancel", signup, after={"was_confirmed": was_confirmed})
        if was_confirmed:
            _promote_waiting(activity)
    return signup


def _promote_waiting(activity: Activity) -> list[SignUp]:
    """Fill free places from the waiting list, first come first served (activity row locked by the caller)."""
    free = activity.capacity - SignUp.objects.filter(activity=activity, status=SignUp.Status.CONFIRMED).count()
    if free <= 0:
        return []
    promoted = list(
        SignUp.objects.select_for_update()
        .filter(activity=activity, status=SignUp.Status.WAITING)
        .order_by("created_at", "id")[:free]
    )
    now = timezone.now()
    for signup in promoted:
        signup.status = SignUp.Status.CONFIRMED
        signup.promoted_at = now
        signup.save(update_fields=["status", "promoted_at"])
        notify(
            signup.volunteer_id,
            "waitlist_promoted",
            f"候补成功：{activity.title}",
            f"有志愿者取消报名，您已由候补转为正式报名。活动时间：{timezone.localtime(activity.starts_at):%m月%d日 %H:%M}。",
            f"/a/{activity.pk}/",
        )
        audit.record(None, "activity.signup.promote", signup, after={"volunteer": signup.volunteer_id})
    return promoted


# --- Settlement ----------------------------------------------------------------------------------


def expire_open_checkins(now=None, *, volunteer_id=None) -> int:
    """Check-ins with no check-out past the activity's end plus the grace period wait for the
    organiser's decision; they never turn into hours by themselves."""
    now = now or timezone.now()
    grace = timedelta(minutes=settings.WENMING_CHECKOUT_GRACE_MINUTES)
    qs = Attendance.objects.filter(status=Attendance.Status.CHECKED_IN, activity__ends_at__lt=now - grace)
    if volunteer_id is not None:
        qs = qs.filter(volunteer_id=volunteer_id)
    return qs.update(status=Attendance.Status.AWAITING_DECISION)


@dataclass
class Settlement:
    settled: int = 0
    minutes: int = 0
    no_hours: int = 0
    awaiting: int = 0


def settle_activity(by, activity: Activity, *, beneficiaries: int | None = None) -> Settlement:
    """Turn a finished activity's check-ins and check-outs into verified service records.

    Check-ins without a check-out wait for a decision (`decide_attendance`); those below the
    minimum share of the window earn nothing. Settling twice is refused."""
    require_organiser(by, activity.node, activity.team)
    if beneficiaries is not None:
        try:
            beneficiaries = int(beneficiaries)
        except (TypeError, ValueError):
            raise InvalidInput("实际服务人数须为整数。", code="beneficiaries_invalid")
        if not 0 <= beneficiaries <= 10_000_000:
            raise InvalidInput("实际服务人数不在合理范围内。", code="beneficiaries_invalid")
    result = Settlement()
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.status == Activity.Status.SETTLED:
            raise Conflict("该活动的时长已经结算。", code="already_settled")
        if activity.phase != Activity.Phase.FINISHED:
            raise Conflict("活动结束后才能结算时长。", code="not_finished")
        place = activity.site.name if activity.site else activity.address
        served = activity.served_site.name if activity.served_site else (activity.served_target or "社会公众")
        for att in Attendance.objects.select_for_update().filter(activity=activity).select_related("volunteer"):
            if att.status == Attendance.Status.CHECKED_IN:
                att.status = Attendance.Status.AWAITING_DECISION
            if att.status == Attendance.Status.AWAITING_DECISION:
                result.awaiting += 1
                att.save(update_fields=["status"])
                continue
            if att.status != Attendance.Status.CHECKED_OUT:
                continue
            record = ledger.record_verified(
                by,
                volunteer=att.volunteer,
                node=activity.node,
                title=activity.title,
                check_in=att.checked_in_at,
                check_out=att.checked_out_at,
                window_start=activity.starts_at,
                window_end=activity.ends_at,
                source_type="activity",
                source_id=str(activity.pk),
                content=activity.description[:2000],
                place=place[:200],
                beneficiaries=served[:200],
                responsible_person=activity.contact_name or str(by)[:50],
            )
            if record is None:
                att.status, att.minutes = Attendance.Status.NO_HOURS, 0
                att.decision_note = "服务时长不足活动时长的规定比例，不计时长"
                result.no_hours += 1
            else:
                att.status, att.minutes, att.record = Attendance.Status.SETTLED, record.minutes, record
                result.settled += 1
                result.minutes += record.minutes
            att.save(update_fields=["status", "minutes", "record", "decision_note"])
        activity.status = Activity.Status.SETTLED
        activity.settled_at = timezone.now()
        activity.settled_by = by
        if beneficiaries is not None:
            activity.beneficiaries = beneficiaries
        activity.save(update_fields=["status", "settled_at", "settled_by", "beneficiaries"])
        audit.record(by, "activity.settle", activity, after=result.__dict__)
    return result


def decide_attendance(by, attendance: Attendance, *, record_minutes: int | None, reason: str):
    """The organiser's decision on a check-in without a check-out: enter recorded hours
    (补录, which a second person must approve), or give none. Either way with a reason."""
    activity = attendance.activity
    require_organiser(by, activity.node, activity.team)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写处理说明。", code="reason_missing")
    with transaction.atomic():
        attendance = Attendance.objects.select_for_update().get(pk=attendance.pk)
        if attendance.status != Attendance.Status.AWAITING_DECISION:
            raise Conflict("该签到记录无需处理。", code="not_awaiting")
        if record_minutes:
            if not can_manage(by, activity.node):
                # SPEC: recorded hours are entered by an admin, and approved by another.
                raise Forbidden("补录时长须由实践站（所、中心）管理员录入，请联系管理员；您可以选择不计时长。",
                                code="recorded_hours_admin_only")
            request = ledger.request_recorded_hours(
                by,
                volunteer=attendance.volunteer,
                node=activity.node,
                title=activity.title,
                window_start=activity.starts_at,
                window_end=activity.ends_at,
                minutes=record_minutes,
                reason=f"未签退补录：{reason}",
                source_type="activity",
                source_id=str(activity.pk),
                place=(activity.site.name if activity.site else activity.address)[:200],
                started_at=attendance.checked_in_at,
            )
            attendance.hours_request = request
            attendance.status = Attendance.Status.SETTLED
        else:
            attendance.status = Attendance.Status.NO_HOURS
        attendance.decision_note = reason[:500]
        attendance.save(update_fields=["status", "hours_request", "decision_note"])
        audit.record(by, "activity.attendance.decide", attendance, after={"minutes": record_minutes or 0})
    return attendance


# --- Themes and brands ---------------------------------------------------------------------------


def save_theme(by, theme: Theme | None, *, name: str, is_festival: bool = False, sort_order: int = 0) -> Theme:
    """Create (theme None) or change a theme tag: district-wide reference data, district admins only."""
    from wenming.core.scoping import require_manager

    require_manager(by, None)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写主题名称。", code="name_missing")
    if len(name) > 30:
        raise InvalidInput("主题名称不能超过30字。", code="name_too_long")
    try:
        sort_order = int(sort_order or 0)
    except (TypeError, ValueError):
        raise InvalidInput("排序须为0到32767之间的整数。", code="sort_order_invalid")
    if not 0 <= sort_order <= 32767:
        raise InvalidInput("排序须为0到32767之间的整数。", code="sort_order_invalid")
    with transaction.atomic():
        if Theme.objects.filter(name=name).exclude(pk=getattr(theme, "pk", None)).exists():
            raise Conflict(f"已有名为“{name}”的主题。", code="theme_name_taken")
        before = None if theme is None else {"name": theme.name, "is_festival": theme.is_festival}
        theme = theme or Theme()
        theme.name, theme.is_festival, theme.sort_order = name, bool(is_festival), sort_order
        try:
            with transaction.atomic():
                theme.save()
        except IntegrityError:
            raise Conflict(f"已有名为“{name}”的主题。", code="theme_name_taken")
        audit.record(by, "activity.theme.save", theme, before=before,
                     after={"name": theme.name, "is_festival": theme.is_festival})
    return theme


def save_brand(by, brand: Brand | None, *, node: OrgNode, name: str, description: str = "") -> Brand:
    """Create (brand None) or change a project brand (项目品牌) of a node in the manager's reach."""
    from wenming.core.scoping import require_manager

    if node is None:
        raise InvalidInput("请选择品牌所属组织。", code="node_missing")
    if brand is not None:
        require_manager(by, brand.node)
    require_manager(by, node)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写品牌名称。", code="name_missing")
    if len(name) > 50:
        raise InvalidInput("品牌名称不能超过50字。", code="name_too_long")
    description = (description or "").strip()
    if len(description) > 2000:
        raise InvalidInput("品牌简介不能超过2000字。", code="description_too_long")
    with transaction.atomic():
        if Brand.objects.filter(node=node, name=name).exclude(pk=getattr(brand, "pk", None)).exists():
            raise Conflict(f"{node.name}已有名为“{name}”的项目品牌。", code="brand_name_taken")
        before = None if brand is None else {"name": brand.name, "node": brand.node_id}
        brand = brand or Brand()
        brand.node, brand.name, brand.description = node, name, description
        try:
            with transaction.atomic():
                brand.save()
        except IntegrityError:
            raise Conflict(f"{node.name}已有名为“{name}”的项目品牌。", code="brand_name_taken")
        audit.record(by, "activity.brand.save", brand, before=before, after={"name": brand.name, "node": node.pk})
    return brand
