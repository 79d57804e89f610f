"""The faces of the figures (/stats/): the console dashboard, the big screen (数据大屏), the JSON
the big screen polls, and the Excel report.

Thin: the figures come from `queries` (summary, timeseries, rankings), the live feed from
`live`, the workbook from `report`. Who may look: every console role within their reach
(district, institute and station admins, departments, viewers, team leaders); a volunteer-only
account is refused; a node outside reach answers 404 like any record outside reach. Bad period
input is a Chinese message on the page (or a JSON error), never a 500.
"""

from __future__ import annotations

from datetime import date
from functools import wraps
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache

from wenming.core import audit
from wenming.core.errors import DomainError, InvalidInput, NotFound
from wenming.core.excel import XLSX_CONTENT_TYPE
from wenming.core.models import OrgNode, User
from wenming.core.pages import domain_error_page, forbidden_page
from wenming.core.scoping import get_scoped, nodes_in_reach

from . import live, periods, queries, report
from .report import FIGURE_BY_KEY, SERIES_COLUMNS

MAX_ID = 2**63
NODE_CHOICES = 1000  # the node picker lists at most this many nodes (the top of the tree first)
KIND_CHOICES = [("month", gettext_lazy("本月")), ("year", gettext_lazy("本年")), ("since", gettext_lazy("自某日以来")),
                ("custom", gettext_lazy("自定义时段"))]
# The dashboard's headline cards: (figure key, shown when the figures have it).
CARDS = ["activities", "participations", "volunteers", "hours_total", "people_served", "needs_collected",
         "needs_fulfilled", "needs_completion_rate", "new_volunteers", "active_teams", "needs_average_rating",
         "media_reports"]
# The big screen's counters (also in live.json).
COUNTERS = ["activities", "participations", "volunteers", "hours_total", "people_served", "needs_collected",
            "needs_fulfilled", "needs_completion_rate"]
SUMMARY_URL = "/stats/summary/"


# --- Access -----------------------------------------------------------------------------------


def may_view(user) -> bool:
    """Every console role reads figures within reach; a volunteer-only account does not."""
    return bool(getattr(user, "is_authenticated", False)) and (user.is_superuser or user.role != User.Role.VOLUNTEER)


def viewer(view=None, *, json=False):
    """Log-in required (JSON: 401), console roles only (403), a DomainError as its page or JSON."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if json:
                    return _json_error("not_authenticated", _("请先登录。"), 401)
                return redirect_to_login(request.get_full_path())
            if not may_view(request.user):
                if json:
                    return _json_error("role_forbidden", _("数据统计仅向管理和查看人员开放。"), 403)
                return forbidden_page(request, _("数据统计仅向管理和查看人员开放。"))
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                if json:
                    message = _("统计组织不存在或不在您的管辖范围内。") if isinstance(exc, NotFound) else exc.message
                    return _json_error(exc.code, message, exc.status)
                return domain_error_page(request, exc)

        return wrapper

    return decorate(view) if view else decorate


def _json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": None}, status=status,
                        json_dumps_params={"ensure_ascii": False})


# --- Choosing the node and the period ---------------------------------------------------------


def node_choices(user) -> list[dict]:
    """The node picker: the nodes in reach, as a tree (indented under the top of the reach)."""
    if not may_view(user):
        return []
    nodes = list(nodes_in_reach(user).order_by("depth", "path")[:NODE_CHOICES])
    top = min((n.depth for n in nodes), default=1)
    nodes.sort(key=lambda n: n.path)
    return [{"pk": n.pk, "name": n.name, "indent": "\u3000" * (n.depth - top)} for n in nodes]


def default_node(user) -> OrgNode | None:
    """The top node of the user's reach (the first by depth, then by path)."""
    return nodes_in_reach(user).order_by("depth", "path").first()


def chosen_node(request) -> OrgNode | None:
    raw = request.GET.get("node")
    if raw in (None, ""):
        return default_node(request.user)
    try:
        pk = int(raw)
        if not 0 < pk < MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        raise NotFound(_("统计组织不存在或不在您的管辖范围内。"))
    return get_scoped(OrgNode.objects.all(), request.user, pk)


def _date(request, name: str, label: str) -> date | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = parse_date(raw)
    except ValueError:
        value = None
    if value is None:
        raise InvalidInput(_("%(label)s“%(value)s”不是有效的日期，请按“年-月-日”填写，例如 2025-01-31。")
                           % {"label": label, "value": raw[:20]}, code="date_invalid")
    return value


def chosen_period(request, default_kind: str = "month") -> periods.Period:
    kind = (request.GET.get("kind") or default_kind).strip()
    if kind not in periods.KINDS:
        raise InvalidInput(_("未知的统计时段，请选择本月、本年、自某日以来或自定义时段。"), code="period_invalid")
    today = timezone.localdate()
    since = _date(request, "since", _("起始日期")) if kind == "since" else None
    start = _date(request, "start", _("开始日期")) if kind == "custom" else None
    end = _date(request, "end", _("结束日期")) if kind == "custom" else None
    if kind == "since" and since is None:
        raise InvalidInput(_("请填写起始日期。"), code="period_missing")
    if kind == "since" and since > today:
        raise InvalidInput(_("起始日期不能晚于今天。"), code="period_invalid")
    return periods.resolve(kind, today, since=since, start=start, end=end)


