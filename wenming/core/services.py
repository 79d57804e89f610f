"""Use cases of the core: accounts, API tokens, revealing personal data, org nodes."""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils import timezone

from . import audit
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .models import ApiToken, Counter, OrgNode, User
from .scoping import require_manager
from .validators import check_coordinates, validate_division_code

NODE_FIELDS = ("name", "secretary", "contact_phone", "address", "lat", "lng", "is_demonstration")
CHILD_KIND = {"centre": "institute", "institute": "station"}


def login_for_token(request, username: str, password: str, name: str = "API") -> tuple[ApiToken, str]:
    """Exchange a username and password for a new API token (lock-out applies, as on the console)."""
    from axes.handlers.proxy import AxesProxyHandler

    if AxesProxyHandler.is_locked(request, credentials={"username": username}):
        raise Forbidden("登录失败次数过多，账号已锁定30分钟。", code="account_locked", status=429)
    user = authenticate(request, username=username, password=password)
    if user is None:
        if AxesProxyHandler.is_locked(request, credentials={"username": username}):
            raise Forbidden("登录失败次数过多，账号已锁定30分钟。", code="account_locked", status=429)
        raise Forbidden("用户名或密码不正确。", code="bad_credentials", status=401)
    # Like a console log-in: axes resets the failure count (AXES_RESET_ON_SUCCESS).
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return create_api_token(user, name)


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    name = (name or "").strip()[:50] or "API"
    key = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, prefix=key[3:9], key_hash=ApiToken.hash(key))
    audit.record(user, "api_token.create", token, after={"name": name, "prefix": token.prefix})
    return token, key


def revoke_api_token(user: User, token_id: int) -> ApiToken:
    try:
        token = ApiToken.objects.get(pk=token_id, user=user, revoked_at=None)
    except ApiToken.DoesNotExist:
        raise NotFound("令牌不存在或已吊销。")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(user, "api_token.revoke", token, after={"prefix": token.prefix})
    return token


def next_in_sequence(name: str) -> int:
    """The next value of a named counter, under a row lock (concurrent callers never share one)."""
    with transaction.atomic():
        Counter.objects.get_or_create(name=name)
        counter = Counter.objects.select_for_update().get(name=name)
        counter.value += 1
        counter.save(update_fields=["value"])
        return counter.value


def node_snapshot(node: OrgNode) -> dict:
    return {"division_code": node.division_code, **{f: getattr(node, f) for f in NODE_FIELDS}}


@transaction.atomic
def create_node(by: User, parent: OrgNode | None, *, name: str, division_code: str, **fields) -> OrgNode:
    """Add a centre (no parent; district admin or superuser only), an institute or a station."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("名称不能为空，且不超过100字。", code="name_invalid")
    if parent is None:
        if not by.is_superuser and by.role != User.Role.DISTRICT_ADMIN:
            raise Forbidden("仅区文明办管理员可以创建中心。", code="role_forbidden")
        if OrgNode.objects.filter(depth=1).exists():
            raise Conflict("本平台已有新时代文明实践中心。", code="centre_exists")
        kind = OrgNode.Kind.CENTRE
    else:
        require_manager(by, parent)
        kind = CHILD_KIND.get(parent.kind)
        if kind is None:
            raise InvalidInput("实践站之下不能再设下级组织。", code="node_too_deep")
        parent.refresh_from_db()
    code = validate_division_code(division_code, kind, parent.division_code if parent else None)
    if OrgNode.objects.filter(division_code=code).exists():
        raise Conflict(f"区划代码 {code} 已被使用。", code="division_code_taken")
    values = {k: v for k, v in fields.items() if k in NODE_FIELDS}
    check_coordinates(values.get("lat"), values.get("lng"))
    if parent is None:
        node = OrgNode.objects.add_root({"name": name, "kind": kind, "division_code": code, **values})
    else:
        node = OrgNode.objects.add_child(parent, {"name": name, "kind": kind, "division_code": code, **values})
    audit.record(by, "org.create", node, after=node_snapshot(node))
    return node


@transaction.atomic
def update_node(by: User, node: OrgNode, **fields) -> OrgNode:
    require_manager(by, node)
    before = node_snapshot(node)
    # Only the fields given change; lat/lng may be given as None to clear the position.
    for key, value in fields.items():
        if key in NODE_FIELDS and (value is not None or key in ("lat", "lng")):
            setattr(node, key, value)
    node.name = (node.name or "").strip()
    if not node.name or len(node.name) > 100:
        raise InvalidInput("名称不能为空，且不超过100字。", code="name_invalid")
    check_coordinates(node.lat, node.lng)
    node.save()
    old, new = audit.diff(before, node_snapshot(node))
    if new:
        audit.record(by, "org.update", node, before=old, after=new)
    return node


def reserve_in_sequence(name: str, count: int) -> int:
    """Reserve `count` consecutive values of a counter; returns the first."""
    with transaction.atomic():
        Counter.objects.get_or_create(name=name)
        counter = Counter.objects.select_for_update().get(name=name)
        first = counter.value + 1
        counter.value += count
        counter.save(update_fields=["value"])
        return first
