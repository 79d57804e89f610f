"""Keeping the roll-ups current, in the same transaction as the change they count.

Each counted row has its *contribution*: what it adds to which (node, day, metric, dimension) and to
which member's tally (`contributions_of_*`). When a row is saved, its contribution before the save
is taken away and its contribution after is added (`apply`), to its node and every node above it
(materialised path), as additive upserts — so concurrent changes never lose an update, and a
rolled-back change rolls its figures back with it. The listeners are Django's model signals, which
run inside the transaction; the domains' own after-commit signals would lose a change if the process
died between the commit and the listener.

`rebuild.py` computes the same tables from the raw records in one pass; `wenming stats verify`
compares the two.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from wenming.activities.models import Activity
from wenming.core.models import OrgNode
from wenming.ledger.models import ServiceRecord
from wenming.needs.models import Need
from wenming.people.models import Volunteer
from wenming.people.signals import volunteers_bulk_registered
from wenming.publicity.models import MediaReport

from .models import StatsClock, Tally

LOCAL = ZoneInfo(settings.TIME_ZONE)
COUNTED_ACTIVITY = (Activity.Status.PUBLISHED, Activity.Status.SETTLED)
EPOCH = datetime(2000, 1, 1, tzinfo=LOCAL)
MANY = 5000

# A tally's values: minutes, events, rating sum, rating count.
Values = list[int]


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


def tally_periods(kind: str, day: date) -> tuple[str, ...]:
    """Volunteers are tallied per year (distinct volunteers and their ranking over a year); teams, being
    few, per year and per month."""
    year = f"{day.year:04d}"
    return (year,) if kind == Tally.VOLUNTEER else (year, f"{day.year:04d}-{day.month:02d}")


class Delta:
    """What a change adds to the roll-ups (negative to take away)."""

    def __init__(self):
        self.rollup: Counter = Counter()  # (node_id, day, metric, dim) -> value
        self.tally: dict = defaultdict(lambda: [0, 0, 0, 0])  # (node_id, day, kind, member_id) -> Values

    def add(self, node_id, day, metric, value=1, dim=0):
        if value:
            self.rollup[(node_id, day, metric, dim or 0)] += value

    def add_tally(self, node_id, day, kind, member_id, minutes=0, events=0, rating_sum=0, rating_count=0):
        values = self.tally[(node_id, day, kind, member_id)]
        for i, v in enumerate((minutes, events, rating_sum, rating_count)):
            values[i] += v

    def merge(self, other: Delta, sign: int = 1) -> Delta:
        for key, value in other.rollup.items():
            self.rollup[key] += sign * value
        for key, values in other.tally.items():
            mine = self.tally[key]
            for i, v in enumerate(values):
                mine[i] += sign * v
        return self

    def __bool__(self):
        return any(self.rollup.values()) or any(any(v) for v in self.tally.values())


# --- contributions --------------------------------------------------------------------------------


def contributions_of_activity(activity: Activity, theme_ids, through: datetime) -> Delta:
    delta = Delta()
    if activity.status not in COUNTED_ACTIVITY or activity.ends_at > through:
        return delta
    node, day = activity.node_id, local_day(activity.ends_at)
    served = activity.beneficiaries or 0
    delta.add(node, day, "activities")
    delta.add(node, day, "people_served_activities", served)
    if activity.platform_id:
        delta.add(node, day, "activities_platform", 1, activity.platform_id)
        delta.add(node, day, "people_platform", served, activity.platform_id)
    for theme_id in theme_ids:
        delta.add(node, day, "activities_theme", 1, theme_id)
    if activity.team_id:
        delta.add_tally(node, day, Tally.TEAM, activity.team_id, events=1)
    return delta


def contributions_of_need(need: Need) -> Delta:
    """The loop's figures are those of the needs raised in a period, in the state they are in now."""
    delta = Delta()
    node, day = need.station_id, local_day(need.created_at)
    delta.add(node, day, "needs_collected")
    delta.add(node, day, "needs_approved", need.approved_at is not None)
    delta.add(node, day, "needs_rejected", need.state == Need.State.REJECTED)
    delta.add(node, day, "needs_cancelled", need.state == Need.State.CANCELLED)
    delta.add(node, day, "needs_dispatched", need.dispatched_at is not None)
    delta.add(node, day, "needs_accepted", need.accepted_at is not None)
    delta.add(node, day, "needs_fulfilled", need.completed_at is not None)
    delta.add(node, day, "needs_overdue", need.overdue and need.state in Need.OPEN_STATES)
    if need.stars is not None:
        delta.add(node, day, "needs_rated")
        delta.add(node, day, "needs_stars", need.stars)
    if need.accepted_at and need.dispatched_at:
        delta.add(node, day, "needs_accept_seconds", int((need.accepted_at - need.dispatched_at).total_seconds()))
        delta.add(node, day, "needs_accept_count")
    if need.completed_at:
        done = local_day(need.completed_at)
        delta.add(node, day, "needs_complete_seconds", int((need.completed_at - need.created_at).total_seconds()))
        if not need.activity_id:  # served through an activity: its people are counted there
            delta.add(node, done, "people_served_needs", need.people_served or 1)
        if need.team_id:
            delta.add_tally(node, done, Tally.TEAM, need.team_id, events=1)
    if need.stars is not None and need.team_id and need.rated_at:
        delta.add_tally(node, local_day(need.rated_at), Tally.TEAM, need.team_id, rating_sum=need.stars, rating_count=1)
    return delta


