"""Which events a reader of `position > cursor` may see (the reasoning is in `store`).

The oldest transaction still in flight is looked for among those of this database only:
a server shared with other databases must not hold the log back for their transactions.
A transaction whose database cannot be told (it just ended, or `pg_stat_activity` hides
it from a role without pg_read_all_stats) counts as this database's, which only delays.
"""

from django.db import connection

OLDEST_IN_FLIGHT = """(
    SELECT COALESCE(min(x), pg_snapshot_xmax(pg_current_snapshot()))
    FROM pg_snapshot_xip(pg_current_snapshot()) AS x
    WHERE NOT EXISTS (
        SELECT FROM pg_stat_activity AS a
        WHERE a.datname <> current_database() AND a.backend_xid::text::bigint = mod(x::text::bigint, 4294967296)
    )
)"""

VISIBLE = (
    f"(eventstore_event.transaction_id < {OLDEST_IN_FLIGHT}"
    " OR eventstore_event.transaction_id = pg_current_xact_id_if_assigned())"
)


def visible(rows):
    """`rows` of the log without the events no reader of `position > cursor` may see yet:
    on PostgreSQL, those of transactions younger than the oldest one still in flight."""
    return rows.extra(where=[VISIBLE]) if connection.vendor == "postgresql" else rows  # noqa: S610 (constant SQL)
