"""Reads of the organisation: the tree, sites, platforms, contact points."""

from django.db.models import Count, Max
from django.utils import timezone

from wenming.core.models import OrgNode
from wenming.core.scoping import scoped

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
