"""Residents' needs as an Excel ledger (registered with the core Excel engine in ready()).

Import is how a station admin or proxy (帮办员) enters needs gathered on paper: each row goes
through `services.submit_need(..., by=the importing account, source=IMPORT)`, exactly as a need
entered by hand (every check, the scope of the account, the timeline and the audit entry), in the
engine's per-row savepoint. A few hundred rows are expected, so one service call per row.

Re-importing the same file imports nothing twice: a row whose need was already imported — same
station, same phone (blind index), same category, same description, same wished-for time, source
Excel import — is skipped as 已导入过 and names the existing need's 查询码. The station's row is
locked (FOR NO KEY UPDATE, PostgreSQL) before that check, so two imports of one file at once wait
for each other instead of both writing; residents' own submissions are not held up by it.

Export: the same columns for the needs in the user's reach, phone numbers always masked (there is
no full-number export of needs), plus 查询码, 状态, 来源 and 点单时间, which an import ignores.
"""

import re
from datetime import date, datetime, time, timedelta

from django.utils import timezone, translation
from openpyxl.utils.datetime import from_excel

from wenming.core import pii
from wenming.core.errors import InvalidInput
from wenming.core.excel import (
    CHUNK_SIZE,
    CellInvalid,
    Column,
    Dataset,
    ImportContext,
    Skip,
    boolean,
    check_node_name,
    choice,
    division_code,
    register_dataset,
    text,
)
from wenming.core.models import OrgNode
from wenming.core.scoping import require_manager, scoped_within
from wenming.core.validators import validate_phone

from . import services
from .models import Need, NeedCategory

with translation.override("zh-hans"):
    URGENCY_LABELS = {value: str(label) for value, label in Need.Urgency.choices}
    STATE_LABELS = {value: str(label) for value, label in Need.State.choices}
    SOURCE_LABELS = {value: str(label) for value, label in Need.Source.choices}
URGENCY_OPTIONS = {label: value for value, label in URGENCY_LABELS.items()}

ARROW = "›"
ARROWS = re.compile(r"\s*[›>＞»》/／\\|]\s*")
DATE_TIME = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*T?\s*(\d{1,2})\s*[:：时点]\s*(?:(\d{1,2})\s*分?)?(?:\s*[:：]\s*(\d{1,2})\s*秒?)?)?"
)
WHOLE_DAY = time(23, 59)  # a date without a time: within that day (the finish deadline is the wished-for time)
EXCEL_SERIALS = (36526, 73051)  # 2000-01-01 … 2100-01-01 as Excel day numbers


# --- Cell parsers ----------------------------------------------------------------------------------


def phone(value) -> str:
    return validate_phone(text(value))


def _to_minute(moment: datetime) -> datetime:
    """Excel keeps times as fractions of a day: round to the minute (09:00 never reads as 08:59:59.999)."""
    return (moment + timedelta(seconds=30)).replace(second=0, microsecond=0)


def _whole_day(day: date) -> datetime:
    return datetime.combine(day, WHOLE_DAY)


def wished_time(value) -> datetime:
    """A date/time cell, an Excel day number or text like 2025-06-01 09:00, 2025/6/1, 2025年6月1日9时30分
    → a naive local time. A date alone (or a date cell at 00:00) means within that day (23:59)."""
    wrong = InvalidInput("期望服务时间格式不正确，请填写如“2025-06-01 09:00”的日期时间，或只填日期（如“2025-06-01”）。",
                         code="wished_at_format")
    if isinstance(value, bool):
        raise wrong
    if isinstance(value, (int, float)):
        if not EXCEL_SERIALS[0] <= value < EXCEL_SERIALS[1]:
            raise wrong
        value = from_excel(value)
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)
        return _whole_day(value.date()) if value.time() == time(0) else _to_minute(value)
    if isinstance(value, date):
        return _whole_day(value)
    if isinstance(value, time):
        raise InvalidInput("期望服务时间须包含日期（如“2025-06-01 09:00”）。", code="wished_at_format")
    match = DATE_TIME.fullmatch(text(value).strip())
    if match is None:
        raise wrong
    year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups())
    try:
        if hour is None:
            return _whole_day(date(year, month, day))
        return _to_minute(datetime(year, month, day, hour, minute or 0, second or 0))
    except ValueError:
        raise InvalidInput("期望服务时间不是有效的日期时间，请核对年月日和时分。", code="wished_at_format")


def category_text(value) -> str:
    return ARROWS.sub(ARROW, re.sub(r"\s+", " ", text(value)).strip())


# --- Columns ---------------------------------------------------------------------------------------

