"""Confirmation requests: who may be emailed one now, and sending them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import emails
from .models import Subscriber, SubscriberState


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: "Reader+news@Example.org" → "reader@example.org"."""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _same_mailbox(email: str):
    local, _, domain = mailbox(email).rpartition("@")
    return Subscriber.objects.filter(
        Q(email=f"{local}@{domain}") | Q(email__startswith=f"{local}+", email__endswith=f"@{domain}")
    )


def claim_slot(subscriber_id: int) -> datetime | None:
    """Conditional update: the claim's time for the one caller that may email this address now.

    One mailbox gets at most one email per interval, whichever of its plus-addresses asked."""
    now = timezone.now()
    last_allowed = now - timedelta(seconds=settings.DIGEST_CONFIRMATION_INTERVAL)
    email = Subscriber.objects.filter(pk=subscriber_id).values_list("email", flat=True).first() or ""
    if _same_mailbox(email).exclude(pk=subscriber_id).filter(confirmation_sent_at__gt=last_allowed).exists():
        return None
    claimed = (
        Subscriber.objects.filter(pk=subscriber_id)
        .filter(Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lte=last_allowed))
        .update(confirmation_sent_at=now)
    )
    return now if claimed else None


def release_slot(subscriber_id: int, claimed_at: datetime) -> None:
    Subscriber.objects.filter(pk=subscriber_id, confirmation_sent_at=claimed_at).update(confirmation_sent_at=None)


def send_unsent_confirmations() -> int:
    """Send the confirmation requests that could not be queued; return how many were sent."""
    sent = 0
    unsent = Subscriber.objects.filter(state=SubscriberState.PENDING, confirmation_sent_at__isnull=True)
    for subscriber_id in unsent.values_list("pk", flat=True):
        claimed_at = claim_slot(subscriber_id)
        if claimed_at is None:
            continue  # another worker, or a new subscribe, has it
        try:
            send_subscription_email(subscriber_id)
        except Exception:
            release_slot(subscriber_id, claimed_at)
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
