"""Candidates for dispatch (派单候选): who could take an approved need, ranked, with the reasons.

    candidates_for(need, *, limit=20, dispatcher=None) -> list[Candidate]

One list, teams and volunteers ranked together on one 0..1 score — eligible ones first, then by
score — holding at most `limit` teams and at most `limit` volunteers (a station has thousands of
volunteers: a shared limit would push every team off the list). The console shows two lists:
`split(candidates)` gives them, each in rank order.

The score is the weighted sum of five factor scores, each 0..1, kept in `Candidate.parts`:

    skill         the share of the category's skills the candidate has; for a team 80 % that and
                  20 % whether its platform is the category's. A category without skills fits all.
    distance      from the need (its coordinates, else its station's position) to the team's node /
                  the volunteer's station: 1 / (1 + km / 3) — 1.0 on the spot, 0.5 at 3 km. A
                  node's position is the mean of its sites' coordinates, else the node's own.
                  Without positions, the tree: same station 1.0, same institute 0.6, else 0.3.
    load          open needs held now (dispatched, accepted, in service): a team 1 − held/capacity,
                  a volunteer 1 / (1 + held).
    rating        the average stars of the candidate's closed needs, smoothed toward a prior (as if
                  everyone also had 5 ratings of 4 stars): one 5-star rating (4.17) does not beat
                  fifty of 4.8 (4.73); mapped 1..5 → 0..1. No rating: the prior, 0.75.
    availability  at `need.wished_at` (weekday / weekend / holiday, and evening from 18:00): a
                  volunteer 1.0 when one of their declared times fits, else 0.0; nothing declared or
                  no wished-for time 0.5. A team: the share of its members free then.

Weights: settings WENMING_CANDIDATE_WEIGHTS, a dict over those five keys (missing keys keep
DEFAULT_WEIGHTS), normalised to sum 1 so that the score stays 0..1.

Who is considered — `services.team_may_take`'s rules, in bulk:
  teams      whose node is on the path above the need's station or under the node handling it,
             plus, with a dispatcher, every team in the dispatcher's reach: the nearest (by node)
             2 × limit with a fitting skill; if fewer than `limit`, the nearest others fill up,
             ineligible ("队伍专长与需求类别不符"). A team at capacity is ineligible too.
  volunteers with a fitting skill: those of the station's institute who served the station's
             latest needs (up to SERVED_POOL), and the station's newest (3 × limit); if the
             station has fewer than `limit`, the newest of its institute's other stations. A
             volunteer without an account cannot accept a dispatch (`services.is_assignee`):
             listed, ineligible.

Cost, whatever the size of the district: six statements as a rule — the category; the tree with
its positions; teams; volunteers; loads and ratings of all of them in one GROUP BY; members'
availability — plus the dispatcher's reach unless the account already holds it; at most twelve
(teams beyond the nearest nodes, the fill-ups, and for a category wanting several skills two reads
of who has which). Each is bounded by its pool and walks an index (people and needs migrations
0003). They are plain SQL that SQLite and PostgreSQL both run: on this hot path the ORM spent
three times the CPU the database did. Members' availability is read only for the teams that can
still make the list once the other four factors are known. Ties are settled by id (teams) and
newest first (volunteers). bench/candidates.py measures it on 1,000,000 volunteers and 20,000
teams.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext

from wenming.core.models import OrgNode, Skill
from wenming.core.scoping import reach_paths
from wenming.org.models import Site
from wenming.people.models import Team, TeamMembership, Volunteer
from wenming.people.services import AVAILABILITY

from .models import Need, NeedCategory, smoothed_stars

DEFAULT_WEIGHTS = {"skill": 0.35, "distance": 0.25, "load": 0.15, "rating": 0.15, "availability": 0.10}
FACTORS = tuple(DEFAULT_WEIGHTS)
TEAMS_PER_LIMIT = 2  # the nearest fitting teams scored: 2 × limit
NEAR_NODES = 8  # where the nearest teams are looked for first
VOLUNTEERS_PER_LIMIT = 3  # the station's newest fitting volunteers scored: 3 × limit
SERVED_NEEDS = 100  # the station's latest needs served by a volunteer …
SERVED_POOL = 30  # … whose volunteers (at most this many) are scored too
HALF_SCORE_KM = 3.0  # the distance at which the distance score is 0.5
PLATFORM_SHARE = 0.2  # of a team's skill score: its platform is the category's
TREE_NEARNESS = {"station": 1.0, "institute": 0.6, "district": 0.3}
EVENING_FROM = 18
# Statutory holidays on fixed dates (元旦, 劳动节, 国庆节). The lunar ones (春节, 清明, 端午, 中秋)
# move every year: settings WENMING_HOLIDAYS lists them (ISO dates or dates).
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5), *((10, d) for d in range(1, 8))})

HELD = tuple(str(state) for state in Need.HELD_STATES)
CLOSED = str(Need.State.CLOSED)

# The reads are plain SQL that SQLite and PostgreSQL both run (see the module docstring); the tables
# are named from the models.
T = {
    "need": Need._meta.db_table, "category": NeedCategory._meta.db_table,
    "category_skills": NeedCategory.skills.through._meta.db_table, "skill": Skill._meta.db_table,
    "node": OrgNode._meta.db_table, "site": Site._meta.db_table, "team": Team._meta.db_table,
    "team_skills": Team.skills.through._meta.db_table, "member": TeamMembership._meta.db_table,
    "volunteer": Volunteer._meta.db_table, "volunteer_skills": Volunteer.skills.through._meta.db_table,
}


@dataclass
class Candidate:
    kind: str  # "team" | "volunteer"
    id: int
    name: str
    score: float  # 0..1, the weighted sum of `parts`
    parts: dict[str, float]  # skill, distance, load, rating, availability: each 0..1
    reasons: list[str]  # one short phrase per factor: "专长对口：助老助残", "距离约1.2公里" …
    eligible: bool = True
    why_not: str = ""  # why it cannot take the need now (full, no fitting skill, no account)
    place: str = ""  # the team's node / the volunteer's station


def split(candidates: list[Candidate]) -> tuple[list[Candidate], list[Candidate]]:
    """(teams, volunteers), each in rank order."""
    return [c for c in candidates if c.kind == "team"], [c for c in candidates if c.kind == "volunteer"]


def candidate_weights() -> dict[str, float]:
    """The configured weights over the five factors, normalised to sum 1."""
    given = getattr(settings, "WENMING_CANDIDATE_WEIGHTS", None) or {}
    if not isinstance(given, dict):
        raise ImproperlyConfigured(f"WENMING_CANDIDATE_WEIGHTS must be a dict over {FACTORS}, not {given!r}")
    unknown = set(given) - set(FACTORS)
    if unknown:
        raise ImproperlyConfigured(f"WENMING_CANDIDATE_WEIGHTS: unknown factor(s) {sorted(unknown)}; use {FACTORS}")
    weights = {**DEFAULT_WEIGHTS, **given}
    for key, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ImproperlyConfigured(f"WENMING_CANDIDATE_WEIGHTS[{key!r}] must be a number ≥ 0, not {value!r}")
    total = sum(weights.values())
    if total <= 0:
        raise ImproperlyConfigured("WENMING_CANDIDATE_WEIGHTS: at least one weight must be above 0")
    return {k: v / total for k, v in weights.items()}


# --- The wished-for time ---------------------------------------------------------------------------


def _holidays() -> set[date]:
    return {day if isinstance(day, date) else date.fromisoformat(str(day))
            for day in getattr(settings, "WENMING_HOLIDAYS", ()) or ()}


def time_slots(when) -> frozenset[str]:
    """The availability keys (people.services.AVAILABILITY) a moment falls in: weekday or weekend,
    holiday (then not weekday), evening from 18:00. Empty for no moment."""
    if when is None:
        return frozenset()
    local = timezone.localtime(when) if timezone.is_aware(when) else when
    day = local.date()
    slots = set()
    if (day.month, day.day) in FIXED_HOLIDAYS or day in _holidays():
        slots.add("holiday")
    if day.weekday() >= 5:
        slots.add("weekend")
    elif "holiday" not in slots:
        slots.add("weekday")
    if local.hour >= EVENING_FROM:
        slots.add("evening")
    return frozenset(slots)


# people.services.AVAILABILITY's words (kept Chinese there: they are the Excel's), for makemessages.
SLOT_WORDS = (gettext_noop("工作日"), gettext_noop("周末"), gettext_noop("晚间"), gettext_noop("节假日"))


def _slot_label(slots) -> str:
    return pgettext("列举", "、").join(_(label) for key, label in AVAILABILITY.items() if key in slots)


# --- What the need asks for ------------------------------------------------------------------------


@dataclass
class _Node:
    id: int
    path: str
    name: str
    position: tuple[float, float] | None


@dataclass
class _Ask:
    """The need, as the scoring sees it."""

    station: _Node
    node: _Node
    wanted: dict[int, str]  # skill id → name
    platform_id: int | None
    slots: frozenset[str]  # the availability keys of the wished-for time; empty: no time given
    nodes: dict[int, _Node]  # the whole tree
    nearness: dict[int, tuple[float, str]]  # node id → (distance score, reason)
    reach: list[str]  # the paths of the subtrees the dispatcher reaches

    @property
    def institute_path(self) -> str:
        return self.station.path[:-OrgNode.steplen] if len(self.station.path) > OrgNode.steplen else self.station.path


def _rows(statement: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))
        return cursor.fetchall()


def _marks(values) -> str:
    """Placeholders for an IN list (never empty: callers check)."""
    return ", ".join(["%s"] * len(values))


def _tree() -> dict[int, _Node]:
    """Every node with its position: the mean of its sites' coordinates, else its own (one query; a
    district has a few hundred nodes)."""
    nodes = {}
    for pk, path, name, lat, lng, site_lat, site_lng in _rows(f"""
        SELECT n.id, n.path, n.name, n.lat, n.lng, AVG(s.lat), AVG(s.lng)
        FROM {T["node"]} n LEFT JOIN {T["site"]} s ON s.node_id = n.id AND s.lat IS NOT NULL AND s.lng IS NOT NULL
        GROUP BY n.id, n.path, n.name, n.lat, n.lng"""):
        if site_lat is not None:
            position = (site_lat, site_lng)
        elif lat is not None and lng is not None:
            position = (lat, lng)
        else:
            position = None
        nodes[pk] = _Node(pk, path, name, position)
    return nodes


def _ask(need: Need, dispatcher) -> _Ask:
    rows = _rows(f"""
        SELECT c.platform_id, s.id, s.name FROM {T["category"]} c
        LEFT JOIN {T["category_skills"]} cs ON cs.needcategory_id = c.id
        LEFT JOIN {T["skill"]} s ON s.id = cs.skill_id
        WHERE c.id = %s""", [need.category_id])
    wanted = {skill: name for _platform, skill, name in rows if skill is not None}
    reach = list(reach_paths(dispatcher)) if dispatcher is not None else []
    nodes = _tree()
    station, node = nodes[need.station_id], nodes[need.node_id]
    located = need.lat is not None and need.lng is not None
    point = (need.lat, need.lng) if located else station.position
    return _Ask(station=station, node=node, wanted=wanted, platform_id=rows[0][0] if rows else None,
                slots=time_slots(need.wished_at), nodes=nodes, reach=reach,
                nearness={pk: _nearness(station, point, located, n) for pk, n in nodes.items()})


# --- Factor scores ---------------------------------------------------------------------------------


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), in km."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _distance_text(km: float, located: bool) -> str:
    """From the need's own place when it has one, else from its station."""
    if km < 1:
        metres = {"m": f"{round(km * 1000, -1):.0f}"}
        return (_("距离约%(m)s米") if located else _("距实践站约%(m)s米")) % metres
    return (_("距离约%(km).1f公里") if located else _("距实践站约%(km).1f公里")) % {"km": km}


