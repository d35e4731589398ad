"""Which events a reader of `position > cursor` may see (the reasoning is in `store`)."""

from django.db import connection

VISIBLE = (
    "(eventstore_event.transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
    " OR eventstore_event.transaction_id = pg_current_xact_id_if_assigned())"
)


def visible(rows):
    """`rows` of the log without the events no reader of `position > cursor` may see yet:
    on PostgreSQL, those of transactions younger than the oldest one still in flight."""
    return rows.extra(where=[VISIBLE]) if connection.vendor == "postgresql" else rows  # noqa: S610 (constant SQL)
