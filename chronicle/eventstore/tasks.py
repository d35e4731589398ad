from celery import shared_task

from . import sealing


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def seal_events() -> int:
    return sealing.seal_queued()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def seal_pending_events() -> int:
    return sealing.seal_pending()
