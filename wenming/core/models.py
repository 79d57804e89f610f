"""Core data: the organisation tree, departments, skills, accounts, tokens, audit."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class OrgNode(MP_Node):
    """A practice organisation: centre (中心) → institute (所) → station (站).

    Materialised path: a subtree is one indexed prefix query on `path`.
    """

    class Kind(models.TextChoices):
        CENTRE = "centre", _("新时代文明实践中心")
        INSTITUTE = "institute", _("新时代文明实践所")
        STATION = "station", _("新时代文明实践站")

    node_order_by = ["division_code"]

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    division_code = models.CharField(_("区划代码"), max_length=12, unique=True)
    secretary = models.CharField(_("负责书记"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    is_demonstration = models.BooleanField(_("示范点"), default=False)
    is_demo_data = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("实践组织")
        verbose_name_plural = _("实践组织")

    def __str__(self):
        return self.name

    @property
    def kind_label(self):
        return self.get_kind_display()


class Department(models.Model):
    """A district department (区直部门); leads platforms, receives escalated needs."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    contact = models.CharField(_("联系人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("区直部门")
        verbose_name_plural = _("区直部门")
        ordering = ["id"]

    def __str__(self):
        return self.name


class Skill(models.Model):
    """The configurable list of volunteer skills (and team specialities)."""

    name = models.CharField(_("技能"), max_length=30, unique=True)
    ordering = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        ordering = ["ordering", "id"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A console or mobile account with one role and one or more scope nodes."""

    class Role(models.TextChoices):
        DISTRICT_ADMIN = "district_admin", _("区文明办管理员")
        INSTITUTE_ADMIN = "institute_admin", _("实践所管理员")
        STATION_ADMIN = "station_admin", _("实践站管理员/帮办员")
        DEPARTMENT = "department", _("区直部门")
        TEAM_LEADER = "team_leader", _("志愿服务队队长")
        VOLUNTEER = "volunteer", _("志愿者")
        VIEWER = "viewer", _("区级领导/查看者")

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.VOLUNTEER)
    scopes = models.ManyToManyField(OrgNode, verbose_name=_("管辖范围"), blank=True, related_name="accounts")
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), null=True, blank=True, on_delete=models.PROTECT
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    is_demo_data = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self):
        return self.display_name or self.username


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=50)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")
        ordering = ["-created_at"]

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "wm_" + secrets.token_urlsafe(32)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Counter(models.Model):
    """Named sequences (volunteer numbers …), advanced under a row lock."""

    name = models.CharField(max_length=50, unique=True)
    value = models.BigIntegerField(default=0)


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改。")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除。")


class AuditEntry(models.Model):
    """Append-only audit trail. The application can add entries, never change or remove them.

    On PostgreSQL a trigger refuses UPDATE and DELETE as well (migration 0002).
    """

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, verbose_name=_("操作人"), null=True, on_delete=models.DO_NOTHING, db_constraint=False)
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=50, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=50, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=40, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除。")


OrgNode.SCOPE_NODE_FIELD = ""
Department.SCOPE_NODE_FIELD = None
Skill.SCOPE_NODE_FIELD = None
