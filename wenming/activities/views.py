"""The organisers' console pages of activities (活动): list, create and edit, publish (with the
over-serving confirmation), cancel, sign up on someone's behalf, the live sign-up and check-in
list, the full-screen check-in code (签到屏), settlement (结算), themes and brands.

Thin faces: reads through queries and core.scoping, writes through services and checkin; every
DomainError becomes a message on the page or form, never a 500. Volunteers use the phone pages
(/a/); the console refuses their role."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import wraps

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from wenming.core.errors import DomainError, Forbidden, NotFound
from wenming.core.models import User
from wenming.core.pages import domain_error_page, forbidden_page
from wenming.core.scoping import can_manage, get_scoped, nodes_in_reach, scoped
from wenming.core.views import not_found
from wenming.people import queries as people_queries
from wenming.people.models import Team, Volunteer

from . import checkin, forms, ical, queries, services
from .models import Activity, Attendance, Brand, Scan, SignUp, Theme

PAGE_SIZE = 30
MAX_ID = 2**63


# --- Helpers ---------------------------------------------------------------------------------------


def _error_page(request, title, message, status):
    return render(request, "core/error.html", {"title": title, "message": message}, status=status)




def console(view):
    """Log-in required; the volunteer role has the phone pages, not the console; a refusal from a
    service or a query becomes its page (404 / 403 / 4xx with the Chinese message)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.role == User.Role.VOLUNTEER and not user.is_superuser:
            return forbidden_page(request, _("活动管理页面供组织者使用；志愿者请在手机上打开“志愿活动”页面。"))
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return domain_error_page(request, exc)

    return wrapper


def _int(value):
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or 0 < number < MAX_ID else None


def _activity(user, pk) -> Activity:
    """An activity within the user's reach (a team leader's own team's too), or NotFound."""
    if not 0 < pk < MAX_ID:
        raise NotFound("记录不存在或不在您的管辖范围内。")
    return get_scoped(queries.activities_for(user).prefetch_related("themes", "skills"), user, pk)


def _phase_filter(qs, phase: str, now):
    P, S = Activity.Phase, Activity.Status
    if phase in (P.DRAFT, P.SETTLED, P.CANCELLED):
        return qs.filter(status=phase)
    if phase == P.RECRUITING:
        return qs.filter(status=S.PUBLISHED, starts_at__gt=now)
    if phase == P.IN_PROGRESS:
        return qs.filter(status=S.PUBLISHED, starts_at__lte=now, ends_at__gt=now)
    if phase == P.FINISHED:
        return qs.filter(status=S.PUBLISHED, ends_at__lte=now)
    return qs


