"""In-site notices (站内消息) and their deliveries to outside channels.

A notice is addressed to a volunteer (a volunteer registered by an admin may have no account
yet, and finds them on first log-in) or to an account (a station admin, a team leader). An
account's inbox shows both: what was addressed to it and to its volunteer.

A Delivery is one notice on its way to one outside channel (a webhook to the district's SMS
or WeChat gateway): pending until a background job sends it, retried with backoff, then
sent or failed. The log channel needs no rows (see channels.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.people.models import Volunteer


class Notice(models.Model):
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="notices", db_index=False, null=True, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", db_index=False,
        null=True, blank=True,
    )
    kind = models.CharField(_("类型"), max_length=30)
    title = models.CharField(_("标题"), max_length=100)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    url = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    # Notices are personal: the inbox reads them by addressee (queries.for_account), never by
    # an admin's reach. These say where a volunteer's notice hangs, for the scoping helper.
    SCOPE_NODE_FIELD = "volunteer__station"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["volunteer", "read_at", "created_at"], name="notice_inbox"),
            models.Index(fields=["user", "read_at", "created_at"], name="notice_user_inbox"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(volunteer__isnull=False) | Q(user__isnull=False), name="notice_has_addressee"
            ),
        ]

    def __str__(self):
        return self.title


class Delivery(models.Model):
    """One notice to one outside channel. `attempts` counts sends started; `next_attempt_at` is
    when a job may take it next (while sending: when its claim lapses, should the job die)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=100)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("消息投递")
        verbose_name_plural = _("消息投递")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["notice", "channel"], name="delivery_once_per_channel")]
        indexes = [
            # The jobs' "what is due" scan touches only the rows still on their way.
            models.Index(fields=["next_attempt_at"], name="delivery_due",
                         condition=Q(status__in=["pending", "sending"])),
        ]

    def __str__(self):
        return f"{self.notice_id} → {self.channel}: {self.get_status_display()}"
