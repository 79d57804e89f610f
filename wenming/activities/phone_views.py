"""The volunteers' phone pages of activities (/a/): browse by theme or nearby, an activity's
public page with sign-up and cancel, my activities, and the page the check-in QR code opens.

Thin faces over queries, services and checkin: every rule lives there, and a refusal comes
back as the service's own Chinese message. Check-in itself is posted by the scan page's
script to the API (/api/v1/activities/<id>/checkin), so that a scan taken offline can be
kept on the phone and sent later with its own id.
"""

from __future__ import annotations

import math
import re
from datetime import time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from wenming.core.errors import DomainError
from wenming.people.models import Volunteer

from . import queries, services
from .checkin import slot_of, slot_seconds
from .models import Activity, Attendance, Scan, SignUp, Theme

MAX_ID = 2**63 - 1
PAGE_SIZE = 20
TOKEN_SHAPE = re.compile(r"\d{1,12}\.[0-9a-f]{20}")
WEEKDAYS = [gettext_lazy("周一"), gettext_lazy("周二"), gettext_lazy("周三"), gettext_lazy("周四"),
            gettext_lazy("周五"), gettext_lazy("周六"), gettext_lazy("周日")]


# --- Helpers -------------------------------------------------------------------------------------


def _volunteer(user) -> Volunteer | None:
    if not user.is_authenticated:
        return None
    try:
        return user.volunteer
    except Volunteer.DoesNotExist:
        return None


def _activity(pk: int) -> Activity:
    """A published (or cancelled, finished, settled) activity with its counts; drafts are nobody's business here."""
    if not 0 < pk <= MAX_ID:
        raise Http404
    qs = queries._with_counts(
        queries.public_activities().select_related("brand", "restrict_to_node", "served_site")
    ).prefetch_related("themes", "skills")
    try:
        return qs.get(pk=pk)
    except Activity.DoesNotExist:
        raise Http404 from None


def _day(moment) -> str:
    return _("%(month)s月%(day)s日（%(weekday)s）") % {
        "month": moment.month, "day": moment.day, "weekday": WEEKDAYS[moment.weekday()],
    }


def when(activity: Activity) -> str:
    """“3月8日（周六）09:00–11:30”, or both days when it runs past midnight."""
    start, end = timezone.localtime(activity.starts_at), timezone.localtime(activity.ends_at)
    if start.date() == end.date():
        return f"{_day(start)} {start:%H:%M}–{end:%H:%M}"
    if end - start < timedelta(days=1) and end.time() == time(0, 0):  # ends at midnight: "21:00–24:00"
        return f"{_day(start)} {start:%H:%M}–24:00"
    return f"{_day(start)} {start:%H:%M} – {_day(end)} {end:%H:%M}"


def _decorate(rows, volunteer=None):
    """What a card shows: time, place, places left; and the viewer's own sign-up, if any."""
    mine = {}
    if volunteer is not None and rows:
        mine = dict(
            SignUp.objects.filter(volunteer=volunteer, activity__in=[a.pk for a in rows])
            .exclude(status=SignUp.Status.CANCELLED)
            .values_list("activity_id", "status")
        )
    for a in rows:
        a.when = when(a)
        a.place = a.site.name if a.site_id else a.address
        a.places_left = max(a.capacity - a.confirmed_count, 0)
        a.my_status = mine.get(a.pk)
        d = getattr(a, "distance_m", None)
        a.distance_label = None if d is None else (
            _("%(m)s米") % {"m": d} if d < 1000 else _("%(km)s公里") % {"km": f"{d / 1000:.1f}"}
        )
    return rows


def _waiting_position(signup: SignUp) -> int:
    """1 for the first on the waiting list."""
    return (
        SignUp.objects.filter(activity_id=signup.activity_id, status=SignUp.Status.WAITING)
        .filter(Q(created_at__lt=signup.created_at) | Q(created_at=signup.created_at, pk__lte=signup.pk))
        .count()
    )


def _position(params) -> tuple[float, float] | None:
    """The phone's position from ?lat=&lng= (rounded by the page before it is sent), or None."""
    try:
        lat, lng = float(params.get("lat", "")), float(params.get("lng", ""))
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


