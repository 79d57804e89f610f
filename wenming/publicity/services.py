"""Use cases of the media-reports ledger (宣传报道台账): enter, change and remove a report.

The only writers of `MediaReport`. Each runs in one transaction, checks that the account manages
the report's organisation (`require_manager`: district / institute / station admin, node in reach),
validates, refuses a second report of the same organisation with the same title and date
(`report_duplicate`), and writes its audit entry. The organisation's row is locked while the
duplicate check runs, so two people entering the same report at once cannot both succeed.

A related activity must be one the account can see (in its reach) and belong to the report's
organisation, to one above it or to one below it; a related project brand likewise, except that a
brand of an organisation above the account's reach (a district brand such as 七彩假期 run by every
station) may be used too — as when an activity is filed under a brand.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.activities.models import Activity, Brand
from wenming.core import audit
from wenming.core.errors import Conflict, Forbidden, InvalidInput
from wenming.core.models import OrgNode, User
from wenming.core.scoping import MANAGER_ROLES, in_reach, reach_paths, require_manager

from .models import MediaReport

EARLIEST = date(2000, 1, 1)
TITLE_MAX = MediaReport._meta.get_field("title").max_length  # 200
OUTLET_MAX = MediaReport._meta.get_field("outlet").max_length  # 100
URL_MAX = MediaReport._meta.get_field("url").max_length  # 500
NOTE_MAX = MediaReport._meta.get_field("note").max_length  # 500
FIELDS = ("title", "outlet", "level", "published_on", "url", "node", "activity", "brand", "note")

_spaces = re.compile(r"\s+")
_url_validator = URLValidator(schemes=["http", "https"])


@dataclass
class ReportData:
    """What a person enters for one report (the console form, the API body, an Excel row)."""

    title: str
    outlet: str
    level: str
    published_on: date
    node: OrgNode
    url: str = ""
    activity: Activity | None = None
    brand: Brand | None = None
    note: str = ""


# --- Who may write ------------------------------------------------------------------------------


def require_writer(user) -> None:
    """Refuse at once a role that writes nothing here (viewers, departments, team leaders, volunteers),
    before anything is looked up for it."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden(_("请先登录。"), code="not_authenticated", status=401)
    if not (user.is_superuser or user.role in MANAGER_ROLES):
        raise Forbidden(_("您的角色无权录入或修改宣传报道。"), code="role_forbidden")


def can_write(user) -> bool:
    try:
        require_writer(user)
    except Forbidden:
        return False
    return True


# --- Validation ---------------------------------------------------------------------------------


def clean_text(value) -> str:
    """One line of text: control characters (NUL …) and runs of white space become one space."""
    value = "" if value is None else str(value)
    value = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in value)
    return _spaces.sub(" ", value).strip()


def _title(value) -> str:
    title = clean_text(value)
    if not title:
        raise InvalidInput(_("请填写报道标题。"), code="title_required")
    if len(title) > TITLE_MAX:
        raise InvalidInput(_("报道标题不能超过%(n)d字（现为%(m)d字）。") % {"n": TITLE_MAX, "m": len(title)},
                           code="title_too_long")
    return title


def _outlet(value) -> str:
    outlet = clean_text(value)
    if not outlet:
        raise InvalidInput(_("请填写刊发媒体。"), code="outlet_required")
    if len(outlet) > OUTLET_MAX:
        raise InvalidInput(_("媒体名称不能超过%(n)d字（现为%(m)d字）。") % {"n": OUTLET_MAX, "m": len(outlet)},
                           code="outlet_too_long")
    return outlet


def _level(value) -> str:
    if value not in MediaReport.Level.values:
        shown = "、".join(str(label) for label in MediaReport.Level.labels)
        raise InvalidInput(_("报道级别须为以下之一：%(levels)s。") % {"levels": shown}, code="level_invalid")
    return value


def _published_on(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, date):
        raise InvalidInput(_("请填写刊发日期。"), code="published_on_required")
    if value > timezone.localdate():
        raise InvalidInput(_("刊发日期不能晚于今天。"), code="published_on_future")
    if value < EARLIEST:
        raise InvalidInput(_("刊发日期不能早于2000年1月1日。"), code="published_on_too_early")
    return value


def _url(value) -> str:
    url = (value or "").strip()
    if not url:
        return ""
    if len(url) > URL_MAX:
        raise InvalidInput(_("链接不能超过%(n)d个字符。") % {"n": URL_MAX}, code="url_too_long")
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        raise InvalidInput(_("链接中不能有空格或控制字符。"), code="url_invalid")
    try:
        _url_validator(url)
    except ValidationError:
        raise InvalidInput(_("链接须是以 http:// 或 https:// 开头的完整网址。"), code="url_invalid")
    return url


def _note(value) -> str:
    note = clean_text(value)
    if len(note) > NOTE_MAX:
        raise InvalidInput(_("备注不能超过%(n)d字。") % {"n": NOTE_MAX}, code="note_too_long")
    return note


def same_line(node: OrgNode, other: OrgNode) -> bool:
    """`other` is `node`, above it or below it."""
    return node.path.startswith(other.path) or other.path.startswith(node.path)


def brand_usable(user, brand: Brand) -> bool:
    """A brand of a node in the user's reach, or of a node above it (a district brand)."""
    if user.is_superuser:
        return True
    path = brand.node.path
    return any(p.startswith(path) or path.startswith(p) for p in reach_paths(user))


