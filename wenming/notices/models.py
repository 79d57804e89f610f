"""In-site notices (站内消息): what a volunteer is told — a waiting-list place that
came free, an activity cancelled, a new star. Addressed to the volunteer, so a volunteer
registered by an admin (no account yet) finds them on first log-in."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.people.models import Volunteer


class Notice(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="notices", db_index=False)
    kind = models.CharField(_("类型"), max_length=30)
    title = models.CharField(_("标题"), max_length=100)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    url = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    SCOPE_NODE_FIELD = "volunteer__station"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["volunteer", "read_at", "created_at"], name="notice_inbox")]

    def __str__(self):
        return self.title
