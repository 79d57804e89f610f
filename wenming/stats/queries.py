"""The figures of a node's subtree for a period, read from the roll-ups (docs/FIGURES.md).

A summary is one indexed read of the node's own roll-ups — its whole months' rows and its partial
months' days, so at most about 12 + 60 rows per metric, and a centre's figure costs what a station's
does — plus, for distinct volunteers and teams and the rankings, one row or one ranked index read of
the year's or month's tallies. A period that is not a calendar year
or month gets those few figures from the raw records (recount.py), exactly, at their cost.
"""

from __future__ import annotations

from calendar import monthrange
from collections import Counter, defaultdict
from datetime import date, timedelta
from itertools import takewhile

from django.db.models import Q, Sum
from django.utils import timezone

from wenming.activities.models import Theme
from wenming.core.models import OrgNode
from wenming.needs.models import smoothed_stars
from wenming.org.models import Platform
from wenming.people.models import Team, Volunteer

from . import recount, rollups
from .models import RATING_SCORE, MonthRollup, PeriodCount, Rollup, Tally
from .periods import calendar_unit, checked

LEVELS = ("district", "city", "province", "central")
SERIES_METRICS = ("activities", "participations", "minutes_verified", "minutes_recorded",
                  "people_served_activities", "people_served_needs", "needs_collected", "needs_fulfilled")
NODE_RANK_METRICS = ("activities", "minutes_verified", "minutes_recorded", "people_served_activities",
                     "people_served_needs", "needs_fulfilled")


def hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def refresh(now=None) -> None:
    """Count the activities that have ended since the last read (cheap when there are none)."""
    if rollups.activities_due(now):
        rollups.advance_clock(now)