def _int_param(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def _no_volunteer(request, status=403):
    return render(request, "activities/phone_message.html", {
        "title": _("未关联志愿者"),
        "message": _("您的账号没有关联志愿者身份。请先注册成为志愿者，或请所在实践站管理员为您关联账号。"),
        "join": True,
    }, status=status)


def _ical_url(volunteer) -> str | None:
    """The volunteer's own iCalendar feed (an unguessable address), when the feeds are installed."""
    try:
        from .ical import volunteer_feed_path

        return volunteer_feed_path(volunteer)
    except (ImportError, NoReverseMatch):
        return None


def _js_strings(word: str = "") -> dict:
    """What scan.js says, translated here (the script itself holds no words)."""
    return {
        "flushed": _("离线保存的扫码已提交"),
        "pending": _("有离线保存的扫码待提交"),
        "refused": _("未被接受：%s"),
        "login_text": _("登录已过期，请重新登录本账号，登录后自动提交。"),
        "relogin": _("重新登录"),
        "expired": _("二维码已过期"),
        "expired_text": _("请重新扫描现场屏幕上的最新二维码。"),
        "locating": _("正在获取位置…"),
        "sending": _("正在提交…"),
        "ok_text": _("活动结束时请扫描签退二维码签退。") if word == _("签到") else _("感谢您的服务！时长在组织者结算后记入。"),
        "done": _("已%(word)s") % {"word": word} if word else _("已提交"),
        "store_failed": _("网络不通，且手机无法保存扫码记录"),
        "store_failed_text": _("请联网后重新扫码。"),
        "saved_button": _("已保存"),
        "saved": _("已保存，联网后自动提交"),
        "saved_text": _("网络暂时不通，扫码时间（%s）已记下，联网后自动提交，请不要重复扫码。"),
        "saved_login": _("已保存，登录后自动提交"),
        "failed": _("提交失败，请重试"),
    }


# --- Browse --------------------------------------------------------------------------------------


def browse(request):
    """Recruiting activities, by start time or nearest first, optionally of one theme."""
    themes = list(Theme.objects.all())
    theme_id = _int_param(request.GET.get("theme"))
    theme = next((t for t in themes if t.pk == theme_id), None)
    position = _position(request.GET)
    position_invalid = ("lat" in request.GET or "lng" in request.GET) and position is None
    volunteer = _volunteer(request.user)
    if position is not None:
        rows = queries.nearby(*position, theme_id=theme.pk if theme else None)
        prefetch_related_objects(rows, "themes")
        page = None
    else:
        qs = queries.recruiting(theme_id=theme.pk if theme else None).prefetch_related("themes")
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
    return render(request, "activities/phone_browse.html", {
        "themes": themes,
        "theme": theme,
        "rows": _decorate(rows, volunteer),
        "page": page,
        "nearby": position is not None,
        "position_invalid": position_invalid,
        "nearby_km": queries.NEARBY_KM,
        "volunteer": volunteer,
        "js_strings": _js_strings(),
        "tab": "browse",
    })


# --- One activity --------------------------------------------------------------------------------


def detail(request, pk: int):
    a = _activity(pk)
    now = timezone.now()
    volunteer = _volunteer(request.user)
    signup = attendance = None
    position = None
    if volunteer is not None:
        signup = (
            SignUp.objects.filter(activity=a, volunteer=volunteer).exclude(status=SignUp.Status.CANCELLED).first()
        )
        if signup is not None and signup.status == SignUp.Status.WAITING:
            position = _waiting_position(signup)
        attendance = Attendance.objects.filter(activity=a, volunteer=volunteer).first()
    phase = a.phase_at(now)
    recruiting = phase == Activity.Phase.RECRUITING
    deadline_passed = bool(a.signup_deadline and now > a.signup_deadline)
    _decorate([a])
    return render(request, "activities/phone_detail.html", {
        "a": a,
        "phase": phase,
        "phase_label": Activity.Phase(phase).label,
        "recruiting": recruiting,
        "deadline_passed": deadline_passed,
        "can_sign_up": recruiting and not deadline_passed and signup is None,
        "can_cancel": recruiting and signup is not None,
        "signup": signup,
        "waiting_position": position,
        "attendance": attendance,
        "volunteer": volunteer,
        "address": a.address or (a.site.address if a.site_id else ""),
        "organiser": a.team.name if a.team_id else a.node.name,
        "deadline": a.signup_deadline,
        "checkin_open": phase in (Activity.Phase.RECRUITING, Activity.Phase.IN_PROGRESS)
        and a.checkin_opens_at <= now < a.ends_at,
        "login_url": f"{reverse('core:login')}?{urlencode({'next': request.path})}",
        "js_strings": _js_strings(),
        "tab": "browse",
    })


def _back(pk):
    return redirect("activities_phone:detail", pk=pk)


def signup(request, pk: int):
    if request.method != "POST":
        return _back(pk)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("activities_phone:detail", args=[pk]))
    a = _activity(pk)
    try:
        s = services.sign_up(request.user, a)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(pk)
    if s.status == SignUp.Status.CONFIRMED:
        messages.success(request, _("报名成功！请在活动开始后扫描现场二维码签到。"))
    else:
        messages.warning(request, _(
            "名额已满，您已进入候补名单，目前排第%(n)s位。有人取消报名时按先后顺序递补，递补成功会通过站内消息通知您。"
        ) % {"n": _waiting_position(s)})
    return _back(pk)


