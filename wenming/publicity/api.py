"""API: media reports (宣传报道台账), mounted at /api/v1/media-reports.

The same queries and services as the console: a list within the account's reach (with its counts
per level), one report, create, change, delete. Every refusal is `{"code", "message", "details"}`."""

from datetime import date, datetime

from ninja import Query, Router, Schema
from pydantic import Field

from wenming.activities.models import Activity, Brand
from wenming.core.errors import InvalidInput, NotFound
from wenming.core.models import OrgNode
from wenming.core.pagination import MAX_ID, IdFilter, PageParams, paginate
from wenming.core.scoping import get_scoped

from . import queries, services
from .models import MediaReport

router = Router(tags=["宣传报道"])

LEVEL_HELP = "district 区级 / city 市级 / province 省级 / central 中央"


class ReportOut(Schema):
    id: int
    title: str = Field(description="标题")
    outlet: str = Field(description="刊发媒体")
    level: str = Field(description=LEVEL_HELP)
    level_label: str = Field(description="级别（中文）")
    published_on: date = Field(description="刊发日期")
    url: str = Field(description="链接（可为空）")
    node_id: int = Field(description="所属组织")
    node_name: str
    activity_id: int | None = Field(description="相关活动")
    activity_title: str | None
    brand_id: int | None = Field(description="相关项目品牌")
    brand_name: str | None
    note: str = Field(description="备注")
    created_by: str | None = Field(description="录入人")
    created_at: datetime = Field(description="录入时间")


def report_out(r: MediaReport) -> dict:
    return {
        "id": r.pk, "title": r.title, "outlet": r.outlet, "level": r.level, "level_label": r.get_level_display(),
        "published_on": r.published_on, "url": r.url, "node_id": r.node_id, "node_name": r.node.name,
        "activity_id": r.activity_id, "activity_title": r.activity.title if r.activity_id else None,
        "brand_id": r.brand_id, "brand_name": r.brand.name if r.brand_id else None, "note": r.note,
        "created_by": str(r.created_by) if r.created_by_id else None, "created_at": r.created_at,
    }


class LevelCounts(Schema):
    district: int = Field(description="区级（篇）")
    city: int = Field(description="市级（篇）")
    province: int = Field(description="省级（篇）")
    central: int = Field(description="中央（篇）")
    total: int = Field(description="合计（篇）")


class ReportPage(Schema):
    items: list[ReportOut]
    count: int = Field(description="符合条件的报道总数")
    by_level: LevelCounts = Field(description="符合条件（级别除外）的报道按级别的篇数")


class ReportFilter(Schema):
    level: MediaReport.Level | None = Field(None, description=LEVEL_HELP)
    node_id: int | None = IdFilter("所属组织（含下级）")
    year: int | None = Field(None, ge=2000, le=2100, description="刊发年度")
    published_after: date | None = Field(None, description="刊发日期不早于（含）")
    published_before: date | None = Field(None, description="刊发日期不晚于（含）")
    activity_id: int | None = IdFilter("相关活动")
    brand_id: int | None = IdFilter("相关项目品牌")
    q: str | None = Field(None, max_length=50, description="标题或媒体中的关键字")


class ReportIn(Schema):
    title: str = Field(..., min_length=1, max_length=services.TITLE_MAX, description="标题")
    outlet: str = Field(..., min_length=1, max_length=services.OUTLET_MAX, description="刊发媒体")
    level: MediaReport.Level = Field(..., description=LEVEL_HELP)
    published_on: date = Field(..., description="刊发日期，不晚于今天，不早于2000-01-01")
    url: str = Field("", max_length=services.URL_MAX, description="链接，http(s)://…，可为空")
    node_id: int = Field(..., ge=1, le=MAX_ID, description="所属组织（须在管辖范围内）")
    activity_id: int | None = Field(None, ge=1, le=MAX_ID, description="相关活动（所属组织或其上级、下级的活动）")
    brand_id: int | None = Field(None, ge=1, le=MAX_ID, description="相关项目品牌")
    note: str = Field("", max_length=services.NOTE_MAX, description="备注")


class ReportPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=services.TITLE_MAX, description="标题")
    outlet: str | None = Field(None, min_length=1, max_length=services.OUTLET_MAX, description="刊发媒体")
    level: MediaReport.Level | None = Field(None, description=LEVEL_HELP)
    published_on: date | None = Field(None, description="刊发日期")
    url: str | None = Field(None, max_length=services.URL_MAX, description="链接；空字符串清除")
    node_id: int | None = Field(None, ge=1, le=MAX_ID, description="所属组织")
    activity_id: int | None = Field(None, ge=1, le=MAX_ID, description="相关活动；null 取消关联")
    brand_id: int | None = Field(None, ge=1, le=MAX_ID, description="相关项目品牌；null 取消关联")
    note: str | None = Field(None, max_length=services.NOTE_MAX, description="备注；空字符串清除")