COLUMNS = [
    Column("查询码", "code", imported=False, width=11),
    Column("需求类别", "category", required=True, parse=category_text, max_chars=60, width=20,
           help="具体的子类别：写成“大类›子类”（如“助老助残›上门探访”），子类名称唯一时也可只写子类（如“上门探访”），"
                "或填类别编码（如“elderly-visit”）。可选类别见上方说明。"),
    Column("需求描述", "description", required=True, max_chars=1000, width=40,
           help="需要什么帮助，5至1000字。"),
    Column("所属实践站区划代码", "station_code", required=True, parse=division_code, width=16,
           help="需求所在村（社区）新时代文明实践站的12位区划代码，须在您的管辖范围内。"),
    Column("所属实践站", "station_name", max_chars=100, width=24,
           help="选填；填写时须与区划代码对应的实践站名称一致。"),
    Column("服务地址", "address", width=24, help="选填，不超过200字。"),
    Column("联系人", "contact_name", required=True, max_chars=50, width=10, help="群众姓名，不超过50字，不含特殊符号。"),
    Column("联系电话", "phone", required=True, parse=phone, width=14, help="11位手机号码，请以文本格式填写。"),
    Column("期望服务时间", "wished_at", parse=wished_time, kind="datetime", width=17,
           help="选填；日期时间单元格或文本，如“2025-06-01 09:00”；只填日期表示当天之内（按23:59计）；"
                "须在今后半年之内。"),
    Column("紧急程度", "urgency", parse=choice(URGENCY_OPTIONS), width=10, choices=tuple(URGENCY_LABELS.values()),
           help="可选：" + "、".join(URGENCY_LABELS.values()) + "；不填为“一般”。"),
    Column("微心愿", "is_wish", parse=boolean, width=8, choices=("是", "否"),
           help="是否作为微心愿发布到心愿墙（是/否），不填为“否”。"),
    Column("状态", "state", imported=False, width=10),
    Column("来源", "source", imported=False, width=12),
    Column("点单时间", "created_at", imported=False, kind="datetime", width=17),
]

ERROR_COLUMNS = {
    "category_invalid": "category",
    "description_invalid": "description",
    "station_invalid": "station_code", "out_of_scope": "station_code", "role_forbidden": "station_code",
    "address_invalid": "address",
    "contact_invalid": "contact_name",
    "phone_format": "phone",
    "wished_at_invalid": "wished_at",
    "urgency_invalid": "urgency",
}


# --- Import ----------------------------------------------------------------------------------------


class Categories:
    """The category list, read once per import: by code, by 大类›子类 and by a unique child name."""

    def __init__(self):
        rows = list(NeedCategory.objects.select_related("parent").order_by("sort_order", "id"))
        self.by_code = {c.code.lower(): c for c in rows}
        self.by_path = {f"{c.parent.name}{ARROW}{c.name}": c for c in rows if c.parent_id}
        self.by_name: dict[str, list[NeedCategory]] = {}
        for c in rows:
            self.by_name.setdefault(c.name, []).append(c)
        self.leaves = [c for c in rows if is_leaf(c)]

    def find(self, given: str) -> NeedCategory:
        found = self.by_code.get(given.lower()) or self.by_path.get(given)
        if found is None:
            named = self.by_name.get(given, [])
            leaves = [c for c in named if is_leaf(c)] or [c for c in named if c.parent_id]
            if len(leaves) > 1:
                shown = "、".join(f"{c.parent.name}{ARROW}{c.name}" for c in leaves)
                raise CellInvalid("category", f"有多个名为“{given}”的类别（{shown}），请写成“大类›子类”。",
                                  code="category_ambiguous")
            found = leaves[0] if leaves else (named[0] if named else None)
        if found is None:
            raise CellInvalid("category", f"找不到需求类别“{given[:30]}”（可选，例如：{self.examples()}）。",
                              code="category_invalid")
        if found.parent_id is None:
            child = next((c for c in self.leaves if c.parent_id == found.pk), None)
            example = f"，如“{found.name}{ARROW}{child.name}”" if child else ""
            raise CellInvalid("category", f"“{found.name}”是大类，请填写其下的具体子类{example}。",
                              code="category_invalid")
        if not is_leaf(found):
            raise CellInvalid("category", f"需求类别“{found.parent.name}{ARROW}{found.name}”已停用，请选择其他类别。",
                              code="category_invalid")
        return found

    def examples(self) -> str:
        return "、".join(label(c) for c in self.leaves[:6]) + ("等" if len(self.leaves) > 6 else "")


def is_leaf(category: NeedCategory) -> bool:
    """What a need may be filed under (as queries.leaf_categories): an active child of an active parent."""
    return category.active and category.parent_id is not None and category.parent.active


def label(category: NeedCategory) -> str:
    return f"{category.parent.name}{ARROW}{category.name}" if category.parent_id else category.name


def category_of(ctx: ImportContext, given: str) -> NeedCategory:
    known = ctx.cache.get("categories")
    if known is None:
        known = ctx.cache["categories"] = Categories()
    return known.find(given)


def station_of(ctx: ImportContext, values: dict) -> OrgNode:
    code = values["station_code"]
    node = ctx.node(code)
    if node is None:
        raise CellInvalid("station_code", f"找不到区划代码为{code}的实践站。", code="node_not_found")
    if node.kind != OrgNode.Kind.STATION:
        raise CellInvalid("station_code", f"区划代码{code}是“{node.name}”（{node.kind_label}），"
                                          "需求须归属村（社区）新时代文明实践站。", code="station_invalid")
    check_node_name(values, "station_name", node)
    return node