def contributions_of_volunteer(station_id: int, created_at: datetime) -> Delta:
    delta = Delta()
    delta.add(station_id, local_day(created_at), "new_volunteers")
    return delta


def contributions_of_report(report: MediaReport) -> Delta:
    delta = Delta()
    delta.add(report.node_id, report.published_on, "media_reports")
    delta.add(report.node_id, report.published_on, f"media_{report.level}")
    return delta


def participation_key(record: ServiceRecord):
    """A service source (an activity, a need …); a record without one is its own source, with its
    corrections."""
    if record.source_id:
        return {"source_type": record.source_type, "source_id": record.source_id}
    return {"root": record.original_id or record.pk}


def _records_of(record: ServiceRecord, key: dict):
    qs = ServiceRecord.objects.filter(volunteer_id=record.volunteer_id)
    if "root" in key:
        return qs.filter(Q(pk=key["root"]) | Q(original_id=key["root"]), source_id="")
    return qs.filter(source_type=key["source_type"], source_id=key["source_id"])


def source_teams(sources) -> dict[tuple[str, str], int]:
    """The team behind each (source_type, source_id): an activity is named by its id, a need by its
    code (as the services write them into the ledger); sources without a team are left out."""
    activity_ids = {int(i) for t, i in sources if t == "activity" and i.isdigit()}
    need_codes = {i for t, i in sources if t == "need" and i}
    teams = {}
    if activity_ids:
        rows = Activity.objects.filter(team__isnull=False)
        if len(activity_ids) <= MANY:  # a rebuild names most of them: read them all rather than list them
            rows = rows.filter(pk__in=activity_ids)
        teams.update({("activity", str(pk)): team for pk, team in rows.order_by().values_list("pk", "team_id")})
    if need_codes:
        rows = Need.objects.filter(team__isnull=False)
        if len(need_codes) <= MANY:
            rows = rows.filter(code__in=need_codes)
        teams.update({("need", code): team for code, team in rows.order_by().values_list("code", "team_id")})
    return teams


def contributions_of_record(record: ServiceRecord) -> Delta:
    """A new ledger record (records are never changed): its minutes, and whether it makes or unmakes a
    participation (volunteer × source with more than zero minutes in all)."""
    delta = Delta()
    node, day, minutes = record.node_id, record.service_date, record.minutes
    delta.add(node, day, f"minutes_{record.kind}", minutes)
    delta.add_tally(node, day, Tally.VOLUNTEER, record.volunteer_id, minutes=minutes)
    team = source_teams({(record.source_type, record.source_id)}).get((record.source_type, record.source_id))
    if team:
        delta.add_tally(node, day, Tally.TEAM, team, minutes=minutes)
    rows = list(_records_of(record, participation_key(record)).order_by("pk").values_list("pk", "minutes"))
    before = sum(m for pk, m in rows if pk != record.pk)
    after = before + minutes
    if (before > 0) != (after > 0):
        first = ServiceRecord.objects.filter(pk=rows[0][0]).values_list("node_id", "service_date").get()
        delta.add(first[0], first[1], "participations", 1 if after > 0 else -1)
    return delta


# --- applying a delta to the tables ---------------------------------------------------------------


