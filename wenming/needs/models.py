"""Residents' needs (群众点单) and their way through the four-order loop.

A need's `state` changes only in `services.py`, one function per transition; each writes a
timeline entry (NeedEvent: who, when, why) and an audit entry. Where a need sits in the tree
is `station` (where it was raised, fixed) and `node` (the node that handles it now: the
station, a lower node it was passed down to, or the node it was escalated to).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.core.models import Department, OrgNode, Skill
from wenming.org.models import Platform
from wenming.people.models import Team, Volunteer


class NeedCategory(models.Model):
    """A two-level list of what residents ask for (助老助残 › 上门探访 …), mapped to a platform and skills."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("上级类别"))
    name = models.CharField(_("名称"), max_length=30)
    code = models.SlugField(_("编码"), max_length=40, unique=True, help_text=_("Open311 的 service_code"))
    platform = models.ForeignKey(Platform, verbose_name=_("对应平台"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="need_categories")
    skills = models.ManyToManyField(Skill, verbose_name=_("所需技能"), blank=True, related_name="need_categories")
    description = models.CharField(_("说明"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    SCOPE_NODE_FIELD = None

    class Meta:
        verbose_name = _("需求类别")
        verbose_name_plural = _("需求类别")
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="need_category_unique_name")]

    def __str__(self):
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class ServiceOffer(models.Model):
    """A standing service a team publishes (服务清单, e.g. 爱心义剪 every Saturday); booking one raises a
    need addressed to the team."""

    team = models.ForeignKey(Team, verbose_name=_("服务队伍"), on_delete=models.PROTECT, related_name="offers")
    category = models.ForeignKey(NeedCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="offers")
    title = models.CharField(_("服务名称"), max_length=50)
    description = models.TextField(_("服务内容"), max_length=1000, blank=True)
    schedule = models.CharField(_("服务时间"), max_length=100, blank=True, help_text=_("如：每周六上午"))
    active = models.BooleanField(_("上架"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "team__node"

    class Meta:
        verbose_name = _("服务清单")
        verbose_name_plural = _("服务清单")
        ordering = ["id"]

    def __str__(self):
        return self.title


# Mean stars are smoothed toward a prior, as if every team had also had five ratings of 4 stars, so that
# one 5-star rating does not outrank forty ratings averaging 4.9 (dispatch candidates, the rankings).
RATING_PRIOR, RATING_PRIOR_WEIGHT = 4, 5


def smoothed_stars(stars: int, ratings: int) -> float:
    """A team's or volunteer's mean stars pulled toward the prior (stats.models.RATING_SCORE in SQL: the
    same IEEE division, so a tie found here is a tie there)."""
    return (stars + RATING_PRIOR * RATING_PRIOR_WEIGHT) / (ratings + RATING_PRIOR_WEIGHT)


class Need(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("待派单")
        DISPATCHED = "dispatched", _("已派单")
        ACCEPTED = "accepted", _("已接单")
        IN_SERVICE = "in_service", _("服务中")
        COMPLETED = "completed", _("待评价")
        CLOSED = "closed", _("已完成")
        REJECTED = "rejected", _("已驳回")
        CANCELLED = "cancelled", _("已取消")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")
        CRITICAL = "critical", _("特急")

    class Source(models.TextChoices):
        PUBLIC = "public", _("群众自助点单")
        PROXY = "proxy", _("帮办代点")
        IMPORT = "import", _("Excel导入")
        MENU = "menu", _("服务清单预约")
        WISH = "wish", _("微心愿")
        OPEN311 = "open311", _("Open311接口")
        DEMO = "demo", _("演示数据")

    code = models.CharField(_("查询码"), max_length=12, unique=True)
    category = models.ForeignKey(NeedCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="needs")
    description = models.TextField(_("需求描述"), max_length=1000)
    station = models.ForeignKey(OrgNode, verbose_name=_("所属实践站"), on_delete=models.PROTECT,
                                related_name="raised_needs")
    node = models.ForeignKey(OrgNode, verbose_name=_("当前办理组织"), on_delete=models.PROTECT, related_name="needs")
    address = models.CharField(_("服务地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50)
    phone_enc = models.TextField(editable=False)
    phone_index = models.CharField(max_length=64, editable=False, db_index=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20)
    wished_at = models.DateTimeField(_("期望服务时间"), null=True, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.PUBLIC)
    is_wish = models.BooleanField(_("微心愿"), default=False)
    offer = models.ForeignKey(ServiceOffer, verbose_name=_("预约的服务"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="needs")
    requested_team = models.ForeignKey(Team, verbose_name=_("指定队伍"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("代点人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.SUBMITTED)
    # Whom it is dispatched to: exactly one of these while dispatched or later; none in the pool.
    team = models.ForeignKey(Team, verbose_name=_("承接队伍"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="needs")
    volunteer = models.ForeignKey(Volunteer, verbose_name=_("承接志愿者"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="needs")
    to_node = models.ForeignKey(OrgNode, verbose_name=_("下派组织"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="passed_needs")
    department = models.ForeignKey(Department, verbose_name=_("承办部门"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="needs")
    in_pool = models.BooleanField(_("抢单池"), default=False)
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    deadline = models.DateTimeField(_("本环节时限"), null=True, blank=True)
    overdue = models.BooleanField(_("已超时"), default=False)
    escalations = models.PositiveSmallIntegerField(_("升级次数"), default=0)

    created_at = models.DateTimeField(_("点单时间"), default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    reason = models.CharField(_("驳回/取消原因"), max_length=200, blank=True)
    report = models.TextField(_("服务报告"), max_length=2000, blank=True)
    people_served = models.PositiveIntegerField(_("服务群众人数"), null=True, blank=True)
    activity = models.ForeignKey("activities.Activity", verbose_name=_("服务活动"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="needs")
    stars = models.PositiveSmallIntegerField(_("评价星级"), null=True, blank=True)
    comment = models.CharField(_("评价内容"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "node"

    OPEN_STATES = (State.SUBMITTED, State.APPROVED, State.DISPATCHED, State.ACCEPTED, State.IN_SERVICE)
    # What a team or volunteer is holding (their open load, counted against a team's capacity).
    HELD_STATES = (State.DISPATCHED, State.ACCEPTED, State.IN_SERVICE)

    class Meta:
        verbose_name = _("群众需求")
        verbose_name_plural = _("群众需求")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "deadline"], name="need_state_deadline"),
            models.Index(fields=["node", "state"], name="need_node_state"),
            models.Index(fields=["team", "state"], name="need_team_state"),
            models.Index(fields=["station", "created_at"], name="need_station_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stars__isnull=True) | Q(stars__gte=1, stars__lte=5),
                                   name="need_stars_1_to_5"),
        ]

    def __str__(self):
        return f"{self.code} {self.category.name}"

    @property
    def assignee(self):
        return self.team or self.volunteer or self.to_node or self.department

    @property
    def assignee_label(self) -> str:
        if self.in_pool and self.state == self.State.DISPATCHED:
            return str(_("抢单池"))
        return str(self.assignee or "")

    @property
    def is_late(self) -> bool:
        """Overdue and still open (a closed need keeps its flag for the figures, not for the lists)."""
        return self.overdue and self.state in self.OPEN_STATES

    @property
    def phone_last4(self) -> str:
        return self.phone_masked[-4:]


class NeedPhoto(models.Model):
    """A photo of the need or of the service, re-encoded on upload (no metadata kept)."""

    class Kind(models.TextChoices):
        NEED = "need", _("需求照片")
        SERVICE = "service", _("服务照片")

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    image = models.BinaryField()  # small (re-encoded, ≤ 1600 px JPEG): kept with the record it proves
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class NeedEvent(models.Model):
    """One line of a need's timeline: who did what, when and why."""

    LABELS = {
        "submitted": pgettext_lazy("timeline", "群众点单"), "approved": pgettext_lazy("timeline", "审核通过"), "rejected": _("驳回"), "dispatched": _("派单"),
        "published": _("发布到抢单池"), "grabbed": _("抢单"), "claimed": _("认领心愿"), "accepted": _("接单"),
        "declined": _("拒单，退回改派"), "started": _("开始服务"), "activity": _("通过活动服务"),
        "completed": _("完成服务"), "rated": _("群众评单"), "cancelled": _("取消"), "escalated": _("超时升级"),
        "overdue": _("超时"), "accept_missed": _("接单超时，退回改派"), "closed_unrated": _("超期未评，自动办结"),
    }

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=100)
    note = models.CharField(max_length=500, blank=True)
    # Whether the resident sees it on the tracking page (internal notes are not shown).
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["need", "at"], name="needevent_need_at")]

    @property
    def label(self) -> str:
        return str(self.LABELS.get(self.action, self.action))


class NeedHours(models.Model):
    """Hours reported for a volunteer when a need is completed directly (recorded hours, approved by a
    second person through the ledger)."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="hours")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="+")
    minutes = models.PositiveIntegerField()
    request = models.ForeignKey("ledger.HoursRequest", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["need", "volunteer"], name="needhours_once")]

    @property
    def hours(self) -> str:
        return f"{self.minutes / 60:g}"
