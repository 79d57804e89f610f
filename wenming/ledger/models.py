"""The ledger: service records (志愿服务记录), recorded-hours requests, points and their accounts.

Service records, point movements and point entries are append-only: the models and
their querysets refuse to change or delete a row, and on PostgreSQL a trigger refuses
UPDATE and DELETE too (migration 0002). A correction is a new record that refers to
the one it corrects (`adjustment_of`), never an edit.

Each volunteer's records form a hash chain (see chain.py): `sequence` counts 1, 2, 3 …
per volunteer, `prev_hash` is the previous record's `hash`, and `hash` seals the
record's content together with `prev_hash`. `LedgerChain` is the chain's head, the row
that appends lock so that one volunteer's appends queue while different volunteers'
appends run side by side.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.core.models import OrgNode
from wenming.people.models import Volunteer

GENESIS_HASH = "0" * 64


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("台账记录只能追加，不能修改。")

    def delete(self):
        raise PermissionError("台账记录只能追加，不能删除。")

    def _raw_delete(self, using):  # used by cascades; refuse those too
        raise PermissionError("台账记录只能追加，不能删除。")


class AppendOnlyModel(models.Model):
    """A row that can be added, never changed or removed by the application."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("台账记录只能追加，不能修改；更正请录入调整记录。")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("台账记录只能追加，不能删除；更正请录入调整记录。")


