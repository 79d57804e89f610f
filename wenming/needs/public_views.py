"""The residents' phone pages (/n/, no account): 群众点单, following a need, 心愿墙 and 服务清单.

Thin faces over services and queries. A need is shown only to a browser that proved it: the one
that submitted it, or one that typed its code and the last 4 digits of the phone (track_need,
limited per address). The codes a browser proved are kept in its session.
"""

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from wenming.core import pii, ratelimit
from wenming.core.errors import Conflict, DomainError, NotFound, RateLimited
from wenming.core.models import User
from wenming.core.scoping import MANAGER_ROLES
from wenming.people.models import Team

# The join page's helper: one place decides what the client's address is (behind a proxy, too).
from wenming.people.views import _client_ip

from . import photos, public_forms, queries, services
from .models import Need, NeedCategory, ServiceOffer

S = Need.State
PAGE_SIZE = 20
PROVED = "needs_proved"  # session: the codes this browser proved (newest last)
FRESH = "needs_fresh"  # session: what the submitted page shows (Post/Redirect/Get)
MAX_PROVED = 20
# A request body larger than this is refused before it is read: three photos at the cap and the text.
MAX_BODY = photos.MAX_PHOTOS * photos.MAX_BYTES + 1024 * 1024
PHOTO_CHECKS_PER_HOUR = 30  # decoding photos costs; a form refused for its photos is not a submission
PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")

STEPS = [("submitted", gettext_lazy("点单")), ("dispatched", gettext_lazy("派单")), ("accepted", gettext_lazy("接单")),
         ("rated", gettext_lazy("评单"))]
ACTIONS = {
    "submitted": gettext_lazy("提交需求"), "approved": gettext_lazy("审核通过"), "rejected": gettext_lazy("审核未通过"),
    "dispatched": gettext_lazy("派单"), "published": gettext_lazy("发布到抢单池"), "grabbed": gettext_lazy("队伍抢单"),
    "claimed": gettext_lazy("认领心愿"), "accepted": gettext_lazy("接单"), "declined": gettext_lazy("拒单，等待改派"),
    "started": gettext_lazy("开始服务"), "activity": gettext_lazy("通过活动服务"), "completed": gettext_lazy("服务完成"),
    "rated": gettext_lazy("群众评价"), "cancelled": gettext_lazy("已取消"), "escalated": gettext_lazy("超时升级"),
    "accept_missed": gettext_lazy("接单超时，等待改派"), "closed_unrated": gettext_lazy("自动办结"), "overdue": gettext_lazy("超时"),
}


# --- Helpers -------------------------------------------------------------------------------------


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _proved(request) -> list[str]:
    codes = request.session.get(PROVED)
    return [c for c in codes if isinstance(c, str)] if isinstance(codes, list) else []


def _remember(request, code: str) -> None:
    codes = [c for c in _proved(request) if c != code] + [code]
    request.session.cycle_key()  # a session id planted before the proof is worth nothing after it
    request.session[PROVED] = codes[-MAX_PROVED:]


def _track_url(code: str) -> str:
    return reverse("n:track_need", args=[code])


def _mask_phones(text: str) -> str:
    """Staff notes are free text: a phone number typed into one is shown masked."""
    return PHONE_RE.sub(r"\1****\3", text or "")


def _steps(need: Need) -> list[dict]:
    """点单→派单→接单→评单: each step done, current or to come (stopped ones when rejected/cancelled)."""
    if need.state in (S.SUBMITTED, S.APPROVED):
        done = 1
    elif need.state == S.DISPATCHED:
        done = 2
    elif need.state in (S.ACCEPTED, S.IN_SERVICE, S.COMPLETED):
        done = 3
    elif need.state == S.CLOSED:
        done = 4
    else:  # rejected or cancelled: as far as it got
        done = 1 + bool(need.dispatched_at) + bool(need.accepted_at)
    stopped = need.state in (S.REJECTED, S.CANCELLED)
    current = None if stopped or done == 4 or need.state in (S.ACCEPTED, S.IN_SERVICE) else done
    return [{"label": label, "done": i < done, "current": i == current, "stopped": stopped and i >= done}
            for i, (_key, label) in enumerate(STEPS)]


