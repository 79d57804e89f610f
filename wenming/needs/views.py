"""The console's need pages (/needs/): the list by stage, a need's page with the step its viewer may
take (review, dispatch with the ranked candidates, pool, accept/decline, serve, complete, rate,
cancel), the overdue list, the pool, photos, and the figures.

Thin: reads through queries, writes through services; a refusal becomes a message or a page,
never a 500."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wenming.core import audit, pii
from wenming.core.errors import DomainError, NotFound
from wenming.core.models import Department, OrgNode
from wenming.core.pages import domain_error_page, forbidden_page
from wenming.core.scoping import MANAGER_ROLES, get_scoped, in_reach, nodes_in_reach, scoped
from wenming.people.models import Team, Volunteer

from . import forms, queries, services
from .models import Need, NeedPhoto, ServiceOffer
from .photos import MAX_BYTES

PAGE_SIZE = 30
MAX_ID = 2**63
S = Need.State
STAGES = [  # the list's tabs: (key, label, states)
    ("review", _("待审核"), [S.SUBMITTED]),
    ("dispatch", _("待派单"), [S.APPROVED]),
    ("dispatched", _("已派单"), [S.DISPATCHED]),
    ("serving", _("办理中"), [S.ACCEPTED, S.IN_SERVICE]),
    ("rating", _("待评价"), [S.COMPLETED]),
    ("done", _("已完成"), [S.CLOSED]),
    ("ended", _("已驳回/取消"), [S.REJECTED, S.CANCELLED]),
]


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


def _need(user, pk) -> Need:
    try:
        if not 0 < int(pk) < MAX_ID:
            raise ValueError
        return queries.needs_for(user).get(pk=pk)
    except (Need.DoesNotExist, ValueError, TypeError):
        raise NotFound("需求不存在或不在您的管辖范围内。")


def _int(value):
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or 0 < number < MAX_ID else None


# --- The list ------------------------------------------------------------------------------------


@console
def need_list(request):
    qs = queries.needs_for(request.user)
    stage = request.GET.get("stage", "")
    states = {key: states for key, _label, states in STAGES}
    if stage in states:
        qs = qs.filter(state__in=states[stage])
    q = request.GET.get("q", "").strip()[:50]
    if q:
        qs = qs.filter(code=q.upper()) | qs.filter(description__contains=q) | qs.filter(contact_name=q)
    overdue = request.GET.get("overdue") == "1"
    if overdue:
        qs = qs.filter(overdue=True, state__in=Need.OPEN_STATES)
    node_id = _int(request.GET.get("node"))
    if node_id:
        node = get_scoped(OrgNode.objects.all(), request.user, node_id)
        qs = qs.filter(node__path__startswith=node.path)
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "needs/console_list.html", {
        "page": page, "stage": stage, "q": q, "overdue": overdue,
        "tabs": [(key, label, count) for (key, label, _s), count in
                 zip(STAGES, queries.stage_counts(request.user, STAGES).values(), strict=True)],
        "nodes": [(n.pk, n.name) for n in nodes_in_reach(request.user).order_by("path")[:300]],
        "node_id": node_id, "filtered": bool(stage or q or overdue or node_id),
        "may_enter": request.user.is_superuser or request.user.role in MANAGER_ROLES,
    })


@console
def need_new(request):
    """帮办: a station admin enters a need on a resident's behalf (one by one; many by Excel import)."""
    user = request.user
    if not (user.is_superuser or user.role in MANAGER_ROLES):
        return forbidden_page(request, _("只有实践站（所、中心）管理员可以代群众点单。"))
    form = forms.proxy_need_form(user, request.POST or None, request.FILES or None,
                                 station_text=request.POST.get("find", "") if request.method == "POST" else "")
    if request.method == "POST" and "do_find" not in request.POST and form.is_valid():
        try:
            need = services.submit_need(form.need_data(), by=user)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("已代为点单，查询码 %(code)s（请告知群众，凭查询码和手机号后4位查询进度）。")
                             % {"code": need.code})
            return redirect("needs:detail", pk=need.pk)
    return render(request, "needs/console_new.html", {"form": form})


