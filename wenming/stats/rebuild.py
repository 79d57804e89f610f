"""The roll-ups computed from the raw records in one pass: `rebuild()` writes them, `verify()` compares
them with what the incremental path (rollups.py) has kept.

Service records — the big table — are aggregated in SQL; activities, needs and media reports (far
fewer) go through the same contribution functions as a single save does.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, Count, Min, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear, TruncDate
from django.utils import timezone

from wenming.activities.models import Activity
from wenming.ledger.models import ServiceRecord
from wenming.needs.models import Need
from wenming.people.models import Volunteer
from wenming.publicity.models import MediaReport

from . import rollups
from .models import MonthRollup, PeriodCount, Rollup, StatsClock, Tally
from .rollups import COUNTED_ACTIVITY, LOCAL, Delta, is_active


def own_delta(through: datetime) -> Delta:
    """Every counted row's contribution to the node it belongs to (not yet to the nodes above)."""
    delta = Delta()
    records = ServiceRecord.objects.all()
    for row in records.values("node_id", "service_date", "kind").annotate(m=Sum("minutes")).order_by():
        delta.add(row["node_id"], row["service_date"], f"minutes_{row['kind']}", row["m"])
    # Volunteers are tallied per year only (rollups.tally_periods): one row per node, volunteer and year.
    yearly = records.values("node_id", "volunteer_id", year=ExtractYear("service_date")).annotate(m=Sum("minutes"))
    for row in yearly.order_by():
        delta.add_tally(row["node_id"], date(row["year"], 1, 1), "v", row["volunteer_id"], minutes=row["m"])
    _participations(delta)
    _team_minutes(delta)

    ended = Activity.objects.filter(status__in=COUNTED_ACTIVITY, ends_at__lte=through)
    themes = rollups._themes_of(ended.values("pk"))
    for activity in ended.only("node_id", "ends_at", "status", "platform_id", "team_id", "beneficiaries").iterator(
            chunk_size=5000):
        delta.merge(rollups.contributions_of_activity(activity, themes.get(activity.pk, ()), through))
    fields = ("station_id", "created_at", "state", "approved_at", "dispatched_at", "accepted_at", "completed_at",
              "stars", "rated_at", "overdue", "activity_id", "people_served", "team_id")
    for need in Need.objects.only(*fields).iterator(chunk_size=5000):
        delta.merge(rollups.contributions_of_need(need))
    joined = (Volunteer.objects.values("station_id", day=TruncDate("created_at", tzinfo=LOCAL))
              .annotate(n=Count("id")).order_by())
    for row in joined:
        delta.add(row["station_id"], row["day"], "new_volunteers", row["n"])
    for report in MediaReport.objects.only("node_id", "published_on", "level"):
        delta.merge(rollups.contributions_of_report(report))
    return delta


def _participations(delta: Delta) -> None:
    """Volunteer × source pairs with more than zero minutes, on their first record's day and node."""
    root = Case(When(source_id="", then=Coalesce("original_id", "id")), default=Value(0),
                output_field=BigIntegerField())
    pairs = (ServiceRecord.objects.annotate(root=root).values("volunteer_id", "source_type", "source_id", "root")
             .annotate(net=Sum("minutes"), first=Min("id")).filter(net__gt=0).values("first"))
    firsts = (ServiceRecord.objects.filter(id__in=pairs).values("node_id", "service_date")
              .annotate(n=Count("id")).order_by())
    for row in firsts:
        delta.add(row["node_id"], row["service_date"], "participations", row["n"])


def _team_minutes(delta: Delta) -> None:
    by_source = (ServiceRecord.objects.filter(source_type__in=("activity", "need"))
                 .exclude(source_id="").values("node_id", "service_date", "source_type", "source_id")
                 .annotate(m=Sum("minutes")).order_by())
    rows = list(by_source)
    teams = rollups.source_teams({(row["source_type"], row["source_id"]) for row in rows})
    for row in rows:
        team = teams.get((row["source_type"], row["source_id"]))
        if team:
            delta.add_tally(row["node_id"], row["service_date"], "t", team, minutes=row["m"])


