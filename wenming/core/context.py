"""Navigation by role for the console's base layout."""

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from .models import User
from .scoping import MANAGER_ROLES


def navigation(request):
    # Lazy: phone pages never show the console's side navigation, so they never pay for it.
    return {"nav": SimpleLazyObject(lambda: _navigation_items(request))}


def _navigation_items(request) -> list[dict]:
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return []
    items = [
        (_("首页"), reverse("core:home")),
        (_("组织架构"), reverse("org:tree")),
        (_("志愿者"), reverse("people:volunteers")),
        (_("志愿服务队"), reverse("people:teams")),
        (_("阵地"), reverse("org:sites")),
        (_("联系点"), reverse("org:contact_points")),
    ]
    if user.is_superuser or user.role != User.Role.VOLUNTEER:
        items += [(_("群众点单"), reverse("needs:list")), (_("志愿活动"), reverse("activities:list")),
                  (_("服务时长"), reverse("ledger:records")), (_("数据统计"), reverse("stats:dashboard")),
                  (_("宣传报道"), reverse("publicity:list"))]
    if getattr(user, "volunteer", None) is not None:
        items.append((_("我的服务时长"), reverse("ledger:me_hours")))
    if user.is_superuser or user.role == User.Role.DISTRICT_ADMIN:
        items.append((_("审计日志"), reverse("core:audit")))
    if user.role in MANAGER_ROLES or user.is_superuser or user.role != User.Role.VOLUNTEER:
        items.append((_("API令牌"), reverse("core:tokens")))
    # The item whose URL is the longest prefix of the current path is the active one.
    path = request.path
    matches = [url for _label, url in items if path == url or (url != "/" and path.startswith(url))]
    active = max(matches, key=len, default=None)
    return [{"label": label, "url": url, "active": url == active} for label, url in items]
