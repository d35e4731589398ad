from celery import shared_task

from . import packages


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def write_nightly_package() -> str:
    return str(packages.write_nightly())
