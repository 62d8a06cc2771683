"""The audit table append-only in the database itself (issue 14): triggers refuse every
UPDATE and DELETE of `recordings_app_auditevent` (and TRUNCATE on PostgreSQL), whatever
issues it: the app's querysets, the admin, a raw cursor, `manage.py dbshell`.

Two narrow exceptions, each one the database can check on its own:

- Clearing `user_id` and nothing else, which is what Django's SET_NULL does when a user
  is deleted: the row keeps the name as text (`username`), so the trail outlives the
  account and nothing recorded changes.
- Retention (recordings_app.retention) deleting rows older than a horizon it names for
  its own transaction, and never one younger than RETENTION_FLOOR (four weeks, below the
  30 days AUDIT_RETENTION_DAYS may be at least, so clock skew between the app server
  and the database never stops a legitimate run). On PostgreSQL the horizon is the
  transaction-local setting `recordings.audit_prune_before` (`set_config(..., true)`);
  on SQLite, which has no session settings, the one row of `recordings_app_auditprune`,
  a table no model maps, written and cleared again inside retention's transaction.

Why ordinary code cannot delete by accident: no ORM call sets a custom PostgreSQL
setting or writes a table without a model; it takes raw SQL naming them, which only
retention.py has. And even that cannot reach the last four weeks: the floor is in the
trigger, not in Python. Someone with the database owner's password can still drop the
triggers; this guards against the application's mistakes, and makes tampering a
deliberate, visible act.

`create_triggers`/`drop_triggers` take a cursor and a vendor so tests can use them too.
On SQLite a later migration that rebuilds the audit table (most AlterField/AddField
operations do) drops its triggers with the old table: such a migration must call
`create_triggers` again; tests/test_audit_append_only.py checks they are there.
"""

from django.db import migrations

TABLE = "recordings_app_auditevent"
RETENTION_FLOOR_DAYS = 28  # also spelled out in POSTGRESQL_CREATE

# Every column but user_id: an UPDATE that changes any of them is refused (SQLite).
KEPT_COLUMNS = (
    "id",
    "at",
    "username",
    "action",
    "recording_id",
    "credential_label",
    "space",
    "detail",
    "remote_addr",
    "user_agent",
)

POSTGRESQL_CREATE = """
CREATE FUNCTION recordings_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Django's SET_NULL on a deleted user: user_id cleared, every other column kept.
        IF NEW.user_id IS NULL AND (to_jsonb(NEW) - 'user_id') = (to_jsonb(OLD) - 'user_id')
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'Audit events are never changed.' USING ERRCODE = 'restrict_violation';
    ELSIF TG_OP = 'DELETE' THEN
        horizon := nullif(current_setting('recordings.audit_prune_before', true), '')::timestamptz;
        IF horizon IS NOT NULL
            AND horizon <= now() - interval '28 days'
            AND OLD.at < horizon
        THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'Audit events are never deleted.' USING ERRCODE = 'restrict_violation';
    ELSE
        -- TRUNCATE: only of an empty table (a test database's flush), which loses nothing.
        IF EXISTS (SELECT 1 FROM recordings_app_auditevent) THEN
            RAISE EXCEPTION 'Audit events are never deleted.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NULL;
    END IF;
END;
$$;
CREATE TRIGGER recordings_audit_no_change BEFORE UPDATE OR DELETE ON recordings_app_auditevent
    FOR EACH ROW EXECUTE FUNCTION recordings_audit_append_only();
CREATE TRIGGER recordings_audit_no_truncate BEFORE TRUNCATE ON recordings_app_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION recordings_audit_append_only();
"""

POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS recordings_audit_no_truncate ON {TABLE};
DROP TRIGGER IF EXISTS recordings_audit_no_change ON {TABLE};
DROP FUNCTION IF EXISTS recordings_audit_append_only();
"""

_unchanged = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in KEPT_COLUMNS)
_horizon = "(SELECT prune_before FROM recordings_app_auditprune WHERE id = 1)"
# Django stores SQLite datetimes as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]": compared as
# text, as the ORM does.
SQLITE_CREATE = [
    "CREATE TABLE IF NOT EXISTS recordings_app_auditprune "
    "(id INTEGER PRIMARY KEY CHECK (id = 1), prune_before TEXT NULL)",
    "INSERT OR IGNORE INTO recordings_app_auditprune (id, prune_before) VALUES (1, NULL)",
    f"""CREATE TRIGGER recordings_audit_no_update BEFORE UPDATE ON {TABLE}
    WHEN NOT (NEW.user_id IS NULL AND {_unchanged})
    BEGIN SELECT RAISE(ABORT, 'Audit events are never changed.'); END""",
    f"""CREATE TRIGGER recordings_audit_no_delete BEFORE DELETE ON {TABLE}
    WHEN NOT coalesce(
        OLD.at < {_horizon}
        AND {_horizon} <= strftime('%Y-%m-%d %H:%M:%f', 'now', '-{RETENTION_FLOOR_DAYS} days'),
        0
    )
    BEGIN SELECT RAISE(ABORT, 'Audit events are never deleted.'); END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS recordings_audit_no_delete",
    "DROP TRIGGER IF EXISTS recordings_audit_no_update",
    "DROP TABLE IF EXISTS recordings_app_auditprune",
]


def _statements(vendor: str, create: bool) -> list[str]:
    if vendor == "postgresql":
        return [POSTGRESQL_CREATE if create else POSTGRESQL_DROP]
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    # Another database gets the Python guards (models.AppendOnly) only.
    return []


def create_triggers(cursor, vendor: str) -> None:
    for statement in _statements(vendor, create=True):
        cursor.execute(statement)


def drop_triggers(cursor, vendor: str) -> None:
    for statement in _statements(vendor, create=False):
        cursor.execute(statement)


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        create_triggers(cursor, schema_editor.connection.vendor)


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        drop_triggers(cursor, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [("recordings_app", "0009_shared_credentials")]

    operations = [migrations.RunPython(forwards, backwards)]
