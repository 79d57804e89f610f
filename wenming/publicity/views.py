"""Console pages of the media-reports ledger (/publicity/): the list with its counts per level,
entering, changing and removing a report, and the activity search of the form.

Thin: reads through `queries` (always scoped), writes through `services`, whose refusals come back
on the form. An id outside the account's reach is a 404 like an id that does not exist; a change the
account may not make is the 403 page and changes nothing."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from wenming.core.errors import DomainError, Forbidden
from wenming.core.pages import domain_error_page, forbidden_page
from wenming.core.scoping import can_manage, nodes_in_reach

from . import forms, queries, services
from .models import MediaReport

PAGE_SIZE = 30
NODE_CHOICES = 300  # organisations offered by the list's filter (a district has about 120)
MAX_ID = 2**63


def console(view):
    """Log-in required; a refusal from a service or a query becomes its page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return domain_error_page(request, exc)

    return wrapper


def _report(request, pk) -> MediaReport:
    return queries.report_for(request.user, pk if 0 < pk < MAX_ID else 0)


def _manageable_nodes(user):
    if not services.can_write(user):
        return nodes_in_reach(user).none()
    return nodes_in_reach(user).order_by("path")


# --- The list ------------------------------------------------------------------------------------


@console
@require_GET
def report_list(request):
    user = request.user
    years = queries.years_for(user)
    this_year = timezone.localdate().year
    if this_year not in years:
        years = sorted([*years, this_year], reverse=True)
    filters_form = forms.FilterForm(request.GET, nodes=nodes_in_reach(user).order_by("path"), years=years,
                                    shown_nodes=NODE_CHOICES)
    filters = filters_form.filters()
    qs = queries.reports_for(user, filters)
    counts = queries.counts_for(user, filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    keep.pop("level", None)
    level_links = [{"level": level, "label": label, "count": counts[level], "active": filters.level == level,
                    "query": _query(keep, level=level)} for level, label in MediaReport.Level.choices]
    return render(request, "publicity/report_list.html", {
        "page": page, "filters": filters_form, "counts": counts, "level_links": level_links,
        "all_query": _query(keep), "any_level": not filters.level,
        "filtered": any([filters.level, filters.node, filters.year, filters.q]),
        "can_write": services.can_write(user),
        "export_node": filters.node.division_code if filters.node else "",
        "manageable": _manageable_ids(user, page.object_list),
    })


def _query(params, **extra) -> str:
    params = params.copy()
    for key, value in extra.items():
        params[key] = value
    return params.urlencode()


def _manageable_ids(user, rows) -> set[int]:
    return {r.pk for r in rows if can_manage(user, r.node)}


# --- Entering, changing, removing ---------------------------------------------------------------


def _form_page(request, form, *, title, report=None, status=200):
    return render(request, "publicity/report_form.html", {
        "form": form, "title": title, "report": report, "outlets": forms.COMMON_OUTLETS,
    }, status=status)


@console
@require_http_methods(["GET", "POST"])
def report_new(request):
    user = request.user
    try:
        services.require_writer(user)
    except Forbidden as exc:
        return forbidden_page(request, exc.message)
    nodes = _manageable_nodes(user)
    initial = {}
    wanted = request.GET.get("node", "")
    if wanted.isdigit() and len(wanted) < 19:
        initial["node"] = int(wanted)
    else:
        only = list(nodes[:2])
        if len(only) == 1:  # a station admin: their station
            initial["node"] = only[0].pk
    form = forms.ReportForm(request.POST or None, user=user, nodes=nodes, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.create_report(user, form.report_data())
        except Forbidden as exc:
            return forbidden_page(request, exc.message)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("已录入报道“%(title)s”。") % {"title": report.title})
            if "another" in request.POST:
                return redirect(f"{request.path}?node={report.node_id}")
            return redirect("publicity:list")
    return _form_page(request, form, title=_("录入宣传报道"), status=422 if form.errors else 200)


@console
@require_http_methods(["GET", "POST"])
def report_edit(request, pk):
    user = request.user
    report = _report(request, pk)
    if not (services.can_write(user) and can_manage(user, report.node)):
        return forbidden_page(request)
    form = forms.ReportForm(request.POST or None, user=user, nodes=_manageable_nodes(user),
                            initial=forms.initial_of(report), current=report)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.update_report(user, report, **_changed(report, form.changes()))
        except Forbidden as exc:
            return forbidden_page(request, exc.message)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("publicity:list")
    return _form_page(request, form, title=_("编辑宣传报道"), report=report, status=422 if form.errors else 200)


def _changed(report: MediaReport, changes: dict) -> dict:
    """Only what the form changed: a link kept as it was is not checked again."""
    current = {"title": report.title, "outlet": report.outlet, "level": report.level,
               "published_on": report.published_on, "url": report.url, "node": report.node,
               "activity": report.activity, "brand": report.brand, "note": report.note}
    return {k: v for k, v in changes.items() if v != current[k]}


@console
@require_http_methods(["GET", "POST"])
def report_delete(request, pk):
    user = request.user
    report = _report(request, pk)
    if not (services.can_write(user) and can_manage(user, report.node)):
        return forbidden_page(request)
    if request.method == "POST":
        if request.POST.get("confirm") != "1":
            messages.error(request, _("请勾选“确认删除”后再提交。"))
        else:
            title = report.title
            try:
                services.delete_report(user, report)
            except Forbidden as exc:
                return forbidden_page(request, exc.message)
            messages.success(request, _("已删除报道“%(title)s”。") % {"title": title})
            return redirect("publicity:list")
    return render(request, "publicity/report_delete.html", {"report": report},
                  status=422 if request.method == "POST" else 200)


# --- The form's activity search -----------------------------------------------------------------


@console
@require_GET
def activity_options(request):
    """<option>s of the activities a report may be linked to, matching the typed text (htmx)."""
    user = request.user
    if not services.can_write(user):
        return forbidden_page(request)
    node = None
    wanted = request.GET.get("node", "")
    if wanted.isdigit() and len(wanted) < 19:
        node = nodes_in_reach(user).filter(pk=int(wanted)).first()
    text = request.GET.get("activity_q", "")[:50]
    rows = list(queries.activities_to_link(user, text=text, node=node, limit=forms.ACTIVITY_CHOICES_SHOWN))
    chosen = request.GET.get("activity", "")
    empty = format_html('<option value="">{}</option>', _("（不关联活动）"))
    options = format_html_join("", '<option value="{}"{}>{}</option>', (
        (a.pk, " selected" if str(a.pk) == chosen else "", forms.activity_label(a)) for a in rows))
    if not rows:
        options = format_html('<option value="" disabled>{}</option>', _("没有找到匹配的活动"))
    return HttpResponse(empty + options)
