"""Console pages of the organisation: the tree and its nodes, platforms and departments,
social organisations, sites (阵地) and contact points (联系点).

Thin faces: reads go through `queries` (always scoped), writes through the services, whose
domain errors come back on the form. An id outside the user's reach is a 404 like an id that
does not exist; a write the user may not make is a 403 page and writes nothing.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.core import services as core_services
from wenming.core.errors import NotFound
from wenming.core.models import OrgNode
from wenming.core.pages import forbidden_page, submit_form
from wenming.core.scoping import can_manage, get_scoped, nodes_in_reach

from . import forms, queries, services
from .models import ContactPoint, Platform, Site, SocialOrganization

# Expand every branch of the tree when it is this small; otherwise only the top of the reach.
TREE_EXPAND_LIMIT = 60
PAGE_SIZE = 50

get_post = require_http_methods(["GET", "POST"])


def _get(queryset, user, pk):
    try:
        return get_scoped(queryset, user, pk)
    except NotFound:
        raise Http404


def _form_page(request, form, *, title, back, submit=None, intro=None, status=200):
    return render(request, "org/form.html", {
        "form": form, "title": title, "back": back, "submit": submit or _("保存"), "intro": intro,
    }, status=status)


# --- The tree and its nodes.


@login_required
@require_GET
def tree(request):
    user = request.user
    text = request.GET.get("q", "").strip()[:50]
    context = {"q": text, "can_import": queries.can_create_anywhere(user)}
    if text:
        context["results"] = queries.search_nodes(user, text)
    else:
        tops = queries.org_tree(user)
        context["tops"] = tops
        context["expand_all"] = nodes_in_reach(user).count() <= TREE_EXPAND_LIMIT
    return render(request, "org/tree.html", context)


@login_required
@require_GET
def node_detail(request, pk):
    user = request.user
    node = _get(OrgNode.objects.all(), user, pk)
    sites = queries.sites_within(user, node=node)
    return render(request, "org/node_detail.html", {
        "node": node,
        "ancestors": queries.node_ancestors(user, node),
        "children": queries.node_children(user, node),
        "totals": queries.node_totals(user, node),
        "sites": sites[:20],
        "site_count": sites.count(),
        "contact_points": queries.contact_point_rows(user, node=node),
        "can_manage": can_manage(user, node),
        "can_add_child": can_manage(user, node) and node.kind != OrgNode.Kind.STATION,
    })


@login_required
@get_post
def node_add(request, pk):
    user = request.user
    parent = _get(OrgNode.objects.all(), user, pk)
    if not can_manage(user, parent):
        return forbidden_page(request)
    child_kind = core_services.CHILD_KIND.get(parent.kind)
    if child_kind is None:
        messages.error(request, _("实践站之下不能再设下级组织。"))
        return redirect("org:node", pk=parent.pk)
    form = forms.NodeForm(request.POST or None)
    done = submit_form(request, form, lambda data: core_services.create_node(user, parent, **data),
                       success=lambda node: _("已新增“%(name)s”。") % {"name": node.name},
                       then=lambda node: redirect("org:node", pk=node.pk))
    if done:
        return done
    label = OrgNode.Kind(child_kind).label
    return _form_page(request, form, title=_("在“%(parent)s”下新增%(kind)s") % {"parent": parent.name, "kind": label},
                      back=reverse("org:node", args=[parent.pk]), submit=_("新增"))


@login_required
@get_post
def node_edit(request, pk):
    user = request.user
    node = _get(OrgNode.objects.all(), user, pk)
    if not can_manage(user, node):
        return forbidden_page(request)
    initial = {f: getattr(node, f) for f in core_services.NODE_FIELDS}
    form = forms.NodeForm(request.POST or None, initial=initial, editing=True)
    done = submit_form(request, form, lambda data: core_services.update_node(user, node, **data),
                       success=_("已保存。"),
                       then=redirect("org:node", pk=node.pk))
    if done:
        return done
    intro = _("区划代码：%(code)s（不可修改）") % {"code": node.division_code}
    return _form_page(request, form, title=_("编辑“%(name)s”") % {"name": node.name},
                      back=reverse("org:node", args=[node.pk]), intro=intro)


# --- Platforms and departments (district-wide reference data; the district office edits them).


@login_required
@require_GET
def platforms(request):
    user = request.user
    return render(request, "org/platforms.html", {
        "platforms": queries.platforms_for(user),
        "departments": queries.departments(),
        "can_manage": can_manage(user),
    })


@login_required
@get_post
def platform_add(request):
    return _platform_form(request, None)


@login_required
@get_post
def platform_edit(request, pk):
    return _platform_form(request, _get(Platform.objects.select_related("lead_department"), request.user, pk))


def _platform_form(request, platform):
    user = request.user
    if not can_manage(user):
        return forbidden_page(request, _("仅区文明办管理员可以维护平台。"))
    initial = {}
    if platform:
        initial = {"name": platform.name, "lead_department": platform.lead_department_id,
                   "description": platform.description}
    form = forms.PlatformForm(request.POST or None, initial=initial)

    def save(data):
        if platform:
            return services.update_platform(user, platform, **data)
        return services.create_platform(user, **data)

    done = submit_form(request, form, save,
                       success=lambda saved: _("平台“%(name)s”已保存。") % {"name": saved.name},
                       then=redirect("org:platforms"))
    if done:
        return done
    title = _("编辑平台“%(name)s”") % {"name": platform.name} if platform else _("新建平台")
    return _form_page(request, form, title=title, back=reverse("org:platforms"))


@login_required
@get_post
def department_add(request):
    user = request.user
    if not can_manage(user):
        return forbidden_page(request, _("仅区文明办管理员可以维护区直部门。"))
    form = forms.DepartmentForm(request.POST or None)
    done = submit_form(request, form, lambda data: services.create_department(user, **data),
                       success=lambda dept: _("部门“%(name)s”已新增。") % {"name": dept.name},
                       then=redirect("org:platforms"))
    if done:
        return done
    return _form_page(request, form, title=_("新增区直部门"), back=reverse("org:platforms"), submit=_("新增"))


# --- Social organisations (公益组织).


@login_required
@require_GET
def social_orgs(request):
    user = request.user
    page = Paginator(queries.social_orgs_for(user).order_by("node__path", "id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "org/social_orgs.html", {"page": page, "can_create": queries.can_create_anywhere(user)})


@login_required
@get_post
def social_org_add(request):
    user = request.user
    nodes = queries.manageable_nodes(user)
    if not nodes.exists():
        return forbidden_page(request)
    form = forms.SocialOrgForm(request.POST or None, nodes=nodes)

    def save(data):
        node = data.pop("node")
        return services.create_social_org(user, node, **data)

    done = submit_form(request, form, save,
                       success=lambda org: _("公益组织“%(name)s”已登记。") % {"name": org.name},
                       then=redirect("org:social_orgs"))
    if done:
        return done
    return _form_page(request, form, title=_("登记公益组织"), back=reverse("org:social_orgs"), submit=_("登记"))


@login_required
@get_post
def social_org_edit(request, pk):
    user = request.user
    org = _get(SocialOrganization.objects.select_related("node"), user, pk)
    if not can_manage(user, org.node):
        return forbidden_page(request)
    initial = {"name": org.name, "credit_code": org.credit_code, "contact": org.contact, "phone": org.phone}
    form = forms.SocialOrgForm(request.POST or None, initial=initial, editing=True)
    done = submit_form(request, form, lambda data: services.update_social_org(user, org, **data),
                       success=_("已保存。"),
                       then=redirect("org:social_orgs"))
    if done:
        return done
    return _form_page(request, form, title=_("编辑公益组织“%(name)s”") % {"name": org.name},
                      back=reverse("org:social_orgs"), intro=_("所属组织：%(node)s") % {"node": org.node.name})


# --- Sites (阵地).


@login_required
@require_GET
def sites(request):
    user = request.user
    filters = forms.SiteFilterForm(request.GET or None, nodes=nodes_in_reach(user).order_by("path"))
    chosen = filters.cleaned_data if filters.is_valid() else {}
    qs = queries.sites_within(user, node=chosen.get("node"), kind=chosen.get("kind") or None)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "filters": filters, "can_create": queries.can_create_anywhere(user)}
    htmx = getattr(request, "htmx", None)
    template = "org/_sites_results.html" if htmx and htmx.target == "site-results" else "org/sites.html"
    return render(request, template, context)


@login_required
@require_GET
def site_detail(request, pk):
    user = request.user
    site = _get(Site.objects.select_related("node"), user, pk)
    return render(request, "org/site_detail.html", {"site": site, "can_manage": can_manage(user, site.node)})


@login_required
@get_post
def site_add(request):
    user = request.user
    nodes = queries.manageable_nodes(user)
    if not nodes.exists():
        return forbidden_page(request)
    initial = {}
    wanted = request.GET.get("node", "")
    if wanted.isdigit() and len(wanted) < 19:
        initial["node"] = int(wanted)
    form = forms.SiteForm(request.POST or None, nodes=nodes, initial=initial)

    def save(data):
        node = data.pop("node")
        return services.create_site(user, node, **data)

    done = submit_form(request, form, save,
                       success=lambda site: _("阵地“%(name)s”已新增。") % {"name": site.name},
                       then=lambda site: redirect("org:site", pk=site.pk))
    if done:
        return done
    return _form_page(request, form, title=_("新增阵地"), back=reverse("org:sites"), submit=_("新增"))


@login_required
@get_post
def site_edit(request, pk):
    user = request.user
    site = _get(Site.objects.select_related("node"), user, pk)
    if not can_manage(user, site.node):
        return forbidden_page(request)
    initial = {f: getattr(site, f) for f in services.SITE_FIELDS}
    form = forms.SiteForm(request.POST or None, initial=initial, editing=True)
    done = submit_form(request, form, lambda data: services.update_site(user, site, **data),
                       success=_("已保存。"),
                       then=redirect("org:site", pk=site.pk))
    if done:
        return done
    return _form_page(request, form, title=_("编辑阵地“%(name)s”") % {"name": site.name},
                      back=reverse("org:site", args=[site.pk]),
                      intro=_("所属组织：%(node)s") % {"node": site.node.name})


# --- Contact points (联系点) and their guidance visits.


@login_required
@require_GET
def contact_points(request):
    user = request.user
    overdue = request.GET.get("overdue") == "1"
    rows = queries.contact_point_rows(user, overdue_only=overdue)
    sections = [
        {"kind": kind, "label": label, "rows": [cp for cp in rows if cp.kind == kind]}
        for kind, label in ContactPoint.Kind.choices
    ]
    can_create = queries.manageable_nodes(user, (OrgNode.Kind.INSTITUTE, OrgNode.Kind.STATION)).exists()
    return render(request, "org/contact_points.html", {
        "sections": sections, "overdue": overdue, "can_create": can_create,
        "overdue_total": sum(1 for cp in rows if cp.overdue),
    })


def _contact_point(request, pk):
    try:
        return queries.contact_point_detail(request.user, pk)
    except NotFound:
        raise Http404


def _contact_point_page(request, cp, form, status=200):
    return render(request, "org/contact_point_detail.html", {
        "cp": cp, "form": form, "can_manage": can_manage(request.user, cp.node),
    }, status=status)


@login_required
@require_GET
def contact_point_detail(request, pk):
    cp = _contact_point(request, pk)
    form = forms.VisitForm() if can_manage(request.user, cp.node) else None
    return _contact_point_page(request, cp, form)


@login_required
@require_POST
def contact_point_visit(request, pk):
    user = request.user
    cp = _contact_point(request, pk)
    if not can_manage(user, cp.node):
        return forbidden_page(request)
    form = forms.VisitForm(request.POST)
    done = submit_form(request, form, lambda data: services.log_guidance_visit(user, cp, **data),
                       success=_("指导记录已登记。"), then=redirect("org:contact_point", pk=cp.pk))
    return done or _contact_point_page(request, cp, form)


@login_required
@get_post
def contact_point_add(request):
    user = request.user
    nodes = queries.manageable_nodes(user, (OrgNode.Kind.INSTITUTE, OrgNode.Kind.STATION))
    if not nodes.exists():
        return forbidden_page(request)
    form = forms.ContactPointForm(request.POST or None, nodes=nodes)

    def save(data):
        node = data.pop("node")
        return services.create_contact_point(user, node, **data)

    done = submit_form(request, form, save,
                       success=_("联系点已建立。"),
                       then=lambda cp: redirect("org:contact_point", pk=cp.pk))
    if done:
        return done
    return _form_page(request, form, title=_("建立联系点"), back=reverse("org:contact_points"), submit=_("建立"))


@login_required
@get_post
def contact_point_edit(request, pk):
    user = request.user
    cp = _contact_point(request, pk)
    if not can_manage(user, cp.node):
        return forbidden_page(request)
    initial = {"party": cp.party, "party_title": cp.party_title, "frequency_days": cp.frequency_days}
    form = forms.ContactPointForm(request.POST or None, initial=initial, editing=True)
    done = submit_form(request, form, lambda data: services.update_contact_point(user, cp, **data),
                       success=_("已保存。"),
                       then=redirect("org:contact_point", pk=cp.pk))
    if done:
        return done
    intro = _("%(kind)s · 联系点：%(node)s · 建立于 %(start)s") % {
        "kind": cp.get_kind_display(), "node": cp.node.name, "start": cp.started_on.isoformat()}
    return _form_page(request, form, title=_("编辑联系点"), back=reverse("org:contact_point", args=[cp.pk]),
                      intro=intro)
