"""Media reports as an Excel ledger (registered with the core Excel engine in ready()).

Each row goes through `services.create_report` — the same checks, the same scoping and the same
audit entry as a report entered on the console — in the engine's per-row savepoint. A district
enters a few hundred reports a year, so one service call per row.

Re-importing a file imports nothing twice: a row whose report is already there (same organisation,
same title, same date: the ledger's natural key, as `report_duplicate`) is skipped and reported.

Export: the same columns for the reports in the account's reach, plus 编号 and 录入时间, which an
import ignores. A related activity is written as its 编号 and its name; on import either identifies
it (the 编号 wins, and a name given beside it must match).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from django.utils import translation
from openpyxl.utils.datetime import from_excel

from wenming.activities.models import Activity, Brand
from wenming.core.errors import InvalidInput
from wenming.core.excel import (
    CHUNK_SIZE,
    CellInvalid,
    Column,
    Dataset,
    ImportContext,
    Skip,
    check_node_name,
    choice,
    division_code,
    integer,
    register_dataset,
    text,
)
from wenming.core.models import OrgNode
from wenming.core.scoping import require_manager, scoped_within

from . import queries, services
from .models import MediaReport

with translation.override("zh-hans"):
    LEVEL_LABELS = {value: str(label) for value, label in MediaReport.Level.choices}
LEVEL_OPTIONS = {label: value for value, label in LEVEL_LABELS.items()} | {
    "区": "district", "区县级": "district", "县级": "district", "市": "city", "省": "province",
    "中央级": "central", "国家级": "central", "央级": "central",
} | {value: value for value in LEVEL_LABELS}

DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
EXCEL_SERIALS = (36526, 73051)  # 2000-01-01 … 2100-01-01 as Excel day numbers


# --- Cell parsers ----------------------------------------------------------------------------------


def report_date(value) -> date:
    """A date cell, an Excel day number or text such as 2025-06-01, 2025/6/1, 2025年6月1日 → a date."""
    wrong = InvalidInput("刊发日期格式不正确，请填写如“2025-06-01”的日期。", code="published_on_format")
    if isinstance(value, bool):
        raise wrong
    if isinstance(value, (int, float)):
        if not EXCEL_SERIALS[0] <= value < EXCEL_SERIALS[1]:
            raise wrong
        value = from_excel(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = DATE_TEXT.fullmatch(text(value).strip())
    if match is None:
        raise wrong
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise InvalidInput("刊发日期不是有效的日期，请核对年月日。", code="published_on_format")


def one_line(value) -> str:
    return services.clean_text(text(value))


def url_text(value) -> str:
    return text(value).strip()


# --- Columns ---------------------------------------------------------------------------------------

COLUMNS = [
    Column("编号", "id", imported=False, kind="integer", width=8),
    Column("标题", "title", required=True, parse=one_line, max_chars=services.TITLE_MAX, width=40,
           help=f"报道标题，不超过{services.TITLE_MAX}字。"),
    Column("媒体", "outlet", required=True, parse=one_line, max_chars=services.OUTLET_MAX, width=18,
           help="刊发的报纸、电视台、网站或新媒体，如“邵阳日报”“新华网”。"),
    Column("级别", "level", required=True, parse=choice(LEVEL_OPTIONS), width=8,
           choices=tuple(LEVEL_LABELS.values()), help="可选：" + "、".join(LEVEL_LABELS.values()) + "。"),
    Column("刊发日期", "published_on", required=True, parse=report_date, kind="date", width=12,
           help="日期单元格或文本，如“2025-06-01”；不能晚于今天，不能早于2000年。"),
    Column("链接", "url", parse=url_text, max_chars=services.URL_MAX, width=36,
           help="选填；网络报道的网址，以 http:// 或 https:// 开头。"),
    Column("所属组织区划代码", "node_code", required=True, parse=division_code, width=16,
           help="报道所属中心、所或站的12位区划代码，须在您的管辖范围内。"),
    Column("所属组织", "node_name", max_chars=100, width=24, help="选填；填写时须与区划代码对应的组织名称一致。"),
    Column("相关活动编号", "activity_id", parse=integer(1, 2**63 - 1), kind="integer", width=10,
           help="选填；平台上活动的编号（见活动页面地址或导出的活动台账）。"),
    Column("相关活动", "activity_title", parse=one_line, max_chars=100, width=30,
           help="选填；活动名称。只填名称时按名称查找（须唯一）；与编号同时填写时须与编号对应的活动一致。"),
    Column("相关品牌", "brand", parse=one_line, max_chars=50, width=16,
           help="选填；项目品牌名称，如“七彩假期”，须属于所属组织或其上级、下级。"),
    Column("备注", "note", parse=one_line, max_chars=services.NOTE_MAX, width=24, help="选填，不超过500字。"),
    Column("录入时间", "created_at", imported=False, kind="datetime", width=17),
]

ERROR_COLUMNS = {
    "title_required": "title", "title_too_long": "title",
    "outlet_required": "outlet", "outlet_too_long": "outlet",
    "level_invalid": "level",
    "published_on_required": "published_on", "published_on_future": "published_on",
    "published_on_too_early": "published_on",
    "url_invalid": "url", "url_too_long": "url",
    "note_too_long": "note",
    "node_required": "node_code", "out_of_scope": "node_code", "role_forbidden": "node_code",
    "activity_invalid": "activity_id", "activity_draft": "activity_id", "activity_outside_node": "activity_id",
    "brand_invalid": "brand", "brand_outside_node": "brand",
}


# --- Import ----------------------------------------------------------------------------------------


def node_of(ctx: ImportContext, values: dict) -> OrgNode:
    code = values["node_code"]
    node = ctx.node(code)
    if node is None:
        raise CellInvalid("node_code", f"找不到区划代码为{code}的组织。", code="node_not_found")
    check_node_name(values, "node_name", node)
    return node


def activity_of(ctx: ImportContext, node: OrgNode, values: dict) -> Activity | None:
    pk, title = values.get("activity_id"), values.get("activity_title")
    if pk is None and not title:
        return None
    activities = queries.linkable_activities(ctx.user)
    if pk is not None:
        activity = activities.filter(pk=pk).first()
        if activity is None:
            raise CellInvalid("activity_id", f"找不到编号为{pk}的活动，或该活动不在您的管辖范围内（草稿活动不能关联）。",
                              code="activity_invalid")
        if title and services.clean_text(activity.title) != title:
            raise CellInvalid("activity_title", f"编号{pk}的活动是“{activity.title}”，与所填活动名称不符。",
                              code="activity_mismatch")
        return activity
    line = [node.path[:i] for i in range(OrgNode.steplen, len(node.path) + 1, OrgNode.steplen)]
    found = [a for a in activities.filter(title=title).order_by("-starts_at", "-id")[:20]
             if a.node.path.startswith(node.path) or a.node.path in line]
    if not found:
        raise CellInvalid("activity_title", f"在所属组织及其上级、下级中找不到名为“{title[:30]}”的活动。",
                          code="activity_invalid")
    if len(found) > 1:
        shown = "、".join(str(a.pk) for a in found[:5])
        raise CellInvalid("activity_title", f"有多个名为“{title[:30]}”的活动（编号{shown}），请填写相关活动编号。",
                          code="activity_ambiguous")
    return found[0]


def brand_of(ctx: ImportContext, node: OrgNode, name: str | None) -> Brand | None:
    if not name:
        return None
    candidates = [b for b in queries.brands_to_link(ctx.user).filter(name=name)
                  if services.same_line(node, b.node)]
    if not candidates:
        raise CellInvalid("brand", f"所属组织及其上级、下级中没有名为“{name[:30]}”的项目品牌。",
                          code="brand_invalid")
    # The nearest one: the brand of the organisation itself, else of the closest one above or below.
    return min(candidates, key=lambda b: abs(len(b.node.path) - len(node.path)))


def import_report(ctx: ImportContext, values: dict) -> None:
    node = node_of(ctx, values)
    require_manager(ctx.user, node)  # before anything else: a row out of reach learns nothing more
    title = values["title"]
    published_on = values["published_on"]
    if services.duplicate_of(node, title, published_on) is not None:
        raise Skip("已有相同的报道（同一组织、同一标题、同一刊发日期），跳过。")
    data = services.ReportData(
        title=title, outlet=values["outlet"], level=values["level"], published_on=published_on, node=node,
        url=values.get("url") or "", activity=activity_of(ctx, node, values),
        brand=brand_of(ctx, node, values.get("brand")), note=values.get("note") or "",
    )
    services.create_report(ctx.user, data)


def key(values: dict):
    """The same report twice in one file: same organisation, title and date."""
    if not values.get("title") or not values.get("published_on"):
        return None
    return values.get("node_code"), values.get("title"), values.get("published_on")


# --- Export ----------------------------------------------------------------------------------------

FIELDS = ("id", "title", "outlet", "level", "published_on", "url", "node__division_code", "node__name",
          "activity_id", "activity__title", "brand__name", "note", "created_at")


def reports_in_reach(user, within: OrgNode | None = None):
    return scoped_within(MediaReport.objects.all(), user, within)


def export_reports(user, *, full: bool = False, within: OrgNode | None = None):
    rows = (reports_in_reach(user, within).order_by("published_on", "id").values_list(*FIELDS)
            .iterator(chunk_size=CHUNK_SIZE))
    for (pk, title, outlet, level, published_on, url, code, node, activity_id, activity, brand, note,
         created_at) in rows:
        yield (pk, title, outlet, LEVEL_LABELS.get(level, level), published_on, url, code, node, activity_id,
               activity or "", brand or "", note, created_at)


MEDIA_REPORTS = register_dataset(Dataset(
    name="media_reports",
    title="宣传报道",
    columns=COLUMNS,
    import_row=import_report,
    export_rows=export_reports,
    export_count=lambda user, within=None: reports_in_reach(user, within).count(),
    key=key,
    audit_name="media_report",
    error_columns=ERROR_COLUMNS,
    template=[
        ("双清区：志愿服务暖人心", "双清区融媒体中心", "区级", date(2025, 3, 5), "",
         "430502000000", "双清区新时代文明实践中心", None, "", "四季同行·雷锋家乡学雷锋", ""),
        ("邵阳双清：“七彩假期”让留守儿童快乐过暑假", "湖南日报", "省级", date(2025, 8, 12),
         "https://www.example.com/news/2025/08/12/001.html", "430502001001", "", None, "", "七彩假期", "头版"),
    ],
    notes=[
        "同一组织、同一标题、同一刊发日期的报道视为同一篇：已有的会跳过，不会重复导入。",
        "导出文件中的编号、录入时间两列在导入时忽略，可直接把导出的文件再导入。",
    ],
))
