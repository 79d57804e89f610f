"""Indexes for dispatch candidates (wenming/needs/candidates.py, bench/candidates.py).

- (team_id, state, stars) and (volunteer_id, state, stars): a candidate's open load and its ratings
  are one GROUP BY over the candidates' ids, read from the index alone (no heap visit per need).
- (station_id, created_at, volunteer_id) of the needs dispatched to a volunteer: who served the
  latest needs raised at a station, without reading the station's other needs.

Plain SQL that SQLite and PostgreSQL both take, kept out of the models' state on purpose: the
models (owned by their apps) do not declare these indexes, so `makemigrations` must not see them
as something to drop.
"""

from django.db import migrations

INDEXES = [
    ("need_team_state_stars", "needs_need (team_id, state, stars)"),
    ("need_volunteer_state_stars", "needs_need (volunteer_id, state, stars)"),
    ("need_station_volunteer",
     "needs_need (station_id, created_at, volunteer_id) WHERE volunteer_id IS NOT NULL"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("needs", "0002_default_categories"),
    ]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {target}", f"DROP INDEX IF EXISTS {name}")
        for name, target in INDEXES
    ]
