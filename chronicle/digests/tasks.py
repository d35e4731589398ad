"""Celery entry points: thin, idempotent, retried with backoff."""

from datetime import date

from celery import shared_task
from django.db import DatabaseError

from . import confirmations, delivery


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def start_digest_pass(frequency: str, day: str | None = None) -> str:
    """Plan the period's digests (for `day`, ISO date, or today) and queue them in batches."""
    period = delivery.plan(frequency, date.fromisoformat(day) if day else None)
    for batch in delivery.due(period=period):
        deliver_digests.delay(batch)
    return period


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def start_missed_digest_passes() -> list[str]:
    """Start the scheduled passes whose message from beat was lost (the broker was down)."""
    return [start_digest_pass(frequency, day.isoformat()) for frequency, day in delivery.missed_passes()]


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def resume_digests() -> int:
    """Queue again the digests a crashed worker, a lost task or a temporary failure left behind."""
    batches = 0
    for batch in delivery.due():
        deliver_digests.delay(batch)
        batches += 1
    return batches


@shared_task(bind=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=8)
def deliver_digests(self, digest_ids: list[str]) -> str:
    tally = delivery.deliver(digest_ids)
    if tally.retry:
        # Temporary SMTP trouble: try the rest again later, backing off (1, 2, 4… minutes).
        raise self.retry(args=[tally.retry], countdown=60 * 2**self.request.retries)
    return str(tally)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_subscription_email(subscriber_id: int) -> None:
    confirmations.send_subscription_email(subscriber_id)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_unsent_confirmations() -> int:
    """Send the confirmation requests whose task could not be queued (broker down)."""
    return confirmations.send_unsent_confirmations()
