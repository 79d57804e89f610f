"""The figures counted straight from the raw records, by plain aggregation: the baseline the roll-ups are
measured against (bench/dashboard.py), what the tests compare them with, and the answer for the few
figures a roll-up cannot hold for an arbitrary period (distinct volunteers and teams, rankings).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from django.db.models import BigIntegerField, Case, Count, Min, Sum, Value, When, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from wenming.activities.models import Activity
from wenming.core.models import OrgNode
from wenming.ledger.models import ServiceRecord
from wenming.needs.models import Need
from wenming.people.models import Volunteer
from wenming.publicity.models import MediaReport

from . import rollups
from .periods import checked
from .rollups import COUNTED_ACTIVITY, LOCAL


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time.min, tzinfo=LOCAL),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=LOCAL))


def _records(node: OrgNode, start: date, end: date):
    return ServiceRecord.objects.filter(node__path__startswith=node.path, service_date__gte=start,
                                        service_date__lte=end)


def _ended(node: OrgNode, start: date, end: date):
    since, until = _bounds(start, end)
    return Activity.objects.filter(node__path__startswith=node.path, status__in=COUNTED_ACTIVITY,
                                   ends_at__gte=since, ends_at__lt=until, ends_at__lte=timezone.now())


def _source_teams(source_minutes) -> dict[int, list[int]]:
    """{team: [minutes]} from rows (source_type, source_id, minutes), through the activity's or need's team."""
    teams = rollups.source_teams({(source_type, source_id) for source_type, source_id, _m in source_minutes})
    out: dict[int, int] = Counter()
    for source_type, source_id, minutes in source_minutes:
        team = teams.get((source_type, source_id))
        if team:
            out[team] += minutes
    return out


def totals(node: OrgNode, start: date, end: date, *, participations: bool = True) -> dict[tuple[str, int], int]:
    """The period's totals per (metric, dim), as the roll-ups hold them, from the raw tables. Participations
    group the whole ledger (a pair's first record may lie outside the node): the ranking of children, which
    does not show them, leaves them out."""
    out: Counter = Counter()
    records = _records(node, start, end)
    for row in records.values("kind").annotate(m=Sum("minutes")).order_by():
        out[(f"minutes_{row['kind']}", 0)] += row["m"]

    if participations:
        root = Case(When(source_id="", then=Coalesce("original_id", "id")), default=Value(0),
                    output_field=BigIntegerField())
        firsts = (ServiceRecord.objects.annotate(root=root).values("volunteer_id", "source_type", "source_id", "root")
                  .annotate(net=Sum("minutes"), first=Min("id")).filter(net__gt=0).values("first"))
        out[("participations", 0)] = records.filter(id__in=firsts).count()

    ended = _ended(node, start, end)
    agg = ended.aggregate(n=Count("id"), people=Coalesce(Sum("beneficiaries"), 0))
    out[("activities", 0)] = agg["n"]
    out[("people_served_activities", 0)] = agg["people"]
    for row in (ended.filter(platform__isnull=False).values("platform_id")
                .annotate(n=Count("id"), people=Coalesce(Sum("beneficiaries"), 0)).order_by()):
        out[("activities_platform", row["platform_id"])] = row["n"]
        out[("people_platform", row["platform_id"])] = row["people"]
    through = Activity.themes.through.objects.filter(activity__in=ended)
    for row in through.values("theme_id").annotate(n=Count("id")).order_by():
        out[("activities_theme", row["theme_id"])] = row["n"]

    since, until = _bounds(start, end)
    for need in Need.objects.filter(station__path__startswith=node.path, created_at__gte=since, created_at__lt=until):
        out[("needs_collected", 0)] += 1
        out[("needs_approved", 0)] += need.approved_at is not None
        out[("needs_rejected", 0)] += need.state == Need.State.REJECTED
        out[("needs_cancelled", 0)] += need.state == Need.State.CANCELLED
        out[("needs_dispatched", 0)] += need.dispatched_at is not None
        out[("needs_accepted", 0)] += need.accepted_at is not None
        out[("needs_fulfilled", 0)] += need.completed_at is not None
        out[("needs_overdue", 0)] += need.overdue and need.state in Need.OPEN_STATES
        if need.stars is not None:
            out[("needs_rated", 0)] += 1
            out[("needs_stars", 0)] += need.stars
        if need.accepted_at and need.dispatched_at:
            out[("needs_accept_seconds", 0)] += int((need.accepted_at - need.dispatched_at).total_seconds())
            out[("needs_accept_count", 0)] += 1
        if need.completed_at:
            out[("needs_complete_seconds", 0)] += int((need.completed_at - need.created_at).total_seconds())
    served = Need.objects.filter(station__path__startswith=node.path, completed_at__gte=since,
                                 completed_at__lt=until, activity__isnull=True)
    out[("people_served_needs", 0)] = served.aggregate(n=Coalesce(Sum(Coalesce("people_served", 1)), 0))["n"]

    out[("new_volunteers", 0)] = Volunteer.objects.filter(station__path__startswith=node.path,
                                                          created_at__gte=since, created_at__lt=until).count()
    reports = MediaReport.objects.filter(node__path__startswith=node.path, published_on__gte=start,
                                         published_on__lte=end)
    for row in reports.values("level").annotate(n=Count("id")).order_by():
        out[(f"media_{row['level']}", 0)] = row["n"]
        out[("media_reports", 0)] += row["n"]
    return {k: v for k, v in out.items() if v}


def volunteer_activity(node: OrgNode, start: date, end: date, limit: int) -> tuple[int, list[tuple[int, int]]]:
    """How many volunteers gave minutes in the subtree and period, and the first `limit` of them by minutes —
    one grouping of the records for both (a window counts the groups), where `volunteers` and
    `rank_volunteers_hours` group them once each."""
    grouped = (_records(node, start, end).values("volunteer_id").annotate(m=Sum("minutes")).filter(m__gt=0)
               .annotate(total=Window(Count("*"))).order_by("-m", "volunteer_id"))
    rows = list(grouped.values_list("volunteer_id", "m", "total")[:max(limit, 1)])
    return (rows[0][2] if rows else 0), [(v, m) for v, m, _total in rows[:limit]]


def volunteers(node: OrgNode, start: date, end: date) -> int:
    return (_records(node, start, end).values("volunteer_id").annotate(m=Sum("minutes")).filter(m__gt=0)
            .order_by().count())


def team_activity(node: OrgNode, start: date, end: date) -> tuple[Counter, Counter, dict]:
    """Per team: minutes given in the subtree, events (finished activities, fulfilled needs), ratings.
    The three team figures below take it ready-made (`activity`) so that a summary reads it once."""
    rows = (_records(node, start, end).filter(source_type__in=("activity", "need")).values_list(
        "source_type", "source_id").annotate(m=Sum("minutes")).order_by())
    minutes = _source_teams(list(rows))
    events: Counter = Counter()
    for row in _ended(node, start, end).filter(team__isnull=False).values("team_id").annotate(n=Count("id")).order_by():
        events[row["team_id"]] += row["n"]
    since, until = _bounds(start, end)
    in_subtree = Need.objects.filter(station__path__startswith=node.path, team__isnull=False)
    for row in (in_subtree.filter(completed_at__gte=since, completed_at__lt=until).values("team_id")
                .annotate(n=Count("id")).order_by()):
        events[row["team_id"]] += row["n"]
    ratings = {row["team_id"]: (row["s"], row["n"]) for row in
               in_subtree.filter(stars__isnull=False, rated_at__gte=since, rated_at__lt=until).values("team_id")
               .annotate(s=Sum("stars"), n=Count("id")).order_by()}
    return minutes, events, ratings


def active_teams(node: OrgNode, start: date, end: date, activity=None) -> int:
    minutes, events, _ = activity or team_activity(node, start, end)
    return len({t for t, m in minutes.items() if m > 0} | {t for t, n in events.items() if n > 0})


def rank_teams_hours(node: OrgNode, start: date, end: date, limit: int, activity=None) -> list[dict]:
    from .queries import team_rows

    minutes, events, _ = activity or team_activity(node, start, end)
    ranked = sorted(((t, m, events.get(t, 0)) for t, m in minutes.items() if m > 0), key=lambda r: (-r[1], r[0]))
    return team_rows(ranked[:limit])


def rank_volunteers_hours(node: OrgNode, start: date, end: date, limit: int) -> list[dict]:
    from .queries import volunteer_rows

    rows = (_records(node, start, end).values("volunteer_id").annotate(m=Sum("minutes")).filter(m__gt=0)
            .order_by("-m", "volunteer_id").values_list("volunteer_id", "m")[:limit])
    return volunteer_rows(list(rows))


def rank_teams_rating(node: OrgNode, start: date, end: date, limit: int, activity=None) -> list[dict]:
    from .queries import rating_rows

    _, _, ratings = activity or team_activity(node, start, end)
    return rating_rows([(t, s, n) for t, (s, n) in ratings.items()], limit)


def rank_nodes(node: OrgNode, start: date, end: date, limit: int) -> list[dict]:
    from .queries import node_rank_rows

    children = list(node.get_children())
    by_node = {child.pk: {m: v for (m, dim), v in totals(child, start, end, participations=False).items() if dim == 0}
               for child in children}
    return node_rank_rows(children, by_node, limit)


def summary(node: OrgNode, start: date, end: date, *, limit: int = 10) -> dict:
    """The same dict as queries.summary, every figure aggregated from the raw records."""
    from .queries import compose

    period = checked(start, end)
    start, end = period.start, period.end
    ranks = {
        "rank_nodes": rank_nodes(node, start, end, limit),
        "rank_teams_hours": rank_teams_hours(node, start, end, limit),
        "rank_volunteers_hours": rank_volunteers_hours(node, start, end, limit),
        "rank_teams_rating": rank_teams_rating(node, start, end, limit),
    }
    return compose(node, start, end, totals(node, start, end), volunteers(node, start, end),
                   active_teams(node, start, end), ranks)