def period_query(node: OrgNode | None, period: periods.Period) -> str:
    """The query string that names a node and a period (links to the report, the big screen …)."""
    params = {"node": node.pk} if node else {}
    params["kind"] = period.kind
    if period.kind == "since":
        params["since"] = period.start.isoformat()
    elif period.kind == "custom":
        params.update(start=period.start.isoformat(), end=period.end.isoformat())
    return urlencode(params)


# --- Figures for the pages ---------------------------------------------------------------------


def figures_for(node: OrgNode, period: periods.Period) -> dict:
    """Everything the pages draw: the summary with the rankings merged in, and the series."""
    figures = queries.summary(node, period.start, period.end)  # the rank_* lists included
    series = past_points(queries.timeseries(node, period.start, period.end), timezone.localdate())
    return {"figures": figures, "series": series}


def past_points(series: dict, today: date) -> dict:
    """The series without the days (months) still to come: nothing is counted on them, and a
    trend line falling to zero at its end would tell a story that is not true."""
    key = today.isoformat() if series.get("interval") != "month" else today.isoformat()[:7]
    points = [p for p in series.get("points", []) if str(p.get("period")) <= key]
    return {**series, "points": points}


def format_value(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:,.1f}"
    if kind == "decimal":
        return f"{value:.2f}"
    return f"{int(value):,}"


def change(current, previous, kind: str) -> dict | None:
    """The change from the previous period: direction, and a percentage (percentage points for rates)."""
    if current is None or previous is None:
        return None
    diff = current - previous
    direction = "up" if diff > 0 else "down" if diff < 0 else "same"
    arrow = {"up": "▲", "down": "▼", "same": "＝"}[direction]
    if kind == "rate":
        text = _("%(points).1f个百分点") % {"points": abs(diff) * 100}
    elif previous:
        text = f"{abs(diff) / previous * 100:.1f}%"
    elif diff:
        text = pgettext("与上期相比", "新增")
    else:
        text = _("持平")
    return {"direction": direction, "arrow": arrow, "text": text}


def cards(figures: dict, previous: dict | None) -> list[dict]:
    out = []
    for key in CARDS:
        if key not in figures:
            continue
        figure = FIGURE_BY_KEY[key]
        prev = previous.get(key) if previous else None
        out.append({
            "key": key, "label": str(figure.label), "unit": str(figure.unit),
            "value": format_value(figures[key], figure.kind),
            "previous": format_value(prev, figure.kind) if previous else None,
            "change": change(figures[key], prev, figure.kind) if previous else None,
        })
    return out


def chart_data(figures: dict, series: dict) -> dict:
    """What the charts draw, in plain JSON (also shown as tables under each chart)."""
    return {
        "interval": series.get("interval"),
        "trend": {
            "periods": [p["period"] for p in series.get("points", [])],
            "activities": [p.get("activities", 0) for p in series.get("points", [])],
            "hours": [p.get("hours_total", 0) for p in series.get("points", [])],
        },
        "platforms": [{"name": r["name"], "value": r["activities"]} for r in report.breakdown(figures, "by_platform")],
        "themes": [{"name": r["name"], "value": r["activities"]} for r in report.breakdown(figures, "by_theme")],
        "nodes": [{"name": r.get("name"), "value": r.get("hours_total", 0)} for r in figures.get("rank_nodes") or []],
        "funnel": [{"name": s["name"], "value": s["value"]} for s in report.funnel(figures)],
        "labels": {
            "activities": _("开展活动（场次）"), "hours": _("服务时长（小时）"), "platforms": _("分平台活动"),
            "themes": _("分主题活动"), "nodes": _("下级组织服务时长（小时）"), "funnel": _("四单闭环"),
            "platform": _("平台"), "theme": _("主题"),
            "empty": _("暂无数据"),
        },
    }


def counters(figures: dict) -> list[dict]:
    out = []
    for key in COUNTERS:
        figure = FIGURE_BY_KEY[key]
        value = figures.get(key)
        out.append({"key": key, "label": str(figure.label), "unit": str(figure.unit), "kind": figure.kind,
                    "value": value, "text": format_value(value, figure.kind)})
    return out


# --- The dashboard -----------------------------------------------------------------------------


def _form_values(request) -> dict:
    """What the user typed, to show it again in the form after an error."""
    return {k: (request.GET.get(k) or "")[:20] for k in ("kind", "since", "start", "end")}


