"""Reads of the need loop: who sees which needs, timelines, the overdue list, and the figures."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median

from django.db.models import Avg, Count, Q
from django.utils import timezone

from wenming.core.models import OrgNode, User
from wenming.core.scoping import node_q, reaches_everything

from .models import Need, NeedCategory, NeedEvent

S = Need.State


def needs_for(user):
    """The needs an account may see: those handled in its reach (and those raised there), and those
    dispatched to it — its team, itself as a volunteer, its department — plus, for team leaders, the pool
    and the wishes waiting on the wall."""
    qs = Need.objects.select_related("category", "category__parent", "station", "node", "team", "volunteer",
                                     "to_node", "department")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if user.is_superuser or reaches_everything(user):
        return qs
    q = node_q(user, "node") | node_q(user, "station")
    if user.role == User.Role.TEAM_LEADER:
        q |= Q(team__leader__user=user) | Q(in_pool=True, state=S.DISPATCHED) | Q(is_wish=True, state=S.APPROVED)
    if user.role == User.Role.DEPARTMENT and user.department_id:
        q |= Q(department_id=user.department_id)
    q |= Q(volunteer__user=user) | Q(team__leader__user=user)
    return qs.filter(q)


def timeline(need: Need, *, public_only: bool = False):
    events = need.events.select_related("actor").order_by("at", "id")
    return events.filter(public=True) if public_only else events


def stage_counts(user, stages) -> dict[str, int]:
    """How many visible needs each of the list's tabs holds (one GROUP BY)."""
    by_state = dict(needs_for(user).order_by().values_list("state").annotate(n=Count("id")))
    return {key: sum(by_state.get(s, 0) for s in states) for key, _label, states in stages}


def overdue_needs(user):
    """Everything overdue in the account's reach (the centre's page shows the whole district)."""
    return needs_for(user).filter(overdue=True, state__in=Need.OPEN_STATES).order_by("deadline", "created_at")


def pool_for(user):
    return needs_for(user).filter(state=S.DISPATCHED, in_pool=True).order_by("deadline")


def wishes_to_claim(user):
    return needs_for(user).filter(state=S.APPROVED, is_wish=True).order_by("created_at")


def wish_wall():
    """Approved wishes waiting for a team, as the public wall shows them (no personal data is selected)."""
    return (Need.objects.filter(is_wish=True, state=S.APPROVED).select_related("category", "station")
            .only("code", "description", "category__name", "station__name", "created_at", "wished_at")
            .order_by("-created_at"))


def categories():
    """Active categories, parents first with their children (for forms and Open311)."""
    rows = list(NeedCategory.objects.filter(active=True).select_related("parent").order_by("sort_order", "id"))
    parents = [c for c in rows if c.parent_id is None]
    return [(p, [c for c in rows if c.parent_id == p.pk]) for p in parents]


def leaf_categories():
    return NeedCategory.objects.filter(active=True, parent__isnull=False, parent__active=True).select_related("parent")


# --- Figures ---------------------------------------------------------------------------------------


@dataclass
class NeedFigures:
    collected: int
    approved: int
    rejected: int
    dispatched: int
    fulfilled: int
    cancelled: int
    overdue: int
    completion_rate: float | None  # fulfilled ÷ (collected − rejected − cancelled)
    median_hours_to_accept: float | None
    median_hours_to_complete: float | None
    rated: int
    average_rating: float | None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))


def need_figures(node: OrgNode, start: date, end: date) -> NeedFigures:
    """For the needs raised in a node's subtree within [start, end] (by the day they were raised).
    Subtree by materialised path: a centre's figure costs what a station's does."""
    since, until = _bounds(start, end)
    raised = Need.objects.filter(station__path__startswith=node.path, created_at__gte=since, created_at__lt=until)
    counts = raised.aggregate(
        collected=Count("id"),
        approved=Count("id", filter=Q(approved_at__isnull=False)),
        rejected=Count("id", filter=Q(state=S.REJECTED)),
        cancelled=Count("id", filter=Q(state=S.CANCELLED)),
        dispatched=Count("id", filter=Q(dispatched_at__isnull=False)),
        fulfilled=Count("id", filter=Q(completed_at__isnull=False)),
        overdue=Count("id", filter=Q(overdue=True, state__in=Need.OPEN_STATES)),
        rated=Count("id", filter=Q(stars__isnull=False)),
        average=Avg("stars"),
    )
    to_accept = [(a - d).total_seconds() / 3600 for d, a in raised.filter(
        accepted_at__isnull=False, dispatched_at__isnull=False).values_list("dispatched_at", "accepted_at")]
    to_complete = [(c - r).total_seconds() / 3600 for r, c in raised.filter(
        completed_at__isnull=False).values_list("created_at", "completed_at")]
    open_ = counts["collected"] - counts["rejected"] - counts["cancelled"]
    return NeedFigures(
        collected=counts["collected"], approved=counts["approved"], rejected=counts["rejected"],
        dispatched=counts["dispatched"], fulfilled=counts["fulfilled"], cancelled=counts["cancelled"],
        overdue=counts["overdue"],
        completion_rate=round(counts["fulfilled"] / open_, 4) if open_ > 0 else None,
        median_hours_to_accept=round(median(to_accept), 2) if to_accept else None,
        median_hours_to_complete=round(median(to_complete), 2) if to_complete else None,
        rated=counts["rated"],
        average_rating=round(float(counts["average"]), 2) if counts["average"] is not None else None,
    )


def recount_figures(node: OrgNode, start: date, end: date) -> NeedFigures:
    """The same figures counted one need at a time in Python (what the tests compare against)."""
    since, until = _bounds(start, end)
    needs = [n for n in Need.objects.filter(station__path__startswith=node.path)
             if since <= n.created_at < until]
    rejected = sum(n.state == S.REJECTED for n in needs)
    cancelled = sum(n.state == S.CANCELLED for n in needs)
    fulfilled = sum(n.completed_at is not None for n in needs)
    rated = [n.stars for n in needs if n.stars is not None]
    to_accept = [(n.accepted_at - n.dispatched_at).total_seconds() / 3600 for n in needs
                 if n.accepted_at and n.dispatched_at]
    to_complete = [(n.completed_at - n.created_at).total_seconds() / 3600 for n in needs if n.completed_at]
    open_ = len(needs) - rejected - cancelled
    return NeedFigures(
        collected=len(needs), approved=sum(n.approved_at is not None for n in needs), rejected=rejected,
        dispatched=sum(n.dispatched_at is not None for n in needs), fulfilled=fulfilled, cancelled=cancelled,
        overdue=sum(n.overdue and n.state in Need.OPEN_STATES for n in needs),
        completion_rate=round(fulfilled / open_, 4) if open_ > 0 else None,
        median_hours_to_accept=round(median(to_accept), 2) if to_accept else None,
        median_hours_to_complete=round(median(to_complete), 2) if to_complete else None,
        rated=len(rated), average_rating=round(sum(rated) / len(rated), 2) if rated else None,
    )


def team_ratings(team_ids) -> dict[int, tuple[float, int]]:
    """Average stars and number of ratings of closed needs, per team (reputation for candidates)."""
    rows = (Need.objects.filter(team_id__in=team_ids, stars__isnull=False).values("team_id")
            .annotate(avg=Avg("stars"), n=Count("id")))
    return {r["team_id"]: (float(r["avg"]), r["n"]) for r in rows}


def last_public_note(need: Need) -> str:
    event = NeedEvent.objects.filter(need=need, public=True).exclude(note="").order_by("-at", "-id").first()
    return event.note if event else ""
