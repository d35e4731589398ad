from celery import shared_task

from . import publishing


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def regenerate_feed(path: str) -> bool:
    return publishing.regenerate(path)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def publish_stale_feeds() -> int:
    return publishing.publish_stale()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def publish_all_feeds() -> tuple[int, int]:
    return publishing.publish_all()
