"""The audit trail: appended by every service, never changed or removed by the application,
and on PostgreSQL not even by raw SQL (core migration 0002)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from tests import factories as f
from wenming.core import audit
from wenming.core.models import AuditEntry

pytestmark = pytest.mark.django_db

pg_only = pytest.mark.pg_only


@pytest.fixture
def entry(admin_user):
    return audit.record(admin_user, "test.action", admin_user, before={"a": 1}, after={"a": 2}, note="说明")


def test_record_keeps_who_what_and_which(entry, admin_user):
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor == admin_user and entry.actor_name == str(admin_user)
    assert entry.action == "test.action"
    assert entry.object_type == "core.user" and entry.object_id == str(admin_user.pk)
    assert entry.before == {"a": 1} and entry.after == {"a": 2}
    assert entry.at is not None


def test_system_actions_have_no_actor(db):
    entry = audit.record(None, "system.purge")
    assert entry.actor is None and entry.actor_name == "系统"


def test_long_notes_are_cut_not_refused(admin_user):
    entry = audit.record(admin_user, "x", note="长" * 2000)
    assert len(entry.note) == 500


def test_diff_keeps_only_changed_fields():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})
    assert audit.diff({"a": 1}, {"a": 1}) == ({}, {})


def test_request_address_is_recorded(world):
    world.api("district_admin").patch(f"/orgs/{world.S11.pk}", {"secretary": "李书记"},
                                      headers={"x-forwarded-for": "1.2.3.4"})
    entry = AuditEntry.objects.filter(action="org.update").get()
    assert entry.ip == "127.0.0.1"
    assert entry.before == {"secretary": ""} and entry.after == {"secretary": "李书记"}


def test_an_update_that_changes_nothing_writes_no_entry(world):
    count = AuditEntry.objects.count()
    r = world.api("district_admin").patch(f"/orgs/{world.S11.pk}", {"name": world.S11.name})
    assert r.status_code == 200
    assert AuditEntry.objects.count() == count


# --- Append-only in the application -------------------------------------------------------------


def test_saving_an_existing_entry_raises(entry):
    entry.note = "改写"
    with pytest.raises(PermissionError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).note == "说明"


def test_deleting_an_entry_raises(entry):
    with pytest.raises(PermissionError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_raises(entry):
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(note="改写")
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(note="改写")
    assert AuditEntry.objects.get(pk=entry.pk).note == "说明"


def test_queryset_delete_raises(entry):
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_bulk_update_and_update_or_create_raise(entry):
    entry.note = "改写"
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["note"])
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEntry.objects.update_or_create(pk=entry.pk, defaults={"note": "改写"})
    assert AuditEntry.objects.get(pk=entry.pk).note == "说明"


def test_deleting_the_actor_keeps_the_entries(entry, admin_user):
    pk, name = admin_user.pk, str(admin_user)
    admin_user.delete()
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert kept.actor_id == pk  # no cascade, no SET NULL: the trail is not rewritten
    assert kept.actor_name == name


# --- Append-only in the database (PostgreSQL) ---------------------------------------------------


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pg_only
def test_raw_update_is_refused_by_the_database(entry):
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE core_auditentry SET note = 'x' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).note == "说明"


@pg_only
def test_raw_update_is_refused_even_in_maintenance(entry):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL wenming.audit_maintenance = 'on'")
            cursor.execute("UPDATE core_auditentry SET note = 'x' WHERE id = %s", [entry.pk])


@pg_only
@pytest.mark.parametrize("sql", ["DELETE FROM core_auditentry WHERE id = %s", "TRUNCATE core_auditentry CASCADE"])
def test_raw_delete_and_truncate_are_refused_outside_maintenance(entry, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            # The test database opens the maintenance door for the flush between tests: close it here,
            # as it is closed in production.
            cursor.execute("SET LOCAL wenming.audit_maintenance = 'off'")
            cursor.execute(sql, [entry.pk] if "%s" in sql else [])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pg_only
def test_the_door_is_closed_on_a_normal_connection(entry):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('wenming.audit_maintenance', true)")
        # Open only in the test database (conftest); a production database has no such setting.
        assert cursor.fetchone()[0] == "on"
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0].startswith("test_")


@pg_only
def test_the_retention_purge_can_delete_in_maintenance(entry):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL wenming.audit_maintenance = 'on'")
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    assert not AuditEntry.objects.filter(pk=entry.pk).exists()


# --- The console page of the trail --------------------------------------------------------------


def test_only_the_district_admin_reads_the_audit_page(world):
    for role in world.ROLES:
        client = Client()
        client.force_login(world.users[role])
        r = client.get("/audit/")
        assert r.status_code == (200 if role == "district_admin" else 403), role


def test_audit_page_survives_bad_filters(world):
    client = Client()
    client.force_login(world.district_admin)
    for params in [{"since": "not-a-date"}, {"since": "2024-13-45"}, {"page": "-1"}, {"page": "x" * 500},
                   {"actor": "张" * 1000}, {"object": "<script>"}]:
        r = client.get("/audit/", params)
        assert r.status_code == 200, params


def test_audit_page_survives_a_nul_byte_in_a_filter(world):
    client = Client()
    client.force_login(world.district_admin)
    for params in [{"actor": "a\x00b"}, {"action": "\x00"}, {"object": "\x00"}]:
        assert client.get("/audit/", params).status_code in (200, 400), params


def test_every_service_write_leaves_an_entry(world):
    api = world.api("district_admin")
    actions = []
    r = api.post("/sites", {"node_id": world.S11.pk, "name": "新阵地", "kind": "park"})
    actions.append(("site.create", r))
    r = api.patch(f"/sites/{world.sites['S11'].pk}", {"address": "新地址"})
    actions.append(("site.update", r))
    r = api.post("/teams", {"node_id": world.S11.pk, "name": "新队"})
    actions.append(("team.create", r))
    r = api.patch(f"/teams/{world.teams['S11'].pk}", {"capacity": 9})
    actions.append(("team.update", r))
    r = api.post("/volunteers", {"name": "钱七", "id_number": f.make_id_number(), "phone": f.make_phone(),
                                 "station_id": world.S11.pk, "agreement_consent": True, "privacy_consent": True})
    actions.append(("volunteer.register", r))
    r = api.patch(f"/volunteers/{world.volunteers['S11'].pk}", {"phone": f.make_phone()})
    actions.append(("volunteer.update", r))
    r = api.post("/orgs", {"parent_id": world.I1.pk, "name": "新站", "division_code": "430502001009"})
    actions.append(("org.create", r))
    r = api.post("/contact-points", {"node_id": world.I1.pk, "kind": "leader", "party": "王副区长"})
    actions.append(("contact_point.create", r))
    for action, response in actions:
        assert response.status_code in (200, 201), (action, response.content.decode())
        entry = AuditEntry.objects.filter(action=action).first()
        assert entry is not None, action
        assert entry.actor == world.district_admin