def _one(user, report_id: int) -> MediaReport:
    if not 0 < report_id <= MAX_ID:
        raise NotFound("记录不存在或不在您的管辖范围内。")
    return queries.report_for(user, report_id)


def _node(user, pk: int) -> OrgNode:
    try:
        return get_scoped(OrgNode.objects.all(), user, pk)
    except NotFound:
        raise InvalidInput("所属组织不存在或不在您的管辖范围内。", code="node_invalid", details={"field": "node_id"})


def _activity(user, pk: int | None, keep: MediaReport | None = None) -> Activity | None:
    if pk is None:
        return None
    if keep is not None and keep.activity_id == pk:
        return keep.activity
    activity = queries.linkable_activities(user).filter(pk=pk).first()
    if activity is None:
        raise InvalidInput("所选活动不存在或不在您的管辖范围内（草稿活动不能关联）。", code="activity_invalid",
                           details={"field": "activity_id"})
    return activity


def _brand(user, pk: int | None, keep: MediaReport | None = None) -> Brand | None:
    if pk is None:
        return None
    if keep is not None and keep.brand_id == pk:
        return keep.brand
    brand = queries.brands_to_link(user).filter(pk=pk).first()
    if brand is None:
        raise InvalidInput("所选项目品牌不存在或不在您的管辖范围内。", code="brand_invalid",
                           details={"field": "brand_id"})
    return brand


@router.get("", response=ReportPage, summary="宣传报道列表（含按级别统计）")
def list_reports(request, filters: Query[ReportFilter], page: Query[PageParams]):
    user = request.auth
    node = None
    if filters.node_id:
        try:
            node = get_scoped(OrgNode.objects.all(), user, filters.node_id)
        except NotFound:
            raise InvalidInput("所属组织不存在或不在您的管辖范围内。", code="node_invalid", details={"field": "node_id"})
    if filters.published_after and filters.published_before and filters.published_after > filters.published_before:
        raise InvalidInput("开始日期不能晚于结束日期。", code="period_invalid")
    f = queries.ReportFilters(
        level=filters.level, node=node, year=filters.year, q=filters.q or "",
        published_after=filters.published_after, published_before=filters.published_before,
        activity_id=filters.activity_id, brand_id=filters.brand_id,
    )
    result = paginate(queries.reports_for(user, f), page, report_out)
    result["by_level"] = queries.counts_for(user, f)
    return result


@router.get("/{report_id}", response=ReportOut, summary="一篇宣传报道")
def get_report(request, report_id: int):
    return report_out(_one(request.auth, report_id))


@router.post("", response={201: ReportOut}, summary="录入宣传报道")
def create_report(request, body: ReportIn):
    user = request.auth
    services.require_writer(user)
    data = services.ReportData(
        title=body.title, outlet=body.outlet, level=body.level, published_on=body.published_on, url=body.url,
        node=_node(user, body.node_id), activity=_activity(user, body.activity_id), brand=_brand(user, body.brand_id),
        note=body.note,
    )
    report = services.create_report(user, data)
    return 201, report_out(_one(user, report.pk))


@router.patch("/{report_id}", response=ReportOut, summary="修改宣传报道（只改给出的字段）")
def update_report(request, report_id: int, body: ReportPatch):
    user = request.auth
    services.require_writer(user)
    report = _one(user, report_id)
    given = body.dict(exclude_unset=True)
    fields = {}
    for key in ("title", "outlet", "level", "published_on", "url", "note"):
        if key in given:
            if given[key] is None and key not in ("url", "note"):
                raise InvalidInput(f"{key} 不能为空（不修改时请不要提交该字段）。", code="field_null",
                                   details={"field": key})
            fields[key] = given[key] if given[key] is not None else ""
    if "node_id" in given:
        if given["node_id"] is None:
            raise InvalidInput("node_id 不能为空（不修改时请不要提交该字段）。", code="field_null",
                               details={"field": "node_id"})
        fields["node"] = _node(user, given["node_id"])
    if "activity_id" in given:
        fields["activity"] = _activity(user, given["activity_id"], keep=report)
    if "brand_id" in given:
        fields["brand"] = _brand(user, given["brand_id"], keep=report)
    # A field given with its present value is no change (a link kept is not checked again).
    fields = {k: v for k, v in fields.items() if v != getattr(report, k)}
    report = services.update_report(user, report, **fields)
    return report_out(_one(user, report.pk))


@router.delete("/{report_id}", response={204: None}, summary="删除宣传报道")
def delete_report(request, report_id: int):
    user = request.auth
    services.require_writer(user)
    services.delete_report(user, _one(user, report_id))
    return 204, None
