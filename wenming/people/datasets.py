"""Excel ledgers of volunteers and teams (registered with the core Excel engine in ready()).

Volunteers are the big ledger (a township imports its whole roll at once): a chunk of rows
is validated exactly as `register_volunteer` validates one (volunteer_fields, the scope
check, the ID-number blind index for duplicates), numbers are reserved in one block and
the rows, their skills and their audit entries are written with bulk inserts. If the
block fails (someone registered the same person meanwhile), each row of the chunk is
registered on its own through `register_volunteer`, in its own savepoint.
"""

import logging
import re

from django.db import transaction
from django.utils import timezone, translation
from stdnum.cn import ric

from wenming.core import pii
from wenming.core.audit import current_ip
from wenming.core.errors import Conflict, InvalidInput
from wenming.core.excel import (
    CellInvalid,
    Column,
    Dataset,
    ImportContext,
    Row,
    Skip,
    batched,
    boolean,
    bulk_insert,
    check_node_name,
    choice,
    digits_text,
    division_code,
    integer,
    register_dataset,
    split_list,
)
from wenming.core.models import AuditEntry, OrgNode, Skill
from wenming.core.scoping import require_manager, scoped, scoped_within
from wenming.core.services import reserve_in_sequence
from wenming.core.validators import validate_phone
from wenming.org.models import Platform, SocialOrganization

from .models import Team, Volunteer
from .services import (
    AVAILABILITY,
    VolunteerData,
    create_team,
    register_volunteer,
    registration_snapshot,
    volunteer_fields,
    volunteer_number,
)
from .signals import volunteers_bulk_registered

log = logging.getLogger(__name__)

ALREADY_REGISTERED = "已注册，跳过。"
CHUNK = 2000

with translation.override("zh-hans"):
    POLITICAL_LABELS = {value: str(label) for value, label in Volunteer.Political.choices}
    GENDER_LABELS = {value: str(label) for value, label in Volunteer.Gender.choices}
    SOURCE_LABELS = {value: str(label) for value, label in Volunteer.Source.choices}
POLITICAL_OPTIONS = {label: value for value, label in POLITICAL_LABELS.items()} | {
    "党员": "cpc", "预备党员": "cpc_probation", "团员": "cyl"}
AVAILABILITY_OPTIONS = {label: key for key, label in AVAILABILITY.items()}


ID_RE = re.compile(r"\d{17}[\dX]")
id_text = digits_text("身份证号码")


def id_number(value) -> str:
    """Format and check digit at the cell (so a row shows all its errors at once); the full check
    (region, birth date, age) is volunteer_fields's, as for any registration."""
    number = id_text(value)
    if not ID_RE.fullmatch(number):
        raise InvalidInput("身份证号码须为18位，前17位为数字，末位为数字或X。", code="id_number_format")
    if ric.calc_check_digit(number) != number[-1]:
        raise InvalidInput("身份证号码校验位不正确，请核对。", code="id_number_checksum")
    return number


def phone(value) -> str:
    return validate_phone(str(value if not isinstance(value, float) else int(value)))


def availability(value) -> list[str]:
    parse = choice(AVAILABILITY_OPTIONS)
    return list(dict.fromkeys(parse(part) for part in split_list(value)))


def skills_of(ctx: ImportContext, key: str, names: list[str] | None) -> list[Skill]:
    """The configured skills named in a cell (refuses a name that is not configured)."""
    if not names:
        return []
    known = ctx.cache.get("skills")
    if known is None:
        known = ctx.cache["skills"] = {s.name: s for s in Skill.objects.all()}
    unknown = [n for n in names if n not in known]
    if unknown:
        shown = "、".join(list(known)[:15]) or "（尚未配置技能）"
        raise CellInvalid(key, f"技能“{'、'.join(unknown)[:40]}”不在技能列表中（可选：{shown}）。", code="skill_unknown")
    return [known[n] for n in dict.fromkeys(names)]