def _nearness(station: _Node, point, located: bool, node: _Node) -> tuple[float, str]:
    if node.id == station.id and not located:  # no coordinates: placed at its station, so on the spot
        return TREE_NEARNESS["station"], _("同一实践站")
    if point is not None and node.position is not None:
        km = _km(point, node.position)
        return 1 / (1 + km / HALF_SCORE_KM), _distance_text(km, located)
    if node.path == station.path:
        return TREE_NEARNESS["station"], _("同一实践站")
    step = OrgNode.steplen
    common = 0
    for i in range(0, min(len(node.path), len(station.path)), step):
        if node.path[i:i + step] != station.path[i:i + step]:
            break
        common += 1
    if common >= 2:
        return TREE_NEARNESS["institute"], _("同一实践所辖区")
    return TREE_NEARNESS["district"], _("同一区（县）内")


def _skill(ask: _Ask, have: set[int]) -> tuple[float, str]:
    if not ask.wanted:
        return 1.0, _("该类别不限专长")
    fit = [name for pk, name in ask.wanted.items() if pk in have]
    if not fit:
        return 0.0, _("专长不对口")
    return len(fit) / len(ask.wanted), _("专长对口：%(skills)s") % {"skills": pgettext("列举", "、").join(fit)}


def _rating(count: int, total: int) -> tuple[float, str]:
    smoothed = smoothed_stars(total, count)
    text = (ngettext("历史评价%(stars).1f星（%(count)d次）", "历史评价%(stars).1f星（%(count)d次）", count)
            % {"stars": total / count, "count": count} if count else _("暂无评价"))
    return (smoothed - 1) / 4, text


