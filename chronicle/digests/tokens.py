"""Signed, expiring links for one subscriber and one purpose.

Each purpose has its own salt, so a preferences link cannot be used as a confirmation
link. A token carries the subscriber's id and a keyed fingerprint, never the address
itself (links end up in logs): it stops working if the address behind the id changes.
A confirmation link is also bound to the subscription's state: one issued before an
unsubscribe no longer works after it, so it cannot sign the address up again.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Subscriber

CONFIRM = "confirm"
MANAGE = "manage"
UNSUBSCRIBE = "unsubscribe"

_URL_NAMES = {CONFIRM: "digests:confirm", MANAGE: "digests:manage", UNSUBSCRIBE: "digests:unsubscribe"}


def _max_age(purpose: str) -> int:
    return {
        CONFIRM: settings.DIGEST_CONFIRM_LINK_MAX_AGE,
        MANAGE: settings.DIGEST_MANAGE_LINK_MAX_AGE,
        UNSUBSCRIBE: settings.DIGEST_UNSUBSCRIBE_LINK_MAX_AGE,
    }[purpose]


def _salt(purpose: str) -> str:
    return f"chronicle.digests.{purpose}"


def _fingerprint(purpose: str, subscriber: Subscriber) -> str:
    bound = [subscriber.email]
    if purpose == CONFIRM:
        bound.append(subscriber.unsubscribed_at.isoformat() if subscriber.unsubscribed_at else "")
    return salted_hmac(_salt(purpose), "|".join(bound), algorithm="sha256").hexdigest()[:32]


def make(purpose: str, subscriber: Subscriber) -> str:
    return signing.dumps([subscriber.pk, _fingerprint(purpose, subscriber)], salt=_salt(purpose))


def read(purpose: str, token: str) -> Subscriber | None:
    """The subscriber the token was made for, or None if it is forged, expired or stale."""
    try:
        subscriber_id, fingerprint = signing.loads(token, salt=_salt(purpose), max_age=_max_age(purpose))
        subscriber = Subscriber.objects.filter(pk=int(subscriber_id)).first()
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if subscriber is None or not isinstance(fingerprint, str):
        return None
    if constant_time_compare(fingerprint, _fingerprint(purpose, subscriber)):
        return subscriber
    # Links sent before tokens stopped carrying the address: preferences and unsubscribe
    # links in digests already delivered keep working; old confirmation links do not.
    if purpose != CONFIRM and "@" in fingerprint and constant_time_compare(fingerprint, subscriber.email):
        return subscriber
    return None


def path(purpose: str, subscriber: Subscriber) -> str:
    return reverse(_URL_NAMES[purpose], args=[make(purpose, subscriber)])


def url(purpose: str, subscriber: Subscriber) -> str:
    """The absolute link for `purpose`, for use in emails."""
    return settings.SITE_URL + path(purpose, subscriber)
