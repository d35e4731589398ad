"""The log's Celery task. Beat runs it every few seconds: appends never touch the broker for
it, so a broker that is down or hung cannot hold up a write."""

from celery import shared_task

from . import sealing


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def seal_pending_events() -> int:
    return sealing.seal_pending()