def _volunteer_availability(ask: _Ask, declared) -> tuple[float, str]:
    if not ask.slots:
        return 0.5, _("未指定服务时间")
    if isinstance(declared, str | bytes):  # the JSON column, as the database driver gives it
        try:
            declared = json.loads(declared)
        except ValueError:
            declared = None
    declared = set(declared) & set(AVAILABILITY) if isinstance(declared, list) else set()
    if not declared:
        return 0.5, _("未填写可服务时间")
    fits = declared & ask.slots
    if fits:
        return 1.0, _("%(when)s有空") % {"when": _slot_label(fits)}
    return 0.0, _("%(when)s未登记有空") % {"when": _slot_label(ask.slots)}


def _team_availability(ask: _Ask, members: int, free: int) -> tuple[float, str]:
    if not ask.slots:
        return 0.5, _("未指定服务时间")
    if not members:
        return 0.5, _("暂无队员名单")
    return free / members, _("%(free)d/%(members)d名队员%(when)s有空") % {
        "free": free, "members": members, "when": _slot_label(ask.slots)}


def _fits(alias: str, table: str, column: str, ask: _Ask) -> tuple[str, list]:
    """An SQL condition (and its parameters): the row has one of the wanted skills."""
    if not ask.wanted:
        return "", []
    return (f" AND EXISTS (SELECT 1 FROM {T[table]} k WHERE k.{column} = {alias}.id"
            f" AND k.skill_id IN ({_marks(ask.wanted)}))", list(ask.wanted))