def expected(through: datetime) -> tuple[Counter, Counter, dict, Counter]:
    """(day roll-ups, month roll-ups, tallies, period counts) as they should be."""
    rollup, tallies = rollups.expand(own_delta(through))
    counts: Counter = Counter()
    for (node, period, kind, _member), values in tallies.items():
        if is_active(values[0], values[1]):
            counts[(node, period, kind)] += 1
    days = Counter({k: v for k, v in rollup.items() if v})
    return days, rollups.by_month(days), {k: v for k, v in tallies.items() if any(v)}, counts


def stored() -> tuple[Counter, Counter, dict, Counter]:
    rollup = Counter({(n, d, m, dim): v for n, d, m, dim, v in
                      Rollup.objects.exclude(value=0).values_list("node_id", "day", "metric", "dim", "value")
                      .iterator(chunk_size=20000)})
    months = Counter({(n, d, m, dim): v for n, d, m, dim, v in
                      MonthRollup.objects.exclude(value=0).values_list("node_id", "month", "metric", "dim", "value")
                      .iterator(chunk_size=20000)})
    tallies = {(n, p, k, member): [mi, ev, rs, rc] for n, p, k, member, mi, ev, rs, rc in
               Tally.objects.exclude(minutes=0, events=0, rating_sum=0, rating_count=0)
               .values_list("node_id", "period", "kind", "member_id", "minutes", "events", "rating_sum",
                            "rating_count").iterator(chunk_size=20000)}
    counts = Counter({(n, p, k): c for n, p, k, c in
                      PeriodCount.objects.exclude(count=0).values_list("node_id", "period", "kind", "count")})
    return rollup, months, tallies, counts


def verify(limit: int = 50) -> list[str]:
    """Differences between the kept roll-ups and a recomputation from the raw records (empty: none).
    The activities clock is moved on first, as every read does."""
    rollups.advance_clock()
    with transaction.atomic():
        through = rollups.clock()
        want = expected(through)
        have = stored()
    problems: list[str] = []
    names = ("日汇总", "月汇总", "成员", "去重人数")
    for name, w, h in zip(names, want, have, strict=True):
        for key in sorted(set(w) | set(h), key=str):
            if w.get(key) != h.get(key):
                problems.append(f"{name} {key}: 应为 {w.get(key, 0)}，实为 {h.get(key, 0)}")
    return problems[:limit] if limit else problems


def rebuild(now: datetime | None = None) -> dict:
    """Replace every roll-up with its recomputation from the raw records; returns row counts."""
    now = now or timezone.now()
    with transaction.atomic():
        StatsClock.objects.update_or_create(pk=1, defaults={"activities_through": now})
        rollups.clock(for_update=True)
        rollup, months, tallies, counts = expected(now)
        PeriodCount.objects.all().delete()
        Tally.objects.all().delete()
        MonthRollup.objects.all().delete()
        Rollup.objects.all().delete()
        _write("stats_rollup", ("node_id", "day", "metric", "dim", "value"),
               ((n, d, m, dim, v) for (n, d, m, dim), v in rollup.items()))
        _write("stats_monthrollup", ("node_id", "month", "metric", "dim", "value"),
               ((n, d, m, dim, v) for (n, d, m, dim), v in months.items()))
        _write("stats_tally", ("node_id", "period", "kind", "member_id", "minutes", "events", "rating_sum",
                               "rating_count"), ((*key, *values) for key, values in tallies.items()))
        _write("stats_periodcount", ("node_id", "period", "kind", "count"),
               ((*key, c) for key, c in counts.items()))
    return {"rollup": len(rollup), "monthrollup": len(months), "tally": len(tallies), "periodcount": len(counts)}


STATS_TABLES = ("stats_rollup", "stats_monthrollup", "stats_tally", "stats_periodcount")


def refresh_statistics() -> None:
    """After a rebuild on PostgreSQL: fresh planner statistics (the tables were just emptied and
    refilled — stale ones make a top-10 read sort a million tally rows) and, outside a transaction, a
    VACUUM so that the reads are index-only scans at once instead of after autovacuum's next pass."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in STATS_TABLES:
            cursor.execute(f"ANALYZE {table}" if connection.in_atomic_block else f"VACUUM ANALYZE {table}")


def _write(table: str, columns: tuple[str, ...], rows) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)
                batch = []
        if batch:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)


