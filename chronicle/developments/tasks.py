from celery import shared_task

from . import commands


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def release_scheduled_publications() -> int:
    return commands.release_scheduled_publications()