def _tier(ask: _Ask, node_id: int) -> float:
    """A node's distance score in steps of 0.05: the order teams are looked at in."""
    return round(ask.nearness[node_id][0] * 20) / 20


TEAM_COLUMNS = "t.id, t.name, t.node_id, t.platform_id, t.capacity"


def _nearest_teams(ask: _Ask, node_ids: list[int], condition: str, params: list, count: int) -> list[tuple]:
    """At most `count` teams of these nodes meeting the condition, nearest first (a CASE branch per
    step of distance, not per node), then by id."""
    tiers: dict[float, list[int]] = {}
    for pk in node_ids:
        tiers.setdefault(_tier(ask, pk), []).append(pk)
    case, case_params = [], []
    for tier, ids in sorted(tiers.items(), reverse=True):
        case.append(f"WHEN t.node_id IN ({_marks(ids)}) THEN {tier!r}")
        case_params += ids
    return _rows(f"""
        SELECT {TEAM_COLUMNS} FROM {T["team"]} t WHERE t.node_id IN ({_marks(node_ids)}){condition}
        ORDER BY CASE {" ".join(case)} ELSE 0 END DESC, t.id LIMIT %s""", [*node_ids, *params, *case_params, count])


def _team_rows(ask: _Ask, limit: int) -> tuple[list[tuple], int]:
    """The nearest teams with a fitting skill — first among the NEAR_NODES nearest nodes, then, if
    they have too few, the others — and, if fewer than `limit` fit, the nearest others. Returns the
    rows and how many of them fit."""
    station, node = ask.station.path, ask.node.path
    region = [n.id for n in ask.nodes.values() if station.startswith(n.path) or n.path.startswith(node)
              or any(n.path.startswith(p) for p in ask.reach)]
    region.sort(key=lambda pk: (-_tier(ask, pk), -ask.nearness[pk][0], pk))
    cut = min(NEAR_NODES, len(region))
    while cut < len(region) and _tier(ask, region[cut]) == _tier(ask, region[cut - 1]):
        cut += 1  # a step of distance is never split
    fits, params = _fits("t", "team_skills", "team_id", ask)
    pool, rows = TEAMS_PER_LIMIT * limit, []
    for nodes in (region[:cut], region[cut:]):
        if nodes and len(rows) < pool:
            rows += _nearest_teams(ask, nodes, fits, params, pool - len(rows))
    fitting = len(rows)
    if ask.wanted and len(rows) < limit and region:  # every fitting team is in: the others fill up
        rows += _nearest_teams(ask, region, fits.replace(" AND EXISTS", " AND NOT EXISTS", 1), params,
                               limit - len(rows))
    return rows, fitting


