"""Platforms, social organisations, sites (阵地) and contact points (联系点)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.core.models import Department, OrgNode


class Platform(models.Model):
    """A platform (平台, e.g. 传思想习理论) led by a department."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    lead_department = models.ForeignKey(Department, verbose_name=_("牵头部门"), on_delete=models.PROTECT, related_name="platforms")
    description = models.TextField(_("说明"), blank=True)
    ordering = models.PositiveIntegerField(default=0)

    SCOPE_NODE_FIELD = None

    class Meta:
        verbose_name = _("平台")
        verbose_name_plural = _("平台")
        ordering = ["ordering", "id"]

    def __str__(self):
        return self.name


class SocialOrganization(models.Model):
    """A social organisation (公益组织) that can own teams."""

    name = models.CharField(_("名称"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    node = models.ForeignKey(OrgNode, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="social_orgs")
    contact = models.CharField(_("联系人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        verbose_name = _("公益组织")
        verbose_name_plural = _("公益组织")
        ordering = ["id"]

    def __str__(self):
        return self.name


class Site(models.Model):
    """A place where practice happens (阵地), with a check-in radius."""

    class Kind(models.TextChoices):
        MORAL_HALL = "moral_hall", _("道德讲堂")
        CULTURE_SQUARE = "culture_square", _("文化广场")
        PARK = "park", _("公园")
        SQUARE = "square", _("广场")
        SERVICE_STATION = "service_station", _("便民服务站")
        YOUTH_PALACE = "youth_palace", _("乡村学校少年宫")
        SCIENCE_BASE = "science_base", _("科普教育基地")
        SCIENCE_MUSEUM = "science_museum", _("乡村科技馆")
        SCHOOL = "school", _("中小学校")
        NURSING_HOME = "nursing_home", _("敬老院")
        PRACTICE_VENUE = "practice_venue", _("实践所站场所")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    node = models.ForeignKey(OrgNode, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="sites")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    radius_m = models.PositiveIntegerField(_("签到半径（米）"), default=300)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        verbose_name = _("阵地")
        verbose_name_plural = _("阵地")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["node", "name"], name="site_unique_name_per_node")]

    def __str__(self):
        return self.name


class ContactPoint(models.Model):
    """A guidance link: a district leader ↔ an institute, or a civilised unit ↔ a demonstration station."""

    class Kind(models.TextChoices):
        LEADER = "leader", _("区级领导联系乡镇（街道）")
        UNIT = "unit", _("文明单位联系示范点")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    party = models.CharField(_("联系人/单位"), max_length=100)
    party_title = models.CharField(_("职务"), max_length=100, blank=True)
    node = models.ForeignKey(OrgNode, verbose_name=_("联系点"), on_delete=models.PROTECT, related_name="contact_points")
    frequency_days = models.PositiveIntegerField(_("指导频次（天）"), default=30)
    started_on = models.DateField(_("建立日期"), default=timezone.localdate)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        verbose_name = _("联系点")
        verbose_name_plural = _("联系点")
        ordering = ["id"]

    def __str__(self):
        return f"{self.party} → {self.node.name}"

    def due_since(self, last_visit):
        """The date the next visit was due; a link with no visit is due from its start."""
        return (last_visit or self.started_on) + timedelta(days=self.frequency_days)


class GuidanceVisit(models.Model):
    contact_point = models.ForeignKey(ContactPoint, on_delete=models.PROTECT, related_name="visits")
    visited_on = models.DateField(_("指导日期"))
    summary = models.TextField(_("指导内容"), max_length=2000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    SCOPE_NODE_FIELD = "contact_point__node"

    class Meta:
        verbose_name = _("指导记录")
        verbose_name_plural = _("指导记录")
        ordering = ["-visited_on", "-id"]
