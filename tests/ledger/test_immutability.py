"""A service record (and a points movement or entry) is permanent: the application cannot
change or delete it, and on PostgreSQL neither can a raw query."""

import pytest
from django.db import DatabaseError, connection, transaction

from wenming.ledger.models import PointEntry, PointMovement, ServiceRecord

from .helpers import settle


@pytest.fixture
def record(tree):
    return settle(tree.admin, tree.zhang, tree.station, 1)


def test_model_refuses_save_after_creation(record):
    record.minutes = 600
    with pytest.raises(PermissionError):
        record.save()
    record.refresh_from_db()
    assert record.minutes == 120


def test_model_refuses_delete(record):
    with pytest.raises(PermissionError):
        record.delete()
    assert ServiceRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("model", [ServiceRecord, PointMovement, PointEntry])
def test_queryset_refuses_update_and_delete(record, model):
    with pytest.raises(PermissionError):
        model.objects.update(created_at=None) if model is not PointEntry else model.objects.update(amount=1)
    with pytest.raises(PermissionError):
        model.objects.all().delete()
    assert model.objects.exists()


def test_points_rows_refuse_changes(record):
    movement = PointMovement.objects.get()
    entry = movement.entries.first()
    for row in (movement, entry):
        with pytest.raises(PermissionError):
            row.save()
        with pytest.raises(PermissionError):
            row.delete()


def test_volunteer_with_records_cannot_be_deleted(tree, record):
    from django.db.models import ProtectedError

    with pytest.raises((ProtectedError, PermissionError)):
        tree.zhang.delete()


pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")


@pg_only
@pytest.mark.pg_only
@pytest.mark.parametrize("table", ["ledger_servicerecord", "ledger_pointmovement", "ledger_pointentry"])
def test_trigger_refuses_raw_update_even_in_maintenance(record, table):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL wenming.audit_maintenance = 'on'")
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic():
            cursor.execute(f"UPDATE {table} SET id = id")


@pg_only
@pytest.mark.pg_only
@pytest.mark.parametrize("table", ["ledger_servicerecord", "ledger_pointmovement", "ledger_pointentry"])
def test_trigger_refuses_raw_delete_and_truncate(record, table):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL wenming.audit_maintenance = 'off'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE needs no pending FK checks
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic():
            cursor.execute(f"DELETE FROM {table}")
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic():
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert ServiceRecord.objects.filter(pk=record.pk).exists()