VOLUNTEER_COLUMNS = "v.id, v.name, v.station_id, v.availability, v.user_id"


def _volunteer_rows(ask: _Ask, limit: int) -> list[tuple]:
    """Fitting volunteers, in one statement of two bounded index walks: the station's newest (its
    (station, id) index, backwards), and those of its institute who served the station's latest
    needs. If the station has fewer than `limit`, the newest of the institute's other stations."""
    station = ask.station.id
    institute = [n.id for n in ask.nodes.values() if n.path.startswith(ask.institute_path)]
    fits, params = _fits("w", "volunteer_skills", "volunteer_id", ask)
    # Ids first — each walk stops early and reads indexes only — then only those rows.
    rows = _rows(f"""
        SELECT {VOLUNTEER_COLUMNS} FROM {T["volunteer"]} v WHERE v.id IN (
            SELECT id FROM (SELECT w.id FROM {T["volunteer"]} w WHERE w.station_id = %s{fits}
                            ORDER BY w.id DESC LIMIT %s) newest
            UNION
            SELECT id FROM (SELECT w.id FROM {T["volunteer"]} w
                            WHERE w.id IN (SELECT n.volunteer_id FROM {T["need"]} n
                                           WHERE n.station_id = %s AND n.volunteer_id IS NOT NULL
                                           ORDER BY n.created_at DESC LIMIT %s)
                            AND w.station_id IN ({_marks(institute)}){fits} ORDER BY w.id DESC LIMIT %s) served
        ) ORDER BY v.id DESC""", [station, *params, VOLUNTEERS_PER_LIMIT * limit,
                                  station, SERVED_NEEDS, *institute, *params, SERVED_POOL])
    here = sum(1 for r in rows if r[2] == station)
    others = [pk for pk in institute if pk != station]
    if here < limit and others:
        known = [r[0] for r in rows] or [0]
        rows += _rows(f"""
            SELECT {VOLUNTEER_COLUMNS} FROM {T["volunteer"]} v WHERE v.id IN (
                SELECT w.id FROM {T["volunteer"]} w WHERE w.station_id IN ({_marks(others)}){fits}
                AND w.id NOT IN ({_marks(known)}) ORDER BY w.id DESC LIMIT %s
            ) ORDER BY v.id DESC""", [*others, *params, *known, limit - here])
    return rows


