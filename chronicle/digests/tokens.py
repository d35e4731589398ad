"""Signed, expiring links for one subscriber and one purpose.

Each purpose has its own salt, so a preferences link cannot be used as a confirmation
link. The token names the subscriber's id and address: it stops working if the address
behind the id changes, and cannot be replayed for another address.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

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


def make(purpose: str, subscriber: Subscriber) -> str:
    return signing.dumps([subscriber.pk, subscriber.email], salt=_salt(purpose))


def read(purpose: str, token: str) -> Subscriber | None:
    """The subscriber the token was made for, or None if it is forged, expired or stale."""
    try:
        subscriber_id, email = signing.loads(token, salt=_salt(purpose), max_age=_max_age(purpose))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return Subscriber.objects.filter(pk=subscriber_id, email=email).first()


def path(purpose: str, subscriber: Subscriber) -> str:
    return reverse(_URL_NAMES[purpose], args=[make(purpose, subscriber)])


def url(purpose: str, subscriber: Subscriber) -> str:
    """The absolute link for `purpose`, for use in emails."""
    return settings.SITE_URL + path(purpose, subscriber)