STATE_HINTS = {
    S.SUBMITTED: gettext_lazy("实践站正在审核您的需求。"),
    S.APPROVED: gettext_lazy("审核已通过，正在为您安排志愿服务队伍。"),
    S.DISPATCHED: gettext_lazy("正在等待承接方确认接单。"),
    S.ACCEPTED: gettext_lazy("已接单，志愿者会按约定时间为您服务。"),
    S.IN_SERVICE: gettext_lazy("志愿者正在为您服务。"),
    S.COMPLETED: gettext_lazy("服务已完成，请为这次服务评价。"),
    S.CLOSED: gettext_lazy("已办结，感谢您的参与。"),
    S.CANCELLED: gettext_lazy("需求已取消。"),
}


class _Who:
    """Who did a step, as a resident may see it: a node, a team or a department — never an account's
    login name or a volunteer's contact details."""

    def __init__(self, need: Need):
        self.need = need
        self.cache: dict[int, str] = {}

    def __call__(self, event) -> str:
        if event.actor_label == services.RESIDENT:
            return _("群众本人")
        if event.actor_label == services.SYSTEM:
            return _("平台")
        user = event.actor
        if user is None:
            return _("工作人员")
        if user.pk not in self.cache:
            self.cache[user.pk] = self._label(user)
        return self.cache[user.pk]

    def _label(self, user: User) -> str:
        need = self.need
        if user.role == User.Role.TEAM_LEADER:
            if need.team_id and need.team.leader_id and need.team.leader.user_id == user.pk:
                return need.team.name
            team = Team.objects.filter(leader__user=user).order_by("pk").first()
            return team.name if team else _("志愿服务队")
        if user.role == User.Role.DEPARTMENT and user.department_id:
            return user.department.name
        if user.role == User.Role.VOLUNTEER:
            volunteer = getattr(user, "volunteer", None)
            return _("志愿者%(name)s") % {"name": pii.mask_name(volunteer.name)} if volunteer else _("志愿者")
        if user.is_superuser or user.role in MANAGER_ROLES:
            node = user.scopes.order_by("path").first()
            return node.name if node else _("新时代文明实践中心")
        return _("工作人员")


def _public_timeline(need: Need) -> list[dict]:
    who = _Who(need)
    events = queries.timeline(need, public_only=True).select_related("actor__department")
    return [{"at": e.at, "action": ACTIONS.get(e.action, e.action), "who": who(e), "note": _mask_phones(e.note)}
            for e in events]


# --- Home, menu, wish wall -----------------------------------------------------------------------


def home(request):
    return render(request, "needs/public_home.html", {"tab": "home"})


def menu(request):
    """服务清单: the standing services teams publish, each bookable."""
    offers = (ServiceOffer.objects.filter(active=True)
              .select_related("team", "team__node", "category", "category__parent")
              .order_by("category__sort_order", "category_id", "id"))
    parent = _int(request.GET.get("category"))
    parents = list(NeedCategory.objects.filter(parent__isnull=True, active=True)
                   .filter(Q(children__offers__active=True) | Q(offers__active=True)).distinct()
                   .order_by("sort_order", "id"))  # only the kinds that have something on offer
    if parent is not None and NeedCategory.objects.filter(pk=parent, parent__isnull=True, active=True).exists():
        offers = offers.filter(Q(category__parent_id=parent) | Q(category_id=parent))
    else:
        parent = None
    page = Paginator(offers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "needs/public_menu.html", {"tab": "menu", "page": page, "parents": parents,
                                                       "parent": parent})


