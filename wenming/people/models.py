"""Volunteers (志愿者) and teams (志愿服务队)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.core.models import OrgNode, Skill
from wenming.org.models import Platform, SocialOrganization


class Volunteer(models.Model):
    """A registered volunteer. ID and phone numbers are stored encrypted, with a
    keyed blind index for uniqueness and exact search, and a masked copy for display."""

    class Gender(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    class Political(models.TextChoices):
        MASSES = "masses", _("群众")
        CPC = "cpc", _("中共党员")
        CPC_PROBATION = "cpc_probation", _("中共预备党员")
        CYL = "cyl", _("共青团员")
        DEMOCRATIC = "democratic", _("民主党派")
        OTHER = "other", _("其他")

    class Source(models.TextChoices):
        SELF = "self", _("本人注册")
        CONSOLE = "console", _("管理员录入")
        IMPORT = "import", _("批量导入")
        DEMO = "demo", _("演示数据")

    number = models.CharField(_("志愿者编号"), max_length=20, unique=True)
    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    name_pinyin = models.CharField(max_length=200, editable=False)  # indexed for search below
    name_initials = models.CharField(max_length=50, editable=False)
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    id_type = models.CharField(_("证件类型"), max_length=20, default="居民身份证")
    id_number_enc = models.TextField(editable=False)
    id_number_index = models.CharField(max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField(_("证件号码"), max_length=18, editable=False)
    phone_enc = models.TextField(editable=False)
    phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    phone_masked = models.CharField(_("手机号码"), max_length=11, editable=False)
    political_status = models.CharField(_("政治面貌"), max_length=20, choices=Political.choices, default=Political.MASSES)
    skills = models.ManyToManyField(Skill, verbose_name=_("技能"), blank=True, related_name="volunteers")
    station = models.ForeignKey(OrgNode, verbose_name=_("所属实践站"), on_delete=models.PROTECT, related_name="volunteers")
    availability = models.JSONField(_("可服务时间"), default=list, blank=True)
    agreement_consent_at = models.DateTimeField(_("同意服务协议时间"))
    privacy_consent_at = models.DateTimeField(_("同意隐私政策时间"))
    guardian_name = models.CharField(_("监护人姓名"), max_length=50, blank=True)
    guardian_phone_enc = models.TextField(blank=True, editable=False)
    guardian_phone_masked = models.CharField(_("监护人电话"), max_length=11, blank=True, editable=False)
    guardian_consent_at = models.DateTimeField(_("监护人同意时间"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="volunteer"
    )
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.CONSOLE)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("注册时间"), default=timezone.now)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "station"
    SCOPE_OWNER_FIELD = "user"

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["-id"]
        indexes = [
            # Search (queries.VolunteerSearch): a prefix of the name, the pinyin or the initials —
            # the pattern operator class serves LIKE 'abc%' on PostgreSQL — then the id, so the
            # newest matches are taken from the index alone (index-only scan; the station rides
            # along for scoped users) and only the rows of one page are read.
            models.Index(fields=["name_initials", "id"], name="vol_initials_search",
                         opclasses=["varchar_pattern_ops", "int8_ops"], include=["station"]),
            models.Index(fields=["name_pinyin", "id"], name="vol_pinyin_search",
                         opclasses=["varchar_pattern_ops", "int8_ops"], include=["station"]),
            models.Index(fields=["name", "id"], name="vol_name_search",
                         opclasses=["varchar_pattern_ops", "int8_ops"], include=["station"]),
        ]

    def __str__(self):
        return f"{self.name}（{self.number}）"

    @property
    def age(self) -> int:
        today = timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class Team(models.Model):
    """A volunteer service team (志愿服务队), owned by a node and possibly a social organisation."""

    name = models.CharField(_("队伍名称"), max_length=100)
    node = models.ForeignKey(OrgNode, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="teams")
    platform = models.ForeignKey(Platform, verbose_name=_("所属平台"), null=True, blank=True, on_delete=models.SET_NULL, related_name="teams")
    social_org = models.ForeignKey(
        SocialOrganization, verbose_name=_("所属公益组织"), null=True, blank=True, on_delete=models.SET_NULL, related_name="teams"
    )
    leader = models.ForeignKey(Volunteer, verbose_name=_("队长"), null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams")
    skills = models.ManyToManyField(Skill, verbose_name=_("服务专长"), blank=True, related_name="teams")
    members = models.ManyToManyField(Volunteer, through="TeamMembership", related_name="teams", blank=True)
    description = models.TextField(_("简介"), blank=True, max_length=2000)
    capacity = models.PositiveIntegerField(_("可同时承接需求数"), default=5)
    created_at = models.DateTimeField(default=timezone.now)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "node"
    SCOPE_OWNER_FIELD = "leader__user"

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["node", "name"], name="team_unique_name_per_node")]

    def __str__(self):
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="team_member_once")]
