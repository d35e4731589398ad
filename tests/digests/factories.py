"""Builders for digest tests."""

from __future__ import annotations

from django.utils import timezone

from chronicle.digests.models import Subscriber, SubscriberState
from chronicle.eventstore import store


def confirmed_subscriber(email: str, *, topics=(), countries=(), frequency: str = "daily") -> Subscriber:
    """A subscriber who confirmed now: digests start with what is published next."""
    return Subscriber.objects.create(
        email=email,
        topics=list(topics),
        countries=list(countries),
        frequency=frequency,
        state=SubscriberState.CONFIRMED,
        confirmed_at=timezone.now(),
        high_water=store.last_position(),
    )