def ancestors_of(node_ids) -> dict[int, list[int]]:
    """Each node with every node above it (itself included), from the materialised paths: two queries."""
    paths = dict(OrgNode.objects.filter(pk__in=set(node_ids)).values_list("pk", "path"))
    step = OrgNode.steplen
    prefixes = {p[:i] for p in paths.values() for i in range(step, len(p) + 1, step)}
    ids = dict(OrgNode.objects.filter(path__in=prefixes).values_list("path", "pk"))
    return {
        node: [ids[p[:i]] for i in range(step, len(p) + 1, step) if p[:i] in ids] for node, p in paths.items()
    }


ROLLUP_UPSERT = (
    "INSERT INTO stats_rollup (node_id, day, metric, dim, value) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (node_id, day, metric, dim) DO UPDATE SET value = stats_rollup.value + excluded.value"
)
MONTH_UPSERT = (
    "INSERT INTO stats_monthrollup (node_id, month, metric, dim, value) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (node_id, month, metric, dim) DO UPDATE SET value = stats_monthrollup.value + excluded.value"
)
TALLY_UPSERT = (
    "INSERT INTO stats_tally (node_id, period, kind, member_id, minutes, events, rating_sum, rating_count) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (node_id, period, kind, member_id) DO UPDATE SET "
    "minutes = stats_tally.minutes + excluded.minutes, events = stats_tally.events + excluded.events, "
    "rating_sum = stats_tally.rating_sum + excluded.rating_sum, "
    "rating_count = stats_tally.rating_count + excluded.rating_count RETURNING minutes, events"
)
COUNT_UPSERT = (
    "INSERT INTO stats_periodcount (node_id, period, kind, count) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (node_id, period, kind) DO UPDATE SET count = stats_periodcount.count + excluded.count"
)


def is_active(minutes: int, events: int) -> bool:
    return minutes > 0 or events > 0


def expand(delta: Delta) -> tuple[Counter, dict]:
    """A delta over the nodes it names, spread over every node above them, and the tallies over
    their periods: (node, day, metric, dim) -> value and (node, period, kind, member) -> Values."""
    rollup = {k: v for k, v in delta.rollup.items() if v}
    tally = {k: v for k, v in delta.tally.items() if any(v)}
    above = ancestors_of({k[0] for k in rollup} | {k[0] for k in tally}) if rollup or tally else {}
    expanded: Counter = Counter()
    for (node, day, metric, dim), value in rollup.items():
        for a in above.get(node, ()):
            expanded[(a, day, metric, dim)] += value
    tallies: dict = defaultdict(lambda: [0, 0, 0, 0])
    for (node, day, kind, member), values in tally.items():
        for a in above.get(node, ()):
            for period in tally_periods(kind, day):
                mine = tallies[(a, period, kind, member)]
                for i, v in enumerate(values):
                    mine[i] += v
    return expanded, tallies


def by_month(rollup: Counter) -> Counter:
    """Day roll-up rows added up per calendar month (keyed by the month's first day)."""
    months: Counter = Counter()
    for (node, day, metric, dim), value in rollup.items():
        months[(node, day.replace(day=1), metric, dim)] += value
    return Counter({k: v for k, v in months.items() if v})


def apply(delta: Delta) -> None:
    """Add a delta to every node above the nodes it names, in the current transaction."""
    if not delta:
        return
    expanded, tallies = expand(delta)
    with connection.cursor() as cursor:
        rows = [(n, d, m, dim, v) for (n, d, m, dim), v in sorted(expanded.items()) if v]
        if rows:
            cursor.executemany(ROLLUP_UPSERT, rows)
            months = by_month(expanded)
            if months:
                cursor.executemany(MONTH_UPSERT, [(*key, v) for key, v in sorted(months.items())])
        counts: Counter = Counter()
        for (node, period, kind, member), values in sorted(tallies.items()):
            if not any(values):
                continue
            cursor.execute(TALLY_UPSERT, (node, period, kind, member, *values))
            minutes, events = cursor.fetchone()
            now_active = is_active(minutes, events)
            was_active = is_active(minutes - values[0], events - values[1])
            if now_active != was_active:
                counts[(node, period, kind)] += 1 if now_active else -1
        count_rows = [(n, p, k, c) for (n, p, k), c in sorted(counts.items()) if c]
        if count_rows:
            cursor.executemany(COUNT_UPSERT, count_rows)


# --- the activities clock -------------------------------------------------------------------------


