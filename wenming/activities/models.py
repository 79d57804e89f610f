"""Activities (活动), their sign-ups (报名) and check-in/out (签到/签退).

An activity's stored `status` is what people decided: draft, published, cancelled,
settled. Whether a published activity is recruiting, in progress or finished follows
from the clock, so it is computed (`phase`), never stored where it could drift.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.core.models import OrgNode, Skill
from wenming.org.models import Platform, Site
from wenming.people.models import Team, Volunteer


class Theme(models.Model):
    """A theme tag (学雷锋, 我们的节日·春节 …), configurable by the district."""

    name = models.CharField(_("名称"), max_length=30, unique=True)
    is_festival = models.BooleanField(_("节日主题"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = None

    class Meta:
        verbose_name = _("活动主题")
        verbose_name_plural = _("活动主题")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


class Brand(models.Model):
    """A project brand (项目品牌, e.g. 七彩假期) grouping recurring activities."""

    name = models.CharField(_("品牌名称"), max_length=50)
    node = models.ForeignKey(OrgNode, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="brands")
    description = models.TextField(_("简介"), max_length=2000, blank=True)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        verbose_name = _("项目品牌")
        verbose_name_plural = _("项目品牌")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["node", "name"], name="brand_unique_name_per_node")]

    def __str__(self):
        return self.name


class Activity(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        CANCELLED = "cancelled", _("已取消")
        SETTLED = "settled", _("时长已结算")

    class Phase(models.TextChoices):
        DRAFT = "draft", _("草稿")
        RECRUITING = "recruiting", _("招募中")
        IN_PROGRESS = "in_progress", _("进行中")
        FINISHED = "finished", _("已结束")
        SETTLED = "settled", _("时长已结算")
        CANCELLED = "cancelled", _("已取消")

    class Serves(models.TextChoices):
        PUBLIC = "public", _("社会公众")
        CARE_TARGETS = "care_targets", _("关爱对象")
        NURSING_HOME = "nursing_home", _("敬老院")
        SITE = "site", _("阵地服务对象")

    title = models.CharField(_("活动名称"), max_length=100)
    description = models.TextField(_("活动内容"), max_length=5000, blank=True)
    platform = models.ForeignKey(
        Platform, verbose_name=_("所属平台"), null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    themes = models.ManyToManyField(Theme, verbose_name=_("主题"), blank=True, related_name="activities")
    node = models.ForeignKey(OrgNode, verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="activities")
    team = models.ForeignKey(
        Team, verbose_name=_("组织队伍"), null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("活动地点"), null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    signup_deadline = models.DateTimeField(_("报名截止"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("招募人数"))
    skills = models.ManyToManyField(Skill, verbose_name=_("所需技能"), blank=True, related_name="activities")
    require_skills = models.BooleanField(_("仅限具备所需技能的志愿者"), default=False)
    restrict_to_node = models.ForeignKey(
        OrgNode,
        verbose_name=_("仅限该组织下的志愿者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    allow_walk_ins = models.BooleanField(_("允许未报名者现场签到"), default=False)
    serves = models.CharField(_("服务对象"), max_length=20, choices=Serves.choices, default=Serves.PUBLIC)
    served_site = models.ForeignKey(
        Site,
        verbose_name=_("服务的敬老院/阵地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="served_by_activities",
    )
    served_target = models.CharField(_("服务的关爱对象"), max_length=100, blank=True)
    expected_beneficiaries = models.PositiveIntegerField(_("预计服务人数"), default=0)
    beneficiaries = models.PositiveIntegerField(_("实际服务人数"), null=True, blank=True)
    brand = models.ForeignKey(
        Brand, verbose_name=_("项目品牌"), null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    cancel_reason = models.CharField(_("取消原因"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "node"
    SCOPE_OWNER_FIELD = "team__leader__user"

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activity_capacity_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="activity_status_start"),
            models.Index(fields=["node", "starts_at"], name="activity_node_start"),
            models.Index(fields=["served_site", "starts_at"], name="activity_served_site_start"),
            # Statistics count an activity once its end has passed (stats.rollups.advance_clock).
            models.Index(fields=["ends_at"], name="activity_ends_at"),
        ]

    def __str__(self):
        return self.title

    def phase_at(self, now) -> str:
        if self.status != self.Status.PUBLISHED:
            return self.status  # draft, cancelled, settled share their names with the phase
        if now < self.starts_at:
            return self.Phase.RECRUITING
        if now < self.ends_at:
            return self.Phase.IN_PROGRESS
        return self.Phase.FINISHED

    @property
    def phase(self) -> str:
        return self.phase_at(timezone.now())

    def get_phase_display(self) -> str:
        return str(self.Phase(self.phase).label)  # a plain str: the API serialises it

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def checkin_opens_at(self):
        return self.starts_at - timedelta(minutes=settings.WENMING_CHECKIN_OPENS_MINUTES)

    @property
    def checkout_closes_at(self):
        return self.ends_at + timedelta(minutes=settings.WENMING_CHECKOUT_GRACE_MINUTES)


class SignUp(models.Model):
    """A volunteer's place on an activity: confirmed, or on the waiting list (候补)."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("已报名")
        WAITING = "waiting", _("候补中")
        CANCELLED = "cancelled", _("已取消")

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    created_at = models.DateTimeField(_("报名时间"), default=timezone.now)
    promoted_at = models.DateTimeField(_("递补时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    SCOPE_NODE_FIELD = "activity__node"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "volunteer"],
                condition=~Q(status="cancelled"),
                name="signup_once_per_activity",
            )
        ]
        indexes = [
            models.Index(fields=["activity", "status", "created_at"], name="signup_activity_queue"),
            models.Index(fields=["volunteer", "status"], name="signup_volunteer_status"),
        ]

    def __str__(self):
        return f"{self.volunteer} · {self.activity}"


