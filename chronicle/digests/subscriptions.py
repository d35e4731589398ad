"""Subscribing, confirming, changing preferences and leaving: the one way in for the
subscription page, the API and the links in emails."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chronicle.api.throttling import count_request
from chronicle.eventstore import store

from . import confirmations, tasks
from .models import Subscriber, SubscriberState

logger = logging.getLogger(__name__)


# RFC 5321 limits a forward path to 256 octets, so an address to 254 characters.
MAX_EMAIL_LENGTH = 254


def normalise_email(email: str) -> str:
    return email.strip().lower()


def request_allowed(email: str) -> bool:
    """Count a subscription request for `email`'s mailbox (plus-addresses folded) against
    DIGEST_SUBSCRIBE_RATE: the page and the API also limit each client address, but many
    addresses must not flood one person's inbox either."""
    key = "subscribe-mailbox:" + hashlib.sha256(confirmations.mailbox(email).encode()).hexdigest()
    return count_request(key, settings.DIGEST_SUBSCRIBE_RATE)[0]


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
        claimed_at = confirmations.claim_slot(subscriber.pk)
        if claimed_at:
            transaction.on_commit(partial(_queue_subscription_email, subscriber.pk, claimed_at))


def _queue_subscription_email(subscriber_id: int, claimed_at: datetime) -> None:
    """Never raises: the subscription has committed and the visitor gets their answer."""
    try:
        tasks.send_subscription_email.apply_async([subscriber_id], retry=False)
    except Exception:
        # Broker down: give the slot back, so `send_unsent_confirmations` sends it later.
        confirmations.release_slot(subscriber_id, claimed_at)
        logger.exception("Could not queue the subscription email of subscriber #%s; it is sent later", subscriber_id)


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