def skill_names_by(through_model, owner_field: str, ids: list[int]) -> dict[int, list[str]]:
    """Skill names of a chunk of rows in one query: owner id → names in the configured order."""
    names = {}
    rows = (through_model.objects.filter(**{f"{owner_field}__in": ids})
            .order_by("skill__ordering", "skill_id").values_list(owner_field, "skill__name"))
    for owner, name in rows:
        names.setdefault(owner, []).append(name)
    return names


def station_of(ctx: ImportContext, values: dict) -> OrgNode:
    code = values["station_code"]
    node = ctx.node(code)
    if node is None:
        raise CellInvalid("station_code", f"找不到区划代码为{code}的实践站。", code="node_not_found")
    if node.kind != OrgNode.Kind.STATION:
        raise CellInvalid("station_code", f"区划代码{code}是“{node.name}”（{node.kind_label}），"
                                          "志愿者须归属村（社区）实践站。", code="station_invalid")
    check_node_name(values, "station_name", node)
    return node


# --- Volunteers ---------------------------------------------------------------------------------

VOLUNTEER_COLUMNS = [
    Column("志愿者编号", "number", imported=False, width=17),
    Column("姓名", "name", required=True, max_chars=50, width=10),
    Column("身份证号码", "id_number", required=True, parse=id_number, width=21,
           help="18位居民身份证号码，请以文本格式填写；性别和出生日期由号码得出。"),
    Column("性别", "gender", imported=False, width=6),
    Column("出生日期", "birth_date", imported=False, kind="date", width=12),
    Column("手机号码", "phone", required=True, parse=phone, width=14, help="11位手机号码。"),
    Column("所属实践站区划代码", "station_code", required=True, parse=division_code, width=16,
           help="村（社区）新时代文明实践站的12位区划代码，须在您的管辖范围内。"),
    Column("所属实践站", "station_name", max_chars=100, width=24, help="选填；填写时须与区划代码对应的实践站名称一致。"),
    Column("政治面貌", "political", parse=choice(POLITICAL_OPTIONS), width=12,
           choices=tuple(POLITICAL_LABELS.values()), help="可选：" + "、".join(POLITICAL_LABELS.values()) + "；不填为群众。"),
    Column("技能", "skills", parse=split_list, width=20, help="多个技能用顿号“、”分隔，须为平台已配置的技能。"),
    Column("可服务时间", "availability", parse=availability, width=16,
           help="可选：" + "、".join(AVAILABILITY.values()) + "，多个用顿号分隔。"),
    Column("监护人姓名", "guardian_name", max_chars=50, width=10, help="未满18周岁的志愿者必填。"),
    Column("监护人电话", "guardian_phone", parse=phone, width=14, help="未满18周岁的志愿者必填。"),
    Column("已书面同意", "consent", required=True, parse=boolean, width=10, choices=("是", "否"),
           help="本人（未满18周岁为监护人）已书面签署《志愿服务协议》和《个人信息保护政策》，填“是”。"),
    Column("注册时间", "created_at", imported=False, kind="datetime", width=17),
    Column("来源", "source", imported=False, width=10),
]

VOLUNTEER_ERRORS = {
    "name_missing": "name", "name_invalid": "name",
    "id_number_missing": "id_number", "id_number_format": "id_number", "id_number_checksum": "id_number",
    "id_number_component": "id_number", "id_number_invalid": "id_number", "id_number_future_birth": "id_number",
    "too_young": "id_number", "phone_format": "phone",
    "station_invalid": "station_code", "out_of_scope": "station_code", "role_forbidden": "station_code",
    "political_status_invalid": "political", "availability_invalid": "availability",
    "consent_missing": "consent", "guardian_required": "guardian_name",
}


