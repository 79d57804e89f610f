"""Use cases for platforms, social organisations, sites and contact points."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from wenming.core import audit
from wenming.core.errors import Conflict, InvalidInput
from wenming.core.models import Department, OrgNode, User
from wenming.core.scoping import require_manager
from wenming.core.validators import check_coordinates, validate_uscc

from .models import ContactPoint, GuidanceVisit, Platform, Site, SocialOrganization

SITE_FIELDS = ("name", "kind", "address", "lat", "lng", "radius_m")


def site_snapshot(s: Site) -> dict:
    return {"node": s.node.division_code, **{f: getattr(s, f) for f in SITE_FIELDS}}


def _check_site(site: Site) -> None:
    site.name = (site.name or "").strip()
    if not site.name or len(site.name) > 100:
        raise InvalidInput("阵地名称不能为空，且不超过100字。", code="name_invalid")
    if site.kind not in Site.Kind.values:
        raise InvalidInput("阵地类型不在可选范围内。", code="site_kind_invalid")
    check_coordinates(site.lat, site.lng)
    if not (10 <= (site.radius_m or 0) <= 5000):
        raise InvalidInput("签到半径须在10至5000米之间。", code="radius_invalid")
    if Site.objects.filter(node=site.node, name=site.name).exclude(pk=site.pk).exists():
        raise Conflict("本组织下已有同名阵地。", code="site_name_taken")


@transaction.atomic
def create_site(by: User, node: OrgNode, **fields) -> Site:
    require_manager(by, node)
    site = Site(node=node, **{k: v for k, v in fields.items() if k in SITE_FIELDS and v is not None})
    _check_site(site)
    site.save()
    audit.record(by, "site.create", site, after=site_snapshot(site))
    return site


@transaction.atomic
def update_site(by: User, site: Site, **fields) -> Site:
    require_manager(by, site.node)
    before = site_snapshot(site)
    for key, value in fields.items():
        if key in SITE_FIELDS:
            setattr(site, key, value)
    _check_site(site)
    site.save()
    old, new = audit.diff(before, site_snapshot(site))
    if new:
        audit.record(by, "site.update", site, before=old, after=new)
    return site


@transaction.atomic
def create_platform(by: User, *, name: str, lead_department: Department, description: str = "") -> Platform:
    require_manager(by)
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise InvalidInput("平台名称不能为空，且不超过50字。", code="name_invalid")
    if Platform.objects.filter(name=name).exists():
        raise Conflict("已有同名平台。", code="platform_name_taken")
    platform = Platform.objects.create(name=name, lead_department=lead_department, description=description[:2000])
    audit.record(by, "platform.create", platform, after={"name": name, "lead_department": lead_department.name})
    return platform


@transaction.atomic
def create_social_org(by: User, node: OrgNode, *, name: str, credit_code: str, contact: str = "", phone: str = "") -> SocialOrganization:
    require_manager(by, node)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("组织名称不能为空，且不超过100字。", code="name_invalid")
    code = validate_uscc(credit_code)
    if SocialOrganization.objects.filter(credit_code=code).exists():
        raise Conflict("该统一社会信用代码已登记。", code="credit_code_taken")
    org = SocialOrganization.objects.create(name=name, credit_code=code, node=node, contact=contact[:50], phone=phone[:20])
    audit.record(by, "social_org.create", org, after={"name": name, "credit_code": code})
    return org


@transaction.atomic
def create_contact_point(by: User, node: OrgNode, *, kind: str, party: str, party_title: str = "",
                         frequency_days: int = 30, started_on: date | None = None) -> ContactPoint:
    require_manager(by, node)
    if kind == ContactPoint.Kind.LEADER and node.kind != OrgNode.Kind.INSTITUTE:
        raise InvalidInput("区级领导联系点须为乡镇（街道）实践所。", code="contact_point_level")
    if kind == ContactPoint.Kind.UNIT and node.kind != OrgNode.Kind.STATION:
        raise InvalidInput("文明单位联系点须为村（社区）实践站。", code="contact_point_level")
    if kind not in ContactPoint.Kind.values:
        raise InvalidInput("联系点类型不在可选范围内。", code="contact_point_kind")
    party = (party or "").strip()
    if not party or len(party) > 100:
        raise InvalidInput("请填写联系的领导或文明单位（不超过100字）。", code="party_invalid")
    if not (1 <= frequency_days <= 366):
        raise InvalidInput("指导频次须在1至366天之间。", code="frequency_invalid")
    cp = ContactPoint.objects.create(
        kind=kind, party=party, party_title=party_title[:100], node=node, frequency_days=frequency_days,
        started_on=started_on or timezone.localdate(),
    )
    audit.record(by, "contact_point.create", cp, after={"kind": kind, "party": party, "node": node.division_code})
    return cp


@transaction.atomic
def log_guidance_visit(by: User, cp: ContactPoint, *, visited_on: date, summary: str) -> GuidanceVisit:
    require_manager(by, cp.node)
    summary = (summary or "").strip()
    if not summary:
        raise InvalidInput("请填写指导内容。", code="summary_missing")
    if len(summary) > 2000:
        raise InvalidInput("指导内容不超过2000字。", code="summary_too_long")
    if visited_on > timezone.localdate():
        raise InvalidInput("指导日期不能晚于今天。", code="visit_in_future")
    if visited_on < cp.started_on:
        raise InvalidInput("指导日期不能早于联系点建立日期。", code="visit_before_start")
    visit = GuidanceVisit.objects.create(contact_point=cp, visited_on=visited_on, summary=summary, recorded_by=by)
    audit.record(by, "contact_point.visit", cp, after={"visited_on": visited_on.isoformat()})
    return visit


def _text(value, limit: int, message: str, code: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        raise InvalidInput(message, code=code)
    return value


@transaction.atomic
def create_department(by: User, *, name: str, contact: str = "", phone: str = "") -> Department:
    """Add a district department (区直部门); district admin only."""
    require_manager(by)
    name = _text(name, 100, "部门名称不能为空，且不超过100字。", "name_invalid", required=True)
    contact = _text(contact, 50, "联系人不超过50字。", "contact_invalid")
    phone = _text(phone, 20, "联系电话不超过20个字符。", "phone_invalid")
    if Department.objects.filter(name=name).exists():
        raise Conflict("已有同名部门。", code="department_name_taken")
    dept = Department.objects.create(name=name, contact=contact, phone=phone)
    audit.record(by, "department.create", dept, after={"name": name, "contact": contact, "phone": phone})
    return dept


def platform_snapshot(p: Platform) -> dict:
    return {"name": p.name, "lead_department": p.lead_department.name, "description": p.description}


@transaction.atomic
def update_platform(by: User, platform: Platform, *, name: str | None = None,
                    lead_department: Department | None = None, description: str | None = None) -> Platform:
    require_manager(by)
    before = platform_snapshot(platform)
    if name is not None:
        name = _text(name, 50, "平台名称不能为空，且不超过50字。", "name_invalid", required=True)
        if Platform.objects.filter(name=name).exclude(pk=platform.pk).exists():
            raise Conflict("已有同名平台。", code="platform_name_taken")
        platform.name = name
    if lead_department is not None:
        platform.lead_department = lead_department
    if description is not None:
        platform.description = _text(description, 2000, "说明不超过2000字。", "description_invalid")
    platform.save()
    old, new = audit.diff(before, platform_snapshot(platform))
    if new:
        audit.record(by, "platform.update", platform, before=old, after=new)
    return platform


def social_org_snapshot(o: SocialOrganization) -> dict:
    return {"name": o.name, "credit_code": o.credit_code, "contact": o.contact, "phone": o.phone}


@transaction.atomic
def update_social_org(by: User, org: SocialOrganization, *, name: str | None = None, credit_code: str | None = None,
                      contact: str | None = None, phone: str | None = None) -> SocialOrganization:
    require_manager(by, org.node)
    before = social_org_snapshot(org)
    if name is not None:
        org.name = _text(name, 100, "组织名称不能为空，且不超过100字。", "name_invalid", required=True)
    if credit_code is not None:
        code = validate_uscc(credit_code)
        if SocialOrganization.objects.filter(credit_code=code).exclude(pk=org.pk).exists():
            raise Conflict("该统一社会信用代码已登记。", code="credit_code_taken")
        org.credit_code = code
    if contact is not None:
        org.contact = _text(contact, 50, "联系人不超过50字。", "contact_invalid")
    if phone is not None:
        org.phone = _text(phone, 20, "联系电话不超过20个字符。", "phone_invalid")
    org.save()
    old, new = audit.diff(before, social_org_snapshot(org))
    if new:
        audit.record(by, "social_org.update", org, before=old, after=new)
    return org


def contact_point_snapshot(cp: ContactPoint) -> dict:
    return {"party": cp.party, "party_title": cp.party_title, "frequency_days": cp.frequency_days}


@transaction.atomic
def update_contact_point(by: User, cp: ContactPoint, *, party: str | None = None, party_title: str | None = None,
                         frequency_days: int | None = None) -> ContactPoint:
    """Change who holds a link and how often they visit (its kind, node and start stay)."""
    require_manager(by, cp.node)
    before = contact_point_snapshot(cp)
    if party is not None:
        cp.party = _text(party, 100, "请填写联系的领导或文明单位（不超过100字）。", "party_invalid", required=True)
    if party_title is not None:
        cp.party_title = _text(party_title, 100, "职务不超过100字。", "party_title_invalid")
    if frequency_days is not None:
        if not (1 <= frequency_days <= 366):
            raise InvalidInput("指导频次须在1至366天之间。", code="frequency_invalid")
        cp.frequency_days = frequency_days
    cp.save()
    old, new = audit.diff(before, contact_point_snapshot(cp))
    if new:
        audit.record(by, "contact_point.update", cp, before=old, after=new)
    return cp