class Attendance(models.Model):
    """One volunteer's presence at one activity: check-in, check-out, and what came of it."""

    class Status(models.TextChoices):
        CHECKED_IN = "checked_in", _("已签到")
        CHECKED_OUT = "checked_out", _("已签退")
        AWAITING_DECISION = "awaiting", _("未签退·待确认")
        SETTLED = "settled", _("已记入时长")
        NO_HOURS = "no_hours", _("不计时长")

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="attendances")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="attendances")
    signup = models.ForeignKey(SignUp, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_walk_in = models.BooleanField(_("现场签到"), default=False)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.CHECKED_IN)
    checked_in_at = models.DateTimeField(_("签到时间"))
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    check_in_distance_m = models.PositiveIntegerField(_("签到距离（米）"), null=True, blank=True)
    check_out_distance_m = models.PositiveIntegerField(_("签退距离（米）"), null=True, blank=True)
    minutes = models.PositiveIntegerField(_("核验时长（分钟）"), null=True, blank=True)
    record = models.ForeignKey(
        "ledger.ServiceRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hours_request = models.ForeignKey(
        "ledger.HoursRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.CharField(_("处理说明"), max_length=500, blank=True)

    SCOPE_NODE_FIELD = "activity__node"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        verbose_name = _("签到记录")
        verbose_name_plural = _("签到记录")
        ordering = ["checked_in_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="attendance_once_per_activity"),
            # A volunteer is checked in at one place at a time, whatever arrives at once.
            models.UniqueConstraint(
                fields=["volunteer"], condition=Q(status="checked_in"), name="attendance_one_open_per_volunteer"
            ),
        ]
        indexes = [models.Index(fields=["status", "activity"], name="attendance_status_activity")]

    def __str__(self):
        return f"{self.volunteer} · {self.activity}"


class Scan(models.Model):
    """An accepted scan, kept by the phone's own id so a repeated or late copy applies once."""

    class Kind(models.TextChoices):
        CHECK_IN = "in", _("签到")
        CHECK_OUT = "out", _("签退")

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="+", db_index=False)
    scan_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=3, choices=Kind.choices)
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="scans")
    attendance = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="scans")
    scanned_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    # Only the distance to the site is kept, never the position itself (PIPL: location is
    # taken at check-in/out and only for that).
    distance_m = models.PositiveIntegerField(null=True, blank=True)

    SCOPE_NODE_FIELD = "activity__node"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["volunteer", "scan_id"], name="scan_once")]