def already_imported(station: OrgNode, data: services.NeedData) -> Need | None:
    """The need this row already made (the natural key of an imported need), if any."""
    return (Need.objects.filter(
        station=station, source=Need.Source.IMPORT, category=data.category,
        phone_index=pii.blind_index(data.phone, "phone"), description=data.description.strip().replace("\x00", ""),
        wished_at=data.wished_at,
    ).only("code").order_by("id").first())


def import_need(ctx: ImportContext, values: dict) -> None:
    station = station_of(ctx, values)
    require_manager(ctx.user, station)  # before anything else: a row out of reach learns nothing more
    wished_at = values.get("wished_at")
    data = services.NeedData(
        category=category_of(ctx, values["category"]),
        description=values.get("description") or "",
        station=station,
        address=values.get("address") or "",
        contact_name=values.get("contact_name") or "",
        phone=values.get("phone") or "",
        wished_at=timezone.make_aware(wished_at) if wished_at is not None else None,
        urgency=values.get("urgency") or Need.Urgency.NORMAL,
        is_wish=bool(values.get("is_wish")),
    )
    # One import of this station's rows at a time (PostgreSQL; ignored where rows are not locked).
    list(OrgNode.objects.select_for_update(no_key=True).filter(pk=station.pk).values_list("pk"))
    existing = already_imported(station, data)
    if existing is not None:
        raise Skip(f"已导入过（查询码{existing.code}），跳过。")
    services.submit_need(data, by=ctx.user, source=Need.Source.IMPORT)


def key(values: dict):
    """The same need twice in one file: same station, phone, category, description and time."""
    return (values.get("station_code"), values.get("phone"), values.get("category"), values.get("description"),
            values.get("wished_at"))


# --- Export ----------------------------------------------------------------------------------------

FIELDS = ("code", "category__parent__name", "category__name", "description", "station__division_code",
          "station__name", "address", "contact_name", "phone_masked", "wished_at", "urgency", "is_wish", "state",
          "source", "created_at")


def needs_in_reach(user, within: OrgNode | None = None):
    return scoped_within(Need.objects.all(), user, within)


def export_needs(user, *, full: bool = False, within: OrgNode | None = None):
    """Needs in reach (by the node handling them), in the columns above; phones masked whatever `full`."""
    rows = (needs_in_reach(user, within).order_by("station__path", "created_at", "id").values_list(*FIELDS)
            .iterator(chunk_size=CHUNK_SIZE))
    for (code, parent, name, description, station_code, station, address, contact, phone_masked, wished_at, urgency,
         is_wish, state, source, created_at) in rows:
        yield (code, f"{parent}{ARROW}{name}" if parent else name, description, station_code, station, address,
               contact, phone_masked, wished_at, URGENCY_LABELS.get(urgency, urgency), "是" if is_wish else "否",
               STATE_LABELS.get(state, state), SOURCE_LABELS.get(source, source), created_at)


# --- The template ----------------------------------------------------------------------------------


class Live:
    """A list computed when it is read (the template's example and notes name today's categories
    and a wished-for time that is still ahead)."""

    def __init__(self, make):
        self.make = make

    def __iter__(self):
        return iter(self.make())

    def __len__(self):
        return len(self.make())

    def __bool__(self):
        return True


def example_rows() -> list[tuple]:
    soon = datetime.combine(timezone.localdate() + timedelta(days=7), time(9, 0))
    return [
        ("助老助残›上门探访", "独居老人行动不便，希望每周上门探访一次、陪同聊天", "430502001001", "东风社区新时代文明实践站",
         "东风路12号3栋201", "刘奶奶", "13812345678", soon, "一般", "否"),
        ("便民维修›家电维修", "家中洗衣机不能脱水，希望志愿者上门检修", "430502001001", "", "东风路8号1栋", "王大爷",
         "13912345678", "", "紧急", "否"),
    ]


FIXED_NOTES = [
    "同一实践站、同一联系电话、同一类别、同一需求描述和期望服务时间的需求视为同一条：已导入过的会跳过，不会重复导入。",
    "每行按帮办代点录入：导入后为“待审核”，来源记为“Excel导入”，代点人为导入的账号，时间线和操作记录与逐条录入相同。",
    "导出文件中的查询码、状态、来源、点单时间等列在导入时忽略；导出的联系电话已脱敏，不能直接再导入。",
]


def notes() -> list[str]:
    leaves = [c for c in NeedCategory.objects.select_related("parent")
              .order_by("parent__sort_order", "parent_id", "sort_order", "id") if is_leaf(c)]
    listed = "；".join(f"{label(c)}（{c.code}）" for c in leaves)
    return [*FIXED_NOTES, f"可选的需求类别：{listed}。"] if leaves else FIXED_NOTES


NEEDS = register_dataset(Dataset(
    name="needs",
    title="群众需求",
    columns=COLUMNS,
    import_row=import_need,
    export_rows=export_needs,
    export_count=lambda user, within=None: needs_in_reach(user, within).count(),
    key=key,
    audit_name="need",
    error_columns=ERROR_COLUMNS,
    template=Live(example_rows),
    notes=Live(notes),
))