@viewer
def dashboard(request):
    user = request.user
    nodes = node_choices(user)
    node = chosen_node(request)
    context = {"nodes": nodes, "node": node, "kinds": KIND_CHOICES, "summary_url": SUMMARY_URL,
               "form": _form_values(request)}
    if node is None:
        return render(request, "stats/dashboard.html", context)
    try:
        period = chosen_period(request)
    except InvalidInput as exc:
        context["error"] = exc.message
        return render(request, "stats/dashboard.html", context, status=400)
    previous = periods.previous(period, timezone.localdate())
    data = figures_for(node, period)
    figures, series = data["figures"], data["series"]
    try:
        prev_figures = queries.summary(node, previous.start, previous.end)
    except InvalidInput:  # the period before lies outside the calendar the figures keep (before 2000)
        prev_figures, previous = None, None
    kind = period.kind
    form = {"kind": kind, "since": period.start.isoformat() if kind == "since" else context["form"]["since"],
            "start": period.start.isoformat(), "end": period.end.isoformat()}
    query = period_query(node, period)
    context.update({
        "form": form, "period": period, "previous": previous, "figures": figures, "series": series,
        "cards": cards(figures, prev_figures), "charts": chart_data(figures, series),
        "platforms": report.breakdown(figures, "by_platform"), "themes": report.breakdown(figures, "by_theme"),
        "funnel": report.funnel(figures), "series_columns": [(k, str(h)) for k, h, _f in SERIES_COLUMNS],
        "series_rows": [[p.get("period"), *[_cell(p.get(k), f) for k, _h, f in SERIES_COLUMNS]]
                        for p in series.get("points", [])],
        "query": query,
    })
    return render(request, "stats/dashboard.html", context)


def _cell(value, number_format: str) -> str:
    return format_value(value or 0, "hours" if number_format == report.HOURS else "int")


# --- The big screen ----------------------------------------------------------------------------


@never_cache
@viewer
def bigscreen(request):
    node = chosen_node(request)
    if node is None:
        return forbidden_page(request, _("您没有可统计的组织。"))
    try:
        period = chosen_period(request, default_kind="year")
    except InvalidInput as exc:
        return render(request, "core/error.html", {"title": _("统计时段不正确"), "message": exc.message}, status=400)
    query = period_query(node, period)
    return render(request, "stats/bigscreen.html", {
        "node": node, "period": period, "query": query,
        "initial": {"live": live_payload(request.user, node, period),
                    "charts": chart_data(**figures_for(node, period))},
        "poll": {"live": f"{reverse('stats:live')}?{query}", "figures": f"{reverse('stats:figures')}?{query}",
                 "live_seconds": max(int(getattr(settings, "WENMING_SCREEN_POLL_SECONDS", 30)), 1),
                 "figures_seconds": max(int(getattr(settings, "WENMING_SCREEN_FIGURES_SECONDS", 300)), 1)},
        "strings": {
            "updated": _("数据更新于"),
            "failed": _("连接中断，显示的是 %(time)s 的数据，正在重试…"),
            "auth": _("登录已过期，显示的是 %(time)s 的数据；请重新登录后刷新本页。"),
            "no_checkins": _("近7日暂无签到"), "no_needs": _("近30日暂无点单"),
        },
    })


def live_payload(user, node: OrgNode, period: periods.Period) -> dict:
    figures = queries.summary(node, period.start, period.end)
    now = timezone.now()
    items = counters(figures)
    items.append({"key": "checkins_today", "label": _("今日签到"), "unit": _("人次"), "kind": "int",
                  "value": live.checkins_today(user, node, now), "text": None})
    items[-1]["text"] = format_value(items[-1]["value"], "int")
    return {
        "node": {"id": node.pk, "name": node.name, "kind": node.kind},
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "label": period.label},
        "counters": items,
        "checkins": live.latest_checkins(user, node, now),
        "needs": live.latest_needs(user, node, now),
        "generated_at": timezone.localtime(now).isoformat(timespec="seconds"),
    }


def _json(payload: dict) -> JsonResponse:
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


@viewer(json=True)
def live_json(request):
    node = chosen_node(request)
    if node is None:
        return _json_error("no_node", _("您没有可统计的组织。"), 404)
    return _json(live_payload(request.user, node, chosen_period(request, default_kind="year")))


@viewer(json=True)
def figures_json(request):
    node = chosen_node(request)
    if node is None:
        return _json_error("no_node", _("您没有可统计的组织。"), 404)
    data = figures_for(node, chosen_period(request, default_kind="year"))
    return _json({"charts": chart_data(**data), "generated_at": timezone.localtime().isoformat(timespec="seconds")})


# --- The Excel report --------------------------------------------------------------------------


@viewer
def report_xlsx(request):
    node = chosen_node(request)
    if node is None:
        return forbidden_page(request, _("您没有可统计的组织。"))
    try:
        period = chosen_period(request)
    except InvalidInput as exc:
        return render(request, "core/error.html", {"title": _("统计时段不正确"), "message": exc.message}, status=400)
    data = figures_for(node, period)
    body = report.report_workbook(data["figures"], data["series"])
    audit.record(request.user, "stats.report_export", node,
                 note=_("导出统计报表：%(node)s，%(start)s 至 %(end)s") % {
                     "node": node.name, "start": period.start.isoformat(), "end": period.end.isoformat()})
    filename = f"统计报表_{node.name}_{period.start.isoformat()}_{period.end.isoformat()}.xlsx"
    response = HttpResponse(body, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename=\"stats-report.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return response