def _activity(user, node: OrgNode, activity: Activity | None) -> Activity | None:
    if activity is None:
        return None
    if not in_reach(user, activity.node):
        raise InvalidInput(_("所选活动不存在或不在您的管辖范围内。"), code="activity_invalid")
    if activity.status == Activity.Status.DRAFT:
        raise InvalidInput(_("所选活动还是草稿，尚未发布，不能关联报道。"), code="activity_draft")
    if not same_line(node, activity.node):
        raise InvalidInput(_("所选活动不属于报道所属组织或其上级、下级。"), code="activity_outside_node")
    return activity


def _brand(user, node: OrgNode, brand: Brand | None) -> Brand | None:
    if brand is None:
        return None
    if not brand_usable(user, brand):
        raise InvalidInput(_("所选项目品牌不存在或不在您的管辖范围内。"), code="brand_invalid")
    if not same_line(node, brand.node):
        raise InvalidInput(_("所选项目品牌不属于报道所属组织或其上级、下级。"), code="brand_outside_node")
    return brand


def _check(by, report: MediaReport) -> None:
    """Normalise and check every field of `report` (in place)."""
    report.title = _title(report.title)
    report.outlet = _outlet(report.outlet)
    report.level = _level(report.level)
    report.published_on = _published_on(report.published_on)
    report.url = _url(report.url)
    report.note = _note(report.note)
    report.activity = _activity(by, report.node, report.activity)
    report.brand = _brand(by, report.node, report.brand)


def _refuse_duplicate(report: MediaReport) -> None:
    # Lock the organisation's row while checking, so two identical entries at once cannot both pass
    # (PostgreSQL; SQLite's write transactions are serial anyway).
    list(OrgNode.objects.select_for_update(no_key=True).filter(pk=report.node_id).values_list("pk"))
    twin = duplicate_of(report.node, report.title, report.published_on, exclude=report.pk)
    if twin is not None:
        raise Conflict(
            _("%(node)s在%(day)s已有同一标题的报道（“%(title)s”，%(outlet)s），不能重复录入。") % {
                "node": report.node.name, "day": report.published_on.isoformat(), "title": twin.title[:40],
                "outlet": twin.outlet},
            code="report_duplicate", details={"id": twin.pk},
        )


def duplicate_of(node: OrgNode, title: str, published_on: date, *, exclude=None) -> MediaReport | None:
    """The report already entered for this organisation with this title on this date, if any."""
    qs = MediaReport.objects.filter(node=node, title=clean_text(title), published_on=published_on)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("id").first()


def snapshot(report: MediaReport) -> dict:
    return {
        "title": report.title, "outlet": report.outlet, "level": report.level,
        "published_on": report.published_on.isoformat() if report.published_on else None, "url": report.url,
        "node": report.node.division_code if report.node_id else None,
        "activity": report.activity_id, "brand": report.brand_id, "note": report.note,
    }


# --- Use cases ----------------------------------------------------------------------------------


@transaction.atomic
def create_report(by: User, data: ReportData) -> MediaReport:
    require_writer(by)
    if data.node is None:
        raise InvalidInput(_("请选择报道所属组织。"), code="node_required")
    require_manager(by, data.node)
    report = MediaReport(
        title=data.title, outlet=data.outlet, level=data.level, published_on=data.published_on, url=data.url,
        node=data.node, activity=data.activity, brand=data.brand, note=data.note,
        created_by=by if getattr(by, "pk", None) else None,
    )
    _check(by, report)
    _refuse_duplicate(report)
    report.save()
    audit.record(by, "media_report.create", report, after=snapshot(report))
    return report


@transaction.atomic
def update_report(by: User, report: MediaReport, **fields) -> MediaReport:
    """Change some fields (any of FIELDS); moving a report to another organisation needs both in reach.
    A refused change leaves `report` as it was."""
    require_writer(by)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise InvalidInput(_("不能修改的字段：%(fields)s。") % {"fields": "、".join(sorted(unknown))},
                           code="field_invalid")
    require_manager(by, report.node)
    if "node" in fields:
        if fields["node"] is None:
            raise InvalidInput(_("请选择报道所属组织。"), code="node_required")
        require_manager(by, fields["node"])
    before = snapshot(report)
    kept = {key: getattr(report, key) for key in FIELDS}
    try:
        _apply(by, report, fields)
    except Exception:
        for key, value in kept.items():
            setattr(report, key, value)
        raise
    report.save()
    old, new = audit.diff(before, snapshot(report))
    if new:
        audit.record(by, "media_report.update", report, before=old, after=new)
    return report


def _apply(by, report: MediaReport, fields: dict) -> None:
    for key, value in fields.items():
        setattr(report, key, value)
    # A link kept as it was is not checked again: an activity or brand linked before stays valid
    # even if it would no longer be offered (a brand moved, an activity out of the account's reach).
    keep_activity = "activity" not in fields and "node" not in fields
    keep_brand = "brand" not in fields and "node" not in fields
    activity, brand = report.activity, report.brand
    if keep_activity:
        report.activity = None
    if keep_brand:
        report.brand = None
    _check(by, report)
    if keep_activity:
        report.activity = activity
    if keep_brand:
        report.brand = brand
    _refuse_duplicate(report)


@transaction.atomic
def delete_report(by: User, report: MediaReport) -> None:
    require_writer(by)
    require_manager(by, report.node)
    before = snapshot(report)
    audit.record(by, "media_report.delete", report, before=before)
    report.delete()
