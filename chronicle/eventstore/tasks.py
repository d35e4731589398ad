"""The log's Celery tasks, and queueing them after an append commits."""

import logging

from celery import shared_task
from django.core.cache import cache

from . import sealing

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def seal_events() -> int:
    return sealing.seal_queued()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def seal_pending_events() -> int:
    return sealing.seal_pending()


def request_sealing() -> None:
    """Queue a sealing task unless one is queued already. Runs after an append commits; never
    raises (with the broker down the periodic pass seals the events a little later).

    A failed attempt keeps the marker, so while the broker is out of reach only one append
    a minute waits for it to time out instead of every one."""
    try:
        if not cache.add(sealing.QUEUED_KEY, True, timeout=sealing.QUEUED_SECONDS):
            return
        seal_events.apply_async(retry=False)
    except Exception:
        logger.exception("Could not queue sealing; the periodic pass will seal these events")
