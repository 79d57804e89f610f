"""The work summary's pages (/stats/summary/): the summary of a node and a period, its .docx, and the
wording's editor for the node's managers.

Thin: the figures come from `queries.summary`, the text from `narrative`. Who may look: as for the
dashboard (`views.viewer`: every console role within reach; a volunteer-only account gets 403; a
node outside reach answers 404). Who may edit the wording: the managers of the node
(`scoping.can_manage`: the district admin for the centre, an institute admin for their institute …);
the wording applies to the node and every node under it that has none of its own.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from wenming.core import audit
from wenming.core.errors import Forbidden, InvalidInput
from wenming.core.pages import forbidden_page
from wenming.core.scoping import can_manage

from . import narrative, queries
from .views import KIND_CHOICES, chosen_node, chosen_period, node_choices, period_query, viewer

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DEFAULT_KIND = "year"


def _form_values(request) -> dict:
    return {k: (request.GET.get(k) or "")[:20] for k in ("kind", "since", "start", "end")}


def _form_of(period, request) -> dict:
    kind = period.kind
    return {"kind": kind, "since": period.start.isoformat() if kind == "since" else _form_values(request)["since"],
            "start": period.start.isoformat(), "end": period.end.isoformat()}


def _wording(node):
    """(the body in force or None for the default, the node it belongs to or None)."""
    own = narrative.template_for(node)
    return (own.body, own.node) if own else (None, None)


@viewer
def summary_page(request):
    user = request.user
    node = chosen_node(request)
    context = {"nodes": node_choices(user), "node": node, "kinds": KIND_CHOICES, "form": _form_values(request),
               "default_kind": DEFAULT_KIND}
    if node is None:
        return render(request, "stats/summary.html", context)
    try:
        period = chosen_period(request, default_kind=DEFAULT_KIND)
    except InvalidInput as exc:
        context["error"] = exc.message
        return render(request, "stats/summary.html", context, status=400)
    figures = queries.summary(node, period.start, period.end)
    body, owner = _wording(node)
    today = timezone.localdate()
    summary = narrative.render_summary(figures, body, today=today)
    query = period_query(node, period)
    context.update({
        "form": _form_of(period, request), "period": period, "figures": figures, "query": query,
        "title": narrative.title_of(figures, today), "summary": summary, "rows": narrative.headline_rows(figures),
        "wording_owner": owner, "may_edit": can_manage(user, node),
    })
    return render(request, "stats/summary.html", context)


@viewer
def summary_docx(request):
    node = chosen_node(request)
    if node is None:
        return forbidden_page(request, _("您没有可统计的组织。"))
    try:
        period = chosen_period(request, default_kind=DEFAULT_KIND)
    except InvalidInput as exc:
        return render(request, "core/error.html", {"title": _("统计时段不正确"), "message": exc.message}, status=400)
    figures = queries.summary(node, period.start, period.end)
    body, _owner = _wording(node)
    today = timezone.localdate()
    paragraphs = narrative.render_summary(figures, body, today=today).paragraphs
    data = narrative.summary_docx(figures, paragraphs, today=today)
    audit.record(request.user, "stats.summary_export", node,
                 note=_("下载工作总结：%(node)s，%(start)s 至 %(end)s") % {
                     "node": node.name, "start": period.start.isoformat(), "end": period.end.isoformat()})
    response = HttpResponse(data, content_type=DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, narrative.filename_of(figures, today))
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@viewer
def template_edit(request):
    """The wording's editor: preview against the chosen period's figures, save, restore the default."""
    user = request.user
    node = chosen_node(request)
    if node is None or not can_manage(user, node):
        return forbidden_page(request, _("只有该组织的管理员可以修改工作总结的措辞。"))
    try:
        period = chosen_period(request, default_kind=DEFAULT_KIND)
    except InvalidInput as exc:
        return render(request, "core/error.html", {"title": _("统计时段不正确"), "message": exc.message}, status=400)
    query = period_query(node, period)
    here = f"{reverse('stats_summary:template')}?{query}"
    own = narrative.template_for(node)
    inherited = own if own and own.node_id != node.pk else None
    own = own if own and own.node_id == node.pk else None
    body = own.body if own else inherited.body if inherited else narrative.default_body()
    error = preview = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        body = request.POST.get("body", "")
        try:
            if action == "save":
                narrative.save_template(node, body, by=user)
                messages.success(request, _("已保存工作总结的措辞，%(node)s及其下级的总结将使用新的措辞。")
                                 % {"node": node.name})
                return redirect(here)
            if action == "restore":
                if narrative.restore_default(node, by=user):
                    messages.success(request, _("已恢复默认措辞。"))
                else:
                    messages.info(request, _("该组织本来就没有自定义措辞。"))
                return redirect(here)
            if action != "preview":
                raise InvalidInput(_("未知的操作。"), code="invalid_action")
            checked = narrative.check_body(body)
            figures = queries.summary(node, period.start, period.end)
            preview = narrative.render_summary(figures, checked, today=timezone.localdate())
        except Forbidden as exc:
            return forbidden_page(request, exc.message)
        except InvalidInput as exc:
            error = exc.message
            status = 400
    return render(request, "stats/summary_template.html", {
        "node": node, "period": period, "query": query, "body": body, "own": own, "inherited": inherited,
        "error": error, "preview": preview, "max_body": narrative.MAX_BODY,
        "variables": VARIABLES, "filters": FILTERS, "help_text": HELP_TEXT,
    }, status=status)


HELP_TEXT = gettext_lazy(
    "措辞是一段模板：{{ 变量|过滤器 }} 写入数字，{% if 变量 %}……{% endif %} 包住的分句在数字为0或未知时整句略去，"
    "{% for p in platforms %}……{% endfor %} 逐项列出。空一行为分段，同一段的各行直接相连，只有标签的行不占位置；"
    "分句略去后多余的逗号、顿号会自动整理。保存前会检查语法和变量名。")

# What the editor lists as available to a template (docs/FIGURES.md has the full definitions).
VARIABLES = [
    ("period_text", gettext_lazy("统计时段的写法，如“2026年”“2026年3月”“2020年以来”")),
    ("node.name", gettext_lazy("组织名称")), ("subject", gettext_lazy("“该中心”“该所”“该站”")), ("child_kind", gettext_lazy("“各实践所”“各实践站”")),
    ("start_text / end_text", gettext_lazy("开始、结束日期，如“2026年1月1日”")), ("year", gettext_lazy("开始日期所在年份")),
    ("activities", gettext_lazy("开展活动（场次）")), ("participations", gettext_lazy("参与志愿者（人次）")), ("volunteers", gettext_lazy("参与志愿者（人）")),
    ("new_volunteers", gettext_lazy("新注册志愿者（人）")), ("active_teams", gettext_lazy("活跃志愿服务队（支）")),
    ("hours_total / hours_verified / hours_recorded", gettext_lazy("服务时长合计／核验／补录（小时）")),
    ("people_served", gettext_lazy("受益群众（人次）；people_served_activities、people_served_needs 为其中活动、需求部分")),
    ("needs_collected / needs_fulfilled", gettext_lazy("收集群众需求／完成群众心愿（条）")),
    ("needs_completion_rate", gettext_lazy("需求完成率（0～1）")), ("needs_average_rating", gettext_lazy("平均评价（星）")),
    ("media_reports", gettext_lazy("宣传报道（篇）；media_district、media_city、media_province、media_central 为各级")),
    ("platforms", gettext_lazy("有活动的平台，按场次从多到少：每项 name、activities、people_served")),
    ("themes", gettext_lazy("有活动的主题，按场次从多到少：每项 name、activities")),
    ("children", gettext_lazy("下级组织，按服务时长从多到少：每项 name、activities、hours_total、people_served、needs_fulfilled")),
    ("teams", gettext_lazy("志愿服务队，按服务时长从多到少：每项 name、hours_total、events")),
]
FILTERS = [
    ("cn_count", gettext_lazy("场次、人次、人、条、篇：100以下照写，100起保留两位有效数字，舍去部分记作“余”（2043→2000余，76412→7.6万余）")),
    ("cn_rate", gettext_lazy("完成率：0.92→达90%以上，0.9→达90%，1→达100%")),
    ("cn_hours", gettext_lazy("小时：100以下保留一位小数，100起同 cn_count")),
    ("cn_rating", gettext_lazy("星级，保留一位小数")), ("cn_exact", gettext_lazy("不取整的数字")),
    ("cn_join", gettext_lazy("名称用“、”连接，如 themes|slice:\":3\"|cn_join")), ("cn_suffix", gettext_lazy("补上后缀，如 p.name|cn_suffix:\"平台\"")),
    ("cn_date", gettext_lazy("日期写作“2026年3月5日”")),
]