def volunteer_data(ctx: ImportContext, values: dict) -> VolunteerData:
    """One sheet row as a registration (the same data a console form would give)."""
    station = station_of(ctx, values)
    require_manager(ctx.user, station)
    consent = bool(values.get("consent"))
    if not consent:
        raise CellInvalid("consent", "须取得本人（未满18周岁为监护人）书面同意《志愿服务协议》和《个人信息保护政策》后"
                                     "才能登记。", code="consent_missing")
    return VolunteerData(
        name=values.get("name") or "",
        id_number=values.get("id_number") or "",
        phone=values.get("phone") or "",
        station=station,
        political_status=values.get("political") or Volunteer.Political.MASSES,
        skills=skills_of(ctx, "skills", values.get("skills")),
        availability=values.get("availability") or [],
        agreement_consent=consent,
        privacy_consent=consent,
        guardian_name=values.get("guardian_name") or "",
        guardian_phone=values.get("guardian_phone") or "",
        guardian_consent=consent,
    )


def import_volunteers(ctx: ImportContext, rows: list[Row]) -> None:
    built, now = [], timezone.now()
    today = timezone.localdate(now)
    for row in rows:
        try:
            data = volunteer_data(ctx, row.values)
            built.append((row, data, volunteer_fields(data, today, now)))
        except Exception as exc:  # the row's error, with its column
            ctx.fail_with(row, exc)
    if not built:
        return
    known = registered_among([v["id_number_index"] for _, _, v in built])
    fresh = []
    for row, data, volunteer in built:
        if volunteer["id_number_index"] in known:
            ctx.skipped(row, ALREADY_REGISTERED)
        else:
            fresh.append((row, data, volunteer))
    if ctx.dry_run or not fresh:
        for row, _, _ in fresh:
            ctx.imported(row)
        return
    try:
        with transaction.atomic():
            save_volunteers(ctx.user, fresh)
    except Exception:  # a conflict in the block: register row by row, each on its own
        log.info("bulk volunteer import fell back to one-by-one", exc_info=True)
        register_one_by_one(ctx, fresh)
    else:
        for row, _, _ in fresh:
            ctx.imported(row)


def registered_among(indexes: list[str]) -> set[str]:
    """Which of these ID-number blind indexes are already registered (one query)."""
    return set(Volunteer.objects.filter(id_number_index__in=indexes).values_list("id_number_index", flat=True))


def save_volunteers(user, fresh: list[tuple[Row, VolunteerData, dict]]) -> None:
    """Write a block of validated volunteers (rows from volunteer_fields): one block of numbers, the
    rows, their skills and one audit entry each (as register_volunteer writes them, with masked
    numbers only)."""
    first = reserve_in_sequence("volunteer_number", len(fresh))
    now = timezone.now()
    for i, (_, _, volunteer) in enumerate(fresh):
        volunteer.update(number=volunteer_number(first + i), source=Volunteer.Source.IMPORT, registered_by_id=user.pk,
                         created_at=now)
    bulk_insert(Volunteer, [v for _, _, v in fresh])
    volunteers_bulk_registered.send(Volunteer, rows=[(v["station_id"], v["created_at"]) for _, _, v in fresh])
    ids = dict(Volunteer.objects.filter(number__gte=fresh[0][2]["number"], number__lte=fresh[-1][2]["number"])
               .values_list("number", "id"))
    link_skills([(ids[v["number"]], s.pk) for (_, data, v) in fresh for s in data.skills])
    ip, name = current_ip.get(), str(user)
    bulk_insert(AuditEntry, [
        {"actor_id": user.pk, "actor_name": name, "action": "volunteer.register", "object_type": "people.volunteer",
         "object_id": str(ids[v["number"]]), "object_repr": f"{v['name']}（{v['number']}）"[:200],
         "after": registration_snapshot(v, data.station, data.skills), "note": "Excel批量导入", "ip": ip}
        for _, data, v in fresh
    ])


def link_skills(pairs: list[tuple[int, int]]) -> None:
    bulk_insert(Volunteer.skills.through, [{"volunteer_id": v, "skill_id": s} for v, s in pairs])


def register_one_by_one(ctx: ImportContext, fresh) -> None:
    for row, data, _ in fresh:
        try:
            with transaction.atomic():
                register_volunteer(ctx.user, data, source=Volunteer.Source.IMPORT)
        except Conflict as exc:
            if exc.code == "already_registered":
                ctx.skipped(row, ALREADY_REGISTERED)
            else:
                ctx.fail_with(row, exc)
        except Exception as exc:
            ctx.fail_with(row, exc)
        else:
            ctx.imported(row)


