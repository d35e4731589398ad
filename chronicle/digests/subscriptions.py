"""Subscribing, confirming, changing preferences and leaving: the one way in for the
subscription page, the API and the links in emails."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chronicle.eventstore import store

from . import emails, tasks
from .models import Subscriber, SubscriberState

logger = logging.getLogger(__name__)


# RFC 5321 limits a forward path to 256 octets, so an address to 254 characters.
MAX_EMAIL_LENGTH = 254


def normalise_email(email: str) -> str:
    return email.strip().lower()


def subscribe(email: str, *, topics: list[str], countries: list[str], frequency: str) -> None:
    """Ask `email` to confirm a subscription. Answers the same for a new and a known address.

    An unconfirmed or former subscriber's choices are replaced (nothing reaches them until
    they confirm); a confirmed subscriber's are kept, and they are sent a link to their
    preferences instead, so nobody can change someone else's subscription. Either email
    goes out at most once per DIGEST_CONFIRMATION_INTERVAL.
    """
    choices = {"topics": sorted(set(topics)), "countries": sorted(set(countries)), "frequency": frequency}
    with transaction.atomic():
        subscriber, created = Subscriber.objects.get_or_create(email=normalise_email(email), defaults=choices)
        if not created and subscriber.state != SubscriberState.CONFIRMED:
            for name, value in choices.items():
                setattr(subscriber, name, value)
            subscriber.state = SubscriberState.PENDING
            subscriber.save(update_fields=[*choices, "state"])
        claimed_at = _claim_confirmation_slot(subscriber.pk)
        if claimed_at:
            transaction.on_commit(partial(_queue_subscription_email, subscriber.pk, claimed_at))


def _claim_confirmation_slot(subscriber_id: int) -> datetime | None:
    """Conditional update: the claim's time for the one caller that may email this address now."""
    now = timezone.now()
    last_allowed = now - timedelta(seconds=settings.DIGEST_CONFIRMATION_INTERVAL)
    claimed = (
        Subscriber.objects.filter(pk=subscriber_id)
        .filter(Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lte=last_allowed))
        .update(confirmation_sent_at=now)
    )
    return now if claimed else None


def _release_confirmation_slot(subscriber_id: int, claimed_at: datetime) -> None:
    Subscriber.objects.filter(pk=subscriber_id, confirmation_sent_at=claimed_at).update(confirmation_sent_at=None)


def _queue_subscription_email(subscriber_id: int, claimed_at: datetime) -> None:
    """Never raises: the subscription has committed and the visitor gets their answer."""
    try:
        tasks.send_subscription_email.apply_async([subscriber_id], retry=False)
    except Exception:
        # Broker down: give the slot back, so `send_unsent_confirmations` sends it later.
        _release_confirmation_slot(subscriber_id, claimed_at)
        logger.exception("Could not queue the subscription email of subscriber #%s; it is sent later", subscriber_id)


def send_unsent_confirmations() -> int:
    """Send the confirmation requests that could not be queued; return how many were sent."""
    sent = 0
    unsent = Subscriber.objects.filter(state=SubscriberState.PENDING, confirmation_sent_at__isnull=True)
    for subscriber_id in unsent.values_list("pk", flat=True):
        claimed_at = _claim_confirmation_slot(subscriber_id)
        if claimed_at is None:
            continue  # another worker, or a new subscribe, has it
        try:
            send_subscription_email(subscriber_id)
        except Exception:
            _release_confirmation_slot(subscriber_id, claimed_at)
            raise
        sent += 1
    return sent


def send_subscription_email(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return
    if subscriber.state == SubscriberState.PENDING:
        emails.confirmation(subscriber).send()
    elif subscriber.state == SubscriberState.CONFIRMED:
        emails.already_subscribed(subscriber).send()


def confirm(subscriber: Subscriber) -> bool:
    """Start sending digests; the first one covers what is published from now on."""
    updated = Subscriber.objects.filter(pk=subscriber.pk, state=SubscriberState.PENDING).update(
        state=SubscriberState.CONFIRMED,
        confirmed_at=timezone.now(),
        high_water=store.last_position(),
        permanent_failures=0,
    )
    subscriber.refresh_from_db()
    return updated == 1


def update_preferences(subscriber: Subscriber, *, topics: list[str], countries: list[str], frequency: str) -> None:
    subscriber.topics = sorted(set(topics))
    subscriber.countries = sorted(set(countries))
    subscriber.frequency = frequency
    subscriber.save(update_fields=["topics", "countries", "frequency"])


def unsubscribe(subscriber: Subscriber) -> None:
    """Stop every digest at once, including one already planned for this period."""
    Subscriber.objects.filter(pk=subscriber.pk).exclude(state=SubscriberState.UNSUBSCRIBED).update(
        state=SubscriberState.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    subscriber.refresh_from_db()