class ServiceRecord(AppendOnlyModel):
    """One service of one volunteer, permanent once approved (志愿服务记录).

    Carries what 志愿服务条例 art. 19 and 《志愿服务记录与证明出具办法》 ask of a
    service: its name, date, place, who was served, what was done, the hours, the
    quality rating, the responsible person and the recorder.
    """

    class Kind(models.TextChoices):
        VERIFIED = "verified", _("核验时长")
        RECORDED = "recorded", _("补录时长")

    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("志愿者"),
        on_delete=models.PROTECT,
        related_name="service_records",
        db_index=False,
    )
    sequence = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("时长类型"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("服务名称"), max_length=200)
    content = models.TextField(_("服务内容"), max_length=2000, blank=True)
    place = models.CharField(_("服务地点"), max_length=200, blank=True)
    beneficiaries = models.CharField(_("服务对象"), max_length=200, blank=True)
    service_date = models.DateField(_("服务日期"))
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    window_start = models.DateTimeField(_("活动开始"), null=True, blank=True)
    window_end = models.DateTimeField(_("活动结束"), null=True, blank=True)
    minutes = models.IntegerField(_("服务时长（分钟）"))
    source_type = models.CharField(_("来源类型"), max_length=20, blank=True)
    source_id = models.CharField(_("来源编号"), max_length=40, blank=True)
    node = models.ForeignKey(
        OrgNode, verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="service_records"
    )
    responsible_person = models.CharField(_("负责人"), max_length=50, blank=True)
    quality_rating = models.PositiveSmallIntegerField(_("服务质量评价"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"))
    reason = models.CharField(_("录入/调整原因"), max_length=500, blank=True)
    adjustment_of = models.ForeignKey(
        "self",
        verbose_name=_("更正对象"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustments",
    )
    original = models.ForeignKey(
        "self", verbose_name=_("原始记录"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("记入时间"), default=timezone.now)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    SCOPE_NODE_FIELD = "node"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        verbose_name = _("志愿服务记录")
        verbose_name_plural = _("志愿服务记录")
        ordering = ["-service_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "sequence"], name="ledger_record_sequence_once"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="ledger_record_sequence_positive"),
            # Recorded hours and every correction need a second person.
            models.CheckConstraint(
                condition=Q(kind="verified", adjustment_of__isnull=True) | ~Q(approved_by=F("recorded_by")),
                name="ledger_record_second_approver",
            ),
            models.CheckConstraint(
                condition=Q(adjustment_of__isnull=True, original__isnull=True, minutes__gt=0)
                | (Q(adjustment_of__isnull=False, original__isnull=False) & ~Q(minutes=0)),
                name="ledger_record_minutes_sign",
            ),
        ]
        indexes = [
            models.Index(fields=["volunteer", "kind", "minutes"], name="ledger_rec_vol_kind"),
            models.Index(fields=["volunteer", "source_type", "source_id"], name="ledger_rec_vol_source"),
            # A subtree's records of a period, with what the figures group them by, read from the index
            # alone (PostgreSQL): distinct volunteers and the teams' hours of any period (stats.recount).
            models.Index(fields=["node", "service_date"], name="ledger_rec_node_date_cover",
                         include=["volunteer", "minutes", "source_type", "source_id"]),
            # The console's lists, newest first: the first page without sorting every record in reach.
            models.Index(fields=["-service_date", "-id"], name="ledger_rec_date_id"),
        ]

    def __str__(self):
        return f"{self.title}（{self.minutes}分钟）"

    @property
    def is_adjustment(self) -> bool:
        return self.adjustment_of_id is not None

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


class LedgerChain(models.Model):
    """The head of one volunteer's chain: its length, the last hash, the running totals of
    minutes, and a seal (HMAC) over all of them.

    Appends lock this row (SELECT … FOR UPDATE), so one volunteer's appends queue and
    get contiguous sequence numbers while other volunteers' appends never wait. The
    head lets `verify-ledger` see records removed from the end of a chain, and lets a
    summary read a volunteer's hours in one row whatever the history; `verify-ledger`
    recomputes the totals from the records and checks the seal.
    """

    volunteer = models.OneToOneField(
        Volunteer, on_delete=models.PROTECT, primary_key=True, related_name="ledger_chain"
    )
    length = models.PositiveIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    verified_minutes = models.BigIntegerField(default=0)
    recorded_minutes = models.BigIntegerField(default=0)
    services = models.PositiveIntegerField(default=0)  # records that are not corrections
    seal = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("时长链")
        verbose_name_plural = _("时长链")


class HoursRequest(models.Model):
    """Recorded hours (补录) or a correction (调整), waiting for a second person's approval."""

    class Kind(models.TextChoices):
        RECORDED = "recorded", _("补录时长")
        ADJUSTMENT = "adjustment", _("更正调整")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("已驳回")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="hours_requests"
    )
    node = models.ForeignKey(
        OrgNode, verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="hours_requests"
    )
    title = models.CharField(_("服务名称"), max_length=200)
    content = models.TextField(_("服务内容"), max_length=2000, blank=True)
    place = models.CharField(_("服务地点"), max_length=200, blank=True)
    beneficiaries = models.CharField(_("服务对象"), max_length=200, blank=True)
    responsible_person = models.CharField(_("负责人"), max_length=50, blank=True)
    window_start = models.DateTimeField(_("活动开始"), null=True, blank=True)
    window_end = models.DateTimeField(_("活动结束"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    minutes = models.IntegerField(_("时长（分钟）"))
    source_type = models.CharField(_("来源类型"), max_length=20, blank=True)
    source_id = models.CharField(_("来源编号"), max_length=40, blank=True)
    adjustment_of = models.ForeignKey(
        ServiceRecord,
        verbose_name=_("更正对象"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustment_requests",
    )
    reason = models.CharField(_("原因"), max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("录入时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)
    record = models.OneToOneField(
        ServiceRecord,
        verbose_name=_("生成的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="request",
    )

    SCOPE_NODE_FIELD = "node"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        verbose_name = _("补录/更正申请")
        verbose_name_plural = _("补录/更正申请")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "node"], name="ledger_req_status_node")]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.title}（{self.minutes}分钟）"


class Account(models.Model):
    """A points account: a volunteer's, the district's issuing account, the mall's.

    It holds no balance: a balance is the sum of the account's entries."""

    class Kind(models.TextChoices):
        VOLUNTEER = "volunteer", _("志愿者积分账户")
        DISTRICT_ISSUING = "district_issuing", _("区积分发放账户")
        MALL = "mall", _("积分超市账户")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    volunteer = models.OneToOneField(
        Volunteer,
        verbose_name=_("志愿者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_account",
    )
    name = models.CharField(_("名称"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    SCOPE_NODE_FIELD = "volunteer__station"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(volunteer__isnull=True), name="ledger_one_account_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind="volunteer", volunteer__isnull=False)
                | (~Q(kind="volunteer") & Q(volunteer__isnull=True)),
                name="ledger_account_owner",
            ),
        ]

    def __str__(self):
        return self.name


class PointMovement(AppendOnlyModel):
    """One movement of points: exactly two entries, equal and opposite (see PointEntry)."""

    class Kind(models.TextChoices):
        HOURS = "hours", _("服务时长积分")
        ADJUSTMENT = "adjustment", _("时长更正")
        BONUS = "bonus", _("奖励积分")
        REVERSAL = "reversal", _("冲正")
        REDEMPTION = "redemption", _("积分兑换")
        OTHER = "other", _("其他")

    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    memo = models.CharField(_("摘要"), max_length=200)
    record = models.ForeignKey(
        ServiceRecord,
        verbose_name=_("服务记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="point_movements",
    )
    source_type = models.CharField(_("来源类型"), max_length=20, blank=True)
    source_id = models.CharField(_("来源编号"), max_length=40, blank=True)
    rate = models.DecimalField(_("每小时积分"), max_digits=8, decimal_places=2, null=True, blank=True)
    key = models.CharField(max_length=150, unique=True, null=True, blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正对象"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    SCOPE_NODE_FIELD = None  # read through entries of a scoped account

    class Meta:
        verbose_name = _("积分变动")
        verbose_name_plural = _("积分变动")
        ordering = ["-id"]

    def __str__(self):
        return self.memo


class PointEntry(AppendOnlyModel):
    """One side of a movement: a signed amount on one account. A balance is SUM(amount)."""

    movement = models.ForeignKey(PointMovement, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    amount = models.IntegerField(_("积分"))

    SCOPE_NODE_FIELD = "account__volunteer__station"
    SCOPE_OWNER_FIELD = "account__volunteer__user"

    class Meta:
        verbose_name = _("积分分录")
        verbose_name_plural = _("积分分录")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_nonzero")]
        indexes = [
            # Covering index: a balance is an index-only SUM on PostgreSQL.
            models.Index(fields=["account", "amount"], name="ledger_entry_acct_amount"),
            models.Index(fields=["account", "movement"], name="ledger_entry_acct_mvmt"),
        ]


class Certificate(AppendOnlyModel):
    """A service record certificate (志愿服务记录证明) as it was issued: permanent, verifiable online.

    `snapshot` keeps what was certified — the volunteer's name, ID type and masked number,
    volunteer number, every service line and the totals — so the PDF and the public
    verification page show the same thing years later, whatever happens to the records.
    `content_hash` is an HMAC (ledger key) over the number and the snapshot: a row changed
    behind the application's back no longer verifies.
    """

    number = models.CharField(_("证明编号"), max_length=24, unique=True)
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="certificates"
    )
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    node = models.ForeignKey(
        OrgNode, verbose_name=_("出具单位"), on_delete=models.PROTECT, related_name="certificates"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("出具时间"), default=timezone.now)
    verified_minutes = models.BigIntegerField(_("核验时长（分钟）"))
    recorded_minutes = models.BigIntegerField(_("补录时长（分钟）"))
    services = models.PositiveIntegerField(_("服务次数"))
    snapshot = models.JSONField(_("证明内容"))
    content_hash = models.CharField(max_length=64)

    SCOPE_NODE_FIELD = "volunteer__station"
    SCOPE_OWNER_FIELD = "volunteer__user"

    class Meta:
        verbose_name = _("志愿服务记录证明")
        verbose_name_plural = _("志愿服务记录证明")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="ledger_certificate_period"
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "issued_at"], name="ledger_cert_vol_issued")]

    def __str__(self):
        return self.number

    @property
    def total_minutes(self) -> int:
        return self.verified_minutes + self.recorded_minutes