def export_volunteers(user, *, full: bool = False, within: OrgNode | None = None):
    """Volunteers in reach, in the columns above; numbers masked unless `full` (the caller checks
    that the role may see them, and the export is audited)."""
    secret = ("id_number_enc", "phone_enc", "guardian_phone_enc") if full else \
             ("id_number_masked", "phone_masked", "guardian_phone_masked")
    fields = ("id", "number", "name", secret[0], "gender", "birth_date", secret[1], "station__division_code",
              "station__name", "political_status", "availability", "guardian_name", secret[2], "created_at", "source")
    rows = scoped_within(Volunteer.objects.all(), user, within).order_by("id").values_list(*fields).iterator(chunk_size=CHUNK)
    reveal = pii.decrypt if full else (lambda value: value)
    through = Volunteer.skills.through
    for chunk in batched(rows, CHUNK):
        skills = skill_names_by(through, "volunteer_id", [r[0] for r in chunk])
        for (pk, number, name, id_number, gender, birth, phone_, code, station, political, avail, guardian,
             guardian_phone, created, source) in chunk:
            yield (
                # A masked export leaves the birth date out: it is the very digits the mask hides.
                number, name, reveal(id_number), GENDER_LABELS.get(gender, gender), birth if full else None,
                reveal(phone_), code,
                station, POLITICAL_LABELS.get(political, political), "、".join(skills.get(pk, ())),
                "、".join(AVAILABILITY.get(a, a) for a in avail or ()), guardian,
                reveal(guardian_phone) if guardian_phone else "", "是", created, SOURCE_LABELS.get(source, source),
            )


VOLUNTEERS = register_dataset(Dataset(
    name="volunteers",
    title="志愿者",
    columns=VOLUNTEER_COLUMNS,
    import_batch=import_volunteers,
    export_rows=export_volunteers,
    export_count=lambda user, within=None: scoped_within(Volunteer.objects.all(), user, within).count(),
    key=lambda values: values.get("id_number"),
    audit_name="volunteer",
    error_columns=VOLUNTEER_ERRORS,
    reveals=True,
    template=[("张三", "43050219900101123X", "13800000000", "430502001001", "东风社区新时代文明实践站", "中共党员",
               "医疗护理、文艺演出", "周末、节假日", "", "", "是")],
    notes=["按身份证号码识别同一人：已注册的志愿者会跳过，不会重复登记，也不会修改已有信息。",
           "志愿者编号由系统生成；导出文件中的编号、性别、出生日期、注册时间、来源等列在导入时忽略。"],
))


# --- Teams ----------------------------------------------------------------------------------------

TEAM_COLUMNS = [
    Column("所属组织区划代码", "node_code", required=True, parse=division_code, width=16,
           help="队伍所属中心、所或站的12位区划代码，须在您的管辖范围内。"),
    Column("所属组织", "node_name", max_chars=100, width=24, help="选填；填写时须与区划代码对应的组织名称一致。"),
    Column("队伍名称", "name", required=True, max_chars=100, width=24),
    Column("所属平台", "platform", max_chars=50, width=16, help="选填；须为已配置的平台名称，如“传思想习理论”。"),
    Column("公益组织统一社会信用代码", "social_org", parse=digits_text("统一社会信用代码"), width=22,
           help="选填；队伍属于公益组织时填写该组织的18位统一社会信用代码（须已登记）。"),
    Column("队长志愿者编号", "leader", parse=digits_text("志愿者编号"), width=17,
           help="选填；队长须是本组织辖区内已注册的志愿者。"),
    Column("队长姓名", "leader_name", imported=False, width=10),
    Column("服务专长", "skills", parse=split_list, width=20, help="多个用顿号“、”分隔，须为平台已配置的技能。"),
    Column("可同时承接需求数", "capacity", parse=integer(1, 999), kind="integer", width=10, help="1至999的整数，不填为5。"),
    Column("简介", "description", max_chars=2000, width=40, help="不超过2000字。"),
    Column("队员人数", "member_count", imported=False, kind="integer", width=10),
]