def wishes(request):
    """心愿墙: approved wishes waiting for a team — no name, phone or address."""
    page = Paginator(queries.wish_wall(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "needs/public_wishes.html", {"tab": "wishes", "page": page})


# --- Intake --------------------------------------------------------------------------------------


def _offer(request) -> tuple[ServiceOffer | None, bool]:
    """The service being booked (?offer=ID) and whether one was asked for."""
    raw = request.GET.get("offer")
    if raw in (None, ""):
        return None, False
    pk = _int(raw)
    offer = ServiceOffer.objects.select_related("team", "team__node", "category", "category__parent") \
        .filter(pk=pk).first() if pk else None
    return offer, True


def _new_url(request, offer) -> str:
    return reverse("n:new") + (f"?{urlencode({'offer': offer.pk})}" if offer else "")


def _render_new(request, form, offer, *, asked_offer=False, status=200, photos_dropped=False, error=""):
    return render(request, "needs/public_new.html", {
        "tab": "new", "form": form, "offer": offer, "offer_missing": asked_offer and offer is None,
        "error": error,
        "photos_dropped": photos_dropped, "action": _new_url(request, offer),
        "review_hours": int(services.review_period().total_seconds() // 3600),
        "max_photos": photos.MAX_PHOTOS, "max_photo_bytes": photos.MAX_BYTES,
        "max_photo_mb": photos.MAX_BYTES // 1024 // 1024,
    }, status=status)


def _initial(request, offer) -> dict:
    initial = {"urgency": Need.Urgency.NORMAL}
    station = _int(request.GET.get("station"))
    if station:
        initial["station"] = station
    if offer is None and request.GET.get("wish") == "1":
        initial["is_wish"] = True
    return initial


def _typed_form(post, offer):
    """The form as the resident typed it, unchecked (no red on a half-filled form)."""
    typed = {name: post.get(name) for name in public_forms.NeedForm.base_fields if name in post}
    return public_forms.NeedForm(initial=typed, offer=offer, station_text=post.get("find", ""))


@csrf_exempt
def new(request):
    """The body's size is looked at before anything reads it (the CSRF check reads the form)."""
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            offer, asked = _offer(request)
            form = public_forms.NeedForm(initial=_initial(request, offer), offer=offer)
            error = _("提交的内容过大：照片最多%(n)s张，每张不超过%(mb)sMB。请重新填写并选择较小的照片。") % {
                "n": photos.MAX_PHOTOS, "mb": photos.MAX_BYTES // 1024 // 1024}
            return _render_new(request, form, offer, asked_offer=asked, status=413, error=error)
    return _new(request)


@csrf_protect
@never_cache
def _new(request):
    offer, asked = _offer(request)
    if offer is not None and not offer.active and request.method != "POST":
        messages.warning(request, _("“%(title)s”已下架，您仍可以直接点单。") % {"title": offer.title})
        return redirect("n:new")
    if request.method != "POST":
        form = public_forms.NeedForm(initial=_initial(request, offer), offer=offer,
                                     station_text=request.GET.get("find", ""))
        return _render_new(request, form, offer, asked_offer=asked)

    post, files = request.POST, request.FILES
    has_photos = any(f for f in files.getlist("photos"))
    searching = "do_find" in post or (post.get("find", "").strip() and not post.get("station"))
    if searching:  # "find my station" (or enter pressed in its box): the form again, its station list narrowed
        return _render_new(request, _typed_form(post, offer), offer, photos_dropped=has_photos)

    ip = _client_ip(request)
    form = public_forms.NeedForm(post, files, offer=offer, station_text=post.get("find", ""))
    if has_photos:
        try:
            ratelimit.check("needs:photo-checks", ip, limit=PHOTO_CHECKS_PER_HOUR, window=3600,
                            message=_("提交过于频繁，请稍后再试或联系所在实践站。"))
        except RateLimited as exc:  # the form is not checked (that is what costs): shown as typed
            return _render_new(request, _typed_form(post, offer), offer, status=429, photos_dropped=True,
                               error=exc.message)
        ratelimit.hit("needs:photo-checks", ip, window=3600)
    if form.is_valid():
        try:
            need = services.submit_public_need(ip, form.need_data())
        except RateLimited as exc:
            form.add_error(None, exc.message)
            return _render_new(request, form, offer, status=429, photos_dropped=has_photos)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            request.session[FRESH] = {
                "code": need.code, "category": str(need.category), "station": need.station.name,
                "is_wish": need.is_wish, "offer": offer.title if offer else "",
                "team": offer.team.name if offer else "",
                "phone": need.phone_masked,
            }
            _remember(request, need.code)
            return redirect("n:submitted")
    return _render_new(request, form, offer, photos_dropped=has_photos)


@never_cache
def submitted(request):
    fresh = request.session.get(FRESH)
    if not isinstance(fresh, dict) or not fresh.get("code"):
        return redirect("n:new")
    return render(request, "needs/public_submitted.html", {
        "tab": "new", "fresh": fresh, "review_hours": int(services.review_period().total_seconds() // 3600),
    })


# --- Tracking, cancelling, rating ----------------------------------------------------------------


@never_cache
def track(request):
    if request.method == "POST":
        form = public_forms.TrackForm(request.POST)
        if form.is_valid():
            code = form.cleaned_data["code"]
            try:
                services.track_need(_client_ip(request), code, form.cleaned_data["last4"])
            except RateLimited as exc:
                form.add_error(None, exc.message)
                return render(request, "needs/public_track.html", {"tab": "track", "form": form}, status=429)
            except NotFound as exc:
                form.add_error(None, exc.message)
            else:
                _remember(request, code)
                return redirect(_track_url(code))
    else:
        code = public_forms.normal_code(request.GET.get("code", ""))
        form = public_forms.TrackForm(initial={"code": code} if public_forms.CODE_RE.fullmatch(code) else {})
    mine = _proved(request)[::-1]
    return render(request, "needs/public_track.html", {"tab": "track", "form": form, "mine": mine})


@require_POST
def forget(request):
    """A shared phone (a station's service desk): this browser forgets every code it proved."""
    request.session.pop(PROVED, None)
    request.session.pop(FRESH, None)
    messages.success(request, _("本机已不再保存您的查询记录。"))
    return redirect("n:track")


def _proved_need(request, code: str) -> Need | HttpResponseRedirect:
    """The need behind a code this browser proved; otherwise the tracking form (which never says
    whether the code exists)."""
    code = public_forms.normal_code(code)
    need = None
    if public_forms.CODE_RE.fullmatch(code) and code in _proved(request):
        need = (Need.objects.select_related("category", "category__parent", "station", "node", "team",
                                            "team__leader", "volunteer", "department", "to_node", "offer")
                .filter(code=code).first())
    if need is None:
        messages.info(request, _("请输入查询码和手机号后4位查看办理进度。"))
        return redirect(f"{reverse('n:track')}?{urlencode({'code': code})}")
    return need


def _handler_label(need: Need) -> str:
    if need.in_pool and need.state == S.DISPATCHED:
        return _("抢单池（等待志愿服务队认领）")
    if need.volunteer_id:
        return _("志愿者%(name)s") % {"name": pii.mask_name(need.volunteer.name)}
    return str(need.team or need.to_node or need.department or "")


def _render_need(request, need: Need, *, cancel_form=None, rate_form=None, status=200):
    return render(request, "needs/public_need.html", {
        "tab": "track", "need": need, "steps": _steps(need), "timeline": _public_timeline(need),
        "hint": STATE_HINTS.get(need.state, ""), "handler": _handler_label(need),
        "institute": need.station.get_parent(), "photo_count": need.photos.filter(kind="need").count(),
        "can_cancel": need.state in (S.SUBMITTED, S.APPROVED, S.DISPATCHED),
        "can_rate": need.state == S.COMPLETED,
        "cancel_form": cancel_form or public_forms.CancelForm(),
        "rate_form": rate_form or public_forms.RateForm(),
        "contact": pii.mask_name(need.contact_name),
    }, status=status)


@never_cache
def track_need(request, code):
    need = _proved_need(request, code)
    if not isinstance(need, Need):
        return need
    return _render_need(request, need)


@require_POST
def cancel(request, code):
    need = _proved_need(request, code)
    if not isinstance(need, Need):
        return need
    form = public_forms.CancelForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_need(need, reason=form.cleaned_data["reason"])
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect(_track_url(need.code))
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("您的需求已取消。"))
            return redirect(_track_url(need.code))
    return _render_need(request, need, cancel_form=form)


@require_POST
def rate(request, code):
    need = _proved_need(request, code)
    if not isinstance(need, Need):
        return need
    form = public_forms.RateForm(request.POST)
    if form.is_valid():
        try:
            services.rate_need(need, stars=form.cleaned_data["stars"], comment=form.cleaned_data["comment"])
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect(_track_url(need.code))
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("感谢您的评价！"))
            return redirect(_track_url(need.code))
    return _render_need(request, need, rate_form=form)
