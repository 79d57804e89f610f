"""Reads of the organisation: the tree, sites, platforms, contact points."""

from django.db.models import Count, Max, Q
from django.utils import timezone

from wenming.core.models import Department, OrgNode
from wenming.core.scoping import MANAGER_ROLES, get_scoped, node_q, reach_paths, scoped

from .models import ContactPoint, Platform, Site, SocialOrganization


def tree_for(user):
    """The nodes a user may see, in tree order, with their volunteer and team counts."""
    return (
        scoped(OrgNode.objects.all(), user)
        .annotate(volunteer_count=Count("volunteers", distinct=True))
        .order_by("path")
    )


def sites_for(user, *, node_id=None, kind=None):
    qs = scoped(Site.objects.all(), user).select_related("node")
    if node_id:
        qs = qs.filter(node_id=node_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("id")


def platforms():
    return Platform.objects.select_related("lead_department").annotate(team_count=Count("teams")).order_by("ordering", "id")


def social_orgs_for(user):
    return scoped(SocialOrganization.objects.all(), user).select_related("node").annotate(team_count=Count("teams"))


def contact_points_for(user, *, overdue_only: bool = False):
    """Contact points with their last visit and whether a visit is overdue."""
    today = timezone.localdate()
    rows = list(
        scoped(ContactPoint.objects.all(), user)
        .select_related("node")
        .annotate(last_visit=Max("visits__visited_on"), visit_count=Count("visits"))
        .order_by("kind", "id")
    )
    for cp in rows:
        cp.due_on = cp.due_since(cp.last_visit)
        cp.overdue = cp.due_on < today
        cp.overdue_days = (today - cp.due_on).days if cp.overdue else 0
    if overdue_only:
        rows = [cp for cp in rows if cp.overdue]
    return rows


# --- Reads for the console pages (tree, node detail, choosers, home cards).


def _direct_counts(node_qs) -> tuple[dict, dict]:
    """Volunteers and teams attached directly to each node: two grouped queries, no cross join."""
    base = node_qs.order_by().values("pk")
    volunteers = dict(base.annotate(n=Count("volunteers")).values_list("pk", "n"))
    teams = dict(base.annotate(n=Count("teams")).values_list("pk", "n"))
    return volunteers, teams


def _parent_path(path: str) -> str:
    return path[: -OrgNode.steplen]


def org_tree(user) -> list[OrgNode]:
    """The nodes in reach as a forest (the top nodes of the user's reach), each node carrying
    `children_list`, its subtree totals `volunteer_total` / `team_total` and `station_total`."""
    nodes = list(scoped(OrgNode.objects.all(), user).order_by("path"))
    volunteers, teams = _direct_counts(scoped(OrgNode.objects.all(), user))
    by_path, tops = {}, []
    for node in nodes:
        node.children_list = []
        node.volunteer_total = volunteers.get(node.pk, 0)
        node.team_total = teams.get(node.pk, 0)
        node.station_total = 1 if node.kind == OrgNode.Kind.STATION else 0
        by_path[node.path] = node
        parent = by_path.get(_parent_path(node.path))
        (parent.children_list if parent else tops).append(node)
    for node in reversed(nodes):  # children come after their parent in path order
        parent = by_path.get(_parent_path(node.path))
        if parent:
            parent.volunteer_total += node.volunteer_total
            parent.team_total += node.team_total
            parent.station_total += node.station_total
    return tops


def search_nodes(user, text: str, limit: int = 200) -> list[OrgNode]:
    """Nodes in reach whose name contains `text` or whose division code starts with it."""
    text = (text or "").strip()[:50]
    if not text:
        return []
    rows = list(
        scoped(OrgNode.objects.all(), user)
        .filter(Q(name__contains=text) | Q(division_code__startswith=text))
        .order_by("path")[:limit]
    )
    _attach_parents(rows)
    _attach_totals(user, rows)
    return rows


def _attach_parents(rows) -> None:
    paths = {_parent_path(n.path) for n in rows if n.depth > 1}
    parents = {p.path: p for p in OrgNode.objects.filter(path__in=paths)}
    for n in rows:
        n.parent_node = parents.get(_parent_path(n.path))


def _attach_totals(user, rows) -> None:
    """Subtree volunteer/team totals for the given nodes: two grouped queries over the reach."""
    if not rows:
        return
    reach = scoped(OrgNode.objects.all(), user)
    volunteers, teams = _direct_counts(reach)
    wanted = {n.path: n for n in rows}
    for n in rows:
        n.volunteer_total = n.team_total = 0
    for pk, path in reach.values_list("pk", "path"):
        for depth in range(1, len(path) // OrgNode.steplen + 1):
            n = wanted.get(path[: depth * OrgNode.steplen])
            if n is not None:
                n.volunteer_total += volunteers.get(pk, 0)
                n.team_total += teams.get(pk, 0)


def node_children(user, node) -> list[OrgNode]:
    """The direct children of a node with their subtree totals."""
    depth = node.depth + 1
    subtree = scoped(OrgNode.objects.filter(path__startswith=node.path, depth__gt=node.depth), user)
    volunteers, teams = _direct_counts(subtree)
    children = {n.path: n for n in subtree.filter(depth=depth).order_by("path")}
    for child in children.values():
        child.volunteer_total = child.team_total = child.station_total = 0
    for pk, path, kind in subtree.values_list("pk", "path", "kind"):
        child = children.get(path[: depth * OrgNode.steplen])
        if child:
            child.volunteer_total += volunteers.get(pk, 0)
            child.team_total += teams.get(pk, 0)
            child.station_total += kind == OrgNode.Kind.STATION
    return list(children.values())


def node_totals(user, node) -> dict:
    sub = scoped(OrgNode.objects.filter(path__startswith=node.path), user)
    return {
        "volunteers": sub.aggregate(n=Count("volunteers"))["n"],
        "teams": sub.aggregate(n=Count("teams"))["n"],
        "own_teams": node.teams.count(),
    }


def node_ancestors(user, node) -> list[OrgNode]:
    """The ancestors of a node that lie in the user's reach (for the breadcrumb)."""
    paths = [node.path[: i * OrgNode.steplen] for i in range(1, node.depth)]
    return list(scoped(OrgNode.objects.filter(path__in=paths), user).order_by("path"))


def manageable_nodes(user, kinds: tuple[str, ...] | None = None):
    """Nodes the user may change things at (the choosers of the create forms)."""
    if not (user.is_superuser or user.role in MANAGER_ROLES):
        return OrgNode.objects.none()
    qs = scoped(OrgNode.objects.all(), user).order_by("path")
    return qs.filter(kind__in=kinds) if kinds else qs


def can_create_anywhere(user) -> bool:
    """Whether the user manages at least one node (shows the 新增 buttons)."""
    return manageable_nodes(user).exists()


def sites_within(user, *, node=None, kind=None):
    """Sites in reach, optionally under a node's subtree and of one kind."""
    qs = scoped(Site.objects.all(), user).select_related("node")
    if node is not None:
        qs = qs.filter(node__path__startswith=node.path)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("node__path", "id")


def platforms_for(user):
    """Platforms with their lead department and the number of teams in the user's reach."""
    if user.is_superuser:
        team_filter = Q()
    elif reach_paths(user):
        team_filter = node_q(user, "teams__node")
    else:
        return [_zero_teams(p) for p in Platform.objects.select_related("lead_department").order_by("ordering", "id")]
    return list(
        Platform.objects.select_related("lead_department")
        .annotate(team_count=Count("teams", filter=team_filter, distinct=True))
        .order_by("ordering", "id")
    )


def _zero_teams(p):
    p.team_count = 0
    return p


def departments():
    return Department.objects.annotate(platform_count=Count("platforms")).order_by("id")


def contact_point_rows(user, *, overdue_only: bool = False, kind: str | None = None, node=None):
    """Contact points with their due date and overdue days, optionally of one kind or under a node."""
    rows = contact_points_for(user, overdue_only=overdue_only)
    if kind:
        rows = [cp for cp in rows if cp.kind == kind]
    if node is not None:
        rows = [cp for cp in rows if cp.node.path.startswith(node.path)]
    return rows


def contact_point_detail(user, pk) -> ContactPoint:
    """One contact point in reach with its status and its visits (NotFound outside reach)."""
    cp = get_scoped(
        ContactPoint.objects.select_related("node").annotate(last_visit=Max("visits__visited_on")), user, pk
    )
    _with_status(cp)
    cp.visit_list = list(cp.visits.select_related("recorded_by").order_by("-visited_on", "-id"))
    return cp


def _with_status(cp) -> None:
    today = timezone.localdate()
    cp.due_on = cp.due_since(cp.last_visit)
    cp.overdue = cp.due_on < today
    cp.overdue_days = (today - cp.due_on).days if cp.overdue else 0


def home_counts(user) -> dict:
    """The organisation's figures on the home page, within the user's reach."""
    nodes = scoped(OrgNode.objects.all(), user)
    return {
        "institutes": nodes.filter(kind=OrgNode.Kind.INSTITUTE).count(),
        "stations": nodes.filter(kind=OrgNode.Kind.STATION).count(),
        "sites": scoped(Site.objects.all(), user).count(),
        "overdue_contact_points": len(contact_points_for(user, overdue_only=True)),
    }
