"""On PostgreSQL the database itself refuses UPDATE, DELETE and TRUNCATE of service records,
points movements and points entries, so not even a raw query from the application can
rewrite the ledger (a correction is a new record).

As for the audit trail (core migration 0002), the one door is the maintenance setting
`wenming.audit_maintenance = 'on'`, which the test database uses to empty tables between
transactional tests; it opens DELETE and TRUNCATE only, UPDATE stays refused even then.
On SQLite the models and their querysets refuse changes, and `wenming verify-ledger`
detects whatever is done to the file behind the application's back.
"""

from django.db import migrations

TABLES = ("ledger_servicerecord", "ledger_pointmovement", "ledger_pointentry")

FUNCTION = """
CREATE OR REPLACE FUNCTION wenming_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
       AND coalesce(current_setting('wenming.audit_maintenance', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '志愿服务台账只能追加，不能修改或删除 (the ledger is append-only: %)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = """
CREATE TRIGGER {t}_no_update BEFORE UPDATE OR DELETE ON {t}
    FOR EACH ROW EXECUTE FUNCTION wenming_ledger_append_only();
CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION wenming_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS {t}_no_update ON {t};
DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(TRIGGERS.format(t=table))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(DROP.format(t=table))
        schema_editor.execute("DROP FUNCTION IF EXISTS wenming_ledger_append_only();")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
