"""Data scoping: the one mechanism every read and write goes through.

A user's reach is a set of subtrees of the organisation tree (their scope
nodes). A model says how its rows hang on the tree with `SCOPE_NODE_FIELD`
(the path to an OrgNode; "" for OrgNode itself; None for district-wide
reference data such as platforms) and, optionally, `SCOPE_OWNER_FIELD`
(the path to the account that owns a row, for a volunteer's own records).
"""

from django.db.models import Q

from .errors import Forbidden, NotFound
from .models import OrgNode, User

MANAGER_ROLES = {User.Role.DISTRICT_ADMIN, User.Role.INSTITUTE_ADMIN, User.Role.STATION_ADMIN}
# Roles that may see full ID and phone numbers (one at a time, each reveal audited).
REVEAL_ROLES = MANAGER_ROLES
# Roles that read within their scope but change nothing of the organisation or people.
READ_ONLY_ROLES = {User.Role.VIEWER, User.Role.DEPARTMENT, User.Role.TEAM_LEADER}
# Roles that also see the rows they own outside their subtrees (their own volunteer record, the team they lead).
OWNER_ROLES = {User.Role.VOLUNTEER, User.Role.TEAM_LEADER}


def reach_paths(user) -> tuple[str, ...]:
    """The materialised paths of the subtrees a user may see (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return ()
    cached = getattr(user, "_reach_paths", None)
    if cached is None:
        if user.is_superuser:
            cached = _root_paths()
        elif user.role == User.Role.VOLUNTEER:
            cached = ()
        else:
            paths = sorted(user.scopes.values_list("path", flat=True))
            # Drop a path that lies under another one: the subtree is already in reach.
            cached = tuple(p for i, p in enumerate(paths) if not any(p.startswith(q) for q in paths[:i]))
        user._reach_paths = cached
    return cached


def node_q(user, field: str) -> Q:
    prefix = f"{field}__path__startswith" if field else "path__startswith"
    q = Q(pk__in=[])
    for path in reach_paths(user):
        q |= Q(**{prefix: path})
    return q


def scoped(queryset, user):
    """Only the rows of `queryset` within the user's reach."""
    model = queryset.model
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if user.is_superuser:
        return queryset
    field = model.SCOPE_NODE_FIELD
    if field is None:
        return queryset
    if reaches_everything(user):
        # The whole tree is in reach: no filter, so searches stay index-only.
        return queryset
    q = node_q(user, field)
    owner = getattr(model, "SCOPE_OWNER_FIELD", None)
    if owner and user.role in OWNER_ROLES:
        q |= Q(**{owner: user})
    return queryset.filter(q)


def scoped_within(queryset, user, within: OrgNode | None = None):
    """`scoped`, narrowed to the subtree of `within` when given (exports of one branch)."""
    queryset = scoped(queryset, user)
    if within is None:
        return queryset
    field = queryset.model.SCOPE_NODE_FIELD
    return queryset.filter(**{f"{field}__path__startswith" if field else "path__startswith": within.path})


def reaches_everything(user) -> bool:
    roots = _root_paths()
    return bool(roots) and set(roots) <= set(reach_paths(user))


def _root_paths() -> tuple[str, ...]:
    return tuple(OrgNode.objects.filter(depth=1).values_list("path", flat=True))


def get_scoped(queryset, user, pk):
    """One row by id, or NotFound — also when it exists outside the user's reach (ids reveal nothing)."""
    try:
        return scoped(queryset, user).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound("记录不存在或不在您的管辖范围内。")


def in_reach(user, node) -> bool:
    if user.is_superuser:
        return True
    return node is not None and any(node.path.startswith(p) for p in reach_paths(user))


def require_manager(user, node=None) -> None:
    """Raise unless the user may change things at `node` (or district-wide when node is None)."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。", code="not_authenticated", status=401)
    if user.is_superuser:
        return
    if user.role not in MANAGER_ROLES:
        raise Forbidden("您的角色无权进行此项操作。", code="role_forbidden")
    if node is None:
        if user.role != User.Role.DISTRICT_ADMIN:
            raise Forbidden("仅区文明办管理员可以进行此项操作。", code="role_forbidden")
        return
    if not in_reach(user, node):
        raise Forbidden("该组织不在您的管辖范围内。", code="out_of_scope")


def can_manage(user, node=None) -> bool:
    try:
        require_manager(user, node)
    except Forbidden:
        return False
    return True


def can_reveal(user) -> bool:
    return getattr(user, "is_authenticated", False) and (user.is_superuser or user.role in REVEAL_ROLES)


def nodes_in_reach(user, kind: str | None = None):
    qs = scoped(OrgNode.objects.all(), user)
    return qs.filter(kind=kind) if kind else qs
