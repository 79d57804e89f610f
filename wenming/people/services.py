"""Use cases for volunteers and teams. The only place that writes them."""

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from wenming.core import audit, pii, ratelimit
from wenming.core.errors import Conflict, Forbidden, InvalidInput
from wenming.core.models import OrgNode, Skill, User
from wenming.core.scoping import can_reveal, in_reach, require_manager
from wenming.core.services import reserve_in_sequence
from wenming.core.validators import birth_date_and_gender, validate_id_number, validate_phone

from .models import Team, TeamMembership, Volunteer

MIN_AGE = 14
ADULT_AGE = 18
AVAILABILITY = {"weekday": "工作日", "weekend": "周末", "evening": "晚间", "holiday": "节假日"}
DUPLICATE_MESSAGE = "该证件号码已注册为志愿者，不能重复注册。如需帮助，请联系您所在的实践站。"


@dataclass
class VolunteerData:
    """What a registration carries, from any channel (phone page, console, Excel, API)."""

    name: str
    id_number: str
    phone: str
    station: OrgNode | None
    political_status: str = Volunteer.Political.MASSES
    skills: list[Skill] = field(default_factory=list)
    availability: list[str] = field(default_factory=list)
    agreement_consent: bool = False
    privacy_consent: bool = False
    guardian_name: str = ""
    guardian_phone: str = ""
    guardian_consent: bool = False


# Surnames read differently from the same character in ordinary words (曾 zeng, not ceng),
# compound surnames first. pypinyin reads characters as words; a name starts with a surname.
SURNAME_READINGS = {
    "尉迟": ["yu", "chi"], "万俟": ["mo", "qi"], "单于": ["chan", "yu"], "长孙": ["zhang", "sun"],
    "曾": ["zeng"], "单": ["shan"], "解": ["xie"], "仇": ["qiu"], "区": ["ou"], "朴": ["piao"],
    "翟": ["zhai"], "缪": ["miao"], "盖": ["ge"], "查": ["zha"], "覃": ["qin"], "乐": ["yue"],
    "秘": ["bi"], "召": ["shao"], "黑": ["he"], "折": ["she"], "员": ["yun"], "种": ["chong"],
    "繁": ["po"], "句": ["gou"], "能": ["nai"], "隗": ["wei"], "长": ["chang"], "重": ["chong"],
    "沈": ["shen"], "贾": ["jia"], "薄": ["bo"], "牟": ["mu"], "粘": ["nian"], "蕃": ["pi"],
}


SURNAMES_LONGEST_FIRST = sorted(SURNAME_READINGS, key=len, reverse=True)  # 欧阳 before 欧


