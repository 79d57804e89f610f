"""The same report entered by several people at once (PostgreSQL, real threads): one is kept, the
others are told it is a duplicate — there is no unique index, the organisation's row lock is what holds."""

import pytest
from django.db import connection

from tests.concurrency import run_at_once
from wenming.core.errors import Conflict
from wenming.core.models import AuditEntry
from wenming.publicity import services
from wenming.publicity.models import MediaReport

from .conftest import data

pytestmark = [
    pytest.mark.pg_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_ten_identical_entries_at_once_keep_one(world):
    writers = [world.district_admin, world.institute_admin, world.station_admin] * 4

    def enter(i):
        return services.create_report(writers[i], data(world.S11, outlet=f"媒体{i}"))

    results, errors = run_at_once(10, enter)
    kept = [r for r in results if r is not None]
    assert len(kept) == 1, errors
    assert len(errors) == 9 and all(isinstance(e, Conflict) and e.code == "report_duplicate" for e in errors.values())
    assert MediaReport.objects.count() == 1
    assert AuditEntry.objects.filter(action="media_report.create").count() == 1


def test_different_reports_of_one_station_at_once_are_all_kept(world):
    def enter(i):
        return services.create_report(world.station_admin, data(world.S11, title=f"东风社区报道{i}"))

    results, errors = run_at_once(8, enter)
    assert not errors and MediaReport.objects.filter(node=world.S11).count() == 8
