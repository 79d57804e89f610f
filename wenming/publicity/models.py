"""Media reports about the district's work (宣传报道台账)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.core.models import OrgNode


class MediaReport(models.Model):
    """One published report: outlet, level, date, link, and what it was about."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("区级")
        CITY = "city", _("市级")
        PROVINCE = "province", _("省级")
        CENTRAL = "central", _("中央")

    title = models.CharField(_("标题"), max_length=200)
    outlet = models.CharField(_("媒体"), max_length=100)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices)
    published_on = models.DateField(_("刊发日期"))
    url = models.URLField(_("链接"), max_length=500, blank=True)
    node = models.ForeignKey(OrgNode, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="media_reports")
    activity = models.ForeignKey("activities.Activity", verbose_name=_("相关活动"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="media_reports")
    brand = models.ForeignKey("activities.Brand", verbose_name=_("相关品牌"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="media_reports")
    note = models.CharField(_("备注"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)
    is_demo_data = models.BooleanField(default=False, editable=False)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        verbose_name = _("宣传报道")
        verbose_name_plural = _("宣传报道")
        ordering = ["-published_on", "-id"]
        indexes = [models.Index(fields=["node", "published_on"], name="publicity_node_date")]

    def __str__(self):
        return self.title