@lru_cache(maxsize=65536)  # a pure function of the name, and names repeat across an import
def name_pinyin(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name (曾北斗 → "zengbeidou", "zbd")."""
    head: list[str] = []
    for surname in SURNAMES_LONGEST_FIRST:
        if name.startswith(surname) and len(name) > len(surname):
            head, name = SURNAME_READINGS[surname], name[len(surname):]
            break
    # Imported here: pypinyin's dictionaries hold ~55 MB, which a process that never reads a new
    # name (an export, most requests) should not carry.
    from pypinyin import Style, lazy_pinyin

    rest = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    syllables = [s for s in head + rest if s.isascii() and s]
    return "".join(syllables).lower(), "".join(s[0] for s in syllables).lower()


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


POLITICAL_STATUSES = frozenset(Volunteer.Political.values)  # the enum rebuilds its list on every access


def volunteer_fields(data: VolunteerData, today: date | None = None, now: datetime | None = None) -> dict:
    """Validate a registration and return the row to write, as attname → value (an import writes
    these without building a model instance per row). Raises InvalidInput with a Chinese message.
    An import passes one `today` and `now` (the consent time) for its whole block."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    name = (data.name or "").strip()
    if not name:
        raise InvalidInput("请填写姓名。", code="name_missing")
    if len(name) > 50 or any(c in name for c in "<>\"'&;\\/\n\r\t") or not any(c.isalpha() for c in name):
        raise InvalidInput("姓名须为不超过50个字的文字，不能含特殊符号。", code="name_invalid")
    number = validate_id_number(data.id_number, today)
    phone = validate_phone(data.phone)
    if data.station is None or data.station.kind != OrgNode.Kind.STATION:
        raise InvalidInput("请选择所属的新时代文明实践站。", code="station_invalid")
    if data.political_status not in POLITICAL_STATUSES:
        raise InvalidInput("政治面貌不在可选范围内。", code="political_status_invalid")
    unknown = [a for a in data.availability if a not in AVAILABILITY]
    if unknown:
        raise InvalidInput(f"可服务时间不在可选范围内：{'、'.join(unknown)}。", code="availability_invalid")
    if not (data.agreement_consent and data.privacy_consent):
        raise InvalidInput("须同意《志愿服务协议》和《个人信息保护政策》后才能注册。", code="consent_missing")
    birth, gender = birth_date_and_gender(number)
    age = age_on(birth, today)
    if age < MIN_AGE:
        raise InvalidInput("未满14周岁不能注册为志愿者。", code="too_young")
    full, initials = name_pinyin(name)
    fields = {
        "name": name,
        "name_pinyin": full,
        "name_initials": initials,
        "gender": gender,
        "birth_date": birth,
        "id_number_enc": pii.encrypt(number),
        "id_number_index": pii.blind_index(number, "id"),
        "id_number_masked": pii.mask_id_number(number),
        "phone_enc": pii.encrypt(phone),
        "phone_index": pii.blind_index(phone, "phone"),
        "phone_masked": pii.mask_phone(phone),
        "political_status": data.political_status,
        "station_id": data.station.pk,
        "availability": list(dict.fromkeys(data.availability)),
        "agreement_consent_at": now,
        "privacy_consent_at": now,
    }
    if age < ADULT_AGE:
        guardian = (data.guardian_name or "").strip()
        if not guardian or not data.guardian_phone or not data.guardian_consent:
            raise InvalidInput(
                "未满18周岁的志愿者须填写监护人姓名、电话，并取得监护人同意。", code="guardian_required"
            )
        guardian_phone = validate_phone(data.guardian_phone)
        fields.update(guardian_name=guardian[:50], guardian_phone_enc=pii.encrypt(guardian_phone),
                      guardian_phone_masked=pii.mask_phone(guardian_phone), guardian_consent_at=now)
    return fields


def build_volunteer(data: VolunteerData, today: date | None = None, now: datetime | None = None) -> Volunteer:
    """Validate a registration and build the (unsaved) volunteer."""
    volunteer = Volunteer(**volunteer_fields(data, today, now))
    volunteer.station = data.station  # the instance the caller holds, not a fetch
    return volunteer


def volunteer_number(seq: int) -> str:
    """志愿者编号: the district's 6-digit code and an 8-digit sequence."""
    return f"{settings.WENMING_DISTRICT_CODE}{seq:08d}"


def register_volunteer(by: User | None, data: VolunteerData, source: str = Volunteer.Source.CONSOLE) -> Volunteer:
    """Register one volunteer: self-registration (by=None or their own account) or entry by an admin."""
    if source != Volunteer.Source.SELF:
        require_manager(by, data.station)
    volunteer = build_volunteer(data)
    if Volunteer.objects.filter(id_number_index=volunteer.id_number_index).exists():
        raise Conflict(DUPLICATE_MESSAGE, code="already_registered")
    volunteer.source = source
    volunteer.registered_by = by if getattr(by, "pk", None) else None
    try:
        with transaction.atomic():
            volunteer.number = volunteer_number(reserve_in_sequence("volunteer_number", 1))
            volunteer.save()
            volunteer.skills.set(data.skills)
            audit.record(by, "volunteer.register", volunteer, after=volunteer_snapshot(volunteer))
    except IntegrityError:
        # Two registrations of one ID number at once: the unique blind index lets only one through.
        raise Conflict(DUPLICATE_MESSAGE, code="already_registered")
    return volunteer


def volunteer_snapshot(v: Volunteer) -> dict:
    """What the audit trail keeps of a volunteer: masked numbers only."""
    return registration_snapshot(
        {"number": v.number, "name": v.name, "id_number_masked": v.id_number_masked, "phone_masked": v.phone_masked,
         "political_status": v.political_status, "availability": v.availability},
        v.station, v.skills.all() if v.pk else [],
    )


def registration_snapshot(fields: dict, station: OrgNode, skills) -> dict:
    """The audit snapshot of a volunteer's row (attname → value), station and skills."""
    return {
        "number": fields["number"],
        "name": fields["name"],
        "id_number": fields["id_number_masked"],
        "phone": fields["phone_masked"],
        "political_status": fields["political_status"],
        "station": station.division_code,
        "availability": fields["availability"],
        "skills": sorted(s.name for s in skills),
    }


@transaction.atomic
def update_volunteer(by: User, volunteer: Volunteer, *, phone=None, political_status=None, station=None,
                     skills=None, availability=None) -> Volunteer:
    """Change what may change after registration (name, ID, birth date and gender come from the ID number)."""
    is_self = by.is_authenticated and volunteer.user_id == by.pk
    if not is_self:
        require_manager(by, volunteer.station)
    before = volunteer_snapshot(volunteer)
    if phone is not None:
        phone = validate_phone(phone)
        volunteer.phone_enc = pii.encrypt(phone)
        volunteer.phone_index = pii.blind_index(phone, "phone")
        volunteer.phone_masked = pii.mask_phone(phone)
    if political_status is not None:
        if political_status not in Volunteer.Political.values:
            raise InvalidInput("政治面貌不在可选范围内。", code="political_status_invalid")
        volunteer.political_status = political_status
    if station is not None:
        if station.kind != OrgNode.Kind.STATION:
            raise InvalidInput("请选择新时代文明实践站。", code="station_invalid")
        if not is_self:
            require_manager(by, station)
        volunteer.station = station
    if availability is not None:
        unknown = [a for a in availability if a not in AVAILABILITY]
        if unknown:
            raise InvalidInput(f"可服务时间不在可选范围内：{'、'.join(unknown)}。", code="availability_invalid")
        volunteer.availability = list(dict.fromkeys(availability))
    volunteer.save()
    if skills is not None:
        volunteer.skills.set(skills)
    old, new = audit.diff(before, volunteer_snapshot(volunteer))
    if new:
        audit.record(by, "volunteer.update", volunteer, before=old, after=new)
    return volunteer


REVEALABLE = {"id_number": ("id_number_enc", "身份证号码"), "phone": ("phone_enc", "手机号码"),
              "guardian_phone": ("guardian_phone_enc", "监护人电话")}


def reveal_volunteer_field(by: User, volunteer: Volunteer, which: str) -> str:
    """Show one full number of one volunteer to a role that may see it; every reveal is audited."""
    if which not in REVEALABLE:
        raise InvalidInput("不支持查看该字段。", code="field_invalid")
    if not can_reveal(by) or not in_reach(by, volunteer.station):
        raise Forbidden("您无权查看完整的个人信息。", code="reveal_forbidden")
    column, label = REVEALABLE[which]
    encrypted = getattr(volunteer, column)
    if not encrypted:
        raise InvalidInput(f"该志愿者没有{label}。", code="field_empty")
    audit.record(by, "volunteer.reveal", volunteer, note=f"查看完整{label}")
    return pii.decrypt(encrypted)


def find_by_id_number(number: str):
    try:
        number = validate_id_number(number)
    except InvalidInput:
        return Volunteer.objects.none()
    return Volunteer.objects.filter(id_number_index=pii.blind_index(number, "id"))


# --- Teams -----------------------------------------------------------------

TEAM_FIELDS = ("name", "platform", "social_org", "leader", "description", "capacity")


def team_snapshot(t: Team) -> dict:
    return {
        "name": t.name, "node": t.node.division_code, "platform": t.platform_id, "social_org": t.social_org_id,
        "leader": t.leader.number if t.leader_id else None, "capacity": t.capacity,
        "skills": sorted(s.name for s in t.skills.all()) if t.pk else [],
    }


def _check_team(team: Team) -> None:
    team.name = (team.name or "").strip()
    if not team.name or len(team.name) > 100:
        raise InvalidInput("队伍名称不能为空，且不超过100字。", code="name_invalid")
    if team.leader_id and not in_reach_of_node(team.leader.station, team.node):
        raise InvalidInput("队长须是本组织辖区内的志愿者。", code="leader_out_of_node")
    if Team.objects.filter(node=team.node, name=team.name).exclude(pk=team.pk).exists():
        raise Conflict("本组织下已有同名队伍。", code="team_name_taken")


def in_reach_of_node(station: OrgNode, node: OrgNode) -> bool:
    return station.path.startswith(node.path)


@transaction.atomic
def create_team(by: User, node: OrgNode, *, skills=(), **fields) -> Team:
    require_manager(by, node)
    team = Team(node=node, **{k: v for k, v in fields.items() if k in TEAM_FIELDS})
    _check_team(team)
    team.save()
    team.skills.set(skills)
    if team.leader_id:
        TeamMembership.objects.get_or_create(team=team, volunteer=team.leader)
    audit.record(by, "team.create", team, after=team_snapshot(team))
    return team


@transaction.atomic
def update_team(by: User, team: Team, *, skills=None, **fields) -> Team:
    require_manager(by, team.node)
    before = team_snapshot(team)
    for key, value in fields.items():
        if key in TEAM_FIELDS:
            setattr(team, key, value)
    _check_team(team)
    team.save()
    if skills is not None:
        team.skills.set(skills)
    if team.leader_id:
        TeamMembership.objects.get_or_create(team=team, volunteer=team.leader)
    old, new = audit.diff(before, team_snapshot(team))
    if new:
        audit.record(by, "team.update", team, before=old, after=new)
    return team


@transaction.atomic
def add_team_member(by: User, team: Team, volunteer: Volunteer) -> None:
    require_manager(by, team.node)
    if not in_reach_of_node(volunteer.station, team.node) and not in_reach(by, volunteer.station):
        raise Forbidden("该志愿者不在您的管辖范围内。", code="out_of_scope")
    _, created = TeamMembership.objects.get_or_create(team=team, volunteer=volunteer)
    if not created:
        raise Conflict("该志愿者已是本队队员。", code="already_member")
    audit.record(by, "team.member_add", team, after={"volunteer": volunteer.number})


@transaction.atomic
def remove_team_member(by: User, team: Team, volunteer: Volunteer) -> None:
    require_manager(by, team.node)
    if team.leader_id == volunteer.pk:
        raise Conflict("不能移除队长，请先更换队长。", code="is_leader")
    deleted, _ = TeamMembership.objects.filter(team=team, volunteer=volunteer).delete()
    if not deleted:
        raise Conflict("该志愿者不是本队队员。", code="not_member")
    audit.record(by, "team.member_remove", team, after={"volunteer": volunteer.number})


# --- Flood protection of the public registration page -----------------------

SELF_REGISTRATION_WINDOW = 3600  # seconds


def self_registration_limit() -> int:
    """Registration attempts allowed per address per hour on the public page (setting, default 10)."""
    return int(getattr(settings, "WENMING_SELF_REGISTRATION_PER_HOUR", 10))


def check_self_registration_rate(ip: str) -> None:
    """Refuse further attempts from an address that used up this hour's allowance."""
    limit = self_registration_limit()
    ratelimit.check(
        "people:join", ip, limit=limit, window=SELF_REGISTRATION_WINDOW,
        message=f"提交过于频繁：同一网络每小时最多提交{limit}次注册申请。请一小时后再试，或到所在的实践站登记。",
    )


def note_self_registration_attempt(ip: str) -> None:
    ratelimit.hit("people:join", ip, window=SELF_REGISTRATION_WINDOW)


def self_register(ip: str, data: VolunteerData) -> Volunteer:
    """A resident registers themselves on the public page: rate-limited per address, then registered."""
    check_self_registration_rate(ip)
    note_self_registration_attempt(ip)
    return register_volunteer(None, data, source=Volunteer.Source.SELF)
