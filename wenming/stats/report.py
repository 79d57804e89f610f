"""The Excel report (统计报表) of a node's figures for a period, and the labels of the figures.

`report_workbook(figures, series)` takes the dict of `queries.summary` (with the four rank_*
lists of `queries.rankings` merged in) and the dict of `queries.timeseries`, and returns the
.xlsx as bytes: a summary sheet (汇总: one row per figure, its value and its definition as
docs/FIGURES.md words it) and one sheet per breakdown. Numbers are numbers (int or float
cells with a number format), headers are Chinese, the header row is frozen.

`FIGURES` is the one table of the figures' Chinese names, units and definitions, shared by
the dashboard's cards and the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from wenming.core.models import OrgNode

INT = "#,##0"
HOURS = "#,##0.0"
RATE = "0.00%"
DECIMAL2 = "0.00"


@dataclass(frozen=True)
class Figure:
    key: str
    label: object  # lazy translation
    unit: object
    definition: object
    number_format: str = INT

    @property
    def kind(self) -> str:
        return {INT: "int", HOURS: "hours", RATE: "rate"}.get(self.number_format, "decimal")


FIGURES: list[Figure] = [
    Figure("activities", gettext_lazy("开展活动"), gettext_lazy("场次"),
           gettext_lazy("已发布或已结算（非草稿、未取消）且已结束的活动，按结束日计入组织单位")),
    Figure("participations", gettext_lazy("参与志愿者"), gettext_lazy("人次"),
           gettext_lazy("志愿者 × 服务来源（活动或需求）去重计数，须有经审批、合计大于零的服务时长；按该来源首条记录的日期与组织计入")),
    Figure("volunteers", gettext_lazy("参与志愿者"), gettext_lazy("人"),
           gettext_lazy("时段内在本组织及下级有服务时长（合计大于零）的志愿者人数，去重")),
    Figure("new_volunteers", gettext_lazy("新注册志愿者"), gettext_lazy("人"), gettext_lazy("时段内注册、所属实践站在本组织及下级的志愿者")),
    Figure("active_teams", gettext_lazy("活跃志愿服务队"), gettext_lazy("支"),
           gettext_lazy("时段内开展过已结束的活动、完成过群众需求、或经其活动/需求产生服务时长的志愿服务队")),
    Figure("hours_verified", gettext_lazy("核验时长"), gettext_lazy("小时"), gettext_lazy("签到签退核验的服务时长（含更正）"), HOURS),
    Figure("hours_recorded", gettext_lazy("补录时长"), gettext_lazy("小时"), gettext_lazy("经第二人审批的补录时长（含更正）"), HOURS),
    Figure("hours_total", gettext_lazy("服务时长合计"), gettext_lazy("小时"), gettext_lazy("核验时长与补录时长之和；小时数保留一位小数"), HOURS),
    Figure("people_served", gettext_lazy("受益群众"), gettext_lazy("人次"), gettext_lazy("活动受益群众与需求受益群众之和")),
    Figure("people_served_activities", gettext_lazy("活动受益群众"), gettext_lazy("人次"),
           gettext_lazy("计入场次的活动填报的实际服务人数；未填报的按 0 计，不以预计人数代替")),
    Figure("people_served_needs", gettext_lazy("需求受益群众"), gettext_lazy("人次"),
           gettext_lazy("时段内完成、且未通过活动办理的群众需求：完成时填报的服务人数，未填报按 1 人计")),
    Figure("needs_collected", gettext_lazy("收集群众需求"), gettext_lazy("条"), gettext_lazy("时段内提出的群众需求（按点单日、点单实践站计）")),
    Figure("needs_approved", gettext_lazy("审核通过"), gettext_lazy("条"), gettext_lazy("时段内提出的需求中，已审核通过的")),
    Figure("needs_rejected", gettext_lazy("不予受理"), gettext_lazy("条"), gettext_lazy("时段内提出的需求中，不予受理（驳回）的")),
    Figure("needs_cancelled", gettext_lazy("已撤销"), gettext_lazy("条"), gettext_lazy("时段内提出的需求中，已撤销的")),
    Figure("needs_dispatched", gettext_lazy("已派单"), gettext_lazy("条"), gettext_lazy("时段内提出的需求中，至少派过一次单的")),
    Figure("needs_accepted", gettext_lazy("已接单"), gettext_lazy("条"), gettext_lazy("时段内提出的需求中，至少被接过一次单的")),
    Figure("needs_fulfilled", gettext_lazy("完成群众心愿"), gettext_lazy("条"), gettext_lazy("时段内提出的需求中，已服务完成的")),
    Figure("needs_rated", gettext_lazy("已评单"), gettext_lazy("条"), gettext_lazy("时段内提出的需求中，群众（或代为）评价过的")),
    Figure("needs_overdue", gettext_lazy("超时未办"), gettext_lazy("条"), gettext_lazy("时段内提出的需求中，仍未办结且已超过时限的")),
    Figure("needs_completion_rate", gettext_lazy("完成率"), gettext_lazy("%"),
           gettext_lazy("完成群众心愿 ÷（收集群众需求 − 不予受理 − 已撤销），保留四位小数；分母为 0 时不计"), RATE),
    Figure("needs_average_rating", gettext_lazy("平均评价"), gettext_lazy("星"), gettext_lazy("群众评价星级的平均值，保留两位小数；无评价时不计"), DECIMAL2),
    Figure("needs_mean_hours_to_accept", gettext_lazy("平均接单用时"), gettext_lazy("小时"),
           gettext_lazy("已接单需求（接单时间 − 派单时间）的平均值，保留两位小数"), DECIMAL2),
    Figure("needs_mean_hours_to_complete", gettext_lazy("平均办结用时"), gettext_lazy("小时"),
           gettext_lazy("已完成需求（完成时间 − 提出时间）的平均值，保留两位小数"), DECIMAL2),
    Figure("media_reports", gettext_lazy("宣传报道"), gettext_lazy("篇"), gettext_lazy("时段内发表的宣传报道，按所属组织计")),
    Figure("media_district", gettext_lazy("区级报道"), gettext_lazy("篇"), gettext_lazy("宣传报道中区级媒体的篇数")),
    Figure("media_city", gettext_lazy("市级报道"), gettext_lazy("篇"), gettext_lazy("宣传报道中市级媒体的篇数")),
    Figure("media_province", gettext_lazy("省级报道"), gettext_lazy("篇"), gettext_lazy("宣传报道中省级媒体的篇数")),
    Figure("media_central", gettext_lazy("中央级报道"), gettext_lazy("篇"), gettext_lazy("宣传报道中中央媒体的篇数")),
]
FIGURE_BY_KEY = {f.key: f for f in FIGURES}

# The four-order loop as a funnel: (key, stage label).
# The stages as counts (collected, reviewed, …), apart from the same words as actions on the needs' pages.
FUNNEL = [
    ("needs_collected", pgettext_lazy("四单漏斗", "收集")),
    ("needs_approved", pgettext_lazy("四单漏斗", "审核")),
    ("needs_dispatched", pgettext_lazy("四单漏斗", "派单")),
    ("needs_accepted", pgettext_lazy("四单漏斗", "接单")),
    ("needs_fulfilled", pgettext_lazy("四单漏斗", "完成")),
    ("needs_rated", pgettext_lazy("四单漏斗", "评单")),
]

# The time series' columns: (key, header, number format).
SERIES_COLUMNS = [
    ("activities", gettext_lazy("开展活动（场次）"), INT),
    ("participations", gettext_lazy("参与志愿者（人次）"), INT),
    ("hours_total", gettext_lazy("服务时长（小时）"), HOURS),
    ("people_served", gettext_lazy("受益群众（人次）"), INT),
    ("needs_collected", gettext_lazy("收集群众需求（条）"), INT),
    ("needs_fulfilled", gettext_lazy("完成群众心愿（条）"), INT),
]

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
TITLE_FONT = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
MAX_WIDTH = 70


# --- Shapes of the figures' parts -------------------------------------------------------------


def breakdown(figures: dict, key: str) -> list[dict]:
    """`by_platform` / `by_theme` as a list of {"name", "activities", "people_served_activities"},
    most activities first, whether the figures hold a list of dicts or a mapping by name."""
    value = figures.get(key) or []
    if isinstance(value, dict):
        rows = []
        for name, item in value.items():
            item = item if isinstance(item, dict) else {"activities": item}
            rows.append({"name": str(name), **item})
    else:
        rows = [dict(item) for item in value]
    for row in rows:
        row["name"] = str(row.get("name") or _("未分类"))
        row["activities"] = int(row.get("activities") or 0)
        if "people_served_activities" in row or "people_served" in row:
            row["people_served_activities"] = int(row.get("people_served_activities", row.get("people_served")) or 0)
    rows.sort(key=lambda r: (-r["activities"], r["name"]))
    return rows


def kind_label(kind: str | None) -> str:
    try:
        return str(OrgNode.Kind(kind).label)
    except ValueError:
        return kind or ""


def funnel(figures: dict) -> list[dict]:
    collected = figures.get("needs_collected") or 0
    return [
        {"key": key, "name": str(label), "value": int(figures.get(key) or 0),
         "share": (int(figures.get(key) or 0) / collected) if collected else None}
        for key, label in FUNNEL
    ]


# --- The workbook ----------------------------------------------------------------------------


def _as_date(value) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return str(value or "")


def _number(value, number_format: str):
    """A figure as a cell value: int for counts, float for hours and rates, None for 'not defined'."""
    if value is None or value == "":
        return None
    if number_format == INT:
        return int(value)
    return float(value)


def _text(cell, value):
    cell.value = value
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"  # a name that looks like a formula stays text


def _display_width(value, number_format: str | None = None) -> int:
    if value is None:
        return 0
    if isinstance(value, float) and number_format:
        text = f"{value:,.2f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


class _Sheet:
    """One sheet: a header row (frozen), typed rows, widths fitted to the content."""

    def __init__(self, wb: Workbook, title: str, headers: list[str], formats: list[str | None], *, first=None):
        self.ws = wb.create_sheet(title) if first is None else first
        if first is not None:
            first.title = title
        self.formats = formats
        self.widths = [_display_width(h) for h in headers]
        self.header_row = self.ws.max_row + 1 if self.ws["A1"].value is not None else 1
        for col, header in enumerate(headers, start=1):
            cell = self.ws.cell(row=self.header_row, column=col, value=header)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
        self.ws.freeze_panes = f"A{self.header_row + 1}"  # (ws.cell() would create the row below)
        self.next_row = self.header_row + 1

    def row(self, values: list):
        r, self.next_row = self.next_row, self.next_row + 1
        for col, (value, fmt) in enumerate(zip(values, self.formats, strict=True), start=1):
            cell = self.ws.cell(row=r, column=col)
            if fmt is None:
                _text(cell, value)
            else:
                cell.value = _number(value, fmt)
                cell.number_format = fmt
            self.widths[col - 1] = max(self.widths[col - 1], _display_width(cell.value, fmt))

    def finish(self, wrap_columns: tuple[int, ...] = ()):
        for col, width in enumerate(self.widths, start=1):
            self.ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), MAX_WIDTH)
        for col in wrap_columns:
            for (cell,) in self.ws.iter_rows(min_row=self.header_row + 1, min_col=col, max_col=col):
                cell.alignment = WRAP


def _summary_sheet(wb: Workbook, figures: dict):
    ws = wb.active
    node = figures.get("node") or {}
    ws["A1"] = _("%(name)s 数据统计报表") % {"name": node.get("name") or ""}
    ws["A1"].font = TITLE_FONT
    ws["A2"] = _("统计时段：%(start)s 至 %(end)s（北京时间自然日，含首尾两日）　统计范围：本组织及下级　生成时间：%(now)s") % {
        "start": _as_date(figures.get("start")), "end": _as_date(figures.get("end")),
        "now": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
    sheet = _Sheet(wb, _("汇总"), [_("指标"), _("数值"), _("口径/说明"), _("字段")], [None, "dynamic", None, None],
                   first=ws)
    r = sheet.next_row - 1
    for figure in FIGURES:
        if figure.key not in figures:
            continue
        r += 1
        ws.cell(row=r, column=1, value=f"{figure.label}（{figure.unit}）")
        value = ws.cell(row=r, column=2, value=_number(figures[figure.key], figure.number_format))
        value.number_format = figure.number_format
        ws.cell(row=r, column=3, value=str(figure.definition)).alignment = WRAP
        ws.cell(row=r, column=4, value=figure.key)
        sheet.widths[0] = max(sheet.widths[0], _display_width(ws.cell(row=r, column=1).value))
        sheet.widths[1] = max(sheet.widths[1], _display_width(value.value, figure.number_format))
        sheet.widths[3] = max(sheet.widths[3], len(figure.key))
    sheet.widths[2] = 60
    sheet.finish()
    ws.column_dimensions["C"].width = 60


def report_workbook(figures: dict, series: dict) -> bytes:
    """The .xlsx of a node's figures for a period (see the module's docstring)."""
    wb = Workbook()
    _summary_sheet(wb, figures)

    sheet = _Sheet(wb, _("分平台"), [_("平台"), _("开展活动（场次）"), _("活动受益群众（人次）")], [None, INT, INT])
    for row in breakdown(figures, "by_platform"):
        sheet.row([row["name"], row["activities"], row.get("people_served_activities", 0)])
    sheet.finish()

    sheet = _Sheet(wb, _("分主题"), [_("主题"), _("开展活动（场次）")], [None, INT])
    for row in breakdown(figures, "by_theme"):
        sheet.row([row["name"], row["activities"]])
    sheet.finish()

    sheet = _Sheet(wb, _("下级组织排行"),
                   [_("名次"), _("组织"), _("类型"), _("开展活动（场次）"), _("服务时长（小时）"), _("受益群众（人次）"),
                    _("完成群众心愿（条）")],
                   [INT, None, None, INT, HOURS, INT, INT])
    for i, row in enumerate(figures.get("rank_nodes") or [], start=1):
        sheet.row([i, row.get("name"), kind_label(row.get("kind")), row.get("activities", 0), row.get("hours_total", 0),
                   row.get("people_served", 0), row.get("needs_fulfilled", 0)])
    sheet.finish()

    sheet = _Sheet(wb, _("服务队排行"), [_("名次"), _("志愿服务队"), _("服务时长（小时）"), _("开展服务（次）")],
                   [INT, None, HOURS, INT])
    for i, row in enumerate(figures.get("rank_teams_hours") or [], start=1):
        sheet.row([i, row.get("name"), row.get("hours_total", 0), row.get("events", 0)])
    sheet.finish()

    sheet = _Sheet(wb, _("志愿者排行"), [_("名次"), _("志愿者"), _("所属实践站"), _("服务时长（小时）")],
                   [INT, None, None, HOURS])
    for i, row in enumerate(figures.get("rank_volunteers_hours") or [], start=1):
        sheet.row([i, row.get("name"), row.get("station") or "", row.get("hours_total", 0)])
    sheet.finish()

    sheet = _Sheet(wb, _("服务队评价"), [_("名次"), _("志愿服务队"), _("平均评价（星）"), _("评价次数")],
                   [INT, None, DECIMAL2, INT])
    for i, row in enumerate(figures.get("rank_teams_rating") or [], start=1):
        sheet.row([i, row.get("name"), row.get("average_rating"), row.get("ratings", 0)])
    sheet.finish()

    interval = (series or {}).get("interval") or "day"
    period_header = _("月份") if interval == "month" else _("日期")
    sheet = _Sheet(wb, _("趋势"), [period_header, *[str(h) for _k, h, _f in SERIES_COLUMNS]],
                   [None, *[f for _k, _h, f in SERIES_COLUMNS]])
    for point in (series or {}).get("points") or []:
        sheet.row([str(point.get("period")), *[point.get(k, 0) for k, _h, _f in SERIES_COLUMNS]])
    sheet.finish()

    sheet = _Sheet(wb, _("四单闭环"), [_("环节"), _("需求（条）"), _("占收集需求")], [None, INT, RATE])
    for stage in funnel(figures):
        sheet.row([stage["name"], stage["value"], stage["share"]])
    for key in ("needs_rejected", "needs_cancelled", "needs_overdue"):
        figure = FIGURE_BY_KEY[key]
        if key in figures:
            collected = figures.get("needs_collected") or 0
            sheet.row([str(figure.label), figures[key], (figures[key] / collected) if collected else None])
    sheet.finish()

    out = BytesIO()
    wb.save(out)
    return out.getvalue()
