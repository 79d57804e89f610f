"""Pages of volunteers (志愿者) and teams (志愿服务队), and the public phone registration.

Thin faces: reads through queries (scoped), writes through services; every DomainError becomes
a page with its Chinese message, never a 500."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from wenming.core import pii
from wenming.core.errors import Conflict, DomainError, InvalidInput, RateLimited
from wenming.core.models import OrgNode, Skill
from wenming.core.pages import domain_error_page, domain_errors
from wenming.core.scoping import MANAGER_ROLES, can_manage, can_reveal, in_reach, nodes_in_reach
from wenming.core.views import not_found

from . import forms, queries, services
from .models import TeamMembership, Volunteer

PAGE_SIZE = 50


# --- Helpers ----------------------------------------------------------------


def forbidden(request, message=None, status=403):
    return render(
        request, "core/error.html",
        {"title": _("无权访问"), "message": message or _("您无权进行此项操作。")}, status=status,
    )






def _int(value):
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    # An id beyond 64 bits matches nothing (and would overflow SQLite's integers).
    return number if number is None or 0 < number < 2**63 else None


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR") or ""


def _is_manager(user) -> bool:
    return user.is_superuser or user.role in MANAGER_ROLES


def _htmx_target(request, target: str) -> bool:
    """An htmx request that swaps only `target` (a history restore wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.target == target and not htmx.history_restore_request


# --- Volunteers ---------------------------------------------------------------


@login_required
@domain_errors
def volunteer_list(request):
    user, params = request.user, request.GET
    text = params.get("q", "")[:50]
    station_id, skill_id = _int(params.get("station")), _int(params.get("skill"))
    # The page to read along with the count (a guess: Paginator still checks the number). A list
    # shows at most COUNT_CAP, so no page past those is read.
    number = min(_int(params.get("page")) or 1, queries.COUNT_CAP // PAGE_SIZE + 1)
    results = queries.search_volunteers(user, text=text, station_id=station_id, skill_id=skill_id,
                                        window=((number - 1) * PAGE_SIZE, number * PAGE_SIZE))
    page = Paginator(results, PAGE_SIZE).get_page(params.get("page"))
    ctx = {"page": page, "count_is_capped": results.count_is_capped, "count_cap": queries.COUNT_CAP,
           "q": text, "station_id": station_id, "skill_id": skill_id}
    if _htmx_target(request, "volunteer-results"):
        return render(request, "people/_volunteer_table.html", ctx)
    station_groups = queries.stations_grouped(nodes_in_reach(user, OrgNode.Kind.STATION))
    ctx.update(
        station_groups=station_groups,
        station_filter=sum(len(members) for _institute, members in station_groups) > 1,
        skills=Skill.objects.all(),
        is_manager=_is_manager(user),
        can_register=queries.stations_managed_by(user).exists(),
    )
    return render(request, "people/volunteer_list.html", ctx)


@login_required
@domain_errors
def volunteer_detail(request, pk):
    user = request.user
    volunteer = queries.volunteer_detail_for(user, pk)
    ctx = {
        "v": volunteer,
        "teams": queries.teams_of_volunteer(user, volunteer),
        "may_reveal": can_reveal(user) and in_reach(user, volunteer.station),
        "may_edit": can_manage(user, volunteer.station),
        "availability": [services.AVAILABILITY.get(a, a) for a in volunteer.availability],
    }
    return render(request, "people/volunteer_detail.html", ctx)


@never_cache
@login_required
@require_POST
def volunteer_reveal(request, pk, field):
    """One full number, for a role that may see it (audited by the service). Never cached."""
    try:
        volunteer = queries.volunteer_detail_for(request.user, pk)
        value = services.reveal_volunteer_field(request.user, volunteer, field)
    except DomainError as exc:
        if getattr(request, "htmx", False):
            return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
        return domain_error_page(request, exc)
    return HttpResponse(value, content_type="text/plain; charset=utf-8")


@login_required
@domain_errors
def volunteer_new(request):
    stations = queries.stations_managed_by(request.user)
    if not stations.exists():
        return forbidden(request, _("您的角色无权登记志愿者。"))
    form = forms.VolunteerForm(request.POST or None, stations=stations)
    if request.method == "POST" and form.is_valid():
        try:
            volunteer = services.register_volunteer(
                request.user, form.volunteer_data(), source=Volunteer.Source.CONSOLE
            )
        except (InvalidInput, Conflict) as exc:
            forms.add_domain_error(form, exc, forms.VOLUNTEER_ERROR_FIELDS)
        else:
            messages.success(
                request, _("登记成功，志愿者编号：%(number)s") % {"number": volunteer.number}
            )
            return redirect("people:volunteer", pk=volunteer.pk)
    return render(request, "people/volunteer_form.html", {"form": form, "creating": True})


@login_required
@domain_errors
def volunteer_edit(request, pk):
    user = request.user
    volunteer = queries.volunteer_detail_for(user, pk)
    if not can_manage(user, volunteer.station):
        return forbidden(request, _("您无权修改该志愿者的信息。"))
    initial = {
        "political_status": volunteer.political_status, "station": volunteer.station_id,
        "skills": list(volunteer.skills.all()), "availability": volunteer.availability,
    }
    form = forms.VolunteerEditForm(
        request.POST or None, initial=initial, stations=queries.stations_managed_by(user)
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.update_volunteer(
                user, volunteer, phone=d["phone"], political_status=d["political_status"],
                station=d["station"], skills=list(d["skills"]), availability=list(d["availability"]),
            )
        except (InvalidInput, Conflict) as exc:
            forms.add_domain_error(form, exc, forms.VOLUNTEER_ERROR_FIELDS)
        else:
            messages.success(request, _("已保存。"))
            return redirect("people:volunteer", pk=volunteer.pk)
    return render(request, "people/volunteer_form.html", {"form": form, "v": volunteer, "creating": False})


# --- Teams --------------------------------------------------------------------


@login_required
@domain_errors
def team_list(request):
    user, params = request.user, request.GET
    text, node_id = params.get("q", "")[:50], _int(params.get("node"))
    page = Paginator(queries.teams_for(user, text=text, node_id=node_id), PAGE_SIZE).get_page(params.get("page"))
    ctx = {"page": page, "q": text, "node_id": node_id}
    if _htmx_target(request, "team-results"):
        return render(request, "people/_team_table.html", ctx)
    nodes = nodes_in_reach(user).order_by("path")
    ctx.update(
        nodes=[(n.pk, forms.node_label(n)) for n in nodes],
        can_create=queries.nodes_managed_by(user).exists(),
    )
    return render(request, "people/team_list.html", ctx)


@login_required
@domain_errors
def team_detail(request, pk):
    user = request.user
    team = queries.team_detail_for(user, pk)
    members = Paginator(queries.team_members(team), PAGE_SIZE).get_page(request.GET.get("page"))
    reachable = set(
        queries.volunteers_for(user).filter(pk__in=[m.volunteer_id for m in members]).values_list("pk", flat=True)
    )
    for m in members:
        m.linkable = m.volunteer_id in reachable
    ctx = {
        "team": team, "page": members, "may_manage": can_manage(user, team.node),
        "member_form": forms.MemberForm(),
    }
    return render(request, "people/team_detail.html", ctx)


@login_required
@domain_errors
def team_new(request):
    user = request.user
    nodes = list(queries.nodes_managed_by(user))
    if not nodes:
        return forbidden(request, _("您的角色无权新建志愿服务队。"))
    form = forms.TeamForm(request.POST or None, user=user, nodes=nodes)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.create_team(
                user, form.cleaned_data["node"], skills=list(form.cleaned_data["skills"]), **form.team_fields()
            )
        except (InvalidInput, Conflict) as exc:
            forms.add_domain_error(form, exc, forms.TEAM_ERROR_FIELDS)
        else:
            messages.success(request, _("已新建志愿服务队“%(name)s”。") % {"name": team.name})
            return redirect("people:team", pk=team.pk)
    return render(request, "people/team_form.html", {"form": form, "creating": True})


@login_required
@domain_errors
def team_edit(request, pk):
    user = request.user
    team = queries.team_detail_for(user, pk)
    if not can_manage(user, team.node):
        return forbidden(request, _("您无权修改该志愿服务队。"))
    initial = {
        "name": team.name, "platform": team.platform_id, "social_org": team.social_org_id,
        "leader_number": team.leader.number if team.leader_id else "", "skills": list(team.skills.all()),
        "capacity": team.capacity, "description": team.description,
    }
    form = forms.TeamForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_team(user, team, skills=list(form.cleaned_data["skills"]), **form.team_fields())
        except (InvalidInput, Conflict) as exc:
            forms.add_domain_error(form, exc, forms.TEAM_ERROR_FIELDS)
        else:
            messages.success(request, _("已保存。"))
            return redirect("people:team", pk=team.pk)
    return render(request, "people/team_form.html", {"form": form, "team": team, "creating": False})


@login_required
@require_POST
@domain_errors
def team_member_add(request, pk):
    user = request.user
    team = queries.team_detail_for(user, pk)
    if not can_manage(user, team.node):
        return forbidden(request, _("您无权调整该志愿服务队的队员。"))
    form = forms.MemberForm(request.POST)
    volunteer = queries.volunteer_by_number(user, form.cleaned_data["number"]) if form.is_valid() else None
    if volunteer is None:
        messages.error(request, _("找不到该编号的志愿者，或其不在您的管辖范围内。"))
    else:
        try:
            services.add_team_member(user, team, volunteer)
        except (InvalidInput, Conflict) as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已将 %(who)s 加入本队。") % {"who": volunteer})
    return redirect("people:team", pk=team.pk)


@login_required
@require_POST
@domain_errors
def team_member_remove(request, pk, volunteer_id):
    user = request.user
    team = queries.team_detail_for(user, pk)
    if not can_manage(user, team.node):
        return forbidden(request, _("您无权调整该志愿服务队的队员。"))
    membership = TeamMembership.objects.filter(team=team, volunteer_id=volunteer_id).select_related("volunteer").first()
    if membership is None:
        return not_found(request)
    try:
        services.remove_team_member(user, team, membership.volunteer)
    except (InvalidInput, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已将 %(who)s 移出本队。") % {"who": membership.volunteer})
    return redirect("people:team", pk=team.pk)


# --- Public phone registration ------------------------------------------------


def _join_initial(request) -> dict:
    """A station's own link (…/join/?station=ID, e.g. behind a QR code) preselects it."""
    station = OrgNode.objects.filter(pk=_int(request.GET.get("station")), kind=OrgNode.Kind.STATION).first()
    if station is None:
        institute = queries.public_institutes().filter(pk=_int(request.GET.get("institute"))).first()
        return {"institute": institute} if institute else {}
    return {"institute": station.get_parent(), "station": station}


def _rate_limited(request, exc: RateLimited):
    return render(request, "people/join_limited.html", {"message": exc.message}, status=429)


def join(request):
    if request.method == "POST":
        ip = _client_ip(request)
        try:
            services.check_self_registration_rate(ip)
        except RateLimited as exc:
            return _rate_limited(request, exc)
        form = forms.JoinForm(request.POST)
        if form.is_valid():
            try:
                volunteer = services.self_register(ip, form.volunteer_data())
            except RateLimited as exc:
                return _rate_limited(request, exc)
            except (InvalidInput, Conflict) as exc:
                forms.add_domain_error(form, exc, forms.VOLUNTEER_ERROR_FIELDS)
            else:
                request.session["people_joined"] = {
                    "number": volunteer.number,
                    "name": pii.mask_name(volunteer.name),
                    "phone": volunteer.phone_masked,
                }
                return redirect("people:join_done")
    else:
        form = forms.JoinForm(initial=_join_initial(request))
    return render(request, "people/join.html", {"form": form})


def join_stations(request):
    """The station <select> for the chosen institute (htmx)."""
    form = forms.JoinForm(initial={"institute": request.GET.get("institute")})
    return render(request, "people/_join_station_select.html", {"field": form["station"]})


@never_cache
def join_done(request):
    joined = request.session.get("people_joined")
    if not joined:
        return redirect("people:join")
    return render(request, "people/join_done.html", {"joined": joined, "login_url": reverse("core:login")})