def clock(for_update: bool = False) -> datetime:
    """Up to when finished activities are counted. Read under a shared lock by activity saves, under an
    exclusive one by `advance_clock`, so an activity is never counted by both or by neither."""
    suffix = ""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        suffix = " FOR UPDATE" if for_update else " FOR SHARE"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT activities_through FROM stats_statsclock WHERE id = 1{suffix}")
        row = cursor.fetchone()
    if row is None:
        StatsClock.objects.get_or_create(pk=1, defaults={"activities_through": EPOCH})
        return clock(for_update) if connection.vendor == "postgresql" else EPOCH
    value = row[0]
    if isinstance(value, str):  # SQLite through a raw cursor
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=ZoneInfo("UTC"))


def activities_due(now: datetime | None = None) -> bool:
    now = now or timezone.now()
    through = clock()
    return Activity.objects.filter(ends_at__gt=through, ends_at__lte=now, status__in=COUNTED_ACTIVITY).exists()


def advance_clock(now: datetime | None = None) -> int:
    """Count the activities that ended since the clock last moved; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        through = clock(for_update=True)
        if now <= through:
            return 0
        ended = list(Activity.objects.filter(ends_at__gt=through, ends_at__lte=now, status__in=COUNTED_ACTIVITY))
        themes = _themes_of([a.pk for a in ended])
        delta = Delta()
        for activity in ended:
            delta.merge(contributions_of_activity(activity, themes.get(activity.pk, ()), now))
        apply(delta)
        StatsClock.objects.filter(pk=1).update(activities_through=now)
        return len(ended)


def _themes_of(activity_ids) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    rows = Activity.themes.through.objects.filter(activity_id__in=activity_ids).values_list("activity_id", "theme_id")
    for activity_id, theme_id in rows:
        out[activity_id].append(theme_id)
    return out


# --- listeners ------------------------------------------------------------------------------------

_BEFORE = "_stats_before"


def _activity_delta(activity: Activity) -> Delta:
    through = clock()
    if activity.status not in COUNTED_ACTIVITY or activity.ends_at > through:
        return Delta()
    return contributions_of_activity(activity, _themes_of([activity.pk]).get(activity.pk, ()), through)


def _remember_before(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    old = sender.objects.filter(pk=instance.pk).first()
    setattr(instance, _BEFORE, _delta_of(old) if old is not None else Delta())


def _after_save(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, _BEFORE, None) or Delta()
    if hasattr(instance, _BEFORE):
        delattr(instance, _BEFORE)
    apply(Delta().merge(_delta_of(instance)).merge(before, -1))


def _before_delete(sender, instance, **kwargs):
    setattr(instance, _BEFORE, _delta_of(instance))


def _after_delete(sender, instance, **kwargs):
    before = getattr(instance, _BEFORE, None)
    if before:
        apply(Delta().merge(before, -1))


def _delta_of(instance) -> Delta:
    if isinstance(instance, Activity):
        return _activity_delta(instance)
    if isinstance(instance, Need):
        return contributions_of_need(instance)
    if isinstance(instance, Volunteer):
        return contributions_of_volunteer(instance.station_id, instance.created_at)
    if isinstance(instance, MediaReport):
        return contributions_of_report(instance)
    raise TypeError(type(instance))


def _record_saved(sender, instance, created=False, raw=False, **kwargs):
    if created and not raw:
        apply(contributions_of_record(instance))


def _activity_themes_changed(sender, instance, action, reverse=False, **kwargs):
    if reverse:  # a theme's activities changed: rare (a theme deleted); a rebuild puts it right
        return
    if action.startswith("pre_"):
        setattr(instance, _BEFORE, _activity_delta(instance))
    elif action.startswith("post_"):
        _after_save(Activity, instance)


def _volunteers_imported(sender, rows, **kwargs):
    delta = Delta()
    for station_id, created_at in rows:
        delta.merge(contributions_of_volunteer(station_id, created_at))
    apply(delta)


def connect() -> None:
    for model in (Activity, Need, Volunteer, MediaReport):
        uid = f"stats-{model._meta.label}"
        pre_save.connect(_remember_before, sender=model, dispatch_uid=uid)
        post_save.connect(_after_save, sender=model, dispatch_uid=uid)
        pre_delete.connect(_before_delete, sender=model, dispatch_uid=uid)
        post_delete.connect(_after_delete, sender=model, dispatch_uid=uid)
    post_save.connect(_record_saved, sender=ServiceRecord, dispatch_uid="stats-record")
    m2m_changed.connect(_activity_themes_changed, sender=Activity.themes.through, dispatch_uid="stats-themes")
    volunteers_bulk_registered.connect(_volunteers_imported, dispatch_uid="stats-import")
