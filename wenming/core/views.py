"""Console pages of the core: log-in, home, API tokens, audit trail, health, error pages."""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .errors import DomainError
from .home import home_cards
from .models import AuditEntry, User


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok", "database": "ok"})
    except Exception:  # any database failure is the answer here, not a crash
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续失败5次将锁定30分钟。"),
        "inactive": _("该账号已停用。"),
    }


def login_view(request):
    if request.user.is_authenticated:
        return redirect("core:home")
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        return redirect(request.GET.get("next") if _safe_next(request) else "core:home")
    return render(request, "core/login.html", {"form": form})


def _safe_next(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    nxt = request.GET.get("next")
    return bool(nxt) and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()})


def locked_out(request, credentials=None, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "account_locked", "message": "登录失败次数过多，账号已锁定30分钟。", "details": None}, status=429)
    return render(request, "core/locked.html", status=429)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("core:login")


@login_required
def home(request):
    scopes = request.user.scopes.order_by("path")
    return render(request, "core/home.html", {"cards": home_cards(request.user), "scopes": scopes})


@login_required
def tokens(request):
    new_key = None
    if request.method == "POST":
        try:
            _token, new_key = services.create_api_token(request.user, request.POST.get("name", ""))
        except DomainError as exc:
            messages.error(request, exc.message)
    rows = request.user.api_tokens.all()
    return render(request, "core/tokens.html", {"tokens": rows, "new_key": new_key})


@login_required
@require_POST
def revoke_token(request, token_id):
    try:
        services.revoke_api_token(request.user, token_id)
        messages.success(request, _("令牌已吊销。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("core:tokens")


@login_required
def audit_trail(request):
    if not (request.user.is_superuser or request.user.role == User.Role.DISTRICT_ADMIN):
        return HttpResponseForbidden(render(request, "core/error.html", {"title": _("无权访问"), "message": _("仅区文明办管理员可以查看审计日志。")}).content)
    qs = AuditEntry.objects.all()
    q = request.GET
    if q.get("actor"):
        qs = qs.filter(actor_name__contains=q["actor"][:50])
    if q.get("action"):
        qs = qs.filter(action__startswith=q["action"][:50])
    if q.get("object"):
        qs = qs.filter(object_repr__contains=q["object"][:50])
    if q.get("since"):
        try:
            qs = qs.filter(at__date__gte=q["since"])
        except Exception:
            messages.error(request, _("日期格式应为 年-月-日。"))
    page = Paginator(qs, 50).get_page(q.get("page"))
    return render(request, "core/audit.html", {"page": page, "q": q})


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": "接口不存在。", "details": None}, status=404)
    return render(request, "core/error.html", {"title": _("页面不存在"), "message": _("您访问的页面不存在或已被移除。")}, status=404)


def forbidden(request, exception=None):
    return render(request, "core/error.html", {"title": _("无权访问"), "message": _("您无权访问此页面。")}, status=403)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "internal_error", "message": "服务器内部错误。", "details": None}, status=500)
    return render(request, "core/error.html", {"title": _("出错了"), "message": _("服务器暂时无法处理您的请求，请稍后再试。")}, status=500)