def split(start: date, end: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """[start, end] as the days of its partial months and the first days of its whole months:
    a year is 12 month rows; 3 Jan – 20 Mar is 29 + 20 days and February."""
    def month_end(day: date) -> date:
        return day.replace(day=monthrange(day.year, day.month)[1])

    first = start.year * 12 + start.month - 1 + (start.day != 1)  # months counted from year 0
    last = end.year * 12 + end.month - 1 - (end != month_end(end))
    if first > last:
        return [(start, end)], None
    days = []
    if start.day != 1:
        days.append((start, month_end(start)))
    if end != month_end(end):
        days.append((end.replace(day=1), end))
    return days, (date(first // 12, first % 12 + 1, 1), date(last // 12, last % 12 + 1, 1))


def period_rows(start: date, end: date, by: tuple[str, ...], **filters) -> Counter:
    """The roll-ups summed over [start, end], grouped by the fields `by`: whole months from
    `MonthRollup`, the days of partial months from `Rollup`."""
    days, months = split(start, end)
    totals: Counter = Counter()
    if days:
        in_days = Q()
        for a, b in days:
            in_days |= Q(day__gte=a, day__lte=b)
        rows = Rollup.objects.filter(in_days, **filters).values(*by).annotate(v=Sum("value")).order_by()
        for r in rows:
            totals[tuple(r[f] for f in by)] += r["v"]
    if months:
        rows = (MonthRollup.objects.filter(month__gte=months[0], month__lte=months[1], **filters).values(*by)
                .annotate(v=Sum("value")).order_by())
        for r in rows:
            totals[tuple(r[f] for f in by)] += r["v"]
    return totals


def sums(node: OrgNode, start: date, end: date) -> dict[tuple[str, int], int]:
    return dict(period_rows(start, end, ("metric", "dim"), node=node))


def period_key(start: date, end: date) -> tuple[str | None, str | None]:
    """The tally periods (volunteers', teams') that hold exactly [start, end], if any."""
    unit = calendar_unit(start, end, timezone.localdate())
    if unit == "year":
        return f"{start.year:04d}", f"{start.year:04d}"
    if unit == "month":
        return None, f"{start.year:04d}-{start.month:02d}"
    return None, None


def _count(node: OrgNode, period: str, kind: str) -> int:
    return PeriodCount.objects.filter(node=node, period=period, kind=kind).values_list("count", flat=True).first() or 0


def summary(node: OrgNode, start: date, end: date, *, limit: int = 10) -> dict:
    """Every figure of docs/FIGURES.md for the node's subtree and [start, end]."""
    period = checked(start, end)
    refresh()
    vol_period, team_period = period_key(period.start, period.end)
    if vol_period:
        volunteers, top_volunteers = _count(node, vol_period, Tally.VOLUNTEER), None
    else:
        volunteers, top_volunteers = recount.volunteer_activity(node, period.start, period.end, limit)
    activity = None if team_period else recount.team_activity(node, period.start, period.end)
    teams = (_count(node, team_period, Tally.TEAM) if team_period
             else recount.active_teams(node, period.start, period.end, activity))
    ranks = rankings(node, period.start, period.end, limit=limit, refreshed=True, team_activity=activity,
                     top_volunteers=top_volunteers)
    return compose(node, period.start, period.end, sums(node, period.start, period.end), volunteers, teams, ranks)


def compose(node: OrgNode, start: date, end: date, totals: dict, volunteers: int, active_teams: int,
            ranks: dict) -> dict:
    """The summary's dict from the period's totals per (metric, dim) — shared by the roll-up answer and
    the recount from raw records, so the two differ only in how the totals were found."""

    def get(metric: str) -> int:
        return int(totals.get((metric, 0), 0))

    verified, recorded = get("minutes_verified"), get("minutes_recorded")
    served_activities, served_needs = get("people_served_activities"), get("people_served_needs")
    collected, rejected, cancelled = get("needs_collected"), get("needs_rejected"), get("needs_cancelled")
    fulfilled, rated = get("needs_fulfilled"), get("needs_rated")
    open_ = collected - rejected - cancelled
    accept_count = get("needs_accept_count")
    figures = {
        "node": {"id": node.pk, "name": node.name, "kind": node.kind},
        "start": start,
        "end": end,
        "activities": get("activities"),
        "participations": get("participations"),
        "volunteers": int(volunteers),
        "new_volunteers": get("new_volunteers"),
        "active_teams": int(active_teams),
        "minutes_verified": verified,
        "minutes_recorded": recorded,
        "minutes_total": verified + recorded,
        "hours_verified": hours(verified),
        "hours_recorded": hours(recorded),
        "hours_total": hours(verified + recorded),
        "people_served": served_activities + served_needs,
        "people_served_activities": served_activities,
        "people_served_needs": served_needs,
        "needs_collected": collected,
        "needs_approved": get("needs_approved"),
        "needs_rejected": rejected,
        "needs_cancelled": cancelled,
        "needs_dispatched": get("needs_dispatched"),
        "needs_accepted": get("needs_accepted"),
        "needs_fulfilled": fulfilled,
        "needs_rated": rated,
        "needs_overdue": get("needs_overdue"),
        "needs_completion_rate": round(fulfilled / open_, 4) if open_ > 0 else None,
        "needs_average_rating": round(get("needs_stars") / rated, 2) if rated else None,
        "needs_mean_hours_to_accept": (round(get("needs_accept_seconds") / accept_count / 3600, 2)
                                       if accept_count else None),
        "needs_mean_hours_to_complete": (round(get("needs_complete_seconds") / fulfilled / 3600, 2)
                                         if fulfilled else None),
        "media_reports": get("media_reports"),
        **{f"media_{level}": get(f"media_{level}") for level in LEVELS},
        "by_platform": _breakdown(totals, "activities_platform", Platform, people="people_platform"),
        "by_theme": _breakdown(totals, "activities_theme", Theme),
    }
    figures.update(ranks)
    return figures


def _breakdown(totals: dict, metric: str, model, people: str | None = None) -> list[dict]:
    counts = {dim: v for (m, dim), v in totals.items() if m == metric and v}
    names = dict(model.objects.filter(pk__in=counts).values_list("pk", "name"))
    rows = []
    for dim, activities in counts.items():
        row = {"id": dim, "name": names.get(dim, "—"), "activities": int(activities)}
        if people:
            row["people_served"] = int(totals.get((people, dim), 0))
        rows.append(row)
    return sorted(rows, key=lambda r: (-r["activities"], r["name"]))


# --- rankings --------------------------------------------------------------------------------------


def rankings(node: OrgNode, start: date, end: date, *, limit: int = 10, refreshed: bool = False,
             team_activity=None, top_volunteers=None) -> dict:
    """The rankings; a period without tallies reads the teams' activity and the volunteers' minutes from
    the raw records once (or takes them from `summary`, which has read them already)."""
    period = checked(start, end)
    if not refreshed:
        refresh()
    start, end = period.start, period.end
    vol_period, team_period = period_key(start, end)
    if not team_period and team_activity is None:
        team_activity = recount.team_activity(node, start, end)
    if not vol_period and top_volunteers is None:
        top_volunteers = recount.volunteer_activity(node, start, end, limit)[1]
    return {
        "rank_nodes": rank_nodes(node, start, end, limit),
        "rank_teams_hours": (_tally_teams_by_hours(node, team_period, limit) if team_period
                             else recount.rank_teams_hours(node, start, end, limit, team_activity)),
        "rank_volunteers_hours": (_tally_volunteers(node, vol_period, limit) if vol_period
                                  else volunteer_rows(top_volunteers)),
        "rank_teams_rating": (_tally_teams_by_rating(node, team_period, limit) if team_period
                              else recount.rank_teams_rating(node, start, end, limit, team_activity)),
    }


def node_rank_rows(children, totals_by_node: dict, limit: int) -> list[dict]:
    rows = []
    for child in children:
        t = totals_by_node.get(child.pk, {})
        minutes = t.get("minutes_verified", 0) + t.get("minutes_recorded", 0)
        rows.append({"id": child.pk, "name": child.name, "kind": child.kind, "activities": t.get("activities", 0),
                     "hours_total": hours(minutes), "people_served": t.get("people_served_activities", 0)
                     + t.get("people_served_needs", 0), "needs_fulfilled": t.get("needs_fulfilled", 0),
                     "_minutes": minutes})
    rows.sort(key=lambda r: (-r["_minutes"], -r["activities"], r["name"]))
    for r in rows:
        del r["_minutes"]
    return rows[:limit]


def rank_nodes(node: OrgNode, start: date, end: date, limit: int) -> list[dict]:
    children = list(node.get_children())
    totals: dict = defaultdict(Counter)
    rows = period_rows(start, end, ("node_id", "metric"), node__in=children, metric__in=NODE_RANK_METRICS, dim=0)
    for (node_id, metric), v in rows.items():
        totals[node_id][metric] = int(v)
    return node_rank_rows(children, totals, limit)


def team_rows(minutes_events: list[tuple[int, int, int]]) -> list[dict]:
    names = dict(Team.objects.filter(pk__in=[t for t, _, _ in minutes_events]).values_list("pk", "name"))
    return [{"id": t, "name": names.get(t, "—"), "hours_total": hours(m), "events": int(e)}
            for t, m, e in minutes_events]


def volunteer_rows(minutes: list[tuple[int, int]]) -> list[dict]:
    people = {v.pk: v for v in Volunteer.objects.filter(pk__in=[v for v, _ in minutes]).select_related("station")
              .only("name", "station__name")}
    return [{"id": v, "name": people[v].name if v in people else "—",
             "station": people[v].station.name if v in people else "", "hours_total": hours(m)}
            for v, m in minutes]


def rating_rows(ratings: list[tuple[int, int, int]], limit: int) -> list[dict]:
    """(team, stars sum, ratings) → best smoothed mean first (`needs.models.smoothed_stars`), then more ratings,
    then name; each row shows the plain mean. Names are read only for the teams that can make the list
    (the first `limit` and any tied with the last of them): a province has tens of thousands of rated teams."""
    ranked = sorted(((smoothed_stars(s, n), n, t, s) for t, s, n in ratings if n), key=lambda r: (-r[0], -r[1]))
    if not ranked or limit <= 0:
        return []
    last = ranked[:limit][-1][:2]
    candidates = ranked[:limit] + list(takewhile(lambda r: r[:2] == last, ranked[limit:]))
    names = dict(Team.objects.filter(pk__in=[t for _m, _n, t, _s in candidates]).values_list("pk", "name"))
    rows = [{"id": t, "name": names.get(t, "—"), "average_rating": round(s / n, 2), "ratings": int(n), "_score": score}
            for score, n, t, s in candidates]
    rows.sort(key=lambda r: (-r["_score"], -r["ratings"], r["name"], r["id"]))
    for r in rows:
        del r["_score"]
    return rows[:limit]


def _tally_teams_by_hours(node, period: str, limit: int) -> list[dict]:
    rows = (Tally.objects.filter(node=node, period=period, kind=Tally.TEAM, minutes__gt=0)
            .order_by("-minutes", "member_id").values_list("member_id", "minutes", "events")[:limit])
    return team_rows(list(rows))


def _tally_volunteers(node, period: str, limit: int) -> list[dict]:
    rows = (Tally.objects.filter(node=node, period=period, kind=Tally.VOLUNTEER, minutes__gt=0)
            .order_by("-minutes", "member_id").values_list("member_id", "minutes")[:limit])
    return volunteer_rows(list(rows))


def _tally_teams_by_rating(node, period: str, limit: int) -> list[dict]:
    """The best smoothed means first, off the index that holds them in that order, then the teams tied
    with the last of them — same score and same count is the same stars sum — for the order by name."""
    rated = Tally.objects.filter(node=node, period=period, kind=Tally.TEAM, rating_count__gt=0).annotate(
        score=RATING_SCORE)
    columns = ("member_id", "rating_sum", "rating_count")
    top = list(rated.order_by("-score", "-rating_count").values_list(*columns)[:max(limit, 0)])
    if not top:
        return []
    _team, stars, count = top[-1]
    ties = rated.filter(score=smoothed_stars(stars, count), rating_count=count, rating_sum=stars).values_list(*columns)
    return rating_rows(list(dict.fromkeys(top + list(ties))), limit)


# --- time series ------------------------------------------------------------------------------------


def timeseries(node: OrgNode, start: date, end: date, interval: str | None = None) -> dict:
    period = checked(start, end)
    refresh()
    interval = interval or ("month" if period.days > 62 else "day")
    buckets: dict = defaultdict(Counter)
    days, months = split(period.start, period.end) if interval == "month" else ([(period.start, period.end)], None)
    for a, b in days:
        rows = (Rollup.objects.filter(node=node, day__gte=a, day__lte=b, metric__in=SERIES_METRICS, dim=0)
                .values_list("day", "metric", "value"))
        for day, metric, value in rows:
            buckets[_bucket(day, interval)][metric] += value
    if months:
        rows = (MonthRollup.objects.filter(node=node, month__gte=months[0], month__lte=months[1],
                                           metric__in=SERIES_METRICS, dim=0).values_list("month", "metric", "value"))
        for month, metric, value in rows:
            buckets[_bucket(month, interval)][metric] += value
    points = []
    for key in _buckets(period.start, period.end, interval):
        b = buckets.get(key, Counter())
        points.append({
            "period": key,
            "activities": b["activities"],
            "participations": b["participations"],
            "hours_total": hours(b["minutes_verified"] + b["minutes_recorded"]),
            "people_served": b["people_served_activities"] + b["people_served_needs"],
            "needs_collected": b["needs_collected"],
            "needs_fulfilled": b["needs_fulfilled"],
        })
    return {"interval": interval, "points": points}


def _bucket(day: date, interval: str) -> str:
    return day.isoformat() if interval == "day" else f"{day.year:04d}-{day.month:02d}"


def _buckets(start: date, end: date, interval: str) -> list[str]:
    if interval == "day":
        return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    keys, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return keys


def home_node(user) -> OrgNode:
    """The node a user's figures open on: the top of their reach (a station admin's station)."""
    from wenming.core.errors import Forbidden
    from wenming.core.scoping import reach_paths

    paths = reach_paths(user)
    node = OrgNode.objects.filter(path=paths[0]).first() if paths else None
    if node is None:
        raise Forbidden("您的账号没有可查看统计数据的组织范围。", code="no_reach")
    return node


def node_for(user, node_id: int | None) -> OrgNode:
    """The node asked for, if in the user's reach (404 otherwise, like every other record), or their home node."""
    from wenming.core.scoping import get_scoped

    if node_id is None:
        return home_node(user)
    home_node(user)  # an account without any reach is refused as such, not with a 404
    return get_scoped(OrgNode.objects.all(), user, node_id)
