"""Django's SQLite backend, with a flush that respects the append-only event log.

A flush wipes the whole database, the way TRUNCATE does on PostgreSQL; row-level
UPDATE and DELETE on the event log stay forbidden at every other moment.
"""

from pathlib import Path

from django.db.backends.sqlite3 import base, operations

from chronicle.eventstore import append_only


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if append_only.TABLE not in tables:
            return statements
        return [*append_only.SQLITE_REMOVE, *statements, *append_only.SQLITE_INSTALL]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_new_connection(self, conn_params):
        # The embedded default keeps its database under var/; make the folder on first use.
        name = conn_params["database"]
        if isinstance(name, str | Path) and not str(name).startswith(("file:", ":memory:")):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)
