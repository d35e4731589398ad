"""The feeds' Celery tasks, and queueing them when public events are recorded."""

import json
import logging

from celery import shared_task
from django.db import connection

from chronicle.developments.signals import WithPublication
from chronicle.libpq import Statement

from . import publishing
from .catalog import affected_feeds
from .models import FeedState

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def regenerate_feed(path: str) -> bool:
    return publishing.regenerate(path)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def publish_stale_feeds() -> int:
    return publishing.publish_stale()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def publish_all_feeds() -> tuple[int, int]:
    return publishing.publish_all()


def mark_affected_feeds(sender, events, revisions, public_before, **kwargs) -> list[WithPublication]:
    """Receiver of `public_events_recording`: one statement, in the publication's transaction,
    marks the feeds the new revisions touch as queued (known from the signal, nothing read
    back); once it commits, the feeds it newly marked are sent to the workers."""
    paths = sorted(affected_feeds(revisions, public_before))
    return [WithPublication(_mark_queued(paths), _send_marked)] if paths else []


def _mark_queued(paths: list[str]) -> Statement:
    """Mark `paths` as queued; the statement returns those that were not already waiting.
    Feeds already waiting are left out before the upsert: it would lock their rows, and
    make concurrent publications wait for one another."""
    table = connection.ops.quote_name(FeedState._meta.db_table)
    if connection.vendor == "postgresql":  # one parameter: the same statement, prepared once
        wanted, values = "jsonb_array_elements_text(%s::jsonb) AS wanted(column1)", [json.dumps(paths)]
    else:
        wanted, values = f"(VALUES {', '.join(['(%s)'] * len(paths))}) AS wanted", paths
    return Statement(
        f"INSERT INTO {table} (path, built_position, queued)"  # noqa: S608
        f" SELECT wanted.column1, 0, true FROM {wanted}"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS f WHERE f.path = wanted.column1 AND f.queued)"
        f" ON CONFLICT (path) DO UPDATE SET queued = true WHERE NOT {table}.queued RETURNING path",
        values,
    )


def _send_marked(rows: list[tuple]) -> None:
    _send(sorted(path for (path,) in rows))


def _send(paths: list[str]) -> None:
    for index, path in enumerate(paths):
        try:
            regenerate_feed.apply_async([path], retry=False)
        except Exception:
            # Broker down: leave these feeds unqueued so the next publication or the
            # periodic pass picks them up.
            FeedState.objects.filter(path__in=paths[index:]).update(queued=False)
            logger.exception("Could not queue feed regeneration for %s; the periodic pass will catch up", paths[index:])
            return