def _skills_held(ask: _Ask, table: str, column: str, ids: list[int], fitting: int) -> dict[int, set[int]]:
    """The wanted skills each candidate has. The first `fitting` ids were chosen for having one of
    them: with a single wanted skill that is all there is to know."""
    if not ask.wanted or not ids:
        return {}
    if len(ask.wanted) == 1:
        return {pk: set(ask.wanted) for pk in ids[:fitting]}
    have: dict[int, set[int]] = {}
    for pk, skill_id in _rows(f"SELECT {column}, skill_id FROM {T[table]} WHERE {column} IN ({_marks(ids)})"
                              f" AND skill_id IN ({_marks(ask.wanted)})", [*ids, *ask.wanted]):
        have.setdefault(pk, set()).add(skill_id)
    return have


def _records(team_ids: list[int], volunteer_ids: list[int]) -> tuple[dict, dict]:
    """(held needs, ratings, sum of stars) of each team and each volunteer: a GROUP BY over their ids
    for each kind, in one statement, each read from its (assignee, state, stars) index alone."""
    states = [*HELD, CLOSED]
    parts, params = [], []
    for kind, ids in (("team_id", team_ids), ("volunteer_id", volunteer_ids)):
        if ids:
            parts.append(f"""
                SELECT '{kind}', n.{kind}, SUM(CASE WHEN n.state IN ({_marks(HELD)}) THEN 1 ELSE 0 END),
                    COUNT(CASE WHEN n.state = %s THEN n.stars END), SUM(CASE WHEN n.state = %s THEN n.stars END)
                FROM {T["need"]} n WHERE n.{kind} IN ({_marks(ids)}) AND n.state IN ({_marks(states)})
                GROUP BY n.{kind}""")
            params += [*HELD, CLOSED, CLOSED, *ids, *states]
    found: dict[str, dict] = {"team_id": {}, "volunteer_id": {}}
    if parts:
        for kind, pk, held, rated, stars in _rows(" UNION ALL ".join(parts), params):
            found[kind][pk] = (int(held or 0), int(rated or 0), int(stars or 0))
    return found["team_id"], found["volunteer_id"]