@console
def overdue_list(request):
    page = Paginator(queries.overdue_needs(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "needs/console_overdue.html", {"page": page})


@console
def pool(request):
    teams = services.led_teams(request.user)
    page = Paginator(queries.pool_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    wishes = list(queries.wishes_to_claim(request.user)[:50]) if teams else []
    return render(request, "needs/console_pool.html", {"page": page, "teams": teams, "wishes": wishes})


# --- A need's page -------------------------------------------------------------------------------


def _detail_context(request, need: Need, **extra) -> dict:
    user = request.user
    handler = services.can_handle(user, need)
    assignee = services.is_assignee(user, need)
    state = need.state
    context = {
        "need": need, "events": queries.timeline(need), "photos": list(need.photos.only("id", "kind", "width", "height")),
        "handler": handler, "assignee": assignee,
        "may_review": handler and state == S.SUBMITTED,
        "may_dispatch": handler and state == S.APPROVED,
        "may_accept": assignee and state == S.DISPATCHED and not need.in_pool,
        "may_withdraw": handler and state == S.DISPATCHED and need.in_pool,
        "may_start": assignee and state == S.ACCEPTED,
        "may_activity": assignee and state in (S.ACCEPTED, S.IN_SERVICE) and not need.activity_id,
        "may_complete": assignee and state in (S.ACCEPTED, S.IN_SERVICE),
        "may_rate": handler and state == S.COMPLETED,
        "may_cancel": handler and state in (S.SUBMITTED, S.APPROVED, S.DISPATCHED),
        "may_reveal": handler or assignee,
        "grab_teams": [t for t in services.led_teams(user) if state == S.DISPATCHED and need.in_pool],
        "claim_teams": [t for t in services.led_teams(user) if state == S.APPROVED and need.is_wish],
        "hours": list(need.hours.select_related("volunteer", "request")),
        "review_form": forms.ReviewForm(), "reason_form": forms.ReasonForm(), "rate_form": forms.RateForm(),
    }
    if context["may_dispatch"]:
        context |= _dispatch_choices(user, need)
    if context["may_complete"]:
        context.setdefault("complete_form", forms.CompleteForm(members=_members(need)))
    context.update(extra)
    return context


def _members(need: Need) -> list[Volunteer]:
    if need.team_id:
        team = need.team
        people = list(team.members.order_by("name"))
        if team.leader_id and all(v.pk != team.leader_id for v in people):
            people.insert(0, team.leader)
        return people
    if need.volunteer_id:
        return [need.volunteer]
    return []


def _dispatch_choices(user, need: Need) -> dict:
    from .candidates import candidates_for

    ranked = candidates_for(need, dispatcher=user)
    return {
        "team_candidates": [c for c in ranked if c.kind == "team"],
        "volunteer_candidates": [c for c in ranked if c.kind == "volunteer"],
        "lower_nodes": list(OrgNode.objects.filter(path__startswith=need.node.path, depth=need.node.depth + 1)
                            .order_by("path")),
        "departments": list(Department.objects.order_by("name")),
        "teams_in_reach": list(scoped(Team.objects.all(), user).order_by("name")[:500]),
    }


@console
def need_detail(request, pk):
    return render(request, "needs/console_detail.html", _detail_context(request, _need(request.user, pk)))


def _act(request, pk, action, success: str):
    """Run one transition from a POSTed button; its refusal comes back as a message on the need's page."""
    need = _need(request.user, pk)
    try:
        action(need)
    except DomainError as exc:
        if exc.status in (401, 403) and not services.can_handle(request.user, need) \
                and not services.is_assignee(request.user, need):
            return forbidden_page(request, exc.message, status=exc.status)
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("needs:detail", pk=need.pk)


@console
@require_POST
def review(request, pk):
    form = forms.ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审核结果。"))
        return redirect("needs:detail", pk=pk)
    approve, reason = form.cleaned_data["approve"], form.cleaned_data["reason"]
    return _act(request, pk, lambda n: services.review_need(request.user, n, approve=approve, reason=reason),
                _("已审核通过，请派单。") if approve else _("已驳回，群众可看到驳回原因。"))


@console
@require_POST
def dispatch(request, pk):
    kind, target = request.POST.get("kind", ""), _int(request.POST.get("target"))
    note = request.POST.get("note", "")[:200]
    models = {"team": Team, "volunteer": Volunteer, "node": OrgNode, "department": Department}
    if kind not in models or target is None:
        messages.error(request, _("请选择派单对象。"))
        return redirect("needs:detail", pk=pk)
    try:
        chosen = models[kind].objects.get(pk=target)
    except models[kind].DoesNotExist:
        messages.error(request, _("派单对象不存在。"))
        return redirect("needs:detail", pk=pk)
    return _act(request, pk, lambda n: services.dispatch_need(request.user, n, note=note, **{kind: chosen}),
                _("已派单给 %(who)s。") % {"who": chosen})


@console
@require_POST
def publish(request, pk):
    return _act(request, pk, lambda n: services.publish_need(request.user, n), _("已发布到抢单池。"))


@console
@require_POST
def accept(request, pk):
    return _act(request, pk, lambda n: services.accept_need(request.user, n), _("已接单。"))


def _reason(request) -> str:
    form = forms.ReasonForm(request.POST)
    return form.cleaned_data["reason"] if form.is_valid() else ""


@console
@require_POST
def decline(request, pk):
    reason = _reason(request)
    return _act(request, pk, lambda n: services.decline_need(request.user, n, reason=reason),
                _("已退回，等待改派。"))


@console
@require_POST
def start(request, pk):
    return _act(request, pk, lambda n: services.start_service(request.user, n), _("已开始服务。"))


@console
@require_POST
def cancel(request, pk):
    reason = _reason(request)
    return _act(request, pk, lambda n: services.cancel_need(n, reason=reason, by=request.user), _("需求已取消。"))


@console
@require_POST
def rate(request, pk):
    form = forms.RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择1到5星。"))
        return redirect("needs:detail", pk=pk)
    data = form.cleaned_data
    return _act(request, pk, lambda n: services.rate_need(n, stars=data["stars"], comment=data["comment"],
                                                          by=request.user), _("已代群众评价。"))


def _team_of(request) -> Team | None:
    team_id = _int(request.POST.get("team"))
    return next((t for t in services.led_teams(request.user) if t.pk == team_id), None)


@console
@require_POST
def grab(request, pk):
    team = _team_of(request)
    if team is None:
        return forbidden_page(request, _("只有队长可以为本队抢单。"))
    return _act(request, pk, lambda n: services.grab_need(request.user, n, team), _("抢单成功！"))


@console
@require_POST
def claim(request, pk):
    team = _team_of(request)
    if team is None:
        return forbidden_page(request, _("只有队长可以为本队认领心愿。"))
    return _act(request, pk, lambda n: services.claim_wish(request.user, n, team), _("已认领心愿。"))


@console
def complete(request, pk):
    need = _need(request.user, pk)
    if request.method != "POST":
        return redirect("needs:detail", pk=pk)
    form = forms.CompleteForm(request.POST, request.FILES, members=_members(need))
    if form.is_valid():
        photos = [f.read(MAX_BYTES + 1) for f in request.FILES.getlist("photos")[:4]]
        hours = [services.ReportedHours(v, float(h)) for v, h in form.reported()]
        try:
            services.complete_need(request.user, need, report=form.cleaned_data["report"],
                                   people_served=form.cleaned_data["people_served"], hours=hours, photos=photos)
        except DomainError as exc:
            forms.add_domain_error(form, exc)
        else:
            messages.success(request, _("已完成，等待群众评价。填报的时长已提交审批。"))
            return redirect("needs:detail", pk=pk)
    return render(request, "needs/console_detail.html", _detail_context(request, need, complete_form=form,
                                                                          complete_open=True), status=422)


@console
@require_POST
def reveal_phone(request, pk):
    """The full phone number, for whoever handles or serves the need (each reveal audited)."""
    need = _need(request.user, pk)
    if not (services.can_handle(request.user, need) or services.is_assignee(request.user, need)):
        return forbidden_page(request)
    audit.record(request.user, "need.phone.reveal", need)
    context = _detail_context(request, need, revealed_phone=pii.decrypt(need.phone_enc))
    response = render(request, "needs/console_detail.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@console
def photo(request, pk, photo_id):
    need = _need(request.user, pk)
    try:
        item = NeedPhoto.objects.get(pk=photo_id, need=need)
    except (NeedPhoto.DoesNotExist, ValueError):
        raise NotFound("照片不存在。")
    response = HttpResponse(bytes(item.image), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- The service menu (服务清单) ------------------------------------------------------------------


def _offer_teams(user):
    """Teams whose menu the account keeps: the teams it leads, and those in a manager's reach."""
    qs = Team.objects.filter(leader__user=user) if user.is_authenticated else Team.objects.none()
    if user.is_superuser or user.role in MANAGER_ROLES:
        qs = qs | scoped(Team.objects.all(), user)
    return qs.distinct().order_by("name")


@console
def offers(request):
    user = request.user
    teams = _offer_teams(user)
    editing = None
    if _int(request.GET.get("edit")):
        editing = ServiceOffer.objects.filter(pk=_int(request.GET.get("edit")), team__in=teams).first()
    initial = {"team": editing.team_id, "category": editing.category_id, "title": editing.title,
               "schedule": editing.schedule, "description": editing.description, "active": editing.active} \
        if editing else None
    form = forms.OfferForm(request.POST or None, initial=initial, teams=teams, categories=queries.leaf_categories())
    if request.method == "POST" and form.is_valid():
        if _int(request.POST.get("offer")):
            editing = ServiceOffer.objects.filter(pk=_int(request.POST.get("offer")), team__in=teams).first()
        try:
            services.save_offer(user, offer=editing, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("服务清单已保存。"))
            return redirect("needs:offers")
    rows = ServiceOffer.objects.filter(team__in=teams).select_related("team", "category").order_by("team__name", "id")
    return render(request, "needs/console_offers.html", {"form": form, "offers": rows, "editing": editing,
                                                         "may_edit": teams.exists()})


# --- Serving through an activity ------------------------------------------------------------------


@console
def new_activity(request, pk):
    """An activity created from the need (prefilled): sign-up and check-in as usual give verified hours."""
    from wenming.activities import forms as activity_forms
    from wenming.activities import services as activity_services

    need = _need(request.user, pk)
    if not services.is_assignee(request.user, need) or need.state not in (S.ACCEPTED, S.IN_SERVICE) \
            or need.activity_id:
        return forbidden_page(request, _("只有承接方可以在接单后、尚未关联活动时创建服务活动。"))
    start = need.wished_at if need.wished_at and need.wished_at > timezone.now() else \
        (timezone.localtime() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    initial = {
        "title": f"{need.category.name}：{need.description[:30]}"[:100], "description": need.description,
        # a team leader organises through their team (the form offers them no node); a manager by node
        "node": None if request.user.role not in MANAGER_ROLES else (need.team.node_id if need.team_id else need.station_id),
        "team": need.team_id,
        "address": need.address, "starts_at": timezone.localtime(start),
        "ends_at": timezone.localtime(start + timedelta(hours=2)), "capacity": 5,
        "platform": need.category.platform_id or (need.category.parent.platform_id if need.category.parent_id else None),
        "skills": list(need.category.skills.values_list("pk", flat=True)), "expected_beneficiaries": 1,
    }
    form = activity_forms.ActivityForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            activity = activity_services.create_activity(request.user, form.activity_data())
            services.link_activity(request.user, need, activity)
        except DomainError as exc:
            activity_forms.add_domain_error(form, exc, activity_forms.ACTIVITY_ERROR_FIELDS)
        else:
            messages.success(request, _("已创建服务活动（草稿）并关联本需求；发布后志愿者即可报名、扫码签到。"))
            return redirect("activities:detail", pk=activity.pk)
    return render(request, "activities/console_form.html", {"form": form, "creating": True, "from_need": need})


# --- 一键派单 ----------------------------------------------------------------------------------


@console
def batch(request):
    from . import batch as batching

    user = request.user
    nodes = [n for n in nodes_in_reach(user).order_by("path")[:300]]
    node_id = _int(request.GET.get("node") or request.POST.get("node")) or (nodes[0].pk if nodes else None)
    if node_id is None:
        return forbidden_page(request)
    node = get_scoped(OrgNode.objects.all(), user, node_id)
    if request.method == "POST":
        pairs = []
        for value in request.POST.getlist("pair")[:batching.MAX_NEEDS]:
            need_id, _sep, team_id = value.partition(":")
            if _int(need_id) and _int(team_id):
                pairs.append((int(need_id), int(team_id)))
        result = batching.confirm_batch(user, pairs)
        if result.dispatched:
            messages.success(request, _("已派单 %(n)d 项。") % {"n": len(result.dispatched)})
        for need, message in result.failed:
            messages.error(request, f"{need.code}：{message}")
        return redirect(f"{request.path}?node={node.pk}")
    proposal = batching.propose_batch(user, node)
    return render(request, "needs/console_batch.html", {"nodes": nodes, "node": node, "proposal": proposal})


# --- Figures -------------------------------------------------------------------------------------


@console
def figures(request):
    user = request.user
    nodes = list(nodes_in_reach(user).exclude(kind=OrgNode.Kind.STATION).order_by("path")[:200]) or \
        list(nodes_in_reach(user).order_by("path")[:200])
    node_id = _int(request.GET.get("node")) or (nodes[0].pk if nodes else None)
    today = timezone.localdate()
    start = parse_date(request.GET.get("start") or "") or today.replace(day=1)
    end = parse_date(request.GET.get("end") or "") or today
    error = None
    result = None
    node = None
    if node_id:
        node = get_scoped(OrgNode.objects.all(), user, node_id)
        if end < start or end - start > timedelta(days=3660):
            error = _("统计期间不正确：结束日期不能早于开始日期，最长10年。")
        elif not in_reach(user, node):
            return forbidden_page(request)
        else:
            result = queries.need_figures(node, start, end)
    return render(request, "needs/console_figures.html", {
        "nodes": nodes, "node": node, "start": start, "end": end, "result": result, "error": error,
    })
