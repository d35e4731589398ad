"""The database triggers that make the event log append-only.

Row-level UPDATE and DELETE are rejected by the database itself, on PostgreSQL and on
SQLite. Wiping a whole database (`manage.py flush`, as test teardown does) stays possible:
PostgreSQL flushes with TRUNCATE, which row triggers do not see, and the SQLite backend in
`chronicle.eventstore.sqlite` lifts the trigger for the length of the flush only.
"""

from django.core.exceptions import ImproperlyConfigured

TABLE = "eventstore_event"
MESSAGE = "The event log is append-only: recorded events cannot be changed or deleted."

POSTGRESQL_INSTALL = f"""
CREATE OR REPLACE FUNCTION eventstore_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER eventstore_event_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION eventstore_reject_change();
"""
POSTGRESQL_REMOVE = f"""
DROP TRIGGER IF EXISTS eventstore_event_append_only ON {TABLE};
DROP FUNCTION IF EXISTS eventstore_reject_change();
"""

SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS eventstore_event_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER IF NOT EXISTS eventstore_event_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS eventstore_event_no_update;",
    "DROP TRIGGER IF EXISTS eventstore_event_no_delete;",
]


def install(schema_editor) -> None:
    _execute(schema_editor, postgresql=[POSTGRESQL_INSTALL], sqlite=SQLITE_INSTALL)


def remove(schema_editor) -> None:
    _execute(schema_editor, postgresql=[POSTGRESQL_REMOVE], sqlite=SQLITE_REMOVE)


def _execute(schema_editor, **statements: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise ImproperlyConfigured(f"Chronicle supports PostgreSQL and SQLite, not {vendor}.")
    for statement in statements[vendor]:
        schema_editor.execute(statement)
