"""Celery entry points: thin, safe to run twice (endpoints are claimed before sending)."""

import logging
import uuid

from celery import shared_task
from django.db import DatabaseError, connection

from chronicle.developments.signals import WithPublication
from chronicle.libpq import Statement

from . import delivery
from .models import Dispatch, Endpoint, Status

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def deliver_webhooks() -> str:
    return str(delivery.deliver_due())


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def deliver_to_endpoint(endpoint_id: str) -> str:
    return str(delivery.deliver_to(uuid.UUID(endpoint_id)))


def queue_deliveries(sender, events, **kwargs) -> list[WithPublication]:
    """Receiver of `public_events_recording`: whether an endpoint is active is read in the
    publication's transaction; once it commits, a delivery pass is queued if one is."""
    # Plain SQL: after every publication, compiling the ORM's query cost more than running it.
    active = Statement(
        f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(Endpoint._meta.db_table)} WHERE status = %s)",  # noqa: S608
        [Status.ACTIVE.value],
    )
    return [WithPublication(active, _queue_pass_if_active)]


def _queue_pass_if_active(rows: list[tuple]) -> None:
    if rows[0][0]:
        queue_pass()


def queue_pass() -> None:
    """Send one delivery pass to the broker unless one is already waiting there."""
    Dispatch.objects.get_or_create(name=delivery.PASS)
    if not Dispatch.objects.filter(name=delivery.PASS, queued=False).update(queued=True):
        return
    try:
        deliver_webhooks.apply_async(retry=False)
    except Exception:
        # Broker down: beat's periodic pass delivers them when it is back.
        Dispatch.objects.filter(name=delivery.PASS).update(queued=False)
        logger.exception("Could not queue a webhook delivery pass; the periodic pass will catch up")


def queue_endpoint(endpoint_id: uuid.UUID) -> None:
    try:
        deliver_to_endpoint.apply_async([str(endpoint_id)], retry=False)
    except Exception:
        logger.exception("Could not queue deliveries to %s; the periodic pass will catch up", endpoint_id)