TEAM_ERRORS = {"name_invalid": "name", "team_name_taken": "name", "leader_out_of_node": "leader",
               "out_of_scope": "node_code", "role_forbidden": "node_code"}


def import_team(ctx: ImportContext, values: dict) -> None:
    node = ctx.node(values["node_code"])
    if node is None:
        raise CellInvalid("node_code", f"找不到区划代码为{values['node_code']}的组织。", code="node_not_found")
    check_node_name(values, "node_name", node)
    require_manager(ctx.user, node)
    if Team.objects.filter(node=node, name=values["name"]).exists():
        raise Skip("本组织下已有同名队伍，跳过。")
    fields = {"platform": platform_of(ctx, values.get("platform")),
              "social_org": social_org_of(ctx, values.get("social_org")),
              "leader": leader_of(ctx, values.get("leader")),
              "description": values.get("description") or ""}
    if values.get("capacity") is not None:
        fields["capacity"] = values["capacity"]
    create_team(ctx.user, node, name=values["name"], skills=skills_of(ctx, "skills", values.get("skills")), **fields)


def platform_of(ctx: ImportContext, name: str | None):
    if not name:
        return None
    platforms = ctx.cache.get("platforms")
    if platforms is None:
        platforms = ctx.cache["platforms"] = {p.name: p for p in Platform.objects.all()}
    if name not in platforms:
        shown = "、".join(platforms) or "（尚未配置平台）"
        raise CellInvalid("platform", f"平台“{name[:30]}”不存在（可选：{shown}）。", code="platform_unknown")
    return platforms[name]


def social_org_of(ctx: ImportContext, code: str | None):
    if not code:
        return None
    org = scoped(SocialOrganization.objects.all(), ctx.user).filter(credit_code=code).first()
    if org is None:
        raise CellInvalid("social_org", f"找不到统一社会信用代码为{code[:18]}的公益组织（或不在您的管辖范围内）。",
                          code="social_org_unknown")
    return org


def leader_of(ctx: ImportContext, number: str | None):
    if not number:
        return None
    leader = scoped(Volunteer.objects.all(), ctx.user).filter(number=number).select_related("station").first()
    if leader is None:
        raise CellInvalid("leader", f"找不到志愿者编号为{number[:20]}的志愿者（或不在您的管辖范围内）。",
                          code="leader_unknown")
    return leader


def export_teams(user, *, full: bool = False, within: OrgNode | None = None):
    from django.db.models import Count

    fields = ("id", "node__division_code", "node__name", "name", "platform__name", "social_org__credit_code",
              "leader__number", "leader__name", "capacity", "description")
    rows = (scoped_within(Team.objects.all(), user, within).annotate(n=Count("members", distinct=True)).order_by("node__path", "id")
            .values_list(*fields, "n").iterator(chunk_size=CHUNK))
    through = Team.skills.through
    for chunk in batched(rows, CHUNK):
        skills = skill_names_by(through, "team_id", [r[0] for r in chunk])
        for pk, code, node, name, platform, credit, leader, leader_name, capacity, description, members in chunk:
            yield (code, node, name, platform, credit, leader, leader_name, "、".join(skills.get(pk, ())),
                   capacity, description, members)


TEAMS = register_dataset(Dataset(
    name="teams",
    title="志愿服务队",
    columns=TEAM_COLUMNS,
    import_row=import_team,
    export_rows=export_teams,
    export_count=lambda user, within=None: scoped_within(Team.objects.all(), user, within).count(),
    key=lambda values: (values.get("node_code"), values.get("name")),
    audit_name="team",
    error_columns=TEAM_ERRORS,
    template=[("430502001001", "东风社区新时代文明实践站", "东风社区红色宣讲志愿服务队", "传思想习理论", "", "",
               "理论宣讲、文艺演出", 5, "面向社区居民开展理论政策宣讲。")],
    notes=["同一组织下队伍名称相同即视为同一支队伍：已有的会跳过，不会重复创建，也不会修改。"],
))