def cancel(request, pk: int):
    if request.method != "POST":
        return _back(pk)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("activities_phone:detail", args=[pk]))
    a = _activity(pk)
    volunteer = _volunteer(request.user)
    s = None
    if volunteer is not None:
        s = SignUp.objects.filter(activity=a, volunteer=volunteer).exclude(status=SignUp.Status.CANCELLED).first()
    if s is None:
        messages.error(request, _("您没有报名该活动。"))
        return _back(pk)
    was_waiting = s.status == SignUp.Status.WAITING
    try:
        services.cancel_signup(request.user, s, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(pk)
    messages.success(request, _("已取消候补。") if was_waiting else _("已取消报名，名额已让给候补的志愿者。"))
    return _back(pk)


# --- My activities -------------------------------------------------------------------------------


def _hours_line(att: Attendance | None) -> dict | None:
    """What became of a check-in: hours credited, recorded hours awaiting approval, none, or not yet."""
    if att is None:
        return None
    if att.record_id:
        return {"kind": "ok", "text": _("已记入核验时长 %(h)s 小时") % {"h": f"{att.record.minutes / 60:g}"}}
    if att.hours_request_id:
        req = att.hours_request
        return {"kind": "warn", "text": _("补录时长 %(h)s 小时 · %(s)s") % {
            "h": f"{req.minutes / 60:g}", "s": req.get_status_display()}}
    if att.status == Attendance.Status.NO_HOURS:
        note = f"（{att.decision_note}）" if att.decision_note else ""
        return {"kind": "muted", "text": _("不计时长") + note}
    if att.status == Attendance.Status.AWAITING_DECISION:
        return {"kind": "warn", "text": _("未签退，等待组织者确认时长")}
    if att.status == Attendance.Status.CHECKED_OUT:
        return {"kind": "muted", "text": _("已签退，等待组织者结算时长")}
    return {"kind": "muted", "text": _("已签到，活动结束前请扫码签退")}


def _my_rows(volunteer, activities, *, upcoming: bool) -> list[dict]:
    ids = [a.pk for a in activities]
    signups = {
        s.activity_id: s
        for s in SignUp.objects.filter(volunteer=volunteer, activity_id__in=ids).exclude(
            status=SignUp.Status.CANCELLED
        )
    }
    attendances = {
        att.activity_id: att
        for att in Attendance.objects.filter(volunteer=volunteer, activity_id__in=ids).select_related(
            "record", "hours_request"
        )
    }
    rows = []
    for a in activities:
        a.when = when(a)
        a.place = a.site.name if a.site_id else a.address
        s = signups.get(a.pk)
        att = attendances.get(a.pk)
        rows.append({
            "a": a,
            "signup": s,
            "position": _waiting_position(s) if s and s.status == SignUp.Status.WAITING and upcoming else None,
            "attendance": att,
            "hours": _hours_line(att),
        })
    return rows


@never_cache
def mine(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    volunteer = _volunteer(request.user)
    if volunteer is None:
        return _no_volunteer(request)
    now = timezone.now()
    mine_q = Q(
        pk__in=SignUp.objects.filter(
            volunteer=volunteer, status__in=[SignUp.Status.CONFIRMED, SignUp.Status.WAITING]
        ).values("activity_id")
    ) | Q(pk__in=Attendance.objects.filter(volunteer=volunteer).values("activity_id"))
    base = queries.public_activities().filter(mine_q)
    upcoming = list(base.filter(ends_at__gt=now).order_by("starts_at", "id")[:100])
    past_page = Paginator(base.filter(ends_at__lte=now).order_by("-starts_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "activities/phone_mine.html", {
        "volunteer": volunteer,
        "upcoming": _my_rows(volunteer, upcoming, upcoming=True),
        "past": _my_rows(volunteer, list(past_page.object_list), upcoming=False),
        "page": past_page,
        "ical_url": _ical_url(volunteer),
        "js_strings": _js_strings(),
        "tab": "mine",
    })


# --- The page the check-in QR code opens ---------------------------------------------------------


@never_cache
def scan(request, pk: int):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    a = _activity(pk)
    kind = request.GET.get("k", "")
    token = request.GET.get("t", "")
    ctx = {"a": a, "tab": None}
    if kind not in Scan.Kind.values:
        ctx["problem"] = _("二维码内容不完整（缺少签到或签退类型），请重新扫描活动现场的二维码。")
        return render(request, "activities/phone_scan.html", ctx, status=400)
    word = _("签到") if kind == Scan.Kind.CHECK_IN else _("签退")
    ctx.update(kind=kind, word=word, js_strings=_js_strings(word))
    if not TOKEN_SHAPE.fullmatch(token):
        ctx["problem"] = _("二维码无效，请扫描活动现场屏幕上的%(word)s二维码。") % {"word": word}
        return render(request, "activities/phone_scan.html", ctx, status=400)
    volunteer = _volunteer(request.user)
    if volunteer is None:
        return _no_volunteer(request)
    now = timezone.now()
    _decorate([a])
    ctx["queue"] = True  # scans kept offline are sent from here whatever this code says
    if slot_of(now) - int(token.split(".")[0]) > 1:
        # Typically a log-in that took longer than the code lives: say so before a press is wasted.
        ctx["problem"] = _("二维码已过期（现场二维码每%(s)s秒更换一次），请重新扫描现场屏幕上的最新二维码。") % {
            "s": slot_seconds()}
    elif a.status == Activity.Status.CANCELLED:
        ctx["problem"] = _("活动已取消，无需%(word)s。") % {"word": word}
    elif a.status == Activity.Status.SETTLED:
        ctx["problem"] = _("活动时长已结算，不能再签到或签退，请联系组织者补录。")
    signup = SignUp.objects.filter(activity=a, volunteer=volunteer).exclude(status=SignUp.Status.CANCELLED).first()
    attendance = Attendance.objects.filter(activity=a, volunteer=volunteer).first()
    ctx.update(
        token=token,
        signup=signup,
        attendance=attendance,
        volunteer=volunteer,
        not_signed_up=signup is None and not a.allow_walk_ins,
        waiting=signup is not None and signup.status == SignUp.Status.WAITING,
        too_early=kind == Scan.Kind.CHECK_IN and now < a.checkin_opens_at,
        opens_at=a.checkin_opens_at,
        api_url=f"/api/v1/activities/{a.pk}/{'checkin' if kind == Scan.Kind.CHECK_IN else 'checkout'}",
        server_now_ms=int(now.timestamp() * 1000),
        slot_seconds=slot_seconds(),
        done=attendance is not None
        and (
            (kind == Scan.Kind.CHECK_IN and attendance.checked_in_at)
            or (kind == Scan.Kind.CHECK_OUT and attendance.checked_out_at)
        ),
    )
    return render(request, "activities/phone_scan.html", ctx)