def _local_day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def _htmx_target(request, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.target == target and not htmx.history_restore_request


def _may_organise(user) -> bool:
    return forms.organiser_nodes(user).exists() or forms.organiser_teams(user).exists()


# --- The list ---------------------------------------------------------------------------------------


@console
def activity_list(request):
    user, params, now = request.user, request.GET, timezone.now()
    text = params.get("q", "").strip()[:50]
    phase = params.get("phase", "")
    phase = phase if phase in Activity.Phase.values else ""
    theme_id, node_id, team_id = _int(params.get("theme")), _int(params.get("node")), _int(params.get("team"))
    date_from, date_to = _date(params.get("from")), _date(params.get("to"))

    qs = queries.activities_for(user)
    if text:
        qs = qs.filter(title__icontains=text)
    qs = _phase_filter(qs, phase, now)
    if theme_id:
        qs = qs.filter(themes__id=theme_id)
    node = nodes_in_reach(user).filter(pk=node_id).first() if node_id else None
    if node_id:
        qs = qs.filter(node__path__startswith=node.path) if node else qs.none()
    team = scoped(Team.objects.all(), user).filter(pk=team_id).first() if team_id else None
    if team_id:
        qs = qs.filter(team=team) if team else qs.none()
    if date_from:
        qs = qs.filter(starts_at__gte=_local_day_start(date_from))
    if date_to:
        qs = qs.filter(starts_at__lt=_local_day_start(date_to) + timedelta(days=1))
    qs = queries._with_counts(qs.prefetch_related("themes")).order_by("-starts_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(params.get("page"))
    filtered = bool(text or phase or theme_id or node_id or team_id or date_from or date_to)
    ctx = {
        "page": page, "q": text, "phase": phase, "theme_id": theme_id, "node_id": node_id, "team_id": team_id,
        "date_from": params.get("from", "")[:10] if date_from else "", "date_to": params.get("to", "")[:10] if date_to else "",
        "filtered": filtered, "now": now,
    }
    if _htmx_target(request, "activity-results"):
        return render(request, "activities/console_list_results.html", ctx)
    feed_node = node or (user.scopes.order_by("depth", "path").first() if not user.is_superuser else None)
    ctx.update(
        phases=Activity.Phase.choices,
        themes=Theme.objects.all(),
        nodes=[(n.pk, forms.node_label(n)) for n in nodes_in_reach(user).order_by("path")[:500]],
        teams=scoped(Team.objects.all(), user).order_by("name")[:500],
        can_create=_may_organise(user),
        feed_node=feed_node,
        feed_node_url=request.build_absolute_uri(reverse("activities:ical-node", args=[feed_node.pk]))
        if feed_node else None,
        feed_team=team,
        feed_team_url=request.build_absolute_uri(reverse("activities:ical-team", args=[team.pk])) if team else None,
    )
    return render(request, "activities/console_list.html", ctx)


def _date(value):
    try:
        day = parse_date((value or "")[:10])
    except ValueError:
        return None
    return day if day and 2000 <= day.year <= 2100 else None


# --- Create and edit ------------------------------------------------------------------------------


@console
def activity_new(request):
    user = request.user
    if not _may_organise(user):
        return forbidden_page(request, _("您的角色无权创建活动。"))
    form = forms.ActivityForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.create_activity(user, form.activity_data())
        except DomainError as exc:
            forms.add_domain_error(form, exc, forms.ACTIVITY_ERROR_FIELDS)
        else:
            messages.success(request, _("已保存为草稿。检查无误后请点击“发布”开始招募。"))
            return redirect("activities:detail", pk=activity.pk)
    return render(request, "activities/console_form.html", {"form": form, "creating": True})


@console
def activity_edit(request, pk):
    user = request.user
    activity = _activity(user, pk)
    services.require_organiser(user, activity.node, activity.team)
    if activity.phase not in (Activity.Phase.DRAFT, Activity.Phase.RECRUITING):
        messages.error(request, _("活动已开始、结束或取消，不能再修改。"))
        return redirect("activities:detail", pk=activity.pk)
    form = forms.ActivityForm(request.POST or None, user=user, initial=forms.ActivityForm.initial_for(activity))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_activity(user, activity, form.activity_data())
        except DomainError as exc:
            forms.add_domain_error(form, exc, forms.ACTIVITY_ERROR_FIELDS)
        else:
            messages.success(request, _("已保存。"))
            return redirect("activities:detail", pk=activity.pk)
    return render(request, "activities/console_form.html", {"form": form, "creating": False, "activity": activity})


# --- Detail and its actions -------------------------------------------------------------------------


def _detail_context(request, activity: Activity, **extra) -> dict:
    user = request.user
    phase = activity.phase
    counts = activity.signups.aggregate(
        confirmed=Count("pk", filter=Q(status=SignUp.Status.CONFIRMED)),
        waiting=Count("pk", filter=Q(status=SignUp.Status.WAITING)),
    )
    counts["checked_in"] = activity.attendances.count()
    may = services.can_organise(user, activity)
    P = Activity.Phase
    ctx = {
        "a": activity,
        "phase": phase,
        "counts": counts,
        "may_organise": may,
        "may_edit": may and phase in (P.DRAFT, P.RECRUITING),
        "may_publish": may and phase == P.DRAFT,
        "may_cancel": may and phase in (P.DRAFT, P.RECRUITING, P.IN_PROGRESS),
        "may_sign_up": may and phase == P.RECRUITING,
        "may_show_code": may and activity.status == Activity.Status.PUBLISHED,
        "may_settle": may and phase in (P.FINISHED, P.SETTLED),
        "cancel_form": extra.pop("cancel_form", None) or forms.CancelForm(),
        "ical_url": request.build_absolute_uri(reverse("activities:ical-node", args=[activity.node_id])),
    }
    ctx.update(extra)
    if ctx["may_sign_up"]:
        vq = request.GET.get("vq", "").strip()[:50]
        ctx["vq"] = vq
        if vq:
            found = list(people_queries.volunteers_for(user, text=vq).select_related("station")[:20])
            taken = set(activity.signups.exclude(status=SignUp.Status.CANCELLED)
                        .filter(volunteer__in=found).values_list("volunteer_id", flat=True))
            for v in found:
                v.already = v.pk in taken
            ctx["candidates"] = found
    return ctx


@console
def activity_detail(request, pk):
    activity = _activity(request.user, pk)
    return render(request, "activities/console_detail.html", _detail_context(request, activity))


@console
@require_POST
def activity_publish(request, pk):
    user = request.user
    activity = _activity(user, pk)
    confirm = request.POST.get("confirm_overserving") == "1"
    try:
        services.publish_activity(user, activity, confirm_overserving=confirm)
    except DomainError as exc:
        if exc.code == "overserving" and isinstance(exc.details, dict):
            ctx = _detail_context(request, activity, overserving=exc.details, overserving_message=exc.message)
            return render(request, "activities/console_detail.html", ctx)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已发布，活动开始招募。"))
    return redirect("activities:detail", pk=activity.pk)


@console
def activity_cancel(request, pk):
    user = request.user
    activity = _activity(user, pk)
    services.require_organiser(user, activity.node, activity.team)
    if request.method != "POST":
        return redirect("activities:detail", pk=activity.pk)
    form = forms.CancelForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_activity(user, activity, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            if not exc.code.startswith("reason"):
                messages.error(request, exc.message)
                return redirect("activities:detail", pk=activity.pk)
            form.add_error("reason", exc.message)
        else:
            messages.success(request, _("活动已取消，已报名的志愿者会收到通知。"))
            return redirect("activities:detail", pk=activity.pk)
    ctx = _detail_context(request, activity, cancel_form=form, cancel_open=True)
    return render(request, "activities/console_detail.html", ctx, status=422)


@console
@require_POST
def activity_signup(request, pk):
    """An organiser signs a volunteer in their reach up for the activity (报名 or 候补)."""
    user = request.user
    activity = _activity(user, pk)
    volunteer_id = _int(request.POST.get("volunteer"))
    if volunteer_id is None:
        messages.error(request, _("请选择要报名的志愿者。"))
    else:
        try:
            volunteer = get_scoped(Volunteer.objects.all(), user, volunteer_id)
            signup = services.sign_up(user, activity, volunteer)
        except NotFound:
            messages.error(request, _("该志愿者不存在或不在您的管辖范围内。"))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if signup.status == SignUp.Status.CONFIRMED:
                messages.success(request, _("已为%(name)s报名。") % {"name": volunteer.name})
            else:
                messages.warning(request, _("名额已满，%(name)s已进入候补名单。") % {"name": volunteer.name})
    return redirect(reverse("activities:detail", args=[activity.pk]) + "#signup")


@console
@require_POST
def signup_cancel(request, pk, signup_id):
    user = request.user
    activity = _activity(user, pk)
    signup = get_scoped(SignUp.objects.filter(activity=activity).select_related("activity", "volunteer"),
                        user, signup_id if 0 < signup_id < MAX_ID else 0)
    try:
        services.cancel_signup(user, signup, reason=request.POST.get("reason", "")[:200] or _("组织者取消"))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已取消%(name)s的报名，候补的志愿者依次递补。") % {"name": signup.volunteer.name})
    return redirect("activities:live", pk=activity.pk)


# --- The live sign-up and check-in list -----------------------------------------------------------


def _live_context(user, activity: Activity) -> dict:
    board = queries.live_board(activity)
    return {"a": activity, "board": board, "now": timezone.now(),
            "may_cancel_signups": services.can_organise(user, activity)
            and activity.phase == Activity.Phase.RECRUITING}


@console
def activity_live(request, pk):
    activity = _activity(request.user, pk)
    return render(request, "activities/console_live.html", _live_context(request.user, activity))


@console
@never_cache
def activity_live_board(request, pk):
    activity = _activity(request.user, pk)
    return render(request, "activities/console_live_board.html", _live_context(request.user, activity))


# --- The check-in code screen (签到屏) ------------------------------------------------------------


def _code_payload(request, activity: Activity, kind: str) -> dict:
    code = checkin.checkin_code(request.user, activity, kind)
    url = request.build_absolute_uri(code["url"])
    qr = segno.make(url, error="m")
    now = timezone.now()
    counts = activity.attendances.aggregate(
        checked_in=Count("pk"), checked_out=Count("pk", filter=Q(checked_out_at__isnull=False))
    )
    return {
        "kind": kind,
        "kind_label": _("签到") if kind == Scan.Kind.CHECK_IN else _("签退"),
        "url": url,
        "svg": qr.svg_inline(scale=1, border=2, dark="#000", light="#fff", omitsize=True),
        "expires_at": code["expires_at"].isoformat(),
        "seconds_left": max(0.0, (code["expires_at"] - now).total_seconds()),
        "refresh_seconds": code["refresh_seconds"],
        "checked_in": counts["checked_in"],
        "checked_out": counts["checked_out"],
        "phase": activity.phase,
        "phase_label": activity.get_phase_display(),
    }


@console
def activity_code(request, pk):
    activity = _activity(request.user, pk)
    kind = request.GET.get("k", Scan.Kind.CHECK_IN)
    kind = kind if kind in Scan.Kind.values else Scan.Kind.CHECK_IN
    payload = _code_payload(request, activity, kind)
    return render(request, "activities/console_code.html",
                  {"a": activity, "code": payload, "TIME_ZONE": settings.TIME_ZONE})


@never_cache
def activity_code_json(request, pk):
    """The current code as JSON for the screen's own refresh (session auth; errors as {code,message})."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"code": "not_authenticated", "message": "登录已过期，请刷新页面重新登录。",
                             "details": None}, status=401)
    try:
        if user.role == User.Role.VOLUNTEER and not user.is_superuser:
            raise Forbidden("您无权查看签到二维码。", code="role_forbidden")
        activity = _activity(user, pk)
        kind = request.GET.get("k", Scan.Kind.CHECK_IN)
        payload = _code_payload(request, activity, kind)
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(payload)


# --- Settlement ------------------------------------------------------------------------------------




def _settle_context(request, activity: Activity, **extra) -> dict:
    user = request.user
    may = services.can_organise(user, activity)
    phase = activity.phase
    ctx = {"a": activity, "phase": phase, "may_organise": may, "now": timezone.now()}
    if activity.status == Activity.Status.SETTLED:
        atts = list(queries.attendance_of(activity).select_related("record", "hours_request"))
        ctx["settled_rows"] = atts
        ctx["settled_minutes"] = sum(a.minutes or 0 for a in atts if a.record_id)
        ctx["settled_count"] = sum(1 for a in atts if a.record_id)
    else:
        ctx["preview"] = queries.settlement_preview(activity)
        ctx["settle_form"] = extra.pop("settle_form", None) or forms.SettleForm(
            initial={"beneficiaries": activity.expected_beneficiaries or None})
    awaiting = [a for a in queries.attendance_of(activity) if a.status == Attendance.Status.AWAITING_DECISION]
    forms_by_id = extra.pop("decide_forms", {})
    ctx["awaiting"] = [{"att": a, "form": forms_by_id.get(a.pk) or forms.DecideForm(prefix=f"d{a.pk}"),
                        "window_hours": _hours(activity.minutes)} for a in awaiting]
    ctx.update(extra)
    return ctx


@console
def activity_settle(request, pk):
    user = request.user
    activity = _activity(user, pk)
    if request.method == "POST":
        form = forms.SettleForm(request.POST)
        if form.is_valid():
            try:
                result = services.settle_activity(user, activity, beneficiaries=form.cleaned_data["beneficiaries"])
            except DomainError as exc:
                if exc.code != "beneficiaries_invalid":  # the page has no form for it: say it on the page
                    messages.error(request, exc.message)
                    return redirect("activities:settle", pk=activity.pk)
                form.add_error("beneficiaries", exc.message)
            else:
                messages.success(request, _(
                    "结算完成：%(settled)s人记入核验时长共%(hours)s小时，%(none)s人不计时长，%(awaiting)s人未签退待处理。"
                ) % {"settled": result.settled, "hours": _hours(result.minutes), "none": result.no_hours,
                     "awaiting": result.awaiting})
                return redirect("activities:settle", pk=activity.pk)
        activity.refresh_from_db()
        return render(request, "activities/console_settle.html",
                      _settle_context(request, activity, settle_form=form), status=422)
    return render(request, "activities/console_settle.html", _settle_context(request, activity))


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".")


@console
@require_POST
def attendance_decide(request, pk, attendance_id):
    user = request.user
    activity = _activity(user, pk)
    attendance = get_scoped(Attendance.objects.filter(activity=activity).select_related("volunteer", "activity"),
                            user, attendance_id if 0 < attendance_id < MAX_ID else 0)
    form = forms.DecideForm(request.POST, prefix=f"d{attendance.pk}")
    if form.is_valid():
        try:
            services.decide_attendance(user, attendance, record_minutes=form.record_minutes(),
                                       reason=form.cleaned_data["reason"])
        except DomainError as exc:
            if exc.code == "not_awaiting" or isinstance(exc, Forbidden):  # no form of it left on the page
                messages.error(request, exc.message)
                return redirect("activities:settle", pk=activity.pk)
            form.add_error(None, exc.message)
        else:
            if form.record_minutes():
                messages.success(request, _("已为%(name)s提交补录时长%(hours)s小时，待第二人审批后生效（记为补录时长）。")
                                 % {"name": attendance.volunteer.name, "hours": _hours(form.record_minutes())})
            else:
                messages.success(request, _("已确认%(name)s不计时长。") % {"name": attendance.volunteer.name})
            return redirect("activities:settle", pk=activity.pk)
    ctx = _settle_context(request, activity, decide_forms={attendance.pk: form})
    return render(request, "activities/console_settle.html", ctx, status=422)


# --- Themes and brands --------------------------------------------------------------------------------


@console
def theme_list(request):
    themes = Theme.objects.annotate(n=Count("activities")).order_by("sort_order", "id")
    return render(request, "activities/console_themes.html",
                  {"themes": themes, "may_manage": can_manage(request.user, None)})


@console
def theme_form(request, pk=None):
    user = request.user
    if not can_manage(user, None):
        return forbidden_page(request, _("仅区文明办管理员可以管理活动主题。"))
    theme = None
    if pk is not None:
        theme = Theme.objects.filter(pk=pk if 0 < pk < MAX_ID else 0).first()
        if theme is None:
            return not_found(request)
    initial = {"name": theme.name, "is_festival": theme.is_festival, "sort_order": theme.sort_order} if theme else {}
    form = forms.ThemeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.save_theme(user, theme, name=d["name"], is_festival=d["is_festival"],
                                sort_order=d["sort_order"] or 0)
        except DomainError as exc:
            form.add_error("name" if exc.code.startswith(("name", "theme")) else None, exc.message)
        else:
            messages.success(request, _("已保存活动主题“%(name)s”。") % {"name": d["name"].strip()})
            return redirect("activities:themes")
    return render(request, "activities/console_simple_form.html", {
        "form": form, "title": _("修改活动主题") if theme else _("新建活动主题"),
        "back": reverse("activities:themes"), "back_label": _("活动主题"),
    })


@console
def brand_list(request):
    user = request.user
    brands = scoped(Brand.objects.select_related("node"), user).annotate(n=Count("activities")).order_by(
        "node__path", "id")
    page = Paginator(brands, PAGE_SIZE).get_page(request.GET.get("page"))
    for b in page:
        b.may_edit = can_manage(user, b.node)
    return render(request, "activities/console_brands.html", {
        "page": page, "may_create": forms.organiser_nodes(user).exists(),
    })


@console
def brand_form(request, pk=None):
    user = request.user
    brand = None
    if pk is not None:
        brand = get_scoped(Brand.objects.select_related("node"), user, pk if 0 < pk < MAX_ID else 0)
        if not can_manage(user, brand.node):
            return forbidden_page(request, _("您无权修改该项目品牌。"))
    elif not forms.organiser_nodes(user).exists():
        return forbidden_page(request, _("您的角色无权管理项目品牌。"))
    initial = {"name": brand.name, "node": brand.node_id, "description": brand.description} if brand else {}
    form = forms.BrandForm(request.POST or None, initial=initial, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.save_brand(user, brand, node=d["node"], name=d["name"], description=d["description"])
        except DomainError as exc:
            form.add_error("name" if exc.code.startswith(("name", "brand")) else None, exc.message)
        else:
            messages.success(request, _("已保存项目品牌“%(name)s”。") % {"name": d["name"].strip()})
            return redirect("activities:brands")
    return render(request, "activities/console_simple_form.html", {
        "form": form, "title": _("修改项目品牌") if brand else _("新建项目品牌"),
        "back": reverse("activities:brands"), "back_label": _("项目品牌"),
    })


# --- Subscriptions for the signed-in organiser ------------------------------------------------------


@console
def feeds(request):
    """The calendar feeds of the user's nodes and teams, to subscribe to in a calendar app."""
    user = request.user
    nodes = list(nodes_in_reach(user).order_by("path")[:300])
    teams = list(scoped(Team.objects.select_related("node"), user).order_by("node__path", "id")[:300])
    build = request.build_absolute_uri
    return render(request, "activities/console_feeds.html", {
        "nodes": [(forms.node_label(n), build(reverse("activities:ical-node", args=[n.pk]))) for n in nodes],
        "teams": [(t.name, build(reverse("activities:ical-team", args=[t.pk]))) for t in teams],
        "own": build(ical.volunteer_feed_path(user.volunteer)) if getattr(user, "volunteer", None) else None,
    })
