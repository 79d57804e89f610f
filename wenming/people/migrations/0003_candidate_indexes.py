"""An index for dispatch candidates (wenming/needs/candidates.py): a station's volunteers, newest
first, walked in order and stopped after a few hundred — instead of reading and sorting every
volunteer of the station (about 10,000 per station in bench/candidates.py).

Plain SQL that SQLite and PostgreSQL both take, kept out of the model's state on purpose (the
model does not declare it, so `makemigrations` must not see it as something to drop). If the
Volunteer model ever declares an index on (station, id), drop this migration's index in the same
change.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("people", "0002_search_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS vol_station_newest ON people_volunteer (station_id, id)",
            "DROP INDEX IF EXISTS vol_station_newest",
        ),
    ]