def _members(ask: _Ask, team_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each team: (members, members free at the wished-for time)."""
    free = " OR ".join(["CAST(v.availability AS TEXT) LIKE %s"] * len(ask.slots))
    rows = _rows(f"""
        SELECT m.team_id, COUNT(*), SUM(CASE WHEN {free} THEN 1 ELSE 0 END)
        FROM {T["member"]} m JOIN {T["volunteer"]} v ON v.id = m.volunteer_id
        WHERE m.team_id IN ({_marks(team_ids)}) GROUP BY m.team_id""",
                 [*(f'%"{key}"%' for key in sorted(ask.slots)), *team_ids])
    return {team_id: (count, int(free or 0)) for team_id, count, free in rows}


# --- Scoring ---------------------------------------------------------------------------------------


def _score(weights: dict, parts: dict) -> float:
    return round(sum(weights[k] * parts[k] for k in FACTORS), 4)


def _contenders(partials: list[tuple[bool, float]], limit: int, room: float) -> set[int]:
    """The indexes of the items that can still be among the first `limit` (eligible first, then by
    score) when each may gain up to `room` more: the first `limit` by what is known, and those
    within `room` of the last of them."""
    order = sorted(range(len(partials)), key=lambda i: (not partials[i][0], -partials[i][1]))
    if len(order) <= limit:
        return set(order)
    last_eligible, last = partials[order[limit - 1]]
    return set(order[:limit]) | {i for i in order[limit:]
                                 if partials[i][0] == last_eligible and partials[i][1] + room >= last - 1e-9}


def _teams(ask: _Ask, rows, fitting: int, records: dict, weights: dict, limit: int) -> list[Candidate]:
    have = _skills_held(ask, "team_skills", "team_id", [r[0] for r in rows], fitting)
    drafts = []
    for pk, name, node_id, platform_id, capacity in rows:
        skill, skill_text = _skill(ask, have.get(pk, set()))
        reasons = [skill_text]
        if ask.platform_id is not None:
            same = platform_id == ask.platform_id
            skill = (1 - PLATFORM_SHARE) * skill + PLATFORM_SHARE * same
            if same:
                reasons.append(_("平台对口"))
        near, near_text = ask.nearness[node_id]
        held, rated, stars = records.get(pk, (0, 0, 0))
        rating, rating_text = _rating(rated, stars)
        parts = {"skill": skill, "distance": near, "load": max(0.0, 1 - held / capacity) if capacity else 0.0,
                 "rating": rating, "availability": 0.0}
        why_not = ""
        if ask.wanted and not have.get(pk):
            why_not = _("队伍专长与需求类别不符")
        elif held >= capacity:
            why_not = _("队伍已承接%(n)d项需求，已满") % {"n": capacity}
        load = (_("在办%(held)d/%(capacity)d项（已满）") if held >= capacity else _("在办%(held)d/%(capacity)d项")) % {
            "held": held, "capacity": capacity}
        reasons += [near_text, load, rating_text]
        drafts.append((pk, name, node_id, parts, reasons, why_not))

    # Members' availability: only for the teams that can still make the list.
    partials = [(not d[5], sum(weights[k] * d[3][k] for k in FACTORS)) for d in drafts]
    keep = _contenders(partials, limit, weights["availability"] + 1e-3)  # (a margin for the rounded scores)
    members = _members(ask, [drafts[i][0] for i in sorted(keep)]) if ask.slots and keep else {}
    out = []
    for i in keep:
        pk, name, node_id, parts, reasons, why_not = drafts[i]
        parts["availability"], text = _team_availability(ask, *members.get(pk, (0, 0)))
        out.append(Candidate("team", pk, name, _score(weights, parts), _rounded(parts), [*reasons, text],
                             eligible=not why_not, why_not=why_not, place=ask.nodes[node_id].name))
    return out


def _volunteers(ask: _Ask, rows, records: dict, weights: dict) -> list[Candidate]:
    have = _skills_held(ask, "volunteer_skills", "volunteer_id", [r[0] for r in rows], len(rows))
    out = []
    for pk, name, station_id, availability, user_id in rows:
        skill, skill_text = _skill(ask, have.get(pk, set()))
        near, near_text = ask.nearness[station_id]
        held, rated, stars = records.get(pk, (0, 0, 0))
        rating, rating_text = _rating(rated, stars)
        avail, avail_text = _volunteer_availability(ask, availability)
        parts = {"skill": skill, "distance": near, "load": 1 / (1 + held), "rating": rating, "availability": avail}
        load = ngettext("在办%(n)d项", "在办%(n)d项", held) % {"n": held} if held else _("暂无在办需求")
        reasons = [skill_text, near_text, load, rating_text, avail_text]
        why_not = "" if user_id else _("尚未开通平台账号，无法在线接单")
        out.append(Candidate("volunteer", pk, name, _score(weights, parts), _rounded(parts), reasons,
                             eligible=not why_not, why_not=why_not, place=ask.nodes[station_id].name))
    return out


def _rounded(parts: dict) -> dict:
    return {k: round(v, 3) for k, v in parts.items()}


def _rank(c: Candidate):
    return (not c.eligible, -c.score, c.kind != "team", c.id if c.kind == "team" else -c.id)


def candidates_for(need: Need, *, limit: int = 20, dispatcher=None) -> list[Candidate]:
    """Ranked candidates for a need: at most `limit` teams and `limit` volunteers in one list, eligible
    ones first, then by score. `dispatcher` (the account dispatching) adds the teams in its reach.
    The module docstring says how each factor is scored and who is considered."""
    weights = candidate_weights()
    if limit <= 0:
        return []
    ask = _ask(need, dispatcher)
    team_rows, fitting = _team_rows(ask, limit)
    volunteer_rows = _volunteer_rows(ask, limit)
    team_records, volunteer_records = _records([r[0] for r in team_rows], [r[0] for r in volunteer_rows])
    teams = sorted(_teams(ask, team_rows, fitting, team_records, weights, limit), key=_rank)[:limit]
    volunteers = sorted(_volunteers(ask, volunteer_rows, volunteer_records, weights), key=_rank)[:limit]
    return sorted(teams + volunteers, key=_rank)
