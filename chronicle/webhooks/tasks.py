"""Celery entry points: thin, safe to run twice (endpoints are claimed before sending)."""

import uuid

from celery import shared_task
from django.db import DatabaseError

from . import delivery


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def deliver_webhooks() -> str:
    return str(delivery.deliver_due())


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def deliver_to_endpoint(endpoint_id: str) -> str:
    return str(delivery.deliver_to(uuid.UUID(endpoint_id)))
