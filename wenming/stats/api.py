"""API: the district's figures (数据统计) for a node's subtree and a period — docs/FIGURES.md."""

from datetime import date

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from ninja import Query, Router, Schema
from pydantic import Field

from wenming.core import audit
from wenming.core.errors import InvalidInput

from . import narrative, queries, report
from .periods import checked, year_of

router = Router(tags=["数据统计"])

MAX_DAY_POINTS = 800
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class PeriodQuery(Schema):
    node: int | None = Field(None, ge=1, le=2**63 - 1, description="组织id；缺省为账号管辖范围的最上级组织")
    start: date | None = Field(None, description="开始日期（含），缺省为今年1月1日")
    end: date | None = Field(None, description="结束日期（含），缺省为今年12月31日")

    def resolve(self, request):
        node = queries.node_for(request.auth, self.node)
        if (self.start is None) != (self.end is None):
            raise InvalidInput("请同时给出开始日期和结束日期，或都不给（今年）。", code="period_missing")
        if self.start is None:
            year = year_of(timezone.localdate())
            return node, year.start, year.end
        period = checked(self.start, self.end)
        return node, period.start, period.end


class RankingQuery(PeriodQuery):
    limit: int = Field(10, ge=1, le=50, description="每个排行的条数（1–50）")


class SeriesQuery(PeriodQuery):
    interval: str | None = Field(None, pattern="^(day|month)$", description="day 或 month；缺省按时段长短选择")


def _json(figures: dict) -> dict:
    return {**figures, "start": figures["start"].isoformat(), "end": figures["end"].isoformat()}


@router.get("/summary", summary="统计汇总：docs/FIGURES.md 中的每项数据，一项一个键")
def summary(request, params: Query[PeriodQuery]):
    node, start, end = params.resolve(request)
    return _json(queries.summary(node, start, end))


@router.get("/timeseries", summary="趋势：按日或按月的活动、人次、时长、受益群众、点单与完成")
def timeseries(request, params: Query[SeriesQuery]):
    node, start, end = params.resolve(request)
    interval = params.interval
    if interval == "day" and (end - start).days + 1 > MAX_DAY_POINTS:
        raise InvalidInput(f"按日统计的时段不能超过{MAX_DAY_POINTS}天，请按月（interval=month）。",
                           code="period_too_long")
    series = queries.timeseries(node, start, end, interval)
    return {"node": {"id": node.pk, "name": node.name, "kind": node.kind}, "start": start.isoformat(),
            "end": end.isoformat(), **series}


@router.get("/rankings", summary="排行：下级组织、服务队与志愿者（时长）、服务队（评价）")
def rankings(request, params: Query[RankingQuery]):
    node, start, end = params.resolve(request)
    return {"node": {"id": node.pk, "name": node.name, "kind": node.kind}, "start": start.isoformat(),
            "end": end.isoformat(), **queries.rankings(node, start, end, limit=params.limit)}


def attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


@router.get("/report.xlsx", summary="Excel统计报表：汇总表与各分项表（中文表头，数值单元格）")
def report_xlsx(request, params: Query[PeriodQuery]):
    node, start, end = params.resolve(request)
    figures = queries.summary(node, start, end)
    series = queries.timeseries(node, start, end)
    audit.record(request.auth, "stats.report_export", node, note=f"API导出统计报表：{node.name}，{start} 至 {end}")
    return attachment(report.report_workbook(figures, series), XLSX, f"统计报表_{node.name}_{start}_{end}.xlsx")


@router.get("/summary.docx", summary="工作总结（Word）：按本组织（或上级）的措辞模板，由统计数据写成")
def summary_docx(request, params: Query[PeriodQuery]):
    node, start, end = params.resolve(request)
    figures = queries.summary(node, start, end)
    today = timezone.localdate()
    own = narrative.template_for(node)
    paragraphs = narrative.render_summary(figures, own.body if own else None, today=today).paragraphs
    audit.record(request.auth, "stats.summary_export", node, note=f"API下载工作总结：{node.name}，{start} 至 {end}")
    return attachment(narrative.summary_docx(figures, paragraphs, today=today), DOCX,
                      narrative.filename_of(figures, today))
